// The CNPG-I RPCs and services the client knows: names, method paths, the
// operator's handshake order.
#include "cnpgi/testing/plugin_client.h"

#include <string_view>
#include <vector>

#include "testing/internal.h"

namespace cnpgi::test {

// Tables ---------------------------------------------------------------------

namespace {

struct RpcInfo {
  Rpc rpc;
  Service service;
  std::string_view method;
};

constexpr RpcInfo kRpcs[] = {
    {Rpc::kValidateClusterCreate, Service::kOperator,
     "/cnpgi.operator.v1.Operator/ValidateClusterCreate"},
    {Rpc::kValidateClusterChange, Service::kOperator,
     "/cnpgi.operator.v1.Operator/ValidateClusterChange"},
    {Rpc::kMutateCluster, Service::kOperator, "/cnpgi.operator.v1.Operator/MutateCluster"},
    {Rpc::kSetStatusInCluster, Service::kOperator,
     "/cnpgi.operator.v1.Operator/SetStatusInCluster"},
    {Rpc::kDeregister, Service::kOperator, "/cnpgi.operator.v1.Operator/Deregister"},
    {Rpc::kLifecycleHook, Service::kLifecycle,
     "/cnpgi.operator_lifecycle.v1.OperatorLifecycle/LifecycleHook"},
    {Rpc::kArchiveWal, Service::kWal, "/cnpgi.wal.v1.WAL/Archive"},
    {Rpc::kRestoreWal, Service::kWal, "/cnpgi.wal.v1.WAL/Restore"},
    {Rpc::kWalStatus, Service::kWal, "/cnpgi.wal.v1.WAL/Status"},
    {Rpc::kSetFirstRequired, Service::kWal, "/cnpgi.wal.v1.WAL/SetFirstRequired"},
    {Rpc::kBackup, Service::kBackup, "/cnpgi.backup.v1.Backup/Backup"},
    {Rpc::kPreReconcile, Service::kReconcilerHooks, "/cnpgi.reconciler.v1.ReconcilerHooks/Pre"},
    {Rpc::kPostReconcile, Service::kReconcilerHooks, "/cnpgi.reconciler.v1.ReconcilerHooks/Post"},
    {Rpc::kRestoreJob, Service::kRestoreJob, "/cnpgi.wal.v1.RestoreJobHooks/Restore"},
    {Rpc::kEnrichConfiguration, Service::kPostgres,
     "/cnpgi.identity.v1.Postgres/EnrichConfiguration"},
    {Rpc::kDefineMetrics, Service::kMetrics, "/cnpgi.metrics.v1.Metrics/Define"},
    {Rpc::kCollectMetrics, Service::kMetrics, "/cnpgi.metrics.v1.Metrics/Collect"},
};

const RpcInfo& Info(Rpc rpc) {
  for (const RpcInfo& info : kRpcs) {
    if (info.rpc == rpc) return info;
  }
  return kRpcs[0];  // unreachable: every enumerator is in the table
}

}  // namespace

const std::vector<Rpc>& AllRpcs() {
  static const std::vector<Rpc>* const all = [] {
    auto* out = new std::vector<Rpc>;
    for (const RpcInfo& info : kRpcs) out->push_back(info.rpc);
    return out;
  }();
  return *all;
}

Service ServiceOf(Rpc rpc) { return Info(rpc).service; }
std::string_view MethodOf(Rpc rpc) { return Info(rpc).method; }
std::string_view NameOf(Rpc rpc) { return Info(rpc).method.substr(1); }

std::string_view NameOf(Service service) {
  switch (service) {
    case Service::kOperator:
      return "TYPE_OPERATOR_SERVICE";
    case Service::kWal:
      return "TYPE_WAL_SERVICE";
    case Service::kBackup:
      return "TYPE_BACKUP_SERVICE";
    case Service::kLifecycle:
      return "TYPE_LIFECYCLE_SERVICE";
    case Service::kReconcilerHooks:
      return "TYPE_RECONCILER_HOOKS";
    case Service::kRestoreJob:
      return "TYPE_RESTORE_JOB";
    case Service::kPostgres:
      return "TYPE_POSTGRES";
    case Service::kMetrics:
      return "TYPE_METRICS";
  }
  return "TYPE_UNKNOWN";
}

std::string_view internal::CapabilitiesMethodOf(Service service) {
  switch (service) {
    case Service::kOperator:
      return "/cnpgi.operator.v1.Operator/GetCapabilities";
    case Service::kWal:
      return "/cnpgi.wal.v1.WAL/GetCapabilities";
    case Service::kBackup:
      return "/cnpgi.backup.v1.Backup/GetCapabilities";
    case Service::kLifecycle:
      return "/cnpgi.operator_lifecycle.v1.OperatorLifecycle/GetCapabilities";
    case Service::kReconcilerHooks:
      return "/cnpgi.reconciler.v1.ReconcilerHooks/GetCapabilities";
    case Service::kRestoreJob:
      return "/cnpgi.wal.v1.RestoreJobHooks/GetCapabilities";
    case Service::kPostgres:
      return "/cnpgi.identity.v1.Postgres/GetCapabilities";
    case Service::kMetrics:
      return "/cnpgi.metrics.v1.Metrics/GetCapabilities";
  }
  return "";
}

const std::vector<Service>& internal::HandshakeOrder() {
  static const std::vector<Service>* const order = new std::vector<Service>{
      Service::kOperator,        Service::kLifecycle,  Service::kWal,      Service::kBackup,
      Service::kReconcilerHooks, Service::kRestoreJob, Service::kPostgres, Service::kMetrics,
  };
  return *order;
}

}  // namespace cnpgi::test
