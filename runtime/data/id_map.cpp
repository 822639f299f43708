#include "runtime/data/id_map.h"

#include <cstring>

#include "runtime/error.h"

namespace gnnrec {

uint64_t IdInterner::hash(std::string_view s) {
  // 8 bytes at a time with a multiply-xorshift mix; ids are short, so this beats byte-wise FNV.
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = 0x243F6A8885A308D3ull ^ (s.size() * kMul);
  const char* p = s.data();
  size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  h = (h ^ w) * kMul;
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ull;
  h ^= h >> 32;
  return h;
}

void IdInterner::grow() {
  const size_t cap = slots_.empty() ? 1024 : slots_.size() * 2;
  slots_.assign(cap, -1);
  slot_tag_.assign(cap, 0);
  const size_t mask = cap - 1;
  for (int32_t id = 0; id < size(); ++id) {
    const uint64_t h = hash(str(id));
    size_t s = h & mask;
    while (slots_[s] >= 0) s = (s + 1) & mask;
    slots_[s] = id;
    slot_tag_[s] = static_cast<uint32_t>(h >> 32);
  }
}

int32_t IdInterner::find(std::string_view s) const {
  if (slots_.empty()) return -1;
  const uint64_t h = hash(s);
  const uint32_t tag = static_cast<uint32_t>(h >> 32);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const int32_t id = slots_[i];
    if (id < 0) return -1;
    if (slot_tag_[i] == tag && str(id) == s) return id;
  }
}

int32_t IdInterner::intern(std::string_view s) {
  // Load factor at most 1/2 keeps linear probing short.
  if (2 * (static_cast<size_t>(size()) + 1) > slots_.size()) grow();
  const uint64_t h = hash(s);
  const uint32_t tag = static_cast<uint32_t>(h >> 32);
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  for (;; i = (i + 1) & mask) {
    const int32_t id = slots_[i];
    if (id < 0) break;
    if (slot_tag_[i] == tag && str(id) == s) return id;
  }
  GNNREC_EXPECTS(size() < INT32_MAX - 1, "more than {} distinct ids", INT32_MAX - 1);
  const int32_t id = size();
  arena_.insert(arena_.end(), s.begin(), s.end());
  start_.push_back(arena_.size());
  slots_[i] = id;
  slot_tag_[i] = tag;
  return id;
}

}  // namespace gnnrec
