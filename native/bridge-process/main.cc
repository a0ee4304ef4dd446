// droidway-bridge: the display bridge in a process of its own, so that the code parsing every
// byte a guest sends runs unprivileged, confined and memory-capped, and its death costs a restart
// rather than the container or the session host.
//
// Protocol with the parent (the session host, trusted but still checked):
//   stdin, first line: the configuration as one JSON object (see config_json.h, and
//     BridgeProcessConfig in native/index.d.ts); then one request per line: "stats" or "stop".
//   stdout: one JSON object per line: the bridge's events ({"type":"ready",...,"config":{...}}
//     carries the effective configuration and the pid), and {"type":"stats","stats":{...}} answers.
//   Exit status: 0 after "stop" or the end of stdin, 1 when the bridge stopped on its own (the
//   host compositor was lost, or it failed), 2 for a bad configuration or setup failure.
// Order of setup: bind the guest socket and connect to the host (with the privileges the process
// was started with), then, before the bridge thread reads any guest byte: drop to runAsUid/Gid
// when root, RLIMIT_AS, no_new_privs, seccomp.
#include <malloc.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "../src/bridge/bridge.h"
#include "config_json.h"
#include "sandbox.h"

namespace droidway {
namespace bridge_process {
namespace {

constexpr size_t kMaxLine = 64 * 1024;

std::mutex g_output_mutex;

void WriteLine(const std::string& json) {
  std::lock_guard<std::mutex> lock(g_output_mutex);
  std::string line = json + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(1, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(3);  // the parent is gone
    done += static_cast<size_t>(n);
  }
}

std::string ErrorLine(const std::string& reason, const std::string& message) {
  return "{\"type\":\"error\",\"reason\":" + JsonString(reason) +
         ",\"message\":" + JsonString(message) + "}";
}

std::string EventJson(const bridge::BridgeEvent& event) {
  std::string out = "{\"type\":" + JsonString(event.type);
  if (event.client_id != 0) out += ",\"clientId\":" + std::to_string(event.client_id);
  if (event.type == "client-connected") {
    out += ",\"pid\":" + std::to_string(event.pid) + ",\"uid\":" + std::to_string(event.uid);
  }
  if (event.type == "toplevel-mapped" || event.type == "toplevel-unmapped") {
    out += ",\"appId\":" + JsonString(event.app_id) + ",\"title\":" + JsonString(event.title);
  }
  if (!event.reason.empty()) out += ",\"reason\":" + JsonString(event.reason);
  if (!event.message.empty()) out += ",\"message\":" + JsonString(event.message);
  return out + "}";
}

std::string CountsJson(const std::map<std::string, uint64_t>& counts) {
  std::string out = "{";
  for (const auto& entry : counts) {
    if (out.size() > 1) out += ",";
    out += JsonString(entry.first) + ":" + std::to_string(entry.second);
  }
  return out + "}";
}

std::string StatsJson(const bridge::BridgeStats& stats) {
  std::string out = "{\"type\":\"stats\",\"stats\":{\"running\":";
  out += stats.running ? "true" : "false";
  out += ",\"clientsTotal\":" + std::to_string(stats.clients_total);
  out += ",\"poll\":{\"ns\":" + std::to_string(stats.polled_ns) +
         ",\"workNs\":" + std::to_string(stats.poll_work_ns) +
         ",\"hits\":" + std::to_string(stats.poll_hits) +
         ",\"misses\":" + std::to_string(stats.poll_misses) + "},\"clients\":[";
  for (size_t i = 0; i < stats.clients.size(); ++i) {
    const bridge::ClientStats& c = stats.clients[i];
    if (i != 0) out += ",";
    out += "{\"clientId\":" + std::to_string(c.id) + ",\"pid\":" + std::to_string(c.pid) +
           ",\"uid\":" + std::to_string(c.uid) +
           ",\"connected\":" + (c.connected ? "true" : "false") + ",\"disconnectReason\":" +
           (c.connected ? std::string("null") : JsonString(c.disconnect_reason)) +
           ",\"commits\":" + std::to_string(c.commits) +
           ",\"buffersForwarded\":{\"shm\":" + std::to_string(c.shm_buffers_forwarded) +
           ",\"dmabuf\":" + std::to_string(c.dmabuf_buffers_forwarded) +
           "},\"bytesCopied\":" + std::to_string(c.bytes_copied) +
           ",\"damageRectsDropped\":" + std::to_string(c.damage_rects_dropped) +
           ",\"objects\":" + std::to_string(c.objects) + ",\"pools\":" + std::to_string(c.pools) +
           ",\"buffers\":" + std::to_string(c.buffers) +
           ",\"surfaces\":" + std::to_string(c.surfaces) +
           ",\"fdsRejected\":" + CountsJson(c.fds_rejected) +
           ",\"violations\":" + CountsJson(c.violations) + "}";
  }
  return out + "]}}";
}

/** Hands the 'ready' event from the bridge thread to main, and holds the thread until confined. */
class Handshake {
 public:
  enum class State { kWaiting, kReady, kFailed, kReleased };

  /** Bridge thread: blocks until main has confined the process (or failed to). */
  void Ready(std::vector<std::string> globals) {
    std::unique_lock<std::mutex> lock(mutex_);
    globals_ = std::move(globals);
    state_ = State::kReady;
    changed_.notify_all();
    changed_.wait(lock, [this] { return state_ == State::kReleased; });
  }
  void Failed() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (state_ == State::kWaiting) state_ = State::kFailed;
    changed_.notify_all();
  }
  State Wait(std::vector<std::string>* globals) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return state_ != State::kWaiting; });
    *globals = globals_;
    return state_;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    state_ = State::kReleased;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  State state_ = State::kWaiting;
  std::vector<std::string> globals_;
};

/** Reads stdin into lines of at most kMaxLine bytes; false at the end or on a too-long line. */
class LineReader {
 public:
  /**
   * 1: a line in *line; 0: no full line yet (call after poll says readable); -1: end or error;
   * -2: a line longer than kMaxLine.
   */
  int Next(std::string* line) {
    while (true) {
      const size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        *line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return 1;
      }
      if (buffer_.size() > kMaxLine) return -2;
      if (!blocking_ && !readable_) return 0;
      readable_ = false;
      char chunk[4096];
      const ssize_t n = ::read(0, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return -1;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  void set_blocking(bool blocking) { blocking_ = blocking; }
  void MarkReadable() { readable_ = true; }

 private:
  std::string buffer_;
  bool blocking_ = true;
  bool readable_ = false;
};

int Run() {
  // One malloc arena: a thread's own arena reserves 64 MiB of address space up front, which
  // would count against RLIMIT_AS without ever holding data.
  mallopt(M_ARENA_MAX, 1);
  LineReader reader;
  std::string line;
  const int first = reader.Next(&line);
  if (first != 1) {
    WriteLine(ErrorLine("config", first == -2 ? "configuration longer than 64 KiB"
                                              : "no configuration line on stdin"));
    return 2;
  }
  bridge::BridgeConfig config;
  ProcessConfig process;
  std::string error;
  if (!ParseConfig(line, &config, &process, &error)) {
    WriteLine(ErrorLine("config", error));
    return 2;
  }
  if ((::getuid() == 0 || ::geteuid() == 0) && process.run_as_uid < 0) {
    WriteLine(ErrorLine("config", "started as root: runAsUid and runAsGid are required"));
    return 2;
  }

  // Before the bridge thread exists: fork() is only safe while the process has one thread.
  auto connector = std::make_shared<HostConnector>();
  NativeStatus status = HostConnector::Start(config.host_socket_path, connector.get());
  if (!status.ok()) {
    WriteLine(ErrorLine("setup", status.message()));
    return 2;
  }
  config.host_connector = [connector](UniqueFd* out) { return connector->Connect(out); };
  // Confined after 'ready', this process may no longer open files (sandbox.cc).
  config.preopen_epoll_info = true;

  UniqueFd stopped_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stopped_fd.valid()) {
    WriteLine(ErrorLine("setup", std::string("eventfd: ") + std::strerror(errno)));
    return 2;
  }
  const int stopped_raw = stopped_fd.get();
  Handshake handshake;
  bool self_stopped = false;
  std::mutex self_stopped_mutex;
  auto sink = [&](bridge::BridgeEvent&& event) {
    if (event.type == "ready") return handshake.Ready(std::move(event.globals));
    WriteLine(EventJson(event));
    if (event.type == "error") handshake.Failed();
    if (event.type == "stopped") {
      {
        std::lock_guard<std::mutex> lock(self_stopped_mutex);
        self_stopped = event.reason != "stopped";
      }
      handshake.Failed();
      const uint64_t one = 1;
      (void)!::write(stopped_raw, &one, sizeof one);
    }
  };

  const bridge::BridgeConfig effective = config;  // before the connector is moved in
  std::unique_ptr<bridge::Bridge> bridge;
  status = bridge::Bridge::Start(std::move(config), sink, &bridge);
  if (!status.ok()) {
    WriteLine(ErrorLine("setup", status.message() + ": " + std::strerror(-status.code())));
    return 2;
  }
  std::vector<std::string> globals;
  if (handshake.Wait(&globals) != Handshake::State::kReady) {
    bridge->Stop();
    return 1;
  }
  Confinement confinement;
  confinement.uid = process.run_as_uid;
  confinement.gid = process.run_as_gid;
  confinement.address_space_bytes = uint64_t{process.memory_limit_mib} << 20;
  status = Confine(confinement);
  if (!status.ok()) {
    WriteLine(ErrorLine("setup", status.message() + ": " + std::strerror(-status.code())));
    // The bridge thread has read nothing from a guest yet; it ends without serving one.
    ::_exit(2);
  }
  std::string ready =
      "{\"type\":\"ready\",\"pid\":" + std::to_string(::getpid()) + ",\"globals\":[";
  for (size_t i = 0; i < globals.size(); ++i) {
    const size_t colon = globals[i].rfind(':');
    if (i != 0) ready += ",";
    ready += "{\"interface\":" + JsonString(globals[i].substr(0, colon)) +
             ",\"version\":" + globals[i].substr(colon + 1) + "}";
  }
  ready += "],\"config\":" + ConfigJson(effective, process) + "}";
  WriteLine(ready);
  handshake.Release();

  reader.set_blocking(false);
  int exit_code = 0;
  while (true) {
    pollfd fds[2] = {{0, POLLIN, 0}, {stopped_raw, POLLIN, 0}};
    const int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      std::lock_guard<std::mutex> lock(self_stopped_mutex);
      exit_code = self_stopped ? 1 : 0;
      break;
    }
    if (fds[0].revents == 0) continue;
    reader.MarkReadable();
    bool done = false;
    int got;
    while ((got = reader.Next(&line)) == 1) {
      if (line == "stats") {
        WriteLine(StatsJson(bridge->Stats()));
      } else if (line == "stop") {
        done = true;
        break;
      } else {
        WriteLine(ErrorLine("request", "unknown request"));
      }
    }
    if (done || got < 0) break;
  }
  bridge->Stop();  // emits 'stopped' unless it already stopped
  return exit_code;
}

}  // namespace
}  // namespace bridge_process
}  // namespace droidway

int main() {
  return droidway::bridge_process::Run();
}
