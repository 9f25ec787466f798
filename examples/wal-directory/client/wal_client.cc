// wal-client: what CloudNativePG's instance manager does when PostgreSQL
// runs its archive_command or restore_command, as a small program to put in
// those commands when trying a WAL plugin without Kubernetes.
//
//   archive_command = 'wal-client archive --socket=/plugins/<name> --cluster=cluster.json %p'
//   restore_command = 'wal-client restore --socket=/plugins/<name> --cluster=cluster.json %f %p'
//
// Like the instance manager, every run is a fresh process that connects to
// the plugin's Unix socket, does the handshake (GetPluginMetadata,
// GetPluginCapabilities, WAL.GetCapabilities, Probe) and makes one call:
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

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/grpcpp.h>

#include <cnpgi/identity/v1/identity.grpc.pb.h>
#include <cnpgi/wal/v1/wal.grpc.pb.h>

namespace {

namespace fs = std::filesystem;
using cnpgi::identity::v1::Identity;
using cnpgi::identity::v1::PluginCapability;
using cnpgi::wal::v1::WAL;
using cnpgi::wal::v1::WALCapability;

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

std::unique_ptr<grpc::ClientContext> Deadline(int seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return context;
}

std::string Describe(const grpc::Status& status) {
  static const char* const kCodes[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const int code = static_cast<int>(status.error_code());
  std::string name = code >= 0 && code <= 16 ? kCodes[code] : std::to_string(code);
  return name + ": " + status.error_message();
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

// The handshake of the instance manager on a new connection. Empty when it
// succeeded, the reason otherwise.
std::string Handshake(const std::shared_ptr<grpc::Channel>& channel, const Options& o,
                      WALCapability::RPC::Type needed) {
  constexpr int kHandshakeSeconds = 10;
  auto identity = Identity::NewStub(channel);
  cnpgi::identity::v1::GetPluginMetadataResponse metadata;
  grpc::Status s = identity->GetPluginMetadata(Deadline(kHandshakeSeconds).get(), {}, &metadata);
  if (!s.ok()) return "GetPluginMetadata: " + Describe(s);
  // The operator names a socket plugin after its file and looks it up by
  // its metadata name: they must agree.
  if (metadata.name() != fs::path(o.socket).filename().native()) {
    return "the socket " + o.socket + " serves a plugin named \"" + metadata.name() +
           "\"; the socket file must be named after the plugin";
  }
  cnpgi::identity::v1::GetPluginCapabilitiesResponse capabilities;
  s = identity->GetPluginCapabilities(Deadline(kHandshakeSeconds).get(), {}, &capabilities);
  if (!s.ok()) return "GetPluginCapabilities: " + Describe(s);
  bool has_wal = false;
  for (const auto& c : capabilities.capabilities()) {
    if (c.has_service() && c.service().type() == PluginCapability::Service::TYPE_WAL_SERVICE) {
      has_wal = true;
    }
  }
  if (!has_wal) return "plugin " + metadata.name() + " does not advertise the WAL service";
  cnpgi::wal::v1::WALCapabilitiesResult wal_capabilities;
  s = WAL::NewStub(channel)->GetCapabilities(Deadline(kHandshakeSeconds).get(), {},
                                             &wal_capabilities);
  if (!s.ok()) return "WAL.GetCapabilities: " + Describe(s);
  bool has_rpc = false;
  for (const auto& c : wal_capabilities.capabilities()) {
    if (c.has_rpc() && c.rpc().type() == needed) has_rpc = true;
  }
  if (!has_rpc) {
    return "plugin " + metadata.name() + " does not advertise " +
           WALCapability::RPC::Type_Name(needed);
  }
  cnpgi::identity::v1::ProbeResponse probe;
  s = identity->Probe(Deadline(kHandshakeSeconds).get(), {}, &probe);
  if (!s.ok()) return "Probe: " + Describe(s);
  return "";
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

  // The channel connects on the first call; its deadline bounds the wait.
  auto channel = grpc::CreateChannel("unix:" + o.socket, grpc::InsecureChannelCredentials());
  const bool archive = o.verb == "archive";
  std::string failure = Handshake(
      channel, o,
      archive ? WALCapability::RPC::TYPE_ARCHIVE_WAL : WALCapability::RPC::TYPE_RESTORE_WAL);
  if (!failure.empty()) return Fail(o, file, failure);

  auto wal = WAL::NewStub(channel);
  grpc::Status status;
  std::error_code ec;
  if (archive) {
    cnpgi::wal::v1::WALArchiveRequest request;
    request.set_cluster_definition(cluster.str());
    request.set_source_file_name(fs::absolute(file, ec).native());
    request.set_check_empty_wal_archive(
        o.check_empty.value_or(fs::exists(".check-empty-wal-archive", ec)));
    cnpgi::wal::v1::WALArchiveResult result;
    status = wal->Archive(Deadline(o.timeout_seconds).get(), request, &result);
  } else {
    cnpgi::wal::v1::WALRestoreRequest request;
    request.set_cluster_definition(cluster.str());
    request.set_source_wal_name(file);
    request.set_destination_file_name(fs::absolute(o.positional[1], ec).native());
    request.set_mode(cnpgi::wal::v1::WALRestoreRequest::MODE_RECOVERY);
    cnpgi::wal::v1::WALRestoreResult result;
    status = wal->Restore(Deadline(o.timeout_seconds).get(), request, &result);
  }
  if (!status.ok()) return Fail(o, file, Describe(status));
  AppendLog(o.log_file, o.verb + " " + file + " OK");
  return 0;
}
