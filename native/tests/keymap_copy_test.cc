// KeymapCopy: the guest's keymap is a bridge-made memfd holding the host's bytes, sealed so no
// one can change it, with its size limits and short or unreadable host fds refused.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../src/bridge/keymap_copy.h"
#include "../src/seals.h"
#include "check.h"
#include "fds.h"

using droidway::NativeStatus;
using droidway::UniqueFd;
using droidway::bridge::KeymapCopy;
using namespace droidway::test;

namespace {

constexpr int kAllSeals = DROIDWAY_F_SEAL_SHRINK | DROIDWAY_F_SEAL_GROW |
                          DROIDWAY_F_SEAL_FUTURE_WRITE | DROIDWAY_F_SEAL_SEAL;

}  // namespace

TEST(KeymapCopyHoldsTheHostBytes) {
  const std::vector<uint8_t> keymap = Pattern(60000, 9);
  UniqueFd host = Memfd(60000);
  CHECK(host.valid());
  CHECK(WriteAt0(host.get(), keymap));
  UniqueFd copy;
  const NativeStatus status = KeymapCopy::Make(host.get(), 60000, &copy);
  CHECK_EQ(status.message(), std::string());
  CHECK(copy.valid());
  CHECK(copy.get() != host.get());
  struct stat st;
  CHECK_EQ(::fstat(copy.get(), &st), 0);
  CHECK_EQ(st.st_size, off_t{60000});
  CHECK(ReadAll(copy.get(), 70000) == keymap);
  // Only the first `size` bytes are taken from a longer host file.
  UniqueFd prefix;
  CHECK(KeymapCopy::Make(host.get(), 10, &prefix).ok());
  CHECK(ReadAll(prefix.get(), 100) == std::vector<uint8_t>(keymap.begin(), keymap.begin() + 10));
}

TEST(KeymapCopyIsSealedAgainstEveryChange) {
  UniqueFd host = Memfd(4096);
  CHECK(host.valid());
  CHECK(WriteAt0(host.get(), Pattern(4096, 10)));
  UniqueFd copy;
  CHECK(KeymapCopy::Make(host.get(), 4096, &copy).ok());
  CHECK_EQ(Seals(copy.get()), kAllSeals);
  CHECK_EQ(::pwrite(copy.get(), "x", 1, 0), ssize_t{-1});
  CHECK_EQ(errno, EPERM);
  CHECK_EQ(::ftruncate(copy.get(), 0), -1);
  CHECK_EQ(::ftruncate(copy.get(), 8192), -1);
  CHECK_EQ(::fcntl(copy.get(), F_ADD_SEALS, DROIDWAY_F_SEAL_EXEC), -1);
  CHECK_EQ(errno, EPERM);
  void* writable = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, copy.get(), 0);
  CHECK(writable == MAP_FAILED);
  // Read-only shared mappings (how older clients map the keymap) still work.
  void* readable = ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, copy.get(), 0);
  CHECK(readable != MAP_FAILED);
  const std::vector<uint8_t> expected = Pattern(4096, 10);
  const bool same = std::memcmp(readable, expected.data(), 4096) == 0;
  CHECK_EQ(::mprotect(readable, 4096, PROT_READ | PROT_WRITE), -1);
  ::munmap(readable, 4096);
  CHECK(same);
  CHECK(ReadAll(copy.get(), 4096) == expected);
}

TEST(KeymapCopyIsANewMemfdNotTheHostFile) {
  UniqueFd host = Memfd(128);
  CHECK(host.valid());
  UniqueFd copy;
  CHECK(KeymapCopy::Make(host.get(), 128, &copy).ok());
  const std::string link = "/proc/self/fd/" + std::to_string(copy.get());
  char target[256] = {};
  CHECK(::readlink(link.c_str(), target, sizeof target - 1) > 0);
  CHECK_EQ(std::string(target).rfind("/memfd:droidway-keymap", 0), size_t{0});
  struct stat host_stat, copy_stat;
  CHECK_EQ(::fstat(host.get(), &host_stat), 0);
  CHECK_EQ(::fstat(copy.get(), &copy_stat), 0);
  CHECK(host_stat.st_ino != copy_stat.st_ino);
  // The host's file stays as it was: the bridge neither seals nor changes it.
  CHECK_EQ(Seals(host.get()), 0);
}

TEST(KeymapCopyRefusesSizesOutOfRange) {
  UniqueFd host = Memfd(KeymapCopy::kMaxBytes + 1);
  CHECK(host.valid());
  for (const uint32_t size : {0u, KeymapCopy::kMaxBytes + 1, UINT32_MAX}) {
    UniqueFd copy;
    const NativeStatus status = KeymapCopy::Make(host.get(), size, &copy);
    CHECK(!status.ok());
    CHECK_EQ(status.code(), -EINVAL);
    CHECK(!copy.valid());
  }
  UniqueFd copy;
  CHECK(KeymapCopy::Make(host.get(), KeymapCopy::kMaxBytes, &copy).ok());
}

TEST(KeymapCopyRefusesShortOrUnreadableHostFds) {
  UniqueFd host = Memfd(100);
  CHECK(host.valid());
  UniqueFd copy;
  const NativeStatus short_fd = KeymapCopy::Make(host.get(), 101, &copy);
  CHECK(!short_fd.ok());
  CHECK_EQ(short_fd.code(), -EIO);
  CHECK(!copy.valid());
  UniqueFd read_end, write_end;
  CHECK(Pipe(&read_end, &write_end));
  CHECK_EQ(KeymapCopy::Make(read_end.get(), 16, &copy).code(), -ESPIPE);
  CHECK_EQ(KeymapCopy::Make(ClosedFd(), 16, &copy).code(), -EBADF);
  UniqueFd write_only = Reopen(host.get(), O_WRONLY);
  CHECK(write_only.valid());
  CHECK_EQ(KeymapCopy::Make(write_only.get(), 16, &copy).code(), -EBADF);
  CHECK(!copy.valid());
}
