#include "relay_object.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "bridge.h"
#include "bridge_client.h"
#include "host_connection.h"
#include "keymap_copy.h"
#include "shm_policy.h"
#include "text_sanitize.h"
#include "wayland_headers.h"

namespace droidway {
namespace bridge {
namespace {

// Marks relayed host proxies (wl_proxy_set_tag compares the pointer, not the text).
const char* const kRelayProxyTag = "droidway-bridge-relay";
// The "implementation" of relayed resources; only its address matters.
const int kRelayImplementation = 0;

// libwayland's limit on the arguments of one message (WL_CLOSURE_MAX_ARGS).
constexpr int kMaxArgs = 20;

using ArgSpec = RelayObject::ArgSpec;

// Argument types of a message signature ("2?oii" → o? i i), without the version prefix.
int ParseSignature(const char* signature, ArgSpec* specs) {
  int count = 0;
  bool nullable = false;
  for (const char* p = signature; *p != '\0'; ++p) {
    if (*p >= '0' && *p <= '9') continue;
    if (*p == '?') {
      nullable = true;
      continue;
    }
    if (count == kMaxArgs) return -1;
    specs[count++] = {*p, nullable};
    nullable = false;
  }
  return count;
}

void CloseFds(const ArgSpec* specs, int count, union wl_argument* args) {
  for (int i = 0; i < count; ++i) {
    if (specs[i].type == 'h' && args[i].h >= 0) {
      ::close(args[i].h);
      args[i].h = -1;
    }
  }
}

bool NameIs(const wl_interface* interface, const char* name) {
  return interface != nullptr && std::strcmp(interface->name, name) == 0;
}

// Every destructor request of the relayed protocols is named destroy or release.
bool IsDestructorRequest(const wl_message* message) {
  const char first = message->name[0];
  if (first != 'd' && first != 'r') return false;  // the common case, without strcmp
  return std::strcmp(message->name, "destroy") == 0 || std::strcmp(message->name, "release") == 0;
}

// Events after which the compositor destroys the object (type="destructor" in the XML, which
// libwayland's message tables do not carry).
bool IsDestructorEvent(const char* interface_name, const wl_message* message) {
  const char first = message->name[0];
  if (first != 'd' && first != 'p') return false;  // done, discarded, presented
  if (std::strcmp(interface_name, "wl_callback") == 0) {
    return std::strcmp(message->name, "done") == 0;
  }
  if (std::strcmp(interface_name, "wp_presentation_feedback") == 0) {
    return std::strcmp(message->name, "presented") == 0 ||
           std::strcmp(message->name, "discarded") == 0;
  }
  return false;
}

// Whether some event of `interface` creates an object (a new_id argument): wl_data_device
// (data_offer), zwp_tablet_seat_v2, zwp_tablet_pad_v2, zwp_tablet_pad_group_v2.
bool HasNewIdEvent(const wl_interface* interface) {
  for (int i = 0; interface != nullptr && i < interface->event_count; ++i) {
    if (std::strchr(interface->events[i].signature, 'n') != nullptr) return true;
  }
  return false;
}

// A host object the bridge will not relay, made by an event (libwayland-client made its proxy
// when it read the event): the host is told with the interface's destructor request when it has
// one without arguments, and the proxy is freed either way.
void DropNewProxy(wl_proxy* proxy, const wl_interface* interface) {
  const uint32_t version = wl_proxy_get_version(proxy);
  for (int i = 0; interface != nullptr && i < interface->method_count; ++i) {
    const wl_message& request = interface->methods[i];
    const char* args = request.signature;
    uint32_t since = 0;
    while (*args >= '0' && *args <= '9') since = since * 10 + static_cast<uint32_t>(*args++ - '0');
    if (*args != '\0' || !IsDestructorRequest(&request) || (since != 0 && version < since))
      continue;
    wl_proxy_marshal_flags(proxy, static_cast<uint32_t>(i), nullptr, version,
                           WL_MARSHAL_FLAG_DESTROY);
    return;
  }
  wl_proxy_destroy(proxy);
}

// An event that is not relayed: its fds are closed and the objects it made, from argument
// `from` on, dropped (see DropNewProxy; the guest never learns of them).
// (The arguments stay as they are: libwayland-client unrefs the proxies in them afterwards.)
void DropEvent(const wl_message* message, const ArgSpec* specs, int count, union wl_argument* args,
               int from) {
  for (int i = from; i < count; ++i) {
    if (specs[i].type == 'n' && args[i].o != nullptr)
      DropNewProxy(reinterpret_cast<wl_proxy*>(args[i].o), message->types[i]);
  }
  CloseFds(specs, count, args);
}

RelayKind KindOf(const wl_interface* interface) {
  if (NameIs(interface, "wl_surface")) return RelayKind::kSurface;
  if (NameIs(interface, "wl_shm")) return RelayKind::kShm;
  if (NameIs(interface, "wl_shm_pool")) return RelayKind::kShmPool;
  if (NameIs(interface, "wl_buffer")) return RelayKind::kShmBuffer;
  if (NameIs(interface, "zwp_linux_buffer_params_v1")) return RelayKind::kDmabufParams;
  if (NameIs(interface, "xdg_surface")) return RelayKind::kXdgSurface;
  if (NameIs(interface, "xdg_toplevel")) return RelayKind::kXdgToplevel;
  if (NameIs(interface, "wl_region")) return RelayKind::kRegion;
  if (NameIs(interface, "wl_keyboard")) return RelayKind::kKeyboard;
  if (NameIs(interface, "wl_data_device")) return RelayKind::kDataDevice;
  if (NameIs(interface, "wl_data_source")) return RelayKind::kDataSource;
  if (NameIs(interface, "wl_data_offer")) return RelayKind::kDataOffer;
  if (NameIs(interface, "zwp_tablet_v2")) return RelayKind::kTablet;
  if (NameIs(interface, "zwp_tablet_pad_v2")) return RelayKind::kTabletPad;
  if (NameIs(interface, "zwp_tablet_pad_ring_v2") || NameIs(interface, "zwp_tablet_pad_strip_v2"))
    return RelayKind::kTabletPadControl;
  return RelayKind::kOther;
}

bool IsDataKind(RelayKind kind) {
  return kind == RelayKind::kDataDevice || kind == RelayKind::kDataSource ||
         kind == RelayKind::kDataOffer;
}

}  // namespace

bool RelayObject::SameInterface(const wl_interface* a, const wl_interface* b) {
  return a == b || (a != nullptr && b != nullptr && std::strcmp(a->name, b->name) == 0);
}

RelayObject* RelayObject::Create(BridgeClient* owner, const wl_interface* interface,
                                 uint32_t version, uint32_t id) {
  const RelayKind kind = KindOf(interface);
  if (!owner->Admit(kind)) return nullptr;
  owner->set_creating(true);
  wl_resource* resource =
      wl_resource_create(owner->client(), interface, static_cast<int>(version), id);
  owner->set_creating(false);
  if (resource == nullptr) {
    wl_client_post_no_memory(owner->client());
    return nullptr;
  }
  auto* object = new RelayObject(owner, resource, kind);
  object->retire_ = HasNewIdEvent(interface);
  wl_resource_set_dispatcher(resource, DispatchRequest, &kRelayImplementation, object,
                             ResourceDestroyed);
  owner->Added(object);
  return object;
}

RelayObject* RelayObject::FromResource(wl_resource* resource) {
  if (resource == nullptr) return nullptr;
  BridgeClient* owner = BridgeClient::From(wl_resource_get_client(resource));
  if (owner == nullptr) return nullptr;
  auto* candidate = static_cast<RelayObject*>(wl_resource_get_user_data(resource));
  // Only resources the relay created are in the owner's set; libwayland's own (wl_display,
  // wl_registry) carry other user data.
  return owner->objects_.count(candidate) != 0 && candidate->resource_ == resource ? candidate
                                                                                   : nullptr;
}

RelayObject* RelayObject::FromProxy(wl_proxy* proxy) {
  if (proxy == nullptr || wl_proxy_get_tag(proxy) != &kRelayProxyTag) return nullptr;
  return static_cast<RelayObject*>(wl_proxy_get_user_data(proxy));
}

void RelayObject::AttachProxy(wl_proxy* proxy) {
  proxy_ = proxy;
  wl_proxy_set_tag(proxy, &kRelayProxyTag);
  wl_proxy_add_dispatcher(proxy, DispatchEvent, &kRelayImplementation, this);
}

void RelayObject::DetachFromOwner() {
  CancelMapSync();
  if (proxy_ != nullptr) wl_proxy_destroy(proxy_);
  proxy_ = nullptr;
  owner_ = nullptr;
}

void RelayObject::ResourceDestroyed(wl_resource* resource) {
  auto* self = static_cast<RelayObject*>(wl_resource_get_user_data(resource));
  for (RelayObject* role : self->roles_) role->surface_ = nullptr;
  self->roles_.clear();
  self->UnlinkRole();
  if (self->owner_ != nullptr) {
    if (IsDataKind(self->kind_) || self->kind_ == RelayKind::kKeyboard)
      self->owner_->clipboard()->Forget(self);
    self->owner_->Removed(self);
    self->owner_->FdsReleased(
        static_cast<int>(self->plane_fds_.size()) + (self->pool_fd_.valid() ? 1 : 0) +
        (self->kind_ == RelayKind::kShmPool && self->copy_ != nullptr ? 2 : 0));
  }
  // Only reached with a live proxy on error paths (a destructor request clears proxy_ first):
  // the host object then lives until this client's host connection closes.
  if (self->proxy_ != nullptr) wl_proxy_destroy(self->proxy_);
  delete self;
}

int RelayObject::DispatchRequest(const void* /*implementation*/, void* target, uint32_t opcode,
                                 const wl_message* message, union wl_argument* args) {
  auto* resource = static_cast<wl_resource*>(target);
  auto* self = static_cast<RelayObject*>(wl_resource_get_user_data(resource));
  ArgSpec specs[kMaxArgs];
  const int count = ParseSignature(message->signature, specs);
  if (self->owner_ == nullptr || self->proxy_ == nullptr || count < 0) {
    if (count > 0) CloseFds(specs, count, args);
    return 0;
  }
  std::string replaced;
  if (!self->CheckRequest(opcode, args, &replaced)) {
    CloseFds(specs, count, args);
    return 0;
  }
  self->Forward(opcode, message, args, specs, count);
  return 0;
}

void RelayObject::Forward(uint32_t opcode, const wl_message* message, union wl_argument* args,
                          const ArgSpec* specs, int count) {
  RelayObject* objects[kMaxArgs] = {};
  const wl_interface* new_interface = nullptr;
  uint32_t new_id = 0;
  for (int i = 0; i < count; ++i) {
    if (specs[i].type == 'o' && args[i].o != nullptr) {
      RelayObject* object = FromResource(reinterpret_cast<wl_resource*>(args[i].o));
      if (object == nullptr || object->proxy_ == nullptr || object->owner_ != owner_) {
        CloseFds(specs, count, args);
        owner_->Kill("unrelayed-object", std::string("argument ") + std::to_string(i) + " of " +
                                             message->name + " is not a relayed object");
        return;
      }
      objects[i] = object;
      args[i].o = reinterpret_cast<wl_object*>(object->proxy_);
    } else if (specs[i].type == 'n') {
      new_interface = message->types[i];
      new_id = args[i].n;
    }
  }
  RelayObject* created = nullptr;
  if (new_interface != nullptr) {
    created = Create(owner_, new_interface,
                     static_cast<uint32_t>(wl_resource_get_version(resource_)), new_id);
    if (created == nullptr) {
      CloseFds(specs, count, args);
      return;
    }
  }
  const bool destructor = IsDestructorRequest(message);
  // A host object whose events make objects is kept until the host has read its destructor
  // (BridgeClient::Retire): libwayland-client 1.21 drops an event for a destroyed proxy before
  // making the proxy of its new_id, so the host's ids and the connection's would drift apart
  // (a data_offer crossing the guest's wl_data_device.release), and the connection fail at the
  // host's next new object, leaking the objects read with it.
  const bool retire = destructor && retire_ && owner_->host_ != nullptr;
  wl_proxy* new_proxy =
      wl_proxy_marshal_array_flags(proxy_, opcode, new_interface, wl_proxy_get_version(proxy_),
                                   destructor && !retire ? WL_MARSHAL_FLAG_DESTROY : 0, args);
  if (retire) owner_->Retire(proxy_);
  if (destructor) proxy_ = nullptr;  // the marshal call destroyed it, or the owner keeps it
  if (created != nullptr) {
    if (new_proxy == nullptr) {
      wl_resource_destroy(created->resource_);
      created = nullptr;
      wl_client_post_no_memory(owner_->client());
    } else {
      created->AttachProxy(new_proxy);
    }
  }
  AfterRequest(opcode, args, objects, created);
  CloseFds(specs, count, args);  // the host got duplicates; fds kept by AfterRequest are -1 now
  if (destructor) wl_resource_destroy(resource_);  // deletes this: nothing may follow
}

bool RelayObject::CheckRequest(uint32_t opcode, union wl_argument* args,
                               std::string* replaced_string) {
  if (kind_ == RelayKind::kShm && opcode == WL_SHM_CREATE_POOL) {
    if (!owner_->AdmitFd()) return false;
    std::unique_ptr<ShmCopy> copy;
    Verdict verdict =
        ShmPolicy::PreparePoolFd(args[1].h, args[2].i, owner_->require_sealed(), &copy);
    int copy_fd = -1;
    if (verdict.ok && copy != nullptr) {
      copy_fd = ::fcntl(copy->fd(), F_DUPFD_CLOEXEC, 0);
      if (copy_fd < 0) {
        verdict.ok = false;
        verdict.error = WL_SHM_ERROR_INVALID_FD;
        verdict.reason = "copy-failed";
        verdict.message = "duplicating a pool copy failed";
      }
    }
    if (!verdict.ok) {
      wl_resource_post_error(resource_, verdict.error, "%s", verdict.message.c_str());
      owner_->RecordViolation(verdict.reason, verdict.message, true);
      return false;
    }
    copy_.reset();
    if (copy != nullptr) {
      // The host gets the sealed copy; the guest's fd stays with the copy for refreshes.
      ::close(args[1].h);
      args[1].h = copy_fd;
      owner_->CountCopied(static_cast<uint64_t>(copy->size()));
      owner_->has_copies_ = true;
      copy_ = std::move(copy);
    }
    return true;
  }
  switch (kind_) {
    case RelayKind::kShmPool: {
      Verdict verdict;
      bool fd_check = false;
      if (opcode == WL_SHM_POOL_CREATE_BUFFER) {
        verdict = ShmPolicy::CheckBuffer(pool_size_, args[1].i, args[2].i, args[3].i, args[4].i,
                                         args[5].u, owner_->bridge()->host_shm_formats());
      } else if (opcode == WL_SHM_POOL_RESIZE) {
        if (args[0].i < pool_size_) {
          verdict.ok = false;
          verdict.error = WL_SHM_ERROR_INVALID_FD;
          verdict.reason = "pool-shrink";
          verdict.message = "a pool can only grow";
        } else if (copy_ != nullptr) {
          int64_t copied = 0;
          const NativeStatus status = copy_->Grow(args[0].i, &copied);
          if (!status.ok()) {
            verdict.ok = false;
            verdict.error = WL_SHM_ERROR_INVALID_FD;
            verdict.reason = "unsealed";
            verdict.message =
                "an unsealable pool grows past what the bridge copies: " + status.message();
          } else {
            owner_->CountCopied(static_cast<uint64_t>(copied));
          }
          fd_check = true;
        } else {
          verdict = ShmPolicy::CheckPoolFd(pool_fd_.get(), args[0].i, owner_->require_sealed());
          fd_check = true;
        }
        if (verdict.ok) pool_size_ = args[0].i;
      }
      if (!verdict.ok) {
        wl_resource_post_error(resource_, verdict.error, "%s", verdict.message.c_str());
        owner_->RecordViolation(verdict.reason, verdict.message, fd_check);
        return false;
      }
      return true;
    }
    case RelayKind::kDmabufParams:
      return CheckDmabufRequest(opcode, args);
    case RelayKind::kSurface:
      if (opcode == WL_SURFACE_ATTACH) {
        attach_pending_ = true;
        pending_has_buffer_ = args[0].o != nullptr;
        if (owner_->has_copies_) {
          RelayObject* buffer = FromResource(reinterpret_cast<wl_resource*>(args[0].o));
          copy_ = buffer != nullptr ? buffer->copy_ : nullptr;
        }
      } else if (opcode == WL_SURFACE_COMMIT) {
        OnSurfaceCommit();
      } else if (opcode == WL_SURFACE_DAMAGE || opcode == WL_SURFACE_DAMAGE_BUFFER) {
        // Each rectangle costs the host on every repaint: past the cap, one damage of the whole
        // surface stands for the rest (what the guest asked for, and bounded).
        const uint32_t cap = owner_->bridge()->config().limits.max_damage_rects;
        if (damage_rects_ >= cap) {
          owner_->CountDamageDropped();
          return false;
        }
        if (++damage_rects_ == cap) {
          args[0].i = 0;
          args[1].i = 0;
          args[2].i = INT32_MAX;
          args[3].i = INT32_MAX;
        }
      }
      return true;
    case RelayKind::kRegion:
      if (opcode == WL_REGION_ADD || opcode == WL_REGION_SUBTRACT) {
        const uint32_t cap = owner_->bridge()->config().limits.max_region_rects;
        if (++region_rects_ > cap) {
          const std::string message = "limit-region-rects: at most " + std::to_string(cap);
          owner_->Kill("violation:limit-region-rects", message);
          owner_->RecordViolation("limit-region-rects", message, false);
          return false;
        }
      }
      return true;
    case RelayKind::kDataDevice:
    case RelayKind::kDataSource:
    case RelayKind::kDataOffer:
      return owner_->clipboard()->CheckRequest(this, opcode, args);
    case RelayKind::kXdgSurface:
      if (opcode == XDG_SURFACE_ACK_CONFIGURE) acked_ = true;
      return true;
    case RelayKind::kTabletPad:
    case RelayKind::kTabletPadControl: {
      // set_feedback(button, description, serial) on a pad; (description, serial) on a ring or
      // strip: the compositor shows the text (an on-screen help), so it is a title.
      const int text = kind_ == RelayKind::kTabletPad ? 1 : 0;
      static_assert(ZWP_TABLET_PAD_V2_SET_FEEDBACK == ZWP_TABLET_PAD_RING_V2_SET_FEEDBACK &&
                        ZWP_TABLET_PAD_V2_SET_FEEDBACK == ZWP_TABLET_PAD_STRIP_V2_SET_FEEDBACK,
                    "one opcode for the three set_feedback requests");
      if (opcode == ZWP_TABLET_PAD_V2_SET_FEEDBACK) {
        *replaced_string = TextSanitize::Title(args[text].s);
        args[text].s = replaced_string->c_str();
      }
      return true;
    }
    case RelayKind::kXdgToplevel:
      if (opcode == XDG_TOPLEVEL_SET_TITLE) {
        title_ = TextSanitize::Title(args[0].s);
        *replaced_string = title_;
        args[0].s = replaced_string->c_str();
      } else if (opcode == XDG_TOPLEVEL_SET_APP_ID) {
        app_id_ = TextSanitize::AppId(args[0].s);
        *replaced_string = app_id_;
        args[0].s = replaced_string->c_str();
      }
      return true;
    default:
      return true;
  }
}

bool RelayObject::CheckDmabufRequest(uint32_t opcode, union wl_argument* args) {
  Verdict verdict;
  const DmabufFormatTable& table = owner_->bridge()->host_dmabuf_formats();
  if (opcode == ZWP_LINUX_BUFFER_PARAMS_V1_ADD) {
    if (!owner_->AdmitFd()) return false;
    verdict = DmabufPolicy::CheckAdd(planes_, PlaneOf(args));
  } else if (opcode == ZWP_LINUX_BUFFER_PARAMS_V1_CREATE) {
    verdict = DmabufPolicy::CheckCreate(planes_, args[0].i, args[1].i, args[2].u, table);
  } else if (opcode == ZWP_LINUX_BUFFER_PARAMS_V1_CREATE_IMMED) {
    verdict = DmabufPolicy::CheckCreate(planes_, args[1].i, args[2].i, args[3].u, table);
  }
  if (!verdict.ok) {
    wl_resource_post_error(resource_, verdict.error, "%s", verdict.message.c_str());
    owner_->RecordViolation(verdict.reason, verdict.message, verdict.reason == "dmabuf-fd-size");
    return false;
  }
  if (opcode != ZWP_LINUX_BUFFER_PARAMS_V1_ADD) owner_->CountDmabufBuffer();
  return true;
}

DmabufPlane RelayObject::PlaneOf(const union wl_argument* args) {
  // add(fd, plane_idx, offset, stride, modifier_hi, modifier_lo)
  DmabufPlane plane;
  plane.fd = args[0].h;
  plane.index = args[1].u;
  plane.offset = args[2].u;
  plane.stride = args[3].u;
  plane.modifier = uint64_t{args[4].u} << 32 | args[5].u;
  return plane;
}

void RelayObject::AfterRequest(uint32_t opcode, union wl_argument* args,
                               RelayObject* const* objects, RelayObject* created) {
  if (kind_ == RelayKind::kDmabufParams && opcode == ZWP_LINUX_BUFFER_PARAMS_V1_ADD) {
    // Keep the guest's fd (the host got a duplicate) so create can measure the plane.
    planes_.push_back(PlaneOf(args));
    plane_fds_.emplace_back(args[0].h);
    args[0].h = -1;
    owner_->FdsKept(1);
    return;
  }
  if (kind_ == RelayKind::kSurface && opcode == WL_SURFACE_COMMIT) return UpdateMapped();
  if (created == nullptr) return;
  if (created->kind_ == RelayKind::kShmPool && copy_ != nullptr) {
    // A copied pool: the copy holds the guest's fd and its own (args[1] is a duplicate).
    created->copy_ = std::move(copy_);
    owner_->FdsKept(2);
    created->pool_size_ = args[2].i;
  } else if (created->kind_ == RelayKind::kShmPool) {
    // wl_shm.create_pool(id, fd, size): keep the guest's fd to re-check it on resize.
    created->pool_fd_.reset(args[1].h);
    args[1].h = -1;
    owner_->FdsKept(1);
    created->pool_size_ = args[2].i;
  } else if (created->kind_ == RelayKind::kShmBuffer && kind_ == RelayKind::kShmPool) {
    created->copy_ = copy_;
  } else if (created->kind_ == RelayKind::kXdgSurface && objects[1] != nullptr) {
    // xdg_wm_base.get_xdg_surface(id, surface)
    created->LinkRole(objects[1]);
  } else if (created->kind_ == RelayKind::kXdgToplevel && kind_ == RelayKind::kXdgSurface) {
    if (surface_ != nullptr) created->LinkRole(surface_);
    // Every host toplevel carries a droidway app_id, even before (or without) the guest's own.
    created->app_id_ = TextSanitize::AppId("");
    xdg_toplevel_set_app_id(reinterpret_cast<xdg_toplevel*>(created->proxy_),
                            created->app_id_.c_str());
  }
  (void)opcode;
}

void RelayObject::LinkRole(RelayObject* surface) {
  if (surface->kind_ != RelayKind::kSurface) return;
  surface_ = surface;
  surface->roles_.push_back(this);
}

void RelayObject::UnlinkRole() {
  CancelMapSync();
  if (kind_ == RelayKind::kXdgToplevel && mapped_) SetMapped(false);
  if (surface_ == nullptr) return;
  auto& roles = surface_->roles_;
  roles.erase(std::remove(roles.begin(), roles.end(), this), roles.end());
  surface_ = nullptr;
}

RelayObject* RelayObject::Toplevel() const {
  for (RelayObject* role : roles_) {
    if (role->kind_ == RelayKind::kXdgToplevel) return role;
  }
  return nullptr;
}

void RelayObject::OnSurfaceCommit() {
  const bool forwarded = attach_pending_ && pending_has_buffer_;
  if (attach_pending_) {
    has_buffer_ = pending_has_buffer_;
    attach_pending_ = false;
    if (copy_ != nullptr) {
      // The guest drew into its own memfd: the host must see those bytes in the copy.
      const int64_t copied = copy_->Refresh();
      if (copied > 0) owner_->CountCopied(static_cast<uint64_t>(copied));
      copy_.reset();
    }
  }
  damage_rects_ = 0;
  owner_->CountCommit(forwarded);
}

bool RelayObject::XdgSurfaceAcked() const {
  for (RelayObject* role : roles_) {
    if (role->kind_ == RelayKind::kXdgSurface) return role->acked_;
  }
  return false;
}

void RelayObject::UpdateMapped() {
  RelayObject* toplevel = Toplevel();
  if (toplevel == nullptr) return;
  if (!has_buffer_) {
    toplevel->CancelMapSync();
    if (toplevel->mapped_) toplevel->SetMapped(false);
    return;
  }
  if (toplevel->mapped_ || toplevel->map_sync_ != nullptr || !XdgSurfaceAcked()) return;
  if (owner_ == nullptr || owner_->host_ == nullptr) return;
  // Mapped once the host has answered a sync sent after this commit: had it refused the
  // toplevel (a protocol error), the connection would have ended before the answer.
  static const wl_callback_listener listener = {MapSyncDoneThunk};
  toplevel->map_sync_ = wl_display_sync(owner_->host_->display());
  if (toplevel->map_sync_ != nullptr)
    wl_callback_add_listener(toplevel->map_sync_, &listener, toplevel);
}

void RelayObject::CancelMapSync() {
  if (map_sync_ != nullptr) wl_callback_destroy(map_sync_);
  map_sync_ = nullptr;
}

void RelayObject::MapSyncDoneThunk(void* data, wl_callback* callback, uint32_t /*serial*/) {
  auto* toplevel = static_cast<RelayObject*>(data);
  wl_callback_destroy(callback);
  toplevel->map_sync_ = nullptr;
  if (toplevel->surface_ != nullptr && toplevel->surface_->has_buffer_ && !toplevel->mapped_) {
    toplevel->SetMapped(true);
  }
}

void RelayObject::SetMapped(bool mapped) {
  mapped_ = mapped;
  if (owner_ != nullptr) owner_->EmitToplevel(mapped, app_id_, title_);
}

int RelayObject::DispatchEvent(const void* /*implementation*/, void* target, uint32_t opcode,
                               const wl_message* message, union wl_argument* args) {
  auto* proxy = static_cast<wl_proxy*>(target);
  auto* self = static_cast<RelayObject*>(wl_proxy_get_user_data(proxy));
  ArgSpec specs[kMaxArgs];
  const int count = ParseSignature(message->signature, specs);
  if (count < 0) return 0;
  // A retired proxy (its guest twin is gone, see Forward) has no relay object.
  if (self == nullptr || self->owner_ == nullptr) {
    DropEvent(message, specs, count, args, 0);
    return 0;
  }
  // The guest gets a rewritten copy: libwayland-client unrefs the 'o'/'n' arguments of the
  // queued closure after this returns, so they must still hold the host proxies then.
  union wl_argument out[kMaxArgs];
  for (int i = 0; i < count; ++i) out[i] = args[i];
  for (int i = 0; i < count; ++i) {
    if (specs[i].type == 'o') {
      RelayObject* object = FromProxy(reinterpret_cast<wl_proxy*>(args[i].o));
      if (object != nullptr && object->owner_ == self->owner_) {
        out[i].o = reinterpret_cast<wl_object*>(object->resource_);
      } else if (specs[i].nullable) {
        out[i].o = nullptr;
      } else {
        // An object the guest never had (an output it did not bind): the event means nothing
        // to it, so it is dropped, as sommelier does.
        DropEvent(message, specs, count, args, i + 1);
        return 0;
      }
    } else if (specs[i].type == 'n') {
      auto* new_proxy = reinterpret_cast<wl_proxy*>(args[i].o);
      if (new_proxy == nullptr) continue;
      RelayObject* created =
          Create(self->owner_, message->types[i], wl_proxy_get_version(new_proxy), 0);
      if (created == nullptr) {
        DropEvent(message, specs, count, args, i);
        return 0;
      }
      created->AttachProxy(new_proxy);
      out[i].o = reinterpret_cast<wl_object*>(created->resource_);
    }
  }
  if ((self->kind_ == RelayKind::kTablet && opcode == ZWP_TABLET_V2_PATH) ||
      (self->kind_ == RelayKind::kTabletPad && opcode == ZWP_TABLET_PAD_V2_PATH)) {
    // A host device node (/dev/input/eventN): the guest cannot open it, and it tells the guest
    // about the host's devices. The event is optional (virtual devices have none).
    return 0;
  }
  UniqueFd keymap;
  if (self->kind_ == RelayKind::kKeyboard && opcode == WL_KEYBOARD_KEYMAP) {
    // keymap(format, fd, size): the guest gets the bridge's sealed read-only copy instead.
    const NativeStatus status = KeymapCopy::Make(args[1].h, args[2].u, &keymap);
    if (!status.ok()) {
      CloseFds(specs, count, args);
      return 0;  // without a keymap the guest cannot read keys, but it cannot harm the host
    }
    out[1].h = keymap.get();
  }
  if (self->kind_ == RelayKind::kKeyboard &&
      (opcode == WL_KEYBOARD_ENTER || opcode == WL_KEYBOARD_LEAVE)) {
    self->owner_->clipboard()->KeyboardFocus(self, opcode == WL_KEYBOARD_ENTER);
  }
  UniqueFd held;
  if (IsDataKind(self->kind_) &&
      !self->owner_->clipboard()->FilterEvent(self, opcode, args, out, &held)) {
    CloseFds(specs, count, args);
    return 0;
  }
  wl_resource_post_event_array(self->resource_, opcode, out);
  CloseFds(specs, count, args);  // the guest got duplicates
  if (IsDestructorEvent(wl_proxy_get_class(proxy), message)) {
    self->proxy_ = nullptr;
    wl_proxy_destroy(proxy);
    wl_resource_destroy(self->resource_);  // deletes self
  }
  return 0;
}

}  // namespace bridge
}  // namespace droidway
