// Shared internals of the helpers component. Not installed, not API.
#ifndef CNPGI_SRC_HELPERS_INTERNAL_H_
#define CNPGI_SRC_HELPERS_INTERNAL_H_

#include <charconv>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cnpgi::internal {

// One argument of Cat(). Debian builds abseil with its own string_view type
// (ABSL_OPTION_USE_STD_STRING_VIEW is 0), so absl::StrCat does not take
// std::string_view; this accepts both, plus integers.
class CatPiece {
 public:
  CatPiece(std::string_view text) : view_(text) {}    // NOLINT: implicit by design
  CatPiece(const char* text) : view_(text) {}         // NOLINT
  CatPiece(const std::string& text) : view_(text) {}  // NOLINT
  template <typename T>
  requires(std::is_same_v<T, absl::string_view> && !std::is_same_v<T, std::string_view>)
      CatPiece(const T& text)
      : view_(text.data(), text.size()) {}  // NOLINT
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>)
      CatPiece(T number) {  // NOLINT
    const auto result = std::to_chars(buffer_, buffer_ + sizeof buffer_, number);
    view_ = std::string_view(buffer_, static_cast<std::size_t>(result.ptr - buffer_));
  }
  CatPiece(const CatPiece&) = delete;
  CatPiece& operator=(const CatPiece&) = delete;

  std::string_view view() const { return view_; }

 private:
  char buffer_[24];
  std::string_view view_;
};

std::string CatViews(std::initializer_list<std::string_view> pieces);

// Concatenates strings and integers.
template <typename... Args>
std::string Cat(const Args&... args) {
  return CatViews({CatPiece(args).view()...});
}

// Two lowercase hex digits.
std::string Hex2(unsigned char byte);

// One step of a field path: a member name or an array index. Owns the name:
// error paths are built while the document they describe is torn down.
struct PathStep {
  std::string name;  // member name; unused for an index
  std::size_t index = 0;
  bool is_index = false;

  static PathStep Member(std::string_view name) { return {std::string(name), 0, false}; }
  static PathStep Index(std::size_t index) { return {{}, index, true}; }
};

// Appends one step in Kubernetes field-path notation: `.name`, `[3]`, or
// `[cnpg.io/podSpec]` for names that are not plain identifiers (annotation
// keys), so that messages read like the API server's own.
void AppendFieldPath(std::string& out, const PathStep& step);

// Renders path components as they appear in a ValidationError: all-digit
// components are array indices.
std::string FormatFieldPath(const std::vector<std::string>& components);

// Iterates over the reference tokens of an RFC 6901 pointer, unescaping them.
class PointerTokens {
 public:
  explicit PointerTokens(std::string_view pointer) : rest_(pointer) {}
  // False at the end. Sets `ok()` to false on a malformed pointer (not
  // starting with "/", or a "~" not followed by "0" or "1").
  bool Next(std::string_view& token);
  bool ok() const { return ok_; }

 private:
  std::string_view rest_;
  std::string buffer_;  // holds a token that needed unescaping
  bool ok_ = true;
};

// Parses an array index token: digits only, no leading zero, no "-".
bool ParseArrayIndex(std::string_view token, std::size_t& index);

// Appends `text` as a JSON string literal (quotes included). Returns false if
// `text` is not valid UTF-8.
bool AppendJsonString(std::string_view text, std::string& out);

// Length of the valid UTF-8 sequence starting at `p` (at most `end`), or 0.
std::size_t Utf8SequenceLength(const char* p, const char* end);

// `text` when it has at most `max_bytes` bytes; otherwise its start, cut at
// a character boundary, and its length: "abc...(3145728 bytes)". For values
// and messages that must stay small (see cnpgi::QuoteValue).
std::string CutToBytes(std::string_view text, std::size_t max_bytes);

// Member of `object` named `key` if `object` is an object that has it.
const nlohmann::json* Member(const nlohmann::json* object, std::string_view key);

// String value or empty when `value` is null or not a string.
std::string_view StringOrEmpty(const nlohmann::json* value);

// Shape checks used when a view is parsed; each returns InvalidArgument
// naming `what` (e.g. "Cluster") and `path` (e.g. "spec.plugins[1].name").
absl::Status TypeError(std::string_view what, std::string_view path, std::string_view expected,
                       const nlohmann::json& got);
// `value` must be absent (nullptr), null, or of the expected kind.
absl::Status CheckOptionalString(std::string_view what, const nlohmann::json* value,
                                 std::string_view path);
absl::Status CheckOptionalBool(std::string_view what, const nlohmann::json* value,
                               std::string_view path);
absl::Status CheckOptionalObject(std::string_view what, const nlohmann::json* value,
                                 std::string_view path);
absl::Status CheckOptionalArray(std::string_view what, const nlohmann::json* value,
                                std::string_view path);
// An object whose members are all strings (labels, annotations, parameters).
absl::Status CheckOptionalStringMap(std::string_view what, const nlohmann::json* value,
                                    std::string_view path);

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_HELPERS_INTERNAL_H_
