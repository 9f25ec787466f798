// wal-client: what CloudNativePG's instance manager does when PostgreSQL
// runs its archive_command or restore_command, as a small program to put in
// those commands when trying a WAL plugin without Kubernetes.
//
//   archive_command = 'wal-client archive --socket=/plugins/<name> --cluster=cluster.json %p'
//   restore_command = 'wal-client restore --socket=/plugins/<name> --cluster=cluster.json %f %p'
//
// Like the instance manager, every run is a fresh process that connects to
// the plugin's Unix socket, does the operator's handshake (GetPluginMetadata,
// GetPluginCapabilities, the GetCapabilities of every advertised service,
// Probe; cnpgi::testing::PluginClient does it) and makes one call:
//  - Archive with the Cluster JSON, the absolute path of the file (PostgreSQL
//    passes %p relative to the data directory, its working directory) and
//    check_empty_wal_archive = whether the data directory holds the marker
//    file .check-empty-wal-archive (the instance manager's rule);
//  - Restore with the Cluster JSON, the bare name %f and the absolute
//    destination path.
// The exit code is 0 only when the plugin answered OK; the error is printed
// on stderr, where PostgreSQL logs it.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <cnpgi/testing/plugin_client.h>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kUsage =
    "usage: wal-client [options] archive FILE\n"
    "       wal-client [options] restore WAL_NAME DESTINATION\n"
    "(options may also follow the verb)\n"
    "options:\n"
    "  --socket=PATH         the plugin's Unix socket (required)\n"
    "  --cluster=FILE        the Cluster as JSON, with the plugin's parameters (required)\n"
    "  --timeout=SECONDS     deadline of the Archive/Restore call (default 300)\n"
    "  --check-empty-wal-archive=true|false\n"
    "                        default: true when ./.check-empty-wal-archive exists\n"
    "  --log=FILE            append one line per call: '<verb> <file> <result>'\n";

struct Options {
  std::string verb;
  std::string socket;
  std::string cluster_file;
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
    } else if (auto v = value_of("--timeout")) {
      try {
        o.timeout_seconds = std::stoi(*v);
      } catch (...) {
        error = "bad --timeout " + *v;
        return std::nullopt;
      }
      if (o.timeout_seconds <= 0) {
        error = "bad --timeout " + *v;
        return std::nullopt;
      }
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
  const std::size_t want = o.verb == "archive" ? 1 : o.verb == "restore" ? 2 : 0;
  if (want == 0) {
    error = "unknown verb " + o.verb;
  } else if (o.positional.size() != want) {
    error = o.verb + " takes " + std::to_string(want) + " argument(s)";
  } else if (o.socket.empty() || o.cluster_file.empty()) {
    error = "--socket and --cluster are required";
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

int Fail(const Options& o, const std::string& file, const std::string& why) {
  std::cerr << "wal-client " << o.verb << " " << file << ": " << why << "\n";
  AppendLog(o.log_file, o.verb + " " + file + " " + why);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  std::optional<Options> parsed = ParseArgs(argc, argv, error);
  if (!parsed) {
    std::cerr << "wal-client: " << error << "\n" << kUsage;
    return 2;
  }
  const Options& o = *parsed;
  const std::string& file = o.positional[0];

  std::ifstream in(o.cluster_file);
  std::stringstream cluster;
  cluster << in.rdbuf();
  if (!in) return Fail(o, file, "cannot read the Cluster from " + o.cluster_file);

  // A new connection and the operator's handshake (GetPluginMetadata,
  // GetPluginCapabilities, the GetCapabilities of each advertised service,
  // Probe), each call with a deadline. The calls of the handshake must be
  // quick; the WAL call gets --timeout.
  cnpgi::testing::ClientOptions options;
  options.call_timeout = absl::Seconds(10);
  absl::StatusOr<cnpgi::testing::PluginClient> client =
      cnpgi::testing::PluginClient::Connect(cnpgi::testing::Endpoint::Unix(o.socket), options);
  if (!client.ok()) return Fail(o, file, Describe(client.status()));
  // The operator names a socket plugin after its file and looks it up by its
  // metadata name: they must agree.
  const std::string& name = client->handshake().name();
  if (name != fs::path(o.socket).filename().native()) {
    return Fail(o, file,
                "the socket " + o.socket + " serves a plugin named \"" + name +
                    "\"; the socket file must be named after the plugin");
  }
  const cnpgi::testing::PluginClient wal = client->WithTimeout(absl::Seconds(o.timeout_seconds));
  const cnpgi::testing::Document cluster_json = cnpgi::testing::Document::Raw(cluster.str());

  // Absolute paths, as the instance manager sends them: PostgreSQL passes
  // %p relative to the data directory, which is its working directory. The
  // advertised capabilities are checked by the client (require_advertised).
  absl::Status status;
  std::error_code ec;
  if (o.verb == "archive") {
    status = wal.ArchiveWal(cluster_json, fs::absolute(file, ec).native(),
                            o.check_empty.value_or(fs::exists(".check-empty-wal-archive", ec)));
  } else {
    status = wal.RestoreWal(cluster_json, file, fs::absolute(o.positional[1], ec).native());
  }
  if (!status.ok()) return Fail(o, file, Describe(status));
  AppendLog(o.log_file, o.verb + " " + file + " OK");
  return 0;
}
