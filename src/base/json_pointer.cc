#include "base/json_pointer.h"

#include <charconv>
#include <limits>
#include <system_error>

#include "base/strings.h"

namespace cnpgi::internal {

bool PointerTokens::Next(std::string_view& token) {
  if (!ok_ || rest_.empty()) return false;
  if (rest_.front() != '/') {
    ok_ = false;
    return false;
  }
  rest_.remove_prefix(1);
  const std::size_t slash = rest_.find('/');
  std::string_view raw = rest_.substr(0, slash);
  rest_ = slash == std::string_view::npos ? std::string_view() : rest_.substr(slash);
  if (raw.find('~') == std::string_view::npos) {
    token = raw;
    return true;
  }
  buffer_.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '~') {
      buffer_ += raw[i];
      continue;
    }
    if (i + 1 >= raw.size() || (raw[i + 1] != '0' && raw[i + 1] != '1')) {
      if (tildes_ == PointerTildes::kKept) {
        buffer_ += '~';
        continue;
      }
      ok_ = false;
      return false;
    }
    buffer_ += raw[i + 1] == '0' ? '~' : '/';
    ++i;
  }
  token = buffer_;
  return true;
}

bool ParseArrayIndex(std::string_view token, std::size_t& index) {
  if (token.empty() || (token.size() > 1 && token[0] == '0')) return false;
  const auto result = std::from_chars(token.data(), token.data() + token.size(), index);
  return result.ec == std::errc() && result.ptr == token.data() + token.size();
}

absl::StatusOr<std::int64_t> ParseGoArrayIndex(std::string_view token) {
  const auto not_an_index = [&] {
    return absl::InvalidArgumentError(Cat("\"", token, "\" is not an array index"));
  };
  const bool negative = !token.empty() && token[0] == '-';
  const std::size_t start = !token.empty() && (token[0] == '-' || token[0] == '+') ? 1 : 0;
  if (start == token.size()) return not_an_index();
  // Accumulated negatively: int64's range is one larger on that side.
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  std::int64_t value = 0;
  for (std::size_t i = start; i < token.size(); ++i) {
    if (token[i] < '0' || token[i] > '9') return not_an_index();
    const int digit = token[i] - '0';
    if (value < (kMin + digit) / 10) return not_an_index();
    value = value * 10 - digit;
  }
  if (!negative) {
    if (value == kMin) return not_an_index();
    value = -value;
  }
  return value;
}

}  // namespace cnpgi::internal
