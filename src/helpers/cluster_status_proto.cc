// Protocol-facing part of cluster_status.h, apart so that the JSON helpers
// build without the generated protocol (see tests/fuzz).
#include <cnpgi/operator/v1/operator.pb.h>

#include "cnpgi/cluster_status.h"

namespace cnpgi {

absl::Status SetClusterStatus(const std::optional<nlohmann::json>& status,
                              operator_::v1::SetStatusInClusterResponse& response) {
  response.clear_json_status();
  absl::StatusOr<std::string> text = EncodeClusterStatus(status);
  if (!text.ok()) return text.status();
  response.set_json_status(*std::move(text));
  return absl::OkStatus();
}

}  // namespace cnpgi
