#include "base/go_syntax.h"

#include <cstdint>
#include <limits>
#include <string>

#include "base/json_text.h"
#include "base/strings.h"

namespace cnpgi::internal {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

absl::Status Invalid(std::string_view why) {
  return absl::InvalidArgumentError(absl::string_view(why.data(), why.size()));
}

// `text` in quotes, escaped, at most 64 bytes of it.
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  AppendJsonEscaped(out, text.substr(0, 64), InvalidUtf8::kReplace);
  if (text.size() > 64) out += "...";
  out += '"';
  return out;
}

}  // namespace

std::optional<bool> ParseGoBool(std::string_view text) {
  for (std::string_view yes : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (text == yes) return true;
  }
  for (std::string_view no : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (text == no) return false;
  }
  return std::nullopt;
}

absl::StatusOr<absl::Duration> ParseDurationText(std::string_view text) {
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    negative = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0") return absl::ZeroDuration();
  if (rest.empty()) return Invalid("expected a duration such as 5min, 30s or 1h30m");
  // Longer unit names first so that "ms" and "min" win over "m".
  struct Unit {
    std::string_view name;
    absl::Duration size;
  };
  static const Unit kUnits[] = {
      {"ns", absl::Nanoseconds(1)},
      {"us", absl::Microseconds(1)},
      {"\xC2\xB5s", absl::Microseconds(1)},  // micro sign
      {"\xCE\xBCs", absl::Microseconds(1)},  // Greek mu
      {"ms", absl::Milliseconds(1)},
      {"min", absl::Minutes(1)},
      {"s", absl::Seconds(1)},
      {"m", absl::Minutes(1)},
      {"h", absl::Hours(1)},
      {"d", absl::Hours(24)},
  };
  absl::Duration total = absl::ZeroDuration();
  while (!rest.empty()) {
    std::size_t i = 0;
    std::uint64_t whole = 0;
    bool overflow = false;
    bool any_digit = false;
    for (; i < rest.size() && IsDigit(rest[i]); ++i) {
      any_digit = true;
      if (whole > (std::numeric_limits<std::int64_t>::max() - 9) / 10) overflow = true;
      if (!overflow) whole = whole * 10 + static_cast<std::uint64_t>(rest[i] - '0');
    }
    double fraction = 0;
    if (i < rest.size() && rest[i] == '.') {
      ++i;
      double scale = 0.1;
      for (; i < rest.size() && IsDigit(rest[i]); ++i) {
        any_digit = true;
        fraction += scale * (rest[i] - '0');
        scale /= 10;
      }
    }
    if (!any_digit) return Invalid("expected a number before each unit");
    if (overflow) return Invalid("out of range");
    rest.remove_prefix(i);
    const Unit* unit = nullptr;
    for (const Unit& candidate : kUnits) {
      if (rest.substr(0, candidate.name.size()) == candidate.name) {
        unit = &candidate;
        break;
      }
    }
    if (unit == nullptr) {
      std::size_t end = 0;
      while (end < rest.size() && !IsDigit(rest[end]) && rest[end] != '.') ++end;
      return Invalid(rest.empty() ? std::string("missing unit (use ns, us, ms, s, m, min, h or d)")
                                  : Cat("unknown unit ", Quoted(rest.substr(0, end)),
                                        " (use ns, us, ms, s, m, min, h or d)"));
    }
    rest.remove_prefix(unit->name.size());
    total += unit->size * static_cast<std::int64_t>(whole) + unit->size * fraction;
    if (total == absl::InfiniteDuration() || total > absl::Hours(24 * 365 * 290)) {
      return Invalid("out of range");
    }
  }
  return negative ? -total : total;
}

}  // namespace cnpgi::internal
