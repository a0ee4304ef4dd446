#include "fd_menu.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

namespace droidway {
namespace fuzz {
namespace {

int Memfd(int64_t size, unsigned int flags, int seals) {
  const int fd = ::memfd_create("droidway-fuzz", MFD_CLOEXEC | flags);
  if (fd < 0) return -1;
  if (::ftruncate(fd, size) != 0 || (seals != 0 && ::fcntl(fd, F_ADD_SEALS, seals) != 0)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int RegularFile() {
  char path[] = "/tmp/droidway-fuzz-file-XXXXXX";
  const int fd = ::mkostemp(path, O_CLOEXEC);
  if (fd < 0) return -1;
  ::unlink(path);
  if (::ftruncate(fd, kFdMenuPoolBytes) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int MakeMenuFd(uint8_t selector) {
  switch (selector % kFdMenuSize) {
    case 0:  // what a well-behaved guest sends
      return Memfd(kFdMenuPoolBytes, MFD_ALLOW_SEALING, F_SEAL_SHRINK);
    case 1:  // unsealable: the bridge copies it when small, refuses it otherwise
      return Memfd(kFdMenuPoolBytes, 0, 0);
    case 2:  // smaller than any pool size the input claims past 16 bytes
      return Memfd(16, MFD_ALLOW_SEALING, 0);
    case 3: {
      int fds[2];
      if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
      ::close(fds[1]);
      return fds[0];
    }
    case 4: {
      int fds[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return -1;
      ::close(fds[1]);
      return fds[0];
    }
    case 5:
      return RegularFile();
    case 6:
      return ::open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    default:  // dmabuf-like: a sealed plane-sized memfd whose size lseek can tell
      return Memfd(256 * 256 * 4, MFD_ALLOW_SEALING, F_SEAL_SHRINK | F_SEAL_GROW);
  }
}

}  // namespace fuzz
}  // namespace droidway
