#include "cnpgi/parameters.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>

#include "base/go_syntax.h"
#include "cnpgi/errors.h"
#include "helpers/internal.h"

namespace cnpgi {
namespace {

using internal::Cat;

absl::Status Invalid(std::string_view what, std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(
      Cat("invalid ", what, " ", QuoteValue(text), why.empty() ? "" : ": ", why));
}

bool IsDecimalDigit(char c) { return c >= '0' && c <= '9'; }

using u128 = unsigned __int128;
constexpr u128 kInt64Limit = static_cast<u128>(std::numeric_limits<std::int64_t>::max());

// ceil(m * 2^shift * 10^exponent) when it fits in int64, else nullopt.
// m < 10^18 < 2^60 and shift <= 60, so m * 2^shift fits in 128 bits.
std::optional<std::uint64_t> ScaleUp(std::uint64_t m, int shift, int exponent) {
  if (m == 0) return 0;
  u128 value = static_cast<u128>(m) << shift;
  if (exponent >= 0) {
    for (int i = 0; i < exponent; ++i) {
      value *= 10;
      if (value > kInt64Limit) return std::nullopt;
    }
    if (value > kInt64Limit) return std::nullopt;
    return static_cast<std::uint64_t>(value);
  }
  // 10^38 is the largest power of ten in 128 bits; beyond it the result is
  // a positive fraction below 1, which rounds up to 1.
  if (-exponent > 38) return 1;
  u128 divisor = 1;
  for (int i = 0; i < -exponent; ++i) divisor *= 10;
  const u128 result = value / divisor + (value % divisor != 0 ? 1 : 0);
  if (result > kInt64Limit) return std::nullopt;
  return static_cast<std::uint64_t>(result);
}

}  // namespace

absl::StatusOr<Quantity> Quantity::Parse(std::string_view text) {
  constexpr std::string_view kWhat = "quantity";
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  std::string digits;
  std::size_t fraction_digits = 0;
  bool seen_point = false;
  for (; i < text.size(); ++i) {
    if (IsDecimalDigit(text[i])) {
      digits += text[i];
      if (seen_point) ++fraction_digits;
    } else if (text[i] == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (digits.empty()) return Invalid(kWhat, text, "expected a number such as 10Gi or 500m");
  const std::string_view suffix = text.substr(i);
  int shift = 0;
  int exponent = 0;
  if (suffix.size() == 2 && suffix[1] == 'i') {
    static constexpr std::string_view kBinary = "KMGTPE";
    const std::size_t power = kBinary.find(suffix[0]);
    if (power == std::string_view::npos) {
      return Invalid(kWhat, text, Cat("unknown suffix ", QuoteValue(suffix)));
    }
    shift = 10 * static_cast<int>(power + 1);
  } else if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view number = suffix.substr(1);
    if (!number.empty() && number[0] == '+') number.remove_prefix(1);
    int value = 0;
    const auto result = std::from_chars(number.data(), number.data() + number.size(), value);
    if (number.empty() || result.ec != std::errc() || result.ptr != number.data() + number.size() ||
        value > 1000 || value < -1000) {
      return Invalid(kWhat, text, Cat("bad exponent ", QuoteValue(suffix)));
    }
    exponent = value;
  } else if (suffix.size() <= 1) {
    static constexpr std::string_view kDecimal = "num kMGTPE";
    static constexpr int kExponents[] = {-9, -6, -3, 0, 3, 6, 9, 12, 15, 18};
    const std::size_t index = suffix.empty() ? 3 : kDecimal.find(suffix[0]);
    if (index == std::string_view::npos || (!suffix.empty() && suffix[0] == ' ')) {
      return Invalid(kWhat, text, Cat("unknown suffix ", QuoteValue(suffix)));
    }
    exponent = kExponents[index];
  } else {
    return Invalid(kWhat, text, Cat("unknown suffix ", QuoteValue(suffix)));
  }
  // Significant digits only: drop leading zeros, fold trailing zeros into
  // the exponent.
  exponent -= static_cast<int>(fraction_digits);
  const std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return Quantity(0, 0);
  std::size_t last = digits.size();
  while (digits[last - 1] == '0') {
    --last;
    ++exponent;
  }
  const std::string_view significant = std::string_view(digits).substr(first, last - first);
  if (significant.size() > 18) {
    return Invalid(kWhat, text, "more than 18 significant digits");
  }
  std::uint64_t mantissa = 0;
  std::from_chars(significant.data(), significant.data() + significant.size(), mantissa);
  const std::optional<std::uint64_t> value = ScaleUp(mantissa, shift, exponent);
  if (!value.has_value()) return Invalid(kWhat, text, "out of the 64-bit range");
  const std::optional<std::uint64_t> milli = ScaleUp(mantissa, shift, exponent + 3);
  auto sign = [negative](std::uint64_t v) {
    return negative ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
  };
  return Quantity(sign(*value),
                  milli.has_value() ? std::optional<std::int64_t>(sign(*milli)) : std::nullopt);
}

absl::StatusOr<bool> ParseBool(std::string_view text) {
  if (const std::optional<bool> value = internal::ParseGoBool(text)) return *value;
  return Invalid("boolean", text, "use true or false");
}

absl::StatusOr<std::int64_t> ParseInt(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
  if (digits.empty() || digits[0] == '+') return Invalid("integer", text, "");
  std::int64_t value = 0;
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (result.ec == std::errc::result_out_of_range) {
    return Invalid("integer", text, "out of the 64-bit range");
  }
  if (result.ec != std::errc() || result.ptr != digits.data() + digits.size()) {
    return Invalid("integer", text, "");
  }
  return value;
}

absl::StatusOr<absl::Duration> ParseDuration(std::string_view text) {
  absl::StatusOr<absl::Duration> value = internal::ParseDurationText(text);
  if (!value.ok()) {
    const absl::string_view why = value.status().message();
    return Invalid("duration", text, std::string_view(why.data(), why.size()));
  }
  return value;
}

std::vector<std::string> Parameters::PathOf(std::string_view name) const {
  std::vector<std::string> path = path_;
  path.emplace_back(name);
  return path;
}

ValidationError Parameters::Error(std::string_view name, std::string message) const {
  return {PathOf(name), std::string(Get(name).value_or("")), std::move(message)};
}

std::optional<std::string_view> Parameters::Raw(std::string_view name, bool required,
                                                ValidationErrors& errors) const {
  std::optional<std::string_view> value = Get(name);
  if (!value.has_value() && required) {
    errors.Add(Error(name, "required parameter is missing"));
  }
  return value;
}

std::optional<std::string_view> Parameters::GetString(std::string_view name,
                                                      ValidationErrors& errors,
                                                      const StringRules& rules) const {
  std::optional<std::string_view> value = Raw(name, rules.required, errors);
  if (!value.has_value()) return std::nullopt;
  if (rules.non_empty && value->empty()) {
    errors.Add(Error(name, "must not be empty"));
    return std::nullopt;
  }
  if (rules.one_of.size() > 0 &&
      std::find(rules.one_of.begin(), rules.one_of.end(), *value) == rules.one_of.end()) {
    std::string allowed;
    for (std::string_view option : rules.one_of) {
      allowed += Cat(allowed.empty() ? "" : ", ", "\"", option, "\"");
    }
    errors.Add(
        Error(name, Cat("invalid value ", QuoteValue(*value), ": must be one of ", allowed)));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> Parameters::GetBool(std::string_view name, ValidationErrors& errors,
                                        const BoolRules& rules) const {
  std::optional<std::string_view> raw = Raw(name, rules.required, errors);
  if (!raw.has_value()) return std::nullopt;
  absl::StatusOr<bool> value = ParseBool(*raw);
  if (!value.ok()) {
    errors.Add(Error(name, std::string(value.status().message())));
    return std::nullopt;
  }
  return *value;
}

std::optional<std::int64_t> Parameters::GetInt(std::string_view name, ValidationErrors& errors,
                                               const IntRules& rules) const {
  std::optional<std::string_view> raw = Raw(name, rules.required, errors);
  if (!raw.has_value()) return std::nullopt;
  absl::StatusOr<std::int64_t> value = ParseInt(*raw);
  if (!value.ok()) {
    errors.Add(Error(name, std::string(value.status().message())));
    return std::nullopt;
  }
  if (rules.min.has_value() && *value < *rules.min) {
    errors.Add(Error(name, Cat("must be at least ", *rules.min, ", got ", *value)));
    return std::nullopt;
  }
  if (rules.max.has_value() && *value > *rules.max) {
    errors.Add(Error(name, Cat("must be at most ", *rules.max, ", got ", *value)));
    return std::nullopt;
  }
  return *value;
}

std::optional<absl::Duration> Parameters::GetDuration(std::string_view name,
                                                      ValidationErrors& errors,
                                                      const DurationRules& rules) const {
  std::optional<std::string_view> raw = Raw(name, rules.required, errors);
  if (!raw.has_value()) return std::nullopt;
  absl::StatusOr<absl::Duration> value = ParseDuration(*raw);
  if (!value.ok()) {
    errors.Add(Error(name, std::string(value.status().message())));
    return std::nullopt;
  }
  if (rules.min.has_value() && *value < *rules.min) {
    errors.Add(Error(name, Cat("must be at least ", absl::FormatDuration(*rules.min), ", got ",
                               QuoteValue(*raw))));
    return std::nullopt;
  }
  if (rules.max.has_value() && *value > *rules.max) {
    errors.Add(Error(name, Cat("must be at most ", absl::FormatDuration(*rules.max), ", got ",
                               QuoteValue(*raw))));
    return std::nullopt;
  }
  return *value;
}

std::optional<Quantity> Parameters::GetQuantity(std::string_view name, ValidationErrors& errors,
                                                const QuantityRules& rules) const {
  std::optional<std::string_view> raw = Raw(name, rules.required, errors);
  if (!raw.has_value()) return std::nullopt;
  absl::StatusOr<Quantity> value = Quantity::Parse(*raw);
  if (!value.ok()) {
    errors.Add(Error(name, std::string(value.status().message())));
    return std::nullopt;
  }
  if (rules.min.has_value() && value->value() < *rules.min) {
    errors.Add(Error(name, Cat("must be at least ", *rules.min, ", got ", QuoteValue(*raw))));
    return std::nullopt;
  }
  if (rules.max.has_value() && value->value() > *rules.max) {
    errors.Add(Error(name, Cat("must be at most ", *rules.max, ", got ", QuoteValue(*raw))));
    return std::nullopt;
  }
  return *value;
}

std::optional<nlohmann::json> Parameters::GetJson(std::string_view name, ValidationErrors& errors,
                                                  const JsonRules& rules) const {
  std::optional<std::string_view> raw = Raw(name, rules.required, errors);
  if (!raw.has_value()) return std::nullopt;
  absl::StatusOr<nlohmann::json> value = ParseJson(*raw, rules.limits);
  if (!value.ok()) {
    errors.Add(Error(name, std::string(value.status().message())));
    return std::nullopt;
  }
  if (rules.object && !value->is_object()) {
    errors.Add(Error(name, Cat("must be a JSON object, got ", JsonTypeName(*value))));
    return std::nullopt;
  }
  return *std::move(value);
}

void Parameters::RejectUnknown(std::initializer_list<std::string_view> known,
                               ValidationErrors& errors) const {
  for (const auto& [name, value] : map()) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      errors.Add(PathOf(name), std::string(value), "unknown parameter");
    }
  }
}

}  // namespace cnpgi
