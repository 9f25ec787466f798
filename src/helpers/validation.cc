#include "cnpgi/validation.h"

#include <string>

#include "helpers/internal.h"

namespace cnpgi {

std::string ValidationError::PathString() const { return internal::FormatFieldPath(path); }

std::string ValidationError::ToString() const {
  const std::string where = PathString();
  return where.empty() ? message : internal::Cat(where, ": ", message);
}

absl::Status ValidationErrors::ToStatus() const {
  if (errors_.empty()) return absl::OkStatus();
  std::string message = "validation failed: ";
  for (std::size_t i = 0; i < errors_.size(); ++i) {
    if (i > 0) message += "; ";
    message += internal::CutToBytes(errors_[i].ToString(), ValidationError::kMaxMessageBytes);
  }
  return absl::InvalidArgumentError(message);
}

}  // namespace cnpgi
