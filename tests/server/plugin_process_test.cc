// The plugin as a process: the command line, exit codes and signals, as
// Kubernetes drives a container.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "cnpgi/backup/v1/backup.grpc.pb.h"
#include "cnpgi/identity/v1/identity.grpc.pb.h"
#include "support/child_process.h"
#include "support/temp_dir.h"

namespace cnpgi {
namespace {

using ::testing::HasSubstr;
using testing_support::Process;
using testing_support::TempDir;
using testing_support::WaitForPath;

constexpr char kName[] = "test-plugin.cnpgi.example";

TEST(PluginProcess, SigtermLetsTheCallInFlightFinishThenExitsZero) {
  TempDir dir;
  std::filesystem::create_directory(dir / "plugins");
  Process plugin(CNPGI_TEST_PLUGIN,
                 {"--plugin-path", (dir / "plugins").string(), "--grace-period=20s"}, dir.path());
  const auto socket = dir / "plugins" / kName;
  ASSERT_TRUE(WaitForPath(socket)) << plugin.Stderr();

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
  ASSERT_TRUE(WaitForPath(dir / "started"));
  plugin.Signal(SIGTERM);
  EXPECT_EQ(backup.get(), "slept");
  EXPECT_EQ(plugin.Wait(), 0) << plugin.Stderr();
  EXPECT_FALSE(std::filesystem::exists(socket)) << "the socket must be removed on shutdown";
  EXPECT_THAT(plugin.Stderr(), HasSubstr("received signal"));
}

TEST(PluginProcess, SigintStopsAnIdlePlugin) {
  TempDir dir;
  Process plugin(CNPGI_TEST_PLUGIN, {"--plugin-path", dir.path().string()}, dir.path());
  ASSERT_TRUE(WaitForPath(dir / kName)) << plugin.Stderr();
  plugin.Signal(SIGINT);
  EXPECT_EQ(plugin.Wait(), 0) << plugin.Stderr();
  EXPECT_FALSE(std::filesystem::exists(dir / kName));
}

TEST(PluginProcess, StartupLineNamesTransportAndAddress) {
  TempDir dir;
  Process plugin(CNPGI_TEST_PLUGIN, {"--plugin-path", dir.path().string(), "--log-format=json"},
                 dir.path());
  ASSERT_TRUE(WaitForPath(dir / kName));
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
  Process plugin(CNPGI_TEST_PLUGIN, {"--plugin-pth=/plugins"}, dir.path());
  EXPECT_EQ(plugin.Wait(), 2);
  EXPECT_THAT(plugin.Stderr(), HasSubstr("--plugin-pth"));
  EXPECT_THAT(plugin.Stderr(), HasSubstr("--help"));
}

TEST(PluginProcess, IncompleteTcpFlagsExitTwo) {
  TempDir dir;
  Process plugin(CNPGI_TEST_PLUGIN, {"--server-address=:9090", "--server-cert=/x/tls.crt"},
                 dir.path());
  EXPECT_EQ(plugin.Wait(), 2);
  EXPECT_THAT(plugin.Stderr(), HasSubstr("--server-key"));
  EXPECT_THAT(plugin.Stderr(), HasSubstr("--client-cert"));
}

TEST(PluginProcess, RefusedStartExitsOneWithTheReason) {
  TempDir dir;
  Process plugin(CNPGI_TEST_PLUGIN, {"--plugin-path", (dir / "missing").string()}, dir.path());
  EXPECT_EQ(plugin.Wait(), 1);
  EXPECT_THAT(plugin.Stderr(), HasSubstr("cannot start"));
  EXPECT_THAT(plugin.Stderr(), HasSubstr("missing"));
}

TEST(PluginProcess, HelpAndVersion) {
  TempDir dir;
  Process help(CNPGI_TEST_PLUGIN, {"--help"}, dir.path());
  EXPECT_EQ(help.Wait(), 0);
  EXPECT_THAT(help.Stdout(), HasSubstr("--plugin-path"));
  EXPECT_THAT(help.Stdout(), HasSubstr("--server-address"));
  TempDir dir2;
  Process version(CNPGI_TEST_PLUGIN, {"--version"}, dir2.path());
  EXPECT_EQ(version.Wait(), 0);
  EXPECT_THAT(version.Stdout(), HasSubstr("test-plugin.cnpgi.example 1.2.3"));
}

}  // namespace
}  // namespace cnpgi
