// Not part of the API. The pool that runs plugin handlers.
#ifndef CNPGI_SRC_SERVER_ELASTIC_THREAD_POOL_H_
#define CNPGI_SRC_SERVER_ELASTIC_THREAD_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace cnpgi::internal {

// Runs tasks on threads that are created when every existing thread is busy
// and retired after staying idle for a while.
//
// Why not a fixed pool: CNPG-I calls differ by orders of magnitude in length.
// A Backup or a restore job's Restore blocks its thread for hours, WAL calls
// for as long as the storage needs, while Probe and the handshake must answer
// at once. With a fixed pool, N long calls starve everything else; here a
// new task never waits behind a running one (up to `max_threads`, a safety
// limit far above what the operator's five connections per caller produce).
class ElasticThreadPool {
 public:
  using Task = absl::AnyInvocable<void() &&>;

  struct Options {
    std::size_t max_threads = 1024;
    // Threads kept alive when idle; the rest retire after idle_timeout.
    std::size_t warm_threads = 1;
    absl::Duration idle_timeout = absl::Seconds(30);
  };

  explicit ElasticThreadPool(Options options);
  ElasticThreadPool() : ElasticThreadPool(Options{}) {}
  ~ElasticThreadPool();  // Stop()s

  ElasticThreadPool(const ElasticThreadPool&) = delete;
  ElasticThreadPool& operator=(const ElasticThreadPool&) = delete;

  // Never blocks on running tasks. Unavailable once Stop() has begun;
  // ResourceExhausted when the task needed a new thread and none could be
  // started. On an error the task is destroyed without running.
  absl::Status Submit(Task task);

  // Runs what is queued, then joins every thread. Waits at most `timeout`
  // for tasks still running; returns false if some did not finish in time
  // (their threads are then detached: the process is about to exit).
  bool Stop(absl::Duration timeout = absl::InfiniteDuration());

 private:
  void Work(Task first);

  const Options options_;
  std::mutex mu_;
  std::condition_variable work_available_;
  std::condition_variable all_exited_;
  std::deque<Task> queue_;
  std::size_t threads_ = 0;
  std::size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_SERVER_ELASTIC_THREAD_POOL_H_
