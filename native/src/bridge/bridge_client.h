// One guest client of the bridge: its own connection to the host compositor (so a host-side
// error caused by one guest ends that guest only), the relay objects it owns, its limits and its
// counters.
#ifndef DROIDWAY_NATIVE_BRIDGE_BRIDGE_CLIENT_H_
#define DROIDWAY_NATIVE_BRIDGE_BRIDGE_CLIENT_H_

#include <wayland-server-core.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>

#include "../native_error.h"
#include "data_device_relay.h"
#include "guest_display_hook.h"
#include "relay_object.h"

struct wl_callback;
struct wl_registry;

namespace droidway {
namespace bridge {

class Bridge;
class HostConnection;
struct HostGlobal;
class WireFastPath;

/** Lives from the guest's connection to its destruction (wl_client destroy listener). */
class BridgeClient {
 public:
  /** Attaches a BridgeClient to `client`; it deletes itself when the client is destroyed. */
  static BridgeClient* Attach(Bridge* bridge, wl_client* client, uint64_t id, uint32_t uid);
  /** The BridgeClient of `client`, or nullptr. */
  static BridgeClient* From(wl_client* client);

  /** Opens this client's host connection and watches it on the bridge's loop. */
  NativeStatus ConnectHost(const std::string& host_socket_path);
  /**
   * Ends the client unless it has completed its first request within `timeout_ms` (a connection
   * that never speaks would hold a client slot forever).
   */
  NativeStatus StartFirstRequestDeadline(int timeout_ms);
  /** Binds host global `global` at `version` for the guest's new resource `id`. */
  void BindGlobal(const HostGlobal& global, const wl_interface* interface, uint32_t version,
                  uint32_t id);

  /**
   * Ends the client for `reason`: posts an implementation error (unless one was posted already)
   * and schedules its destruction. Safe inside the client's own dispatch.
   */
  void Kill(const std::string& reason, const std::string& message);
  /**
   * Ends the client because the bridge ran out of memory for it (its memory cap): posts
   * wl_display's no_memory error and schedules its destruction, with the reason "no-memory".
   */
  void OutOfMemory();
  /**
   * Records a policy violation for which a protocol error has just been posted on one of the
   * client's resources (libwayland disconnects the client after that). `fd_reason` counts it
   * under fds rejected too.
   */
  void RecordViolation(const std::string& reason, const std::string& message, bool fd_reason);

  /** Whether one more object of `kind` fits the limits; posts the error and kills when not. */
  bool Admit(RelayKind kind);
  void Added(RelayObject* object);
  void Removed(RelayObject* object);
  void CountCommit(bool shm_buffer_attached);
  void CountDmabufBuffer();
  /** Counts bytes the bridge copied for this client (small unsealable shm pools). */
  void CountCopied(uint64_t bytes);
  /** A damage rectangle past the per-commit cap, not forwarded. */
  void CountDamageDropped();
  /** Whether the client may make the bridge keep one more fd; posts the error and kills if not. */
  bool AdmitFd();
  void FdsKept(int count) { fds_kept_ += count; }
  void FdsReleased(int count) { fds_kept_ -= count; }
  /** Copies the counters kept on the bridge thread into the shared stats, if they changed. */
  void PublishStats();
  void EmitToplevel(bool mapped, const std::string& app_id, const std::string& title);

  /** True while the relay creates a resource itself (so a wl_callback is not a guest sync). */
  bool creating() const { return creating_; }
  void set_creating(bool creating) { creating_ = creating; }

  wl_client* client() const { return client_; }
  uint64_t id() const { return id_; }
  uint32_t uid() const { return uid_; }
  Bridge* bridge() const { return bridge_; }
  bool require_sealed() const;
  /** The client's clipboard state, made on first use. */
  DataDeviceRelay* clipboard();
  /** The client's own host connection; nullptr once it failed or the client is ending. */
  HostConnection* host() const { return host_.get(); }
  /**
   * A relayed host proxy is about to be destroyed: its host connection stops reading its events
   * and, when the host made it, remembers its id as gone (HostConnection::ServerObjectDestroyed).
   */
  void ProxyGone(wl_proxy* proxy);
  /** Whether any pool of this client is a bridge-owned copy (attach then looks for it). */
  bool has_copies() const { return has_copies_; }
  void set_has_copies() { has_copies_ = true; }
  /** Relays the guest's socket through `fastpath` (see wire_fastpath.h) from now on. */
  NativeStatus AdoptFastPath(std::unique_ptr<WireFastPath> fastpath);

 private:
  BridgeClient(Bridge* bridge, wl_client* client, uint64_t id, uint32_t uid);
  ~BridgeClient();

  void Destroyed();
  void OnResourceCreated(wl_resource* resource);
  void OnGuestSync(uint32_t callback_id);
  /**
   * Whether libwayland-server would take `id` as a new object of this guest now: one it made
   * (a client id), and the next one past the highest it holds or a free one below it. The wire
   * fast path makes objects only for ids this accepts; anything else goes through libwayland.
   */
  bool NewIdFree(uint32_t id) const;
  /**
   * The guest's wl_display.sync `callback_id`, relayed on the wire: as OnGuestSync, but the
   * host callback is made without a request (the wire fast path writes it, in order with its
   * other bytes); `*host_id` is its id, or 0 when nothing is to be written (the sync was
   * answered here, or the client is ending).
   */
  void FastSync(uint32_t callback_id, uint32_t* host_id);
  /**
   * Relays the sync `callback_id` to the host: `on_wire`, as FastSync does; otherwise through
   * libwayland-client. Returns the host callback's id when `on_wire` (0: nothing to write).
   */
  uint32_t StartSync(uint32_t callback_id, bool on_wire);
  void OnGuestGetRegistry(wl_resource* display, uint32_t registry_id);
  void OnFirstRequest();
  void OnHostEvent(uint32_t mask);
  /** Ends the client after its host connection failed, relaying a host protocol error as is. */
  void HostFailed(const std::string& message);
  /**
   * Stops (or resumes) reading the guest's socket while its host connection cannot take more
   * requests, by changing the socket's entry in the bridge loop's epoll set (libwayland-server
   * has no call for it). Returns false when the entry could not be found.
   */
  bool SetGuestPaused(bool paused);
  /** Re-applies a pause after libwayland-server may have re-armed the socket (flush_clients). */
  void ReapplyPause();
  /** Whether the first-request deadline has fired without a request. */
  void OnDeadline();

  static void DestroyedThunk(wl_listener* listener, void* data);
  static void ResourceCreatedThunk(wl_listener* listener, void* data);
  static int HostThunk(int fd, uint32_t mask, void* data);
  static void GuestSyncThunk(wl_client* client, wl_resource* display, uint32_t callback_id);
  static void GuestGetRegistryThunk(wl_client* client, wl_resource* display, uint32_t registry_id);
  static int DeadlineThunk(void* data);
  static void HostSyncDoneThunk(void* data, wl_callback* callback, uint32_t serial);
  static void GuestCallbackDestroyedThunk(wl_resource* resource);
  /**
   * Keeps the host proxy of a destroyed relay object until the host answers a sync sent after
   * the destructor request, dropping the objects its events make meanwhile (RelayObject::Forward
   * says why).
   */
  void Retire(wl_proxy* proxy);
  static void RetiredSyncDoneThunk(void* data, wl_callback* callback, uint32_t serial);

  // A host proxy kept by Retire, and the sync that frees it.
  struct RetiredProxy {
    BridgeClient* owner;
    wl_proxy* proxy;
    wl_callback* sync;
  };

  // A guest wl_display.sync waiting for the same sync on the host connection.
  struct PendingSync {
    BridgeClient* owner;
    wl_resource* guest;
    wl_callback* host;
    uint32_t host_id;
  };
  /**
   * The host's wl_callback.done of a pending sync, first in its group (HostConnection::
   * HookEvents): written to the guest on the wire, after all libwayland-server has for it.
   */
  static bool SyncDoneOnWire(void* data, const uint8_t* message, size_t size);

  Bridge* bridge_;
  wl_client* client_;
  uint64_t id_;
  uint32_t uid_;
  std::unique_ptr<HostConnection> host_;
  wl_registry* host_registry_ = nullptr;
  wl_event_source* host_source_ = nullptr;
  std::unordered_set<RelayObject*> objects_;
  std::unordered_set<PendingSync*> pending_syncs_;
  std::unordered_set<RetiredProxy*> retired_;
  GuestDisplayHook display_hook_;
  uint32_t pools_ = 0;
  uint32_t buffers_ = 0;
  uint32_t surfaces_ = 0;
  // Registries libwayland made for the guest (wl_registry has no destructor: they live as long
  // as the client), counted against max_objects with the relay objects and pending syncs.
  uint32_t registries_ = 0;
  bool first_request_seen_ = false;
  // The highest client id libwayland-server made a resource for (1: the wl_display).
  uint32_t highest_client_id_ = 1;
  wl_event_source* deadline_source_ = nullptr;
  // The guest socket's epoll entry (data is libwayland's event source) while reading is paused.
  bool guest_paused_ = false;
  bool epoll_data_known_ = false;
  int epoll_fd_watched_ = -1;  // libwayland's duplicate of the guest socket
  uint64_t epoll_data_ = 0;
  bool creating_ = false;
  // Whether any pool of this client is a bridge-owned copy (attach then looks for it).
  bool has_copies_ = false;
  bool doomed_ = false;
  bool write_blocked_ = false;
  // Counted here on every request and published once per loop iteration, so the hot path takes
  // no lock.
  uint64_t commits_ = 0;
  uint64_t shm_forwarded_ = 0;
  uint64_t dmabuf_forwarded_ = 0;
  uint64_t bytes_copied_ = 0;
  uint64_t damage_rects_dropped_ = 0;
  int fds_kept_ = 0;
  bool stats_dirty_ = false;
  std::string reason_;
  std::unique_ptr<DataDeviceRelay> clipboard_;
  std::unique_ptr<WireFastPath> fastpath_;

  // Plain structs, so wl_container_of (offsetof) stays well-defined.
  struct ListenerSlot {
    wl_listener listener;
    BridgeClient* self;
  };
  ListenerSlot destroy_listener_;
  ListenerSlot resource_created_listener_;

  friend class Bridge;
  friend class RelayObject;
  friend class WireFastPath;
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_BRIDGE_CLIENT_H_
