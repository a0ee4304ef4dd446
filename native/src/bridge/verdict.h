// The one outcome type of every bridge policy check (shm, dma-buf, surface and region caps, …):
// ok, or the Wayland protocol error to post on the offending resource, a short stable reason (the
// stats key and the violation event's reason) and a human-readable message. Node-API-free, so
// the checks that return it are plain C++ with their own unit tests (native/tests).
#ifndef DROIDWAY_NATIVE_BRIDGE_VERDICT_H_
#define DROIDWAY_NATIVE_BRIDGE_VERDICT_H_

#include <cstdint>
#include <string>
#include <utility>

namespace droidway {
namespace bridge {

/** Outcome of one check: ok, or the protocol error to post and why. */
struct Verdict {
  bool ok = true;
  /** Error code of the interface the request was sent on (WL_SHM_ERROR_INVALID_FD, …). */
  uint32_t error = 0;
  /** Short stable reason, used as the stats key ('unsealed', 'dmabuf-plane-index', …). */
  std::string reason;
  /** Human-readable detail posted with the protocol error. */
  std::string message;

  /** A passing verdict. */
  static Verdict Ok() { return Verdict(); }
  /** A refusal: post `error` with `message`, count it under `reason`. */
  static Verdict Refuse(uint32_t error, std::string reason, std::string message) {
    Verdict verdict;
    verdict.ok = false;
    verdict.error = error;
    verdict.reason = std::move(reason);
    verdict.message = std::move(message);
    return verdict;
  }
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_VERDICT_H_
