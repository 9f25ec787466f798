#include "server/elastic_thread_pool.h"

#include <chrono>
#include <utility>

namespace cnpgi::internal {

ElasticThreadPool::ElasticThreadPool(Options options) : options_(options) {}

ElasticThreadPool::~ElasticThreadPool() { Stop(); }

bool ElasticThreadPool::Submit(absl::AnyInvocable<void() &&> task) {
  bool spawn = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(task));
    // Every idle thread is already on its way to a queued task: only spawn
    // when queued work outnumbers the threads that will pick it up.
    if (queue_.size() > idle_ && threads_ < options_.max_threads) {
      ++threads_;
      spawn = true;
    }
  }
  if (spawn) {
    // Detached: threads account for themselves in threads_ and Stop() waits
    // for that count to reach zero, so no handle needs to be kept.
    std::thread([this] { Work(); }).detach();
  } else {
    work_available_.notify_one();
  }
  return true;
}

void ElasticThreadPool::Work() {
  std::unique_lock lock(mu_);
  const auto idle_timeout = absl::ToChronoMilliseconds(options_.idle_timeout);
  for (;;) {
    if (queue_.empty()) {
      if (stopping_) break;
      ++idle_;
      const bool woken = work_available_.wait_for(lock, idle_timeout,
                                                  [this] { return !queue_.empty() || stopping_; });
      --idle_;
      if (!woken && threads_ > options_.warm_threads) break;
      continue;
    }
    auto task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    std::move(task)();
    // Destroy the task's captures before taking the lock again.
    task = nullptr;
    lock.lock();
  }
  --threads_;
  if (threads_ == 0) all_exited_.notify_all();
}

bool ElasticThreadPool::Stop(absl::Duration timeout) {
  std::unique_lock lock(mu_);
  stopping_ = true;
  work_available_.notify_all();
  auto done = [this] { return threads_ == 0; };
  if (timeout == absl::InfiniteDuration()) {
    all_exited_.wait(lock, done);
    return true;
  }
  return all_exited_.wait_for(lock, absl::ToChronoMilliseconds(timeout), done);
}

std::size_t ElasticThreadPool::threads() const {
  std::lock_guard lock(mu_);
  return threads_;
}

std::size_t ElasticThreadPool::busy() const {
  std::lock_guard lock(mu_);
  return threads_ - idle_;
}

}  // namespace cnpgi::internal
