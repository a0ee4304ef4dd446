// Owning wrapper for a file descriptor: closes it on destruction, hands it over explicitly with
// release(). Every fd the module creates lives in one of these until it is returned to JS.
#ifndef DROIDWAY_NATIVE_UNIQUE_FD_H_
#define DROIDWAY_NATIVE_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace droidway {

/** Owns one fd (or none, -1). Movable, not copyable. */
class UniqueFd {
 public:
  UniqueFd() = default;
  /** Takes ownership of `fd` (which may be -1). */
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }

  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }

  /** The fd, still owned by this object. */
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  /** Gives up ownership and returns the fd; the caller must close it. */
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }

  /** Closes the current fd (if any) and owns `fd` instead. */
  void reset(int fd = -1) {
    // close() on Linux releases the fd even when it reports EINTR, so it is never retried.
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace droidway

#endif  // DROIDWAY_NATIVE_UNIQUE_FD_H_
