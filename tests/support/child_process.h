// Child processes for tests: plugins and the conformance checker, run as
// their users run them.
#ifndef CNPGI_TESTS_SUPPORT_CHILD_PROCESS_H_
#define CNPGI_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace cnpgi::testing_support {

// A child process with standard output and error captured in files of
// `dir`. Killed (SIGKILL) when destroyed if still running.
class Process {
 public:
  Process(const std::string& binary, const std::vector<std::string>& args,
          const std::filesystem::path& dir, const std::string& name = "process");
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool started() const { return pid_ > 0; }
  void Signal(int sig) const;
  // The exit code (128 + signal when killed by one), or -1 (and the process
  // killed) when it has not exited within `timeout`.
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  std::filesystem::path out_, err_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

// Waits up to `timeout` for `path` to exist.
bool WaitForPath(const std::filesystem::path& path,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Waits up to `timeout` until something accepts connections on the Unix
// socket at `path` (the file appears at bind(), before listen()).
bool WaitForListening(const std::filesystem::path& path,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20));

std::string ReadFileText(const std::filesystem::path& path);

}  // namespace cnpgi::testing_support

#endif  // CNPGI_TESTS_SUPPORT_CHILD_PROCESS_H_
