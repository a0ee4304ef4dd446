#include "relay_object.h"

#include <unistd.h>

#include <cstring>

#include "bridge.h"
#include "bridge_client.h"
#include "relay_unit.h"
#include "wayland_headers.h"

namespace droidway {
namespace bridge {
namespace {

// Marks relayed host proxies (wl_proxy_set_tag compares the pointer, not the text), and the
// retired ones (their user data is the owning BridgeClient).
const char* const kRelayProxyTag = "droidway-bridge-relay";
const char* const kRetiredProxyTag = "droidway-bridge-retired";
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

// Whether some event of `interface` has an argument of type `type`: 'n' (it creates an object:
// wl_data_device's data_offer, zwp_tablet_seat_v2, zwp_tablet_pad_v2, zwp_tablet_pad_group_v2)
// or 'o' (it names one).
bool HasEventArgument(const wl_interface* interface, char type) {
  for (int i = 0; interface != nullptr && i < interface->event_count; ++i) {
    if (std::strchr(interface->events[i].signature, type) != nullptr) return true;
  }
  return false;
}

bool HasNewIdEvent(const wl_interface* interface) {
  return HasEventArgument(interface, 'n');
}

// A host object the bridge will not relay, made by an event (libwayland-client made its proxy
// when it read the event): the host is told with the interface's destructor request when it has
// one without arguments, and the proxy is freed either way; `owner`'s host connection learns
// the id is gone (an event naming it would fail libwayland's read).
void DropNewProxy(BridgeClient* owner, wl_proxy* proxy, const wl_interface* interface) {
  if (owner != nullptr) owner->ProxyGone(proxy);
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
void DropEvent(BridgeClient* owner, const wl_message* message, const ArgSpec* specs, int count,
               union wl_argument* args, int from) {
  for (int i = from; i < count; ++i) {
    if (specs[i].type == 'n' && args[i].o != nullptr)
      DropNewProxy(owner, reinterpret_cast<wl_proxy*>(args[i].o), message->types[i]);
  }
  CloseFds(specs, count, args);
}

}  // namespace

bool RelayObject::SameInterface(const wl_interface* a, const wl_interface* b) {
  return a == b || (a != nullptr && b != nullptr && std::strcmp(a->name, b->name) == 0);
}

RelayObject* RelayObject::Create(BridgeClient* owner, const wl_interface* interface,
                                 uint32_t version, uint32_t id) {
  const RelayInterface* unit = interface != nullptr ? FindRelayInterface(interface->name) : nullptr;
  if (!owner->Admit(KindOf(unit))) return nullptr;
  owner->set_creating(true);
  wl_resource* resource =
      wl_resource_create(owner->client(), interface, static_cast<int>(version), id);
  owner->set_creating(false);
  if (resource == nullptr) {
    owner->OutOfMemory();
    return nullptr;
  }
  auto* object = new RelayObject(owner, resource, unit);
  object->interface_ = interface;
  object->retire_ = HasNewIdEvent(interface);
  wl_resource_set_dispatcher(resource, DispatchRequest, &kRelayImplementation, object,
                             ResourceDestroyed);
  owner->Added(object);
  return object;
}

RelayKind RelayObject::KindOf(const RelayInterface* unit) {
  return unit != nullptr ? unit->kind : RelayKind::kOther;
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

void RelayObject::MarkRetired(wl_proxy* proxy, BridgeClient* owner) {
  wl_proxy_set_tag(proxy, &kRetiredProxyTag);
  wl_proxy_set_user_data(proxy, owner);
}

void RelayObject::AttachProxy(wl_proxy* proxy) {
  proxy_ = proxy;
  wl_proxy_set_tag(proxy, &kRelayProxyTag);
  wl_proxy_add_dispatcher(proxy, DispatchEvent, &kRelayImplementation, this);
  // The host connection reads the events that make or name objects before libwayland does
  // (HostConnection::WatchEvents), until the proxy is gone (BridgeClient::ProxyGone).
  if (owner_ != nullptr && owner_->host_ != nullptr &&
      (retire_ || HasEventArgument(interface_, 'o'))) {
    owner_->host_->WatchEvents(wl_proxy_get_id(proxy), interface_);
  }
}

void RelayObject::DetachFromOwner() {
  if (unit_ != nullptr && unit_->hooks.detached != nullptr) unit_->hooks.detached(this);
  if (proxy_ != nullptr && owner_ != nullptr) owner_->ProxyGone(proxy_);
  if (proxy_ != nullptr) wl_proxy_destroy(proxy_);
  proxy_ = nullptr;
  owner_ = nullptr;
}

void RelayObject::ResourceDestroyed(wl_resource* resource) {
  auto* self = static_cast<RelayObject*>(wl_resource_get_user_data(resource));
  if (self->unit_ != nullptr && self->unit_->hooks.destroyed != nullptr)
    self->unit_->hooks.destroyed(self);
  if (self->owner_ != nullptr) self->owner_->Removed(self);
  // Only reached with a live proxy on error paths (a destructor request clears proxy_ first):
  // the host object then lives until this client's host connection closes.
  if (self->proxy_ != nullptr && self->owner_ != nullptr) self->owner_->ProxyGone(self->proxy_);
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
  if (destructor && !retire) owner_->ProxyGone(proxy_);
  wl_proxy* new_proxy =
      wl_proxy_marshal_array_flags(proxy_, opcode, new_interface, wl_proxy_get_version(proxy_),
                                   destructor && !retire ? WL_MARSHAL_FLAG_DESTROY : 0, args);
  if (retire) owner_->Retire(proxy_);
  if (destructor) proxy_ = nullptr;  // the marshal call destroyed it, or the owner keeps it
  if (created != nullptr) {
    if (new_proxy == nullptr) {
      wl_resource_destroy(created->resource_);
      created = nullptr;
      owner_->OutOfMemory();
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
  if (unit_ == nullptr || unit_->hooks.check_request == nullptr) return true;
  return unit_->hooks.check_request(this, opcode, args, replaced_string);
}

void RelayObject::AfterRequest(uint32_t opcode, union wl_argument* args,
                               RelayObject* const* objects, RelayObject* created) {
  if (unit_ == nullptr || unit_->hooks.after_request == nullptr) return;
  unit_->hooks.after_request(this, opcode, args, objects, created);
}

int RelayObject::DispatchEvent(const void* /*implementation*/, void* target, uint32_t opcode,
                               const wl_message* message, union wl_argument* args) {
  auto* proxy = static_cast<wl_proxy*>(target);
  auto* self = static_cast<RelayObject*>(wl_proxy_get_user_data(proxy));
  ArgSpec specs[kMaxArgs];
  const int count = ParseSignature(message->signature, specs);
  if (count < 0) return 0;
  // A retired proxy (its guest twin is gone, see Forward) has no relay object.
  if (wl_proxy_get_tag(proxy) == &kRetiredProxyTag) {
    DropEvent(static_cast<BridgeClient*>(wl_proxy_get_user_data(proxy)), message, specs, count,
              args, 0);
    return 0;
  }
  if (self == nullptr || self->owner_ == nullptr) {
    DropEvent(nullptr, message, specs, count, args, 0);
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
        DropEvent(self->owner_, message, specs, count, args, i + 1);
        return 0;
      }
    } else if (specs[i].type == 'n') {
      auto* new_proxy = reinterpret_cast<wl_proxy*>(args[i].o);
      if (new_proxy == nullptr) continue;
      RelayObject* created =
          Create(self->owner_, message->types[i], wl_proxy_get_version(new_proxy), 0);
      if (created == nullptr) {
        DropEvent(self->owner_, message, specs, count, args, i);
        return 0;
      }
      created->AttachProxy(new_proxy);
      out[i].o = reinterpret_cast<wl_object*>(created->resource_);
    }
  }
  UniqueFd held;
  const RelayInterface* unit = self->unit_;
  if (unit != nullptr && unit->hooks.filter_event != nullptr &&
      !unit->hooks.filter_event(self, opcode, args, out, &held)) {
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
