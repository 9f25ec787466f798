// Not part of the API. CNPG-I messages as JSON a person can read: protobuf's
// JSON mapping, with the Kubernetes objects and patches the messages carry
// as JSON bytes (Cluster, Pod, Job and Backup definitions, JSON patches)
// expanded in place instead of base64. The recorder writes this form and the
// test kit's replay reads it back.
#ifndef CNPGI_SRC_OBSERVE_CALL_JSON_H_
#define CNPGI_SRC_OBSERVE_CALL_JSON_H_

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cnpgi::internal {

// Insertion-ordered, so that a recorded object keeps the order it had.
using OrderedJson = nlohmann::ordered_json;

// The descriptor of "/package.Service/Method", from the messages linked into
// the program (every CNPG-I service); nullptr when unknown.
const google::protobuf::MethodDescriptor* FindMethodByPath(std::string_view path);

// An empty message of `type`, owned by the caller.
std::unique_ptr<google::protobuf::Message> NewMessage(const google::protobuf::Descriptor* type);

// `message` in the JSON mapping, every bytes field whose content is a JSON
// object or array replaced by that JSON.
OrderedJson ToExpandedJson(const google::protobuf::Message& message);

// The inverse: a bytes field holding an object or array is serialized back
// (a string is base64, as in the JSON mapping). InvalidArgument saying what
// does not fit the message type.
absl::Status FromExpandedJson(const OrderedJson& json, google::protobuf::Message& message);

// Deepest nesting of objects and arrays allowed in expanded JSON: what the
// SDK does with JSON (redaction, printing) recurses, and Kubernetes objects
// stay far below this. Deeper content stays base64.
inline constexpr int kMaxExpandedDepth = 128;

// True when `json` nests objects and arrays deeper than `limit` (strings
// skipped; no validation).
bool NestedDeeperThan(std::string_view json, int limit);

// Parses the serialized `bytes` as `type` and expands it; nullopt-like
// (discarded JSON) when the bytes are not a valid message.
absl::StatusOr<OrderedJson> BytesToExpandedJson(const google::protobuf::Descriptor* type,
                                                const std::string& bytes);

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_OBSERVE_CALL_JSON_H_
