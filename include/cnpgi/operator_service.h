// Operator: validation, defaulting and status of Cluster resources.
#ifndef CNPGI_OPERATOR_SERVICE_H_
#define CNPGI_OPERATOR_SERVICE_H_

#include <optional>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cnpgi/call_context.h"
#include "cnpgi/cluster.h"
#include "cnpgi/operator/v1/operator.pb.h"
#include "cnpgi/validation.h"

namespace cnpgi {

// Called by the operator, over TCP with mutual TLS (plugin deployed with a
// Service) or over a Unix socket in the operator's pod.
//
// Each RPC has two forms; override one of them:
// - the On... form (recommended): the SDK parses the Cluster once, hands it
//   over typed, and turns the result into the answer (validation errors with
//   their paths, an RFC 6902 patch from your in-place edits, a status
//   object);
// - the raw form, named after the RPC, with the protocol messages, for the
//   rare case that needs them.
// The SDK advertises exactly the RPCs overridden in either form (the
// capability list is derived from the overrides). What is not overridden
// answers UNIMPLEMENTED and is not advertised. Handlers may be called from
// several threads at once.
//
// Of these calls, today's operator only makes SetStatusInCluster (at the end
// of every successful Cluster reconcile). The validation and mutation calls
// exist in the protocol and are served, but the operator does not currently
// call them.
class OperatorService {
 public:
  using ValidateClusterCreateRequest = operator_::v1::OperatorValidateClusterCreateRequest;
  using ValidateClusterCreateResult = operator_::v1::OperatorValidateClusterCreateResult;
  using ValidateClusterChangeRequest = operator_::v1::OperatorValidateClusterChangeRequest;
  using ValidateClusterChangeResult = operator_::v1::OperatorValidateClusterChangeResult;
  using MutateClusterRequest = operator_::v1::OperatorMutateClusterRequest;
  using MutateClusterResult = operator_::v1::OperatorMutateClusterResult;
  using SetStatusInClusterRequest = operator_::v1::SetStatusInClusterRequest;
  using SetStatusInClusterResponse = operator_::v1::SetStatusInClusterResponse;
  using DeregisterRequest = operator_::v1::DeregisterRequest;
  using DeregisterResponse = operator_::v1::DeregisterResponse;

  virtual ~OperatorService() = default;

  // A new Cluster: add an error for every problem with the plugin's
  // parameters (parameters.h reads them with the paths the operator
  // expects). Return a non-OK status only when validation itself failed.
  virtual absl::Status OnValidateClusterCreate(CallContext& ctx, const Cluster& cluster,
                                               ValidationErrors& errors);

  // A changed Cluster: same as above, plus refusing changes that must not
  // happen.
  virtual absl::Status OnValidateClusterChange(CallContext& ctx, const Cluster& old_cluster,
                                               const Cluster& new_cluster,
                                               ValidationErrors& errors);

  // Defaulting: edit `cluster` in place; the SDK answers the RFC 6902 patch
  // against the Cluster as sent (nothing when nothing changed).
  virtual absl::Status OnMutateCluster(CallContext& ctx, Cluster& cluster);

  // The JSON object to store as this plugin's status.pluginStatus[].status,
  // or std::nullopt to leave it alone. Anything but an object is refused
  // with a clear error (the operator would reject it).
  virtual absl::StatusOr<std::optional<nlohmann::json>> OnSetStatusInCluster(
      CallContext& ctx, const Cluster& cluster);

  // The raw forms. By default they parse the request and call the On...
  // form above.

  // A new Cluster: report problems with the plugin's parameters as
  // validation errors in `result` (an OK status with errors means "invalid").
  virtual absl::Status ValidateClusterCreate(CallContext& ctx,
                                             const ValidateClusterCreateRequest& request,
                                             ValidateClusterCreateResult& result);

  // A changed Cluster (old and new definitions): same as above, plus
  // refusing changes that must not happen.
  virtual absl::Status ValidateClusterChange(CallContext& ctx,
                                             const ValidateClusterChangeRequest& request,
                                             ValidateClusterChangeResult& result);

  // Defaulting: answer an RFC 6902 JSON patch against the Cluster sent.
  virtual absl::Status MutateCluster(CallContext& ctx, const MutateClusterRequest& request,
                                     MutateClusterResult& result);

  // End of a successful reconcile: answer a JSON object to store as this
  // plugin's `status.pluginStatus[].status`, or nothing to leave it alone.
  // A non-empty answer makes the operator reconcile again after 5 seconds.
  virtual absl::Status SetStatusInCluster(CallContext& ctx,
                                          const SetStatusInClusterRequest& request,
                                          SetStatusInClusterResponse& response);

  // Reserved by the protocol; never called by today's operator.
  virtual absl::Status Deregister(CallContext& ctx, const DeregisterRequest& request,
                                  DeregisterResponse& response);
};

}  // namespace cnpgi

#endif  // CNPGI_OPERATOR_SERVICE_H_
