// libFuzzer target: the fd and geometry checks of the bridge (shm_policy.cc, dmabuf_policy.cc)
// and the copies it makes (shm_copy.cc, keymap_copy.cc), on a real fd from the menu and sizes,
// offsets, strides, formats and modifiers from the input. Beyond the sanitizers, it checks that
// an accepted buffer or plane really lies inside its fd (64-bit arithmetic is the point).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "../src/bridge/dmabuf_policy.h"
#include "../src/bridge/keymap_copy.h"
#include "../src/bridge/shm_copy.h"
#include "../src/bridge/shm_policy.h"
#include "../src/unique_fd.h"
#include "fd_menu.h"
#include "fuzz_input.h"

using droidway::UniqueFd;
using droidway::bridge::DmabufFormatTable;
using droidway::bridge::DmabufPlane;
using droidway::bridge::DmabufPolicy;
using droidway::bridge::KeymapCopy;
using droidway::bridge::ShmCopy;
using droidway::bridge::ShmPolicy;
using droidway::bridge::Verdict;

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

/** Reads fixed-size fields from the input; zeros past its end. */
using Reader = droidway::fuzz::FuzzInput;

int64_t FdSize(int fd) {
  const off_t end = ::lseek(fd, 0, SEEK_END);
  return end < 0 ? -1 : static_cast<int64_t>(end);
}

void FuzzShm(Reader& in, int fd) {
  const int64_t pool_size = in.Take<int32_t>();  // wl_shm.create_pool carries an int32
  const bool require_sealed = (in.Take<uint8_t>() & 1) == 0;
  std::unique_ptr<ShmCopy> copy;
  const Verdict pool = ShmPolicy::PreparePoolFd(fd, pool_size, require_sealed, &copy);
  if (!pool.ok) {
    Require(!pool.reason.empty() && copy == nullptr);
    return;
  }
  Require(pool_size > 0);
  const int host_fd = copy ? copy->fd() : fd;
  Require(FdSize(host_fd) >= pool_size);
  if (copy) {
    Require(copy->size() == pool_size && pool_size <= ShmCopy::kMaxBytes);
    Require(copy->Refresh() >= 0);
    int64_t copied = 0;
    const int64_t grow = in.Take<int32_t>();
    if (copy->Grow(grow, &copied).ok()) Require(grow <= ShmCopy::kMaxBytes);
  }
  static const std::vector<uint32_t> formats = {0, 1, 0x34325258 /* XR24 */};
  while (!in.done()) {
    const int32_t offset = in.Take<int32_t>();
    const int32_t width = in.Take<int32_t>();
    const int32_t height = in.Take<int32_t>();
    const int32_t stride = in.Take<int32_t>();
    const uint32_t format = in.Take<uint32_t>();
    const Verdict buffer =
        ShmPolicy::CheckBuffer(pool_size, offset, width, height, stride, format, formats);
    if (!buffer.ok) continue;
    const uint32_t bpp = ShmPolicy::BytesPerPixel(format);
    Require(offset >= 0 && width > 0 && height > 0 && bpp > 0);
    Require(static_cast<__int128>(stride) >= static_cast<__int128>(width) * bpp);
    Require(static_cast<__int128>(offset) + static_cast<__int128>(stride) * height <= pool_size);
  }
}

void FuzzDmabuf(Reader& in, int first_fd) {
  std::vector<UniqueFd> owned;
  std::vector<DmabufPlane> planes;
  const uint8_t count = in.Take<uint8_t>() % 6;
  for (uint8_t i = 0; i < count; ++i) {
    DmabufPlane plane;
    plane.fd = i == 0 ? first_fd : droidway::fuzz::MakeMenuFd(in.Take<uint8_t>());
    if (i != 0) owned.emplace_back(plane.fd);
    plane.index = in.Take<uint8_t>();
    plane.offset = in.Take<uint32_t>();
    plane.stride = in.Take<uint32_t>();
    plane.modifier = in.Take<uint8_t>() & 1 ? 0 : 0x00ffffffffffffffULL;
    const Verdict add = DmabufPolicy::CheckAdd(planes, plane);
    if (!add.ok) continue;
    Require(plane.index < DmabufPolicy::kMaxPlanes);
    planes.push_back(plane);
  }
  const DmabufFormatTable table = {
      {0x34325258, 0}, {0x34325258, 0x00ffffffffffffffULL}, {0x3231564e /* NV12 */, 0}};
  const int32_t width = in.Take<int32_t>();
  const int32_t height = in.Take<int32_t>();
  const uint32_t format = in.Take<uint8_t>() & 1 ? 0x34325258 : 0x3231564e;
  const Verdict create = DmabufPolicy::CheckCreate(planes, width, height, format, table);
  if (!create.ok) return;
  Require(width > 0 && height > 0 && !planes.empty());
  for (const DmabufPlane& plane : planes) {
    const int64_t size = DmabufPolicy::FdSize(plane.fd);
    Require(size >= 0);
    Require(static_cast<__int128>(plane.offset) <= size);
  }
}

void FuzzKeymap(Reader& in, int fd) {
  const uint32_t size = in.Take<uint32_t>();
  UniqueFd out;
  if (!KeymapCopy::Make(fd, size, &out).ok()) return;
  Require(size >= 1 && size <= KeymapCopy::kMaxBytes);
  Require(FdSize(out.get()) == size);
  // The guest can change nothing: every seal set, and a write through the fd itself refused.
  const int kSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL;
  Require((::fcntl(out.get(), F_GET_SEALS) & kSeals) == kSeals);
  const char byte = 0;
  Require(::pwrite(out.get(), &byte, 1, 0) < 0 && errno == EPERM);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  const uint8_t which = in.Take<uint8_t>();
  UniqueFd fd(droidway::fuzz::MakeMenuFd(in.Take<uint8_t>()));
  if (fd.get() < 0) return 0;
  switch (which % 3) {
    case 0:
      FuzzShm(in, fd.get());
      break;
    case 1:
      FuzzDmabuf(in, fd.get());
      break;
    default:
      FuzzKeymap(in, fd.get());
      break;
  }
  return 0;
}
