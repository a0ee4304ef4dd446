#include "fds.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <string>

namespace droidway {
namespace test {

UniqueFd Memfd(int64_t size, bool sealable, int seals) {
  UniqueFd fd(::memfd_create("droidway-test", MFD_CLOEXEC | (sealable ? MFD_ALLOW_SEALING : 0)));
  if (!fd.valid()) return fd;
  if (::ftruncate(fd.get(), size) < 0) return UniqueFd();
  if (seals != 0 && ::fcntl(fd.get(), F_ADD_SEALS, seals) < 0) return UniqueFd();
  return fd;
}

UniqueFd Reopen(int fd, int flags) {
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  return UniqueFd(::open(path.c_str(), flags | O_CLOEXEC));
}

bool Pipe(UniqueFd* read_end, UniqueFd* write_end) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) < 0) return false;
  read_end->reset(ends[0]);
  write_end->reset(ends[1]);
  return true;
}

UniqueFd Socket() {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) < 0) return UniqueFd();
  ::close(ends[1]);
  return UniqueFd(ends[0]);
}

UniqueFd DiskFile(int64_t size) {
  UniqueFd fd(::open(".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (fd.valid() && ::ftruncate(fd.get(), size) < 0) return UniqueFd();
  return fd;
}

UniqueFd ShmOpenFile(int64_t size) {
  const std::string name = "/droidway-test-" + std::to_string(::getpid());
  UniqueFd fd(::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600));
  if (!fd.valid()) return fd;
  ::shm_unlink(name.c_str());
  if (::ftruncate(fd.get(), size) < 0) return UniqueFd();
  return fd;
}

UniqueFd Directory() {
  return UniqueFd(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

int ClosedFd() {
  const int fd = ::memfd_create("droidway-test-closed", MFD_CLOEXEC);
  if (fd >= 0) ::close(fd);
  return fd;
}

int Seals(int fd) {
  return ::fcntl(fd, F_GET_SEALS);
}

std::vector<uint8_t> ReadAll(int fd, size_t size) {
  std::vector<uint8_t> bytes(size);
  const ssize_t n = ::pread(fd, bytes.data(), size, 0);
  bytes.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return bytes;
}

bool WriteAt0(int fd, const std::vector<uint8_t>& bytes) {
  return ::pwrite(fd, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size());
}

std::vector<uint8_t> Pattern(size_t size, uint8_t seed) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(i * 31 + seed + i / 251);
  return bytes;
}

uint32_t FsMagic(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) < 0) return 0;
  return static_cast<uint32_t>(fs.f_type);
}

}  // namespace test
}  // namespace droidway
