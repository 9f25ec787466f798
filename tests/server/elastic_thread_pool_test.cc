// The pool that runs plugin handlers (src/server/elastic_thread_pool.h).
#include "server/elastic_thread_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <future>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/threads_cannot_start.h"

namespace cnpgi::internal {
namespace {

// Tasks block on it until the test opens it.
class Latch {
 public:
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Pass() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
    --waiting_;
  }
  // Waits (up to 10 s) until `n` tasks are blocked here.
  bool AwaitWaiting(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int waiting_ = 0;
};

std::size_t ThreadsOfThisProcess() {
  const std::filesystem::directory_iterator tasks("/proc/self/task");
  return static_cast<std::size_t>(std::distance(begin(tasks), end(tasks)));
}

TEST(ElasticThreadPoolTest, ANewTaskNeverWaitsBehindRunningOnes) {
  ElasticThreadPool pool;
  Latch latch;
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(pool.Submit([&] { latch.Pass(); }).ok());
  EXPECT_TRUE(latch.AwaitWaiting(8)) << "the tasks did not all run at once";
  latch.Open();
  EXPECT_TRUE(pool.Stop(absl::Seconds(10)));
}

TEST(ElasticThreadPoolTest, BeyondMaxThreadsTasksWaitTheirTurn) {
  ElasticThreadPool pool({.max_threads = 1});
  Latch latch;
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.Submit([&] { latch.Pass(); }).ok());
  ASSERT_TRUE(latch.AwaitWaiting(1));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.Submit([&] { ++ran; }).ok());
  EXPECT_EQ(ran.load(), 0) << "a queued task ran beside the only thread";
  latch.Open();
  EXPECT_TRUE(pool.Stop(absl::Seconds(10)));
  EXPECT_EQ(ran.load(), 3) << "Stop() must run what is queued";
}

TEST(ElasticThreadPoolTest, SubmitAfterStopIsRefusedWithoutRunningTheTask) {
  ElasticThreadPool pool;
  ASSERT_TRUE(pool.Stop(absl::Seconds(10)));
  bool ran = false;
  const absl::Status status = pool.Submit([&] { ran = true; });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_FALSE(ran);
}

TEST(ElasticThreadPoolTest, StopGivesUpOnATaskThatDoesNotFinishInTime) {
  ElasticThreadPool pool;
  Latch latch;
  ASSERT_TRUE(pool.Submit([&] { latch.Pass(); }).ok());
  ASSERT_TRUE(latch.AwaitWaiting(1));
  EXPECT_FALSE(pool.Stop(absl::Milliseconds(50)));
  latch.Open();
  EXPECT_TRUE(pool.Stop(absl::Seconds(10)));
}

TEST(ElasticThreadPoolTest, IdleThreadsRetireDownToTheWarmOnes) {
  const std::size_t before = ThreadsOfThisProcess();
  ElasticThreadPool pool({.warm_threads = 0, .idle_timeout = absl::Milliseconds(10)});
  Latch latch;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(pool.Submit([&] { latch.Pass(); }).ok());
  ASSERT_TRUE(latch.AwaitWaiting(4));
  EXPECT_EQ(ThreadsOfThisProcess(), before + 4);
  latch.Open();
  std::size_t now = ThreadsOfThisProcess();
  for (int i = 0; i < 1000 && now != before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    now = ThreadsOfThisProcess();
  }
  EXPECT_EQ(now, before) << "idle threads did not retire";
}

// A thread that cannot be created must fail that one task, and leave the
// pool's accounting right: Stop() used to wait forever for the thread that
// was counted but never started.
TEST(ElasticThreadPoolTest, AThreadThatCannotStartFailsItsTaskAndStopStillReturns) {
  ElasticThreadPool pool;
  bool ran = false;
  absl::Status status;
  {
    testing_support::ThreadsCannotStart refused;
    status = pool.Submit([&] { ran = true; });
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("cannot start a thread"));
  EXPECT_FALSE(ran);
  // The pool still works once threads can be created again.
  std::promise<void> done;
  ASSERT_TRUE(pool.Submit([&] { done.set_value(); }).ok());
  EXPECT_EQ(done.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(pool.Stop(absl::Seconds(10))) << "Stop() waits for a thread that never started";
}

}  // namespace
}  // namespace cnpgi::internal
