// Conversions to the protocol messages, kept apart from validation.cc so that
// the JSON helpers build without the generated protocol (see tests/fuzz).
#include <cnpgi/operator/v1/operator.pb.h>

#include "cnpgi/validation.h"

namespace cnpgi {

void ValidationError::ToProto(operator_::v1::ValidationError& out) const {
  out.Clear();
  if (path.empty()) {
    out.add_path_components("<root>");
  } else {
    for (const std::string& component : path) out.add_path_components(component);
  }
  out.set_value(value);
  out.set_message(message);
}

void ValidationErrors::AppendTo(operator_::v1::OperatorValidateClusterCreateResult& result) const {
  for (const ValidationError& error : errors_) error.ToProto(*result.add_validation_errors());
}

void ValidationErrors::AppendTo(operator_::v1::OperatorValidateClusterChangeResult& result) const {
  for (const ValidationError& error : errors_) error.ToProto(*result.add_validation_errors());
}

}  // namespace cnpgi
