// ShmCopy: the bridge-owned sealed copy of an unsealable guest pool, its size limits, its seals
// (shrink only) and its refreshes from a guest that writes, shrinks or lies.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <vector>

#include "../src/bridge/shm_copy.h"
#include "../src/seals.h"
#include "check.h"
#include "fds.h"

using droidway::NativeStatus;
using droidway::UniqueFd;
using droidway::bridge::ShmCopy;
using namespace droidway::test;

namespace {

int64_t FileSize(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

}  // namespace

TEST(ShmCopyRefusesSizesOutOfRange) {
  UniqueFd guest = Memfd(ShmCopy::kMaxBytes + 1, false);
  CHECK(guest.valid());
  for (const int64_t size : {int64_t{0}, int64_t{-1}, ShmCopy::kMaxBytes + 1, INT64_MAX}) {
    std::unique_ptr<ShmCopy> copy;
    const NativeStatus status = ShmCopy::Create(guest.get(), size, &copy);
    CHECK(!status.ok());
    CHECK_EQ(status.code(), -EINVAL);
    CHECK(copy == nullptr);
  }
}

TEST(ShmCopyHoldsTheGuestBytesSealedAgainstShrinking) {
  UniqueFd guest = Memfd(4096, false);
  CHECK(guest.valid());
  const std::vector<uint8_t> pixels = Pattern(4096, 1);
  CHECK(WriteAt0(guest.get(), pixels));
  std::unique_ptr<ShmCopy> copy;
  const NativeStatus status = ShmCopy::Create(guest.get(), 4096, &copy);
  CHECK_EQ(status.message(), std::string());
  CHECK(copy != nullptr);
  CHECK_EQ(copy->size(), int64_t{4096});
  CHECK_EQ(FileSize(copy->fd()), int64_t{4096});
  CHECK(ReadAll(copy->fd(), 8192) == pixels);
  // Sealed against shrinking, and only that: a resize may grow it.
  CHECK_EQ(Seals(copy->fd()), DROIDWAY_F_SEAL_SHRINK);
  CHECK_EQ(::ftruncate(copy->fd(), 100), -1);
  CHECK_EQ(errno, EPERM);
  // A different file from the guest's: writing the guest's does not change it.
  struct stat guest_stat, copy_stat;
  CHECK_EQ(::fstat(guest.get(), &guest_stat), 0);
  CHECK_EQ(::fstat(copy->fd(), &copy_stat), 0);
  CHECK(guest_stat.st_ino != copy_stat.st_ino);
}

TEST(ShmCopyOutlivesTheGuestFd) {
  UniqueFd guest = Memfd(64, false);
  CHECK(guest.valid());
  const std::vector<uint8_t> pixels = Pattern(64, 2);
  CHECK(WriteAt0(guest.get(), pixels));
  std::unique_ptr<ShmCopy> copy;
  CHECK(ShmCopy::Create(guest.get(), 64, &copy).ok());
  guest.reset();  // the copy keeps a duplicate for its refreshes
  CHECK_EQ(copy->Refresh(), int64_t{64});
  CHECK(ReadAll(copy->fd(), 64) == pixels);
}

TEST(ShmCopyRefreshCopiesAgain) {
  UniqueFd guest = Memfd(1024, false);
  CHECK(guest.valid());
  CHECK(WriteAt0(guest.get(), Pattern(1024, 3)));
  std::unique_ptr<ShmCopy> copy;
  CHECK(ShmCopy::Create(guest.get(), 1024, &copy).ok());
  const std::vector<uint8_t> next = Pattern(1024, 4);
  CHECK(WriteAt0(guest.get(), next));
  CHECK(ReadAll(copy->fd(), 1024) == Pattern(1024, 3));
  CHECK_EQ(copy->Refresh(), int64_t{1024});
  CHECK(ReadAll(copy->fd(), 1024) == next);
}

TEST(ShmCopyReadsZerosPastAShrunkGuest) {
  UniqueFd guest = Memfd(1024, false);
  CHECK(guest.valid());
  CHECK(WriteAt0(guest.get(), Pattern(1024, 5)));
  std::unique_ptr<ShmCopy> copy;
  CHECK(ShmCopy::Create(guest.get(), 1024, &copy).ok());
  CHECK_EQ(::ftruncate(guest.get(), 100), 0);
  CHECK_EQ(copy->Refresh(), int64_t{1024});
  std::vector<uint8_t> expected = Pattern(1024, 5);
  for (size_t i = 100; i < expected.size(); ++i) expected[i] = 0;
  CHECK(ReadAll(copy->fd(), 1024) == expected);
  CHECK_EQ(FileSize(copy->fd()), int64_t{1024});
}

TEST(ShmCopyFromAGuestShorterThanAnnounced) {
  // The guest's file holds 10 bytes of a 4096-byte pool: the rest of the copy is zeros.
  UniqueFd guest = Memfd(10, false);
  CHECK(guest.valid());
  CHECK(WriteAt0(guest.get(), Pattern(10, 6)));
  std::unique_ptr<ShmCopy> copy;
  CHECK(ShmCopy::Create(guest.get(), 4096, &copy).ok());
  std::vector<uint8_t> expected(4096, 0);
  const std::vector<uint8_t> head = Pattern(10, 6);
  for (size_t i = 0; i < head.size(); ++i) expected[i] = head[i];
  CHECK(ReadAll(copy->fd(), 4096) == expected);
}

TEST(ShmCopyGrowsUpToTheLimitOnly) {
  UniqueFd guest = Memfd(ShmCopy::kMaxBytes, false);
  CHECK(guest.valid());
  const std::vector<uint8_t> pixels = Pattern(ShmCopy::kMaxBytes, 7);
  CHECK(WriteAt0(guest.get(), pixels));
  std::unique_ptr<ShmCopy> copy;
  CHECK(ShmCopy::Create(guest.get(), 4096, &copy).ok());
  int64_t copied = -1;
  CHECK_EQ(copy->Grow(100, &copied).code(), -EINVAL);  // a copy never shrinks
  CHECK_EQ(copy->Grow(ShmCopy::kMaxBytes + 1, &copied).code(), -EINVAL);
  CHECK_EQ(copy->size(), int64_t{4096});
  CHECK(copy->Grow(ShmCopy::kMaxBytes, &copied).ok());
  CHECK_EQ(copied, ShmCopy::kMaxBytes);
  CHECK_EQ(copy->size(), ShmCopy::kMaxBytes);
  CHECK_EQ(FileSize(copy->fd()), ShmCopy::kMaxBytes);
  CHECK(ReadAll(copy->fd(), ShmCopy::kMaxBytes) == pixels);
  // Growing to the same size is allowed (wl_shm_pool.resize to the current size).
  CHECK(copy->Grow(ShmCopy::kMaxBytes, &copied).ok());
}

TEST(ShmCopyRefusesFdsItCannotRead) {
  std::unique_ptr<ShmCopy> copy;
  const NativeStatus closed = ShmCopy::Create(ClosedFd(), 64, &copy);
  CHECK(!closed.ok());
  CHECK_EQ(closed.code(), -EBADF);
  UniqueFd read_end, write_end;
  CHECK(Pipe(&read_end, &write_end));
  const NativeStatus pipe = ShmCopy::Create(read_end.get(), 64, &copy);
  CHECK(!pipe.ok());
  CHECK_EQ(pipe.code(), -ESPIPE);
  CHECK(copy == nullptr);
}
