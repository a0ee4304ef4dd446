// The input of a fuzz target, read as the target's own little language: bytes, fixed-size
// values and runs, each read past the end as zeros (or as what is left), so every input is a
// whole program.
#ifndef DROIDWAY_NATIVE_FUZZ_FUZZ_INPUT_H_
#define DROIDWAY_NATIVE_FUZZ_FUZZ_INPUT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace droidway {
namespace fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  /** The next byte, 0 past the end. */
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  /** The next sizeof(T) bytes as a T (native byte order); what is past the end reads as 0. */
  template <typename T>
  T Take() {
    T value{};
    const size_t n = std::min(sizeof(T), Left());
    std::memcpy(&value, data_ + pos_, n);
    pos_ += n;
    return value;
  }
  /** The next `want` bytes, or as many as are left, in place: `*out` points at them. */
  size_t Take(size_t want, const uint8_t** out) {
    const size_t n = std::min(want, Left());
    *out = data_ + pos_;
    pos_ += n;
    return n;
  }
  /** A copy of the next `want` bytes, or of as many as are left. */
  std::vector<uint8_t> Bytes(size_t want) {
    const uint8_t* at = nullptr;
    const size_t n = Take(want, &at);
    return std::vector<uint8_t>(at, at + n);
  }
  bool done() const { return pos_ >= size_; }

 private:
  size_t Left() const { return size_ - std::min(pos_, size_); }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace fuzz
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_FUZZ_FUZZ_INPUT_H_
