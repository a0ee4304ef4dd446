// The wl_surface and xdg decisions of the bridge, free of libwayland and Node-API so they have
// plain C++ tests: the per-commit damage cap, the per-region rectangle cap, and when a toplevel
// counts as mapped (the `toplevel-mapped` event).
#ifndef DROIDWAY_NATIVE_BRIDGE_SURFACE_POLICY_H_
#define DROIDWAY_NATIVE_BRIDGE_SURFACE_POLICY_H_

#include <cstdint>

#include "verdict.h"

namespace droidway {
namespace bridge {

/** What happens to one damage request of a surface. */
enum class DamageAction {
  /** Forwarded as it is. */
  kForward,
  /** The cap's own request: forwarded widened to the whole surface, standing for the rest. */
  kWholeSurface,
  /** Past the cap: not forwarded (counted as dropped). */
  kDrop,
};

/** What the bridge does once a commit of a surface with a toplevel role reached the host. */
enum class MapStep {
  /** Nothing changes. */
  kNone,
  /** The surface has no buffer: a pending host sync is cancelled, a mapped toplevel unmapped. */
  kUnmap,
  /** Ask the host (a wl_display.sync) whether it accepted the toplevel. */
  kAskHost,
};

/** Stateless surface checks. */
class SurfacePolicy {
 public:
  /**
   * One damage (or damage_buffer) request, `*count` of them since the last commit, at most
   * `cap` (≥ 1) forwarded per commit: the cap-th is widened to the whole surface, later ones
   * dropped (damage is a hint, so this costs only repaint area). Advances `*count` unless
   * dropped.
   */
  static DamageAction Damage(uint32_t* count, uint32_t cap);

  /**
   * One wl_region add or subtract, `*count` of them so far on that region (advanced): refused
   * past `cap` with reason 'limit-region-rects' (an implementation error that ends the client).
   */
  static Verdict RegionRect(uint32_t* count, uint32_t cap);

  /**
   * After a commit of a surface with a toplevel: `has_buffer` (the surface has a buffer now),
   * `mapped` (the toplevel was reported mapped), `sync_pending` (a host sync is under way),
   * `acked` (its xdg_surface acknowledged a configure), `host` (the client still has a host
   * connection). The toplevel is mapped once the host answers a sync sent after a commit with a
   * buffer that followed an acknowledged configure.
   */
  static MapStep AfterCommit(bool has_buffer, bool mapped, bool sync_pending, bool acked,
                             bool host);

  /** Whether the host's answer to the map sync maps the toplevel now. */
  static bool MapOnSyncDone(bool surface_alive, bool has_buffer, bool mapped) {
    return surface_alive && has_buffer && !mapped;
  }
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_SURFACE_POLICY_H_
