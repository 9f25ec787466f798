// JSON reading and writing that never throws and never overflows the stack.
//
// Every CNPG-I request carries Kubernetes objects as JSON bytes. nlohmann-json
// is the document type plugin authors work with; the functions here keep it
// and replace the parts that matter on the per-call path with a bounded,
// non-throwing parser and a non-throwing serializer. Why not nlohmann's own:
// - speed: its parser needs about 2.2 times the instructions and 2.5 to 3
//   times the CPU time of this one on Kubernetes objects (docs/benchmarks.md,
//   "The parser");
// - no exceptions: json::parse throws on bad input, dump() on invalid UTF-8;
// - limits: nlohmann 3.11's parser is iterative, so deep input cannot
//   overflow the stack, but it has no depth or size limit of its own;
//   bounding it takes a SAX handler that builds the document, which is as
//   slow as json::parse (measured side by side in the same benchmark);
// - messages: errors name the line, column and field path.
//
// Errors name where the problem is, as a field path such as
// `spec.plugins[1].parameters`, so that the operator's logs say what to fix.
#ifndef CNPGI_JSON_H_
#define CNPGI_JSON_H_

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cnpgi {

// Limits applied to untrusted JSON. The defaults are far above what the
// operator sends (Kubernetes objects nest about 15 levels and weigh tens of
// kilobytes) and far below what could exhaust a thread's stack or memory.
struct JsonLimits {
  // Maximum nesting of objects and arrays; the top-level object is level 1.
  std::size_t max_depth = 128;
  // Maximum document size in bytes.
  std::size_t max_bytes = std::size_t{16} << 20;
};

// Parses one JSON value (RFC 8259). Rejects malformed input, invalid UTF-8,
// numbers out of double range, documents nested deeper than
// `limits.max_depth` and documents larger than `limits.max_bytes`, with
// InvalidArgument naming the line, column and field path. Duplicate member
// names keep the last value, as Go's encoding/json does. A leading UTF-8
// byte-order mark is skipped. Integers keep nlohmann's typing: non-negative
// ones are number_unsigned, negative ones number_integer, and integers out of
// 64-bit range become doubles.
absl::StatusOr<nlohmann::json> ParseJson(std::string_view text, const JsonLimits& limits = {});

// Returns the compact JSON text of `value`. Fails with InvalidArgument
// naming the field path for a string that is not valid UTF-8, a NaN or
// infinite number, a binary value, or nesting deeper than 512 levels.
absl::StatusOr<std::string> ToJson(const nlohmann::json& value);

// Appends `token` to `out` escaped as one RFC 6901 JSON-pointer reference
// token ("~" becomes "~0", "/" becomes "~1"), preceded by "/".
void AppendJsonPointerToken(std::string_view token, std::string& out);

// Returns the value at the RFC 6901 `pointer` ("" is the whole document,
// "/metadata/labels" a member, "/spec/containers/0" an array element), or
// nullptr when it is absent or the pointer is malformed.
const nlohmann::json* FindJson(const nlohmann::json& document, std::string_view pointer);

// Returns a human-readable name of the JSON type of `value` ("an object",
// "a string", ...), for error messages.
std::string_view JsonTypeName(const nlohmann::json& value);

}  // namespace cnpgi

#endif  // CNPGI_JSON_H_
