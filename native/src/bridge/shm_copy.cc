#include "shm_copy.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../seals.h"

namespace droidway {
namespace bridge {

NativeStatus ShmCopy::Create(int guest_fd, int64_t size, std::unique_ptr<ShmCopy>* out) {
  if (size <= 0 || size > kMaxBytes) {
    return NativeStatus::Error(-EINVAL, "memfd_create",
                               "a pool copy holds 1.." + std::to_string(kMaxBytes) + " bytes");
  }
  UniqueFd guest(::fcntl(guest_fd, F_DUPFD_CLOEXEC, 0));
  if (!guest.valid()) return NativeStatus::FromErrno("fcntl", "duplicating a guest pool fd");
  UniqueFd copy(::memfd_create("droidway-bridge-pool-copy", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!copy.valid()) return NativeStatus::FromErrno("memfd_create", "pool copy");
  if (::ftruncate(copy.get(), size) < 0) return NativeStatus::FromErrno("ftruncate", "pool copy");
  // Shrink only: the copy may grow with wl_shm_pool.resize, and no one else can write to it.
  if (::fcntl(copy.get(), F_ADD_SEALS, DROIDWAY_F_SEAL_SHRINK) < 0) {
    return NativeStatus::FromErrno("fcntl", "sealing a pool copy");
  }
  std::unique_ptr<ShmCopy> result(new ShmCopy(std::move(guest), std::move(copy), size));
  if (result->Refresh() < 0) return NativeStatus::FromErrno("pread", "copying a guest pool");
  *out = std::move(result);
  return {};
}

int64_t ShmCopy::Refresh() {
  if (size_ <= 0 || size_ > kMaxBytes) return -EINVAL;  // Create and Grow keep it in range
  char buffer[kMaxBytes];
  int64_t done = 0;
  while (done < size_) {
    const ssize_t n = ::pread(guest_.get(), buffer + done, static_cast<size_t>(size_ - done), done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) break;  // the guest shrank its file: the rest reads as zeros
    done += n;
  }
  if (done < size_) std::memset(buffer + done, 0, static_cast<size_t>(size_ - done));
  int64_t written = 0;
  while (written < size_) {
    const ssize_t n =
        ::pwrite(copy_.get(), buffer + written, static_cast<size_t>(size_ - written), written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? -errno : -EIO;
    written += n;
  }
  return size_;
}

NativeStatus ShmCopy::Grow(int64_t size, int64_t* copied) {
  if (size < size_ || size > kMaxBytes) {
    return NativeStatus::Error(-EINVAL, "ftruncate",
                               "a pool copy only grows, up to " + std::to_string(kMaxBytes));
  }
  if (::ftruncate(copy_.get(), size) < 0) return NativeStatus::FromErrno("ftruncate", "pool copy");
  size_ = size;
  *copied = Refresh();
  if (*copied < 0) return NativeStatus::Error(static_cast<int>(*copied), "pread", "pool copy");
  return {};
}

}  // namespace bridge
}  // namespace droidway
