#include "guest_harness.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>
#include <wayland-server-core.h>

#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>

#include "stub_host.h"

namespace droidway {
namespace fuzz {
namespace {

constexpr int kFdSlack = 16;

std::vector<std::unique_ptr<bridge::Bridge>>* g_bridges =
    new std::vector<std::unique_ptr<bridge::Bridge>>;
std::vector<std::string>* g_dirs = new std::vector<std::string>;

// At exit: stop the bridges (which remove their sockets), then remove the sockets' directories.
void StopBridges() {
  g_bridges->clear();
  for (const std::string& dir : *g_dirs) ::rmdir(dir.c_str());
}

void QuietLog(const char*, va_list) {}

}  // namespace

void Die(const char* what) {
  std::fprintf(stderr, "droidway fuzz target: %s\n", what);
  std::abort();
}

void QuietWaylandLog() {
  wl_log_set_handler_server(QuietLog);
}

std::string StartFuzzBridge(bridge::BridgeConfig config) {
  char dir[] = "/tmp/droidway-fuzz-XXXXXX";
  if (::mkdtemp(dir) == nullptr) Die("mkdtemp failed");
  if (g_dirs->empty()) std::atexit(StopBridges);
  g_dirs->push_back(dir);
  config.socket_path = std::string(dir) + "/guest";
  config.host_socket_path = std::string(dir) + "/host";
  config.host_connector = StartStubHost();
  // The sink outlives this function (the bridge keeps it): it only records the first outcome.
  struct Outcome {
    std::mutex mutex;
    std::condition_variable changed;
    std::string text;
  };
  static auto* outcomes = new std::vector<std::unique_ptr<Outcome>>;
  outcomes->push_back(std::make_unique<Outcome>());
  Outcome* outcome = outcomes->back().get();
  std::unique_ptr<bridge::Bridge> started;
  const auto status = bridge::Bridge::Start(
      config,
      [outcome](bridge::BridgeEvent&& event) {
        if (event.type != "ready" && event.type != "error") return;
        std::lock_guard<std::mutex> lock(outcome->mutex);
        if (outcome->text.empty()) outcome->text = event.type + " " + event.message;
        outcome->changed.notify_all();
      },
      &started);
  if (!status.ok()) Die(status.message().c_str());
  g_bridges->push_back(std::move(started));
  std::unique_lock<std::mutex> lock(outcome->mutex);
  outcome->changed.wait(lock, [outcome] { return !outcome->text.empty(); });
  if (outcome->text.compare(0, 5, "ready") != 0) Die(outcome->text.c_str());
  return config.socket_path;
}

int ConnectGuest(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Die("socket failed");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    Die("connect to the bridge failed");
  }
  return fd;
}

bool SendWithFds(int socket_fd, const std::vector<uint8_t>& bytes, const std::vector<int>& fds) {
  if (fds.size() > static_cast<size_t>(kMaxSendFds)) Die("too many fds for one sendmsg");
  size_t sent = 0;
  bool first = true;
  while (sent < bytes.size() || first) {
    iovec iov{const_cast<uint8_t*>(bytes.data()) + sent, bytes.size() - sent};
    char control[CMSG_SPACE(sizeof(int) * kMaxSendFds)] = {};
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

int CountOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) Die("cannot list /proc/self/fd");
  int count = 0;
  while (::readdir(dir) != nullptr) ++count;
  ::closedir(dir);
  return count;
}

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

int TakeFdBaseline() {
  // libFuzzer symbolizes each new function it reaches through a symbolizer process whose two
  // pipes stay open: start it now, so they are part of the baseline and not a "leak" later.
  char symbol[256];
  __sanitizer_symbolize_pc(reinterpret_cast<void*>(&StopBridges), "%F", symbol, sizeof symbol);
  const int baseline = CountOpenFds();
  if (std::getenv("DROIDWAY_FUZZ_STRICT_FDS") != nullptr) ListOpenFds();
  return baseline;
}

void CheckNoFdKept(int baseline) {
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

}  // namespace fuzz
}  // namespace droidway
