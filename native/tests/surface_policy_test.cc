// SurfacePolicy: the per-commit damage cap, the per-region rectangle cap and the map decision of
// a toplevel, at and around their edges; and the relay-unit registry (every interface a unit
// names is claimed by exactly one unit, and each unit's global is in the supported table).
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "../src/bridge/bridge.h"
#include "../src/bridge/relay_unit.h"
#include "../src/bridge/surface_policy.h"
#include "check.h"

using droidway::bridge::Bridge;
using droidway::bridge::DamageAction;
using droidway::bridge::FindRelayInterface;
using droidway::bridge::MapStep;
using droidway::bridge::RegisteredRelayUnits;
using droidway::bridge::RelayInterface;
using droidway::bridge::RelayKind;
using droidway::bridge::RelayUnit;
using droidway::bridge::SurfacePolicy;
using droidway::bridge::Verdict;

TEST(SurfaceDamageForwardsUpToTheCapWidensTheCapthAndDropsTheRest) {
  uint32_t count = 0;
  for (uint32_t i = 1; i < 4; ++i) {
    CHECK_EQ(SurfacePolicy::Damage(&count, 4), DamageAction::kForward);
    CHECK_EQ(count, i);
  }
  CHECK_EQ(SurfacePolicy::Damage(&count, 4), DamageAction::kWholeSurface);
  CHECK_EQ(count, 4u);
  for (int i = 0; i < 3; ++i) {
    CHECK_EQ(SurfacePolicy::Damage(&count, 4), DamageAction::kDrop);
    CHECK_EQ(count, 4u);  // a dropped request does not count
  }
  // A commit resets the count (the relay sets it to 0): the next damage is forwarded again.
  count = 0;
  CHECK_EQ(SurfacePolicy::Damage(&count, 4), DamageAction::kForward);
}

TEST(SurfaceDamageCapOfOneWidensTheFirst) {
  uint32_t count = 0;
  CHECK_EQ(SurfacePolicy::Damage(&count, 1), DamageAction::kWholeSurface);
  CHECK_EQ(SurfacePolicy::Damage(&count, 1), DamageAction::kDrop);
}

TEST(SurfaceDamageCountAtItsLimitNeverWraps) {
  uint32_t count = UINT32_MAX;
  CHECK_EQ(SurfacePolicy::Damage(&count, UINT32_MAX), DamageAction::kDrop);
  CHECK_EQ(count, UINT32_MAX);
  count = UINT32_MAX - 1;
  CHECK_EQ(SurfacePolicy::Damage(&count, UINT32_MAX), DamageAction::kWholeSurface);
}

TEST(SurfaceRegionRectsAllowsTheCapAndRefusesTheNext) {
  uint32_t count = 0;
  for (int i = 0; i < 3; ++i) {
    const Verdict verdict = SurfacePolicy::RegionRect(&count, 3);
    CHECK_EQ(verdict.reason, std::string());
    CHECK(verdict.ok);
  }
  const Verdict verdict = SurfacePolicy::RegionRect(&count, 3);
  CHECK(!verdict.ok);
  CHECK_EQ(verdict.reason, std::string("limit-region-rects"));
  CHECK_EQ(verdict.message, std::string("limit-region-rects: at most 3"));
  CHECK_EQ(verdict.error, 3u);  // WL_DISPLAY_ERROR_IMPLEMENTATION
}

TEST(SurfaceRegionRectsCapZeroRefusesTheFirst) {
  uint32_t count = 0;
  CHECK(!SurfacePolicy::RegionRect(&count, 0).ok);
}

TEST(SurfaceMapAsksTheHostOnlyAfterAnAckedConfigureAndABuffer) {
  // has_buffer, mapped, sync_pending, acked, host
  CHECK_EQ(SurfacePolicy::AfterCommit(true, false, false, true, true), MapStep::kAskHost);
  CHECK_EQ(SurfacePolicy::AfterCommit(true, false, false, false, true), MapStep::kNone);
  CHECK_EQ(SurfacePolicy::AfterCommit(true, true, false, true, true), MapStep::kNone);
  CHECK_EQ(SurfacePolicy::AfterCommit(true, false, true, true, true), MapStep::kNone);
  CHECK_EQ(SurfacePolicy::AfterCommit(true, false, false, true, false), MapStep::kNone);
}

TEST(SurfaceMapCommitWithoutABufferUnmapsWhateverElseHolds) {
  for (int bits = 0; bits < 16; ++bits) {
    CHECK_EQ(SurfacePolicy::AfterCommit(false, (bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0,
                                        (bits & 8) != 0),
             MapStep::kUnmap);
  }
}

TEST(SurfaceMapOnSyncDoneNeedsALiveSurfaceWithABufferNotMappedYet) {
  CHECK(SurfacePolicy::MapOnSyncDone(true, true, false));
  CHECK(!SurfacePolicy::MapOnSyncDone(false, true, false));
  CHECK(!SurfacePolicy::MapOnSyncDone(true, false, false));
  CHECK(!SurfacePolicy::MapOnSyncDone(true, true, true));
}

TEST(RelayUnitsClaimEachInterfaceOnce) {
  size_t count = 0;
  const RelayUnit* const* units = RegisteredRelayUnits(&count);
  CHECK_EQ(count, size_t{7});
  std::set<std::string> names;
  std::set<std::string> unit_names;
  for (size_t u = 0; u < count; ++u) {
    CHECK(unit_names.insert(units[u]->name).second);
    CHECK(units[u]->count > 0);
    for (size_t i = 0; i < units[u]->count; ++i) {
      const RelayInterface& entry = units[u]->interfaces[i];
      CHECK(names.insert(entry.name).second);
      CHECK(FindRelayInterface(entry.name) == &entry);
    }
  }
  CHECK(unit_names == (std::set<std::string>{"data-device", "dmabuf", "seat", "shm", "surface",
                                             "tablet", "xdg"}));
}

TEST(RelayUnitsKindsOfTheLimitedInterfaces) {
  // The client's limits count pools, buffers and surfaces by these kinds.
  CHECK_EQ(FindRelayInterface("wl_shm_pool")->kind, RelayKind::kShmPool);
  CHECK_EQ(FindRelayInterface("wl_buffer")->kind, RelayKind::kShmBuffer);
  CHECK_EQ(FindRelayInterface("wl_surface")->kind, RelayKind::kSurface);
  // Interfaces of allowed globals no unit names take the generic relay alone.
  for (const char* generic : {"wl_pointer", "wl_touch", "wl_output", "wl_subsurface", "wp_viewport",
                              "xdg_popup", "xdg_positioner", "wl_callback", ""}) {
    CHECK(FindRelayInterface(generic) == nullptr);
  }
  const std::vector<std::string>& supported = Bridge::SupportedGlobals();
  for (const char* global : {"wl_compositor", "wl_shm", "wl_seat", "xdg_wm_base",
                             "zwp_linux_dmabuf_v1", "zwp_tablet_manager_v2"}) {
    CHECK(std::find(supported.begin(), supported.end(), global) != supported.end());
  }
}
