#include "bridge_client.h"

#include <unistd.h>

#include <vector>

#include <sys/epoll.h>
#include <sys/stat.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "bridge.h"
#include "host_connection.h"
#include "wayland_headers.h"
#include "wire_fastpath.h"

namespace droidway {
namespace bridge {

namespace {

// The first id libwayland-server makes objects with; ids below it are the client's.
constexpr uint32_t kFirstServerId = 0xff000000;

// The entry of the socket `fd` in the epoll set whose /proc/self/fdinfo file is open as
// `fdinfo_fd`: the kernel lists each watched fd as "tfd: FD events: MASK data: DATA pos: POS
// ino: INO sdev: DEV". wl_event_loop_add_fd watches a duplicate of the fd it is given, so the
// entry is found by the socket's inode and device, and its own fd number is returned with its
// data word. The file is rewound and read again, which regenerates the listing, so the
// bridge opens it once, before a confined process loses the right to open files.
bool FindEpollEntry(int fdinfo_fd, int fd, int* watched_fd, uint64_t* data) {
  if (fdinfo_fd < 0) return false;
  struct stat socket_stat;
  if (::fstat(fd, &socket_stat) < 0) return false;
  // Each entry is one line of at most ~100 bytes; 64 KiB holds every fd a bridge keeps.
  std::vector<char> text(64 * 1024);
  // Rewound, the seq_file lists the set as it is now; it hands out a record or so per read
  // (pread past the first record returns nothing, so sequential reads it is).
  if (::lseek(fdinfo_fd, 0, SEEK_SET) != 0) return false;
  size_t total = 0;
  while (total < text.size() - 1) {
    const ssize_t got = ::read(fdinfo_fd, text.data() + total, text.size() - 1 - total);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    total += static_cast<size_t>(got);
  }
  if (total == 0) return false;
  text[total] = '\0';
  for (char* line = text.data(); line != nullptr && *line != '\0';) {
    char* next = std::strchr(line, '\n');
    if (next != nullptr) *next++ = '\0';
    int tfd = -1;
    unsigned events = 0;
    uint64_t value = 0;
    long long pos = 0;
    unsigned long inode = 0;
    unsigned device = 0;
    if (std::sscanf(line, "tfd: %d events: %x data: %" SCNx64 " pos:%lli ino:%lx sdev:%x", &tfd,
                    &events, &value, &pos, &inode, &device) == 6 &&
        inode == socket_stat.st_ino && device == socket_stat.st_dev) {
      *watched_fd = tfd;
      *data = value;
      return true;
    }
    line = next;
  }
  return false;
}

}  // namespace

BridgeClient::BridgeClient(Bridge* bridge, wl_client* client, uint64_t id, uint32_t uid)
    : bridge_(bridge), client_(client), id_(id), uid_(uid) {
  destroy_listener_.listener.notify = DestroyedThunk;
  destroy_listener_.self = this;
  resource_created_listener_.listener.notify = ResourceCreatedThunk;
  resource_created_listener_.self = this;
}

BridgeClient::~BridgeClient() = default;

DataDeviceRelay* BridgeClient::clipboard() {
  if (clipboard_ == nullptr) clipboard_ = std::make_unique<DataDeviceRelay>(this);
  return clipboard_.get();
}

BridgeClient* BridgeClient::Attach(Bridge* bridge, wl_client* client, uint64_t id, uint32_t uid) {
  auto* self = new BridgeClient(bridge, client, id, uid);
  wl_client_add_destroy_listener(client, &self->destroy_listener_.listener);
  wl_client_add_resource_created_listener(client, &self->resource_created_listener_.listener);
  // Without the hook (an unexpected libwayland), OnResourceCreated keeps syncs ordered by a
  // blocking host round trip instead.
  (void)self->display_hook_.Install(client, GuestSyncThunk, GuestGetRegistryThunk);
  return self;
}

BridgeClient* BridgeClient::From(wl_client* client) {
  wl_listener* listener = wl_client_get_destroy_listener(client, DestroyedThunk);
  if (listener == nullptr) return nullptr;
  ListenerSlot* slot;
  slot = wl_container_of(listener, slot, listener);
  return slot->self;
}

NativeStatus BridgeClient::AdoptFastPath(std::unique_ptr<WireFastPath> fastpath) {
  fastpath_ = std::move(fastpath);
  return fastpath_->Start(this);
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

NativeStatus BridgeClient::StartFirstRequestDeadline(int timeout_ms) {
  deadline_source_ = wl_event_loop_add_timer(bridge_->loop(), DeadlineThunk, this);
  if (deadline_source_ == nullptr) {
    return NativeStatus::FromErrno("wl_event_loop_add_timer", "first-request deadline");
  }
  wl_event_source_timer_update(deadline_source_, timeout_ms);
  return {};
}

void BridgeClient::OnFirstRequest() {
  first_request_seen_ = true;
  if (deadline_source_ != nullptr) wl_event_source_remove(deadline_source_);
  deadline_source_ = nullptr;
}

void BridgeClient::OnDeadline() {
  if (deadline_source_ != nullptr) wl_event_source_remove(deadline_source_);
  deadline_source_ = nullptr;
  if (first_request_seen_) return;
  Kill("first-request-timeout", "no request within " +
                                    std::to_string(bridge_->config().first_request_timeout_ms) +
                                    " ms of connecting");
}

bool BridgeClient::SetGuestPaused(bool paused) {
  if (paused == guest_paused_) return true;
  const int epoll_fd = wl_event_loop_get_fd(bridge_->loop());
  if (!epoll_data_known_) {
    if (!paused) return false;
    // A confined bridge process opened it before 'ready'; in-process it is opened for the lookup.
    UniqueFd opened;
    int fdinfo = bridge_->epoll_fdinfo_fd();
    if (fdinfo < 0) {
      opened = OpenEpollFdinfo(bridge_->loop());
      fdinfo = opened.get();
    }
    if (!FindEpollEntry(fdinfo, wl_client_get_fd(client_), &epoll_fd_watched_, &epoll_data_))
      return false;
    epoll_data_known_ = true;
  }
  const int fd = epoll_fd_watched_;
  struct epoll_event event;
  std::memset(&event, 0, sizeof event);
  // Paused: no events but the hang-up and error the kernel always reports, so a guest that
  // leaves is still destroyed. Resumed: readable and writable, as libwayland-server arms a
  // socket with output pending; it drops writable itself after the next flush.
  event.events = paused ? 0 : EPOLLIN | EPOLLOUT;
  event.data.u64 = epoll_data_;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &event) < 0) return false;
  guest_paused_ = paused;
  if (fastpath_ != nullptr) fastpath_->SetPaused(paused);

  return true;
}

void BridgeClient::ReapplyPause() {
  if (!guest_paused_) return;
  struct epoll_event event;
  std::memset(&event, 0, sizeof event);
  event.data.u64 = epoll_data_;
  (void)::epoll_ctl(wl_event_loop_get_fd(bridge_->loop()), EPOLL_CTL_MOD, wl_client_get_fd(client_),
                    &event);
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
    OutOfMemory();
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

void BridgeClient::OutOfMemory() {
  if (!doomed_) {
    doomed_ = true;
    reason_ = "no-memory";
    wl_client_post_no_memory(client_);
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
  if (objects_.size() + pending_syncs_.size() + registries_ >= limits.max_objects) {
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

void BridgeClient::CountCopied(uint64_t bytes) {
  bytes_copied_ += bytes;
  stats_dirty_ = true;
}

void BridgeClient::CountDamageDropped() {
  ++damage_rects_dropped_;
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
    stats.bytes_copied = bytes_copied_;
    stats.damage_rects_dropped = damage_rects_dropped_;
    if (fastpath_ != nullptr) stats.fast_requests = fastpath_->fast_messages();
    if (fastpath_ != nullptr) stats.fast_events = fastpath_->fast_events();
    stats.objects = static_cast<uint32_t>(objects_.size() + pending_syncs_.size() + registries_);
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
  const uint32_t id = wl_resource_get_id(resource);
  if (id < kFirstServerId && id > highest_client_id_) highest_client_id_ = id;
  // A wl_callback the relay did not create is libwayland's answer to wl_display.sync, queued
  // right after this returns. Relaying the sync to the host first keeps its meaning: every
  // event the host sent before (configure, formats, output modes…) reaches the guest first.
  if (display_hook_.installed() || creating_ || doomed_ || host_ == nullptr) return;
  OnFirstRequest();
  if (std::strcmp(wl_resource_get_class(resource), "wl_registry") == 0) {
    if (Admit(RelayKind::kOther)) ++registries_;
    return;
  }
  if (std::strcmp(wl_resource_get_class(resource), "wl_callback") != 0) return;
  const NativeStatus status =
      host_->Roundtrip(bridge_->wake_fd(), bridge_->config().host_timeout_ms);
  if (!status.ok() && status.code() != -ECANCELED) HostFailed(status.message());
}

void BridgeClient::OnGuestSync(uint32_t callback_id) {
  (void)StartSync(callback_id, false);
}

void BridgeClient::FastSync(uint32_t callback_id, uint32_t* host_id) {
  *host_id = StartSync(callback_id, true);
}

bool BridgeClient::NewIdFree(uint32_t id) const {
  // libwayland-server's map of the client's ids grows by one past its highest entry; its entries
  // of client ids are never on a free list, so an empty one is free to take (wl_map_reserve_new).
  return id != 0 && id < kFirstServerId && id <= highest_client_id_ + 1 &&
         wl_client_get_object(client_, id) == nullptr;
}

uint32_t BridgeClient::StartSync(uint32_t callback_id, bool on_wire) {
  OnFirstRequest();
  if (!Admit(RelayKind::kOther)) return 0;
  set_creating(true);
  wl_resource* callback = wl_resource_create(client_, &wl_callback_interface, 1, callback_id);
  set_creating(false);
  if (callback == nullptr) {
    OutOfMemory();
    return 0;
  }
  wl_callback* host_callback = nullptr;
  if (host_ != nullptr && host_source_ != nullptr && !doomed_) {
    // On the wire: the proxy gets its id now, and the caller writes the request with it.
    host_callback =
        on_wire ? reinterpret_cast<wl_callback*>(wl_proxy_create(
                      reinterpret_cast<wl_proxy*>(host_->display()), &wl_callback_interface))
                : wl_display_sync(host_->display());
  }
  if (host_callback == nullptr) {
    // No host to ask (the client is ending): answer as libwayland would.
    wl_callback_send_done(callback, wl_display_get_serial(wl_client_get_display(client_)));
    wl_resource_destroy(callback);
    return 0;
  }
  static const wl_callback_listener host_sync_listener = {HostSyncDoneThunk};
  const uint32_t host_id = wl_proxy_get_id(reinterpret_cast<wl_proxy*>(host_callback));
  auto* pending = new PendingSync{this, callback, host_callback, host_id};
  wl_callback_add_listener(host_callback, &host_sync_listener, pending);
  wl_resource_set_implementation(callback, nullptr, pending, GuestCallbackDestroyedThunk);
  pending_syncs_.insert(pending);
  if (fastpath_ != nullptr) host_->HookEvents(host_id, SyncDoneOnWire, pending);
  return on_wire ? host_id : 0;
}

void BridgeClient::OnGuestGetRegistry(wl_resource* display, uint32_t registry_id) {
  OnFirstRequest();
  if (!Admit(RelayKind::kOther)) return;
  ++registries_;
  stats_dirty_ = true;
  display_hook_.GetRegistry(client_, display, registry_id);
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
      SetGuestPaused(false);
    }
  }
  if ((mask & WL_EVENT_READABLE) != 0) {
    const NativeStatus status = host_->DispatchReadable();
    if (!status.ok()) return HostFailed(status.message());
    // What the host's events became for the guest goes now, not after another loop wakeup.
    if (fastpath_ != nullptr) fastpath_->FlushEvents();
  } else if ((mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) != 0) {
    return HostFailed("the host compositor closed this client's connection");
  }
}

void BridgeClient::HostFailed(const std::string& message) {
  if (host_source_ != nullptr) {
    wl_event_source_remove(host_source_);  // safe inside its own callback
    host_source_ = nullptr;
  }
  SetGuestPaused(false);  // its hang-up must reach libwayland-server again
  HostConnection::ProtocolError error;
  if (!doomed_ && host_ != nullptr && host_->GetProtocolError(&error)) {
    // The guest gets the host's own error, on its twin of the object the host named, so it
    // can tell what it did wrong.
    for (RelayObject* object : objects_) {
      if (object->proxy_ == nullptr || wl_proxy_get_id(object->proxy_) != error.id) continue;
      doomed_ = true;
      reason_ = "host-error";
      wl_resource_post_error(object->resource_, error.code, "host: %s",
                             error.message.empty() ? message.c_str() : error.message.c_str());
      break;
    }
  }
  Kill("host-error", message);
}

void BridgeClient::Destroyed() {
  // What libwayland-server still has for the guest (an error) reaches it before its socket closes.
  if (fastpath_ != nullptr) fastpath_->Close();
  // libwayland destroys the client's resources after this returns: detach them from the host
  // first, so their destroy callbacks only free memory.
  // (A mapped toplevel's unit reports it unmapped as it is detached.)
  for (RelayObject* object : objects_) object->DetachFromOwner();
  objects_.clear();
  // The guest callbacks of pending syncs are destroyed with the client's other resources.
  for (PendingSync* pending : pending_syncs_) {
    if (pending->host != nullptr) wl_callback_destroy(pending->host);
    pending->host = nullptr;
    pending->owner = nullptr;
  }
  pending_syncs_.clear();
  for (RetiredProxy* retired : retired_) {
    wl_callback_destroy(retired->sync);
    wl_proxy_destroy(retired->proxy);
    delete retired;
  }
  retired_.clear();
  display_hook_.Restore();
  if (deadline_source_ != nullptr) wl_event_source_remove(deadline_source_);
  deadline_source_ = nullptr;
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
    stats.bytes_copied = bytes_copied_;
    stats.damage_rects_dropped = damage_rects_dropped_;
    if (fastpath_ != nullptr) stats.fast_requests = fastpath_->fast_messages();
    if (fastpath_ != nullptr) stats.fast_events = fastpath_->fast_events();
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

void BridgeClient::GuestGetRegistryThunk(wl_client* client, wl_resource* display,
                                         uint32_t registry_id) {
  BridgeClient* self = From(client);
  if (self != nullptr) return self->OnGuestGetRegistry(display, registry_id);
  wl_client_post_implementation_error(client, "get_registry on a client the bridge does not know");
}

int BridgeClient::DeadlineThunk(void* data) {
  static_cast<BridgeClient*>(data)->OnDeadline();
  return 0;
}

bool BridgeClient::SyncDoneOnWire(void* data, const uint8_t* message, size_t size) {
  auto* pending = static_cast<PendingSync*>(data);
  BridgeClient* self = pending->owner;
  uint32_t header[2];
  std::memcpy(header, message, sizeof header);
  if (self == nullptr || self->fastpath_ == nullptr || pending->host == nullptr || size != 12 ||
      (header[1] & 0xffff) != WL_CALLBACK_DONE) {
    return false;
  }
  wl_resource* guest = pending->guest;
  // As HostSyncDoneThunk answers it, without libwayland's closures on either side.
  const uint32_t event[3] = {wl_resource_get_id(guest), (12u << 16) | WL_CALLBACK_DONE,
                             wl_display_get_serial(wl_client_get_display(self->client_))};
  if (!self->fastpath_->InjectEvent(reinterpret_cast<const uint8_t*>(event), sizeof event))
    return false;
  self->host_->UnhookEvents(pending->host_id);
  // libwayland-client never reads this done: the proxy is a zombie until the host's delete_id.
  wl_callback_destroy(pending->host);
  pending->host = nullptr;
  wl_resource_destroy(guest);  // frees `pending`; the guest's delete_id follows its done
  self->stats_dirty_ = true;
  return true;
}

void BridgeClient::HostSyncDoneThunk(void* data, wl_callback* callback, uint32_t /*serial*/) {
  auto* pending = static_cast<PendingSync*>(data);
  if (pending->owner != nullptr && pending->owner->host_ != nullptr)
    pending->owner->host_->UnhookEvents(pending->host_id);
  wl_callback_destroy(callback);
  pending->host = nullptr;
  // Every host event sent before this answer has been relayed already: the guest's sync is done.
  wl_resource* guest = pending->guest;
  wl_callback_send_done(
      guest, wl_display_get_serial(wl_client_get_display(wl_resource_get_client(guest))));
  wl_resource_destroy(guest);  // frees `pending`
}

void BridgeClient::Retire(wl_proxy* proxy) {
  RelayObject::MarkRetired(proxy, this);  // RelayObject::DispatchEvent drops what comes now
  auto* retired = new RetiredProxy{this, proxy, wl_display_sync(host_->display())};
  if (retired->sync == nullptr) {
    ProxyGone(proxy);
    wl_proxy_destroy(proxy);
    delete retired;
    return;
  }
  static const wl_callback_listener listener = {RetiredSyncDoneThunk};
  wl_callback_add_listener(retired->sync, &listener, retired);
  retired_.insert(retired);
}

void BridgeClient::ProxyGone(wl_proxy* proxy) {
  if (host_ == nullptr) return;
  const uint32_t id = wl_proxy_get_id(proxy);
  host_->UnwatchEvents(id);
  host_->ServerObjectDestroyed(id);
}

void BridgeClient::RetiredSyncDoneThunk(void* data, wl_callback* callback, uint32_t /*serial*/) {
  auto* retired = static_cast<RetiredProxy*>(data);
  wl_callback_destroy(callback);
  // The host read the destructor before this answer: no event for the proxy comes after it.
  retired->owner->ProxyGone(retired->proxy);
  wl_proxy_destroy(retired->proxy);
  retired->owner->retired_.erase(retired);
  delete retired;
}

void BridgeClient::GuestCallbackDestroyedThunk(wl_resource* resource) {
  auto* pending = static_cast<PendingSync*>(wl_resource_get_user_data(resource));
  if (pending->owner != nullptr) {
    pending->owner->pending_syncs_.erase(pending);
    if (pending->owner->host_ != nullptr) pending->owner->host_->UnhookEvents(pending->host_id);
  }
  if (pending->host != nullptr) wl_callback_destroy(pending->host);
  delete pending;
}

int BridgeClient::HostThunk(int /*fd*/, uint32_t mask, void* data) {
  static_cast<BridgeClient*>(data)->OnHostEvent(mask);
  return 0;
}

}  // namespace bridge
}  // namespace droidway
