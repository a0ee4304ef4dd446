// The xdg-shell relay unit: roles (an xdg_surface and its xdg_toplevel point at their
// wl_surface), the acknowledged configure, the sanitized title and app_id (every host toplevel
// gets droidway's placeholder app_id at creation), and `toplevel-mapped`/`-unmapped`: mapped once
// the host answered a sync sent after a commit with a buffer that followed an acknowledged
// configure (SurfacePolicy::AfterCommit; a refused toplevel ends the connection before the
// answer). Popups and positioners go through the generic relay.
#include "relay_xdg.h"

#include <algorithm>

#include "bridge_client.h"
#include "host_connection.h"
#include "relay_unit.h"
#include "surface_policy.h"
#include "text_sanitize.h"
#include "wayland_headers.h"

namespace droidway {
namespace bridge {
namespace {

void LinkRole(RelayObject* role, RelayObject* surface) {
  if (surface->kind() != RelayKind::kSurface) return;
  role->surface_ = surface;
  surface->roles_.push_back(role);
}

RelayObject* RoleOf(const RelayObject* surface, RelayKind kind) {
  for (RelayObject* role : surface->roles_) {
    if (role->kind() == kind) return role;
  }
  return nullptr;
}

void CancelMapSync(RelayObject* toplevel) {
  if (toplevel->map_sync_ != nullptr) wl_callback_destroy(toplevel->map_sync_);
  toplevel->map_sync_ = nullptr;
}

void SetMapped(RelayObject* toplevel, bool mapped) {
  toplevel->mapped_ = mapped;
  if (toplevel->owner() != nullptr)
    toplevel->owner()->EmitToplevel(mapped, toplevel->app_id_, toplevel->title_);
}

void MapSyncDone(void* data, wl_callback* callback, uint32_t /*serial*/) {
  auto* toplevel = static_cast<RelayObject*>(data);
  wl_callback_destroy(callback);
  toplevel->map_sync_ = nullptr;
  const RelayObject* surface = toplevel->surface_;
  if (SurfacePolicy::MapOnSyncDone(surface != nullptr, surface != nullptr && surface->has_buffer_,
                                   toplevel->mapped_)) {
    SetMapped(toplevel, true);
  }
}

// xdg_surface, xdg_toplevel: the role object is going away.
void UnlinkRole(RelayObject* role) {
  CancelMapSync(role);
  if (role->kind() == RelayKind::kXdgToplevel && role->mapped_) SetMapped(role, false);
  if (role->surface_ == nullptr) return;
  auto& roles = role->surface_->roles_;
  roles.erase(std::remove(roles.begin(), roles.end(), role), roles.end());
  role->surface_ = nullptr;
}

void WmBaseAfter(RelayObject* /*self*/, uint32_t /*opcode*/, wl_argument* /*args*/,
                 RelayObject* const* objects, RelayObject* created) {
  // get_xdg_surface(id, surface)
  if (created != nullptr && created->kind() == RelayKind::kXdgSurface && objects[1] != nullptr)
    LinkRole(created, objects[1]);
}

bool XdgSurfaceCheck(RelayObject* self, uint32_t opcode, wl_argument* /*args*/,
                     std::string* /*replaced*/) {
  if (opcode == XDG_SURFACE_ACK_CONFIGURE) self->acked_ = true;
  return true;
}

void XdgSurfaceAfter(RelayObject* self, uint32_t /*opcode*/, wl_argument* /*args*/,
                     RelayObject* const* /*objects*/, RelayObject* created) {
  if (created == nullptr || created->kind() != RelayKind::kXdgToplevel) return;
  if (self->surface_ != nullptr) LinkRole(created, self->surface_);
  // Every host toplevel carries a droidway app_id, even before (or without) the guest's own.
  created->app_id_ = TextSanitize::AppId("");
  xdg_toplevel_set_app_id(reinterpret_cast<xdg_toplevel*>(created->proxy()),
                          created->app_id_.c_str());
}

bool ToplevelCheck(RelayObject* self, uint32_t opcode, wl_argument* args, std::string* replaced) {
  if (opcode == XDG_TOPLEVEL_SET_TITLE) {
    self->title_ = TextSanitize::Title(args[0].s);
    *replaced = self->title_;
    args[0].s = replaced->c_str();
  } else if (opcode == XDG_TOPLEVEL_SET_APP_ID) {
    self->app_id_ = TextSanitize::AppId(args[0].s);
    *replaced = self->app_id_;
    args[0].s = replaced->c_str();
  }
  return true;
}

void ToplevelDetached(RelayObject* self) {
  if (self->mapped_) SetMapped(self, false);
  CancelMapSync(self);
}

const RelayInterface kInterfaces[] = {
    {"xdg_wm_base", RelayKind::kOther, {nullptr, WmBaseAfter, nullptr, nullptr, nullptr}},
    {"xdg_surface",
     RelayKind::kXdgSurface,
     {XdgSurfaceCheck, XdgSurfaceAfter, nullptr, UnlinkRole, nullptr}},
    {"xdg_toplevel",
     RelayKind::kXdgToplevel,
     {ToplevelCheck, nullptr, nullptr, UnlinkRole, ToplevelDetached}},
};

}  // namespace

void XdgSurfaceCommitted(RelayObject* surface) {
  RelayObject* toplevel = RoleOf(surface, RelayKind::kXdgToplevel);
  if (toplevel == nullptr) return;
  const RelayObject* xdg_surface = RoleOf(surface, RelayKind::kXdgSurface);
  BridgeClient* owner = surface->owner();
  switch (SurfacePolicy::AfterCommit(surface->has_buffer_, toplevel->mapped_,
                                     toplevel->map_sync_ != nullptr,
                                     xdg_surface != nullptr && xdg_surface->acked_,
                                     owner != nullptr && owner->host() != nullptr)) {
    case MapStep::kUnmap:
      CancelMapSync(toplevel);
      if (toplevel->mapped_) SetMapped(toplevel, false);
      return;
    case MapStep::kAskHost: {
      // Mapped once the host has answered a sync sent after this commit: had it refused the
      // toplevel (a protocol error), the connection would have ended before the answer.
      static const wl_callback_listener listener = {MapSyncDone};
      toplevel->map_sync_ = wl_display_sync(owner->host()->display());
      if (toplevel->map_sync_ != nullptr)
        wl_callback_add_listener(toplevel->map_sync_, &listener, toplevel);
      return;
    }
    case MapStep::kNone:
      return;
  }
}

void XdgSurfaceGone(RelayObject* surface) {
  for (RelayObject* role : surface->roles_) role->surface_ = nullptr;
  surface->roles_.clear();
}

const RelayUnit kXdgUnit = {"xdg", kInterfaces, sizeof kInterfaces / sizeof kInterfaces[0]};

}  // namespace bridge
}  // namespace droidway
