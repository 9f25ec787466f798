#include "cnpgi/cluster_status.h"

#include <string>

#include "helpers/internal.h"

namespace cnpgi {

absl::StatusOr<std::string> EncodeClusterStatus(const std::optional<nlohmann::json>& status) {
  if (!status.has_value()) return std::string();
  if (!status->is_object()) {
    return absl::InvalidArgumentError(internal::Cat(
        "the status for SetStatusInCluster must be a JSON object, got ", JsonTypeName(*status),
        "; the operator rejects anything else (return no status to leave it unchanged)"));
  }
  absl::StatusOr<std::string> text = ToJson(*status);
  if (!text.ok()) {
    return absl::InvalidArgumentError(internal::Cat(
        "cannot encode the status for SetStatusInCluster: ", text.status().message()));
  }
  return text;
}

absl::StatusOr<std::optional<nlohmann::json>> ParseClusterStatus(std::string_view stored,
                                                                 const JsonLimits& limits) {
  if (stored.empty()) return std::optional<nlohmann::json>();
  absl::StatusOr<nlohmann::json> value = ParseJson(stored, limits);
  if (!value.ok()) {
    return absl::InvalidArgumentError(
        internal::Cat("stored plugin status: ", value.status().message()));
  }
  if (!value->is_object()) {
    return absl::InvalidArgumentError(
        internal::Cat("stored plugin status must be a JSON object, got ", JsonTypeName(*value)));
  }
  return std::optional<nlohmann::json>(*std::move(value));
}

}  // namespace cnpgi
