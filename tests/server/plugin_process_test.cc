// The plugin as a process: the command line, exit codes and signals, as
// Kubernetes drives a container.
#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cnpgi/backup/v1/backup.grpc.pb.h"
#include "cnpgi/identity/v1/identity.grpc.pb.h"
#include "cnpgi/operator/v1/operator.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "support/child_process.h"
#include "support/temp_dir.h"
#include "support/test_certificates.h"
#include "support/tls_channel.h"
#include "support/tls_probe.h"

namespace cnpgi {
namespace {

using ::testing::HasSubstr;
using testing_support::Process;
using testing_support::TempDir;
using testing_support::WaitForPath;

constexpr char kName[] = "test-plugin.cnpgi.example";

// `own_flags`: the program parses its command line itself and calls
// Run(options) (test_plugin_main.cc), which must live the same life.
void ExpectSigtermLetsTheCallInFlightFinish(bool own_flags) {
  TempDir dir;
  std::filesystem::create_directory(dir / "plugins");
  std::vector<std::string> args = {"--plugin-path", (dir / "plugins").string(),
                                   "--grace-period=20s"};
  if (own_flags) args.insert(args.begin(), "--own-flags");
  Process plugin(CNPGI_TEST_PLUGIN, args, dir.path());
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

TEST(PluginProcess, SigtermLetsTheCallInFlightFinishThenExitsZero) {
  ExpectSigtermLetsTheCallInFlightFinish(/*own_flags=*/false);
}

TEST(PluginProcess, RunWithOptionsTheProgramParsedLivesTheSameLife) {
  ExpectSigtermLetsTheCallInFlightFinish(/*own_flags=*/true);
}

// Calls kept in flight on five connections (as the operator's pool) from the
// moment it is created until the plugin process has exited; counts how
// every call that ended after Stop() ended.
class ContinuousLoad {
 public:
  ContinuousLoad(const std::filesystem::path& socket, int in_flight) : slots_(in_flight) {
    for (int i = 0; i < 5; ++i) {
      grpc::ChannelArguments args;
      args.SetInt("cnpgi.test.channel", i);
      stubs_.push_back(std::make_unique<grpc::GenericStub>(grpc::CreateCustomChannel(
          "unix:" + socket.string(), grpc::InsecureChannelCredentials(), args)));
    }
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      slots_[i].stub = stubs_[i % stubs_.size()].get();
      Issue(slots_[i]);
    }
  }

  // Runs until `answered` calls succeeded; false if they did not (within
  // 20 s).
  bool AwaitAnswered(int answered) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (ok_before_stop_ < answered && std::chrono::steady_clock::now() < give_up) {
      Step(/*reissue=*/true, /*after_stop=*/false);
    }
    return ok_before_stop_ >= answered;
  }

  // Keeps the load on until `plugin` exits, then lets the calls in flight
  // end. Answers the status codes of every call that ended meanwhile.
  std::map<grpc::StatusCode, int> UntilExit(testing_support::Process& plugin, int& exit_code) {
    std::atomic<bool> exited{false};
    std::thread waiter([&] {
      exit_code = plugin.Wait(std::chrono::seconds(60));
      exited = true;
    });
    while (!exited) Step(/*reissue=*/true, /*after_stop=*/true);
    waiter.join();
    while (outstanding_ > 0) Step(/*reissue=*/false, /*after_stop=*/true);
    return codes_;
  }

 private:
  struct Slot {
    grpc::GenericStub* stub = nullptr;
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> call;
    grpc::ByteBuffer response;
    grpc::Status status;
  };

  void Issue(Slot& s) {
    s.context = std::make_unique<grpc::ClientContext>();
    s.context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    s.response.Clear();
    s.call = s.stub->PrepareUnaryCall(s.context.get(), "/cnpgi.identity.v1.Identity/Probe",
                                      grpc::ByteBuffer(), &cq_);
    s.call->StartCall();
    s.call->Finish(&s.response, &s.status, &s);
    ++outstanding_;
  }

  void Step(bool reissue, bool after_stop) {
    void* tag = nullptr;
    bool ok = false;
    const auto next =
        cq_.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + std::chrono::milliseconds(10));
    if (next != grpc::CompletionQueue::GOT_EVENT) return;
    --outstanding_;
    Slot& s = *static_cast<Slot*>(tag);
    if (after_stop) {
      ++codes_[s.status.error_code()];
    } else if (s.status.ok()) {
      ++ok_before_stop_;
    }
    if (reissue) Issue(s);
  }

  std::vector<Slot> slots_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  grpc::CompletionQueue cq_;
  int outstanding_ = 0;
  int ok_before_stop_ = 0;
  std::map<grpc::StatusCode, int> codes_;
};

// gRPC 1.51 cancels (CANCELLED) the calls that reach a connection after its
// Shutdown began: calls no handler saw, which clients do not retry. A
// stopping plugin must instead finish them or refuse them with UNAVAILABLE.
// Several stops, since each one has its own timing.
TEST(PluginProcess, SigtermUnderLoadEndsNoCallWithCancelled) {
  int cancelled = 0;
  for (int round = 0; round < 5; ++round) {
    TempDir dir;
    Process plugin(CNPGI_TEST_PLUGIN, {"--plugin-path", dir.path().string(), "--grace-period=2s"},
                   dir.path());
    ASSERT_TRUE(testing_support::WaitForListening(dir / kName)) << plugin.Stderr();
    ContinuousLoad load(dir / kName, 16);
    ASSERT_TRUE(load.AwaitAnswered(200));
    plugin.Signal(SIGTERM);
    int exit_code = -1;
    std::map<grpc::StatusCode, int> codes = load.UntilExit(plugin, exit_code);
    EXPECT_EQ(exit_code, 0) << plugin.Stderr();
    for (const auto& [code, n] : codes) {
      if (code == grpc::StatusCode::CANCELLED) cancelled += n;
      EXPECT_TRUE(code == grpc::StatusCode::OK || code == grpc::StatusCode::UNAVAILABLE)
          << "stop " << round << ": " << n << " calls ended with code " << code;
    }
  }
  EXPECT_EQ(cancelled, 0);
}

// The lines of a JSON log; a line that is not a JSON object fails the test.
std::vector<nlohmann::json> JsonLines(const std::string& log) {
  std::vector<nlohmann::json> lines;
  std::size_t start = 0;
  while (start < log.size()) {
    std::size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    const std::string line = log.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(parsed.is_object()) << "not a JSON log line: " << line;
    if (parsed.is_object()) lines.push_back(std::move(parsed));
  }
  return lines;
}

// A caller repeating a failing call must not flood the log (one line per
// call made 98.8 MB in 30 s): lines are throttled per method and code, and
// what was not written is counted, in the next line written or, at the
// latest, when the plugin stops.
TEST(PluginProcess, RepeatedFailuresAreThrottledAndCounted) {
  TempDir dir;
  Process plugin(CNPGI_TEST_PLUGIN, {"--plugin-path", dir.path().string(), "--log-format=json"},
                 dir.path());
  ASSERT_TRUE(testing_support::WaitForListening(dir / kName)) << plugin.Stderr();
  auto channel =
      grpc::CreateChannel("unix:" + (dir / kName).string(), grpc::InsecureChannelCredentials());
  auto stub = operator_::v1::Operator::NewStub(channel);
  constexpr int kCalls = 1000;
  for (int i = 0; i < kCalls; ++i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    operator_::v1::OperatorMutateClusterResult result;
    ASSERT_EQ(stub->MutateCluster(&context, {}, &result).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }
  plugin.Signal(SIGTERM);
  ASSERT_EQ(plugin.Wait(), 0) << plugin.Stderr();

  int written = 0;
  std::uint64_t suppressed = 0;
  for (const nlohmann::json& line : JsonLines(plugin.Stderr())) {
    if (line.value("method", "") != "/cnpgi.operator.v1.Operator/MutateCluster") continue;
    EXPECT_EQ(line.value("code", ""), "UNIMPLEMENTED");
    if (line.value("msg", "") == "call failed") ++written;
    suppressed += line.value("suppressed", std::uint64_t{0});
  }
  EXPECT_GE(written, 1);
  EXPECT_LT(written, kCalls / 10) << "the failures were not throttled";
  EXPECT_EQ(written + suppressed, std::uint64_t{kCalls}) << "failures went uncounted";
}

// A plugin gives memory back once it has been quiet after start-up (see
// src/server/idle_memory.h), and serves as before afterwards: the code it
// dropped comes back from the executable. `inspect` gets the plugin's process
// id while it runs.
void TrimsIdleMemoryAndKeepsServing(const std::string& binary,
                                    const std::function<void(pid_t)>& inspect = {}) {
  TempDir dir;
  Process plugin(binary,
                 {"--plugin-path", dir.path().string(), "--log-format=json", "--log-level=debug"},
                 dir.path());
  EXPECT_TRUE(testing_support::WaitForListening(dir / kName)) << plugin.Stderr();
  auto trimmed = [&] {
    for (const nlohmann::json& line : JsonLines(plugin.Stderr())) {
      if (line.value("msg", "") == "idle: memory returned") {
        EXPECT_GT(line.value("file_mappings", 0), 0) << line.dump();
        return true;
      }
    }
    return false;
  };
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!trimmed() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(trimmed()) << plugin.Stderr();

  auto channel =
      grpc::CreateChannel("unix:" + (dir / kName).string(), grpc::InsecureChannelCredentials());
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    identity::v1::GetPluginMetadataResponse response;
    const grpc::Status status =
        identity::v1::Identity::NewStub(channel)->GetPluginMetadata(&context, {}, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.name(), kName);
  }
  if (inspect) {
    // The process behind the socket, from the kernel's peer credentials.
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string path = (dir / kName).string();
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    ucred peer{};
    socklen_t length = sizeof(peer);
    ASSERT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length), 0);
    close(fd);
    inspect(peer.pid);
  }
  plugin.Signal(SIGTERM);
  EXPECT_EQ(plugin.Wait(), 0) << plugin.Stderr();
}

TEST(PluginProcess, ReturnsIdleMemoryAfterStartUpAndKeepsServing) {
  TrimsIdleMemoryAndKeepsServing(CNPGI_TEST_PLUGIN);
}

#ifdef CNPGI_TEST_PLUGIN_JEMALLOC
// cnpgi_link_statically(... ALLOCATOR jemalloc): jemalloc is the process's
// allocator (it reads MALLOC_CONF: asked for its background thread, it
// starts one), and the plugin serves and trims as with glibc's.
TEST(PluginProcess, LinkedWithJemallocUsesItServesAndTrims) {
  ASSERT_EQ(setenv("MALLOC_CONF", "background_thread:true", 1), 0);
  TrimsIdleMemoryAndKeepsServing(CNPGI_TEST_PLUGIN_JEMALLOC, [](pid_t pid) {
    std::vector<std::string> names;
    for (const auto& task :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
      names.push_back(testing_support::ReadFileText(task.path() / "comm"));
    }
    EXPECT_THAT(names, ::testing::Contains(::testing::StartsWith("jemalloc_bg_thd")));
  });
  unsetenv("MALLOC_CONF");
}
#endif

// With --log-format=json every line of the process is JSON with the
// plugin's name: the SDK's, gRPC's own, and those about connections refused
// before any call (a client certificate that is not trusted, TLS 1.2, no
// ALPN "h2", plaintext), which say why, and what certificate was presented.
TEST(PluginProcess, EveryLineOfTheProcessIsInTheChosenFormat) {
  TempDir dir;
  const testing_support::Certificate server = testing_support::MakeServerCertificate();
  const testing_support::Certificate client = testing_support::MakeClientCertificate();
  const auto server_files = testing_support::WritePemFiles(dir.path(), "server", server);
  const auto client_files = testing_support::WritePemFiles(dir.path(), "client", client);
  Process plugin(CNPGI_TEST_PLUGIN,
                 {"--server-address=127.0.0.1:0", "--server-cert=" + server_files.cert.string(),
                  "--server-key=" + server_files.key.string(),
                  "--client-cert=" + client_files.cert.string(), "--log-format=json"},
                 dir.path());
  // The port the system chose, from the start-up line.
  std::string address;
  for (int i = 0; i < 2000 && address.empty(); ++i) {
    for (const nlohmann::json& line : JsonLines(plugin.Stderr())) {
      if (line.value("msg", "") == "plugin server started") address = line.value("address", "");
    }
    if (address.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(address.empty()) << plugin.Stderr();
  const int port = std::stoi(address.substr(address.rfind(':') + 1));

  auto metadata = [](const std::shared_ptr<grpc::Channel>& channel) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    identity::v1::GetPluginMetadataResponse response;
    return identity::v1::Identity::NewStub(channel)->GetPluginMetadata(&context, {}, &response);
  };
  EXPECT_TRUE(metadata(testing_support::MakeMutualTlsChannel(address, server, client)).ok());
  EXPECT_FALSE(
      metadata(testing_support::MakeMutualTlsChannel(
                   address, server, testing_support::MakeClientCertificate("cnpgi-test-stranger")))
          .ok());
  EXPECT_FALSE(metadata(testing_support::MakeInsecureChannel(address)).ok());
  testing_support::TlsProbeOptions probe;
  probe.server_name = std::string(testing_support::kTestServerName);
  probe.trusted_server_cert_pem = server.cert_pem;
  probe.client_cert_pem = client.cert_pem;
  probe.client_key_pem = client.key_pem;
  probe.min_version = probe.max_version = testing_support::TlsVersion::k1_2;
  EXPECT_FALSE(testing_support::ProbeTls("127.0.0.1", port, probe).ok());
  probe.min_version = probe.max_version = testing_support::TlsVersion::k1_3;
  probe.alpn = "http/1.1";
  EXPECT_FALSE(testing_support::ProbeTls("127.0.0.1", port, probe).ok());

  // The server may log a refusal just after the client saw the connection
  // close: wait for the lines (bounded) before stopping it.
  std::vector<std::string> handshake_failures;
  bool stranger_named = false;
  auto read_log = [&] {
    handshake_failures.clear();
    stranger_named = false;
    for (const nlohmann::json& line : JsonLines(plugin.Stderr())) {
      if (line.value("msg", "") == "connection closed during its handshake") {
        handshake_failures.push_back(line.value("reason", ""));
      }
      stranger_named |=
          line.value("peer_certificate", "").find("CN=cnpgi-test-stranger") != std::string::npos;
    }
    return stranger_named && handshake_failures.size() >= 3;
  };
  for (int i = 0; i < 2000 && !read_log(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(stranger_named) << plugin.Stderr();
  EXPECT_THAT(handshake_failures, ::testing::Contains(HasSubstr("no shared cipher")));
  EXPECT_THAT(handshake_failures, ::testing::Contains(HasSubstr("ALPN")));
  EXPECT_THAT(handshake_failures, ::testing::Contains(HasSubstr("wrong version number")));

  plugin.Signal(SIGTERM);
  ASSERT_EQ(plugin.Wait(), 0) << plugin.Stderr();
  for (const nlohmann::json& line : JsonLines(plugin.Stderr())) {
    EXPECT_EQ(line.value("logger", ""), kName) << line.dump();
  }
}

// The plugin under /bin/sh, which first runs `shell` (e.g. a ulimit).
std::vector<std::string> UnderShell(const std::string& shell, std::vector<std::string> args) {
  std::vector<std::string> out = {"-c", shell + " && exec \"$0\" \"$@\"", CNPGI_TEST_PLUGIN};
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

// A connection to the Unix socket at `path` that stays open, or -1.
int ConnectUnix(const std::filesystem::path& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
  if (fd >= 0 && connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// As Go programs do: the soft limit on open files goes up to the hard one
// at start-up (it is often 1024 where the hard one is far higher).
TEST(PluginProcess, RaisesItsOpenFilesLimitToTheHardLimit) {
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  ASSERT_GT(limit.rlim_max, 64u) << "the hard limit is too low for this test";
  TempDir dir;
  Process plugin(
      "/bin/sh",
      UnderShell("ulimit -S -n 64", {"--plugin-path", dir.path().string(), "--log-format=json"}),
      dir.path());
  ASSERT_TRUE(testing_support::WaitForListening(dir / kName)) << plugin.Stderr();
  plugin.Signal(SIGTERM);
  ASSERT_EQ(plugin.Wait(), 0) << plugin.Stderr();
  std::uint64_t max_open_files = 0;
  for (const nlohmann::json& line : JsonLines(plugin.Stderr())) {
    if (line.value("msg", "") == "plugin server started") {
      max_open_files = line.value("max_open_files", std::uint64_t{0});
    }
  }
  EXPECT_EQ(max_open_files, limit.rlim_max);
}

// gRPC 1.51 stops accepting for good once accept() fails for lack of
// descriptors, and says nothing more: a plugin alive and deaf, which
// Kubernetes does not restart. The plugin must exit non-zero instead.
//
// Not in the sanitizer build: the sanitizers' runtime needs descriptors of
// its own. UBSan's vptr check tests that a vtable is readable by writing it
// into a pipe(2); once the plugin has no descriptor left that fails, and a
// valid object (a logger's fmt buffer) is reported as having an invalid vptr
// (seen in CI); a suppressions file cannot help, it is opened at the first
// report. The regular build runs this test.
TEST(PluginProcess, ExitsNonZeroWhenItCanNoLongerAcceptConnections) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "the sanitizers' runtime cannot work without descriptors";
#endif
  TempDir dir;
  Process plugin("/bin/sh",
                 UnderShell("ulimit -n 64", {"--plugin-path", dir.path().string(),
                                             "--grace-period=2s", "--log-format=json"}),
                 dir.path());
  ASSERT_TRUE(testing_support::WaitForListening(dir / kName)) << plugin.Stderr();
  std::vector<int> connections;
  for (int i = 0; i < 100; ++i) {
    const int fd = ConnectUnix(dir / kName);
    if (fd < 0) break;  // the plugin has stopped (and removed its socket)
    connections.push_back(fd);
  }
  const int exit_code = plugin.Wait(std::chrono::seconds(60));
  for (int fd : connections) close(fd);
  EXPECT_EQ(exit_code, 1) << plugin.Stderr();
  EXPECT_THAT(plugin.Stderr(), HasSubstr("cannot accept connections any more"));
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

TEST(PluginProcess, RunWithOptionsRefusesAStartTheSameWay) {
  TempDir dir;
  Process plugin(CNPGI_TEST_PLUGIN, {"--own-flags", "--plugin-path", (dir / "missing").string()},
                 dir.path());
  EXPECT_EQ(plugin.Wait(), 1);
  EXPECT_THAT(plugin.Stderr(), HasSubstr("cannot start"));
  EXPECT_THAT(plugin.Stderr(), HasSubstr("missing"));
}

// A plugin directory its user cannot write (a volume mounted for another
// user, or the read-only root file system): the start is refused with the
// directory and the user named, not bind()'s bare "Permission denied".
TEST(PluginProcess, UnwritablePluginDirectoryNamesTheDirectoryAndTheUser) {
  TempDir dir;
  namespace fs = std::filesystem;
  const fs::path plugins = dir / "plugins";
  fs::create_directory(plugins);
  // Others may reach `plugins` (mkdtemp makes its directory 0700), not write it.
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::others_exec);
  fs::permissions(plugins, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::others_read |
                               fs::perms::others_exec);
  std::string binary = CNPGI_TEST_PLUGIN;
  std::vector<std::string> args = {"--plugin-path", plugins.string()};
  uid_t uid = geteuid();
  if (uid == 0) {
    // Root writes anywhere: run the plugin as the example images' user.
    if (access("/usr/bin/setpriv", X_OK) != 0) {
      GTEST_SKIP() << "running as root and /usr/bin/setpriv (util-linux) is missing: cannot "
                      "run the plugin as another user";
    }
    uid = 65532;
    args.insert(args.begin(),
                {"--reuid=65532", "--regid=65532", "--clear-groups", CNPGI_TEST_PLUGIN});
    binary = "/usr/bin/setpriv";
  }
  Process plugin(binary, args, dir.path());
  EXPECT_EQ(plugin.Wait(), 1) << plugin.Stderr();
  EXPECT_THAT(plugin.Stderr(),
              HasSubstr("plugin path " + plugins.string() + " is not writable by"));
  EXPECT_THAT(plugin.Stderr(), HasSubstr("uid " + std::to_string(uid)));
  EXPECT_THAT(plugin.Stderr(), HasSubstr("Permission denied"));
  EXPECT_FALSE(fs::exists(plugins / kName));
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
