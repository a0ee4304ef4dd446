#include "shm_policy.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "../fd_inspect.h"
#include "../seals.h"
#include "wayland_headers.h"

namespace droidway {
namespace bridge {
namespace {

Verdict Reject(uint32_t error, const char* reason, std::string message) {
  return Verdict::Refuse(error, reason, std::move(message));
}

bool HasSeal(const FdInfo& info, const char* name) {
  return std::find(info.seals.begin(), info.seals.end(), name) != info.seals.end();
}

}  // namespace

uint32_t ShmPolicy::BytesPerPixel(uint32_t format) {
  switch (format) {
    case WL_SHM_FORMAT_ARGB8888:
    case WL_SHM_FORMAT_XRGB8888:
    case WL_SHM_FORMAT_ABGR8888:
    case WL_SHM_FORMAT_XBGR8888:
    case WL_SHM_FORMAT_RGBA8888:
    case WL_SHM_FORMAT_RGBX8888:
    case WL_SHM_FORMAT_BGRA8888:
    case WL_SHM_FORMAT_BGRX8888:
    case WL_SHM_FORMAT_ARGB2101010:
    case WL_SHM_FORMAT_XRGB2101010:
    case WL_SHM_FORMAT_ABGR2101010:
    case WL_SHM_FORMAT_XBGR2101010:
      return 4;
    case WL_SHM_FORMAT_RGB888:
    case WL_SHM_FORMAT_BGR888:
      return 3;
    case WL_SHM_FORMAT_RGB565:
    case WL_SHM_FORMAT_BGR565:
    case WL_SHM_FORMAT_ARGB4444:
    case WL_SHM_FORMAT_XRGB4444:
    case WL_SHM_FORMAT_ARGB1555:
    case WL_SHM_FORMAT_XRGB1555:
      return 2;
    case WL_SHM_FORMAT_ABGR16161616F:
    case WL_SHM_FORMAT_XBGR16161616F:
    case WL_SHM_FORMAT_ABGR16161616:
    case WL_SHM_FORMAT_XBGR16161616:
      return 8;
    default:
      return 0;
  }
}

Verdict ShmPolicy::CheckPoolFd(int fd, int64_t size, bool require_sealed) {
  if (size <= 0) {
    return Reject(WL_SHM_ERROR_INVALID_STRIDE, "bad-size",
                  "pool size " + std::to_string(size) + " is not positive");
  }
  FdInfo info;
  const NativeStatus status = FdInspect::Inspect(fd, &info);
  if (!status.ok()) {
    return Reject(WL_SHM_ERROR_INVALID_FD, "inspect-failed",
                  "pool fd could not be inspected: " + status.message());
  }
  if (info.kind != "ashmem") {
    if (!S_ISREG(info.mode)) {
      return Reject(WL_SHM_ERROR_INVALID_FD, "not-shm-file",
                    "pool fd is not a regular file (" + info.kind + "), so not shared memory");
    }
    if (info.fs_type != "tmpfs" && info.fs_type != "hugetlbfs") {
      return Reject(WL_SHM_ERROR_INVALID_FD, "not-tmpfs",
                    "pool fd is a file on " + info.fs_type + ", not on tmpfs or hugetlbfs");
    }
  }
  // The host maps pools read-write (MAP_SHARED): anything else would fail inside the host.
  if (info.access != "rw") {
    return Reject(WL_SHM_ERROR_INVALID_FD, "not-read-write", "pool fd is not open read-write");
  }
  if (HasSeal(info, "write") || HasSeal(info, "future-write")) {
    return Reject(WL_SHM_ERROR_INVALID_FD, "write-sealed", "pool fd is sealed against writing");
  }
  if (require_sealed && info.kind != "ashmem" && !HasSeal(info, "shrink")) {
    return Reject(WL_SHM_ERROR_INVALID_FD, "unsealed",
                  "pool fd lacks F_SEAL_SHRINK (the guest could shrink it under the host)");
  }
  if (info.size < static_cast<uint64_t>(size)) {
    return Reject(WL_SHM_ERROR_INVALID_FD, "too-small",
                  "pool fd holds " + std::to_string(info.size) + " bytes, fewer than the " +
                      std::to_string(size) + " announced");
  }
  return {};
}

Verdict ShmPolicy::PreparePoolFd(int fd, int64_t size, bool require_sealed,
                                 std::unique_ptr<ShmCopy>* copy) {
  copy->reset();
  if (require_sealed && size > 0) {
    // Fails harmlessly (EPERM: F_SEAL_SEAL; EINVAL: not shmem; EPERM: not writable) on anything
    // else; CheckPoolFd then says what the fd is.
    const int seals = ::fcntl(fd, F_GET_SEALS);
    if (seals >= 0 && (seals & DROIDWAY_F_SEAL_SHRINK) == 0) {
      (void)::fcntl(fd, F_ADD_SEALS, DROIDWAY_F_SEAL_SHRINK | DROIDWAY_F_SEAL_GROW);
    }
  }
  Verdict verdict = CheckPoolFd(fd, size, require_sealed);
  if (verdict.ok || verdict.reason != "unsealed") return verdict;
  if (size > ShmCopy::kMaxBytes) {
    verdict.message = "pool fd lacks F_SEAL_SHRINK and cannot be sealed, and " +
                      std::to_string(size) + " bytes is above the " +
                      std::to_string(ShmCopy::kMaxBytes) + " the bridge copies";
    return verdict;
  }
  const NativeStatus status = ShmCopy::Create(fd, size, copy);
  if (!status.ok()) {
    return Reject(WL_SHM_ERROR_INVALID_FD, "copy-failed",
                  "copying an unsealable pool failed: " + status.message());
  }
  return {};
}

Verdict ShmPolicy::CheckBuffer(int64_t pool_size, int32_t offset, int32_t width, int32_t height,
                               int32_t stride, uint32_t format,
                               const std::vector<uint32_t>& host_formats) {
  if (std::find(host_formats.begin(), host_formats.end(), format) == host_formats.end()) {
    return Reject(WL_SHM_ERROR_INVALID_FORMAT, "bad-format",
                  "format " + std::to_string(format) + " is not offered by the host");
  }
  const uint32_t bpp = BytesPerPixel(format);
  if (bpp == 0) {
    return Reject(WL_SHM_ERROR_INVALID_FORMAT, "bad-format",
                  "format " + std::to_string(format) + " has no known pixel size");
  }
  if (offset < 0 || width <= 0 || height <= 0) {
    return Reject(WL_SHM_ERROR_INVALID_STRIDE, "bad-geometry",
                  "offset " + std::to_string(offset) + ", width " + std::to_string(width) +
                      ", height " + std::to_string(height) + " are out of range");
  }
  // Every operand is at most 2^31, so each product stays far below 2^63.
  const int64_t min_stride = int64_t{width} * bpp;
  if (int64_t{stride} < min_stride) {
    return Reject(WL_SHM_ERROR_INVALID_STRIDE, "bad-stride",
                  "stride " + std::to_string(stride) + " is below width × " + std::to_string(bpp) +
                      " = " + std::to_string(min_stride));
  }
  const int64_t end = int64_t{offset} + int64_t{stride} * int64_t{height};
  if (end > pool_size) {
    return Reject(WL_SHM_ERROR_INVALID_STRIDE, "out-of-pool",
                  "buffer ends at byte " + std::to_string(end) + ", past the pool's " +
                      std::to_string(pool_size));
  }
  return {};
}

}  // namespace bridge
}  // namespace droidway
