#include "dmabuf_policy.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace droidway {
namespace bridge {
namespace {

// zwp_linux_buffer_params_v1 error codes (linux-dmabuf-unstable-v1.xml).
constexpr uint32_t kErrorPlaneIdx = 1;
constexpr uint32_t kErrorPlaneSet = 2;
constexpr uint32_t kErrorIncomplete = 3;
constexpr uint32_t kErrorInvalidFormat = 4;
constexpr uint32_t kErrorInvalidDimensions = 5;
constexpr uint32_t kErrorOutOfBounds = 6;

constexpr uint32_t FourCc(char a, char b, char c, char d) {
  return static_cast<uint32_t>(a) | static_cast<uint32_t>(b) << 8 | static_cast<uint32_t>(c) << 16 |
         static_cast<uint32_t>(d) << 24;
}

// Multi-planar formats whose planes after the first have half the rows (4:2:0 subsampling).
bool HalvesChromaRows(uint32_t format) {
  switch (format) {
    case FourCc('N', 'V', '1', '2'):
    case FourCc('N', 'V', '2', '1'):
    case FourCc('Y', 'U', '1', '2'):
    case FourCc('Y', 'V', '1', '2'):
    case FourCc('P', '0', '1', '0'):
    case FourCc('P', '0', '1', '2'):
    case FourCc('P', '0', '1', '6'):
      return true;
    default:
      return false;
  }
}

Verdict Refuse(uint32_t error, const char* reason, std::string message) {
  return Verdict::Refuse(error, reason, std::move(message));
}

std::string Hex(uint64_t value) {
  char text[19];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace

int64_t DmabufPolicy::FdSize(int fd) {
  // lseek moves the file position, which the guest shares through the duplicate it sent; the
  // position of a dma-buf or memfd carries no meaning for the compositor, which maps by offset.
  const off_t end = ::lseek(fd, 0, SEEK_END);
  if (end < 0) return -errno;
  (void)::lseek(fd, 0, SEEK_SET);
  return static_cast<int64_t>(end);
}

Verdict DmabufPolicy::CheckAdd(const std::vector<DmabufPlane>& planes, const DmabufPlane& plane) {
  if (plane.index >= kMaxPlanes) {
    return Refuse(kErrorPlaneIdx, "dmabuf-plane-index",
                  "plane index " + std::to_string(plane.index) + " is not below " +
                      std::to_string(kMaxPlanes));
  }
  for (const DmabufPlane& earlier : planes) {
    if (earlier.index == plane.index) {
      return Refuse(kErrorPlaneSet, "dmabuf-plane-set",
                    "plane " + std::to_string(plane.index) + " was already added");
    }
    if (earlier.modifier != plane.modifier) {
      return Refuse(kErrorInvalidFormat, "dmabuf-modifier-mismatch",
                    "plane " + std::to_string(plane.index) + " has modifier " +
                        Hex(plane.modifier) + ", plane " + std::to_string(earlier.index) + " has " +
                        Hex(earlier.modifier));
    }
  }
  const int64_t size = FdSize(plane.fd);
  if (size < 0) {
    return Refuse(kErrorOutOfBounds, "dmabuf-fd-size",
                  "the size of plane " + std::to_string(plane.index) +
                      "'s fd is unknown: " + std::strerror(static_cast<int>(-size)));
  }
  return {};
}

Verdict DmabufPolicy::CheckCreate(const std::vector<DmabufPlane>& planes, int32_t width,
                                  int32_t height, uint32_t format,
                                  const DmabufFormatTable& host_formats) {
  if (planes.empty() || planes.size() > kMaxPlanes) {
    return Refuse(kErrorIncomplete, "dmabuf-incomplete",
                  std::to_string(planes.size()) + " planes (1 to 4 needed)");
  }
  // Indices unique (CheckAdd) and below n, hence exactly 0..n-1.
  for (const DmabufPlane& plane : planes) {
    if (plane.index >= planes.size()) {
      return Refuse(kErrorIncomplete, "dmabuf-incomplete",
                    "plane " + std::to_string(plane.index) + " is set but not plane " +
                        std::to_string(planes.size() - 1) + " or a lower one");
    }
  }
  if (width <= 0 || height <= 0) {
    return Refuse(
        kErrorInvalidDimensions, "dmabuf-dimensions",
        "dimensions " + std::to_string(width) + "x" + std::to_string(height) + " are not positive");
  }
  const uint64_t modifier = planes.front().modifier;
  if (std::find(host_formats.begin(), host_formats.end(), std::make_pair(format, modifier)) ==
      host_formats.end()) {
    return Refuse(kErrorInvalidFormat, "dmabuf-format",
                  "format " + Hex(format) + " with modifier " + Hex(modifier) +
                      " is not one the host compositor imports");
  }
  for (const DmabufPlane& plane : planes) {
    const int64_t size = FdSize(plane.fd);
    if (size < 0) {
      return Refuse(kErrorOutOfBounds, "dmabuf-fd-size",
                    "the size of plane " + std::to_string(plane.index) +
                        "'s fd is unknown: " + std::strerror(static_cast<int>(-size)));
    }
    const uint64_t rows = plane.index > 0 && HalvesChromaRows(format)
                              ? (static_cast<uint64_t>(height) + 1) / 2
                              : static_cast<uint64_t>(height);
    // stride × rows < 2^32 × 2^31 and offset < 2^32: the sum fits in 64 bits.
    const uint64_t end = uint64_t{plane.offset} + uint64_t{plane.stride} * rows;
    if (plane.stride == 0 || end > static_cast<uint64_t>(size)) {
      return Refuse(kErrorOutOfBounds, "dmabuf-out-of-bounds",
                    "plane " + std::to_string(plane.index) + ": offset " +
                        std::to_string(plane.offset) + " + stride " + std::to_string(plane.stride) +
                        " x " + std::to_string(rows) + " rows = " + std::to_string(end) +
                        " exceeds its fd's " + std::to_string(size) + " bytes");
    }
  }
  return {};
}

}  // namespace bridge
}  // namespace droidway
