// libFuzzer target: the display bridge's request handling (native/src/bridge), fed as a guest
// connection. One real Bridge runs in the process for the whole run, with a stub host
// (stub_host.cc) where a compositor would be: the target is the bridge's parsing and checks.
//
// Input: byte 0 picks how many fds (0..8) go with the connection, the next bytes pick each from
// the fd menu (fd_menu.h); the rest is a list of messages, each an object id (u32), an opcode
// (u16) and an argument length (u16, clamped to what is left, made a multiple of 4) followed by
// the arguments. The harness writes the Wayland header (size and opcode) itself, sends the fds
// with the first bytes (libwayland hands them out in order to the requests that carry fds),
// closes its writing side and reads until the bridge drops the connection: every input ends with
// the bridge having handled or refused all of it.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>
#include <wayland-server-core.h>
#include <algorithm>

#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../src/bridge/bridge.h"
#include "fd_menu.h"
#include "stub_host.h"

using droidway::bridge::Bridge;
using droidway::bridge::BridgeConfig;
using droidway::bridge::BridgeEvent;

namespace {

constexpr int kMaxFds = 8;
constexpr size_t kMaxMessageArgs = 4096 - 8;
constexpr int kDrainTimeoutMs = 10000;
constexpr int kFdSlack = 16;

std::string g_socket_path;
// Open fds between inputs, counted after a first connection (libwayland and the bridge open a
// few lazily).
int g_baseline_fds = -1;

void Die(const char* what) {
  std::fprintf(stderr, "bridge_request: %s\n", what);
  std::abort();
}

std::unique_ptr<Bridge> g_bridge;
std::string g_socket_dir;

// At exit: stop the bridge (which removes its socket), then remove the socket's directory.
void StopBridge() {
  g_bridge.reset();
  ::rmdir(g_socket_dir.c_str());
}

void StartBridge() {
  char dir[] = "/tmp/droidway-fuzz-XXXXXX";
  if (::mkdtemp(dir) == nullptr) Die("mkdtemp failed");
  g_socket_dir = dir;
  g_socket_path = std::string(dir) + "/guest";
  BridgeConfig config;
  config.socket_path = g_socket_path;
  config.host_socket_path = std::string(dir) + "/host";
  config.globals = Bridge::SupportedGlobals();
  config.max_clients = 64;
  config.max_clients_per_uid = 64;
  config.host_connector = droidway::fuzz::StartStubHost();
  // The sink outlives this function (the bridge keeps it): it only records the first outcome.
  static std::mutex* sink_mutex = new std::mutex;
  static std::condition_variable* sink_changed = new std::condition_variable;
  static std::string* sink_outcome = new std::string;
  const auto status = Bridge::Start(
      config,
      [](BridgeEvent&& event) {
        if (event.type != "ready" && event.type != "error") return;
        std::lock_guard<std::mutex> lock(*sink_mutex);
        if (sink_outcome->empty()) *sink_outcome = event.type + " " + event.message;
        sink_changed->notify_all();
      },
      &g_bridge);
  if (!status.ok()) Die(status.message().c_str());
  std::atexit(StopBridge);
  std::unique_lock<std::mutex> lock(*sink_mutex);
  sink_changed->wait(lock, [] { return !sink_outcome->empty(); });
  if (sink_outcome->compare(0, 5, "ready") != 0) Die(sink_outcome->c_str());
}

int ConnectGuest() {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Die("socket failed");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", g_socket_path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    Die("connect to the bridge failed");
  }
  return fd;
}

// Sends `bytes` with `fds` attached to the first part; false when the bridge hung up first.
bool Send(int socket_fd, const std::vector<uint8_t>& bytes, const std::vector<int>& fds) {
  size_t sent = 0;
  bool first = true;
  while (sent < bytes.size() || first) {
    iovec iov{const_cast<uint8_t*>(bytes.data()) + sent, bytes.size() - sent};
    char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
    msghdr message{};
    uint8_t zero = 0;
    if (iov.iov_len == 0) iov = {&zero, 0};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    if (first && !fds.empty()) {
      message.msg_control = control;
      message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* header = CMSG_FIRSTHDR(&message);
      header->cmsg_level = SOL_SOCKET;
      header->cmsg_type = SCM_RIGHTS;
      header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
    }
    if (iov.iov_len == 0 && message.msg_control == nullptr) break;
    const ssize_t n = ::sendmsg(socket_fd, &message, MSG_NOSIGNAL);
    if (n < 0) return false;
    sent += static_cast<size_t>(n);
    first = false;
  }
  return true;
}

// Reads (and drops) what the bridge sends until it closes the connection.
void Drain(int socket_fd) {
  char buffer[4096];
  for (;;) {
    pollfd p{socket_fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, kDrainTimeoutMs);
    if (ready == 0) Die("the bridge neither handled nor dropped the connection in 10 s");
    if (ready < 0) continue;
    const ssize_t n = ::recv(socket_fd, buffer, sizeof buffer, MSG_CMSG_CLOEXEC);
    if (n <= 0) return;
  }
}

int CountOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) Die("cannot list /proc/self/fd");
  int count = 0;
  while (::readdir(dir) != nullptr) ++count;
  ::closedir(dir);
  return count;
}

// Names what every open fd is (on stderr), for a leak report.
void ListOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return;
  while (const dirent* entry = ::readdir(dir)) {
    char path[64];
    char target[256] = {};
    std::snprintf(path, sizeof path, "/proc/self/fd/%s", entry->d_name);
    if (::readlink(path, target, sizeof target - 1) > 0) {
      std::fprintf(stderr, "fd %s: %s\n", entry->d_name, target);
    }
  }
  ::closedir(dir);
}

// Every fd an input made the bridge (or the stub host) open must be closed once the bridge has
// dropped the connection. The host side closes asynchronously, so the count is only settled
// (and a leak reported) once it is a few fds above the baseline: the input that tips it over
// is one that leaked.
void CheckNoFdKept(int baseline) {
  // DROIDWAY_FUZZ_STRICT_FDS=1: settle after every input (slow; names the input that leaked).
  static const int slack = std::getenv("DROIDWAY_FUZZ_STRICT_FDS") != nullptr ? 0 : kFdSlack;
  if (CountOpenFds() <= baseline + slack) return;
  for (int waited_ms = 0; CountOpenFds() > baseline; ++waited_ms) {
    if (waited_ms == 2000) {
      ListOpenFds();
      Die("an fd outlived the guest connection that brought it");
    }
    ::usleep(1000);
  }
}

void QuietLog(const char*, va_list) {}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // libwayland-server logs each connection it drops for a malformed message: millions here.
  wl_log_set_handler_server(QuietLog);
  StartBridge();
  const int warm_up = ConnectGuest();
  ::shutdown(warm_up, SHUT_WR);
  Drain(warm_up);
  ::close(warm_up);
  ::usleep(100 * 1000);
  // libFuzzer symbolizes each new function it reaches through a symbolizer process whose two
  // pipes stay open: start it now, so they are part of the baseline and not a "leak" later.
  char symbol[256];
  __sanitizer_symbolize_pc(reinterpret_cast<void*>(&StartBridge), "%F", symbol, sizeof symbol);
  g_baseline_fds = CountOpenFds();
  if (std::getenv("DROIDWAY_FUZZ_STRICT_FDS") != nullptr) ListOpenFds();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t pos = 0;
  std::vector<int> fds;
  const int fd_count = size > 0 ? data[pos++] % (kMaxFds + 1) : 0;
  for (int i = 0; i < fd_count && pos < size; ++i) {
    const int fd = droidway::fuzz::MakeMenuFd(data[pos++]);
    if (fd >= 0) fds.push_back(fd);
  }
  std::vector<uint8_t> stream;
  while (pos + 8 <= size) {
    uint32_t object;
    uint16_t opcode;
    uint16_t length;
    std::memcpy(&object, data + pos, 4);
    std::memcpy(&opcode, data + pos + 4, 2);
    std::memcpy(&length, data + pos + 6, 2);
    pos += 8;
    size_t args = std::min<size_t>({length, size - pos, kMaxMessageArgs}) & ~size_t{3};
    const uint32_t word = static_cast<uint32_t>((args + 8) << 16) | opcode;
    const auto* o = reinterpret_cast<const uint8_t*>(&object);
    const auto* w = reinterpret_cast<const uint8_t*>(&word);
    stream.insert(stream.end(), o, o + 4);
    stream.insert(stream.end(), w, w + 4);
    stream.insert(stream.end(), data + pos, data + pos + args);
    pos += args;
  }
  const int guest = ConnectGuest();
  Send(guest, stream, fds);
  for (int fd : fds) ::close(fd);
  ::shutdown(guest, SHUT_WR);
  Drain(guest);
  ::close(guest);
  CheckNoFdKept(g_baseline_fds);
  return 0;
}
