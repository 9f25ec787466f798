// RFC 6902 JSON patches as the operator applies them, and the object a
// patching RPC (LifecycleHook, MutateCluster) turns into.
//
//   absl::StatusOr<cnpgi::test::PatchedObject> pod =
//       client.LifecycleHook(cnpgi::LifecycleOperation::kEvaluate, cluster, pod_json);
//   ASSERT_TRUE(pod.ok()) << pod.status();
//   EXPECT_EQ(pod->label("example.com/injected"), "true");
//   EXPECT_NE(pod->FindContainer("plugin-sidecar"), nullptr);
//
// The patch is applied with the operator's semantics (evanphx/json-patch,
// default options): `add` needs the parent to exist, `remove` and `replace`
// need the target to exist, "-" appends; array indices are read like Go's
// strconv.Atoi (a sign and leading zeros are accepted) and may be negative,
// counted from the end (for `add`, from the end of the insertion points: -1
// appends); `test` of null passes for a member missing from an object, not
// below a missing or null parent nor for a missing array element. Every error names the operation
// (index, op and path) and why it does not apply, so a test failure says what to fix.
#ifndef CNPGI_TESTING_JSON_PATCH_H_
#define CNPGI_TESTING_JSON_PATCH_H_

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cnpgi::test {

// Applies `patch` (the bytes a plugin answered) to `document`. An empty
// patch is the operator's "no change" and returns `document` as is; so does
// the JSON text `null`, which evanphx/json-patch decodes as a patch without
// operations (a Go plugin marshalling an empty list of operations answers
// it).
// InvalidArgument when the patch is not JSON, not an array of operations, an
// operation is malformed (unknown op, missing path/value/from, bad JSON
// pointer), or an operation does not apply (missing parent, missing target,
// index out of range, failed test). Never throws, whatever the patch.
absl::StatusOr<nlohmann::json> ApplyJsonPatch(const nlohmann::json& document,
                                              std::string_view patch);

// Where two JSON documents first differ, as "<pointer>: <a> != <b>" with
// values abbreviated, "<pointer>: missing in the first" and so on; "" when
// they are equal. Members are compared in key order, arrays by index. For
// messages of tests and checks.
std::string DescribeJsonDifference(const nlohmann::json& a, const nlohmann::json& b);

// An object sent to a plugin and what its answer made of it.
class PatchedObject {
 public:
  // `patch` must apply to `sent` (use Make for untrusted patches).
  static absl::StatusOr<PatchedObject> Make(nlohmann::json sent, std::string patch);

  // The object after the patch (the object sent when there was no patch).
  // The non-const overload exists so that `result->json()["a"]["b"]` reads
  // null for absent members in test expectations instead of asserting;
  // prefer At() in new code.
  const nlohmann::json& json() const { return result_; }
  nlohmann::json& json() { return result_; }
  // The object as it was sent.
  const nlohmann::json& sent() const { return sent_; }
  // The patch as the plugin answered it; "" for "no change".
  const std::string& patch() const { return patch_; }
  // The patch has at least one operation ("", "null" and "[]" have none).
  bool has_operations() const { return operations_ > 0; }
  // True when the patch changed the object (a non-empty patch can still
  // leave it as it was, e.g. replacing a value by itself).
  bool changed() const { return result_ != sent_; }

  // The value at an RFC 6901 pointer ("/metadata/labels/app"), or nullptr.
  const nlohmann::json* Find(std::string_view json_pointer) const;
  // The value at an RFC 6901 pointer, or null when absent: safe in
  // EXPECT_EQ(pod->At("/spec/hostname"), "pg-1").
  nlohmann::json At(std::string_view json_pointer) const;

  std::string_view api_version() const;
  std::string_view kind() const;
  // metadata.labels[key] / metadata.annotations[key] when they are strings.
  std::optional<std::string> label(std::string_view key) const;
  std::optional<std::string> annotation(std::string_view key) const;

  // Pod spec entries by name, in a Pod (spec) or a pod template
  // (spec.template.spec of a Job, Deployment, ...); nullptr when absent.
  const nlohmann::json* FindContainer(std::string_view name) const;
  const nlohmann::json* FindInitContainer(std::string_view name) const;
  const nlohmann::json* FindVolume(std::string_view name) const;

  // What the patch changed, for messages: DescribeJsonDifference(sent, result).
  std::string DescribeChange() const;

 private:
  PatchedObject(nlohmann::json sent, std::string patch, nlohmann::json result,
                std::size_t operations)
      : sent_(std::move(sent)),
        patch_(std::move(patch)),
        result_(std::move(result)),
        operations_(operations) {}

  const nlohmann::json* PodSpec() const;

  nlohmann::json sent_;
  std::string patch_;
  nlohmann::json result_;
  std::size_t operations_ = 0;
};

// GoogleTest prints a PatchedObject with its patch and the resulting object.
void PrintTo(const PatchedObject& object, std::ostream* os);

}  // namespace cnpgi::test

#endif  // CNPGI_TESTING_JSON_PATCH_H_
