// The answer of SetStatusInCluster.
//
// The operator stores the plugin's answer verbatim in
// status.pluginStatus[<plugin>].status, but only if it parses as a JSON
// object; anything else (an array, a string, `null`) fails the reconcile.
// An empty answer means "no change". A non-empty answer makes the operator
// patch the Cluster and requeue it after 5 s, so answer "no change" when
// nothing changed.
#ifndef CNPGI_CLUSTER_STATUS_H_
#define CNPGI_CLUSTER_STATUS_H_

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cnpgi/json.h"

namespace cnpgi::operator_::v1 {
class SetStatusInClusterResponse;
}  // namespace cnpgi::operator_::v1

namespace cnpgi {

// The bytes for SetStatusInClusterResponse.json_status: "" for nullopt (no
// change), the compact JSON text of `status` when it is an object.
// InvalidArgument for any other JSON value (naming its type) or for a value
// that has no JSON text.
absl::StatusOr<std::string> EncodeClusterStatus(const std::optional<nlohmann::json>& status);

// Fills `response` from `status` as EncodeClusterStatus does; on error the
// response is left empty. Declared here, defined with the protocol
// (include <cnpgi/operator/v1/operator.pb.h> to call it).
absl::Status SetClusterStatus(const std::optional<nlohmann::json>& status,
                              operator_::v1::SetStatusInClusterResponse& response);

// Reads back a status string as stored in status.pluginStatus[i].status
// (PluginStatus::status in cnpgi/cluster.h): nullopt for "", the object
// otherwise; InvalidArgument if it is not a JSON object.
absl::StatusOr<std::optional<nlohmann::json>> ParseClusterStatus(std::string_view stored,
                                                                 const JsonLimits& limits = {});

}  // namespace cnpgi

#endif  // CNPGI_CLUSTER_STATUS_H_
