// A bridge-owned copy of a small shm pool whose guest memfd cannot be sealed (created without
// MFD_ALLOW_SEALING, as Android's hwcomposer makes each window's 1×1 background). The host
// compositor maps the copy, which the bridge sealed against shrinking, so the guest can never
// truncate memory the host reads; the guest's pixels are copied in with pread() (never mapped,
// so a guest that shrinks its file makes the bridge read zeros, not fault).
#ifndef DROIDWAY_NATIVE_BRIDGE_SHM_COPY_H_
#define DROIDWAY_NATIVE_BRIDGE_SHM_COPY_H_

#include <cstdint>
#include <memory>

#include "../native_error.h"
#include "../unique_fd.h"

namespace droidway {
namespace bridge {

/** The guest's pool fd and the sealed memfd the host gets instead. */
class ShmCopy {
 public:
  /** Pools up to this size are copied; larger unsealable pools are refused. */
  static constexpr int64_t kMaxBytes = 64 * 1024;

  /**
   * Makes a sealed (F_SEAL_SHRINK) memfd of `size` bytes (1..kMaxBytes) holding what the guest's
   * `guest_fd` holds now; keeps a duplicate of `guest_fd` for later refreshes.
   */
  static NativeStatus Create(int guest_fd, int64_t size, std::unique_ptr<ShmCopy>* out);

  /** The fd to give the host (owned by this object). */
  int fd() const { return copy_.get(); }
  int64_t size() const { return size_; }
  /**
   * Copies the guest's current bytes again (before a commit that shows a buffer of the pool).
   * Returns the number of bytes copied, or a negative errno.
   */
  int64_t Refresh();
  /** Grows the copy to `size` (at most kMaxBytes) for wl_shm_pool.resize, then refreshes. */
  NativeStatus Grow(int64_t size, int64_t* copied);

 private:
  ShmCopy(UniqueFd guest, UniqueFd copy, int64_t size)
      : guest_(std::move(guest)), copy_(std::move(copy)), size_(size) {}

  UniqueFd guest_;
  UniqueFd copy_;
  int64_t size_;
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_SHM_COPY_H_
