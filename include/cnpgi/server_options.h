// Command-line flags of a plugin's server: what the transport, logging and
// shutdown look like, parsed from argv exactly as CloudNativePG deployments
// already pass them to Go plugins, so their Kubernetes manifests keep working.
//
//   absl::StatusOr<cnpgi::CommandLine> cl =
//       cnpgi::ParseCommandLine({argv + 1, static_cast<size_t>(argc - 1)});
//   if (!cl.ok()) { std::cerr << cl.status().message() << "\n"; return 2; }
//
// See docs/flags-and-logging.md for the flags and their rules.
#ifndef CNPGI_SERVER_OPTIONS_H_
#define CNPGI_SERVER_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "cnpgi/logging.h"
#include "spdlog/common.h"

namespace cnpgi {

// Names of the environment variables read by ParseCommandLine(). A flag given
// on the command line always wins over its environment variable.
inline constexpr std::string_view kLogLevelEnv = "CNPGI_LOG_LEVEL";
inline constexpr std::string_view kLogFormatEnv = "CNPGI_LOG_FORMAT";
// Recording and metrics (docs/observability.md), for plugins whose command
// line is fixed (an operator-side Deployment, a sidecar injected by the
// plugin itself).
inline constexpr std::string_view kRecordDirEnv = "CNPGI_RECORD_DIR";
inline constexpr std::string_view kRecordMaxFilesEnv = "CNPGI_RECORD_MAX_FILES";
inline constexpr std::string_view kRecordMaxBytesEnv = "CNPGI_RECORD_MAX_BYTES";
inline constexpr std::string_view kRecordRedactEnv = "CNPGI_RECORD_REDACT";
inline constexpr std::string_view kMetricsAddressEnv = "CNPGI_METRICS_ADDRESS";

// How the plugin's server listens and behaves. Defaults are those of a plugin
// started without flags: a Unix socket under /plugins, info-level text logs.
struct ServerOptions {
  // --plugin-path: directory holding the Unix socket `<plugin_path>/<plugin name>`.
  std::string plugin_path = "/plugins";
  // --server-address, e.g. ":9090" or "10.0.0.5:9090". Empty selects the Unix
  // socket; non-empty selects TCP with mutual TLS (there is no plaintext TCP).
  std::string server_address;
  // --server-cert, --server-key: PEM certificate and private key of the server.
  std::string server_cert;
  std::string server_key;
  // --client-cert: PEM certificate(s) a client's certificate must chain to.
  std::string client_cert;
  // --log-level (env CNPGI_LOG_LEVEL); --debug is a shorthand for debug.
  spdlog::level::level_enum log_level = spdlog::level::info;
  // --log-format (env CNPGI_LOG_FORMAT).
  LogFormat log_format = LogFormat::kText;
  // --grace-period: how long in-flight calls may run on after SIGTERM/SIGINT.
  absl::Duration grace_period = absl::Seconds(25);
  // --tls-reload-interval: how often the server certificate and key are
  // re-read (whole seconds, at least 1 s, as gRPC's file watcher works);
  // --client-cert is re-read at every handshake, when it changed.
  absl::Duration tls_reload_interval = absl::Seconds(5);

  // --record-dir (env CNPGI_RECORD_DIR): write every call (method, peer,
  // request, response, status, duration) to this existing directory, one
  // JSON file per call, for cnpgi::test::Replay. Empty: no recording.
  std::string record_dir;
  // --record-max-files, --record-max-bytes: beyond either, the oldest
  // recorded files are removed.
  std::size_t record_max_files = 1000;
  std::uint64_t record_max_bytes = std::uint64_t{100} << 20;
  // --record-redact: secrets are replaced before anything reaches the disk
  // (docs/observability.md says which). Turn off only on a test cluster.
  bool record_redact = true;
  // --metrics-address (env CNPGI_METRICS_ADDRESS), e.g. ":9187": serve
  // per-RPC metrics in the Prometheus text format at /metrics over plain
  // HTTP. Empty: no metrics endpoint.
  std::string metrics_address;

  // True when the server listens on TCP (server_address is set).
  bool uses_tcp() const { return !server_address.empty(); }

  // The address to hand to gRPC for server_address: ":9090" (Go's "all
  // interfaces") becomes "[::]:9090", "host:port" and "[v6]:port" are kept.
  // InvalidArgument when server_address is not a usable host:port.
  absl::StatusOr<std::string> GrpcListenAddress() const;

  // Checks options built in code rather than parsed from flags: the TCP
  // fields go together, the address is valid, durations are finite and not
  // negative, the reload interval is positive, the socket directory is set.
  absl::Status Validate() const;
};

// What the command line asks for. Only kServe carries meaningful options;
// for kHelp print CommandLineHelp(), for kVersion print the plugin's version.
struct CommandLine {
  enum class Action { kServe, kHelp, kVersion };
  Action action = Action::kServe;
  ServerOptions options;
};

// Looks up an environment variable; nullopt when it is not set. Tests pass
// their own to stay independent of the process environment.
using EnvironmentLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (getenv).
std::optional<std::string> ProcessEnvironment(std::string_view name);

// Parses the arguments after the program name, with the syntax of the Go
// plugins' command line: `--flag=value` or `--flag value`, `--debug` or
// `--debug=true|false`, `-h`/`--help`, `--version`, `--` ending the flags.
// A help or version request wins over everything else on the line.
//
// Every mistake is an InvalidArgument error whose message names the flag (or
// environment variable) and the offending value, ready to show to a user:
// unknown flags, missing or empty values, bad levels, formats, durations or
// addresses, positional arguments, a flag given twice, an incomplete TCP
// group, and --plugin-path combined with the TCP flags. Never throws.
absl::StatusOr<CommandLine> ParseCommandLine(absl::Span<const char* const> args,
                                             const EnvironmentLookup& env = ProcessEnvironment);

// The --help text: usage, one line per flag with its default and environment
// variable, the combination rules, and an example for each transport.
// `program` is the executable's name, `plugin_name` the plugin's metadata name.
std::string CommandLineHelp(std::string_view program, std::string_view plugin_name);

// Converts a --server-address value as GrpcListenAddress() does.
absl::StatusOr<std::string> ToGrpcListenAddress(std::string_view server_address);

}  // namespace cnpgi

#endif  // CNPGI_SERVER_OPTIONS_H_
