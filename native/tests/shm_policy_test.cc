// ShmPolicy: the pool fd checks on real fds (sealed and unsealed memfds, short ones, pipes,
// sockets, disk files, shm_open files, directories) and the create_buffer geometry in 64-bit
// arithmetic.
#include <fcntl.h>
#include <unistd.h>
#include <wayland-server-protocol.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <memory>
#include <vector>

#include "../src/bridge/shm_policy.h"
#include "../src/seals.h"
#include "check.h"
#include "fds.h"

using droidway::UniqueFd;
using droidway::bridge::ShmCopy;
using droidway::bridge::ShmPolicy;
using droidway::bridge::Verdict;
using namespace droidway::test;

namespace {

constexpr int kShrinkGrow = DROIDWAY_F_SEAL_SHRINK | DROIDWAY_F_SEAL_GROW;
const std::vector<uint32_t> kHostFormats = {WL_SHM_FORMAT_ARGB8888, WL_SHM_FORMAT_XRGB8888,
                                            WL_SHM_FORMAT_RGB565, WL_SHM_FORMAT_NV12};

}  // namespace

TEST(ShmPoolAcceptsSealedMemfd) {
  UniqueFd fd = Memfd(8192, true, DROIDWAY_F_SEAL_SHRINK);
  CHECK(fd.valid());
  const Verdict verdict = ShmPolicy::CheckPoolFd(fd.get(), 8192, true);
  CHECK_EQ(verdict.reason, std::string());
  CHECK(verdict.ok);
  // A pool smaller than the file is fine too.
  CHECK(ShmPolicy::CheckPoolFd(fd.get(), 1, true).ok);
}

TEST(ShmPoolUnsealedMemfdOnlyWhenSealsNotRequired) {
  UniqueFd fd = Memfd(4096);
  CHECK(fd.valid());
  CHECK(ShmPolicy::CheckPoolFd(fd.get(), 4096, false).ok);
  const Verdict verdict = ShmPolicy::CheckPoolFd(fd.get(), 4096, true);
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("unsealed"));
  CHECK_EQ(verdict.error, uint32_t{WL_SHM_ERROR_INVALID_FD});
  // F_SEAL_GROW alone does not stop a shrink.
  UniqueFd grow_only = Memfd(4096, true, DROIDWAY_F_SEAL_GROW);
  CHECK(grow_only.valid());
  CHECK_EQ(ShmPolicy::CheckPoolFd(grow_only.get(), 4096, true).reason, std::string("unsealed"));
}

TEST(ShmPoolRefusesShortMemfd) {
  UniqueFd fd = Memfd(4096, true, DROIDWAY_F_SEAL_SHRINK);
  CHECK(fd.valid());
  CHECK(ShmPolicy::CheckPoolFd(fd.get(), 4096, true).ok);
  const Verdict verdict = ShmPolicy::CheckPoolFd(fd.get(), 4097, true);
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("too-small"));
  CHECK_EQ(verdict.error, uint32_t{WL_SHM_ERROR_INVALID_FD});
  CHECK(verdict.message.find("4096") != std::string::npos);
  // An empty memfd and the largest announced size.
  UniqueFd empty = Memfd(0, true, DROIDWAY_F_SEAL_SHRINK);
  CHECK(empty.valid());
  CHECK_EQ(ShmPolicy::CheckPoolFd(empty.get(), 1, true).reason, std::string("too-small"));
  CHECK_EQ(ShmPolicy::CheckPoolFd(fd.get(), INT64_MAX, true).reason, std::string("too-small"));
}

TEST(ShmPoolRefusesNonPositiveSize) {
  UniqueFd fd = Memfd(4096, true, DROIDWAY_F_SEAL_SHRINK);
  CHECK(fd.valid());
  for (const int64_t size : {int64_t{0}, int64_t{-1}, INT64_MIN}) {
    const Verdict verdict = ShmPolicy::CheckPoolFd(fd.get(), size, true);
    CHECK(!verdict.ok);
    CHECK_EQ(verdict.reason, std::string("bad-size"));
    CHECK_EQ(verdict.error, uint32_t{WL_SHM_ERROR_INVALID_STRIDE});
  }
}

TEST(ShmPoolRefusesPipe) {
  UniqueFd read_end, write_end;
  CHECK(Pipe(&read_end, &write_end));
  for (const int fd : {read_end.get(), write_end.get()}) {
    const Verdict verdict = ShmPolicy::CheckPoolFd(fd, 16, false);
    CHECK(!verdict.ok);
    CHECK_EQ(verdict.reason, std::string("not-shm-file"));
    CHECK_EQ(verdict.error, uint32_t{WL_SHM_ERROR_INVALID_FD});
    CHECK(verdict.message.find("(pipe)") != std::string::npos);
  }
}

TEST(ShmPoolRefusesSocket) {
  UniqueFd fd = Socket();
  CHECK(fd.valid());
  const Verdict verdict = ShmPolicy::CheckPoolFd(fd.get(), 16, false);
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("not-shm-file"));
  CHECK(verdict.message.find("(socket)") != std::string::npos);
}

TEST(ShmPoolRefusesDirectory) {
  UniqueFd fd = Directory();
  CHECK(fd.valid());
  const Verdict verdict = ShmPolicy::CheckPoolFd(fd.get(), 16, false);
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("not-shm-file"));
  CHECK(verdict.message.find("(other)") != std::string::npos);
}

TEST(ShmPoolRefusesDiskFile) {
  UniqueFd fd = DiskFile(4096);
  CHECK(fd.valid());
  // The runner works in native/tests/build, which must not be on tmpfs for this case to mean
  // anything.
  CHECK(FsMagic(fd.get()) != kTmpfsMagic);
  const Verdict verdict = ShmPolicy::CheckPoolFd(fd.get(), 4096, false);
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("not-tmpfs"));
  CHECK_EQ(verdict.error, uint32_t{WL_SHM_ERROR_INVALID_FD});
}

TEST(ShmPoolShmOpenFileIsTmpfsButUnsealable) {
  UniqueFd fd = ShmOpenFile(4096);
  CHECK(fd.valid());
  CHECK_EQ(FsMagic(fd.get()), kTmpfsMagic);
  CHECK(ShmPolicy::CheckPoolFd(fd.get(), 4096, false).ok);
  CHECK_EQ(ShmPolicy::CheckPoolFd(fd.get(), 4096, true).reason, std::string("unsealed"));
}

TEST(ShmPoolRefusesReadOnlyAndWriteOnly) {
  UniqueFd fd = Memfd(4096, true, DROIDWAY_F_SEAL_SHRINK);
  CHECK(fd.valid());
  UniqueFd read_only = Reopen(fd.get(), O_RDONLY);
  UniqueFd write_only = Reopen(fd.get(), O_WRONLY);
  CHECK(read_only.valid());
  CHECK(write_only.valid());
  CHECK_EQ(ShmPolicy::CheckPoolFd(read_only.get(), 4096, true).reason,
           std::string("not-read-write"));
  CHECK_EQ(ShmPolicy::CheckPoolFd(write_only.get(), 4096, true).reason,
           std::string("not-read-write"));
}

TEST(ShmPoolRefusesWriteSealedMemfd) {
  for (const int seal : {DROIDWAY_F_SEAL_WRITE, DROIDWAY_F_SEAL_FUTURE_WRITE}) {
    UniqueFd fd = Memfd(4096, true, DROIDWAY_F_SEAL_SHRINK | seal);
    CHECK(fd.valid());
    const Verdict verdict = ShmPolicy::CheckPoolFd(fd.get(), 4096, false);
    CHECK(!verdict.ok);
    CHECK_EQ(verdict.reason, std::string("write-sealed"));
  }
}

TEST(ShmPoolRefusesClosedFd) {
  const int fd = ClosedFd();
  CHECK(fd >= 0);
  for (const int bad : {fd, -1}) {
    const Verdict verdict = ShmPolicy::CheckPoolFd(bad, 16, false);
    CHECK(!verdict.ok);
    CHECK_EQ(verdict.reason, std::string("inspect-failed"));
    CHECK_EQ(verdict.error, uint32_t{WL_SHM_ERROR_INVALID_FD});
  }
}

TEST(ShmPrepareSealsSealableMemfdInPlace) {
  UniqueFd fd = Memfd(4096);
  CHECK(fd.valid());
  CHECK_EQ(Seals(fd.get()), 0);
  std::unique_ptr<ShmCopy> copy;
  const Verdict verdict = ShmPolicy::PreparePoolFd(fd.get(), 4096, true, &copy);
  CHECK(verdict.ok);
  CHECK(copy == nullptr);
  CHECK_EQ(Seals(fd.get()), kShrinkGrow);
  // The guest can no longer shrink what the host maps.
  CHECK_EQ(::ftruncate(fd.get(), 0), -1);
}

TEST(ShmPrepareLeavesSealsAloneWhenNotRequired) {
  UniqueFd fd = Memfd(4096);
  CHECK(fd.valid());
  std::unique_ptr<ShmCopy> copy;
  CHECK(ShmPolicy::PreparePoolFd(fd.get(), 4096, false, &copy).ok);
  CHECK(copy == nullptr);
  CHECK_EQ(Seals(fd.get()), 0);
}

TEST(ShmPrepareCopiesSmallUnsealableMemfd) {
  UniqueFd fd = Memfd(4096, false);
  CHECK(fd.valid());
  CHECK_EQ(Seals(fd.get()), DROIDWAY_F_SEAL_SEAL);
  const std::vector<uint8_t> pixels = Pattern(4096, 7);
  CHECK(WriteAt0(fd.get(), pixels));
  std::unique_ptr<ShmCopy> copy;
  const Verdict verdict = ShmPolicy::PreparePoolFd(fd.get(), 4096, true, &copy);
  CHECK(verdict.ok);
  CHECK(copy != nullptr);
  CHECK(copy->fd() != fd.get());
  CHECK_EQ(copy->size(), int64_t{4096});
  CHECK(ReadAll(copy->fd(), 4096) == pixels);
  // What the host gets passes the sealed check itself.
  CHECK(ShmPolicy::CheckPoolFd(copy->fd(), 4096, true).ok);
}

TEST(ShmPrepareRefusesLargeUnsealableMemfd) {
  const int64_t size = ShmCopy::kMaxBytes + 1;
  UniqueFd fd = Memfd(size, false);
  CHECK(fd.valid());
  std::unique_ptr<ShmCopy> copy;
  const Verdict verdict = ShmPolicy::PreparePoolFd(fd.get(), size, true, &copy);
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("unsealed"));
  CHECK(copy == nullptr);
  CHECK(verdict.message.find("65536") != std::string::npos);
  // Exactly the limit is still copied.
  CHECK(ShmPolicy::PreparePoolFd(fd.get(), ShmCopy::kMaxBytes, true, &copy).ok);
  CHECK(copy != nullptr);
}

TEST(ShmPrepareCopiesAShortUnsealablePoolToItsFullSize) {
  // Unlike a sealable memfd (sealed, then refused as too small), an unsealable one shorter than
  // the announced pool is copied: the host maps a copy of the full size, zeros past the guest's
  // bytes, so it never maps a short file.
  UniqueFd fd = Memfd(10, false);
  CHECK(fd.valid());
  CHECK(WriteAt0(fd.get(), Pattern(10, 8)));
  std::unique_ptr<ShmCopy> copy;
  const Verdict verdict = ShmPolicy::PreparePoolFd(fd.get(), 4096, true, &copy);
  CHECK(verdict.ok);
  CHECK(copy != nullptr);
  CHECK_EQ(copy->size(), int64_t{4096});
  std::vector<uint8_t> expected(4096, 0);
  const std::vector<uint8_t> head = Pattern(10, 8);
  std::copy(head.begin(), head.end(), expected.begin());
  CHECK(ReadAll(copy->fd(), 8192) == expected);
}

TEST(ShmPrepareRefusesNonShmWithoutCopy) {
  UniqueFd read_end, write_end;
  CHECK(Pipe(&read_end, &write_end));
  std::unique_ptr<ShmCopy> copy;
  CHECK_EQ(ShmPolicy::PreparePoolFd(read_end.get(), 16, true, &copy).reason,
           std::string("not-shm-file"));
  CHECK(copy == nullptr);
  UniqueFd file = DiskFile(16);
  CHECK(file.valid());
  CHECK_EQ(ShmPolicy::PreparePoolFd(file.get(), 16, true, &copy).reason, std::string("not-tmpfs"));
  CHECK(copy == nullptr);
  // A short sealable memfd is sealed, then still refused for its size, and never copied.
  UniqueFd short_fd = Memfd(100);
  CHECK(short_fd.valid());
  CHECK_EQ(ShmPolicy::PreparePoolFd(short_fd.get(), 200, true, &copy).reason,
           std::string("too-small"));
  CHECK(copy == nullptr);
}

TEST(ShmBufferAcceptsExactFit) {
  // 16×8 ARGB8888 with a 64-byte stride at offset 128: ends at 128 + 64 × 8 = 640.
  CHECK(ShmPolicy::CheckBuffer(640, 128, 16, 8, 64, WL_SHM_FORMAT_ARGB8888, kHostFormats).ok);
  const Verdict verdict =
      ShmPolicy::CheckBuffer(639, 128, 16, 8, 64, WL_SHM_FORMAT_ARGB8888, kHostFormats);
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("out-of-pool"));
  CHECK_EQ(verdict.error, uint32_t{WL_SHM_ERROR_INVALID_STRIDE});
  CHECK(verdict.message.find("640") != std::string::npos);
  // A stride wider than the row is fine.
  CHECK(ShmPolicy::CheckBuffer(1000, 0, 16, 8, 100, WL_SHM_FORMAT_XRGB8888, kHostFormats).ok);
}

TEST(ShmBufferRefusesFormatsTheHostLacks) {
  const Verdict verdict =
      ShmPolicy::CheckBuffer(1 << 20, 0, 4, 4, 16, WL_SHM_FORMAT_ABGR8888, kHostFormats);
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("bad-format"));
  CHECK_EQ(verdict.error, uint32_t{WL_SHM_ERROR_INVALID_FORMAT});
  CHECK_EQ(ShmPolicy::CheckBuffer(1 << 20, 0, 4, 4, 16, WL_SHM_FORMAT_ARGB8888, {}).reason,
           std::string("bad-format"));
}

TEST(ShmBufferRefusesFormatsWithoutPixelSize) {
  // NV12 is on the host's list but multi-planar: no single bytes-per-pixel to check against.
  const Verdict verdict =
      ShmPolicy::CheckBuffer(1 << 20, 0, 4, 4, 16, WL_SHM_FORMAT_NV12, kHostFormats);
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("bad-format"));
  CHECK_EQ(verdict.error, uint32_t{WL_SHM_ERROR_INVALID_FORMAT});
}

TEST(ShmBufferRefusesBadGeometry) {
  for (const auto& g : std::vector<std::vector<int32_t>>{
           {-1, 4, 4}, {INT32_MIN, 4, 4}, {0, 0, 4}, {0, 4, 0}, {0, -4, 4}, {0, 4, -4}}) {
    const Verdict verdict =
        ShmPolicy::CheckBuffer(1 << 20, g[0], g[1], g[2], 16, WL_SHM_FORMAT_ARGB8888, kHostFormats);
    CHECK(!verdict.ok);
    CHECK_EQ(verdict.reason, std::string("bad-geometry"));
    CHECK_EQ(verdict.error, uint32_t{WL_SHM_ERROR_INVALID_STRIDE});
  }
}

TEST(ShmBufferRefusesShortAndNegativeStride) {
  // RGB565: 2 bytes a pixel, so 10 pixels need 20.
  CHECK(ShmPolicy::CheckBuffer(1 << 20, 0, 10, 4, 20, WL_SHM_FORMAT_RGB565, kHostFormats).ok);
  for (const int32_t stride : {19, 0, -20, INT32_MIN}) {
    const Verdict verdict =
        ShmPolicy::CheckBuffer(1 << 20, 0, 10, 4, stride, WL_SHM_FORMAT_RGB565, kHostFormats);
    CHECK(!verdict.ok);
    CHECK_EQ(verdict.reason, std::string("bad-stride"));
    CHECK_EQ(verdict.error, uint32_t{WL_SHM_ERROR_INVALID_STRIDE});
  }
}

TEST(ShmBufferWidthTimesBppDoesNotWrap) {
  // 2^30 pixels × 4 bytes = 2^32, which a 32-bit product would wrap to 0 (passing stride 0 or
  // a small one). In 64 bits no int32 stride is wide enough.
  const Verdict verdict = ShmPolicy::CheckBuffer(INT64_MAX, 0, 1 << 30, 1, INT32_MAX,
                                                 WL_SHM_FORMAT_ARGB8888, kHostFormats);
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("bad-stride"));
}

TEST(ShmBufferOffsetPlusStrideTimesHeightDoesNotWrap) {
  // offset + stride × height = 2^31-1 + (2^31-1)^2 ≈ 4.6e18: beyond any pool, and it would wrap
  // to a small number in 32-bit arithmetic.
  const Verdict verdict = ShmPolicy::CheckBuffer(int64_t{1} << 40, INT32_MAX, 1, INT32_MAX,
                                                 INT32_MAX, WL_SHM_FORMAT_ARGB8888, kHostFormats);
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("out-of-pool"));
  CHECK(verdict.message.find("4611686016279904256") != std::string::npos);
  // stride × height = 65536 × 65536 = 2^32 (0 in 32 bits) against a 4 KiB pool.
  CHECK_EQ(
      ShmPolicy::CheckBuffer(4096, 0, 1, 65536, 65536, WL_SHM_FORMAT_ARGB8888, kHostFormats).reason,
      std::string("out-of-pool"));
  // An int32 pool-size view would be negative; the pool size is 64-bit.
  CHECK(ShmPolicy::CheckBuffer(int64_t{1} << 34, 0, 65536, 65536, 262144, WL_SHM_FORMAT_ARGB8888,
                               kHostFormats)
            .ok);
}

TEST(ShmBytesPerPixel) {
  CHECK_EQ(ShmPolicy::BytesPerPixel(WL_SHM_FORMAT_ARGB8888), 4u);
  CHECK_EQ(ShmPolicy::BytesPerPixel(WL_SHM_FORMAT_XRGB8888), 4u);
  CHECK_EQ(ShmPolicy::BytesPerPixel(WL_SHM_FORMAT_ABGR2101010), 4u);
  CHECK_EQ(ShmPolicy::BytesPerPixel(WL_SHM_FORMAT_RGB888), 3u);
  CHECK_EQ(ShmPolicy::BytesPerPixel(WL_SHM_FORMAT_BGR888), 3u);
  CHECK_EQ(ShmPolicy::BytesPerPixel(WL_SHM_FORMAT_RGB565), 2u);
  CHECK_EQ(ShmPolicy::BytesPerPixel(WL_SHM_FORMAT_ARGB1555), 2u);
  CHECK_EQ(ShmPolicy::BytesPerPixel(WL_SHM_FORMAT_ABGR16161616F), 8u);
  CHECK_EQ(ShmPolicy::BytesPerPixel(WL_SHM_FORMAT_NV12), 0u);
  CHECK_EQ(ShmPolicy::BytesPerPixel(WL_SHM_FORMAT_C8), 0u);
  CHECK_EQ(ShmPolicy::BytesPerPixel(0xdeadbeef), 0u);
}
