// The conformance checks of cnpgi-conformance, as a library: point them at
// any running CNPG-I plugin (written in any language) and get one verdict per
// check, each failure with the reason.
//
//   cnpgi::test::ConformanceOptions options;
//   options.endpoint = cnpgi::test::Endpoint::Unix("/plugins/example.cnpgi.io");
//   absl::StatusOr<cnpgi::test::ConformanceReport> report =
//       cnpgi::test::RunConformance(options);
//   if (!report.ok()) ...               // could not talk to the plugin at all
//   for (const auto& r : report->results) std::cout << FormatCheckResult(r) << "\n";
//
// What is checked, and why, is in docs/conformance.md; ConformanceChecks()
// lists the names. Checks with side effects on the plugin's storage (WAL
// archive/restore, backup, restore job) only run when enabled.
#ifndef CNPGI_TESTING_CONFORMANCE_H_
#define CNPGI_TESTING_CONFORMANCE_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cnpgi/testing/plugin_client.h"

namespace cnpgi::test {

// FAIL only where CloudNativePG would fail, mishandle or misbehave with the
// plugin's answer; WARN for a practice the operator tolerates (the reason is
// in the message); docs/conformance.md gives each check's severity and the
// operator behaviour behind it.
enum class CheckOutcome { kPass, kFail, kSkip, kWarn };

// "PASS", "FAIL", "SKIP", "WARN".
std::string_view OutcomeName(CheckOutcome outcome);

// Every member has an initializer, so designated initializers naming only
// some of them compile under -Wextra.
struct CheckResult {
  std::string name{};  // e.g. "lifecycle.idempotent"
  CheckOutcome outcome = CheckOutcome::kSkip;
  // PASS: what was verified; FAIL: what is wrong; WARN: what the operator
  // tolerates and why it is still worth fixing; SKIP: why it did not run.
  std::string message{};
  absl::Duration duration{};
};

struct CheckInfo {
  std::string name;
  std::string description;
};

// Every check, in the order they run.
const std::vector<CheckInfo>& ConformanceChecks();

struct ConformanceOptions {
  Endpoint endpoint;

  // Deadline of each call.
  absl::Duration call_timeout = absl::Seconds(5);
  // The whole run; checks not finished by then fail as "not run".
  absl::Duration timeout = absl::Minutes(2);
  // Probe must answer within this (the operator gives pool acquisition plus
  // Probe 5 s in all).
  absl::Duration probe_budget = absl::Seconds(1);
  // Deadline of calls with side effects (Backup, restore job), which may
  // take long.
  absl::Duration long_call_timeout = absl::Minutes(1);

  // The name the plugin is known by: the cnpg.io/pluginName label of its
  // Service (TCP) and spec.plugins[].name. Empty: not checked beyond the
  // socket file name (Unix).
  std::string plugin_name;
  // The plugin's parameters in the fixture Cluster's spec.plugins[].
  std::map<std::string, std::string> plugin_parameters;
  // spec.pluginConfiguration.parameters of the fixture Backup.
  std::map<std::string, std::string> backup_parameters;
  // Objects replacing the fixtures (the plugin's entry in spec.plugins is
  // still added to the Cluster when missing).
  std::optional<nlohmann::json> cluster;
  std::optional<nlohmann::json> pod;
  std::optional<nlohmann::json> job;
  std::optional<nlohmann::json> backup;
  std::optional<std::map<std::string, std::string>> postgres_configuration;

  // Opt-in checks with side effects.
  // A scratch directory the plugin can read and write (same path in the
  // plugin's container): enables wal.archive-restore (writes a segment there
  // and archives it, so the plugin's archive receives a test segment) and
  // calls SetFirstRequired.
  std::string wal_dir;
  // Enables backup.result: the plugin takes a real backup.
  bool run_backup = false;
  // Enables restore-job.result: the plugin restores into its PGDATA.
  bool run_restore_job = false;

  // Connections opened at once by the concurrency check.
  int connections = 5;

  // Check selection: names or prefixes ("lifecycle" selects
  // "lifecycle.patch", ...). Empty `only` selects everything.
  std::vector<std::string> only;
  std::vector<std::string> skip;

  // Warnings fail the run (ConformanceReport::ok()) as failures do.
  bool strict = false;
};

// Reads the JSON config file format into `options` (fields absent from the
// file are left alone):
//   {"pluginName": "...", "parameters": {"k": "v"}, "backupParameters": {...},
//    "cluster": {...}, "pod": {...}, "job": {...}, "backup": {...},
//    "postgresConfiguration": {"k": "v"}, "walDir": "...", "runBackup": true,
//    "runRestoreJob": false, "only": ["..."], "skip": ["..."], "strict": false}
// InvalidArgument naming the field for anything else.
absl::Status ApplyConformanceConfig(std::string_view json_text, ConformanceOptions& options);

// "a,b" selections exist? InvalidArgument naming the unknown ones.
absl::Status ValidateCheckSelection(const std::vector<std::string>& selection);

struct ConformanceReport {
  std::string endpoint;     // Endpoint::Describe()
  std::string plugin_name;  // from its metadata
  std::string plugin_version;
  std::vector<std::string> services;  // advertised, e.g. "TYPE_LIFECYCLE_SERVICE"
  std::vector<CheckResult> results;
  absl::Duration duration;
  // The global timeout expired before every check ran.
  bool timed_out = false;
  // ConformanceOptions::strict of the run: warnings count as failures.
  bool strict = false;

  int passed() const;
  int warned() const;
  int failed() const;
  int skipped() const;
  // No failure, and no warning either when strict.
  bool ok() const { return failed() == 0 && (!strict || warned() == 0); }
  // "17 checks: 13 passed, 1 warning, 1 failed, 2 skipped in 1.2s".
  std::string Summary() const;
  // JUnit XML (one testsuite, one testcase per check; failures and skips
  // with their messages), as CI systems read it. A warning is a passing
  // testcase whose output starts with "WARN:" and whose property "outcome"
  // is WARN (a failure when strict).
  std::string JUnitXml() const;
};

// One line: "PASS  metadata.name  <message>" (fixed-width columns).
std::string FormatCheckResult(const CheckResult& result);

// Runs the selected checks in order. `on_result` is called after each
// check (to print progress). The error is for a plugin that cannot be
// talked to at all (no socket, connection refused, TLS refused, not a gRPC
// server, no answer to GetPluginMetadata within the call timeout): the
// message says which, and what to look at.
absl::StatusOr<ConformanceReport> RunConformance(
    const ConformanceOptions& options,
    const std::function<void(const CheckResult&)>& on_result = nullptr);

}  // namespace cnpgi::test

#endif  // CNPGI_TESTING_CONFORMANCE_H_
