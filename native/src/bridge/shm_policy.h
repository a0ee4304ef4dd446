// Checks of a guest's wl_shm requests before anything reaches the host compositor: the pool fd
// (what it is, its seals, its real size) and every buffer's geometry, in 64-bit arithmetic. The
// bridge never maps the pool; the host gets the same fd once these checks pass.
#ifndef DROIDWAY_NATIVE_BRIDGE_SHM_POLICY_H_
#define DROIDWAY_NATIVE_BRIDGE_SHM_POLICY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "shm_copy.h"
#include "verdict.h"

namespace droidway {
namespace bridge {

/** Stateless wl_shm checks. */
class ShmPolicy {
 public:
  /**
   * Checks a pool fd for a pool of `size` bytes. Accepted: the /dev/ashmem device (sized by
   * ASHMEM_GET_SIZE), or a regular file on tmpfs/hugetlbfs opened read-write (memfd, shm_open)
   * without write seals; with `require_sealed`, it must also carry F_SEAL_SHRINK so the guest
   * cannot shrink it under the host's mapping. Its real size must cover `size`.
   * Reasons: 'bad-size', 'inspect-failed', 'not-shm-file', 'not-tmpfs', 'not-read-write',
   * 'write-sealed', 'unsealed', 'too-small'.
   */
  static Verdict CheckPoolFd(int fd, int64_t size, bool require_sealed);

  /**
   * wl_shm.create_pool's policy: CheckPoolFd, but with `require_sealed` a memfd the guest left
   * unsealed is first sealed by the bridge (F_SEAL_SHRINK | F_SEAL_GROW on the received fd:
   * the same file), and one that cannot be sealed (created without MFD_ALLOW_SEALING, or a
   * shm_open file) is copied into a bridge-owned sealed memfd (`*copy`, which the host gets
   * instead) when it is at most ShmCopy::kMaxBytes, refused ('unsealed') otherwise. The size
   * is checked after sealing, so the guest cannot shrink the file between check and use.
   */
  static Verdict PreparePoolFd(int fd, int64_t size, bool require_sealed,
                               std::unique_ptr<ShmCopy>* copy);

  /**
   * Checks create_buffer arguments against a pool of `pool_size` bytes and the host's formats:
   * offset >= 0, width and height > 0, a format the host lists and whose pixel size is known,
   * stride >= width × bytes per pixel, offset + stride × height <= pool_size.
   * Reasons: 'bad-format', 'bad-geometry', 'bad-stride', 'out-of-pool'.
   */
  static Verdict CheckBuffer(int64_t pool_size, int32_t offset, int32_t width, int32_t height,
                             int32_t stride, uint32_t format,
                             const std::vector<uint32_t>& host_formats);

  /** Bytes per pixel of a single-plane wl_shm format, or 0 when unknown (or multi-planar). */
  static uint32_t BytesPerPixel(uint32_t format);
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_SHM_POLICY_H_
