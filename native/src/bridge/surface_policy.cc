#include "surface_policy.h"

#include <string>

namespace droidway {
namespace bridge {

DamageAction SurfacePolicy::Damage(uint32_t* count, uint32_t cap) {
  if (*count >= cap) return DamageAction::kDrop;
  return ++*count == cap ? DamageAction::kWholeSurface : DamageAction::kForward;
}

Verdict SurfacePolicy::RegionRect(uint32_t* count, uint32_t cap) {
  if (++*count <= cap) return Verdict::Ok();
  // WL_DISPLAY_ERROR_IMPLEMENTATION (3): the caller ends the client with it.
  return Verdict::Refuse(3, "limit-region-rects",
                         "limit-region-rects: at most " + std::to_string(cap));
}

MapStep SurfacePolicy::AfterCommit(bool has_buffer, bool mapped, bool sync_pending, bool acked,
                                   bool host) {
  if (!has_buffer) return MapStep::kUnmap;
  if (mapped || sync_pending || !acked || !host) return MapStep::kNone;
  return MapStep::kAskHost;
}

}  // namespace bridge
}  // namespace droidway
