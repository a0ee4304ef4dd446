// This file alone sees the deprecated public struct wl_resource (no WL_HIDE_DEPRECATED): its
// prefix { wl_object { interface, implementation, id }, … } is part of libwayland-server's ABI
// since 1.0, kept for compositors compiled against it, and libwayland has no setter for the
// implementation of a resource it created itself.
#include <wayland-server-protocol.h>
#include <wayland-server.h>

#include "guest_display_hook.h"

namespace droidway {
namespace bridge {

bool GuestDisplayHook::Install(wl_client* client, SyncHandler on_sync,
                               RegistryHandler on_get_registry) {
  static_assert(sizeof(Implementation) == sizeof(struct wl_display_interface),
                "wl_display has two requests: sync, get_registry");
  wl_resource* display = wl_client_get_object(client, 1);
  if (display == nullptr || display_ != nullptr) return false;
  // The display resource libwayland made for this client: id 1, wl_display, no custom
  // dispatcher (so requests go through the implementation table).
  if (wl_resource_get_id(display) != 1 || display->object.id != 1 ||
      !wl_resource_instance_of(display, &wl_display_interface, display->object.implementation) ||
      display->client != client || display->object.implementation == nullptr) {
    return false;
  }
  const auto* original =
      static_cast<const struct wl_display_interface*>(display->object.implementation);
  if (original->sync == nullptr || original->get_registry == nullptr) return false;
  implementation_.sync = on_sync;
  implementation_.get_registry = on_get_registry;
  original_get_registry_ = original->get_registry;
  original_ = display->object.implementation;
  display->object.implementation = &implementation_;
  display_ = display;
  return true;
}

void GuestDisplayHook::GetRegistry(wl_client* client, wl_resource* display,
                                   uint32_t registry_id) const {
  if (original_get_registry_ != nullptr) original_get_registry_(client, display, registry_id);
}

void GuestDisplayHook::Restore() {
  if (display_ == nullptr) return;
  display_->object.implementation = original_;
  display_ = nullptr;
}

}  // namespace bridge
}  // namespace droidway
