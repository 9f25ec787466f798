// The plugin as a process: the command line, exit codes and signals, as
// Kubernetes drives a container.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cnpgi/backup/v1/backup.grpc.pb.h"
#include "cnpgi/identity/v1/identity.grpc.pb.h"
#include "support/temp_dir.h"

extern char** environ;

namespace cnpgi {
namespace {

using ::testing::HasSubstr;
using testing_support::TempDir;

constexpr char kName[] = "test-plugin.cnpgi.example";

// A child process with its output captured in files.
class Process {
 public:
  Process(const std::vector<std::string>& args, const std::filesystem::path& dir)
      : out_(dir / "stdout"), err_(dir / "stderr") {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(CNPGI_TEST_PLUGIN));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, CNPGI_TEST_PLUGIN, &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Process() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  void Signal(int sig) const { kill(pid_, sig); }

  // The exit code, or -1 (and the process killed) if it did not exit in time.
  int Wait(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  std::string Stdout() const { return Read(out_); }
  std::string Stderr() const { return Read(err_); }

 private:
  static std::string Read(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::filesystem::path out_, err_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

bool WaitForFile(const std::filesystem::path& p) {
  for (int i = 0; i < 1000; ++i) {
    if (std::filesystem::exists(p)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(PluginProcess, SigtermLetsTheCallInFlightFinishThenExitsZero) {
  TempDir dir;
  std::filesystem::create_directory(dir / "plugins");
  Process plugin({"--plugin-path", (dir / "plugins").string(), "--grace-period=20s"}, dir.path());
  const auto socket = dir / "plugins" / kName;
  ASSERT_TRUE(WaitForFile(socket)) << plugin.Stderr();

  auto channel = grpc::CreateChannel("unix:" + socket.string(), grpc::InsecureChannelCredentials());
  auto backup = std::async(std::launch::async, [&] {
    backup::v1::BackupRequest request;
    (*request.mutable_parameters())["sleep_ms"] = "1500";
    (*request.mutable_parameters())["started_file"] = (dir / "started").string();
    backup::v1::BackupResult result;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status status = backup::v1::Backup::NewStub(channel)->Backup(&context, request, &result);
    return status.ok() ? result.backup_id() : "error: " + status.error_message();
  });
  ASSERT_TRUE(WaitForFile(dir / "started"));
  plugin.Signal(SIGTERM);
  EXPECT_EQ(backup.get(), "slept");
  EXPECT_EQ(plugin.Wait(), 0) << plugin.Stderr();
  EXPECT_FALSE(std::filesystem::exists(socket)) << "the socket must be removed on shutdown";
  EXPECT_THAT(plugin.Stderr(), HasSubstr("received signal"));
}

TEST(PluginProcess, SigintStopsAnIdlePlugin) {
  TempDir dir;
  Process plugin({"--plugin-path", dir.path().string()}, dir.path());
  ASSERT_TRUE(WaitForFile(dir / kName)) << plugin.Stderr();
  plugin.Signal(SIGINT);
  EXPECT_EQ(plugin.Wait(), 0) << plugin.Stderr();
  EXPECT_FALSE(std::filesystem::exists(dir / kName));
}

TEST(PluginProcess, StartupLineNamesTransportAndAddress) {
  TempDir dir;
  Process plugin({"--plugin-path", dir.path().string(), "--log-format=json"}, dir.path());
  ASSERT_TRUE(WaitForFile(dir / kName));
  plugin.Signal(SIGTERM);
  ASSERT_EQ(plugin.Wait(), 0);
  const std::string log = plugin.Stderr();
  EXPECT_THAT(log, HasSubstr(R"("msg":"plugin server started")"));
  EXPECT_THAT(log, HasSubstr(R"("transport":"unix")"));
  EXPECT_THAT(log, HasSubstr(R"("version":"1.2.3")"));
  EXPECT_THAT(log, HasSubstr((dir / kName).string()));
}

TEST(PluginProcess, BadFlagExitsTwoNamingTheFlag) {
  TempDir dir;
  Process plugin({"--plugin-pth=/plugins"}, dir.path());
  EXPECT_EQ(plugin.Wait(), 2);
  EXPECT_THAT(plugin.Stderr(), HasSubstr("--plugin-pth"));
  EXPECT_THAT(plugin.Stderr(), HasSubstr("--help"));
}

TEST(PluginProcess, IncompleteTcpFlagsExitTwo) {
  TempDir dir;
  Process plugin({"--server-address=:9090", "--server-cert=/x/tls.crt"}, dir.path());
  EXPECT_EQ(plugin.Wait(), 2);
  EXPECT_THAT(plugin.Stderr(), HasSubstr("--server-key"));
  EXPECT_THAT(plugin.Stderr(), HasSubstr("--client-cert"));
}

TEST(PluginProcess, RefusedStartExitsOneWithTheReason) {
  TempDir dir;
  Process plugin({"--plugin-path", (dir / "missing").string()}, dir.path());
  EXPECT_EQ(plugin.Wait(), 1);
  EXPECT_THAT(plugin.Stderr(), HasSubstr("cannot start"));
  EXPECT_THAT(plugin.Stderr(), HasSubstr("missing"));
}

TEST(PluginProcess, HelpAndVersion) {
  TempDir dir;
  Process help({"--help"}, dir.path());
  EXPECT_EQ(help.Wait(), 0);
  EXPECT_THAT(help.Stdout(), HasSubstr("--plugin-path"));
  EXPECT_THAT(help.Stdout(), HasSubstr("--server-address"));
  TempDir dir2;
  Process version({"--version"}, dir2.path());
  EXPECT_EQ(version.Wait(), 0);
  EXPECT_THAT(version.Stdout(), HasSubstr("test-plugin.cnpgi.example 1.2.3"));
}

}  // namespace
}  // namespace cnpgi
