// The conformance checker, as a library and as the cnpgi-conformance
// command: all PASS against a good SDK plugin, a precise FAIL for each
// purpose-built broken plugin, and a clear exit 2 for what is not a plugin.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "cnpgi/testing/conformance.h"
#include "cnpgi/testing/plugin_kit.h"
#include "good_plugin.h"
#include "support/child_process.h"
#include "support/temp_dir.h"
#include "support/test_certificates.h"

namespace cnpgi::conformance_test {
namespace {

namespace ct = ::cnpgi::test;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::Process;
using testing_support::ReadFileText;
using testing_support::TempDir;
using testing_support::WaitForListening;
using testing_support::WaitForPath;

constexpr char kBrokenName[] = "broken.conformance.cnpgi.example";

std::string Describe(const ct::ConformanceReport& report) {
  std::string out;
  for (const auto& r : report.results) out += ct::FormatCheckResult(r) + "\n";
  return out + report.Summary();
}

const ct::CheckResult* Find(const ct::ConformanceReport& report, const std::string& name) {
  for (const auto& r : report.results) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

// A broken plugin process on a Unix socket of its own directory.
class BrokenPlugin {
 public:
  explicit BrokenPlugin(const std::string& defect)
      : socket_((dir_ / kBrokenName).string()),
        process_(CNPGI_BROKEN_PLUGIN, {"--socket", socket_, "--defect", defect}, dir_.path(),
                 "broken") {}
  bool Ready() { return WaitForListening(socket_); }
  const std::string& socket() const { return socket_; }
  Process& process() { return process_; }

 private:
  TempDir dir_;
  std::string socket_;
  Process process_;
};

absl::StatusOr<ct::ConformanceReport> Check(const std::string& socket,
                                            std::vector<std::string> only = {},
                                            ct::ConformanceOptions options = {}) {
  options.endpoint = ct::Endpoint::Unix(socket);
  options.only = std::move(only);
  return ct::RunConformance(options);
}

// ---------------------------------------------------------------------------
// A good plugin passes everything.

TEST(Conformance, GoodSdkPluginPassesEveryCheckAsALibrary) {
  TempDir dir;
  auto kit = ct::PluginKit::Start(MakeGoodPlugin());
  ASSERT_TRUE(kit.ok()) << kit.status();
  ct::ConformanceOptions options;
  options.endpoint = kit->endpoint();
  options.plugin_name = kGoodPluginName;
  options.plugin_parameters = {{"mode", "label"}, {"archiveDir", (dir / "archive").string()}};
  options.wal_dir = (dir / "scratch").string();
  options.run_backup = true;
  options.run_restore_job = true;
  std::vector<std::string> streamed;
  auto report =
      ct::RunConformance(options, [&](const ct::CheckResult& r) { streamed.push_back(r.name); });
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->failed(), 0) << Describe(*report);
  EXPECT_EQ(report->results.size(), ct::ConformanceChecks().size());
  EXPECT_EQ(streamed.size(), report->results.size());
  for (const auto& r : report->results) {
    if (r.name.rfind("transport.", 0) == 0) {
      EXPECT_EQ(r.outcome, ct::CheckOutcome::kSkip) << r.name << ": " << r.message;
      EXPECT_THAT(r.message, HasSubstr("Unix socket"));
    } else {
      EXPECT_EQ(r.outcome, ct::CheckOutcome::kPass) << r.name << ": " << r.message;
    }
  }
  EXPECT_EQ(report->plugin_name, kGoodPluginName);
  EXPECT_THAT(Find(*report, "wal.archive-restore")->message, HasSubstr("restored it identically"));
  EXPECT_TRUE(std::filesystem::exists(dir / "archive" / "000000FD0000000000000001"));
}

TEST(Conformance, RawPluginWithoutDefectPassesEveryCheck) {
  BrokenPlugin plugin("none");
  ASSERT_TRUE(plugin.Ready());
  auto report = Check(plugin.socket());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->failed(), 0) << Describe(*report);
  EXPECT_EQ(Find(*report, "lifecycle.idempotent")->outcome, ct::CheckOutcome::kPass);
  EXPECT_EQ(Find(*report, "bad-input.malformed-json")->outcome, ct::CheckOutcome::kPass);
}

// ---------------------------------------------------------------------------
// Each defect fails its check, with a message that says what is wrong.

struct Defect {
  const char* defect;
  const char* check;
  const char* message;
  // What the operator tolerates is a warning (the run still passes).
  ct::CheckOutcome outcome = ct::CheckOutcome::kFail;
};

void PrintTo(const Defect& d, std::ostream* os) { *os << d.defect << " -> " << d.check; }

class BrokenPluginTest : public ::testing::TestWithParam<Defect> {};

TEST_P(BrokenPluginTest, FailsItsCheckWithAPreciseMessage) {
  const Defect& d = GetParam();
  BrokenPlugin plugin(d.defect);
  ASSERT_TRUE(plugin.Ready()) << plugin.process().Stderr();
  ct::ConformanceOptions options;
  options.probe_budget = absl::Milliseconds(200);
  auto report = Check(plugin.socket(), {d.check}, options);
  ASSERT_TRUE(report.ok()) << report.status();
  const ct::CheckResult* result = Find(*report, d.check);
  ASSERT_NE(result, nullptr) << Describe(*report);
  EXPECT_EQ(result->outcome, d.outcome) << result->message;
  EXPECT_THAT(result->message, HasSubstr(d.message));
  EXPECT_EQ(report->ok(), d.outcome == ct::CheckOutcome::kWarn);
  if (d.outcome == ct::CheckOutcome::kWarn) {
    EXPECT_THAT(result->message, HasSubstr("tolerated"));
    ct::ConformanceReport strict = *report;  // as with --strict: warnings fail the run
    strict.strict = true;
    EXPECT_FALSE(strict.ok());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Defects, BrokenPluginTest,
    ::testing::Values(
        Defect{"bad-metadata", "metadata.name", "only lowercase letters, digits, '-' and '.'"},
        Defect{"bad-metadata", "metadata.version", "the version is empty", ct::CheckOutcome::kWarn},
        Defect{"unserved-service", "capabilities.services",
               "TYPE_WAL_SERVICE is advertised but cnpgi.wal.v1.WAL/GetCapabilities failed: "
               "UNIMPLEMENTED"},
        Defect{"empty-capability", "capabilities.entries",
               "GetPluginCapabilities entry 4 has its `service` oneof unset"},
        Defect{"unimplemented-rpc", "capabilities.rpcs",
               "SetStatusInCluster is advertised but answers UNIMPLEMENTED"},
        Defect{"slow-probe", "probe", "more than the budget of 200ms", ct::CheckOutcome::kWarn},
        Defect{"nondeterministic-evaluate", "lifecycle.deterministic",
               "EVALUATE core/Pod is not deterministic: call 2 on the same objects gave another "
               "result (/metadata/annotations/broken.cnpgi.example~1generation"},
        Defect{"nonidempotent-evaluate", "lifecycle.idempotent",
               "CREATE core/Pod applied to the result of EVALUATE core/Pod makes two containers "
               "named \"sidecar\" (/spec/containers: 2 elements, then 3"},
        Defect{"kind-change", "lifecycle.patch",
               "the patch changes kind from \"Pod\" to \"Deployment\""},
        Defect{"invalid-patch", "lifecycle.patch",
               "patch operation 0 (add /spec/notThere/child) does not apply: its parent does not "
               "exist"},
        Defect{"status-array", "operator.status",
               "json_status is an array ([1,2,3]); only a JSON object (or nothing, or null) is "
               "accepted"},
        Defect{"partial-config", "postgres.configuration",
               "INIT: the answer has 1 parameter and lacks archive_command"},
        Defect{"metrics-mismatch", "metrics.consistent", "metric \"broken_up\" has no value_type"},
        Defect{"metrics-mismatch", "metrics.consistent",
               "collected sample 1 \"broken_undefined_total\" has no definition"},
        Defect{"crash-on-malformed-json", "bad-input.malformed-json",
               "the plugin no longer answers Probe", ct::CheckOutcome::kWarn},
        Defect{"accepts-malformed-json", "bad-input.malformed-json",
               "with truncated JSON as the Cluster answered OK", ct::CheckOutcome::kWarn},
        Defect{"accepts-wrong-kind", "bad-input.wrong-kind",
               "with a Pod as the Cluster answered OK", ct::CheckOutcome::kWarn},
        Defect{"status-null", "operator.status", "answered the JSON text null",
               ct::CheckOutcome::kWarn},
        Defect{"not-thread-safe", "concurrency", "another call was running"}));

// A Go plugin answers `null` for an empty list of patch operations; the
// operator's evanphx/json-patch decodes it as no operation.
TEST(Conformance, NullPatchesAreNoChange) {
  BrokenPlugin plugin("null-patches");
  ASSERT_TRUE(plugin.Ready());
  auto report = Check(plugin.socket(), {"lifecycle"});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->failed() + report->warned(), 0) << Describe(*report);
  EXPECT_THAT(Find(*report, "lifecycle.idempotent")->message,
              HasSubstr("EVALUATE core/Pod -> CREATE core/Pod"));
}

TEST(Conformance, MetricsMismatchNamesEveryProblem) {
  BrokenPlugin plugin("metrics-mismatch");
  ASSERT_TRUE(plugin.Ready());
  auto report = Check(plugin.socket(), {"metrics"});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(Find(*report, "metrics.consistent")->message,
              HasSubstr("collected sample 0 \"broken_up\" has 2 label values, its definition has "
                        "1 label names (cluster)"));
}

TEST(Conformance, CrashIsReportedAndTheRestOfTheRunStillEnds) {
  BrokenPlugin plugin("crash-on-malformed-json");
  ASSERT_TRUE(plugin.Ready());
  const auto start = std::chrono::steady_clock::now();
  ct::ConformanceOptions options;
  options.skip = {"concurrency"};
  auto report = Check(plugin.socket(), {}, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  EXPECT_EQ(Find(*report, "metadata.name")->outcome, ct::CheckOutcome::kPass);
  // The operator never sends malformed JSON: a crash on it is a warning.
  EXPECT_EQ(Find(*report, "bad-input.malformed-json")->outcome, ct::CheckOutcome::kWarn);
  // The plugin aborted (SIGABRT).
  EXPECT_EQ(plugin.process().Wait(std::chrono::seconds(5)), 128 + SIGABRT);
}

TEST(Conformance, SelectionByGroupAndSkip) {
  BrokenPlugin plugin("none");
  ASSERT_TRUE(plugin.Ready());
  ct::ConformanceOptions options;
  options.skip = {"lifecycle.patch"};
  auto report = Check(plugin.socket(), {"lifecycle", "probe"}, options);
  ASSERT_TRUE(report.ok()) << report.status();
  std::vector<std::string> names;
  for (const auto& r : report->results) names.push_back(r.name);
  EXPECT_THAT(names,
              ::testing::ElementsAre("probe", "lifecycle.deterministic", "lifecycle.idempotent"));
  EXPECT_THAT(Check(plugin.socket(), {"no-such-check"}).status().message(),
              HasSubstr("unknown check no-such-check"));
}

TEST(Conformance, GlobalTimeoutStopsTheRun) {
  BrokenPlugin plugin("slow-probe");
  ASSERT_TRUE(plugin.Ready());
  ct::ConformanceOptions options;
  options.timeout = absl::Milliseconds(1500);
  options.probe_budget = absl::Seconds(5);
  const auto start = std::chrono::steady_clock::now();
  auto report = Check(plugin.socket(), {"probe", "metadata", "concurrency"}, options);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->timed_out);
  EXPECT_FALSE(report->ok());
  EXPECT_LT(took, std::chrono::seconds(15));
  EXPECT_THAT(Describe(*report), HasSubstr("the global timeout"));
}

TEST(Conformance, JUnitXmlHasOneTestcasePerCheckAndEscapesMessages) {
  BrokenPlugin plugin("status-array");
  ASSERT_TRUE(plugin.Ready());
  auto report = Check(plugin.socket(), {"operator", "metadata"});
  ASSERT_TRUE(report.ok()) << report.status();
  const std::string xml = report->JUnitXml();
  EXPECT_THAT(xml, HasSubstr("<testsuites name=\"cnpgi-conformance\" tests=\"5\" failures=\"1\""));
  EXPECT_THAT(xml, HasSubstr("<testcase classname=\"cnpgi-conformance.operator\" "
                             "name=\"operator.status\""));
  EXPECT_THAT(xml, HasSubstr("<failure message=\""));
  EXPECT_THAT(xml, HasSubstr("<skipped message=\""));
  EXPECT_THAT(xml, HasSubstr("&quot;broken.conformance.cnpgi.example&quot; (32 characters)"));
  EXPECT_THAT(xml, Not(HasSubstr("\"broken.conformance.cnpgi.example\" (")));
}

// What a report of one's own prints (a CI annotation, a dashboard): the
// outcome's name, as the command's lines start with it.
TEST(Conformance, OutcomeNamesAreTheLinePrefixes) {
  const std::pair<ct::CheckOutcome, std::string_view> outcomes[] = {
      {ct::CheckOutcome::kPass, "PASS"},
      {ct::CheckOutcome::kFail, "FAIL"},
      {ct::CheckOutcome::kSkip, "SKIP"},
      {ct::CheckOutcome::kWarn, "WARN"}};
  for (const auto& [outcome, name] : outcomes) {
    EXPECT_EQ(ct::OutcomeName(outcome), name);
    const ct::CheckResult result{.name = "probe", .outcome = outcome, .message = "m"};
    EXPECT_THAT(ct::FormatCheckResult(result),
                ::testing::StartsWith(std::string(name) + "  probe"));
  }
}

TEST(Conformance, ConfigFileIsReadAndCheckedField) {
  ct::ConformanceOptions options;
  ASSERT_TRUE(ct::ApplyConformanceConfig(R"({"pluginName":"x.example","parameters":{"a":"b"},
      "walDir":"/tmp/w","runBackup":true,"only":["lifecycle"],"pod":{"kind":"Pod"}})",
                                         options)
                  .ok());
  EXPECT_EQ(options.plugin_name, "x.example");
  EXPECT_EQ(options.plugin_parameters.at("a"), "b");
  EXPECT_TRUE(options.run_backup);
  ASSERT_TRUE(options.pod.has_value());
  EXPECT_THAT(ct::ApplyConformanceConfig(R"({"parameters":{"a":1}})", options).message(),
              HasSubstr("config field \"parameters.a\" must be a string"));
  EXPECT_THAT(ct::ApplyConformanceConfig(R"({"paramters":{}})", options).message(),
              HasSubstr("unknown config field \"paramters\""));
  EXPECT_THAT(ct::ApplyConformanceConfig(R"({"only":["lifecycle.nope"]})", options).message(),
              HasSubstr("unknown check lifecycle.nope"));
  EXPECT_THAT(ct::ApplyConformanceConfig("{", options).message(), HasSubstr("not JSON"));
}

// ---------------------------------------------------------------------------
// The command.

struct CheckerRun {
  int exit_code;
  std::string out;
  std::string err;
  std::chrono::milliseconds took;
};

CheckerRun Conformance(const std::vector<std::string>& args, const std::filesystem::path& dir,
                       std::chrono::seconds limit = std::chrono::seconds(90)) {
  const auto start = std::chrono::steady_clock::now();
  Process checker(CNPGI_CONFORMANCE_BIN, args, dir, "checker");
  const int code = checker.Wait(limit);
  return {code, checker.Stdout(), checker.Stderr(),
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                start)};
}

TEST(ConformanceCommand, GoodPluginProcessOverUnixSocketExitsZero) {
  TempDir dir;
  std::filesystem::create_directory(dir / "plugins");
  Process plugin(CNPGI_GOOD_PLUGIN,
                 {"--plugin-path", (dir / "plugins").string(), "--grace-period=1s"}, dir.path(),
                 "plugin");
  const auto socket = dir / "plugins" / kGoodPluginName;
  ASSERT_TRUE(WaitForListening(socket)) << plugin.Stderr();
  const CheckerRun run = Conformance(
      {"--socket", socket.string(), "--plugin-name", kGoodPluginName, "--plugin-parameters",
       "mode=annotate,archiveDir=" + (dir / "archive").string(), "--wal-dir",
       (dir / "scratch").string(), "--backup", "--junit", (dir / "report.xml").string()},
      dir.path());
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("cnpgi-conformance: checking unix:" + socket.string()));
  EXPECT_THAT(run.out, HasSubstr("PASS  metadata.name "));
  EXPECT_THAT(run.out, HasSubstr("PASS  wal.archive-restore "));
  EXPECT_THAT(run.out, HasSubstr("SKIP  restore-job.result "));
  EXPECT_THAT(run.out,
              HasSubstr("plugin good.conformance.cnpgi.example 1.0.0 (TYPE_OPERATOR_SERVICE"));
  EXPECT_THAT(run.out,
              ::testing::ContainsRegex("23 checks: 20 passed, 0 warnings, 0 failed, 3 skipped in"));
  EXPECT_THAT(ReadFileText(dir / "report.xml"), HasSubstr("failures=\"0\""));
}

class TcpGoodPlugin {
 public:
  TcpGoodPlugin()
      : server_(testing_support::MakeServerCertificate()),
        client_(testing_support::MakeClientCertificate()),
        server_files_(testing_support::WritePemFiles(dir_.path(), "server", server_)),
        client_files_(testing_support::WritePemFiles(dir_.path(), "client", client_)),
        process_(CNPGI_GOOD_PLUGIN,
                 {"--server-address", "127.0.0.1:0", "--server-cert", server_files_.cert.string(),
                  "--server-key", server_files_.key.string(), "--client-cert",
                  client_files_.cert.string(), "--grace-period", "1s"},
                 dir_.path(), "plugin") {}

  // host:port, from the plugin's log line.
  std::string Address() {
    const std::regex pattern("address=(127\\.0\\.0\\.1:[0-9]+)");
    for (int i = 0; i < 2000; ++i) {
      std::smatch m;
      const std::string log = process_.Stderr();
      if (std::regex_search(log, m, pattern)) return m[1];
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return "";
  }
  std::vector<std::string> TlsFlags(const std::string& address) const {
    return {"--address",     address,
            "--client-cert", client_files_.cert.string(),
            "--client-key",  client_files_.key.string(),
            "--server-cert", server_files_.cert.string(),
            "--server-name", std::string(testing_support::kTestServerName)};
  }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  testing_support::Certificate server_, client_;
  testing_support::PemFiles server_files_, client_files_;
  Process process_;
};

TEST(ConformanceCommand, GoodPluginOverMutualTlsPassesTheTransportChecks) {
  TcpGoodPlugin plugin;
  const std::string address = plugin.Address();
  ASSERT_FALSE(address.empty());
  std::vector<std::string> args = plugin.TlsFlags(address);
  args.insert(args.end(), {"--plugin-parameters", "mode=label"});
  const CheckerRun run = Conformance(args, plugin.dir());
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("(mTLS, server name cnpgi-test-plugin)"));
  EXPECT_THAT(run.out, HasSubstr("PASS  transport.plaintext           refused a plaintext"));
  EXPECT_THAT(run.out, HasSubstr("PASS  transport.client-certificate  refused a TLS client"));
}

TEST(ConformanceCommand, WrongServerCertificateIsAConnectionError) {
  TcpGoodPlugin plugin;
  const std::string address = plugin.Address();
  ASSERT_FALSE(address.empty());
  // Pinning another certificate than the plugin's: the TLS handshake fails.
  const auto other = testing_support::WritePemFiles(plugin.dir(), "other",
                                                    testing_support::MakeServerCertificate());
  std::vector<std::string> args = plugin.TlsFlags(address);
  args[7] = other.cert.string();
  const CheckerRun run = Conformance(args, plugin.dir());
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_THAT(run.err, HasSubstr("the TLS handshake failed: check that --server-cert"));

  // A name the certificate does not carry: refused as the operator refuses it.
  args = plugin.TlsFlags(address);
  args[9] = "not-the-service";
  const CheckerRun wrong_name = Conformance(args, plugin.dir());
  EXPECT_EQ(wrong_name.exit_code, 2) << wrong_name.out << wrong_name.err;
  EXPECT_THAT(wrong_name.err, HasSubstr("--server-name (not-the-service)"));

  // A client certificate the plugin does not trust: it hangs up after TLS.
  const auto stranger = testing_support::WritePemFiles(plugin.dir(), "stranger",
                                                       testing_support::MakeClientCertificate());
  args = plugin.TlsFlags(address);
  args[3] = stranger.cert.string();
  args[5] = stranger.key.string();
  const CheckerRun untrusted = Conformance(args, plugin.dir());
  EXPECT_EQ(untrusted.exit_code, 2) << untrusted.out << untrusted.err;
  EXPECT_THAT(untrusted.err, HasSubstr("it probably does not trust --client-cert"));
  EXPECT_THAT(untrusted.err, Not(HasSubstr("ssl_transport_security")));  // gRPC's own log
}

TEST(ConformanceCommand, PluginWithoutClientAuthenticationWarnsAndStrictFails) {
  TempDir dir;
  const auto server = testing_support::WritePemFiles(dir.path(), "server",
                                                     testing_support::MakeServerCertificate());
  const auto client = testing_support::WritePemFiles(dir.path(), "client",
                                                     testing_support::MakeClientCertificate());
  const auto port_file = dir / "port";
  Process plugin(
      CNPGI_BROKEN_PLUGIN,
      {"--address", "127.0.0.1:0", "--port-file", port_file.string(), "--server-cert",
       server.cert.string(), "--server-key", server.key.string(), "--defect", "no-client-auth"},
      dir.path(), "plugin");
  ASSERT_TRUE(WaitForPath(port_file)) << plugin.Stderr();
  const std::string port = ReadFileText(port_file).substr(0, ReadFileText(port_file).find('\n'));
  const CheckerRun run = Conformance(
      {"--address", "127.0.0.1:" + port, "--client-cert", client.cert.string(), "--client-key",
       client.key.string(), "--server-cert", server.cert.string(), "--server-name",
       std::string(testing_support::kTestServerName), "--check", "transport,metadata"},
      dir.path());
  // The operator itself always presents its certificate: tolerated.
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("WARN  transport.client-certificate  the plugin answered "
                                 "GetPluginMetadata to a TLS client without a certificate"));
  EXPECT_THAT(run.out, HasSubstr("PASS  transport.plaintext"));
  EXPECT_THAT(run.out, HasSubstr("4 checks: 3 passed, 1 warning, 0 failed, 0 skipped"));

  // --strict: the warning fails the run, and JUnit shows it as a failure.
  const auto junit = dir / "strict.xml";
  const CheckerRun strict =
      Conformance({"--address", "127.0.0.1:" + port, "--client-cert", client.cert.string(),
                   "--client-key", client.key.string(), "--server-cert", server.cert.string(),
                   "--server-name", std::string(testing_support::kTestServerName), "--check",
                   "transport,metadata", "--strict", "--junit", junit.string()},
                  dir.path());
  EXPECT_EQ(strict.exit_code, 1) << strict.out << strict.err;
  EXPECT_THAT(strict.out, HasSubstr("(--strict: warnings fail)"));
  const std::string xml = ReadFileText(junit);
  EXPECT_THAT(xml, HasSubstr("failures=\"1\""));
  EXPECT_THAT(xml, HasSubstr("<property name=\"outcome\" value=\"WARN\"/>"));
  EXPECT_THAT(xml, HasSubstr("<failure message=\"WARN: the plugin answered"));
}

TEST(ConformanceCommand, FailingChecksExitOne) {
  BrokenPlugin plugin("status-array");
  ASSERT_TRUE(plugin.Ready());
  TempDir dir;
  const CheckerRun run =
      Conformance({"--socket", plugin.socket(), "--check", "operator.status"}, dir.path());
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("FAIL  operator.status "));
  EXPECT_THAT(run.out, HasSubstr("1 check: 0 passed, 0 warnings, 1 failed, 0 skipped"));
}

TEST(ConformanceCommand, MissingSocketIsAClearConnectionError) {
  TempDir dir;
  const CheckerRun run = Conformance({"--socket", (dir / "nothing-here").string()}, dir.path());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("there is no socket at " + (dir / "nothing-here").string()));
  EXPECT_LT(run.took, std::chrono::seconds(20));
}

TEST(ConformanceCommand, RegularFileIsNotASocket) {
  TempDir dir;
  testing_support::WriteFile(dir / "file", "hello");
  const CheckerRun run = Conformance({"--socket", (dir / "file").string()}, dir.path());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("exists but is not a Unix socket"));
}

// A Unix socket that accepts connections and then writes `reply` (or
// nothing), like a server of some other protocol.
class FakePeer {
 public:
  FakePeer(const std::filesystem::path& path, std::string reply, bool listen_at_all = true)
      : reply_(std::move(reply)) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string p = path.string();
    memcpy(address.sun_path, p.c_str(), p.size() + 1);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return;
    if (!listen_at_all) {
      close(fd_);  // leaves the socket file with nobody behind it
      fd_ = -1;
      return;
    }
    listen(fd_, 16);
    thread_ = std::thread([this] {
      while (!stop_) {
        const int client = accept(fd_, nullptr, nullptr);
        if (client < 0) return;
        // MSG_NOSIGNAL: the checker may have hung up already.
        if (!reply_.empty()) (void)!send(client, reply_.data(), reply_.size(), MSG_NOSIGNAL);
        clients_.push_back(client);
      }
    });
  }
  ~FakePeer() {
    stop_ = true;
    if (fd_ >= 0) {
      shutdown(fd_, SHUT_RDWR);
      close(fd_);
    }
    if (thread_.joinable()) thread_.join();
    for (int c : clients_) close(c);
  }

 private:
  int fd_ = -1;
  std::string reply_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<int> clients_;
};

TEST(ConformanceCommand, StaleSocketNobodyListens) {
  TempDir dir;
  FakePeer stale(dir / "stale", "", /*listen_at_all=*/false);
  const CheckerRun run = Conformance({"--socket", (dir / "stale").string()}, dir.path());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("nobody listens on"));
}

TEST(ConformanceCommand, PeerSpeakingAnotherProtocolIsAConnectionError) {
  TempDir dir;
  FakePeer garbage(dir / "garbage", "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  const CheckerRun run =
      Conformance({"--socket", (dir / "garbage").string(), "--call-timeout", "2s"}, dir.path());
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_THAT(run.err, HasSubstr("is it a gRPC server"));
  EXPECT_LT(run.took, std::chrono::seconds(20));
}

TEST(ConformanceCommand, SilentPeerIsAConnectionErrorWithinTheCallTimeout) {
  TempDir dir;
  FakePeer silent(dir / "silent", "");
  const CheckerRun run =
      Conformance({"--socket", (dir / "silent").string(), "--call-timeout", "1s"}, dir.path());
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_THAT(run.err, HasSubstr("did not answer GetPluginMetadata within 1s"));
  EXPECT_LT(run.took, std::chrono::seconds(20));
}

TEST(ConformanceCommand, HangingPluginIsAConnectionErrorWithinTheCallTimeout) {
  BrokenPlugin plugin("hang");
  ASSERT_TRUE(plugin.Ready());
  TempDir dir;
  const CheckerRun run =
      Conformance({"--socket", plugin.socket(), "--call-timeout", "1s"}, dir.path());
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_THAT(run.err, HasSubstr("did not answer GetPluginMetadata within 1s"));
  EXPECT_LT(run.took, std::chrono::seconds(20));
}

TEST(ConformanceCommand, UsageErrorsExitTwoWithTheReason) {
  TempDir dir;
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{}, "say where the plugin is: --socket PATH or --address HOST:PORT"},
      {{"--socket", "a", "--address", "b:1"}, "--socket and --address exclude each other"},
      {{"--address", "b:1"}, "--address needs --client-cert, --client-key, --server-cert"},
      {{"--socket", "a", "--server-cert", "x"}, "go with --address"},
      {{"--socket", "a", "--frobnicate"}, "unknown flag --frobnicate"},
      {{"--socket", "a", "--check", "lifecycle.nope"}, "unknown check lifecycle.nope"},
      {{"--socket", "a", "--timeout", "soon"}, "--timeout: \"soon\" is not a positive duration"},
      {{"--socket", "a", "--plugin-parameters", "novalue"}, "\"novalue\" is not key=value"},
      {{"--socket", "a", "--config", (dir / "missing.json").string()}, "--config: cannot read"},
      {{"--socket"}, "--socket needs a value"},
      {{"--socket", "--strict"}, "--socket needs a value"},
      {{"--socket=a", "--socket", "b"}, "--socket is given twice"},
      {{"--socket", "a", "stray"}, "unexpected argument \"stray\""},
      {{"--socket", "a", "--strict=maybe"}, "--strict takes no value, or true or false: \"maybe\""},
      {{"--socket", "a", "--check"}, "--check needs a value"},
      {{"--socket", "a", "--connections", "65"}, "--connections: \"65\" is not a number in 2..64"},
      {{"--address", "h:1", "--client-cert", (dir / "none.crt").string(), "--client-key", "k",
        "--server-cert", "s"},
       "client certificate file"},
  };
  for (const auto& [args, message] : cases) {
    const CheckerRun run = Conformance(args, dir.path());
    EXPECT_EQ(run.exit_code, 2) << ::testing::PrintToString(args);
    EXPECT_THAT(run.err, HasSubstr(message)) << ::testing::PrintToString(args);
  }
}

TEST(ConformanceCommand, ListHelpAndVersion) {
  TempDir dir;
  const CheckerRun list = Conformance({"--list"}, dir.path());
  EXPECT_EQ(list.exit_code, 0);
  for (const auto& c : ct::ConformanceChecks()) EXPECT_THAT(list.out, HasSubstr(c.name + "\t"));
  const CheckerRun help = Conformance({"--help"}, dir.path());
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("Exit status: 0"));
  EXPECT_THAT(help.out, HasSubstr("  --socket PATH "));
  EXPECT_THAT(help.out, HasSubstr("Checks with side effects"));
  for (const auto& c : ct::ConformanceChecks()) EXPECT_THAT(help.out, HasSubstr("  " + c.name));
  const CheckerRun version = Conformance({"--version"}, dir.path());
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, HasSubstr("cnpgi-conformance "));
}

}  // namespace
}  // namespace cnpgi::conformance_test
