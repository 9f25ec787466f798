// Validation errors in the shape the operator expects.
//
// The operator turns each protocol ValidationError into a Kubernetes field
// error with field.Invalid(path_components..., value, message): the path must
// not be empty, and for plugin parameters it is
// ["spec", "plugins", "<i>", "parameters", "<name>"] (or
// ["spec", "externalClusters", "<j>", "plugin", "parameters", "<name>"]).
// Parameters (cnpgi/parameters.h) builds these paths for you.
//
// This header does not include the generated protocol headers, so that code
// using only the JSON helpers builds without them; include
// <cnpgi/operator/v1/operator.pb.h> where you call the conversions.
#ifndef CNPGI_VALIDATION_H_
#define CNPGI_VALIDATION_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace cnpgi::operator_::v1 {
class ValidationError;
class OperatorValidateClusterCreateResult;
class OperatorValidateClusterChangeResult;
}  // namespace cnpgi::operator_::v1

namespace cnpgi {

struct ValidationError {
  // Field path from the object's root, one element per step; array indices
  // are decimal strings. Never empty when built by the SDK.
  std::vector<std::string> path{};
  // The offending value as the user wrote it ("" when it is missing).
  std::string value{};
  // What is wrong, for a human.
  std::string message{};

  // The path in Kubernetes notation: spec.plugins[1].parameters.retention.
  std::string PathString() const;
  // "spec.plugins[1].parameters.retention: <message>".
  std::string ToString() const;
  // The protocol message. An empty path is sent as ["<root>"] because the
  // operator indexes the first component. A value longer than
  // kMaxValueBytes and a message longer than kMaxMessageBytes are cut, with
  // their length ("abc...(3145728 bytes)"), so that the answer always fits.
  void ToProto(operator_::v1::ValidationError& out) const;
  static constexpr std::size_t kMaxValueBytes = 256;
  static constexpr std::size_t kMaxMessageBytes = 4096;

  bool operator==(const ValidationError&) const = default;
};

// Errors collected while validating, in the order found.
class ValidationErrors {
 public:
  void Add(ValidationError error) { errors_.push_back(std::move(error)); }
  void Add(std::vector<std::string> path, std::string value, std::string message) {
    errors_.push_back({std::move(path), std::move(value), std::move(message)});
  }

  bool empty() const { return errors_.empty(); }
  std::size_t size() const { return errors_.size(); }
  const ValidationError& operator[](std::size_t i) const { return errors_[i]; }
  std::vector<ValidationError>::const_iterator begin() const { return errors_.begin(); }
  std::vector<ValidationError>::const_iterator end() const { return errors_.end(); }

  // OK when empty; otherwise InvalidArgument listing every error
  // ("validation failed: <path>: <message>; ..."), for the RPCs that answer
  // with a status rather than with validation errors. Each message is cut
  // after ValidationError::kMaxMessageBytes.
  absl::Status ToStatus() const;

  // Appends every error to the answer of ValidateClusterCreate or
  // ValidateClusterChange.
  void AppendTo(operator_::v1::OperatorValidateClusterCreateResult& result) const;
  void AppendTo(operator_::v1::OperatorValidateClusterChangeResult& result) const;

 private:
  std::vector<ValidationError> errors_;
};

}  // namespace cnpgi

#endif  // CNPGI_VALIDATION_H_
