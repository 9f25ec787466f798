// instance-client: what CloudNativePG's instance manager and full-recovery
// Job do with a backup plugin, as a small program, to drive the plugin from a
// PostgreSQL without Kubernetes (the end-to-end test does).
//
//   archive_command = 'instance-client archive --socket=S --cluster=C.json %p'
//   restore_command = 'instance-client restore --socket=S --cluster=C.json %f %p'
//   instance-client backup --socket=S --cluster=C.json --backup=B.json
//   instance-client restore-job --socket=S --cluster=C.json
//
// Like the instance manager, every run is a fresh process that connects to
// the plugin's Unix socket, does the operator's handshake (GetPluginMetadata,
// GetPluginCapabilities, the GetCapabilities of every advertised service,
// Probe; cnpgi::test::PluginClient does it) and makes one call:
//  - archive: WAL Archive with the Cluster JSON, the absolute path of the
//    file (PostgreSQL passes %p relative to the data directory, its working
//    directory) and check_empty_wal_archive = whether the data directory
//    holds the marker file .check-empty-wal-archive (the instance manager's
//    rule);
//  - restore: WAL Restore with the bare name %f and the absolute
//    destination path;
//  - backup: Backup with the Cluster and the Backup object, and the Backup's
//    spec.pluginConfiguration.parameters; prints the answer as JSON;
//  - restore-job: RestoreJobHooks.Restore with the Cluster; prints the
//    answered restore_config.
// The exit code is 0 only when the plugin answered OK; the error is printed
// on stderr, where PostgreSQL logs it.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include <cnpgi/testing/plugin_client.h>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kUsage =
    "usage: instance-client [options] archive FILE\n"
    "       instance-client [options] restore WAL_NAME DESTINATION\n"
    "       instance-client [options] backup --backup=FILE\n"
    "       instance-client [options] restore-job\n"
    "(options may also follow the verb)\n"
    "options:\n"
    "  --socket=PATH         the plugin's Unix socket (required)\n"
    "  --cluster=FILE        the Cluster as JSON, with the plugin's parameters (required)\n"
    "  --backup=FILE         the Backup object as JSON (backup)\n"
    "  --timeout=SECONDS     deadline of the call (default 300)\n"
    "  --check-empty-wal-archive=true|false\n"
    "                        archive: default true when ./.check-empty-wal-archive exists;\n"
    "                        restore-job: default false\n"
    "  --log=FILE            append one line per call: '<verb> <file> <result>'\n";

struct Options {
  std::string verb;
  std::string socket;
  std::string cluster_file;
  std::string backup_file;
  int timeout_seconds = 300;
  std::optional<bool> check_empty;
  std::string log_file;
  std::vector<std::string> positional;
};

std::optional<Options> ParseArgs(int argc, char** argv, std::string& error) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value_of = [&](std::string_view flag) -> std::optional<std::string> {
      if (arg.substr(0, flag.size()) == flag && arg.size() > flag.size() &&
          arg[flag.size()] == '=') {
        return std::string(arg.substr(flag.size() + 1));
      }
      return std::nullopt;
    };
    if (auto v = value_of("--socket")) {
      o.socket = *v;
    } else if (auto v = value_of("--cluster")) {
      o.cluster_file = *v;
    } else if (auto v = value_of("--backup")) {
      o.backup_file = *v;
    } else if (auto v = value_of("--timeout")) {
      char* end = nullptr;
      const long seconds = std::strtol(v->c_str(), &end, 10);
      if (end == v->c_str() || *end != '\0' || seconds <= 0 || seconds > 86400 * 7) {
        error = "bad --timeout " + *v;
        return std::nullopt;
      }
      o.timeout_seconds = static_cast<int>(seconds);
    } else if (auto v = value_of("--check-empty-wal-archive")) {
      if (*v != "true" && *v != "false") {
        error = "bad --check-empty-wal-archive " + *v;
        return std::nullopt;
      }
      o.check_empty = (*v == "true");
    } else if (auto v = value_of("--log")) {
      o.log_file = *v;
    } else if (arg.size() > 1 && arg[0] == '-') {
      error = "unknown option " + std::string(arg);
      return std::nullopt;
    } else {
      o.positional.emplace_back(arg);
    }
  }
  if (o.positional.empty()) {
    error = "missing verb";
    return std::nullopt;
  }
  o.verb = o.positional.front();
  o.positional.erase(o.positional.begin());
  const std::map<std::string, std::size_t> arguments = {
      {"archive", 1}, {"restore", 2}, {"backup", 0}, {"restore-job", 0}};
  auto want = arguments.find(o.verb);
  if (want == arguments.end()) {
    error = "unknown verb " + o.verb;
  } else if (o.positional.size() != want->second) {
    error = o.verb + " takes " + std::to_string(want->second) + " argument(s)";
  } else if (o.socket.empty() || o.cluster_file.empty()) {
    error = "--socket and --cluster are required";
  } else if (o.verb == "backup" && o.backup_file.empty()) {
    error = "backup needs --backup";
  } else {
    return o;
  }
  return std::nullopt;
}

// One line per call, written with a single write() so that concurrent
// clients do not interleave.
void AppendLog(const std::string& file, const std::string& line) {
  if (file.empty()) return;
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::string text = line + "\n";
  [[maybe_unused]] ssize_t n = ::write(fd, text.data(), text.size());
  ::close(fd);
}

// The message for a failed call: "<CODE>: <what the client or plugin said>".
std::string Describe(const absl::Status& status) {
  const std::string message(status.message());
  return absl::StatusCodeToString(status.code()) + ": " + message;
}

std::optional<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return std::nullopt;
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  std::optional<Options> parsed = ParseArgs(argc, argv, error);
  if (!parsed) {
    std::cerr << "instance-client: " << error << "\n" << kUsage;
    return 2;
  }
  const Options& o = *parsed;
  const std::string subject = o.positional.empty() ? std::string() : o.positional[0];
  auto fail = [&](const std::string& why) {
    std::cerr << "instance-client " << o.verb << " " << subject << ": " << why << "\n";
    AppendLog(o.log_file, o.verb + " " + subject + " " + why);
    return 1;
  };

  std::optional<std::string> cluster = ReadWhole(o.cluster_file);
  if (!cluster) return fail("cannot read the Cluster from " + o.cluster_file);

  // A new connection and the operator's handshake (GetPluginMetadata,
  // GetPluginCapabilities, the GetCapabilities of each advertised service,
  // Probe), each call with a deadline. The calls of the handshake must be
  // quick; the call itself gets --timeout.
  cnpgi::test::ClientOptions options;
  options.call_timeout = absl::Seconds(10);
  absl::StatusOr<cnpgi::test::PluginClient> client =
      cnpgi::test::PluginClient::Connect(cnpgi::test::Endpoint::Unix(o.socket), options);
  if (!client.ok()) return fail(Describe(client.status()));
  // The operator names a socket plugin after its file and looks it up by its
  // metadata name: they must agree.
  const std::string& name = client->handshake().name();
  if (name != fs::path(o.socket).filename().native()) {
    return fail("the socket " + o.socket + " serves a plugin named \"" + name +
                "\"; the socket file must be named after the plugin");
  }
  const cnpgi::test::PluginClient call = client->WithTimeout(absl::Seconds(o.timeout_seconds));
  const cnpgi::test::Document cluster_json = cnpgi::test::Document::Raw(*cluster);

  // Absolute paths, as the instance manager sends them: PostgreSQL passes
  // %p relative to the data directory, which is its working directory. The
  // advertised capabilities are checked by the client (require_advertised).
  std::error_code ec;
  if (o.verb == "archive") {
    absl::Status status =
        call.ArchiveWal(cluster_json, fs::absolute(subject, ec).native(),
                        o.check_empty.value_or(fs::exists(".check-empty-wal-archive", ec)));
    if (!status.ok()) return fail(Describe(status));
  } else if (o.verb == "restore") {
    absl::Status status =
        call.RestoreWal(cluster_json, subject, fs::absolute(o.positional[1], ec).native());
    if (!status.ok()) return fail(Describe(status));
  } else if (o.verb == "backup") {
    std::optional<std::string> backup = ReadWhole(o.backup_file);
    if (!backup) return fail("cannot read the Backup from " + o.backup_file);
    // The request's parameters are the Backup's
    // spec.pluginConfiguration.parameters.
    std::map<std::string, std::string> parameters;
    const nlohmann::json backup_json = nlohmann::json::parse(*backup, nullptr, false);
    if (backup_json.is_discarded()) return fail("the Backup in " + o.backup_file + " is not JSON");
    const nlohmann::json* map = nullptr;
    if (auto spec = backup_json.find("spec"); spec != backup_json.end() && spec->is_object()) {
      if (auto config = spec->find("pluginConfiguration");
          config != spec->end() && config->is_object()) {
        if (auto p = config->find("parameters"); p != config->end() && p->is_object()) map = &*p;
      }
    }
    if (map != nullptr) {
      for (const auto& [key, value] : map->items()) {
        if (value.is_string()) parameters[key] = value.get<std::string>();
      }
    }
    absl::StatusOr<cnpgi::backup::v1::BackupResult> result =
        call.Backup(cluster_json, cnpgi::test::Document::Raw(*backup), parameters);
    if (!result.ok()) return fail(Describe(result.status()));
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(*result, &json, print).ok()) {
      return fail("cannot print the answer as JSON");
    }
    std::cout << json << "\n";
    AppendLog(o.log_file, "backup " + result->backup_id() + " OK");
    return 0;
  } else {
    absl::StatusOr<cnpgi::wal::v1::RestoreResponse> result =
        call.RestoreJob(cluster_json, o.check_empty.value_or(false));
    if (!result.ok()) return fail(Describe(result.status()));
    std::cout << result->restore_config();
    for (const std::string& env : result->envs()) std::cerr << "env: " << env << "\n";
    AppendLog(o.log_file, "restore-job OK");
    return 0;
  }
  AppendLog(o.log_file, o.verb + " " + subject + " OK");
  return 0;
}
