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
// - a poll that finds nothing closes it and starts the count again, as a sleep of `max_ns` or
//   more does, so a burst's tail costs one window and an idle or 60 Hz bridge does not poll;
// - polling is paid for by work: every ns the loop spends working (dispatching, flushing) earns
//   kPollPerBusy ns of polling, up to kMaxCreditWindows windows, and the window never exceeds
//   what is left. A guest that sends a tiny message just inside the window, over and over, so
//   cannot make the bridge spin a core for it: polling costs at most kPollPerBusy times the work
//   the guest's messages cost anyway (a dense stream of real work still earns its windows);
// - `max_ns` 0 turns polling off.
// Measured (tests/bench/bridge.bench.js, README): commits through the bridge 1.17x a client
// straight to weston with polling, 0.83x without, at the price of up to one core while a guest
// streams; the demo client at its frame rate polled under 0.4 ms in 7.7 s; a guest trickling
// 2,000 tiny messages over 0.4 s, 43 ms (337 ms without the work credit).
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
  /** ns of polling earned by each ns of work. */
  static constexpr int64_t kPollPerBusy = 8;
  /** Credit kept at most, in windows of `max_ns`. */
  static constexpr int64_t kMaxCreditWindows = 4;

  explicit AdaptivePoll(int64_t max_ns) : max_ns_(std::max<int64_t>(0, max_ns)) {}

  /** How long to poll before the next sleep (0: sleep at once): the window, within the credit. */
  int64_t window_ns() const {
    const int64_t window = std::min(window_ns_, credit_ns_);
    return window >= kMinWindowNs ? window : 0;
  }
  int64_t max_ns() const { return max_ns_; }

  /** The loop worked `busy_ns` (from an event's arrival to its next wait). */
  void AfterBusy(int64_t busy_ns) {
    if (max_ns_ == 0 || busy_ns <= 0) return;
    busy_total_ns_ += busy_ns;
    credit_ns_ = std::min(kMaxCreditWindows * max_ns_, credit_ns_ + kPollPerBusy * busy_ns);
  }

  /** A poll of `spent_ns` ended, with an event (`found`) or at the window's end. */
  void AfterPoll(bool found, int64_t spent_ns) {
    polled_ns_ += spent_ns;
    credit_ns_ = std::max<int64_t>(0, credit_ns_ - spent_ns);
    if (found) {
      ++hits_;
      ++short_waits_;
      return;
    }
    ++misses_;
    window_ns_ = 0;
    short_waits_ = 0;  // a wasted poll: the next window needs a new run of short waits
  }

  /** A sleep of `slept_ns` ended with an event. */
  void AfterSleep(int64_t slept_ns) {
    if (max_ns_ == 0 || slept_ns < 0 || slept_ns >= max_ns_) {
      short_waits_ = 0;
      window_ns_ = 0;
      return;
    }
    if (++short_waits_ < kOpenAfter) return;
    const int64_t wanted = std::min(max_ns_, std::max(kMinWindowNs, 2 * slept_ns));
    window_ns_ = std::max(window_ns_, wanted);
  }

  /**
   * Totals since start: ns spent polling, ns of work that paid for it, polls that found an event,
   * polls that did not. polled_ns <= kPollPerBusy * busy_ns, but for the last clock read of each
   * poll (a poll ends on the first read at or past its window).
   */
  int64_t polled_ns() const { return polled_ns_; }
  int64_t busy_ns() const { return busy_total_ns_; }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  int64_t max_ns_;
  int64_t window_ns_ = 0;
  int64_t credit_ns_ = 0;
  int short_waits_ = 0;
  int64_t polled_ns_ = 0;
  int64_t busy_total_ns_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_ADAPTIVE_POLL_H_
