// What the service base classes do for what a plugin does not override:
// - an On... form not overridden answers UNIMPLEMENTED naming the RPC; the
//   SDK does not advertise such RPCs, so the operator does not call them;
// - a raw form not overridden parses the request, calls the On... form and
//   builds the answer from its result.
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "cnpgi/backup_service.h"
#include "cnpgi/cluster_status.h"
#include "cnpgi/identity_service.h"
#include "cnpgi/lifecycle_service.h"
#include "cnpgi/metrics_service.h"
#include "cnpgi/operator_service.h"
#include "cnpgi/postgres_service.h"
#include "cnpgi/reconciler_hooks_service.h"
#include "cnpgi/restore_job_service.h"
#include "cnpgi/wal_service.h"

namespace cnpgi {
namespace {

absl::Status NotImplemented(const char* rpc) {
  return absl::UnimplementedError(
      absl::StrCat(rpc, " is not implemented by this plugin (and not advertised)"));
}

// The Cluster of a request, parsed leniently (the operator omits apiVersion
// and kind on some paths). The error names the request field.
absl::StatusOr<Cluster> ParseCluster(const std::string& bytes, const char* field) {
  absl::StatusOr<Cluster> cluster = Cluster::Parse(bytes);
  if (!cluster.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request field ", field, ": ", cluster.status().message()));
  }
  return cluster;
}

}  // namespace

absl::Status IdentityService::Probe(CallContext&) { return absl::OkStatus(); }

// Operator ------------------------------------------------------------------

absl::Status OperatorService::OnValidateClusterCreate(CallContext&, const Cluster&,
                                                      ValidationErrors&) {
  return NotImplemented("cnpgi.operator.v1.Operator/ValidateClusterCreate");
}
absl::Status OperatorService::OnValidateClusterChange(CallContext&, const Cluster&, const Cluster&,
                                                      ValidationErrors&) {
  return NotImplemented("cnpgi.operator.v1.Operator/ValidateClusterChange");
}
absl::Status OperatorService::OnMutateCluster(CallContext&, Cluster&) {
  return NotImplemented("cnpgi.operator.v1.Operator/MutateCluster");
}
absl::StatusOr<std::optional<nlohmann::json>> OperatorService::OnSetStatusInCluster(
    CallContext&, const Cluster&) {
  return NotImplemented("cnpgi.operator.v1.Operator/SetStatusInCluster");
}

absl::Status OperatorService::ValidateClusterCreate(CallContext& ctx,
                                                    const ValidateClusterCreateRequest& request,
                                                    ValidateClusterCreateResult& result) {
  absl::StatusOr<Cluster> cluster = ParseCluster(request.definition(), "definition");
  if (!cluster.ok()) return cluster.status();
  ValidationErrors errors;
  if (absl::Status s = OnValidateClusterCreate(ctx, *cluster, errors); !s.ok()) return s;
  errors.AppendTo(result);
  return absl::OkStatus();
}

absl::Status OperatorService::ValidateClusterChange(CallContext& ctx,
                                                    const ValidateClusterChangeRequest& request,
                                                    ValidateClusterChangeResult& result) {
  absl::StatusOr<Cluster> old_cluster = ParseCluster(request.old_cluster(), "old_cluster");
  if (!old_cluster.ok()) return old_cluster.status();
  absl::StatusOr<Cluster> new_cluster = ParseCluster(request.new_cluster(), "new_cluster");
  if (!new_cluster.ok()) return new_cluster.status();
  ValidationErrors errors;
  if (absl::Status s = OnValidateClusterChange(ctx, *old_cluster, *new_cluster, errors); !s.ok()) {
    return s;
  }
  errors.AppendTo(result);
  return absl::OkStatus();
}

absl::Status OperatorService::MutateCluster(CallContext& ctx, const MutateClusterRequest& request,
                                            MutateClusterResult& result) {
  absl::StatusOr<Cluster> cluster = ParseCluster(request.definition(), "definition");
  if (!cluster.ok()) return cluster.status();
  if (absl::Status s = OnMutateCluster(ctx, *cluster); !s.ok()) return s;
  absl::StatusOr<std::string> patch = cluster->Patch();
  if (!patch.ok()) return patch.status();
  result.set_json_patch(*std::move(patch));
  return absl::OkStatus();
}

absl::Status OperatorService::SetStatusInCluster(CallContext& ctx,
                                                 const SetStatusInClusterRequest& request,
                                                 SetStatusInClusterResponse& response) {
  absl::StatusOr<Cluster> cluster = ParseCluster(request.cluster(), "cluster");
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<std::optional<nlohmann::json>> status = OnSetStatusInCluster(ctx, *cluster);
  if (!status.ok()) return status.status();
  return SetClusterStatus(*status, response);
}

absl::Status OperatorService::Deregister(CallContext&, const DeregisterRequest&,
                                         DeregisterResponse&) {
  return NotImplemented("cnpgi.operator.v1.Operator/Deregister");
}

// OperatorLifecycle ---------------------------------------------------------

absl::Status LifecycleService::OnLifecycle(CallContext&, const Cluster&, Object&,
                                           LifecycleOperation) {
  return NotImplemented("cnpgi.operator_lifecycle.v1.OperatorLifecycle/LifecycleHook");
}

absl::Status LifecycleService::LifecycleHook(CallContext& ctx, const Request& request,
                                             Response& response) {
  absl::StatusOr<Cluster> cluster =
      ParseCluster(request.cluster_definition(), "cluster_definition");
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<Object> object = Object::Parse(request.object_definition());
  if (!object.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request field object_definition: ", object.status().message()));
  }
  const auto operation = static_cast<LifecycleOperation>(request.operation_type().type());
  if (absl::Status s = OnLifecycle(ctx, *cluster, *object, operation); !s.ok()) return s;
  absl::StatusOr<std::string> patch = object->Patch();
  if (!patch.ok()) return patch.status();
  response.set_json_patch(*std::move(patch));
  return absl::OkStatus();
}

// WAL, Backup, RestoreJobHooks, ReconcilerHooks: raw forms only -------------

absl::Status WalService::Archive(CallContext&, const ArchiveRequest&, ArchiveResult&) {
  return NotImplemented("cnpgi.wal.v1.WAL/Archive");
}
absl::Status WalService::Restore(CallContext&, const RestoreRequest&, RestoreResult&) {
  return NotImplemented("cnpgi.wal.v1.WAL/Restore");
}
absl::Status WalService::Status(CallContext&, const StatusRequest&, StatusResult&) {
  return NotImplemented("cnpgi.wal.v1.WAL/Status");
}
absl::Status WalService::SetFirstRequired(CallContext&, const SetFirstRequiredRequest&,
                                          SetFirstRequiredResult&) {
  return NotImplemented("cnpgi.wal.v1.WAL/SetFirstRequired");
}

absl::Status BackupService::Backup(CallContext&, const Request&, Result&) {
  return NotImplemented("cnpgi.backup.v1.Backup/Backup");
}

absl::Status RestoreJobService::Restore(CallContext&, const Request&, Response&) {
  return NotImplemented("cnpgi.wal.v1.RestoreJobHooks/Restore");
}

absl::Status ReconcilerHooksService::Pre(CallContext&, const Request&, Result&) {
  return NotImplemented("cnpgi.reconciler.v1.ReconcilerHooks/Pre");
}
absl::Status ReconcilerHooksService::Post(CallContext&, const Request&, Result&) {
  return NotImplemented("cnpgi.reconciler.v1.ReconcilerHooks/Post");
}

// Postgres ------------------------------------------------------------------

absl::Status PostgresService::OnEnrichConfiguration(CallContext&, const Cluster&,
                                                    PostgresConfiguration&,
                                                    ConfigurationOperation) {
  return NotImplemented("cnpgi.identity.v1.Postgres/EnrichConfiguration");
}

absl::Status PostgresService::EnrichConfiguration(CallContext& ctx, const Request& request,
                                                  Result& result) {
  absl::StatusOr<Cluster> cluster =
      ParseCluster(request.cluster_definition(), "cluster_definition");
  if (!cluster.ok()) return cluster.status();
  PostgresConfiguration configuration(request);
  const auto operation = static_cast<ConfigurationOperation>(request.operation_type().type());
  if (absl::Status s = OnEnrichConfiguration(ctx, *cluster, configuration, operation); !s.ok()) {
    return s;
  }
  configuration.WriteTo(result);
  return absl::OkStatus();
}

// Metrics -------------------------------------------------------------------

absl::Status MetricsService::OnCollect(CallContext&, const Cluster&, CollectResult&) {
  return NotImplemented("cnpgi.metrics.v1.Metrics/Collect");
}

absl::Status MetricsService::Define(CallContext&, const DefineRequest&, DefineResult& result) {
  const MetricRegistry* registry = DeclaredMetrics();
  if (registry == nullptr) return NotImplemented("cnpgi.metrics.v1.Metrics/Define");
  registry->Define(result);
  return absl::OkStatus();
}

absl::Status MetricsService::Collect(CallContext& ctx, const CollectRequest& request,
                                     CollectResult& result) {
  absl::StatusOr<Cluster> cluster =
      ParseCluster(request.cluster_definition(), "cluster_definition");
  if (!cluster.ok()) return cluster.status();
  if (absl::Status s = OnCollect(ctx, *cluster, result); !s.ok()) return s;
  // A sample the exporter cannot match to a definition breaks the whole
  // scrape of plugin metrics: refuse it here, with its name.
  if (const MetricRegistry* registry = DeclaredMetrics(); registry != nullptr) {
    return registry->Check(result);
  }
  return absl::OkStatus();
}

}  // namespace cnpgi
