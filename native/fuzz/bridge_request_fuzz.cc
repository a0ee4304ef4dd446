// libFuzzer target: the display bridge's request handling (native/src/bridge), fed as a guest
// connection. One real Bridge runs in the process for the whole run, with a stub host
// (stub_host.cc) where a compositor would be: the target is the bridge's parsing and checks.
//
// Input: byte 0 picks how many fds (0..8, its low 7 bits) go with the connection, the next bytes
// pick each from the fd menu (fd_menu.h); the rest is a list of messages, each an object id (u32),
// an opcode (u16) and an argument length (u16, clamped to what is left, made a multiple of 4)
// followed by the arguments. The harness writes the Wayland header (size and opcode) itself, sends
// the fds with the first bytes (libwayland hands them out in order to the requests that carry fds),
// closes its writing side and reads until the bridge drops the connection: every input ends with
// the bridge having handled or refused all of it.
//
// Byte 0's high bit paces the input: each message then goes in its own write, once the bridge
// has read the one before and a moment later. The bridge's wire fast path (wire_fastpath.h)
// relays wl_surface attach/damage/commit itself only when every earlier byte was dispatched, so
// an input sent in one write takes the generic path throughout; paced, its surface requests meet
// the fast path's parsing and the surface unit's checks through it.
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../src/bridge/bridge.h"
#include "fd_menu.h"
#include "guest_harness.h"

namespace fuzz = droidway::fuzz;

namespace {

constexpr int kMaxFds = 8;
constexpr size_t kMaxMessageArgs = 4096 - 8;
constexpr int kDrainTimeoutMs = 10000;
constexpr uint8_t kPaced = 0x80;
constexpr useconds_t kPaceMicros = 100;

std::string g_socket_path;
// Open fds between inputs, counted after a first connection (libwayland and the bridge open a
// few lazily).
int g_baseline_fds = -1;

// Reads (and drops) what the bridge sends until it closes the connection.
void Drain(int socket_fd) {
  char buffer[4096];
  for (;;) {
    pollfd p{socket_fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, kDrainTimeoutMs);
    if (ready == 0) fuzz::Die("the bridge neither handled nor dropped the connection in 10 s");
    if (ready < 0) continue;
    const ssize_t n = ::recv(socket_fd, buffer, sizeof buffer, MSG_CMSG_CLOEXEC);
    if (n <= 0) return;
  }
}

// Waits (a bounded while) until the bridge has read everything sent on `socket_fd`, then a moment
// for libwayland-server to dispatch it.
void WaitRead(int socket_fd) {
  for (int i = 0; i < 1000; ++i) {
    int queued = 0;
    if (::ioctl(socket_fd, SIOCOUTQ, &queued) != 0 || queued == 0) break;
    ::usleep(20);
  }
  ::usleep(kPaceMicros);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietWaylandLog();
  droidway::bridge::BridgeConfig config;
  config.globals = droidway::bridge::Bridge::SupportedGlobals();
  config.max_clients = 64;
  config.max_clients_per_uid = 64;
  g_socket_path = fuzz::StartFuzzBridge(config);
  const int warm_up = fuzz::ConnectGuest(g_socket_path);
  ::shutdown(warm_up, SHUT_WR);
  Drain(warm_up);
  ::close(warm_up);
  ::usleep(100 * 1000);
  g_baseline_fds = fuzz::TakeFdBaseline();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t pos = 0;
  std::vector<int> fds;
  const bool paced = size > 0 && (data[0] & kPaced) != 0;
  const int fd_count = size > 0 ? (data[pos++] & ~kPaced) % (kMaxFds + 1) : 0;
  for (int i = 0; i < fd_count && pos < size; ++i) {
    const int fd = fuzz::MakeMenuFd(data[pos++]);
    if (fd >= 0) fds.push_back(fd);
  }
  std::vector<uint8_t> stream;
  std::vector<size_t> ends;  // where each message ends in `stream`
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
    ends.push_back(stream.size());
  }
  const int guest = fuzz::ConnectGuest(g_socket_path);
  if (paced && ends.size() > 1) {
    size_t begin = 0;
    for (size_t i = 0; i < ends.size(); ++i) {
      const std::vector<uint8_t> one(stream.begin() + static_cast<std::ptrdiff_t>(begin),
                                     stream.begin() + static_cast<std::ptrdiff_t>(ends[i]));
      // The fds go with the first message, as unpaced; a write the bridge refuses (it dropped
      // the connection) ends the input.
      if (!fuzz::SendWithFds(guest, one, i == 0 ? fds : std::vector<int>())) break;
      begin = ends[i];
      WaitRead(guest);
    }
  } else {
    fuzz::SendWithFds(guest, stream, fds);
  }
  for (int fd : fds) ::close(fd);
  ::shutdown(guest, SHUT_WR);
  Drain(guest);
  ::close(guest);
  fuzz::CheckNoFdKept(g_baseline_fds);
  return 0;
}
