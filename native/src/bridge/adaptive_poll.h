// How long the bridge loop polls for its next event before it sleeps.
//
// A relay process in the middle of a Wayland connection costs its peers mostly wake-ups: the
// bridge sleeps, a guest or the host writes, the kernel wakes the bridge (on a virtual machine an
// interrupt to an idle vCPU), and the bridge wakes the other side. While traffic is dense, polling
// a little before sleeping catches the next event awake. While it is sparse (an app drawing at
// 60 Hz), polling only burns CPU. So the window adapts, as hybrid polling does elsewhere:
// - it opens only after kOpenAfter waits in a row each ended within `max_ns` (a sleep that short,
//   or a poll that found its event), to twice the last short sleep, at most `max_ns`. One pair of
//   messages close together (a commit and its release) does not open it; a stream does;
// - a poll that finds nothing closes it, and a sleep of `max_ns` or more starts the count again,
//   so a burst's tail costs one window and an idle or 60 Hz bridge does not poll at all;
// - `max_ns` 0 turns polling off.
// Measured (tests/bench/bridge.bench.js, README): commits through the bridge 1.1x a client
// straight to weston with polling, 0.86x without, at the price of up to one core while a guest
// streams; the demo client at its frame rate polled ~0.3 ms in 7.7 s.
// Pure bookkeeping on times the caller measures, so it is tested without a clock.
#ifndef DROIDWAY_NATIVE_BRIDGE_ADAPTIVE_POLL_H_
#define DROIDWAY_NATIVE_BRIDGE_ADAPTIVE_POLL_H_

#include <algorithm>
#include <cstdint>

namespace droidway {
namespace bridge {

class AdaptivePoll {
 public:
  /** Windows shorter than this are not worth a poll (a syscall and a clock read each). */
  static constexpr int64_t kMinWindowNs = 2'000;
  /** Short waits in a row (no long sleep between) before the window opens. */
  static constexpr int kOpenAfter = 3;

  explicit AdaptivePoll(int64_t max_ns) : max_ns_(std::max<int64_t>(0, max_ns)) {}

  /** How long to poll before the next sleep (0: sleep at once). */
  int64_t window_ns() const { return window_ns_; }
  int64_t max_ns() const { return max_ns_; }

  /** A poll of `spent_ns` ended, with an event (`found`) or at the window's end. */
  void AfterPoll(bool found, int64_t spent_ns) {
    polled_ns_ += spent_ns;
    if (found) {
      ++hits_;
      ++short_waits_;
      return;
    }
    ++misses_;
    window_ns_ = 0;
  }

  /** A sleep of `slept_ns` ended with an event. */
  void AfterSleep(int64_t slept_ns) {
    if (max_ns_ == 0 || slept_ns < 0 || slept_ns >= max_ns_) {
      short_waits_ = 0;
      return;
    }
    if (++short_waits_ < kOpenAfter) return;
    const int64_t wanted = std::min(max_ns_, std::max(kMinWindowNs, 2 * slept_ns));
    window_ns_ = std::max(window_ns_, wanted);
  }

  /** Totals since start: ns spent polling, polls that found an event, polls that did not. */
  int64_t polled_ns() const { return polled_ns_; }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  int64_t max_ns_;
  int64_t window_ns_ = 0;
  int short_waits_ = 0;
  int64_t polled_ns_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_ADAPTIVE_POLL_H_
