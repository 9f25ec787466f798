// Structured logging for plugins, on top of spdlog.
//
// A log line is a message plus key/value fields. Two formats exist: text for
// people reading `kubectl logs`, and JSON lines shaped like CloudNativePG's
// own, so that one log pipeline handles the operator and its plugins:
//
//   text: 2026-11-25T14:43:16.123Z INFO  cnpgi  call failed  method=/cnpgi.wal.v1.WAL/Archive
//         code=NOT_FOUND duration=1.2ms message="segment not found"        (one line)
//   json: {"level":"info","ts":"2026-11-25T14:43:16.123456Z","msg":"call failed",
//          "logger":"cnpgi","method":"/cnpgi.wal.v1.WAL/Archive","code":"NOT_FOUND",...}
//
//   cnpgi::Logger log(cnpgi::MakeLogger("my-plugin", cnpgi::LogFormat::kJson,
//                                       spdlog::level::info));
//   log.Info("archived", {{"segment", name}, {"bytes", size}, {"took", elapsed}});
//
// Every record is exactly one line whatever the message and values contain:
// control characters are escaped, invalid UTF-8 is escaped (text) or
// replaced by U+FFFD (JSON).
#ifndef CNPGI_LOGGING_H_
#define CNPGI_LOGGING_H_

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "spdlog/common.h"
#include "spdlog/formatter.h"
#include "spdlog/logger.h"

namespace cnpgi {

// The shape of log lines: kText for people, kJson for log pipelines.
enum class LogFormat { kText, kJson };

// One key/value pair attached to a log line.
//
// A LogField borrows its key and string value instead of copying them, which
// keeps logging free of allocations; build fields in the argument list of the
// logging call (where temporaries live long enough), not ahead of it.
//
// Values: strings (std::string, std::string_view, absl::string_view such as
// absl::Status::message(), const char*), integers, floating point, bool,
// absl::Duration (written like "1.5ms") and absl::StatusCode (written like
// "NOT_FOUND"). In JSON, numbers and booleans stay numbers and booleans;
// non-finite numbers become strings.
class LogField {
 public:
  enum class Kind { kString, kInt, kUint, kDouble, kBool, kDuration, kStatusCode };

  LogField(std::string_view key, std::string_view value)
      : key_(key), kind_(Kind::kString), string_(value) {}
  LogField(std::string_view key, const std::string& value)
      : LogField(key, std::string_view(value)) {}
#ifndef ABSL_USES_STD_STRING_VIEW
  // Abseil may be built with its own string_view (Debian's is), which is what
  // absl::Status::message() returns.
  LogField(std::string_view key, absl::string_view value)
      : LogField(key, std::string_view(value.data(), value.size())) {}
#endif
  // A null pointer is logged as an empty string.
  LogField(std::string_view key, const char* value)
      : LogField(key, value == nullptr ? std::string_view() : std::string_view(value)) {}
  LogField(std::string_view key, bool value) : key_(key), kind_(Kind::kBool), bool_(value) {}
  template <std::signed_integral T>
  LogField(std::string_view key, T value)
      : key_(key), kind_(Kind::kInt), int_(static_cast<std::int64_t>(value)) {}
  template <std::unsigned_integral T>
  requires(!std::same_as<T, bool>) LogField(std::string_view key, T value)
      : key_(key), kind_(Kind::kUint), uint_(static_cast<std::uint64_t>(value)) {}
  template <std::floating_point T>
  LogField(std::string_view key, T value)
      : key_(key), kind_(Kind::kDouble), double_(static_cast<double>(value)) {}
  LogField(std::string_view key, absl::Duration value)
      : key_(key), kind_(Kind::kDuration), duration_(value) {}
  LogField(std::string_view key, absl::StatusCode value)
      : key_(key), kind_(Kind::kStatusCode), code_(value) {}
  // A char is ambiguous (a number or a one-letter string?): say which.
  LogField(std::string_view key, char value) = delete;

  std::string_view key() const { return key_; }
  Kind kind() const { return kind_; }
  // Each accessor is only meaningful for its kind.
  std::string_view string_value() const { return string_; }
  std::int64_t int_value() const { return int_; }
  std::uint64_t uint_value() const { return uint_; }
  double double_value() const { return double_; }
  bool bool_value() const { return bool_; }
  absl::Duration duration_value() const { return duration_; }
  absl::StatusCode status_code_value() const { return code_; }

 private:
  std::string_view key_;
  Kind kind_;
  union {
    std::string_view string_;
    std::int64_t int_;
    std::uint64_t uint_;
    double double_;
    bool bool_;
    absl::Duration duration_;
    absl::StatusCode code_;
  };
};

// A handle on an spdlog logger that writes messages with fields. Cheap to
// copy (one shared pointer) and safe to use from any thread when the
// underlying sinks are thread-safe (those from MakeLogger() are).
//
// Calls below the logger's level return after one atomic load, without
// allocating; check ShouldLog() first only when computing a field is costly.
class Logger {
 public:
  // A logger that discards everything.
  Logger();
  // Writes through `logger`; null behaves like Logger().
  explicit Logger(std::shared_ptr<spdlog::logger> logger);

  bool ShouldLog(spdlog::level::level_enum level) const {
    return logger_ != nullptr && (logger_->should_log(level) || logger_->should_backtrace());
  }

  void Log(spdlog::level::level_enum level, std::string_view message,
           std::initializer_list<LogField> fields = {}) const {
    if (ShouldLog(level)) Write(level, message, absl::MakeConstSpan(fields.begin(), fields.size()));
  }
  // For a field list assembled at run time.
  void Log(spdlog::level::level_enum level, std::string_view message,
           absl::Span<const LogField> fields) const {
    if (ShouldLog(level)) Write(level, message, fields);
  }

  void Trace(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    Log(spdlog::level::trace, message, fields);
  }
  void Debug(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    Log(spdlog::level::debug, message, fields);
  }
  void Info(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    Log(spdlog::level::info, message, fields);
  }
  void Warn(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    Log(spdlog::level::warn, message, fields);
  }
  void Error(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    Log(spdlog::level::err, message, fields);
  }

  // The underlying spdlog logger, for sinks, levels and flushing. Plain
  // spdlog calls on it are formatted like messages without fields.
  spdlog::logger& spdlog() const;
  const std::shared_ptr<spdlog::logger>& shared_spdlog() const { return logger_; }

 private:
  void Write(spdlog::level::level_enum level, std::string_view message,
             absl::Span<const LogField> fields) const;

  std::shared_ptr<spdlog::logger> logger_;
};

// A logger named `name` (the "logger" of each line) writing to `sink`, or to
// standard error when `sink` is null, in `format` from `level` up. The sink's
// formatter is replaced. The logger is not registered with spdlog's global
// registry, so several loggers may share a name.
std::shared_ptr<spdlog::logger> MakeLogger(std::string name, LogFormat format,
                                           spdlog::level::level_enum level,
                                           spdlog::sink_ptr sink = nullptr);

// The formatter behind MakeLogger(), to put on sinks of your own loggers
// (e.g. `sink->set_formatter(cnpgi::MakeLogFormatter(cnpgi::LogFormat::kJson))`).
std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format);

// The lower-case name used for `format` in flags and documentation.
std::string_view LogFormatName(LogFormat format);

}  // namespace cnpgi

#endif  // CNPGI_LOGGING_H_
