// Not part of the API. Capabilities derived from what the plugin registered.
#ifndef CNPGI_SRC_SERVER_CAPABILITIES_H_
#define CNPGI_SRC_SERVER_CAPABILITIES_H_

#include "absl/status/statusor.h"
#include "cnpgi/backup/v1/backup.pb.h"
#include "cnpgi/identity/v1/identity.pb.h"
#include "cnpgi/identity/v1/postgres.pb.h"
#include "cnpgi/metrics/v1/metrics.pb.h"
#include "cnpgi/operator/v1/operator.pb.h"
#include "cnpgi/operator_lifecycle/v1/operator_lifecycle.pb.h"
#include "cnpgi/reconciler/v1/reconciler.pb.h"
#include "cnpgi/wal/v1/restore_job.pb.h"
#include "cnpgi/wal/v1/wal.pb.h"
#include "server/service_set.h"

namespace cnpgi::internal {

// Every capability answer the plugin will give, computed once at startup.
struct Capabilities {
  identity::v1::GetPluginCapabilitiesResponse identity;
  operator_::v1::OperatorCapabilitiesResult op;
  operator_lifecycle::v1::OperatorLifecycleCapabilitiesResponse lifecycle;
  wal::v1::WALCapabilitiesResult wal;
  backup::v1::BackupCapabilitiesResult backup;
  reconciler::v1::ReconcilerHooksCapabilitiesResult reconciler_hooks;
  wal::v1::RestoreJobHooksCapabilitiesResult restore_job;
  identity::v1::PostgresCapabilitiesResult postgres;
  metrics::v1::MetricsCapabilitiesResult metrics;
};

// Derives the answers and checks them the way the operator will use them.
// Refuses (FailedPrecondition, every problem listed in the message) what
// would make the operator fail on the plugin: no service at all, a service
// added twice, a service that overrides none of its RPCs, Metrics without
// both Define and Collect, empty or unset lifecycle subscriptions or
// reconciler kinds.
absl::StatusOr<Capabilities> DeriveCapabilities(const ServiceSet& services);

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_SERVER_CAPABILITIES_H_
