// Raw string id -> dense int32 id, in order of first appearance. Strings live in one arena and
// the table is open addressing, so interning tens of millions of short ids costs ~2 allocations
// per doubling rather than one per id.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gnnrec {

class IdInterner {
 public:
  // The id of `s`, adding it (as size()) when new.
  int32_t intern(std::string_view s);
  // The id of `s`, or -1.
  int32_t find(std::string_view s) const;
  std::string_view str(int32_t id) const {
    return std::string_view(arena_.data() + start_[id], start_[id + 1] - start_[id]);
  }
  int32_t size() const { return static_cast<int32_t>(start_.size()) - 1; }

 private:
  static uint64_t hash(std::string_view s);
  void grow();
  std::vector<char> arena_;
  std::vector<uint64_t> start_{0};  // id -> offset in arena_; start_[size()] = arena_.size()
  // One 64-bit word per slot, so a probe touches one cache line: high 32 bits = high hash bits
  // (skips most string compares), low 32 bits = id + 1 (0 = empty).
  std::vector<uint64_t> slots_;
  std::vector<uint64_t> hash_of_;  // id -> hash, so growing never rereads the strings
};

}  // namespace gnnrec
