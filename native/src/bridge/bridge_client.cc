#include "bridge_client.h"

#include <cerrno>
#include <cstring>

#include "bridge.h"
#include "host_connection.h"
#include "wayland_headers.h"

namespace droidway {
namespace bridge {

BridgeClient::BridgeClient(Bridge* bridge, wl_client* client, uint64_t id)
    : bridge_(bridge), client_(client), id_(id) {
  destroy_listener_.listener.notify = DestroyedThunk;
  destroy_listener_.self = this;
  resource_created_listener_.listener.notify = ResourceCreatedThunk;
  resource_created_listener_.self = this;
}

BridgeClient::~BridgeClient() = default;

BridgeClient* BridgeClient::Attach(Bridge* bridge, wl_client* client, uint64_t id) {
  auto* self = new BridgeClient(bridge, client, id);
  wl_client_add_destroy_listener(client, &self->destroy_listener_.listener);
  wl_client_add_resource_created_listener(client, &self->resource_created_listener_.listener);
  // Without the hook (an unexpected libwayland), OnResourceCreated keeps syncs ordered by a
  // blocking host round trip instead.
  (void)self->display_hook_.Install(client, GuestSyncThunk);
  return self;
}

BridgeClient* BridgeClient::From(wl_client* client) {
  wl_listener* listener = wl_client_get_destroy_listener(client, DestroyedThunk);
  if (listener == nullptr) return nullptr;
  ListenerSlot* slot;
  slot = wl_container_of(listener, slot, listener);
  return slot->self;
}

bool BridgeClient::require_sealed() const {
  return bridge_->config().require_sealed;
}

NativeStatus BridgeClient::ConnectHost(const std::string& host_socket_path) {
  NativeStatus status =
      HostConnection::Connect(host_socket_path, &host_, bridge_->config().host_connector);
  if (!status.ok()) return status;
  host_registry_ = wl_display_get_registry(host_->display());
  if (host_registry_ == nullptr) {
    return NativeStatus::FromErrno("wl_display_get_registry", "host registry");
  }
  host_source_ =
      wl_event_loop_add_fd(bridge_->loop(), host_->fd(), WL_EVENT_READABLE, HostThunk, this);
  if (host_source_ == nullptr) {
    return NativeStatus::FromErrno("wl_event_loop_add_fd", "watching a host connection");
  }
  return {};
}

void BridgeClient::BindGlobal(const HostGlobal& global, const wl_interface* interface,
                              uint32_t version, uint32_t id) {
  if (host_registry_ == nullptr || doomed_) return;
  RelayObject* object = RelayObject::Create(this, interface, version, id);
  if (object == nullptr) return;
  auto* proxy =
      static_cast<wl_proxy*>(wl_registry_bind(host_registry_, global.name, interface, version));
  if (proxy == nullptr) {
    wl_resource_destroy(object->resource());
    wl_client_post_no_memory(client_);
    return;
  }
  object->AttachProxy(proxy);
}

void BridgeClient::Kill(const std::string& reason, const std::string& message) {
  if (!doomed_) {
    doomed_ = true;
    reason_ = reason;
    wl_client_post_implementation_error(client_, "%s", message.c_str());
  }
  bridge_->ScheduleDestroy(id_);
}

void BridgeClient::RecordViolation(const std::string& reason, const std::string& message,
                                   bool fd_reason) {
  bridge_->UpdateStats(id_, [&](ClientStats& stats) {
    ++stats.violations[reason];
    if (fd_reason) ++stats.fds_rejected[reason];
  });
  BridgeEvent event;
  event.type = "violation";
  event.client_id = id_;
  event.reason = reason;
  event.message = message;
  bridge_->Emit(std::move(event));
  if (!doomed_) {
    // The protocol error is already posted; libwayland disconnects the client after this
    // dispatch, and the scheduled destruction covers a violation found outside one.
    doomed_ = true;
    reason_ = "violation:" + reason;
  }
  bridge_->ScheduleDestroy(id_);
}

bool BridgeClient::Admit(RelayKind kind) {
  const ClientLimits& limits = bridge_->config().limits;
  const char* reason = nullptr;
  uint32_t limit = 0;
  if (objects_.size() + pending_syncs_.size() >= limits.max_objects) {
    reason = "limit-objects";
    limit = limits.max_objects;
  } else if (kind == RelayKind::kShmPool && pools_ >= limits.max_pools) {
    reason = "limit-pools";
    limit = limits.max_pools;
  } else if (kind == RelayKind::kShmBuffer && buffers_ >= limits.max_buffers) {
    reason = "limit-buffers";
    limit = limits.max_buffers;
  } else if (kind == RelayKind::kSurface && surfaces_ >= limits.max_surfaces) {
    reason = "limit-surfaces";
    limit = limits.max_surfaces;
  }
  if (reason == nullptr) return true;
  const std::string message = std::string(reason) + ": at most " + std::to_string(limit);
  Kill(std::string("violation:") + reason, message);
  RecordViolation(reason, message, false);
  return false;
}

void BridgeClient::Added(RelayObject* object) {
  objects_.insert(object);
  switch (object->kind()) {
    case RelayKind::kShmPool:
      ++pools_;
      break;
    case RelayKind::kShmBuffer:
      ++buffers_;
      break;
    case RelayKind::kSurface:
      ++surfaces_;
      break;
    default:
      break;
  }
  stats_dirty_ = true;
}

void BridgeClient::Removed(RelayObject* object) {
  if (objects_.erase(object) == 0) return;
  switch (object->kind()) {
    case RelayKind::kShmPool:
      --pools_;
      break;
    case RelayKind::kShmBuffer:
      --buffers_;
      break;
    case RelayKind::kSurface:
      --surfaces_;
      break;
    default:
      break;
  }
  stats_dirty_ = true;
}

void BridgeClient::CountCommit(bool shm_buffer_attached) {
  ++commits_;
  if (shm_buffer_attached) ++shm_forwarded_;
  stats_dirty_ = true;
}

void BridgeClient::CountDmabufBuffer() {
  ++dmabuf_forwarded_;
  stats_dirty_ = true;
}

bool BridgeClient::AdmitFd() {
  const uint32_t limit = bridge_->config().limits.max_fds;
  if (fds_kept_ < 0 || static_cast<uint32_t>(fds_kept_) < limit) return true;
  const std::string message = "limit-fds: at most " + std::to_string(limit);
  Kill("violation:limit-fds", message);
  RecordViolation("limit-fds", message, true);
  return false;
}

void BridgeClient::PublishStats() {
  if (!stats_dirty_) return;
  stats_dirty_ = false;
  bridge_->UpdateStats(id_, [&](ClientStats& stats) {
    stats.commits = commits_;
    stats.shm_buffers_forwarded = shm_forwarded_;
    stats.dmabuf_buffers_forwarded = dmabuf_forwarded_;
    stats.objects = static_cast<uint32_t>(objects_.size());
    stats.pools = pools_;
    stats.buffers = buffers_;
    stats.surfaces = surfaces_;
  });
}

void BridgeClient::EmitToplevel(bool mapped, const std::string& app_id, const std::string& title) {
  BridgeEvent event;
  event.type = mapped ? "toplevel-mapped" : "toplevel-unmapped";
  event.client_id = id_;
  event.app_id = app_id;
  event.title = title;
  bridge_->Emit(std::move(event));
}

void BridgeClient::OnResourceCreated(wl_resource* resource) {
  // A wl_callback the relay did not create is libwayland's answer to wl_display.sync, queued
  // right after this returns. Relaying the sync to the host first keeps its meaning: every
  // event the host sent before (configure, formats, output modes…) reaches the guest first.
  if (display_hook_.installed() || creating_ || doomed_ || host_ == nullptr) return;
  if (std::strcmp(wl_resource_get_class(resource), "wl_callback") != 0) return;
  const NativeStatus status =
      host_->Roundtrip(bridge_->wake_fd(), bridge_->config().host_timeout_ms);
  if (!status.ok() && status.code() != -ECANCELED) HostFailed(status.message());
}

void BridgeClient::OnGuestSync(uint32_t callback_id) {
  if (!Admit(RelayKind::kOther)) return;
  set_creating(true);
  wl_resource* callback = wl_resource_create(client_, &wl_callback_interface, 1, callback_id);
  set_creating(false);
  if (callback == nullptr) {
    wl_client_post_no_memory(client_);
    return;
  }
  wl_callback* host_callback = nullptr;
  if (host_ != nullptr && host_source_ != nullptr && !doomed_) {
    host_callback = wl_display_sync(host_->display());
  }
  if (host_callback == nullptr) {
    // No host to ask (the client is ending): answer as libwayland would.
    wl_callback_send_done(callback, wl_display_get_serial(wl_client_get_display(client_)));
    wl_resource_destroy(callback);
    return;
  }
  static const wl_callback_listener host_sync_listener = {HostSyncDoneThunk};
  auto* pending = new PendingSync{this, callback, host_callback};
  wl_callback_add_listener(host_callback, &host_sync_listener, pending);
  wl_resource_set_implementation(callback, nullptr, pending, GuestCallbackDestroyedThunk);
  pending_syncs_.insert(pending);
}

void BridgeClient::OnHostEvent(uint32_t mask) {
  if (host_ == nullptr) return;
  if ((mask & WL_EVENT_WRITABLE) != 0) {
    bool blocked = false;
    const NativeStatus status = host_->Flush(&blocked);
    if (!status.ok()) return HostFailed(status.message());
    if (!blocked) {
      write_blocked_ = false;
      wl_event_source_fd_update(host_source_, WL_EVENT_READABLE);
    }
  }
  if ((mask & WL_EVENT_READABLE) != 0) {
    const NativeStatus status = host_->DispatchReadable();
    if (!status.ok()) return HostFailed(status.message());
  } else if ((mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) != 0) {
    return HostFailed("the host compositor closed this client's connection");
  }
}

void BridgeClient::HostFailed(const std::string& message) {
  if (host_source_ != nullptr) {
    wl_event_source_remove(host_source_);  // safe inside its own callback
    host_source_ = nullptr;
  }
  Kill("host-error", message);
}

void BridgeClient::Destroyed() {
  // libwayland destroys the client's resources after this returns: detach them from the host
  // first, so their destroy callbacks only free memory.
  for (RelayObject* object : objects_) {
    if (object->kind() == RelayKind::kXdgToplevel && object->mapped_) object->SetMapped(false);
  }
  for (RelayObject* object : objects_) object->DetachFromOwner();
  objects_.clear();
  // The guest callbacks of pending syncs are destroyed with the client's other resources.
  for (PendingSync* pending : pending_syncs_) {
    if (pending->host != nullptr) wl_callback_destroy(pending->host);
    pending->host = nullptr;
    pending->owner = nullptr;
  }
  pending_syncs_.clear();
  display_hook_.Restore();
  if (host_source_ != nullptr) wl_event_source_remove(host_source_);
  host_source_ = nullptr;
  if (host_registry_ != nullptr) wl_registry_destroy(host_registry_);
  host_registry_ = nullptr;
  host_.reset();
  wl_list_remove(&resource_created_listener_.listener.link);

  const std::string reason = reason_.empty() ? "disconnected" : reason_;
  bridge_->UpdateStats(id_, [&](ClientStats& stats) {
    stats.commits = commits_;
    stats.shm_buffers_forwarded = shm_forwarded_;
    stats.dmabuf_buffers_forwarded = dmabuf_forwarded_;
    stats.connected = false;
    stats.disconnect_reason = reason;
    stats.objects = stats.pools = stats.buffers = stats.surfaces = 0;
  });
  BridgeEvent event;
  event.type = "client-disconnected";
  event.client_id = id_;
  event.reason = reason;
  bridge_->Emit(std::move(event));
  bridge_->ForgetClient(id_);
  delete this;
}

void BridgeClient::DestroyedThunk(wl_listener* listener, void* /*data*/) {
  ListenerSlot* slot;
  slot = wl_container_of(listener, slot, listener);
  slot->self->Destroyed();
}

void BridgeClient::ResourceCreatedThunk(wl_listener* listener, void* data) {
  ListenerSlot* slot;
  slot = wl_container_of(listener, slot, listener);
  slot->self->OnResourceCreated(static_cast<wl_resource*>(data));
}

void BridgeClient::GuestSyncThunk(wl_client* client, wl_resource* /*display*/,
                                  uint32_t callback_id) {
  BridgeClient* self = From(client);
  if (self != nullptr) return self->OnGuestSync(callback_id);
  wl_client_post_implementation_error(client, "sync on a client the bridge does not know");
}

void BridgeClient::HostSyncDoneThunk(void* data, wl_callback* callback, uint32_t /*serial*/) {
  auto* pending = static_cast<PendingSync*>(data);
  wl_callback_destroy(callback);
  pending->host = nullptr;
  // Every host event sent before this answer has been relayed already: the guest's sync is done.
  wl_resource* guest = pending->guest;
  wl_callback_send_done(
      guest, wl_display_get_serial(wl_client_get_display(wl_resource_get_client(guest))));
  wl_resource_destroy(guest);  // frees `pending`
}

void BridgeClient::GuestCallbackDestroyedThunk(wl_resource* resource) {
  auto* pending = static_cast<PendingSync*>(wl_resource_get_user_data(resource));
  if (pending->owner != nullptr) pending->owner->pending_syncs_.erase(pending);
  if (pending->host != nullptr) wl_callback_destroy(pending->host);
  delete pending;
}

int BridgeClient::HostThunk(int /*fd*/, uint32_t mask, void* data) {
  static_cast<BridgeClient*>(data)->OnHostEvent(mask);
  return 0;
}

}  // namespace bridge
}  // namespace droidway
