// Shared internals of the helpers component. Not installed, not API.
// What other components need too (Cat, UTF-8, JSON pointers) is in src/base/.
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
#include "base/json_pointer.h"
#include "base/json_text.h"
#include "base/strings.h"

namespace cnpgi::internal {

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

// cnpgi::ToJson appending to `out` (the patch writer puts values inside a
// larger document). On error `out` holds a partial document.
absl::Status AppendJson(const nlohmann::json& value, std::string& out);

// Appends `text` as a JSON string literal (quotes included). Returns false if
// `text` is not valid UTF-8.
bool AppendJsonString(std::string_view text, std::string& out);

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
