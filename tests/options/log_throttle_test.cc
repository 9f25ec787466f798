// The throttle of repeated log lines (src/options/log_throttle.h), on a
// clock of the test's own.
#include "options/log_throttle.h"

#include <gtest/gtest.h>

#include <chrono>

namespace cnpgi::internal {
namespace {

using std::chrono::seconds;

constexpr int kScope = 0;  // an address to key on
const LogThrottle::Key kKey{&kScope, 5};

TEST(LogThrottleTest, WritesABurstThenOneLinePerIntervalCarryingTheCount) {
  LogThrottle throttle({.burst = 3, .interval = seconds(5)});
  const auto t0 = std::chrono::steady_clock::time_point() + seconds(1000);
  for (int i = 0; i < 3; ++i) {
    const auto d = throttle.Admit(kKey, t0);
    EXPECT_TRUE(d.write) << i;
    EXPECT_EQ(d.suppressed, 0u);
  }
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(throttle.Admit(kKey, t0 + seconds(4)).write);
  const auto next = throttle.Admit(kKey, t0 + seconds(5));
  EXPECT_TRUE(next.write);
  EXPECT_EQ(next.suppressed, 100u);
  EXPECT_FALSE(throttle.Admit(kKey, t0 + seconds(6)).write);
  // Quiet for long enough, the burst is back, and no more than the burst.
  int written = 0;
  for (int i = 0; i < 10; ++i) written += throttle.Admit(kKey, t0 + seconds(3600)).write ? 1 : 0;
  EXPECT_EQ(written, 3);
}

TEST(LogThrottleTest, KeysAreIndependent) {
  LogThrottle throttle({.burst = 1, .interval = seconds(60)});
  const auto t0 = std::chrono::steady_clock::time_point() + seconds(1000);
  EXPECT_TRUE(throttle.Admit(kKey, t0).write);
  EXPECT_FALSE(throttle.Admit(kKey, t0).write);
  EXPECT_TRUE(throttle.Admit({&kScope, 6}, t0).write);
  int other_scope = 0;
  EXPECT_TRUE(throttle.Admit({&other_scope, 5}, t0).write);
}

TEST(LogThrottleTest, TakeSuppressedReportsWhatWasNotWrittenOnce) {
  LogThrottle throttle({.burst = 1, .interval = seconds(60)});
  const auto t0 = std::chrono::steady_clock::time_point() + seconds(1000);
  throttle.Admit(kKey, t0);
  for (int i = 0; i < 7; ++i) throttle.Admit(kKey, t0);
  const auto taken = throttle.TakeSuppressed();
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].first, kKey);
  EXPECT_EQ(taken[0].second, 7u);
  EXPECT_TRUE(throttle.TakeSuppressed().empty());
  // Counted once: the next line written does not repeat them.
  EXPECT_EQ(throttle.Admit(kKey, t0 + seconds(60)).suppressed, 0u);
}

}  // namespace
}  // namespace cnpgi::internal
