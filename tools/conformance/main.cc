// cnpgi-conformance: checks a running CNPG-I plugin the way CloudNativePG
// uses it. See docs/conformance.md.
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
#include "cnpgi/testing/conformance.h"
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
      std::cout << cnpgi::conformance_tool::Usage(program);
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

  const cnpgi::test::ConformanceOptions& options = cl->options;
  StartWatchdog(options.timeout);
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
