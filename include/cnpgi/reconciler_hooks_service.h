// ReconcilerHooks: run plugin code before and after the operator reconciles.
#ifndef CNPGI_RECONCILER_HOOKS_SERVICE_H_
#define CNPGI_RECONCILER_HOOKS_SERVICE_H_

#include <vector>

#include "absl/status/status.h"
#include "cnpgi/call_context.h"
#include "cnpgi/reconciler/v1/reconciler.pb.h"

namespace cnpgi {

// The resources whose reconciliation can be hooked. Values equal the
// protocol's ReconcilerHooksCapability.Kind.
enum class ReconciledKind {
  kCluster = 1,
  kBackup = 2,
};

// Called by the operator: Pre at the start of every reconcile of a hooked
// kind, Post at its end. The answer's behavior decides what happens next:
// CONTINUE (or unset) goes on, REQUEUE stops and retries after
// `requeue_after` seconds, TERMINATE stops this reconcile without error.
// An error status stops the reconcile as a plugin error. Handlers may be
// called from several threads at once.
class ReconcilerHooksService {
 public:
  using Request = reconciler::v1::ReconcilerHooksRequest;
  using Result = reconciler::v1::ReconcilerHooksResult;

  virtual ~ReconcilerHooksService() = default;

  // Which kinds to hook; read once at startup. Must not be empty.
  virtual std::vector<ReconciledKind> HookedKinds() const = 0;

  virtual absl::Status Pre(CallContext& ctx, const Request& request, Result& result);
  virtual absl::Status Post(CallContext& ctx, const Request& request, Result& result);
};

}  // namespace cnpgi

#endif  // CNPGI_RECONCILER_HOOKS_SERVICE_H_
