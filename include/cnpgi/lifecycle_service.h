// OperatorLifecycle: hooks on the Kubernetes objects the operator writes.
#ifndef CNPGI_LIFECYCLE_SERVICE_H_
#define CNPGI_LIFECYCLE_SERVICE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cnpgi/call_context.h"
#include "cnpgi/cluster.h"
#include "cnpgi/object.h"
#include "cnpgi/operator_lifecycle/v1/operator_lifecycle.pb.h"

namespace cnpgi {

// The operations a lifecycle hook can subscribe to. Values equal the
// protocol's OperatorOperationType.Type.
enum class LifecycleOperation {
  kPatch = 1,
  kUpdate = 2,
  kCreate = 3,
  kDelete = 4,
  kDeregister = 5,  // reserved by the protocol, never sent
  // The operator computed an instance Pod and asks for the plugin's changes.
  // It runs on every reconcile for every instance and its result is compared
  // with the running Pod: it must be deterministic, or Pods restart forever.
  kEvaluate = 6,
};

// One kind of object and the operations to hook on it.
struct LifecycleSubscription {
  std::string group{};  // API group: "" for core (Pod), "batch" (Job), "apps", ...
  std::string kind{};   // "Pod", "Job", "Service", ...
  std::vector<LifecycleOperation> operations{};
};

// Called by the operator (Cluster reconciler) each time it creates, updates,
// patches or deletes an object of a subscribed kind, and each time it
// computes an instance Pod (EVALUATE). The answer is an RFC 6902 JSON patch
// on the object sent, or nothing for no change.
//
// What the operator asks for is data, not code: Subscriptions() is read once
// at startup and becomes this service's capabilities. Handlers may be called
// from several threads at once.
class LifecycleService {
 public:
  using Request = operator_lifecycle::v1::OperatorLifecycleRequest;
  using Response = operator_lifecycle::v1::OperatorLifecycleResponse;

  virtual ~LifecycleService() = default;

  // Which kinds and operations to hook. Must not be empty.
  virtual std::vector<LifecycleSubscription> Subscriptions() const = 0;

  // Edit `object` in place (sidecar.h injects a sidecar); the SDK answers
  // the RFC 6902 patch against the object as sent, or nothing when nothing
  // changed. `object` is the subscribed kind (check object.kind() when
  // subscribing to several). For a new instance the hook runs twice
  // (EVALUATE, then CREATE on the already-patched Pod): edits must be
  // idempotent.
  virtual absl::Status OnLifecycle(CallContext& ctx, const Cluster& cluster, Object& object,
                                   LifecycleOperation operation);

  // The raw form; by default it parses the request and calls OnLifecycle.
  virtual absl::Status LifecycleHook(CallContext& ctx, const Request& request, Response& response);
};

}  // namespace cnpgi

#endif  // CNPGI_LIFECYCLE_SERVICE_H_
