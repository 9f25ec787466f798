// Conversions to the protocol messages, kept apart from validation.cc so that
// the JSON helpers build without the generated protocol (see tests/fuzz).
#include <cnpgi/operator/v1/operator.pb.h>

#include "cnpgi/validation.h"
#include "helpers/internal.h"

namespace cnpgi {

void ValidationError::ToProto(operator_::v1::ValidationError& out) const {
  out.Clear();
  if (path.empty()) {
    out.add_path_components("<root>");
  } else {
    for (const std::string& component : path) out.add_path_components(component);
  }
  // The operator shows both in the Cluster's admission error: a value or a
  // message of megabytes would not even reach it (answers must stay under
  // 4 MiB), so long ones are cut, saying how long they were.
  out.set_value(internal::CutToBytes(value, kMaxValueBytes));
  out.set_message(internal::CutToBytes(message, kMaxMessageBytes));
}

void ValidationErrors::AppendTo(operator_::v1::OperatorValidateClusterCreateResult& result) const {
  for (const ValidationError& error : errors_) error.ToProto(*result.add_validation_errors());
}

void ValidationErrors::AppendTo(operator_::v1::OperatorValidateClusterChangeResult& result) const {
  for (const ValidationError& error : errors_) error.ToProto(*result.add_validation_errors());
}

}  // namespace cnpgi
