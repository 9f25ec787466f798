// CLI11 (Debian's libcli11-dev) scans the command line and writes --help
// from the same table, so a flag cannot be parsed without being documented.
// Unlike the SDK's own flags (src/options), which must read exactly like the
// Go helper library's, the checker has no compatibility to keep: what CLI11
// cannot say the way this tool wants (unknown flags, a missing value, a flag
// given twice, what a value means) is decided here, after the scan, so every
// message names the flag.
#include "command_line.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "cnpgi/parameters.h"

namespace cnpgi::conformance_tool {
namespace {

using test::ConformanceOptions;

constexpr const char* kProgram = "cnpgi-conformance";

absl::Status Bad(const std::string& message) { return absl::InvalidArgumentError(message); }

// The help text's groups, in order.
constexpr const char* kWhere = "Where the plugin is";
constexpr const char* kNeeds = "What the plugin needs";
constexpr const char* kSideEffects = "Checks with side effects (off unless asked for)";
constexpr const char* kRunning = "Running";

// CLI11's layout with the two usage lines first and the description after,
// as the tool has always printed them.
class HelpLayout : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App*, std::string name) const override {
    return "Usage:\n  " + name + " --socket PATH [options]\n  " + name +
           " --address HOST:PORT --client-cert FILE --client-key FILE \\\n"
           "      --server-cert FILE [--server-name NAME] [options]\n\n";
  }
  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override {
    return make_usage(app, name) + app->get_description() + "\n" + make_groups(app, mode) +
           make_footer(app);
  }
};

// The scanned command line: every flag once in the table, its raw values.
class FlagTable {
 public:
  FlagTable() : app_(Description(), kProgram) {
    app_.formatter(std::make_shared<HelpLayout>());
    app_.get_formatter()->column_width(27);
    // Unknown arguments are left for Scan to name; CLI11 would list them all
    // in one sentence.
    app_.allow_extras();
    app_.set_help_flag();  // added last, in its group

    Value("--socket", "PATH", "its Unix socket (<plugin-path>/<plugin name>)", kWhere);
    Value("--address", "HOST:PORT", "its TCP endpoint (mutual TLS 1.3)", kWhere);
    Value("--client-cert", "FILE", "the client certificate to present (the operator's tls.crt)",
          kWhere);
    Value("--client-key", "FILE", "its private key", kWhere);
    Value("--server-cert", "FILE", "the plugin's certificate, pinned as the only trusted root",
          kWhere);
    Value("--server-name", "NAME",
          "the DNS name it must carry (default: the first label of\n"
          "HOST, like the operator checks the Service name)",
          kWhere);

    Value("--plugin-name", "NAME",
          "the name it must report (cnpg.io/pluginName label,\nspec.plugins[].name)", kNeeds);
    Value("--plugin-parameters", "K=V,..", "its parameters in the fixture Cluster's spec.plugins[]",
          kNeeds);
    Value("--backup-parameters", "K=V,..", "the fixture Backup's pluginConfiguration.parameters",
          kNeeds);
    Value("--config", "FILE",
          "a JSON file with any of: pluginName, parameters,\n"
          "backupParameters, cluster, pod, job, backup,\n"
          "postgresConfiguration, walDir, runBackup, runRestoreJob,\n"
          "only, skip, strict (flags win over the file)",
          kNeeds);

    Value("--wal-dir", "DIR",
          "archive and restore a test segment through DIR, a scratch\n"
          "directory the plugin can read and write",
          kSideEffects);
    Switch("--backup", "take a real backup", kSideEffects);
    Switch("--restore-job", "run the restore job hook (restores PGDATA where the\nplugin runs)",
           kSideEffects);

    List("--check", "run only these checks or groups (e.g. lifecycle)");
    List("--skip", "skip these checks or groups");
    Value("--call-timeout", "DURATION", "deadline of each call (default 5s)", kRunning);
    Value("--timeout", "DURATION", "the whole run (default 2m); then the rest fails", kRunning);
    Value("--probe-budget", "DURATION", "how fast Probe must answer (default 1s)", kRunning);
    Value("--connections", "N", "connections of the concurrency check (default 5)", kRunning);
    Switch("--strict", "warnings fail the run (exit status 1) as failures do", kRunning);
    Value("--junit", "FILE", "also write the results as JUnit XML", kRunning);
    Value("--replay", "DIR",
          "instead of the checks, send the calls recorded in DIR\n"
          "(--record-dir) again and compare the answers",
          kRunning);
    Switch("--list", "list the checks and exit", kRunning);
    Switch("--version", "print the version and exit", kRunning);
    app_.set_help_flag("-h,--help", "this text")->group(kRunning);

    std::string checks;
    for (const auto& c : test::ConformanceChecks()) {
      std::string name = c.name;
      if (name.size() < 30) name.resize(30, ' ');
      checks += "  " + name + " " + c.description + "\n";
    }
    app_.footer(
        "\nExit status: 0 every check passed, warned or was skipped, 1 some check failed\n"
        "(or warned, with --strict), 2 usage error or the plugin could not be reached at all.\n"
        "With --replay: 0 every answer matches, 1 some answer differs, 2 as above or the\n"
        "recording cannot be read.\n"
        "\n"
        "Checks:\n" +
        checks);
  }

  std::string Help() const { return app_.help(); }

  absl::Status Scan(const std::vector<std::string>& args) {
    // CLI11 consumes a vector from its back.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
      app_.parse(reversed);
    } catch (const CLI::CallForHelp&) {
      help_ = true;
      return absl::OkStatus();
    } catch (const CLI::ParseError& e) {
      // Not expected with every flag taking 0 or 1 values; named anyway.
      return Bad(e.what());
    }
    for (const std::string& extra : app_.remaining()) {
      if (extra.size() > 1 && extra[0] == '-')
        return Bad("unknown flag " + extra + " (see --help)");
    }
    if (!app_.remaining().empty()) {
      return Bad("unexpected argument \"" + app_.remaining().front() + "\" (see --help)");
    }
    for (const Flag& flag : flags_) {
      const std::vector<std::string>& values = flag.option->results();
      switch (flag.kind) {
        case Kind::kValue:
          if (values.size() > 1) return Bad(flag.name + " is given twice");
          if (!values.empty() && values.front().empty()) return Bad(flag.name + " needs a value");
          break;
        case Kind::kSwitch:
          for (const std::string& value : values) {
            if (!ParseBool(value).ok()) {
              return Bad(flag.name + " takes no value, or true or false: \"" + value + "\"");
            }
          }
          break;
        case Kind::kList:
          if (flag.option->count() > 0 && All(flag.name).empty()) {
            return Bad(flag.name + " needs a value");
          }
          break;
      }
    }
    return absl::OkStatus();
  }

  bool help() const { return help_; }

  // After a successful Scan: a flag with one value (absent: nullopt), a
  // switch, a list (all occurrences together).
  std::optional<std::string> One(const std::string& flag) const {
    const std::vector<std::string>& values = Find(flag).option->results();
    if (values.empty()) return std::nullopt;
    return values.front();
  }
  bool On(const std::string& flag) const {
    const std::vector<std::string>& values = Find(flag).option->results();
    return !values.empty() && *ParseBool(values.back());
  }
  std::vector<std::string> All(const std::string& flag) const {
    std::vector<std::string> values;
    for (const std::string& value : Find(flag).option->results()) {
      if (!value.empty()) values.push_back(value);
    }
    return values;
  }

 private:
  static std::string Description() {
    return "Checks a running CNPG-I plugin the way the CloudNativePG operator and instance\n"
           "manager use it, and prints one line per check: PASS, FAIL with the reason, WARN\n"
           "for a practice the operator tolerates (with the reason), or SKIP with why.\n";
  }

  enum class Kind { kValue, kSwitch, kList };
  struct Flag {
    std::string name;
    Kind kind;
    CLI::Option* option;
  };

  const Flag& Find(const std::string& name) const {
    for (const Flag& flag : flags_) {
      if (flag.name == name) return flag;
    }
    std::abort();  // a name missing from the table is a bug of this file
  }

  // 0 or 1 values each time: "--socket" alone and "--socket --backup" leave
  // the value empty for Scan to report instead of taking the next flag.
  CLI::Option* Value(const std::string& flag, const std::string& type, const std::string& help,
                     const char* group, Kind kind = Kind::kValue) {
    CLI::Option* option = app_.add_option(flag, help)
                              ->type_name(type)
                              ->expected(0, 1)
                              ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
                              ->group(group);
    flags_.push_back({flag, kind, option});
    return option;
  }
  void Switch(const std::string& flag, const std::string& help, const char* group) {
    flags_.push_back({flag, Kind::kSwitch, app_.add_flag(flag, help)->group(group)});
  }
  void List(const std::string& flag, const std::string& help) {
    Value(flag, "NAME[,NAME...]", help, kRunning, Kind::kList)->delimiter(',');
  }

  CLI::App app_;
  std::vector<Flag> flags_;  // in the order of --help
  bool help_ = false;
};

// "k=v,k2=v2" (a value may contain '=', not ',').
absl::StatusOr<std::map<std::string, std::string>> ParsePairs(const std::string& flag,
                                                              const std::string& text) {
  std::map<std::string, std::string> out;
  std::stringstream in(text);
  std::string pair;
  while (std::getline(in, pair, ',')) {
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Bad(flag + ": \"" + pair + "\" is not key=value");
    }
    out[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return out;
}

// The syntax of plugin parameters and of the plugins' own flags
// (cnpgi::ParseDuration: Go's, plus "min" and "d").
absl::StatusOr<absl::Duration> ParseDurationFlag(const std::string& flag, const std::string& text) {
  const absl::StatusOr<absl::Duration> d = ParseDuration(text);
  if (!d.ok() || *d <= absl::ZeroDuration()) {
    return Bad(flag + ": \"" + text + "\" is not a positive duration (e.g. 500ms, 5s, 2m)");
  }
  return *d;
}

absl::StatusOr<std::string> ReadFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Bad(flag + ": cannot read " + path);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

absl::StatusOr<CommandLine> Interpret(const FlagTable& flags) {
  CommandLine cl;
  if (flags.help()) {
    cl.action = CommandLine::Action::kHelp;
    return cl;
  }
  if (flags.On("--version")) {
    cl.action = CommandLine::Action::kVersion;
    return cl;
  }
  if (flags.On("--list")) {
    cl.action = CommandLine::Action::kList;
    return cl;
  }

  ConformanceOptions& o = cl.options;
  // The config file first; flags override it.
  const auto config = flags.One("--config");
  if (config) {
    const absl::StatusOr<std::string> text = ReadFile("--config", *config);
    if (!text.ok()) return text.status();
    if (absl::Status s = test::ApplyConformanceConfig(*text, o); !s.ok()) {
      return Bad("--config " + *config + ": " + std::string(s.message()));
    }
  }
  if (const auto plugin_name = flags.One("--plugin-name")) o.plugin_name = *plugin_name;
  const auto parameters = flags.One("--plugin-parameters");
  if (parameters) {
    auto pairs = ParsePairs("--plugin-parameters", *parameters);
    if (!pairs.ok()) return pairs.status();
    o.plugin_parameters = *std::move(pairs);
  }
  const auto backup_parameters = flags.One("--backup-parameters");
  if (backup_parameters) {
    auto pairs = ParsePairs("--backup-parameters", *backup_parameters);
    if (!pairs.ok()) return pairs.status();
    o.backup_parameters = *std::move(pairs);
  }
  if (const auto wal_dir = flags.One("--wal-dir")) o.wal_dir = *wal_dir;
  if (flags.On("--backup")) o.run_backup = true;
  if (flags.On("--restore-job")) o.run_restore_job = true;
  if (flags.On("--strict")) o.strict = true;

  if (auto only = flags.All("--check"); !only.empty()) o.only = std::move(only);
  for (auto& s : flags.All("--skip")) o.skip.push_back(std::move(s));
  if (absl::Status s = test::ValidateCheckSelection(o.only); !s.ok()) {
    return Bad("--check: " + std::string(s.message()));
  }
  if (absl::Status s = test::ValidateCheckSelection(o.skip); !s.ok()) {
    return Bad("--skip: " + std::string(s.message()));
  }

  for (const auto& [flag, field] :
       {std::pair{"--call-timeout", &o.call_timeout}, std::pair{"--timeout", &o.timeout},
        std::pair{"--probe-budget", &o.probe_budget}}) {
    const std::optional<std::string> text = flags.One(flag);
    if (!text) continue;
    const absl::StatusOr<absl::Duration> duration = ParseDurationFlag(flag, *text);
    if (!duration.ok()) return duration.status();
    *field = *duration;
  }
  const auto connections = flags.One("--connections");
  if (connections) {
    const absl::StatusOr<std::int64_t> n = ParseInt(*connections);
    if (!n.ok() || *n < 2 || *n > 64) {
      return Bad("--connections: \"" + *connections + "\" is not a number in 2..64");
    }
    o.connections = static_cast<int>(*n);
  }
  if (const auto junit = flags.One("--junit")) cl.junit_file = *junit;
  if (const auto replay = flags.One("--replay")) cl.replay_dir = *replay;

  const auto socket = flags.One("--socket");
  const auto address = flags.One("--address");
  const auto client_cert = flags.One("--client-cert");
  const auto client_key = flags.One("--client-key");
  const auto server_cert = flags.One("--server-cert");
  const auto server_name = flags.One("--server-name");
  const bool tls_flags = client_cert || client_key || server_cert || server_name;
  if (socket && address) return Bad("--socket and --address exclude each other");
  if (!socket && !address) {
    return Bad("say where the plugin is: --socket PATH or --address HOST:PORT");
  }
  if (socket) {
    if (tls_flags) {
      return Bad(
          "--client-cert, --client-key, --server-cert and --server-name go with --address "
          "(a Unix socket is plaintext)");
    }
    o.endpoint = test::Endpoint::Unix(*socket);
    return cl;
  }
  std::vector<std::string> missing;
  if (!client_cert) missing.push_back("--client-cert");
  if (!client_key) missing.push_back("--client-key");
  if (!server_cert) missing.push_back("--server-cert");
  if (!missing.empty()) {
    return Bad("--address needs " + absl::StrJoin(missing, ", ") +
               " (the operator connects with mutual TLS)");
  }
  auto tls = test::TlsCredentials::FromFiles(*client_cert, *client_key, *server_cert,
                                             server_name.value_or(""));
  if (!tls.ok()) return Bad(std::string(tls.status().message()));
  o.endpoint = test::Endpoint::Tcp(*address, *std::move(tls));
  return cl;
}

}  // namespace

absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  FlagTable flags;
  if (absl::Status scanned = flags.Scan(args); !scanned.ok()) return scanned;
  return Interpret(flags);
}

std::string Usage() { return FlagTable().Help(); }

}  // namespace cnpgi::conformance_tool
