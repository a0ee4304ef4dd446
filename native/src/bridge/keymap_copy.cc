#include "keymap_copy.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
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
  // F_SEAL_FUTURE_WRITE rather than F_SEAL_WRITE: the copy goes to the guest as the memfd's own
  // read-write open file, because making a read-only one means opening /proc/self/fd/N, which
  // the bridge process's sandbox refuses. With F_SEAL_WRITE, Linux before 6.7 refuses even a
  // PROT_READ MAP_SHARED mapping of a read-write fd (older clients map the keymap that way);
  // F_SEAL_FUTURE_WRITE refuses write(), writable mappings, mprotect to writable and hole
  // punching while allowing read-only mappings. The bridge holds no mapping of its own, so no
  // writer is left.
  if (::fcntl(copy.get(), F_ADD_SEALS,
              DROIDWAY_F_SEAL_SHRINK | DROIDWAY_F_SEAL_GROW | DROIDWAY_F_SEAL_FUTURE_WRITE |
                  DROIDWAY_F_SEAL_SEAL) < 0) {
    return NativeStatus::FromErrno("fcntl", "sealing the keymap copy");
  }
  *out = std::move(copy);
  return {};
}

}  // namespace bridge
}  // namespace droidway
