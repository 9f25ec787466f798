#include "server/elastic_thread_pool.h"

#include <chrono>
#include <exception>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cnpgi::internal {

ElasticThreadPool::ElasticThreadPool(Options options) : options_(std::move(options)) {}

ElasticThreadPool::~ElasticThreadPool() { Stop(); }

absl::Status ElasticThreadPool::Submit(Task task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return absl::UnavailableError("the thread pool is stopping");
    // Every idle thread is already on its way to a queued task: a new thread
    // is needed only when queued work would outnumber them.
    if (queue_.size() < idle_ || threads_ >= options_.max_threads) {
      queue_.push_back(std::move(task));
      work_available_.notify_one();
      return absl::OkStatus();
    }
    ++threads_;
  }
  // The new thread starts with this task, so a thread that cannot be
  // created (std::thread throws std::system_error) leaves the queue as it
  // was. Detached: threads account for themselves in threads_ and Stop()
  // waits for that count to reach zero, so no handle needs to be kept.
  std::string why;  // a copy: what() dies with the exception
  try {
    std::thread([this, first = std::move(task)]() mutable { Work(std::move(first)); }).detach();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
    why = "an exception that is not a std::exception";
  }
  std::lock_guard lock(mu_);
  if (--threads_ == 0) all_exited_.notify_all();
  return absl::ResourceExhaustedError(absl::StrCat("cannot start a thread for the call: ", why));
}

void ElasticThreadPool::Work(Task first) {
  std::move(first)();
  // Destroy the task's captures before taking the lock.
  first = nullptr;
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
    Task task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    std::move(task)();
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

}  // namespace cnpgi::internal
