// The display bridge: a small nested Wayland compositor on its own thread. Guest clients connect
// to a socket it listens on; each gets its own connection to the host compositor, and every guest
// object is relayed to a host object on that connection after the bridge's checks (allow-listed
// globals, wl_shm fds and geometry, sanitized app_id/title, per-client limits). Buffers travel as
// the same fds: the bridge never maps guest pixels.
#ifndef DROIDWAY_NATIVE_BRIDGE_BRIDGE_H_
#define DROIDWAY_NATIVE_BRIDGE_BRIDGE_H_

#include <sys/socket.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../native_error.h"
#include "../unique_fd.h"
#include "adaptive_poll.h"
#include "data_device_relay.h"
#include "dmabuf_policy.h"
#include "host_connection.h"

#include <wayland-server-core.h>

struct wl_registry;
struct wl_shm;
struct zwp_linux_dmabuf_v1;

namespace droidway {
namespace bridge {

class BridgeClient;
class HostConnection;
class WireFastPath;

/** `/proc/self/fdinfo/<loop's epoll fd>` opened read-only (invalid without /proc). */
UniqueFd OpenEpollFdinfo(wl_event_loop* loop);

/** Per-client caps; exceeding one disconnects the client with a protocol error. */
struct ClientLimits {
  uint32_t max_objects = 4096;
  uint32_t max_pools = 64;
  uint32_t max_buffers = 256;
  uint32_t max_surfaces = 128;
  /** fds the bridge keeps open for the client (shm pools, dma-buf planes being assembled). */
  uint32_t max_fds = 256;
  /** wl_region.add/subtract calls on one region (each rectangle costs the host per use). */
  uint32_t max_region_rects = 256;
  /** Damage rectangles of one surface per commit; more become one damage of the whole surface. */
  uint32_t max_damage_rects = 256;
};

/**
 * One ClientLimits field as the policy names it (`BridgeSettings.limits` of index.d.ts) and its
 * range. Both ways in read and write the limits through this table only: the in-process JS
 * class (bridge_js.cc) and the bridge process's configuration line (config_json.cc, parse and
 * echo), so a new limit is its field above, its row here, and the unit that enforces it.
 */
struct ClientLimitField {
  const char* name;
  uint32_t min;
  uint32_t max;
  uint32_t ClientLimits::*member;
};

inline constexpr ClientLimitField kClientLimitFields[] = {
    {"maxObjects", 1, 1u << 20, &ClientLimits::max_objects},
    {"maxPools", 1, 1u << 16, &ClientLimits::max_pools},
    {"maxBuffers", 1, 1u << 16, &ClientLimits::max_buffers},
    {"maxSurfaces", 1, 1u << 16, &ClientLimits::max_surfaces},
    {"maxFds", 1, 1u << 16, &ClientLimits::max_fds},
    {"maxRegionRects", 1, 1u << 16, &ClientLimits::max_region_rects},
    {"maxDamageRects", 1, 1u << 16, &ClientLimits::max_damage_rects},
};
static_assert(sizeof(ClientLimits) ==
                  sizeof(kClientLimitFields) / sizeof(ClientLimitField) * sizeof(uint32_t),
              "every ClientLimits field has its row in kClientLimitFields");

/** What a bridge is started with (validated by the JS edge and again by Bridge::Start). */
struct BridgeConfig {
  /** Absolute path of the guest-facing socket; must not exist yet. */
  std::string socket_path;
  /** Permission bits of the socket (0600 or 0660). */
  uint32_t socket_mode = 0600;
  /** Owner and group given to the socket before it listens (-1: the creator's). */
  int64_t socket_uid = -1;
  int64_t socket_gid = -1;
  /** Absolute path of the host compositor's socket. */
  std::string host_socket_path;
  /** Global interface names the guest may see (a subset of Bridge::SupportedGlobals()). */
  std::vector<std::string> globals;
  /** Require F_SEAL_SHRINK on memfd/tmpfs pools. */
  bool require_sealed = true;
  uint32_t max_clients = 16;
  /** Clients one guest uid may hold at once (0: half of max_clients, rounded up). */
  uint32_t max_clients_per_uid = 0;
  /** A connection that has not completed its first request by then is dropped. */
  int first_request_timeout_ms = 2000;
  ClientLimits limits;
  /**
   * The clipboard: wl_data_device_manager is offered (with wl_seat) unless the mode is off; it
   * is governed here, never through `globals`.
   */
  ClipboardConfig clipboard;
  /**
   * Bound on each blocking wait for the host compositor: startup only (a guest's sync is relayed
   * without waiting), unless the sync hook cannot be installed.
   */
  int host_timeout_ms = 5000;
  /**
   * Open the event loop's /proc fdinfo before 'ready' and keep it (a bridge process that will be
   * confined, and then may not open files); otherwise it is opened when a guest is paused.
   */
  bool preopen_epoll_info = false;
  /**
   * Longest poll for the next event before the loop sleeps, in µs (adaptive_poll.h); 0: never
   * poll. The window opens only while traffic is dense.
   */
  uint32_t poll_max_us = 200;
  /** Where host connections come from; empty: connect to host_socket_path directly. */
  HostConnection::Connector host_connector;
};

/** A notification for JS, produced on the bridge thread. */
struct BridgeEvent {
  /**
   * 'ready', 'client-connected', 'client-disconnected', 'toplevel-mapped',
   * 'toplevel-unmapped', 'violation', 'host-lost', 'error', 'stopped'.
   */
  std::string type;
  uint64_t client_id = 0;
  int32_t pid = 0;
  uint32_t uid = 0;
  std::string app_id;
  std::string title;
  std::string reason;
  std::string message;
  /** For 'ready': the globals offered, as "interface:version". */
  std::vector<std::string> globals;
};

/** Counters of one guest client (kept for a while after it disconnects). */
struct ClientStats {
  uint64_t id = 0;
  int32_t pid = 0;
  uint32_t uid = 0;
  bool connected = true;
  std::string disconnect_reason;
  uint64_t commits = 0;
  uint64_t shm_buffers_forwarded = 0;
  uint64_t dmabuf_buffers_forwarded = 0;
  /** Bytes copied from small unsealable shm pools into bridge-owned sealed memfds. */
  uint64_t bytes_copied = 0;
  /** Damage rectangles not forwarded: past `max_damage_rects` in one commit. */
  uint64_t damage_rects_dropped = 0;
  /** Requests relayed by the wire fast path (wire_fastpath.h) rather than through libwayland. */
  uint64_t fast_requests = 0;
  // Events the bridge wrote to the guest on the wire (a sync's done).
  uint64_t fast_events = 0;
  uint32_t objects = 0;
  uint32_t pools = 0;
  uint32_t buffers = 0;
  uint32_t surfaces = 0;
  std::map<std::string, uint64_t> fds_rejected;
  std::map<std::string, uint64_t> violations;
};

/** Bridge-wide counters plus every client's. */
struct BridgeStats {
  bool running = false;
  uint64_t clients_total = 0;
  /** The loop's polling before sleep (adaptive_poll.h): time spent, polls with and without an
   * event. */
  int64_t polled_ns = 0;
  /** The work (ns) that paid for the polling (adaptive_poll.h: at most 8 ns polled per ns). */
  int64_t poll_work_ns = 0;
  uint64_t poll_hits = 0;
  uint64_t poll_misses = 0;
  std::vector<ClientStats> clients;
};

/** A host global the guest may bind, as the host announced it. */
struct HostGlobal {
  uint32_t name = 0;
  std::string interface;
  uint32_t version = 0;
  /** For an offered global: the interface table and the version offered to guests. */
  const wl_interface* table = nullptr;
  uint32_t offered_version = 0;
  wl_global* global = nullptr;
};

/** One bridge session: its socket, its thread and its guest clients. */
class Bridge {
 public:
  using EventSink = std::function<void(BridgeEvent&&)>;

  /** Interface names the bridge knows how to relay. */
  static const std::vector<std::string>& SupportedGlobals();

  /**
   * Binds the guest socket (mode applied before listen(), so no client can connect through a
   * wider mode), creates the server and starts the bridge thread, which connects to the host,
   * learns its globals and then accepts guests ('ready' event) or reports 'error' and ends.
   * `sink` is called on the bridge thread.
   */
  static NativeStatus Start(BridgeConfig config, EventSink sink, std::unique_ptr<Bridge>* out);
  /** Stops (see Stop) and releases everything. */
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  /**
   * Wakes the bridge thread, which disconnects every guest, closes the host connections and
   * removes the socket; returns when the thread has ended. Idempotent; any thread but the
   * bridge's own.
   */
  void Stop();
  /** A consistent copy of the counters; any thread. */
  BridgeStats Stats() const;

  // --- used by BridgeClient and the relay, on the bridge thread only ---
  const BridgeConfig& config() const { return config_; }
  int wake_fd() const { return wake_fd_.get(); }
  /**
   * `/proc/self/fdinfo/<the loop's epoll fd>`, opened before the bridge announces `ready` (and
   * so before a confined bridge process loses the right to open files); -1 without /proc. Rewound
   * and read, it lists the watched fds as they are now.
   */
  int epoll_fdinfo_fd() const { return epoll_fdinfo_fd_.get(); }
  wl_event_loop* loop() const { return loop_; }
  const std::vector<uint32_t>& host_shm_formats() const { return shm_formats_; }
  const DmabufFormatTable& host_dmabuf_formats() const { return dmabuf_formats_; }
  void Emit(BridgeEvent&& event);
  /** Runs `update` on the stats of client `id` under the stats lock. */
  void UpdateStats(uint64_t id, const std::function<void(ClientStats&)>& update);
  /** Destroys the client at the top of the next loop iteration (never inside its dispatch). */
  void ScheduleDestroy(uint64_t id);
  /** Called by a BridgeClient being destroyed. */
  void ForgetClient(uint64_t id);

 private:
  Bridge(BridgeConfig config, EventSink sink);

  NativeStatus BindSocket();
  void Run();
  NativeStatus ConnectHost();
  NativeStatus CreateGlobals();
  void LoopIteration();
  /** One wl_event_loop_dispatch, after polling for AdaptivePoll's window; <0 as it returns. */
  int WaitForEvent();
  void PublishPollStats();
  void ReapDoomed();
  void FlushHosts();
  void Teardown(const std::string& reason, bool emit = true);
  void OnClientCreated(wl_client* client);
  /** Accepts a guest connection and makes its client on a relayed socket (wire_fastpath.h). */
  void OnAccept();
  void OnHostEvent(uint32_t mask);
  void OnHostGlobal(uint32_t name, const char* interface, uint32_t version);
  void OnHostGlobalRemoved(uint32_t name);

  static void ClientCreatedThunk(wl_listener* listener, void* data);
  static int WakeThunk(int fd, uint32_t mask, void* data);
  static int AcceptThunk(int fd, uint32_t mask, void* data);
  static int HostThunk(int fd, uint32_t mask, void* data);
  static void BindThunk(wl_client* client, void* data, uint32_t version, uint32_t id);
  static void RegistryGlobalThunk(void* data, wl_registry* registry, uint32_t name,
                                  const char* interface, uint32_t version);
  static void RegistryGlobalRemoveThunk(void* data, wl_registry* registry, uint32_t name);
  static void ShmFormatThunk(void* data, wl_shm* shm, uint32_t format);
  static void DmabufFormatThunk(void* data, zwp_linux_dmabuf_v1* dmabuf, uint32_t format);
  static void DmabufModifierThunk(void* data, zwp_linux_dmabuf_v1* dmabuf, uint32_t format,
                                  uint32_t modifier_hi, uint32_t modifier_lo);

  const BridgeConfig config_;
  const EventSink sink_;

  UniqueFd wake_fd_;
  UniqueFd epoll_fdinfo_fd_;
  UniqueFd listen_fd_;
  wl_event_source* listen_source_ = nullptr;
  // While OnAccept makes a client: its relay and the credentials of the guest's own socket
  // (libwayland-server's are the bridge's, from its end of the socketpair).
  std::unique_ptr<WireFastPath>* accepting_ = nullptr;
  struct ucred accepting_cred_ {};
  uint64_t socket_dev_ = 0;
  uint64_t socket_ino_ = 0;
  wl_display* server_ = nullptr;
  wl_event_loop* loop_ = nullptr;
  wl_event_source* wake_source_ = nullptr;
  wl_event_source* host_source_ = nullptr;
  struct ListenerSlot {
    wl_listener listener;
    Bridge* self;
  };
  ListenerSlot client_created_{};
  bool socket_bound_ = false;
  std::unique_ptr<HostConnection> host_;  // the bridge's own: globals, formats, liveness
  wl_registry* host_registry_ = nullptr;
  wl_shm* host_shm_ = nullptr;
  zwp_linux_dmabuf_v1* host_dmabuf_ = nullptr;
  // Every host global seen; offered ones also have a wl_global. unique_ptr: the wl_global's
  // user data points at its entry.
  std::vector<std::unique_ptr<HostGlobal>> host_globals_;
  std::vector<uint32_t> shm_formats_;
  DmabufFormatTable dmabuf_formats_;
  std::string stop_reason_ = "stopped";

  std::map<uint64_t, BridgeClient*> clients_;
  std::vector<uint64_t> doomed_;
  uint64_t next_client_id_ = 1;
  // A client went away since the last loop iteration: give its memory back to the system.
  bool trim_pending_ = false;
  bool stopping_ = false;
  AdaptivePoll poll_;
  int64_t busy_since_ = 0;  // when the last wait ended (0: before the first)

  std::thread thread_;
  std::mutex stop_mutex_;

  mutable std::mutex stats_mutex_;
  bool running_ = false;
  uint64_t clients_total_ = 0;
  int64_t polled_ns_ = 0;
  int64_t poll_work_ns_ = 0;
  uint64_t poll_hits_ = 0;
  uint64_t poll_misses_ = 0;
  std::map<uint64_t, ClientStats> stats_;
  std::deque<uint64_t> finished_;

  friend class BridgeClient;
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_BRIDGE_H_
