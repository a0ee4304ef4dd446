// Takes over wl_display.sync of one guest client. libwayland-server answers a sync at once, but a
// guest that syncs expects every event caused by its earlier requests first, and those come from
// the host compositor. The hook routes the sync to a handler that answers it later, when the
// host has answered the same sync, so the bridge thread never waits for the host. get_registry
// goes through a handler too, so the registries a guest makes count against its object cap.
#ifndef DROIDWAY_NATIVE_BRIDGE_GUEST_DISPLAY_HOOK_H_
#define DROIDWAY_NATIVE_BRIDGE_GUEST_DISPLAY_HOOK_H_

#include <cstdint>

struct wl_client;
struct wl_resource;

namespace droidway {
namespace bridge {

/** The replaced wl_display implementation of one guest client. */
class GuestDisplayHook {
 public:
  using SyncHandler = void (*)(wl_client* client, wl_resource* display, uint32_t callback_id);
  using RegistryHandler = void (*)(wl_client* client, wl_resource* display, uint32_t registry_id);

  /**
   * Points the client's wl_display resource at a copy of libwayland's implementation whose sync
   * is `on_sync` and whose get_registry is `on_get_registry` (which calls GetRegistry to let
   * libwayland make the registry). Returns false (nothing changed) when the resource does not
   * look as expected. Restore() must run before this object goes away.
   */
  bool Install(wl_client* client, SyncHandler on_sync, RegistryHandler on_get_registry);
  /** libwayland's own get_registry: creates the registry resource and announces the globals. */
  void GetRegistry(wl_client* client, wl_resource* display, uint32_t registry_id) const;
  /** Puts libwayland's own implementation back; idempotent. */
  void Restore();
  bool installed() const { return display_ != nullptr; }

 private:
  // Laid out as wl_display_interface (sync, get_registry), which is what libwayland calls.
  struct Implementation {
    SyncHandler sync;
    void (*get_registry)(wl_client* client, wl_resource* display, uint32_t registry_id);
  };

  wl_resource* display_ = nullptr;
  const void* original_ = nullptr;
  RegistryHandler original_get_registry_ = nullptr;
  Implementation implementation_{};
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_GUEST_DISPLAY_HOOK_H_
