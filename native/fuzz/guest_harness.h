// What the targets that feed the real bridge as a guest share (bridge_request, clipboard): a
// bridge per configuration on a stub host, guest connections to it, and the check that no fd
// outlives the connection that brought it.
#ifndef DROIDWAY_NATIVE_FUZZ_GUEST_HARNESS_H_
#define DROIDWAY_NATIVE_FUZZ_GUEST_HARNESS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "../src/bridge/bridge.h"

namespace droidway {
namespace fuzz {

/** Most fds one sendmsg of the harness carries. */
constexpr int kMaxSendFds = 16;

/** Prints `what` (prefixed with the target's name) and aborts: a finding. */
[[noreturn]] void Die(const char* what);
/** Silences libwayland-server's log (it logs every connection it drops: millions here). */
void QuietWaylandLog();
/**
 * Starts a bridge on the stub host with `config` (its socket paths and connector are filled in,
 * under a new directory removed at exit), waits for it to be ready and returns its guest socket
 * path. Aborts when it does not start.
 */
std::string StartFuzzBridge(bridge::BridgeConfig config);
/** A new guest connection to the bridge listening at `path`. */
int ConnectGuest(const std::string& path);
/** Sends `bytes` with `fds` attached to the first part; false when the bridge hung up first. */
bool SendWithFds(int socket_fd, const std::vector<uint8_t>& bytes, const std::vector<int>& fds);
/** Open fds of the process. */
int CountOpenFds();
/** Names what every open fd is (on stderr), for a leak report. */
void ListOpenFds();
/**
 * Counts the fds open now as the baseline (after starting libFuzzer's symbolizer, whose pipes
 * stay open), once the bridges are up and warmed up.
 */
int TakeFdBaseline();
/**
 * Every fd an input made the bridge (or the stub host) open must be closed once the bridge has
 * dropped the connection. The host side closes asynchronously, so the count is only settled
 * (and a leak reported) once it is a few fds above the baseline: the input that tips it over
 * is one that leaked. DROIDWAY_FUZZ_STRICT_FDS=1 settles it after every input.
 */
void CheckNoFdKept(int baseline);

}  // namespace fuzz
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_FUZZ_GUEST_HARNESS_H_
