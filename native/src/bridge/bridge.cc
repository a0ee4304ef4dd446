#include "bridge.h"

#include <fcntl.h>

#include <malloc.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "bridge_client.h"
#include "host_connection.h"
#include "relay_unit.h"
#include "wayland_headers.h"
#include "wire_fastpath.h"

namespace droidway {
namespace bridge {

UniqueFd OpenEpollFdinfo(wl_event_loop* loop) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fdinfo/%d", wl_event_loop_get_fd(loop));
  return UniqueFd(::open(path, O_RDONLY | O_CLOEXEC));
}

}  // namespace bridge
namespace bridge {
namespace {

// Disconnected clients whose counters stay readable through Stats().
constexpr size_t kFinishedClientsKept = 256;

int64_t MonotonicNs() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

struct SupportedGlobal {
  const char* name;
  const wl_interface* table;
  /** Highest version offered (0: the generated table's). */
  uint32_t max_version;
  /** The relay unit of the global's protocol (relay_unit.h); nullptr: the generic relay alone. */
  const RelayUnit* unit;
};

// linux-dmabuf needs version 3 on the host (modifier events fill the table the checks use) and
// is offered at most at 3: version 4's feedback objects carry a format-table fd and device ids
// the relay does not check yet, and guests fall back to the modifier events without them.
constexpr uint32_t kDmabufVersion = 3;

// What the relay can carry.
const SupportedGlobal kSupported[] = {
    {"wl_compositor", &wl_compositor_interface, 0, &kSurfaceUnit},
    {"wl_subcompositor", &wl_subcompositor_interface, 0, nullptr},
    {"wl_shm", &wl_shm_interface, 0, &kShmUnit},
    {"wl_output", &wl_output_interface, 0, nullptr},
    {"wl_seat", &wl_seat_interface, 0, &kSeatUnit},
    {"xdg_wm_base", &xdg_wm_base_interface, 0, &kXdgUnit},
    {"wp_viewporter", &wp_viewporter_interface, 0, nullptr},
    {"wp_presentation", &wp_presentation_interface, 0, nullptr},
    {"zwp_linux_dmabuf_v1", &zwp_linux_dmabuf_v1_interface, kDmabufVersion, &kDmabufUnit},
    // Android's hwcomposer binds both (mouse-look in games, pointer capture); every request
    // names only the guest's own surfaces, pointers and regions, mapped like any other object.
    {"zwp_relative_pointer_manager_v1", &zwp_relative_pointer_manager_v1_interface, 0, nullptr},
    {"zwp_pointer_constraints_v1", &zwp_pointer_constraints_v1_interface, 0, nullptr},
    // HiDPI at fractional scales: the host's preferred scale (in 120ths) reaches the guest, which
    // then draws at that density and sets a viewport. One event, no fds; get_fractional_scale
    // names only the guest's own surface. Offered only where the host offers it.
    {"wp_fractional_scale_manager_v1", &wp_fractional_scale_manager_v1_interface, 0, nullptr},
    // Pen tablets and their pads (Android's hwcomposer binds it when offered). The tablets, tools
    // and pads are objects the host creates in events, paired like any other; no fds either way.
    // Two things are not passed through: the pads' feedback strings go to the host sanitized as
    // titles are, and the device node paths of tablets and pads never reach the guest.
    {"zwp_tablet_manager_v2", &zwp_tablet_manager_v2_interface, 0, &kTabletUnit},
};

// wl_data_device_manager is not named by policies: it comes with wl_seat when the clipboard is
// on (CreateGlobals).
const SupportedGlobal kClipboardGlobal = {"wl_data_device_manager",
                                          &wl_data_device_manager_interface, 0, &kDataDeviceUnit};

bool Wanted(const std::vector<std::string>& globals, const std::string& name) {
  return std::find(globals.begin(), globals.end(), name) != globals.end();
}

}  // namespace

const RelayUnit* const* RegisteredRelayUnits(size_t* count) {
  static const std::vector<const RelayUnit*> units = [] {
    std::vector<const RelayUnit*> list;
    auto add = [&list](const SupportedGlobal& global) {
      if (global.unit != nullptr && std::find(list.begin(), list.end(), global.unit) == list.end())
        list.push_back(global.unit);
    };
    for (const SupportedGlobal& global : kSupported) add(global);
    add(kClipboardGlobal);
    return list;
  }();
  *count = units.size();
  return units.data();
}

const RelayInterface* FindRelayInterface(const char* name) {
  // Built once, on the first object (objects are made on the bridge thread only, and the
  // initialization of a function-local static is thread-safe anyway).
  static const std::unordered_map<std::string, const RelayInterface*> by_name = [] {
    std::unordered_map<std::string, const RelayInterface*> map;
    size_t count = 0;
    const RelayUnit* const* units = RegisteredRelayUnits(&count);
    for (size_t u = 0; u < count; ++u) {
      for (size_t i = 0; i < units[u]->count; ++i)
        map.emplace(units[u]->interfaces[i].name, &units[u]->interfaces[i]);
    }
    return map;
  }();
  const auto found = by_name.find(name);
  return found != by_name.end() ? found->second : nullptr;
}

const std::vector<std::string>& Bridge::SupportedGlobals() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> list;
    for (const auto& entry : kSupported) list.emplace_back(entry.name);
    return list;
  }();
  return names;
}

NativeStatus Bridge::Start(BridgeConfig config, EventSink sink, std::unique_ptr<Bridge>* out) {
  const size_t max_path = sizeof(sockaddr_un::sun_path) - 1;
  for (const std::string* path : {&config.socket_path, &config.host_socket_path}) {
    if (path->empty() || (*path)[0] != '/' || path->size() > max_path ||
        path->find('\0') != std::string::npos) {
      return NativeStatus::Error(
          -EINVAL, "bind",
          "socket paths must be absolute and at most " + std::to_string(max_path) + " bytes");
    }
  }
  if (config.socket_mode != 0600 && config.socket_mode != 0660) {
    return NativeStatus::Error(-EINVAL, "chmod", "socket mode must be 0600 or 0660");
  }
  if (config.socket_uid < -1 || config.socket_uid > 0xfffffffe || config.socket_gid < -1 ||
      config.socket_gid > 0xfffffffe) {
    return NativeStatus::Error(-EINVAL, "chown", "socket owner out of range");
  }
  for (const std::string& name : config.globals) {
    const auto& supported = SupportedGlobals();
    if (std::find(supported.begin(), supported.end(), name) == supported.end()) {
      return NativeStatus::Error(-EINVAL, "bind", "global " + name + " cannot be relayed");
    }
  }
  const ClipboardConfig& clipboard = config.clipboard;
  if (clipboard.mime_types.size() > kClipboardMaxMimeTypes ||
      !std::all_of(clipboard.mime_types.begin(), clipboard.mime_types.end(), ValidClipboardMime)) {
    return NativeStatus::Error(-EINVAL, "clipboard",
                               "clipboard MIME types: at most " +
                                   std::to_string(kClipboardMaxMimeTypes) +
                                   " printable ASCII strings of 1 to 255 bytes");
  }
  if (clipboard.max_bytes < kClipboardMinBytes || clipboard.max_bytes > kClipboardMaxBytes) {
    return NativeStatus::Error(-EINVAL, "clipboard", "clipboard maxBytes out of range");
  }
  std::unique_ptr<Bridge> bridge(new Bridge(std::move(config), std::move(sink)));
  bridge->wake_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!bridge->wake_fd_.valid()) return NativeStatus::FromErrno("eventfd", "bridge wake-up fd");
  NativeStatus status = bridge->BindSocket();
  if (!status.ok()) return status;
  bridge->server_ = wl_display_create();
  if (bridge->server_ == nullptr) {
    return NativeStatus::FromErrno("wl_display_create", "bridge server display");
  }
  bridge->loop_ = wl_display_get_event_loop(bridge->server_);
  bridge->wake_source_ = wl_event_loop_add_fd(bridge->loop_, bridge->wake_fd_.get(),
                                              WL_EVENT_READABLE, WakeThunk, bridge.get());
  if (bridge->wake_source_ == nullptr) {
    return NativeStatus::FromErrno("wl_event_loop_add_fd", "watching the wake-up fd");
  }
  bridge->client_created_.listener.notify = ClientCreatedThunk;
  bridge->client_created_.self = bridge.get();
  wl_display_add_client_created_listener(bridge->server_, &bridge->client_created_.listener);
  {
    std::lock_guard<std::mutex> lock(bridge->stats_mutex_);
    bridge->running_ = true;
  }
  bridge->thread_ = std::thread(&Bridge::Run, bridge.get());
  *out = std::move(bridge);
  return {};
}

Bridge::Bridge(BridgeConfig config, EventSink sink)
    : config_(std::move(config)),
      sink_(std::move(sink)),
      poll_(static_cast<int64_t>(config_.poll_max_us) * 1000) {}

NativeStatus Bridge::BindSocket() {
  struct sockaddr_un address;
  std::memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, config_.socket_path.data(), config_.socket_path.size());
  listen_fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listen_fd_.valid()) return NativeStatus::FromErrno("socket", "bridge socket");
  if (::bind(listen_fd_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0) {
    return NativeStatus::FromErrno("bind", "bind bridge socket " + config_.socket_path);
  }
  socket_bound_ = true;
  struct stat socket_stat;
  if (::stat(config_.socket_path.c_str(), &socket_stat) < 0) {
    return NativeStatus::FromErrno("stat", "stat bridge socket " + config_.socket_path);
  }
  socket_dev_ = socket_stat.st_dev;
  socket_ino_ = socket_stat.st_ino;
  // Before listen(): until then every connect() is refused, so the umask's mode and owner never
  // serve. lchown: the path is in a folder the guest may write to.
  if ((config_.socket_uid >= 0 || config_.socket_gid >= 0) &&
      ::lchown(config_.socket_path.c_str(), static_cast<uid_t>(config_.socket_uid),
               static_cast<gid_t>(config_.socket_gid)) < 0) {
    return NativeStatus::FromErrno("chown", "chown bridge socket " + config_.socket_path);
  }
  if (::chmod(config_.socket_path.c_str(), config_.socket_mode) < 0) {
    return NativeStatus::FromErrno("chmod", "chmod bridge socket " + config_.socket_path);
  }
  if (::listen(listen_fd_.get(), 128) < 0) {
    return NativeStatus::FromErrno("listen", "listen on bridge socket " + config_.socket_path);
  }
  return {};
}

Bridge::~Bridge() {
  Stop();
  if (server_ != nullptr || socket_bound_) Teardown("stopped", false);  // the thread never ran
}

void Bridge::Stop() {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  // An eventfd write only fails when the counter would overflow, and then it is readable anyway.
  (void)!::write(wake_fd_.get(), &one, sizeof one);
  thread_.join();
  wake_fd_.reset();  // everything else went with the thread's teardown
}

BridgeStats Bridge::Stats() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  BridgeStats out;
  out.running = running_;
  out.clients_total = clients_total_;
  out.polled_ns = polled_ns_;
  out.poll_work_ns = poll_work_ns_;
  out.poll_hits = poll_hits_;
  out.poll_misses = poll_misses_;
  for (const auto& entry : stats_) out.clients.push_back(entry.second);
  return out;
}

void Bridge::Emit(BridgeEvent&& event) {
  if (sink_) sink_(std::move(event));
}

void Bridge::UpdateStats(uint64_t id, const std::function<void(ClientStats&)>& update) {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  auto it = stats_.find(id);
  if (it != stats_.end()) update(it->second);
}

void Bridge::ScheduleDestroy(uint64_t id) {
  if (std::find(doomed_.begin(), doomed_.end(), id) == doomed_.end()) doomed_.push_back(id);
}

void Bridge::ForgetClient(uint64_t id) {
  clients_.erase(id);
  trim_pending_ = true;
  std::lock_guard<std::mutex> lock(stats_mutex_);
  finished_.push_back(id);
  while (finished_.size() > kFinishedClientsKept) {
    stats_.erase(finished_.front());
    finished_.pop_front();
  }
}

void Bridge::Run() {
  NativeStatus status = ConnectHost();
  if (status.ok()) status = CreateGlobals();
  if (status.ok()) {
    // Accepted here rather than by libwayland-server, which gets a relayed socket instead.
    listen_source_ =
        wl_event_loop_add_fd(loop_, listen_fd_.get(), WL_EVENT_READABLE, AcceptThunk, this);
    if (listen_source_ == nullptr) {
      status = NativeStatus::FromErrno("wl_event_loop_add_fd", "serving the bridge socket");
    }
  }
  if (!status.ok()) {
    if (status.code() == -ECANCELED) return Teardown("stopped");
    BridgeEvent event;
    event.type = "error";
    event.reason = "host-unavailable";
    event.message = status.message();
    Emit(std::move(event));
    return Teardown("error");
  }
  host_source_ = wl_event_loop_add_fd(loop_, host_->fd(), WL_EVENT_READABLE, HostThunk, this);
  if (config_.preopen_epoll_info) epoll_fdinfo_fd_ = OpenEpollFdinfo(loop_);
  BridgeEvent ready;
  ready.type = "ready";
  for (const auto& global : host_globals_) {
    if (global->global != nullptr) {
      ready.globals.push_back(global->interface + ":" + std::to_string(global->offered_version));
    }
  }
  Emit(std::move(ready));
  while (!stopping_) LoopIteration();
  Teardown(stop_reason_);
}

NativeStatus Bridge::ConnectHost() {
  NativeStatus status =
      HostConnection::Connect(config_.host_socket_path, &host_, config_.host_connector);
  if (!status.ok()) return status;
  static const wl_registry_listener registry_listener = {RegistryGlobalThunk,
                                                         RegistryGlobalRemoveThunk};
  host_registry_ = wl_display_get_registry(host_->display());
  wl_registry_add_listener(host_registry_, &registry_listener, this);
  status = host_->Roundtrip(wake_fd_.get(), config_.host_timeout_ms);
  if (!status.ok()) return status;
  bool bound = false;
  for (const auto& global : host_globals_) {
    if (global->interface == "wl_shm" && host_shm_ == nullptr) {
      static const wl_shm_listener shm_listener = {ShmFormatThunk};
      host_shm_ = static_cast<wl_shm*>(
          wl_registry_bind(host_registry_, global->name, &wl_shm_interface, 1));
      wl_shm_add_listener(host_shm_, &shm_listener, this);
      bound = true;
    } else if (global->interface == "zwp_linux_dmabuf_v1" && host_dmabuf_ == nullptr &&
               global->version >= kDmabufVersion && Wanted(config_.globals, global->interface)) {
      static const zwp_linux_dmabuf_v1_listener dmabuf_listener = {DmabufFormatThunk,
                                                                   DmabufModifierThunk};
      host_dmabuf_ = static_cast<zwp_linux_dmabuf_v1*>(wl_registry_bind(
          host_registry_, global->name, &zwp_linux_dmabuf_v1_interface, kDmabufVersion));
      zwp_linux_dmabuf_v1_add_listener(host_dmabuf_, &dmabuf_listener, this);
      bound = true;
    }
  }
  if (bound) return host_->Roundtrip(wake_fd_.get(), config_.host_timeout_ms);
  return {};
}

NativeStatus Bridge::CreateGlobals() {
  for (const auto& global : host_globals_) {
    if (global->interface == "wl_data_device_manager") {
      // A data device is made for a seat: without one the global would be of no use.
      if (config_.clipboard.mode == ClipboardMode::kOff || !Wanted(config_.globals, "wl_seat"))
        continue;
      global->table = kClipboardGlobal.table;
      global->offered_version =
          std::min(global->version, static_cast<uint32_t>(global->table->version));
      global->global =
          wl_global_create(server_, global->table, static_cast<int>(global->offered_version),
                           global.get(), BindThunk);
      if (global->global == nullptr) {
        return NativeStatus::FromErrno("wl_global_create", "offering " + global->interface);
      }
      continue;
    }
    if (!Wanted(config_.globals, global->interface)) continue;
    // Without the host's table every dma-buf would be refused: better not to offer it at all.
    if (global->interface == "zwp_linux_dmabuf_v1" && host_dmabuf_ == nullptr) continue;
    for (const auto& entry : kSupported) {
      if (global->interface != entry.name) continue;
      global->table = entry.table;
      uint32_t ours = static_cast<uint32_t>(entry.table->version);
      if (entry.max_version != 0) ours = std::min(ours, entry.max_version);
      global->offered_version = std::min(global->version, ours);
      global->global = wl_global_create(
          server_, entry.table, static_cast<int>(global->offered_version), global.get(), BindThunk);
      if (global->global == nullptr) {
        return NativeStatus::FromErrno("wl_global_create", "offering " + global->interface);
      }
    }
  }
  return {};
}

void Bridge::OnHostGlobal(uint32_t name, const char* interface, uint32_t version) {
  auto global = std::make_unique<HostGlobal>();
  global->name = name;
  global->interface = interface;
  global->version = version;
  host_globals_.push_back(std::move(global));
}

void Bridge::OnHostGlobalRemoved(uint32_t name) {
  for (const auto& global : host_globals_) {
    // Removed, not destroyed: clients may still bind it for a while (libwayland's rule); they
    // then reach a dead host name and only that client ends. The entry lives until teardown.
    if (global->name == name && global->global != nullptr) wl_global_remove(global->global);
  }
}

void Bridge::LoopIteration() {
  ReapDoomed();
  if (trim_pending_) {
    // A flood's many small allocations (closures, resources) otherwise stay in glibc's arenas
    // after the guest is gone.
    trim_pending_ = false;
    malloc_trim(0);
  }
  FlushHosts();
  wl_display_flush_clients(server_);
  for (const auto& entry : clients_) entry.second->ReapplyPause();
  if (WaitForEvent() < 0 && errno != EINTR) {
    BridgeEvent event;
    event.type = "error";
    event.reason = "event-loop";
    event.message = std::string("event loop failed: ") + std::strerror(errno);
    Emit(std::move(event));
    stop_reason_ = "error";
    stopping_ = true;
  }
}

int Bridge::WaitForEvent() {
  if (poll_.max_ns() == 0) return wl_event_loop_dispatch(loop_, -1);
  // Waiting and dispatching apart, so that the work between two waits is known (it pays for the
  // polling): poll the loop's epoll fd (readable while any source is ready), then dispatch
  // without waiting.
  int64_t now = MonotonicNs();
  if (busy_since_ != 0) poll_.AfterBusy(now - busy_since_);
  pollfd loop_fd{wl_event_loop_get_fd(loop_), POLLIN, 0};
  bool found = false;
  const int64_t window = poll_.window_ns();
  if (window > 0) {
    const int64_t start = now;
    while (!found && now - start < window) {
      found = ::poll(&loop_fd, 1, 0) > 0;
      now = MonotonicNs();
    }
    poll_.AfterPoll(found, now - start);
    PublishPollStats();
  }
  if (!found) {
    // What wl_event_loop_dispatch runs before it waits.
    wl_event_loop_dispatch_idle(loop_);
    const int64_t before = MonotonicNs();
    if (::poll(&loop_fd, 1, -1) < 0) return -1;
    now = MonotonicNs();
    poll_.AfterSleep(now - before);
  }
  busy_since_ = now;
  return wl_event_loop_dispatch(loop_, 0);
}

void Bridge::PublishPollStats() {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  polled_ns_ = poll_.polled_ns();
  poll_work_ns_ = poll_.busy_ns();
  poll_hits_ = poll_.hits();
  poll_misses_ = poll_.misses();
}

void Bridge::ReapDoomed() {
  std::vector<uint64_t> doomed;
  doomed.swap(doomed_);
  for (uint64_t id : doomed) {
    auto it = clients_.find(id);
    if (it != clients_.end()) {
      wl_client_flush(it->second->client());
      wl_client_destroy(it->second->client());
    }
  }
}

void Bridge::FlushHosts() {
  bool blocked = false;
  if (host_ != nullptr && !host_->Flush(&blocked).ok()) {
    stop_reason_ = "host-lost";
    stopping_ = true;
  }
  for (const auto& entry : clients_) {
    BridgeClient* client = entry.second;
    client->PublishStats();
    if (client->host_ == nullptr || client->host_source_ == nullptr) continue;
    const NativeStatus status = client->host_->Flush(&blocked);
    if (!status.ok()) {
      client->HostFailed(status.message());
    } else if (blocked && !client->write_blocked_) {
      // Until the host drains, reading more from this guest would only pile requests up
      // (libwayland-client fails the connection once its buffer is full).
      client->write_blocked_ = true;
      wl_event_source_fd_update(client->host_source_, WL_EVENT_READABLE | WL_EVENT_WRITABLE);
      client->SetGuestPaused(true);
    }
  }
}

void Bridge::Teardown(const std::string& reason, bool emit) {
  stopping_ = true;
  if (server_ != nullptr) {
    wl_display_destroy_clients(server_);  // each BridgeClient cleans up in its destroy listener
    doomed_.clear();
    if (wake_source_ != nullptr) wl_event_source_remove(wake_source_);
    if (host_source_ != nullptr) wl_event_source_remove(host_source_);
    if (listen_source_ != nullptr) wl_event_source_remove(listen_source_);
    wake_source_ = host_source_ = listen_source_ = nullptr;
    if (client_created_.listener.notify != nullptr) wl_list_remove(&client_created_.listener.link);
    wl_display_destroy(server_);  // globals, sockets and the event loop
    server_ = nullptr;
    loop_ = nullptr;
  }
  if (host_shm_ != nullptr) wl_shm_destroy(host_shm_);
  if (host_dmabuf_ != nullptr) zwp_linux_dmabuf_v1_destroy(host_dmabuf_);
  host_dmabuf_ = nullptr;
  if (host_registry_ != nullptr) wl_registry_destroy(host_registry_);
  host_shm_ = nullptr;
  host_registry_ = nullptr;
  host_.reset();
  listen_fd_.reset();
  if (socket_bound_) {
    // Only the socket this bridge bound: a path reused by someone else since stays.
    struct stat socket_stat;
    if (::stat(config_.socket_path.c_str(), &socket_stat) == 0 &&
        socket_stat.st_dev == socket_dev_ && socket_stat.st_ino == socket_ino_) {
      ::unlink(config_.socket_path.c_str());
    }
    socket_bound_ = false;
  }
  {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    running_ = false;
  }
  if (!emit) return;
  BridgeEvent event;
  event.type = "stopped";
  event.reason = reason;
  Emit(std::move(event));
}

void Bridge::OnClientCreated(wl_client* client) {
  const uint64_t id = next_client_id_++;
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  if (accepting_ != nullptr) {
    pid = accepting_cred_.pid;
    uid = accepting_cred_.uid;
    gid = accepting_cred_.gid;
  } else {
    wl_client_get_credentials(client, &pid, &uid, &gid);
  }
  {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    ClientStats stats;
    stats.id = id;
    stats.pid = pid;
    stats.uid = uid;
    stats_[id] = stats;
    ++clients_total_;
  }
  uint32_t same_uid = 0;
  for (const auto& entry : clients_) {
    if (entry.second->uid() == uid) ++same_uid;
  }
  BridgeClient* bridge_client = BridgeClient::Attach(this, client, id, uid);
  clients_[id] = bridge_client;
  if (accepting_ != nullptr) {
    const NativeStatus relay = bridge_client->AdoptFastPath(std::move(*accepting_));
    if (!relay.ok()) return bridge_client->Kill("relay-failed", relay.message());
  }
  BridgeEvent event;
  event.type = "client-connected";
  event.client_id = id;
  event.pid = pid;
  event.uid = uid;
  Emit(std::move(event));
  if (clients_.size() > config_.max_clients) {
    bridge_client->Kill("too-many-clients", "the bridge serves at most " +
                                                std::to_string(config_.max_clients) + " clients");
    return;
  }
  const uint32_t per_uid = config_.max_clients_per_uid != 0 ? config_.max_clients_per_uid
                                                            : (config_.max_clients + 1) / 2;
  if (same_uid >= per_uid) {
    bridge_client->Kill(
        "too-many-clients-for-uid",
        "the bridge serves at most " + std::to_string(per_uid) + " clients of one uid");
    return;
  }
  const NativeStatus deadline =
      bridge_client->StartFirstRequestDeadline(config_.first_request_timeout_ms);
  if (!deadline.ok()) return bridge_client->Kill("deadline-failed", deadline.message());
  const NativeStatus status = bridge_client->ConnectHost(config_.host_socket_path);
  if (!status.ok()) bridge_client->Kill("host-connect-failed", status.message());
}

void Bridge::OnAccept() {
  UniqueFd guest(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!guest.valid()) return;
  struct ucred cred;
  socklen_t length = sizeof cred;
  if (::getsockopt(guest.get(), SOL_SOCKET, SO_PEERCRED, &cred, &length) < 0) return;
  std::unique_ptr<WireFastPath> relay;
  int server_end = -1;
  if (!WireFastPath::Create(loop_, std::move(guest), &server_end, &relay).ok()) return;
  accepting_ = &relay;
  accepting_cred_ = cred;
  wl_client* client = wl_client_create(server_, server_end);
  accepting_ = nullptr;
  if (client == nullptr) ::close(server_end);  // as libwayland-server does
}

void Bridge::OnHostEvent(uint32_t mask) {
  NativeStatus status;
  if ((mask & WL_EVENT_READABLE) != 0) {
    status = host_->DispatchReadable();
  } else if ((mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) != 0) {
    status = NativeStatus::Error(-EPIPE, "read", "the host compositor closed the connection");
  }
  if (status.ok()) return;
  BridgeEvent event;
  event.type = "host-lost";
  event.reason = "host-lost";
  event.message = status.message();
  Emit(std::move(event));
  stop_reason_ = "host-lost";
  stopping_ = true;
  wl_event_source_remove(host_source_);
  host_source_ = nullptr;
}

void Bridge::ClientCreatedThunk(wl_listener* listener, void* data) {
  ListenerSlot* slot;
  slot = wl_container_of(listener, slot, listener);
  slot->self->OnClientCreated(static_cast<wl_client*>(data));
}

int Bridge::WakeThunk(int fd, uint32_t /*mask*/, void* data) {
  uint64_t count;
  (void)!::read(fd, &count, sizeof count);
  auto* self = static_cast<Bridge*>(data);
  self->stop_reason_ = "stopped";
  self->stopping_ = true;
  return 0;
}

int Bridge::AcceptThunk(int /*fd*/, uint32_t /*mask*/, void* data) {
  static_cast<Bridge*>(data)->OnAccept();
  return 0;
}

int Bridge::HostThunk(int /*fd*/, uint32_t mask, void* data) {
  static_cast<Bridge*>(data)->OnHostEvent(mask);
  return 0;
}

void Bridge::BindThunk(wl_client* client, void* data, uint32_t version, uint32_t id) {
  const auto* global = static_cast<const HostGlobal*>(data);
  BridgeClient* bridge_client = BridgeClient::From(client);
  if (bridge_client == nullptr) return;
  bridge_client->BindGlobal(*global, global->table, version, id);
}

void Bridge::RegistryGlobalThunk(void* data, wl_registry* /*registry*/, uint32_t name,
                                 const char* interface, uint32_t version) {
  static_cast<Bridge*>(data)->OnHostGlobal(name, interface, version);
}

void Bridge::RegistryGlobalRemoveThunk(void* data, wl_registry* /*registry*/, uint32_t name) {
  static_cast<Bridge*>(data)->OnHostGlobalRemoved(name);
}

void Bridge::ShmFormatThunk(void* data, wl_shm* /*shm*/, uint32_t format) {
  static_cast<Bridge*>(data)->shm_formats_.push_back(format);
}

void Bridge::DmabufFormatThunk(void* data, zwp_linux_dmabuf_v1* /*dmabuf*/, uint32_t format) {
  // Version 3 hosts send modifier events too; this one stands for an implicit modifier.
  static_cast<Bridge*>(data)->dmabuf_formats_.emplace_back(format, 0x00ffffffffffffffULL);
}

void Bridge::DmabufModifierThunk(void* data, zwp_linux_dmabuf_v1* /*dmabuf*/, uint32_t format,
                                 uint32_t modifier_hi, uint32_t modifier_lo) {
  static_cast<Bridge*>(data)->dmabuf_formats_.emplace_back(
      format, uint64_t{modifier_hi} << 32 | modifier_lo);
}

}  // namespace bridge
}  // namespace droidway
