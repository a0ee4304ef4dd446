// Checks of a guest's zwp_linux_buffer_params_v1 before anything reaches the host compositor:
// plane indices, offsets and strides against each fd's real size (64-bit arithmetic), modifier
// consistency, and the format/modifier pair against the host's table. The bridge never maps or
// imports the buffer; the host gets the same fds once these checks pass.
#ifndef DROIDWAY_NATIVE_BRIDGE_DMABUF_POLICY_H_
#define DROIDWAY_NATIVE_BRIDGE_DMABUF_POLICY_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "verdict.h"

namespace droidway {
namespace bridge {

/** One plane as the guest added it (the fd is borrowed). */
struct DmabufPlane {
  int fd = -1;
  uint32_t index = 0;
  uint32_t offset = 0;
  uint32_t stride = 0;
  uint64_t modifier = 0;
};

/** The (format, modifier) pairs the host announced; DRM_FORMAT_MOD_INVALID means implicit. */
using DmabufFormatTable = std::vector<std::pair<uint32_t, uint64_t>>;

/** Stateless linux-dmabuf checks. */
class DmabufPolicy {
 public:
  /** At most this many planes (the protocol's and DRM's limit). */
  static constexpr uint32_t kMaxPlanes = 4;

  /**
   * Checks one `add` against the planes added before: index < 4 and not used yet, the same
   * modifier as every earlier plane, an fd whose size lseek(SEEK_END) can tell.
   * Reasons: 'dmabuf-plane-index', 'dmabuf-plane-set', 'dmabuf-modifier-mismatch',
   * 'dmabuf-fd-size'.
   */
  static Verdict CheckAdd(const std::vector<DmabufPlane>& planes, const DmabufPlane& plane);

  /**
   * Checks `create` of a `width`×`height` buffer of DRM `format` from `planes`: 1..4 planes with
   * indices 0..n-1, positive dimensions, a (format, modifier) pair in `host_formats`, and for
   * each plane offset + stride × rows ≤ the fd's size (rows: the height, halved for the chroma
   * planes of the 4:2:0 formats), with nothing overflowing.
   * Reasons: 'dmabuf-incomplete', 'dmabuf-dimensions', 'dmabuf-format', 'dmabuf-fd-size',
   * 'dmabuf-out-of-bounds'.
   */
  static Verdict CheckCreate(const std::vector<DmabufPlane>& planes, int32_t width, int32_t height,
                             uint32_t format, const DmabufFormatTable& host_formats);

  /** Size of the object behind `fd` by lseek(SEEK_END) (dma-buf supports it), or -errno. */
  static int64_t FdSize(int fd);
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_DMABUF_POLICY_H_
