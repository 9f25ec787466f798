#include "cnpgi/server_options.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "base/go_syntax.h"
#include "base/strings.h"
#include "cnpgi/errors.h"
#include "cnpgi/parameters.h"

namespace cnpgi {
namespace {

using internal::Cat;

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out.append(separator);
    out.append(parts[i]);
  }
  return out;
}

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsAsciiAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// The flags, in the order --help lists them. The first five are the Go
// helper library's; keeping their names and syntax is what lets existing
// Kubernetes manifests start a C++ plugin unchanged.
enum class Flag {
  kPluginPath,
  kServerAddress,
  kServerCert,
  kServerKey,
  kClientCert,
  kLogLevel,
  kLogFormat,
  kDebug,
  kGracePeriod,
  kTlsReloadInterval,
  kRecordDir,
  kRecordMaxFiles,
  kRecordMaxBytes,
  kRecordRedact,
  kMetricsAddress,
  kHelp,
  kVersion,
};
constexpr std::size_t kFlagCount = 17;

struct FlagSpec {
  Flag flag;
  std::string_view name;        // without the leading dashes
  bool is_bool;                 // takes no value unless written --name=value
  std::string_view value_name;  // for --help; empty for booleans
};

constexpr std::array<FlagSpec, kFlagCount> kFlags = {{
    {Flag::kPluginPath, "plugin-path", false, "DIR"},
    {Flag::kServerAddress, "server-address", false, "ADDR"},
    {Flag::kServerCert, "server-cert", false, "FILE"},
    {Flag::kServerKey, "server-key", false, "FILE"},
    {Flag::kClientCert, "client-cert", false, "FILE"},
    {Flag::kLogLevel, "log-level", false, "LEVEL"},
    {Flag::kLogFormat, "log-format", false, "FORMAT"},
    {Flag::kDebug, "debug", true, ""},
    {Flag::kGracePeriod, "grace-period", false, "DURATION"},
    {Flag::kTlsReloadInterval, "tls-reload-interval", false, "DURATION"},
    {Flag::kRecordDir, "record-dir", false, "DIR"},
    {Flag::kRecordMaxFiles, "record-max-files", false, "N"},
    {Flag::kRecordMaxBytes, "record-max-bytes", false, "SIZE"},
    {Flag::kRecordRedact, "record-redact", true, ""},
    {Flag::kMetricsAddress, "metrics-address", false, "ADDR"},
    {Flag::kHelp, "help", true, ""},
    {Flag::kVersion, "version", true, ""},
}};

constexpr std::array<Flag, 4> kTcpFlags = {Flag::kServerAddress, Flag::kServerCert,
                                           Flag::kServerKey, Flag::kClientCert};

const FlagSpec* FindFlag(std::string_view name) {
  for (const FlagSpec& spec : kFlags) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string Dashed(Flag flag) { return Cat("--", kFlags[static_cast<std::size_t>(flag)].name); }

// A user-supplied value for an error message (cnpgi::QuoteValue): control
// characters made visible and very long values cut, so that the message
// stays readable on one line whatever was passed.
std::string Quote(std::string_view value) { return QuoteValue(value, 120); }

// Edit distance, for "did you mean" hints on misspelt flags.
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Suggestion(std::string_view name) {
  // Common spellings from other tools, then near misses.
  const std::string lower = AsciiLower(name.substr(0, 64));
  std::string normalized = lower;
  for (char& c : normalized) {
    if (c == '_') c = '-';
  }
  if (const FlagSpec* spec = FindFlag(normalized))
    return Cat(" (did you mean --", spec->name, "?)");
  const FlagSpec* best = nullptr;
  std::size_t best_distance = 3;
  for (const FlagSpec& spec : kFlags) {
    const std::size_t distance = EditDistance(normalized, spec.name);
    if (distance < best_distance) {
      best = &spec;
      best_distance = distance;
    }
  }
  if (best == nullptr) return "";
  return Cat(" (did you mean --", best->name, "?)");
}

absl::Status BadValue(std::string_view what, std::string_view value, std::string_view want) {
  return absl::InvalidArgumentError(Cat("invalid value ", Quote(value), " for ", what, ": ", want));
}

absl::StatusOr<absl::Duration> DurationValue(std::string_view what, std::string_view value,
                                             bool allow_zero) {
  // The parser of plugin parameters (cnpgi::ParseDuration): Go's syntax,
  // plus "min" and "d", so that a value is valid as a flag and a parameter.
  const absl::StatusOr<absl::Duration> duration = internal::ParseDurationText(value);
  if (!duration.ok()) {
    const bool digits_only =
        !value.empty() && value.find_first_not_of("0123456789.") == std::string_view::npos;
    return BadValue(what, value,
                    digits_only ? "a unit is required, e.g. 30s, 1m30s or 500ms"
                                : "want a duration such as 30s, 1m30s or 500ms");
  }
  if (*duration < absl::ZeroDuration()) {
    return BadValue(what, value, "must not be negative");
  }
  if (!allow_zero && *duration == absl::ZeroDuration()) {
    return BadValue(what, value, "must be greater than zero");
  }
  return *duration;
}

absl::Status CheckDurations(const ServerOptions& options) {
  if (options.grace_period < absl::ZeroDuration() ||
      options.grace_period == absl::InfiniteDuration()) {
    return BadValue(Dashed(Flag::kGracePeriod), absl::FormatDuration(options.grace_period),
                    "must be finite and not negative");
  }
  if (options.tls_reload_interval <= absl::ZeroDuration() ||
      options.tls_reload_interval == absl::InfiniteDuration()) {
    return BadValue(Dashed(Flag::kTlsReloadInterval),
                    absl::FormatDuration(options.tls_reload_interval),
                    "must be finite and greater than zero");
  }
  return absl::OkStatus();
}

// The rule shared by flags and hand-built options: the TCP settings come as a
// complete set, because TCP always means mutual TLS.
absl::Status CheckTcpGroup(const std::array<bool, kTcpFlags.size()>& present) {
  std::vector<std::string> missing;
  bool any = false;
  for (std::size_t i = 0; i < kTcpFlags.size(); ++i) {
    if (present[i]) {
      any = true;
    } else {
      missing.push_back(Dashed(kTcpFlags[i]));
    }
  }
  if (!any || missing.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      Cat("--server-address, --server-cert, --server-key and --client-cert go together (TCP always "
          "uses mutual TLS; there is no plaintext TCP): missing ",
          Join(missing, ", ")));
}

bool IsHostCharacter(char c) { return IsAsciiAlnum(c) || c == '-' || c == '.' || c == '_'; }

bool IsIpv6Character(char c) {
  // Hex digits and separators, an embedded IPv4 tail, a %zone suffix
  // (interface names are alphanumeric).
  return IsAsciiAlnum(c) || c == ':' || c == '.' || c == '%';
}

std::string AddressError(std::string_view address, std::string_view why) {
  return Cat("invalid value ", Quote(address), " for --server-address: ", why);
}

// Log level names (trace, debug, info, warn or warning, error; any case), as
// --log-level and CNPGI_LOG_LEVEL accept them.
std::optional<spdlog::level::level_enum> ParseLogLevel(std::string_view name) {
  const std::string lower = AsciiLower(name.substr(0, 16));
  if (name.size() > 16) return std::nullopt;
  if (lower == "trace") return spdlog::level::trace;
  if (lower == "debug") return spdlog::level::debug;
  if (lower == "info") return spdlog::level::info;
  if (lower == "warn" || lower == "warning") return spdlog::level::warn;
  if (lower == "error") return spdlog::level::err;
  return std::nullopt;
}

std::optional<LogFormat> ParseLogFormat(std::string_view name) {
  const std::string lower = AsciiLower(name.substr(0, 16));
  if (name.size() > 16) return std::nullopt;
  if (lower == "text") return LogFormat::kText;
  if (lower == "json") return LogFormat::kJson;
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::string> ToGrpcListenAddress(std::string_view address) {
  if (address.empty()) {
    return absl::InvalidArgumentError("--server-address must not be empty");
  }
  if (address.find('/') != std::string_view::npos) {
    // Typically a gRPC URI such as unix:///run/plugin.sock.
    return absl::InvalidArgumentError(AddressError(
        address,
        "want host:port or :port, e.g. :9090 (a Unix socket is chosen with --plugin-path)"));
  }
  std::string_view host;
  std::string_view port;
  if (address.front() == '[') {
    const std::size_t close = address.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(
          AddressError(address, "missing ']' after the IPv6 address"));
    }
    host = address.substr(1, close - 1);
    if (host.empty() || host.find(':') == std::string_view::npos) {
      return absl::InvalidArgumentError(
          AddressError(address, "brackets must hold an IPv6 address, e.g. [::1]:9090"));
    }
    for (const char c : host) {
      if (!IsIpv6Character(c)) {
        return absl::InvalidArgumentError(AddressError(address, "not a valid IPv6 address"));
      }
    }
    const std::string_view after = address.substr(close + 1);
    if (after.empty() || after.front() != ':') {
      return absl::InvalidArgumentError(
          AddressError(address, "missing port: want [host]:port, e.g. [::1]:9090"));
    }
    port = after.substr(1);
  } else {
    const std::size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(
          AddressError(address, "missing port: want host:port or :port, e.g. :9090"));
    }
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return absl::InvalidArgumentError(AddressError(
          address,
          "an IPv6 address needs brackets, e.g. [::1]:9090 (or :9090 for all interfaces)"));
    }
    for (const char c : host) {
      if (!IsHostCharacter(c)) {
        return absl::InvalidArgumentError(AddressError(
            address,
            "want host:port or :port, e.g. :9090 (a Unix socket is chosen with --plugin-path)"));
      }
    }
  }
  if (port.empty()) {
    return absl::InvalidArgumentError(AddressError(address, "missing port number, e.g. :9090"));
  }
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        AddressError(address, "the port must be a number from 0 to 65535"));
  }
  const int number = std::atoi(std::string(port).c_str());
  if (number > 65535) {
    return absl::InvalidArgumentError(
        AddressError(address, "port out of range: must be from 0 to 65535"));
  }
  // Go reads an empty host as "every interface"; gRPC needs it spelt out,
  // and the IPv6 wildcard also accepts IPv4 on a dual-stack host.
  if (host.empty()) return Cat("[::]:", port);
  return std::string(address);
}

absl::StatusOr<std::string> ServerOptions::GrpcListenAddress() const {
  return ToGrpcListenAddress(server_address);
}

namespace {

// A count (--record-max-files) or a size in bytes (--record-max-bytes). Sizes
// are Kubernetes quantities, read as plugin parameters are (cnpgi::Quantity:
// 1048576, 512Ki, 100Mi, 1G), so that a manifest's value means the same in
// both places.
absl::StatusOr<std::uint64_t> CountValue(std::string_view what, std::string_view value, bool size) {
  std::int64_t number = 0;
  if (size) {
    absl::StatusOr<Quantity> quantity = Quantity::Parse(value);
    if (!quantity.ok()) {
      return BadValue(what, value, "want a size in bytes such as 1048576, 512Ki, 100Mi or 1Gi");
    }
    number = quantity->value();
  } else {
    absl::StatusOr<std::int64_t> count = ParseInt(value);
    if (!count.ok()) return BadValue(what, value, "want a whole number");
    number = *count;
  }
  if (number <= 0) return BadValue(what, value, "must be greater than zero");
  return static_cast<std::uint64_t>(number);
}

// The metrics endpoint takes the addresses --server-address takes.
absl::Status CheckMetricsAddress(std::string_view what, std::string_view address) {
  absl::StatusOr<std::string> listen = ToGrpcListenAddress(address);
  if (listen.ok()) return absl::OkStatus();
  std::string message(listen.status().message());
  const std::string_view other = " for --server-address";
  if (const std::size_t at = message.find(other); at != std::string::npos) {
    message.erase(at, other.size());
  }
  return absl::InvalidArgumentError(Cat(what, ": ", message));
}

}  // namespace

absl::Status ServerOptions::Validate() const {
  const std::array<bool, kTcpFlags.size()> present = {!server_address.empty(), !server_cert.empty(),
                                                      !server_key.empty(), !client_cert.empty()};
  if (absl::Status status = CheckTcpGroup(present); !status.ok()) return status;
  if (uses_tcp()) {
    if (absl::StatusOr<std::string> address = GrpcListenAddress(); !address.ok()) {
      return address.status();
    }
  } else if (plugin_path.empty()) {
    return absl::InvalidArgumentError("--plugin-path must not be empty");
  }
  if (!metrics_address.empty()) {
    if (absl::Status s = CheckMetricsAddress("--metrics-address", metrics_address); !s.ok()) {
      return s;
    }
  }
  if (!record_dir.empty() && (record_max_files == 0 || record_max_bytes == 0)) {
    return absl::InvalidArgumentError(
        "--record-max-files and --record-max-bytes must be greater than zero");
  }
  return CheckDurations(*this);
}

std::optional<std::string> ProcessEnvironment(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

absl::StatusOr<CommandLine> ParseCommandLine(absl::Span<const char* const> args,
                                             const EnvironmentLookup& env) {
  CommandLine result;

  // Help and version win over everything else, mistakes included: someone
  // asking for help with a broken command line needs the help most.
  for (const char* arg : args) {
    if (arg == nullptr) continue;
    const std::string_view a(arg);
    if (a == "--") break;
    if (a == "-h" || a == "--help" ||
        (a.starts_with("--help=") && internal::ParseGoBool(a.substr(7)) == true)) {
      result.action = CommandLine::Action::kHelp;
      return result;
    }
    if (a == "--version" ||
        (a.starts_with("--version=") && internal::ParseGoBool(a.substr(10)) == true)) {
      result.action = CommandLine::Action::kVersion;
    }
  }
  if (result.action == CommandLine::Action::kVersion) return result;

  std::array<std::optional<std::string>, kFlagCount> given;
  bool flags_ended = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == nullptr) {
      return absl::InvalidArgumentError(Cat("argument ", i + 1, " is a null pointer"));
    }
    const std::string_view arg(args[i]);
    const bool is_flag = !flags_ended && arg.size() > 1 && arg.front() == '-';
    if (!is_flag) {
      // Go plugins are cobra programs whose manifests start the arguments
      // with a subcommand ("plugin", "operator"); point at that directly.
      const std::string_view hint =
          i == 0 && !flags_ended
              ? " (Go plugins take a subcommand here; this program takes none, so drop it from "
                "the container's args)"
              : "";
      return absl::InvalidArgumentError(
          Cat("unexpected argument ", Quote(arg), ": only flags are accepted (see --help)", hint));
    }
    if (arg == "--") {
      flags_ended = true;
      continue;
    }
    if (!arg.starts_with("--")) {
      // Go's standard flag package takes one dash; pflag, which the Go
      // plugins use, does not, and neither do we. Say so instead of
      // treating "-plugin-path" as a bundle of one-letter flags.
      const std::string_view name = arg.substr(1, arg.find('=') - 1);
      if (FindFlag(name) != nullptr) {
        return absl::InvalidArgumentError(
            Cat("unknown shorthand flag ", Quote(arg), ": long flags take two dashes, --", name));
      }
      return absl::InvalidArgumentError(
          Cat("unknown shorthand flag ", Quote(arg), ": the only one is -h"));
    }
    const std::string_view body = arg.substr(2);
    const std::size_t equals = body.find('=');
    const std::string_view name = body.substr(0, equals);
    const FlagSpec* spec = FindFlag(name);
    if (spec == nullptr) {
      return absl::InvalidArgumentError(
          Cat("unknown flag ", Quote(Cat("--", name)), Suggestion(name)));
    }
    const std::string dashed = Cat("--", spec->name);
    std::string value;
    if (equals != std::string_view::npos) {
      value = std::string(body.substr(equals + 1));
    } else if (spec->is_bool) {
      value = "true";
    } else if (i + 1 < args.size() && args[i + 1] != nullptr &&
               !(std::string_view(args[i + 1]).size() > 1 && args[i + 1][0] == '-')) {
      value = args[++i];
    } else if (i + 1 < args.size() && args[i + 1] != nullptr) {
      // pflag would take the next argument whatever it is; a value that looks
      // like a flag is far more likely a forgotten value than a real one.
      return absl::InvalidArgumentError(Cat("flag ", dashed, " needs a value but is followed by ",
                                            Quote(args[i + 1]), " (write ", dashed,
                                            "=VALUE for a value that starts with '-')"));
    } else {
      return absl::InvalidArgumentError(
          Cat("flag ", dashed, " needs a value (", dashed, "=", spec->value_name, ")"));
    }
    if (spec->is_bool && !internal::ParseGoBool(value).has_value()) {
      return BadValue(Cat("flag ", dashed), value, "want true or false");
    }
    if (value.empty()) {
      return absl::InvalidArgumentError(Cat("flag ", dashed, " must not be empty"));
    }
    std::optional<std::string>& slot = given[static_cast<std::size_t>(spec->flag)];
    if (slot.has_value()) {
      // pflag keeps the last one; a manifest saying two things is more
      // likely a mistake than an override, so name both.
      return absl::InvalidArgumentError(
          Cat("flag ", dashed, " is given twice (", Quote(*slot), " and ", Quote(value), ")"));
    }
    slot = std::move(value);
  }

  const auto get = [&given](Flag flag) -> const std::optional<std::string>& {
    return given[static_cast<std::size_t>(flag)];
  };
  const auto lookup_env = [&env](std::string_view name) -> std::optional<std::string> {
    if (!env) return std::nullopt;
    std::optional<std::string> value = env(name);
    // Kubernetes manifests often carry variables set to "": read that as unset.
    if (value.has_value() && value->empty()) return std::nullopt;
    return value;
  };

  ServerOptions& options = result.options;

  // Transport.
  std::array<bool, kTcpFlags.size()> tcp_present{};
  std::vector<std::string> tcp_given;
  for (std::size_t i = 0; i < kTcpFlags.size(); ++i) {
    tcp_present[i] = get(kTcpFlags[i]).has_value();
    if (tcp_present[i]) tcp_given.push_back(Dashed(kTcpFlags[i]));
  }
  if (get(Flag::kPluginPath).has_value() && !tcp_given.empty()) {
    return absl::InvalidArgumentError(
        Cat("--plugin-path (Unix socket) and ", Join(tcp_given, ", "),
            " (TCP with mutual TLS) exclude each other: choose one transport"));
  }
  if (absl::Status status = CheckTcpGroup(tcp_present); !status.ok()) return status;
  if (get(Flag::kPluginPath).has_value()) options.plugin_path = *get(Flag::kPluginPath);
  if (get(Flag::kServerAddress).has_value()) {
    options.server_address = *get(Flag::kServerAddress);
    if (absl::StatusOr<std::string> address = options.GrpcListenAddress(); !address.ok()) {
      return address.status();
    }
    options.server_cert = *get(Flag::kServerCert);
    options.server_key = *get(Flag::kServerKey);
    options.client_cert = *get(Flag::kClientCert);
  }

  // Log level: --log-level, then --debug, then the environment.
  const bool debug =
      get(Flag::kDebug).has_value() && internal::ParseGoBool(*get(Flag::kDebug)) == true;
  if (const std::optional<std::string>& level = get(Flag::kLogLevel); level.has_value()) {
    const std::optional<spdlog::level::level_enum> parsed = ParseLogLevel(*level);
    if (!parsed.has_value()) {
      return BadValue("flag --log-level", *level, "want trace, debug, info, warn or error");
    }
    if (debug && *parsed != spdlog::level::debug) {
      return absl::InvalidArgumentError(
          Cat("--debug and --log-level=", *level, " contradict each other: give one of them"));
    }
    options.log_level = *parsed;
  } else if (debug) {
    options.log_level = spdlog::level::debug;
  } else if (const std::optional<std::string> level = lookup_env(kLogLevelEnv); level.has_value()) {
    const std::optional<spdlog::level::level_enum> parsed = ParseLogLevel(*level);
    if (!parsed.has_value()) {
      return BadValue(Cat("environment variable ", kLogLevelEnv), *level,
                      "want trace, debug, info, warn or error");
    }
    options.log_level = *parsed;
  }

  // Log format: --log-format, then the environment.
  if (const std::optional<std::string>& format = get(Flag::kLogFormat); format.has_value()) {
    const std::optional<LogFormat> parsed = ParseLogFormat(*format);
    if (!parsed.has_value()) return BadValue("flag --log-format", *format, "want text or json");
    options.log_format = *parsed;
  } else if (const std::optional<std::string> format = lookup_env(kLogFormatEnv);
             format.has_value()) {
    const std::optional<LogFormat> parsed = ParseLogFormat(*format);
    if (!parsed.has_value()) {
      return BadValue(Cat("environment variable ", kLogFormatEnv), *format, "want text or json");
    }
    options.log_format = *parsed;
  }

  if (const std::optional<std::string>& grace = get(Flag::kGracePeriod); grace.has_value()) {
    absl::StatusOr<absl::Duration> parsed =
        DurationValue("flag --grace-period", *grace, /*allow_zero=*/true);
    if (!parsed.ok()) return parsed.status();
    options.grace_period = *parsed;
  }
  if (const std::optional<std::string>& interval = get(Flag::kTlsReloadInterval);
      interval.has_value()) {
    absl::StatusOr<absl::Duration> parsed =
        DurationValue("flag --tls-reload-interval", *interval, /*allow_zero=*/false);
    if (!parsed.ok()) return parsed.status();
    options.tls_reload_interval = *parsed;
  }

  // Recording and metrics: each flag, then its environment variable.
  const auto flag_or_env =
      [&](Flag flag,
          std::string_view env_name) -> std::optional<std::pair<std::string, std::string>> {
    if (const std::optional<std::string>& value = get(flag); value.has_value()) {
      return std::make_pair(*value, Cat("flag ", Dashed(flag)));
    }
    if (std::optional<std::string> value = lookup_env(env_name); value.has_value()) {
      return std::make_pair(*std::move(value), Cat("environment variable ", env_name));
    }
    return std::nullopt;
  };
  if (auto dir = flag_or_env(Flag::kRecordDir, kRecordDirEnv)) options.record_dir = dir->first;
  if (auto files = flag_or_env(Flag::kRecordMaxFiles, kRecordMaxFilesEnv)) {
    absl::StatusOr<std::uint64_t> n = CountValue(files->second, files->first, /*size=*/false);
    if (!n.ok()) return n.status();
    options.record_max_files = static_cast<std::size_t>(*n);
  }
  if (auto bytes = flag_or_env(Flag::kRecordMaxBytes, kRecordMaxBytesEnv)) {
    absl::StatusOr<std::uint64_t> n = CountValue(bytes->second, bytes->first, /*size=*/true);
    if (!n.ok()) return n.status();
    options.record_max_bytes = *n;
  }
  if (auto redact = flag_or_env(Flag::kRecordRedact, kRecordRedactEnv)) {
    const std::optional<bool> on = internal::ParseGoBool(redact->first);
    if (!on.has_value()) return BadValue(redact->second, redact->first, "want true or false");
    options.record_redact = *on;
  }
  if (auto address = flag_or_env(Flag::kMetricsAddress, kMetricsAddressEnv)) {
    if (absl::Status s = CheckMetricsAddress(address->second, address->first); !s.ok()) return s;
    options.metrics_address = address->first;
  }

  // --help=false and --version=false were accepted above and mean nothing.
  return result;
}

std::string CommandLineHelp(std::string_view program, std::string_view plugin_name) {
  const ServerOptions defaults;
  const std::string grace = absl::FormatDuration(defaults.grace_period);
  const std::string reload = absl::FormatDuration(defaults.tls_reload_interval);

  struct Line {
    std::string flag;
    std::string description;
  };
  const std::vector<Line> lines = {
      {"      --plugin-path DIR",
       Cat("directory of the Unix socket (default \"", defaults.plugin_path, "\")")},
      {"      --server-address ADDR",
       "listen on TCP, e.g. \":9090\" (all interfaces), \"10.0.0.5:9090\""},
      {"      --server-cert FILE", "PEM certificate the server presents (TCP)"},
      {"      --server-key FILE", "PEM private key of --server-cert (TCP)"},
      {"      --client-cert FILE", "PEM certificate(s) client certificates must chain to (TCP)"},
      {"      --log-level LEVEL",
       Cat("trace|debug|info|warn|error (default info; $", kLogLevelEnv, ")")},
      {"      --log-format FORMAT",
       Cat("text|json (default ", LogFormatName(defaults.log_format), "; $", kLogFormatEnv, ")")},
      {"      --debug", "log at debug level, like --log-level=debug"},
      {"      --grace-period DURATION",
       Cat("time in-flight calls get after SIGTERM/SIGINT (default ", grace, ")")},
      {"      --tls-reload-interval DURATION",
       Cat("how often the server certificate is re-read (default ", reload, ")")},
      {"      --record-dir DIR",
       Cat("record every call to DIR, secrets redacted ($", kRecordDirEnv, ")")},
      {"      --record-max-files N",
       Cat("recorded calls kept (default ", std::to_string(defaults.record_max_files), "; $",
           kRecordMaxFilesEnv, ")")},
      {"      --record-max-bytes SIZE",
       Cat("bytes of recorded calls kept (100Mi; $", kRecordMaxBytesEnv, ")")},
      {"      --record-redact", Cat("redact secrets (default true; $", kRecordRedactEnv, ")")},
      {"      --metrics-address ADDR",
       Cat("serve /metrics (Prometheus) on ADDR ($", kMetricsAddressEnv, ")")},
      {"  -h, --help", "show this help and exit"},
      {"      --version", "show the version and exit"},
  };
  std::size_t width = 0;
  for (const Line& line : lines) width = std::max(width, line.flag.size());

  std::string help =
      Cat("Usage: ", program, " [flags]\n\n", "Serves the CNPG-I plugin ", plugin_name,
          "\nto CloudNativePG over gRPC. "
          "It listens on a Unix socket when it runs next to the\noperator "
          "or the instances, or on TCP with mutual TLS when it runs as its own\n"
          "Deployment behind a Service.\n\nFlags:\n");
  for (const Line& line : lines) {
    help += Cat(line.flag, std::string(width + 2 - line.flag.size(), ' '), line.description, "\n");
  }
  help +=
      Cat("\nRules:\n"
          "  - Without --server-address the plugin listens on the Unix socket DIR/<plugin name>.\n"
          "  - --server-address, --server-cert, --server-key and --client-cert go together: TCP\n"
          "    always uses mutual TLS, there is no plaintext TCP.\n"
          "  - --plugin-path and the TCP flags exclude each other.\n"
          "  - A flag wins over its environment variable; an empty variable counts as unset.\n"
          "  - --debug is --log-level=debug; --debug=false changes nothing.\n"
          "  - Write --flag=value or --flag value; each flag at most once; durations look like\n"
          "    30s, 1m30s or 500ms.\n"
          "\nExamples:\n"
          "  # Unix socket, sharing the /plugins volume with CloudNativePG:\n  ",
          program,
          " --plugin-path=/plugins\n"
          "  # TCP with mutual TLS, certificates from Kubernetes Secrets:\n  ",
          program,
          " --server-address=:9090 --server-cert=/server/tls.crt \\\n"
          "    --server-key=/server/tls.key --client-cert=/client/tls.crt\n");
  return help;
}

}  // namespace cnpgi
