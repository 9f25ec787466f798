// Makes thread creation fail, for tests of what the SDK does when the
// system refuses a thread.
#ifndef CNPGI_TESTS_SUPPORT_THREADS_CANNOT_START_H_
#define CNPGI_TESTS_SUPPORT_THREADS_CANNOT_START_H_

#include <pthread.h>

#include <cstddef>

namespace cnpgi::testing_support {

// While it lives, every thread the process creates without attributes of
// its own (std::thread included) fails to start: its default stack size is
// too large to map, so pthread_create() fails with EAGAIN and std::thread
// throws std::system_error, as when the system runs out of threads or
// memory. Works as root (unlike RLIMIT_NPROC) and under the sanitizers.
class ThreadsCannotStart {
 public:
  ThreadsCannotStart() {
    pthread_getattr_default_np(&saved_);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, std::size_t{3} << 45);  // 96 TiB
    pthread_setattr_default_np(&attr);
    pthread_attr_destroy(&attr);
  }
  ~ThreadsCannotStart() {
    pthread_setattr_default_np(&saved_);
    pthread_attr_destroy(&saved_);
  }
  ThreadsCannotStart(const ThreadsCannotStart&) = delete;
  ThreadsCannotStart& operator=(const ThreadsCannotStart&) = delete;

 private:
  pthread_attr_t saved_;
};

}  // namespace cnpgi::testing_support

#endif  // CNPGI_TESTS_SUPPORT_THREADS_CANNOT_START_H_
