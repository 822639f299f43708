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
  slots_.assign(cap, 0);
  const size_t mask = cap - 1;
  for (int32_t id = 0; id < size(); ++id) {
    const uint64_t h = hash_of_[id];
    size_t s = h & mask;
    while (slots_[s] != 0) s = (s + 1) & mask;
    slots_[s] = (h & 0xFFFFFFFF00000000ull) | static_cast<uint32_t>(id + 1);
  }
}

int32_t IdInterner::find(std::string_view s) const {
  if (slots_.empty()) return -1;
  const uint64_t h = hash(s);
  const uint64_t tag = h & 0xFFFFFFFF00000000ull;
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const uint64_t v = slots_[i];
    if (v == 0) return -1;
    const int32_t id = static_cast<int32_t>(static_cast<uint32_t>(v) - 1);
    if ((v & 0xFFFFFFFF00000000ull) == tag && str(id) == s) return id;
  }
}

int32_t IdInterner::intern(std::string_view s) {
  // Load factor at most 1/2 keeps linear probing short.
  if (2 * (static_cast<size_t>(size()) + 1) > slots_.size()) grow();
  const uint64_t h = hash(s);
  const uint64_t tag = h & 0xFFFFFFFF00000000ull;
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  for (;; i = (i + 1) & mask) {
    const uint64_t v = slots_[i];
    if (v == 0) break;
    const int32_t id = static_cast<int32_t>(static_cast<uint32_t>(v) - 1);
    if ((v & 0xFFFFFFFF00000000ull) == tag && str(id) == s) return id;
  }
  GNNREC_EXPECTS(size() < INT32_MAX - 1, "more than {} distinct ids", INT32_MAX - 1);
  const int32_t id = size();
  arena_.insert(arena_.end(), s.begin(), s.end());
  start_.push_back(arena_.size());
  hash_of_.push_back(h);
  slots_[i] = tag | static_cast<uint32_t>(id + 1);
  return id;
}

}  // namespace gnnrec
