#include "cnpgi/logging.h"

#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <utility>

#include "base/json_text.h"
#include "fmt/format.h"
#include "spdlog/details/log_msg.h"
#include "spdlog/sinks/stdout_sinks.h"

// How fields travel from Logger::Log() to the formatter.
//
// spdlog hands a sink nothing but a payload string, so the fields are encoded
// into the payload and our formatter decodes them. The alternatives were
// worse: formatting the final text in Log() would tie a Logger to one format
// and make every sink on the logger print the same thing; a thread_local side
// channel breaks as soon as an author switches to spdlog's async loggers,
// which format on another thread; a second logging system defeats the point
// of spdlog's sinks. The payload is copied by async loggers like any message,
// so the encoding works there too.
//
// Encoding: kMagic, the message, then each field, all length-prefixed with
// raw integers in native byte order (the payload never leaves the process).
// kMagic starts with 0xFF, a byte that never occurs in UTF-8, so a plain
// spdlog message (an author logging through Logger::spdlog()) is not taken
// for an encoded one; anything that does not decode exactly, to the last
// byte, is shown as a plain message.

namespace cnpgi {
namespace {

constexpr std::string_view kMagic(
    "\xff\x1f"
    "cnpgi\x01",
    8);

// Enough for a typical call line with a handful of fields without touching
// the heap; longer lines spill over transparently.
using EncodeBuffer = fmt::basic_memory_buffer<char, 512>;

enum class WireKind : unsigned char { kString = 1, kInt, kUint, kDouble, kBool };

// Strings longer than 4 GiB cannot be logged meaningfully; they are cut.
std::uint32_t WireLength(std::string_view s) {
  return s.size() > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(s.size());
}

// Writes into a buffer already sized for the worst case (see
// MaxEncodedSize), so that encoding is plain copies without capacity checks.
class Writer {
 public:
  explicit Writer(char* at) : at_(at) {}

  template <typename T>
  void Raw(T value) {
    std::memcpy(at_, &value, sizeof(T));
    at_ += sizeof(T);
  }

  void String(std::string_view s) {
    const std::uint32_t length = WireLength(s);
    Raw(length);
    // An empty view may have a null data(), which memcpy must not see.
    if (length == 0) return;
    std::memcpy(at_, s.data(), length);
    at_ += length;
  }

  char* at() const { return at_; }

 private:
  char* at_;
};

// Longest texts a duration or a status code can be encoded as.
constexpr std::size_t kMaxDurationText = 64;
constexpr std::size_t kMaxStatusCodeText = 24;

std::size_t MaxEncodedSize(const LogField& field) {
  std::size_t size = 1 + 4 + WireLength(field.key());
  switch (field.kind()) {
    case LogField::Kind::kString:
      return size + 4 + WireLength(field.string_value());
    case LogField::Kind::kInt:
    case LogField::Kind::kUint:
    case LogField::Kind::kDouble:
      return size + 8;
    case LogField::Kind::kBool:
      return size + 1;
    case LogField::Kind::kDuration:
      return size + 4 + kMaxDurationText;
    case LogField::Kind::kStatusCode:
      return size + 4 + kMaxStatusCodeText;
  }
  return size;
}

// Abseil's StatusCodeToString gives the same names as a new std::string; the
// log writer needs them without an allocation and with a known longest text.
constexpr std::string_view StatusCodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return "OK";
    case absl::StatusCode::kCancelled:
      return "CANCELLED";
    case absl::StatusCode::kUnknown:
      return "UNKNOWN";
    case absl::StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case absl::StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case absl::StatusCode::kNotFound:
      return "NOT_FOUND";
    case absl::StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case absl::StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case absl::StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case absl::StatusCode::kAborted:
      return "ABORTED";
    case absl::StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case absl::StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case absl::StatusCode::kInternal:
      return "INTERNAL";
    case absl::StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case absl::StatusCode::kDataLoss:
      return "DATA_LOSS";
    case absl::StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    default:
      return {};
  }
}

void EncodeField(Writer& out, const LogField& field) {
  switch (field.kind()) {
    case LogField::Kind::kString:
      out.Raw(WireKind::kString);
      out.String(field.key());
      out.String(field.string_value());
      return;
    case LogField::Kind::kInt:
      out.Raw(WireKind::kInt);
      out.String(field.key());
      out.Raw(field.int_value());
      return;
    case LogField::Kind::kUint:
      out.Raw(WireKind::kUint);
      out.String(field.key());
      out.Raw(field.uint_value());
      return;
    case LogField::Kind::kDouble:
      out.Raw(WireKind::kDouble);
      out.String(field.key());
      out.Raw(field.double_value());
      return;
    case LogField::Kind::kBool:
      out.Raw(WireKind::kBool);
      out.String(field.key());
      out.Raw(static_cast<unsigned char>(field.bool_value() ? 1 : 0));
      return;
    case LogField::Kind::kDuration: {
      // Durations are read by people far more often than by programs, so
      // they travel as Go-like text ("1.5ms") in both formats. Short texts
      // stay within std::string's inline storage: no allocation.
      out.Raw(WireKind::kString);
      out.String(field.key());
      const std::string text = absl::FormatDuration(field.duration_value());
      out.String(std::string_view(text).substr(0, kMaxDurationText));
      return;
    }
    case LogField::Kind::kStatusCode: {
      out.Raw(WireKind::kString);
      out.String(field.key());
      const std::string_view name = StatusCodeName(field.status_code_value());
      if (!name.empty()) {
        out.String(name);
      } else {
        // A code outside the canonical set, e.g. cast from a raw integer.
        const fmt::format_int text(static_cast<int>(field.status_code_value()));
        out.String(std::string_view(text.data(), text.size()));
      }
      return;
    }
  }
}

// A decoded field; strings point into the payload.
struct WireField {
  WireKind kind = WireKind::kString;
  std::string_view key;
  std::string_view string;
  std::int64_t int_value = 0;
  std::uint64_t uint_value = 0;
  double double_value = 0;
  bool bool_value = false;
};

// Reads an encoded payload; every read checks the remaining length, so a
// malformed payload fails cleanly instead of reading out of bounds.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view payload) : rest_(payload) {}

  bool ReadHeader(std::string_view& message) {
    if (rest_.substr(0, kMagic.size()) != kMagic) return false;
    rest_.remove_prefix(kMagic.size());
    return ReadString(message);
  }

  bool AtEnd() const { return rest_.empty(); }

  bool Next(WireField& field) {
    unsigned char kind = 0;
    if (!ReadRaw(kind) || !ReadString(field.key)) return false;
    field.kind = static_cast<WireKind>(kind);
    switch (field.kind) {
      case WireKind::kString:
        return ReadString(field.string);
      case WireKind::kInt:
        return ReadRaw(field.int_value);
      case WireKind::kUint:
        return ReadRaw(field.uint_value);
      case WireKind::kDouble:
        return ReadRaw(field.double_value);
      case WireKind::kBool: {
        unsigned char b = 0;
        if (!ReadRaw(b) || b > 1) return false;
        field.bool_value = b == 1;
        return true;
      }
    }
    return false;
  }

 private:
  template <typename T>
  bool ReadRaw(T& value) {
    if (rest_.size() < sizeof(T)) return false;
    std::memcpy(&value, rest_.data(), sizeof(T));
    rest_.remove_prefix(sizeof(T));
    return true;
  }

  bool ReadString(std::string_view& s) {
    std::uint32_t size = 0;
    if (!ReadRaw(size) || rest_.size() < size) return false;
    s = rest_.substr(0, size);
    rest_.remove_prefix(size);
    return true;
  }

  std::string_view rest_;
};

// True when `payload` is an encoded record that decodes completely.
bool IsEncoded(std::string_view payload) {
  PayloadReader reader(payload);
  std::string_view message;
  if (!reader.ReadHeader(message)) return false;
  WireField field;
  while (!reader.AtEnd()) {
    if (!reader.Next(field)) return false;
  }
  return true;
}

// Length of the valid UTF-8 sequence at `s[i]`, or 0.
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  return internal::Utf8SequenceLength(s.data() + i, s.data() + s.size());
}

constexpr char kHexDigits[] = "0123456789abcdef";

// Escapes for a JSON string body: quotes, backslashes and control characters
// escaped, invalid UTF-8 replaced by U+FFFD, so that any bytes make valid JSON.
void AppendJsonEscaped(spdlog::memory_buf_t& out, std::string_view s) {
  internal::AppendJsonEscaped(out, s, internal::InvalidUtf8::kReplace);
}

void AppendJsonString(spdlog::memory_buf_t& out, std::string_view s) {
  out.push_back('"');
  AppendJsonEscaped(out, s);
  out.push_back('"');
}

// Text values and messages: valid UTF-8 is kept for people to read, control
// characters and invalid bytes become visible escapes so a record stays on
// one line. `quoted` also escapes quotes and backslashes (inside "...").
void AppendTextEscaped(spdlog::memory_buf_t& out, std::string_view s, bool quoted) {
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && !(quoted && (c == '"' || c == '\\'))) {
      // Copy the longest run needing no escape at once; it is the common case.
      std::size_t j = i + 1;
      while (j < s.size()) {
        const unsigned char d = static_cast<unsigned char>(s[j]);
        if (d < 0x20 || d >= 0x7F || (quoted && (d == '"' || d == '\\'))) break;
        ++j;
      }
      out.append(s.data() + i, s.data() + j);
      i = j;
      continue;
    }
    if (c >= 0x80) {
      const std::size_t length = Utf8SequenceLength(s, i);
      if (length == 0) {
        const char escaped[] = {'\\', 'x', kHexDigits[c >> 4], kHexDigits[c & 0xF]};
        out.append(escaped, escaped + sizeof(escaped));
        ++i;
      } else {
        out.append(s.data() + i, s.data() + i + length);
        i += length;
      }
      continue;
    }
    if (c == '\n') {
      out.append(std::string_view("\\n"));
    } else if (c == '\r') {
      out.append(std::string_view("\\r"));
    } else if (c == '\t') {
      out.append(std::string_view("\\t"));
    } else if (c < 0x20 || c == 0x7F) {
      const char escaped[] = {'\\', 'x', kHexDigits[c >> 4], kHexDigits[c & 0xF]};
      out.append(escaped, escaped + sizeof(escaped));
    } else if (quoted && (c == '"' || c == '\\')) {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(c));
    }
    ++i;
  }
}

// A text value is quoted when it would otherwise be ambiguous to read back:
// empty, containing spaces, quotes, '=' or anything that gets escaped.
bool NeedsQuotes(std::string_view s) {
  if (s.empty()) return true;
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t length = Utf8SequenceLength(s, i);
      if (length == 0) return true;
      i += length;
      continue;
    }
    if (c <= 0x20 || c == 0x7F || c == '"' || c == '=' || c == '\\') return true;
    ++i;
  }
  return false;
}

void AppendTextValue(spdlog::memory_buf_t& out, std::string_view s) {
  if (!NeedsQuotes(s)) {
    out.append(s);
    return;
  }
  out.push_back('"');
  AppendTextEscaped(out, s, /*quoted=*/true);
  out.push_back('"');
}

void AppendDouble(spdlog::memory_buf_t& out, double value) {
  // fmt's shortest round-trip form ("0.1", "1e+100") is also a JSON number.
  fmt::format_to(std::back_inserter(out), "{}", value);
}

std::string_view NonFiniteName(double value) {
  if (std::isnan(value)) return "NaN";
  return value > 0 ? "+Inf" : "-Inf";
}

// A field's value in either format. Strings go through `append_string`, the
// format's quoting; so do NaN and the infinities, which JSON has no number
// for (a string keeps the line valid) and which need no quotes as text.
template <class AppendString>
void AppendFieldValue(spdlog::memory_buf_t& out, const WireField& field,
                      AppendString append_string) {
  switch (field.kind) {
    case WireKind::kString:
      append_string(field.string);
      break;
    case WireKind::kInt:
      out.append(fmt::format_int(field.int_value));
      break;
    case WireKind::kUint:
      out.append(fmt::format_int(field.uint_value));
      break;
    case WireKind::kDouble:
      if (std::isfinite(field.double_value)) {
        AppendDouble(out, field.double_value);
      } else {
        append_string(NonFiniteName(field.double_value));
      }
      break;
    case WireKind::kBool:
      out.append(std::string_view(field.bool_value ? "true" : "false"));
      break;
  }
}

std::string_view JsonLevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

// Padded to one width so that messages line up in a terminal.
std::string_view TextLevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "TRACE";
    case spdlog::level::debug:
      return "DEBUG";
    case spdlog::level::info:
      return "INFO ";
    case spdlog::level::warn:
      return "WARN ";
    case spdlog::level::err:
      return "ERROR";
    case spdlog::level::critical:
      return "CRIT ";
    default:
      return "OFF  ";
  }
}

void AppendDigits(spdlog::memory_buf_t& out, std::int64_t value, int width) {
  char digits[24];
  int n = 0;
  std::uint64_t v = value < 0 ? 0 : static_cast<std::uint64_t>(value);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < 20);
  for (int pad = n; pad < width; ++pad) out.push_back('0');
  while (n > 0) out.push_back(digits[--n]);
}

class StructuredFormatter final : public spdlog::formatter {
 public:
  explicit StructuredFormatter(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const std::string_view logger_name(msg.logger_name.data(), msg.logger_name.size());
    std::string_view message = payload;
    PayloadReader reader(payload);
    const bool encoded = IsEncoded(payload) && reader.ReadHeader(message);
    if (format_ == LogFormat::kJson) {
      FormatJson(msg, logger_name, message, encoded ? &reader : nullptr, dest);
    } else {
      FormatText(msg, logger_name, message, encoded ? &reader : nullptr, dest);
    }
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<StructuredFormatter>(format_);
  }

 private:
  // Writes "YYYY-MM-DDTHH:MM:SS" and the fraction with `fraction_digits`
  // digits (3 or 6), followed by 'Z'. The date part is cached per second: a
  // formatter is only used under its sink's lock, so the cache needs none.
  void AppendTimestamp(spdlog::log_clock::time_point time, int fraction_digits,
                       spdlog::memory_buf_t& out) {
    using std::chrono::duration_cast;
    using std::chrono::floor;
    const auto seconds = floor<std::chrono::seconds>(time);
    if (seconds != cached_second_ || cached_length_ == 0) {
      const auto days = floor<std::chrono::days>(seconds);
      const std::chrono::year_month_day date(days);
      const std::chrono::hh_mm_ss clock(seconds - days);
      spdlog::memory_buf_t text;
      AppendDigits(text, static_cast<int>(date.year()), 4);
      text.push_back('-');
      AppendDigits(text, static_cast<unsigned>(date.month()), 2);
      text.push_back('-');
      AppendDigits(text, static_cast<unsigned>(date.day()), 2);
      text.push_back('T');
      AppendDigits(text, clock.hours().count(), 2);
      text.push_back(':');
      AppendDigits(text, clock.minutes().count(), 2);
      text.push_back(':');
      AppendDigits(text, clock.seconds().count(), 2);
      cached_length_ = text.size() < sizeof(cached_) ? text.size() : sizeof(cached_);
      std::memcpy(cached_, text.data(), cached_length_);
      cached_second_ = seconds;
    }
    out.append(cached_, cached_ + cached_length_);
    out.push_back('.');
    const auto nanos = duration_cast<std::chrono::nanoseconds>(time - seconds).count();
    const std::int64_t fraction = fraction_digits == 3 ? nanos / 1000000 : nanos / 1000;
    AppendDigits(out, fraction, fraction_digits);
    out.push_back('Z');
  }

  void FormatText(const spdlog::details::log_msg& msg, std::string_view logger_name,
                  std::string_view message, PayloadReader* fields, spdlog::memory_buf_t& out) {
    AppendTimestamp(msg.time, 3, out);
    out.push_back(' ');
    out.append(TextLevelName(msg.level));
    out.push_back(' ');
    if (!logger_name.empty()) {
      AppendTextEscaped(out, logger_name, /*quoted=*/false);
      out.append(std::string_view("  "));
    }
    AppendTextEscaped(out, message, /*quoted=*/false);
    if (fields != nullptr) {
      WireField field;
      bool first = true;
      while (!fields->AtEnd() && fields->Next(field)) {
        out.append(std::string_view(first ? "  " : " "));
        first = false;
        AppendTextValue(out, field.key);
        out.push_back('=');
        AppendFieldValue(out, field, [&out](std::string_view text) { AppendTextValue(out, text); });
      }
    }
    out.push_back('\n');
  }

  void FormatJson(const spdlog::details::log_msg& msg, std::string_view logger_name,
                  std::string_view message, PayloadReader* fields, spdlog::memory_buf_t& out) {
    out.append(std::string_view("{\"level\":\""));
    out.append(JsonLevelName(msg.level));
    out.append(std::string_view("\",\"ts\":\""));
    AppendTimestamp(msg.time, 6, out);
    out.append(std::string_view("\",\"msg\":"));
    AppendJsonString(out, message);
    out.append(std::string_view(",\"logger\":"));
    AppendJsonString(out, logger_name);
    if (fields != nullptr) {
      WireField field;
      while (!fields->AtEnd() && fields->Next(field)) {
        out.push_back(',');
        out.push_back('"');
        // A field must not shadow the record's own keys, which log
        // pipelines rely on; it moves aside under a prefix instead.
        if (field.key == "level" || field.key == "ts" || field.key == "msg" ||
            field.key == "logger") {
          out.append(std::string_view("field."));
        }
        AppendJsonEscaped(out, field.key);
        out.append(std::string_view("\":"));
        AppendFieldValue(out, field,
                         [&out](std::string_view text) { AppendJsonString(out, text); });
      }
    }
    out.append(std::string_view("}\n"));
  }

  LogFormat format_;
  std::chrono::sys_seconds cached_second_{};
  char cached_[32] = {};
  std::size_t cached_length_ = 0;
};

// Shared by every default-constructed Logger, so that spdlog() always has
// something to return; it has no sinks, so it writes nothing.
const std::shared_ptr<spdlog::logger>& DiscardingLogger() {
  static const auto* const logger = new std::shared_ptr<spdlog::logger>(
      std::make_shared<spdlog::logger>("discard", spdlog::sinks_init_list{}));
  return *logger;
}

}  // namespace

Logger::Logger() = default;

Logger::Logger(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}

spdlog::logger& Logger::spdlog() const {
  return logger_ != nullptr ? *logger_ : *DiscardingLogger();
}

void Logger::Write(spdlog::level::level_enum level, std::string_view message,
                   absl::Span<const LogField> fields) const {
  std::size_t size = kMagic.size() + 4 + WireLength(message);
  for (const LogField& field : fields) size += MaxEncodedSize(field);
  EncodeBuffer buffer;
  buffer.resize(size);
  std::memcpy(buffer.data(), kMagic.data(), kMagic.size());
  Writer writer(buffer.data() + kMagic.size());
  writer.String(message);
  for (const LogField& field : fields) EncodeField(writer, field);
  buffer.resize(static_cast<std::size_t>(writer.at() - buffer.data()));
  logger_->log(level, spdlog::string_view_t(buffer.data(), buffer.size()));
}

std::shared_ptr<spdlog::logger> MakeLogger(std::string name, LogFormat format,
                                           spdlog::level::level_enum level, spdlog::sink_ptr sink) {
  if (sink == nullptr) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(std::move(name), std::move(sink));
  logger->set_formatter(MakeLogFormatter(format));
  logger->set_level(level);
  return logger;
}

std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format) {
  return std::make_unique<StructuredFormatter>(format);
}

std::string_view LogFormatName(LogFormat format) {
  return format == LogFormat::kJson ? "json" : "text";
}

}  // namespace cnpgi
