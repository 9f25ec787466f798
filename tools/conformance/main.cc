// cnpgi-conformance: checks a running CNPG-I plugin the way CloudNativePG
// uses it. See docs/conformance.md.
#include <grpc/grpc.h>
#include <grpc/support/log.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cnpgi/testing/conformance.h"
#include "cnpgi/testing/replay.h"
#include "cnpgi/version.h"
#include "command_line.h"

namespace {

constexpr int kAllPassed = 0;
constexpr int kSomeFailed = 1;
constexpr int kUsageOrConnection = 2;

// Whatever happens inside (a check that blocks despite its deadlines), the
// process ends: the run gets --timeout plus this margin.
constexpr absl::Duration kWatchdogMargin = absl::Seconds(10);

void StartWatchdog(absl::Duration timeout) {
  std::thread([timeout] {
    absl::SleepFor(timeout + kWatchdogMargin);
    std::fprintf(stderr,
                 "cnpgi-conformance: giving up: the run did not finish within --timeout (%s) "
                 "plus %s\n",
                 absl::FormatDuration(timeout).c_str(),
                 absl::FormatDuration(kWatchdogMargin).c_str());
    std::fflush(stdout);
    _exit(kUsageOrConnection);
  }).detach();
}

// gRPC for the whole run, and the end of its clean-up waited for before
// main() returns. gRPC 1.51 tears channels down asynchronously: the last
// reference to the library goes on one of its own threads, and its clean-up
// (joining its executor and timer threads) then runs in a detached thread,
// measured here 0.15 to 0.25 s after the checker's own grpc_shutdown(). An
// exit() during that clean-up runs OpenSSL's exit handler while those threads
// still hold per-thread OpenSSL state (they take part in TLS handshakes); the
// state of a thread that ends after the handler is never freed, and
// LeakSanitizer reported it in CI against a plugin over mutual TLS. Waiting
// until gRPC says it is no longer initialized means every one of those threads
// was joined. Bounded: a clean-up that hangs must not hold the exit code back.
constexpr absl::Duration kGrpcCleanupWait = absl::Seconds(5);

class GrpcLifetime {
 public:
  GrpcLifetime() { grpc_init(); }
  ~GrpcLifetime() {
    grpc_shutdown();
    const absl::Time give_up = absl::Now() + kGrpcCleanupWait;
    while (grpc_is_initialized() != 0 && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  GrpcLifetime(const GrpcLifetime&) = delete;
  GrpcLifetime& operator=(const GrpcLifetime&) = delete;
};

// --replay DIR: the recorded calls sent again, the answers compared
// (docs/testing.md, "Record in a cluster, replay in tests").
int Replay(const std::string& program, const cnpgi::test::ConformanceOptions& options,
           const std::string& dir) {
  auto calls = cnpgi::test::LoadRecording(dir);
  if (!calls.ok()) {
    std::cerr << program << ": --replay: " << calls.status().message() << "\n";
    return kUsageOrConnection;
  }
  cnpgi::test::ClientOptions client_options;
  client_options.call_timeout = options.call_timeout;
  client_options.deadline = absl::Now() + options.timeout;
  client_options.require_advertised = false;
  auto client = cnpgi::test::PluginClient::Open(options.endpoint, client_options);
  if (!client.ok()) {
    std::cerr << program << ": " << client.status().message() << "\n";
    return kUsageOrConnection;
  }
  // Reached first, as for a check run: a plugin that cannot be reached is a
  // connection error, not every answer different. Later handshake steps do
  // not matter here; the recorded calls say what is called.
  client->Handshake().IgnoreError();
  if (const auto& steps = client->handshake().steps; !steps.empty() && !steps.front().status.ok()) {
    std::cerr << program << ": cannot reach the plugin at " << options.endpoint.Describe() << ": "
              << steps.front().status.message() << "\n";
    return kUsageOrConnection;
  }
  std::cout << program << ": replaying " << calls->size() << " recorded calls from " << dir
            << " against " << options.endpoint.Describe() << "\n";
  const cnpgi::test::ReplayReport report = cnpgi::test::Replay(*client, *calls);
  std::cout << report.Describe() << "\n" << std::flush;
  return report.ok() ? kAllPassed : kSomeFailed;
}

}  // namespace

// gRPC's own log lines (a failed TLS handshake, say) repeat what the
// checker reports in its own words; keep them only if GRPC_VERBOSITY asks.
static void DropGrpcLog(gpr_log_func_args*) {}

int main(int argc, char** argv) {
  const std::string program = "cnpgi-conformance";
  if (getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function(DropGrpcLog);
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<cnpgi::conformance_tool::CommandLine> cl =
      cnpgi::conformance_tool::ParseCommandLine(args);
  if (!cl.ok()) {
    std::cerr << program << ": " << cl.status().message() << "\n";
    return kUsageOrConnection;
  }
  switch (cl->action) {
    case cnpgi::conformance_tool::CommandLine::Action::kHelp:
      std::cout << cnpgi::conformance_tool::Usage();
      return kAllPassed;
    case cnpgi::conformance_tool::CommandLine::Action::kVersion:
      std::cout << program << " " << cnpgi::kSdkVersion << " (CNPG-I " << cnpgi::kProtocolVersion
                << ")\n";
      return kAllPassed;
    case cnpgi::conformance_tool::CommandLine::Action::kList:
      for (const auto& c : cnpgi::test::ConformanceChecks()) {
        std::cout << c.name << "\t" << c.description << "\n";
      }
      return kAllPassed;
    case cnpgi::conformance_tool::CommandLine::Action::kRun:
      break;
  }

  const GrpcLifetime grpc;
  const cnpgi::test::ConformanceOptions& options = cl->options;
  StartWatchdog(options.timeout);
  if (!cl->replay_dir.empty()) return Replay(program, options, cl->replay_dir);
  std::cout << program << ": checking " << options.endpoint.Describe() << "\n" << std::flush;
  absl::StatusOr<cnpgi::test::ConformanceReport> report =
      cnpgi::test::RunConformance(options, [](const cnpgi::test::CheckResult& result) {
        std::cout << cnpgi::test::FormatCheckResult(result) << "\n" << std::flush;
      });
  if (!report.ok()) {
    std::cerr << program << ": " << report.status().message() << "\n";
    return kUsageOrConnection;
  }
  std::cout << "plugin " << report->plugin_name << " " << report->plugin_version << " ("
            << (report->services.empty() ? std::string("no services")
                                         : absl::StrJoin(report->services, ", "))
            << ")\n";
  std::cout << report->Summary() << "\n" << std::flush;
  if (!cl->junit_file.empty()) {
    std::ofstream out(cl->junit_file, std::ios::trunc);
    out << report->JUnitXml();
    out.close();
    if (!out) {
      std::cerr << program << ": cannot write --junit " << cl->junit_file << "\n";
      return kUsageOrConnection;
    }
  }
  return report->ok() ? kAllPassed : kSomeFailed;
}
