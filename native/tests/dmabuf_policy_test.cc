// DmabufPolicy: plane bookkeeping on add, and on create the plane set, dimensions, the
// (format, modifier) table and each plane's extent against its fd's real size. memfds stand in
// for dma-bufs: the checks only ask an fd its size with lseek(SEEK_END), which both answer.
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <vector>

#include "../src/bridge/dmabuf_policy.h"
#include "check.h"
#include "fds.h"

using droidway::UniqueFd;
using droidway::bridge::DmabufFormatTable;
using droidway::bridge::DmabufPlane;
using droidway::bridge::DmabufPolicy;
using droidway::bridge::Verdict;
using namespace droidway::test;

namespace {

// zwp_linux_buffer_params_v1 errors, from linux-dmabuf-unstable-v1.xml.
constexpr uint32_t kPlaneIdx = 1;
constexpr uint32_t kPlaneSet = 2;
constexpr uint32_t kIncomplete = 3;
constexpr uint32_t kInvalidFormat = 4;
constexpr uint32_t kInvalidDimensions = 5;
constexpr uint32_t kOutOfBounds = 6;

constexpr uint32_t FourCc(char a, char b, char c, char d) {
  return static_cast<uint32_t>(a) | static_cast<uint32_t>(b) << 8 | static_cast<uint32_t>(c) << 16 |
         static_cast<uint32_t>(d) << 24;
}
constexpr uint32_t kArgb8888 = FourCc('A', 'R', '2', '4');
constexpr uint32_t kXrgb8888 = FourCc('X', 'R', '2', '4');
constexpr uint32_t kNv12 = FourCc('N', 'V', '1', '2');
constexpr uint64_t kLinear = 0;
constexpr uint64_t kModInvalid = 0x00ffffffffffffffULL;
constexpr uint64_t kTiled = 0x0100000000000001ULL;  // I915_FORMAT_MOD_X_TILED

const DmabufFormatTable kHost = {
    {kArgb8888, kLinear}, {kArgb8888, kTiled}, {kXrgb8888, kModInvalid}, {kNv12, kLinear}};

DmabufPlane Plane(int fd, uint32_t index, uint32_t offset, uint32_t stride,
                  uint64_t modifier = kLinear) {
  DmabufPlane plane;
  plane.fd = fd;
  plane.index = index;
  plane.offset = offset;
  plane.stride = stride;
  plane.modifier = modifier;
  return plane;
}

}  // namespace

TEST(DmabufFdSizeReportsSizeAndRewinds) {
  UniqueFd fd = Memfd(12345);
  CHECK(fd.valid());
  CHECK_EQ(::lseek(fd.get(), 100, SEEK_SET), off_t{100});
  CHECK_EQ(DmabufPolicy::FdSize(fd.get()), int64_t{12345});
  CHECK_EQ(::lseek(fd.get(), 0, SEEK_CUR), off_t{0});
  UniqueFd read_end, write_end;
  CHECK(Pipe(&read_end, &write_end));
  CHECK_EQ(DmabufPolicy::FdSize(read_end.get()), int64_t{-ESPIPE});
  CHECK_EQ(DmabufPolicy::FdSize(ClosedFd()), int64_t{-EBADF});
}

TEST(DmabufAddAcceptsFreshPlanes) {
  UniqueFd fd = Memfd(4096);
  CHECK(fd.valid());
  std::vector<DmabufPlane> planes;
  for (uint32_t index : {2u, 0u, 3u, 1u}) {
    const DmabufPlane plane = Plane(fd.get(), index, 0, 64);
    const Verdict verdict = DmabufPolicy::CheckAdd(planes, plane);
    CHECK_EQ(verdict.reason, std::string());
    CHECK(verdict.ok);
    planes.push_back(plane);
  }
}

TEST(DmabufAddRefusesIndexFourAndAbove) {
  UniqueFd fd = Memfd(4096);
  CHECK(fd.valid());
  for (const uint32_t index : {4u, 5u, UINT32_MAX}) {
    const Verdict verdict = DmabufPolicy::CheckAdd({}, Plane(fd.get(), index, 0, 64));
    CHECK(!verdict.ok);
    CHECK_EQ(verdict.reason, std::string("dmabuf-plane-index"));
    CHECK_EQ(verdict.error, kPlaneIdx);
  }
}

TEST(DmabufAddRefusesPlaneSetTwice) {
  UniqueFd fd = Memfd(4096);
  CHECK(fd.valid());
  const std::vector<DmabufPlane> planes = {Plane(fd.get(), 0, 0, 64), Plane(fd.get(), 1, 0, 64)};
  const Verdict verdict = DmabufPolicy::CheckAdd(planes, Plane(fd.get(), 1, 128, 64));
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("dmabuf-plane-set"));
  CHECK_EQ(verdict.error, kPlaneSet);
}

TEST(DmabufAddRefusesModifierMismatch) {
  UniqueFd fd = Memfd(4096);
  CHECK(fd.valid());
  const std::vector<DmabufPlane> planes = {Plane(fd.get(), 0, 0, 64, kLinear)};
  const Verdict verdict = DmabufPolicy::CheckAdd(planes, Plane(fd.get(), 1, 0, 64, kTiled));
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("dmabuf-modifier-mismatch"));
  CHECK_EQ(verdict.error, kInvalidFormat);
  CHECK(verdict.message.find("0x100000000000001") != std::string::npos);
}

TEST(DmabufAddRefusesUnsizableFd) {
  UniqueFd read_end, write_end;
  CHECK(Pipe(&read_end, &write_end));
  const Verdict pipe = DmabufPolicy::CheckAdd({}, Plane(read_end.get(), 0, 0, 64));
  CHECK(!pipe.ok);
  CHECK_EQ(pipe.reason, std::string("dmabuf-fd-size"));
  CHECK_EQ(pipe.error, kOutOfBounds);
  const Verdict closed = DmabufPolicy::CheckAdd({}, Plane(ClosedFd(), 0, 0, 64));
  CHECK_EQ(closed.reason, std::string("dmabuf-fd-size"));
}

TEST(DmabufCreateAcceptsExactFit) {
  // 16×8 ARGB8888, stride 64, offset 64: ends at 64 + 64 × 8 = 576.
  UniqueFd fd = Memfd(576);
  CHECK(fd.valid());
  const Verdict verdict =
      DmabufPolicy::CheckCreate({Plane(fd.get(), 0, 64, 64)}, 16, 8, kArgb8888, kHost);
  CHECK_EQ(verdict.reason, std::string());
  CHECK(verdict.ok);
  UniqueFd short_fd = Memfd(575);
  CHECK(short_fd.valid());
  const Verdict past =
      DmabufPolicy::CheckCreate({Plane(short_fd.get(), 0, 64, 64)}, 16, 8, kArgb8888, kHost);
  CHECK(!past.ok);
  CHECK_EQ(past.reason, std::string("dmabuf-out-of-bounds"));
  CHECK_EQ(past.error, kOutOfBounds);
  CHECK(past.message.find("576") != std::string::npos);
}

TEST(DmabufCreateRefusesMissingOrExtraPlanes) {
  UniqueFd fd = Memfd(1 << 16);
  CHECK(fd.valid());
  const Verdict none = DmabufPolicy::CheckCreate({}, 16, 8, kArgb8888, kHost);
  CHECK(!none.ok);
  CHECK_EQ(none.reason, std::string("dmabuf-incomplete"));
  CHECK_EQ(none.error, kIncomplete);
  std::vector<DmabufPlane> five;
  for (uint32_t i = 0; i < 5; ++i) five.push_back(Plane(fd.get(), i, 0, 64));
  CHECK_EQ(DmabufPolicy::CheckCreate(five, 16, 8, kArgb8888, kHost).reason,
           std::string("dmabuf-incomplete"));
  // Planes 0 and 2 without 1, and plane 1 alone.
  CHECK_EQ(DmabufPolicy::CheckCreate({Plane(fd.get(), 0, 0, 64), Plane(fd.get(), 2, 0, 64)}, 16, 8,
                                     kArgb8888, kHost)
               .reason,
           std::string("dmabuf-incomplete"));
  CHECK_EQ(DmabufPolicy::CheckCreate({Plane(fd.get(), 1, 0, 64)}, 16, 8, kArgb8888, kHost).reason,
           std::string("dmabuf-incomplete"));
}

TEST(DmabufCreateRefusesNonPositiveDimensions) {
  UniqueFd fd = Memfd(1 << 16);
  CHECK(fd.valid());
  for (const auto& wh : std::vector<std::pair<int32_t, int32_t>>{
           {0, 8}, {16, 0}, {-1, 8}, {16, -1}, {INT32_MIN, INT32_MIN}}) {
    const Verdict verdict = DmabufPolicy::CheckCreate({Plane(fd.get(), 0, 0, 64)}, wh.first,
                                                      wh.second, kArgb8888, kHost);
    CHECK(!verdict.ok);
    CHECK_EQ(verdict.reason, std::string("dmabuf-dimensions"));
    CHECK_EQ(verdict.error, kInvalidDimensions);
  }
}

TEST(DmabufCreateChecksFormatAndModifierPair) {
  UniqueFd fd = Memfd(1 << 16);
  CHECK(fd.valid());
  // ARGB8888 is offered linear and X-tiled; XRGB8888 only with the implicit modifier.
  CHECK(DmabufPolicy::CheckCreate({Plane(fd.get(), 0, 0, 64, kTiled)}, 16, 8, kArgb8888, kHost).ok);
  CHECK(DmabufPolicy::CheckCreate({Plane(fd.get(), 0, 0, 64, kModInvalid)}, 16, 8, kXrgb8888, kHost)
            .ok);
  const Verdict modifier =
      DmabufPolicy::CheckCreate({Plane(fd.get(), 0, 0, 64, kLinear)}, 16, 8, kXrgb8888, kHost);
  CHECK(!modifier.ok);
  CHECK_EQ(modifier.reason, std::string("dmabuf-format"));
  CHECK_EQ(modifier.error, kInvalidFormat);
  const Verdict format = DmabufPolicy::CheckCreate({Plane(fd.get(), 0, 0, 64)}, 16, 8,
                                                   FourCc('A', 'B', '2', '4'), kHost);
  CHECK_EQ(format.reason, std::string("dmabuf-format"));
  CHECK(format.message.find("0x34324241") != std::string::npos);
  CHECK_EQ(DmabufPolicy::CheckCreate({Plane(fd.get(), 0, 0, 64)}, 16, 8, kArgb8888, {}).reason,
           std::string("dmabuf-format"));
}

TEST(DmabufCreateRefusesZeroStride) {
  UniqueFd fd = Memfd(1 << 16);
  CHECK(fd.valid());
  const Verdict verdict =
      DmabufPolicy::CheckCreate({Plane(fd.get(), 0, 0, 0)}, 16, 8, kArgb8888, kHost);
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("dmabuf-out-of-bounds"));
}

TEST(DmabufCreateOffsetPlusStrideTimesRowsDoesNotWrap) {
  UniqueFd fd = Memfd(4096);
  CHECK(fd.valid());
  // (2^32-1) + (2^32-1) × (2^31-1): about 9.2e18, near 2^63; wraps to a small value in 32 bits.
  const Verdict verdict = DmabufPolicy::CheckCreate({Plane(fd.get(), 0, UINT32_MAX, UINT32_MAX)}, 1,
                                                    INT32_MAX, kArgb8888, kHost);
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("dmabuf-out-of-bounds"));
  CHECK(verdict.message.find("9223372034707292160") != std::string::npos);
  // stride 2^16 × 2^16 rows = 2^32, which is 0 in 32 bits.
  CHECK_EQ(
      DmabufPolicy::CheckCreate({Plane(fd.get(), 0, 0, 65536)}, 1, 65536, kArgb8888, kHost).reason,
      std::string("dmabuf-out-of-bounds"));
  // An offset past the fd with a tiny plane.
  CHECK_EQ(DmabufPolicy::CheckCreate({Plane(fd.get(), 0, 4096, 4)}, 1, 1, kArgb8888, kHost).reason,
           std::string("dmabuf-out-of-bounds"));
}

TEST(DmabufCreateChecksEveryPlaneOnItsOwnFd) {
  UniqueFd big = Memfd(1 << 16);
  UniqueFd small = Memfd(100);
  CHECK(big.valid());
  CHECK(small.valid());
  // ARGB8888 has one plane really, but the check covers whatever the guest sent.
  const Verdict verdict = DmabufPolicy::CheckCreate(
      {Plane(big.get(), 0, 0, 64), Plane(small.get(), 1, 0, 64)}, 16, 8, kArgb8888, kHost);
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("dmabuf-out-of-bounds"));
  CHECK(verdict.message.find("plane 1") != std::string::npos);
  UniqueFd read_end, write_end;
  CHECK(Pipe(&read_end, &write_end));
  CHECK_EQ(DmabufPolicy::CheckCreate({Plane(big.get(), 0, 0, 64), Plane(read_end.get(), 1, 0, 64)},
                                     16, 8, kArgb8888, kHost)
               .reason,
           std::string("dmabuf-fd-size"));
}

TEST(DmabufCreateHalvesChromaRowsOf420) {
  // NV12 16×3: luma 16 × 3 = 48 bytes, chroma (3+1)/2 = 2 rows of 16 = 32 bytes at offset 48.
  UniqueFd fd = Memfd(80);
  CHECK(fd.valid());
  const std::vector<DmabufPlane> nv12 = {Plane(fd.get(), 0, 0, 16), Plane(fd.get(), 1, 48, 16)};
  const Verdict verdict = DmabufPolicy::CheckCreate(nv12, 16, 3, kNv12, kHost);
  CHECK_EQ(verdict.reason, std::string());
  CHECK(verdict.ok);
  // One byte less does not hold the second chroma row.
  UniqueFd short_fd = Memfd(79);
  CHECK(short_fd.valid());
  CHECK_EQ(
      DmabufPolicy::CheckCreate({Plane(short_fd.get(), 0, 0, 16), Plane(short_fd.get(), 1, 48, 16)},
                                16, 3, kNv12, kHost)
          .reason,
      std::string("dmabuf-out-of-bounds"));
  // A format without subsampling needs all 3 rows on every plane: 48 + 48 > 80.
  CHECK_EQ(DmabufPolicy::CheckCreate({Plane(fd.get(), 0, 0, 16), Plane(fd.get(), 1, 48, 16)}, 16, 3,
                                     kArgb8888, kHost)
               .reason,
           std::string("dmabuf-out-of-bounds"));
}
