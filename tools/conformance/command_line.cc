#include "command_line.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "cnpgi/parameters.h"

namespace cnpgi::conformance_tool {
namespace {

using testing::ConformanceOptions;

absl::Status Bad(const std::string& message) { return absl::InvalidArgumentError(message); }

// "k=v,k2=v2" (a value may contain '=', not ',').
absl::StatusOr<std::map<std::string, std::string>> ParsePairs(const std::string& flag,
                                                              const std::string& text) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string pair = text.substr(start, end - start);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Bad(flag + ": \"" + pair + "\" is not key=value");
      }
      out[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    start = end + 1;
  }
  return out;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
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

}  // namespace

absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  CommandLine cl;
  ConformanceOptions& o = cl.options;
  std::optional<std::string> socket, address, client_cert, client_key, server_cert, server_name,
      config;
  std::optional<std::map<std::string, std::string>> parameters, backup_parameters;
  std::optional<std::string> plugin_name, wal_dir;
  std::optional<bool> run_backup, run_restore_job, strict;
  std::vector<std::string> only, skip;
  std::map<std::string, int> seen;

  const std::vector<std::string> with_value = {"--socket",
                                               "--address",
                                               "--client-cert",
                                               "--client-key",
                                               "--server-cert",
                                               "--server-name",
                                               "--config",
                                               "--plugin-name",
                                               "--plugin-parameters",
                                               "--backup-parameters",
                                               "--check",
                                               "--skip",
                                               "--wal-dir",
                                               "--call-timeout",
                                               "--timeout",
                                               "--probe-budget",
                                               "--connections",
                                               "--junit"};
  const std::vector<std::string> switches = {
      "--backup", "--restore-job", "--strict", "--list", "--help", "-h", "--version"};
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> value;
    if (const auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    const bool takes_value =
        std::find(with_value.begin(), with_value.end(), flag) != with_value.end();
    const bool is_switch = std::find(switches.begin(), switches.end(), flag) != switches.end();
    if (!takes_value && !is_switch) {
      if (flag.rfind("-", 0) == 0) return Bad("unknown flag " + flag + " (see --help)");
      return Bad("unexpected argument \"" + flag + "\" (see --help)");
    }
    if (is_switch && value) return Bad(flag + " takes no value");
    if (takes_value && !value) {
      if (i + 1 >= args.size()) return Bad(flag + " needs a value");
      value = args[++i];
    }
    const bool repeatable = flag == "--check" || flag == "--skip";
    if (!repeatable && ++seen[flag] > 1) return Bad(flag + " is given twice");

    if (flag == "--help" || flag == "-h") {
      cl.action = CommandLine::Action::kHelp;
      return cl;
    }
    if (flag == "--version") {
      cl.action = CommandLine::Action::kVersion;
      return cl;
    }
    if (flag == "--list") {
      cl.action = CommandLine::Action::kList;
    } else if (flag == "--backup") {
      run_backup = true;
    } else if (flag == "--restore-job") {
      run_restore_job = true;
    } else if (flag == "--strict") {
      strict = true;
    } else if (value->empty()) {
      return Bad(flag + " needs a non-empty value");
    } else if (flag == "--socket") {
      socket = *value;
    } else if (flag == "--address") {
      address = *value;
    } else if (flag == "--client-cert") {
      client_cert = *value;
    } else if (flag == "--client-key") {
      client_key = *value;
    } else if (flag == "--server-cert") {
      server_cert = *value;
    } else if (flag == "--server-name") {
      server_name = *value;
    } else if (flag == "--config") {
      config = *value;
    } else if (flag == "--plugin-name") {
      plugin_name = *value;
    } else if (flag == "--plugin-parameters" || flag == "--backup-parameters") {
      auto pairs = ParsePairs(flag, *value);
      if (!pairs.ok()) return pairs.status();
      (flag == "--plugin-parameters" ? parameters : backup_parameters) = *std::move(pairs);
    } else if (flag == "--check") {
      for (auto& c : SplitList(*value)) only.push_back(c);
    } else if (flag == "--skip") {
      for (auto& c : SplitList(*value)) skip.push_back(c);
    } else if (flag == "--wal-dir") {
      wal_dir = *value;
    } else if (flag == "--call-timeout" || flag == "--timeout" || flag == "--probe-budget") {
      auto d = ParseDurationFlag(flag, *value);
      if (!d.ok()) return d.status();
      (flag == "--call-timeout" ? o.call_timeout
       : flag == "--timeout"    ? o.timeout
                                : o.probe_budget) = *d;
    } else if (flag == "--connections") {
      int n = 0;
      try {
        std::size_t used = 0;
        n = std::stoi(*value, &used);
        if (used != value->size()) n = 0;
      } catch (const std::exception&) {
        n = 0;
      }
      if (n < 2 || n > 64) return Bad("--connections: \"" + *value + "\" is not a number in 2..64");
      o.connections = n;
    } else if (flag == "--junit") {
      cl.junit_file = *value;
    }
  }
  if (cl.action == CommandLine::Action::kList) return cl;

  // The config file first; flags override it.
  if (config) {
    auto text = ReadFile("--config", *config);
    if (!text.ok()) return text.status();
    if (absl::Status s = testing::ApplyConformanceConfig(*text, o); !s.ok()) {
      return Bad("--config " + *config + ": " + std::string(s.message()));
    }
  }
  if (plugin_name) o.plugin_name = *plugin_name;
  if (parameters) o.plugin_parameters = *parameters;
  if (backup_parameters) o.backup_parameters = *backup_parameters;
  if (wal_dir) o.wal_dir = *wal_dir;
  if (run_backup) o.run_backup = true;
  if (run_restore_job) o.run_restore_job = true;
  if (strict) o.strict = true;
  if (!only.empty()) o.only = only;
  for (auto& s : skip) o.skip.push_back(s);
  if (absl::Status s = testing::ValidateCheckSelection(o.only); !s.ok()) {
    return Bad("--check: " + std::string(s.message()));
  }
  if (absl::Status s = testing::ValidateCheckSelection(o.skip); !s.ok()) {
    return Bad("--skip: " + std::string(s.message()));
  }

  const bool tls_flags = client_cert || client_key || server_cert || server_name;
  if (socket && address) return Bad("--socket and --address exclude each other");
  if (!socket && !address)
    return Bad("say where the plugin is: --socket PATH or --address HOST:PORT");
  if (socket) {
    if (tls_flags) {
      return Bad(
          "--client-cert, --client-key, --server-cert and --server-name go with --address "
          "(a Unix socket is plaintext)");
    }
    o.endpoint = testing::Endpoint::Unix(*socket);
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
  auto tls = testing::TlsCredentials::FromFiles(*client_cert, *client_key, *server_cert,
                                                server_name.value_or(""));
  if (!tls.ok()) return Bad(std::string(tls.status().message()));
  o.endpoint = testing::Endpoint::Tcp(*address, *std::move(tls));
  return cl;
}

std::string Usage(const std::string& program) {
  std::string checks;
  for (const auto& c : testing::ConformanceChecks()) {
    std::string name = c.name;
    if (name.size() < 30) name.resize(30, ' ');
    checks += "  " + name + " " + c.description + "\n";
  }
  return "Usage:\n"
         "  " +
         program +
         " --socket PATH [options]\n"
         "  " +
         program +
         " --address HOST:PORT --client-cert FILE --client-key FILE \\\n"
         "      --server-cert FILE [--server-name NAME] [options]\n"
         "\n"
         "Checks a running CNPG-I plugin the way the CloudNativePG operator and instance\n"
         "manager use it, and prints one line per check: PASS, FAIL with the reason, WARN\n"
         "for a practice the operator tolerates (with the reason), or SKIP with why.\n"
         "\n"
         "Where the plugin is:\n"
         "  --socket PATH              its Unix socket (<plugin-path>/<plugin name>)\n"
         "  --address HOST:PORT        its TCP endpoint (mutual TLS 1.3)\n"
         "  --client-cert FILE         the client certificate to present (the operator's tls.crt)\n"
         "  --client-key FILE          its private key\n"
         "  --server-cert FILE         the plugin's certificate, pinned as the only trusted root\n"
         "  --server-name NAME         the DNS name it must carry (default: the first label of\n"
         "                             HOST, like the operator checks the Service name)\n"
         "\n"
         "What the plugin needs:\n"
         "  --plugin-name NAME         the name it must report (cnpg.io/pluginName label,\n"
         "                             spec.plugins[].name)\n"
         "  --plugin-parameters K=V,.. its parameters in the fixture Cluster's spec.plugins[]\n"
         "  --backup-parameters K=V,.. the fixture Backup's pluginConfiguration.parameters\n"
         "  --config FILE              a JSON file with any of: pluginName, parameters,\n"
         "                             backupParameters, cluster, pod, job, backup,\n"
         "                             postgresConfiguration, walDir, runBackup, runRestoreJob,\n"
         "                             only, skip, strict (flags win over the file)\n"
         "\n"
         "Checks with side effects (off unless asked for):\n"
         "  --wal-dir DIR              archive and restore a test segment through DIR, a scratch\n"
         "                             directory the plugin can read and write\n"
         "  --backup                   take a real backup\n"
         "  --restore-job              run the restore job hook (restores PGDATA where the\n"
         "                             plugin runs)\n"
         "\n"
         "Running:\n"
         "  --check NAME[,NAME...]     run only these checks or groups (e.g. lifecycle)\n"
         "  --skip NAME[,NAME...]      skip these checks or groups\n"
         "  --call-timeout DURATION    deadline of each call (default 5s)\n"
         "  --timeout DURATION         the whole run (default 2m); then the rest fails\n"
         "  --probe-budget DURATION    how fast Probe must answer (default 1s)\n"
         "  --connections N            connections of the concurrency check (default 5)\n"
         "  --strict                   warnings fail the run (exit status 1) as failures do\n"
         "  --junit FILE               also write the results as JUnit XML\n"
         "  --list                     list the checks and exit\n"
         "  --version, -h/--help\n"
         "\n"
         "Exit status: 0 every check passed, warned or was skipped, 1 some check failed\n"
         "(or warned, with --strict), 2 usage error or the plugin could not be reached at all.\n"
         "\n"
         "Checks:\n" +
         checks;
}

}  // namespace cnpgi::conformance_tool
