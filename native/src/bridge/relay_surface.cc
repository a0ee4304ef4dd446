// The wl_compositor relay unit: wl_surface (attach, damage, commit: the per-commit damage cap,
// the refresh of a copied shm pool before the commit that shows it, the commit counters, and the
// map decision of its toplevel, relay_xdg.cc) and wl_region (the rectangle cap). The decisions
// themselves are SurfacePolicy's (surface_policy.h).
#include <climits>

#include "bridge.h"
#include "bridge_client.h"
#include "relay_unit.h"
#include "relay_xdg.h"
#include "surface_policy.h"
#include "wayland_headers.h"

namespace droidway {
namespace bridge {
namespace {

void OnCommit(RelayObject* self) {
  BridgeClient* owner = self->owner();
  const bool forwarded = self->attach_pending_ && self->pending_has_buffer_;
  if (self->attach_pending_) {
    self->has_buffer_ = self->pending_has_buffer_;
    self->attach_pending_ = false;
    if (self->copy_ != nullptr) {
      // The guest drew into its own memfd: the host must see those bytes in the copy.
      const int64_t copied = self->copy_->Refresh();
      if (copied > 0) owner->CountCopied(static_cast<uint64_t>(copied));
      self->copy_.reset();
    }
  }
  self->damage_rects_ = 0;
  owner->CountCommit(forwarded);
}

bool SurfaceCheck(RelayObject* self, uint32_t opcode, wl_argument* args,
                  std::string* /*replaced*/) {
  BridgeClient* owner = self->owner();
  if (opcode == WL_SURFACE_ATTACH) {
    self->attach_pending_ = true;
    self->pending_has_buffer_ = args[0].o != nullptr;
    if (owner->has_copies()) {
      RelayObject* buffer = RelayObject::FromResource(reinterpret_cast<wl_resource*>(args[0].o));
      self->copy_ = buffer != nullptr ? buffer->copy_ : nullptr;
    }
  } else if (opcode == WL_SURFACE_COMMIT) {
    OnCommit(self);
  } else if (opcode == WL_SURFACE_DAMAGE || opcode == WL_SURFACE_DAMAGE_BUFFER) {
    // Each rectangle costs the host on every repaint: past the cap, one damage of the whole
    // surface stands for the rest (what the guest asked for, and bounded).
    switch (SurfacePolicy::Damage(&self->damage_rects_,
                                  owner->bridge()->config().limits.max_damage_rects)) {
      case DamageAction::kDrop:
        owner->CountDamageDropped();
        return false;
      case DamageAction::kWholeSurface:
        args[0].i = 0;
        args[1].i = 0;
        args[2].i = INT32_MAX;
        args[3].i = INT32_MAX;
        break;
      case DamageAction::kForward:
        break;
    }
  }
  return true;
}

void SurfaceAfter(RelayObject* self, uint32_t opcode, wl_argument* /*args*/,
                  RelayObject* const* /*objects*/, RelayObject* /*created*/) {
  if (opcode == WL_SURFACE_COMMIT) XdgSurfaceCommitted(self);
}

void SurfaceDestroyed(RelayObject* self) {
  XdgSurfaceGone(self);
}

bool RegionCheck(RelayObject* self, uint32_t opcode, wl_argument* /*args*/,
                 std::string* /*replaced*/) {
  if (opcode != WL_REGION_ADD && opcode != WL_REGION_SUBTRACT) return true;
  BridgeClient* owner = self->owner();
  const Verdict verdict = SurfacePolicy::RegionRect(
      &self->region_rects_, owner->bridge()->config().limits.max_region_rects);
  if (verdict.ok) return true;
  owner->Kill("violation:" + verdict.reason, verdict.message);
  owner->RecordViolation(verdict.reason, verdict.message, false);
  return false;
}

const RelayInterface kInterfaces[] = {
    {"wl_surface",
     RelayKind::kSurface,
     {SurfaceCheck, SurfaceAfter, nullptr, SurfaceDestroyed, nullptr}},
    {"wl_region", RelayKind::kRegion, {RegionCheck, nullptr, nullptr, nullptr, nullptr}},
};

}  // namespace

const RelayUnit kSurfaceUnit = {"surface", kInterfaces, sizeof kInterfaces / sizeof kInterfaces[0]};

}  // namespace bridge
}  // namespace droidway
