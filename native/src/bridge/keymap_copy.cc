#include "keymap_copy.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "../seals.h"

namespace droidway {
namespace bridge {

NativeStatus KeymapCopy::Make(int host_fd, uint32_t size, UniqueFd* out) {
  if (size == 0 || size > kMaxBytes) {
    return NativeStatus::Error(-EINVAL, "pread",
                               "keymap size " + std::to_string(size) + " is out of range");
  }
  std::vector<char> bytes(size);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(host_fd, bytes.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return NativeStatus::FromErrno("pread", "reading the host keymap");
    if (n == 0) return NativeStatus::Error(-EIO, "pread", "the host keymap is shorter than sent");
    done += static_cast<size_t>(n);
  }
  UniqueFd copy(::memfd_create("droidway-keymap", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!copy.valid()) return NativeStatus::FromErrno("memfd_create", "keymap copy");
  size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(copy.get(), bytes.data() + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return NativeStatus::FromErrno("write", "keymap copy");
    written += static_cast<size_t>(n);
  }
  if (::fcntl(copy.get(), F_ADD_SEALS,
              DROIDWAY_F_SEAL_SHRINK | DROIDWAY_F_SEAL_GROW | DROIDWAY_F_SEAL_WRITE |
                  DROIDWAY_F_SEAL_SEAL) < 0) {
    return NativeStatus::FromErrno("fcntl", "sealing the keymap copy");
  }
  // A read-only open file of the same memfd: the guest cannot even ask to write.
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", copy.get());
  UniqueFd read_only(::open(path, O_RDONLY | O_CLOEXEC));
  if (!read_only.valid()) return NativeStatus::FromErrno("open", "reopening the keymap read-only");
  *out = std::move(read_only);
  return {};
}

}  // namespace bridge
}  // namespace droidway
