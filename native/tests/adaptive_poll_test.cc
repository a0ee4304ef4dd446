// AdaptivePoll: when the bridge loop polls before it sleeps, on made-up times (no clock): a
// stream opens the window, a pair of messages or a 60 Hz app does not, a miss closes it, work pays
// for the polling (a trickle of cheap messages cannot make it spin), 0 is off.
#include <cstdint>

#include "../src/bridge/adaptive_poll.h"
#include "check.h"

using droidway::bridge::AdaptivePoll;

namespace {
constexpr int64_t kUs = 1000;
constexpr int64_t kMax = 200 * kUs;

/** Work enough to pay for the largest credit. */
void Work(AdaptivePoll* poll) {
  poll->AfterBusy(AdaptivePoll::kMaxCreditWindows * kMax);
}
}  // namespace

TEST(PollStartsClosed) {
  AdaptivePoll poll(kMax);
  CHECK_EQ(poll.window_ns(), 0);
  CHECK_EQ(poll.max_ns(), kMax);
  CHECK_EQ(poll.hits() + poll.misses(), 0u);
}

TEST(PollOpensOnlyAfterAStreamOfShortWaits) {
  AdaptivePoll poll(kMax);
  Work(&poll);
  for (int i = 1; i < AdaptivePoll::kOpenAfter; ++i) {
    poll.AfterSleep(30 * kUs);
    CHECK_EQ(poll.window_ns(), 0);
  }
  poll.AfterSleep(30 * kUs);
  CHECK_EQ(poll.window_ns(), 60 * kUs);  // twice the last sleep
  // A poll that found its event keeps the window open and counts as a short wait.
  poll.AfterPoll(true, 10 * kUs);
  CHECK_EQ(poll.window_ns(), 60 * kUs);
  CHECK_EQ(poll.hits(), 1u);
  CHECK_EQ(poll.polled_ns(), 10 * kUs);
  // A longer short sleep widens it, never past the maximum.
  Work(&poll);
  poll.AfterSleep(150 * kUs);
  CHECK_EQ(poll.window_ns(), kMax);
}

TEST(PollWindowHasAFloor) {
  AdaptivePoll poll(kMax);
  Work(&poll);
  for (int i = 0; i < AdaptivePoll::kOpenAfter; ++i) poll.AfterSleep(100);
  CHECK_EQ(poll.window_ns(), AdaptivePoll::kMinWindowNs);
}

TEST(PollPairsAndFramePacingNeverOpenIt) {
  // A 60 Hz app: per frame a long sleep, then a commit and its release close together.
  AdaptivePoll poll(kMax);
  for (int frame = 0; frame < 600; ++frame) {
    Work(&poll);
    poll.AfterSleep(16'000 * kUs);
    CHECK_EQ(poll.window_ns(), 0);
    for (int i = 1; i < AdaptivePoll::kOpenAfter; ++i) {
      poll.AfterSleep(20 * kUs);
      CHECK_EQ(poll.window_ns(), 0);
    }
  }
  CHECK_EQ(poll.polled_ns(), 0);
}

TEST(PollMissClosesAndLongSleepRestartsTheCount) {
  AdaptivePoll poll(kMax);
  Work(&poll);
  for (int i = 0; i < AdaptivePoll::kOpenAfter; ++i) poll.AfterSleep(50 * kUs);
  CHECK(poll.window_ns() > 0);
  poll.AfterPoll(false, poll.window_ns());
  CHECK_EQ(poll.window_ns(), 0);
  CHECK_EQ(poll.misses(), 1u);
  Work(&poll);
  // A miss starts the count again: the window reopens only after a new run of short waits.
  for (int i = 1; i < AdaptivePoll::kOpenAfter; ++i) {
    poll.AfterSleep(40 * kUs);
    CHECK_EQ(poll.window_ns(), 0);
  }
  poll.AfterSleep(40 * kUs);
  CHECK_EQ(poll.window_ns(), 80 * kUs);
  poll.AfterPoll(true, 10 * kUs);  // a hit keeps it open
  CHECK_EQ(poll.window_ns(), 80 * kUs);
  // A long sleep: the count starts again, and the window stays closed until a new stream.
  poll.AfterSleep(kMax);
  CHECK_EQ(poll.window_ns(), 0);
  for (int i = 1; i < AdaptivePoll::kOpenAfter; ++i) poll.AfterSleep(40 * kUs);
  CHECK_EQ(poll.window_ns(), 0);
  poll.AfterSleep(40 * kUs);
  CHECK_EQ(poll.window_ns(), 80 * kUs);
}

TEST(PollZeroMaximumIsOff) {
  AdaptivePoll off(0);
  for (int i = 0; i < 100; ++i) off.AfterSleep(1);
  CHECK_EQ(off.window_ns(), 0);
  AdaptivePoll negative(-5);
  CHECK_EQ(negative.max_ns(), 0);
  for (int i = 0; i < 100; ++i) negative.AfterSleep(1);
  CHECK_EQ(negative.window_ns(), 0);
}

TEST(PollIgnoresANegativeSleep) {
  // A clock read backwards (never with CLOCK_MONOTONIC) must not open the window.
  AdaptivePoll poll(kMax);
  for (int i = 0; i < 10; ++i) poll.AfterSleep(-1);
  CHECK_EQ(poll.window_ns(), 0);
}

TEST(PollWithoutWorkDoesNotPoll) {
  AdaptivePoll poll(kMax);
  for (int i = 0; i < 100; ++i) poll.AfterSleep(50 * kUs);
  CHECK_EQ(poll.window_ns(), 0);
  // Work earns kPollPerBusy times itself, and the window is what is left of it.
  poll.AfterBusy(10 * kUs);
  CHECK_EQ(poll.window_ns(), AdaptivePoll::kPollPerBusy * 10 * kUs);
  poll.AfterPoll(true, 30 * kUs);
  CHECK_EQ(poll.window_ns(), AdaptivePoll::kPollPerBusy * 10 * kUs - 30 * kUs);
  // Credit is capped: a long stretch of work does not buy unbounded polling later.
  poll.AfterBusy(1'000'000 * kUs);
  CHECK_EQ(poll.window_ns(), 100 * kUs);  // the window itself: twice the last short sleep
  poll.AfterPoll(true, AdaptivePoll::kMaxCreditWindows * kMax - 1);
  CHECK_EQ(poll.window_ns(), 0);
  poll.AfterBusy(0);
  poll.AfterBusy(-5);
  CHECK_EQ(poll.window_ns(), 0);
}

TEST(PollATrickleOfCheapMessagesCostsAtMostItsWorkTimesTheRatio) {
  // A hostile guest: one cheap message (2 µs of work) every 150 µs, just inside the window, for
  // 10,000 messages. Each sleep or poll lasts until the next message.
  AdaptivePoll poll(kMax);
  int64_t work = 0;
  for (int i = 0; i < 10'000; ++i) {
    poll.AfterBusy(2 * kUs);
    work += 2 * kUs;
    const int64_t window = poll.window_ns();
    if (window >= 150 * kUs) {
      poll.AfterPoll(true, 150 * kUs);
    } else {
      if (window > 0) poll.AfterPoll(false, window);
      poll.AfterSleep(150 * kUs - window);
    }
  }
  CHECK(poll.polled_ns() <= AdaptivePoll::kPollPerBusy * work);
}
