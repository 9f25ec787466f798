// What the operator learns from a plugin's handshake: HandshakeResult.
#include "cnpgi/testing/plugin_client.h"

#include <errno.h>
#include <google/protobuf/empty.pb.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/str_join.h"
#include "cnpgi/json.h"
#include "testing/internal.h"

namespace cnpgi::testing {

using ServiceType = identity::v1::PluginCapability::Service::Type;

// HandshakeResult -------------------------------------------------------------

bool HandshakeResult::Advertises(Service service) const {
  for (const auto& c : capabilities.capabilities()) {
    if (c.has_service() && c.service().type() == static_cast<ServiceType>(service)) return true;
  }
  return false;
}

bool HandshakeResult::DeclaresInstanceSidecarInjection() const {
  for (const auto& c : capabilities.capabilities()) {
    if (c.has_service() &&
        c.service().type() ==
            identity::v1::PluginCapability::Service::TYPE_INSTANCE_SIDECAR_INJECTION) {
      return true;
    }
  }
  return false;
}

bool HandshakeResult::DeclaresJobSidecarInjection() const {
  for (const auto& c : capabilities.capabilities()) {
    if (c.has_service() &&
        c.service().type() ==
            identity::v1::PluginCapability::Service::TYPE_INSTANCE_JOB_SIDECAR_INJECTION) {
      return true;
    }
  }
  return false;
}

namespace {

template <class Result, class Type>
bool HasRpc(const std::optional<Result>& result, Type type) {
  if (!result) return false;
  for (const auto& c : result->capabilities()) {
    if (c.has_rpc() && c.rpc().type() == type) return true;
  }
  return false;
}

template <class Result>
std::vector<std::string> RpcNames(const std::optional<Result>& result) {
  std::vector<std::string> out;
  if (!result) return out;
  for (const auto& c : result->capabilities()) {
    if (c.has_rpc()) out.push_back(c.rpc().Type_Name(c.rpc().type()));
  }
  return out;
}

}  // namespace

bool HandshakeResult::Advertises(Rpc rpc) const {
  using OpRpc = operator_::v1::OperatorCapability::RPC;
  using WalRpc = wal::v1::WALCapability::RPC;
  if (!Advertises(ServiceOf(rpc))) return false;
  switch (rpc) {
    case Rpc::kValidateClusterCreate:
      return HasRpc(operator_capabilities, OpRpc::TYPE_VALIDATE_CLUSTER_CREATE);
    case Rpc::kValidateClusterChange:
      return HasRpc(operator_capabilities, OpRpc::TYPE_VALIDATE_CLUSTER_CHANGE);
    case Rpc::kMutateCluster:
      return HasRpc(operator_capabilities, OpRpc::TYPE_MUTATE_CLUSTER);
    case Rpc::kSetStatusInCluster:
      return HasRpc(operator_capabilities, OpRpc::TYPE_SET_STATUS_IN_CLUSTER);
    case Rpc::kDeregister:
      return HasRpc(operator_capabilities, OpRpc::TYPE_DEREGISTER);
    case Rpc::kLifecycleHook:
      return lifecycle_capabilities && lifecycle_capabilities->lifecycle_capabilities_size() > 0;
    case Rpc::kArchiveWal:
      return HasRpc(wal_capabilities, WalRpc::TYPE_ARCHIVE_WAL);
    case Rpc::kRestoreWal:
      return HasRpc(wal_capabilities, WalRpc::TYPE_RESTORE_WAL);
    case Rpc::kWalStatus:
      return HasRpc(wal_capabilities, WalRpc::TYPE_STATUS);
    case Rpc::kSetFirstRequired:
      return HasRpc(wal_capabilities, WalRpc::TYPE_SET_FIRST_REQUIRED);
    case Rpc::kBackup:
      return HasRpc(backup_capabilities, backup::v1::BackupCapability::RPC::TYPE_BACKUP);
    case Rpc::kPreReconcile:
    case Rpc::kPostReconcile:
      return HooksClusters() || HooksBackups();
    case Rpc::kRestoreJob:
      if (!restore_job_capabilities) return false;
      for (const auto& c : restore_job_capabilities->capabilities()) {
        if (c.kind() == wal::v1::RestoreJobHooksCapability::KIND_RESTORE) return true;
      }
      return false;
    case Rpc::kEnrichConfiguration:
      return HasRpc(postgres_capabilities,
                    identity::v1::PostgresCapability::RPC::TYPE_ENRICH_CONFIGURATION);
    case Rpc::kDefineMetrics:
    case Rpc::kCollectMetrics:
      return HasRpc(metrics_capabilities, metrics::v1::MetricsCapability::RPC::TYPE_METRICS);
  }
  return false;
}

bool HandshakeResult::Subscribes(std::string_view group, std::string_view kind,
                                 LifecycleOperation operation) const {
  if (!lifecycle_capabilities) return false;
  for (const auto& c : lifecycle_capabilities->lifecycle_capabilities()) {
    if (c.group() != group || c.kind() != kind) continue;
    for (const auto& op : c.operation_types()) {
      if (static_cast<int>(op.type()) == static_cast<int>(operation)) return true;
    }
  }
  return false;
}

bool HandshakeResult::HooksClusters() const {
  if (!reconciler_capabilities) return false;
  for (const auto& c : reconciler_capabilities->reconciler_capabilities()) {
    if (c.kind() == reconciler::v1::ReconcilerHooksCapability::KIND_CLUSTER) return true;
  }
  return false;
}

bool HandshakeResult::HooksBackups() const {
  if (!reconciler_capabilities) return false;
  for (const auto& c : reconciler_capabilities->reconciler_capabilities()) {
    if (c.kind() == reconciler::v1::ReconcilerHooksCapability::KIND_BACKUP) return true;
  }
  return false;
}

std::vector<std::string> HandshakeResult::IdentityCapabilityNames() const {
  std::vector<std::string> out;
  for (const auto& c : capabilities.capabilities()) {
    if (c.has_service()) out.push_back(c.service().Type_Name(c.service().type()));
  }
  return out;
}
std::vector<std::string> HandshakeResult::OperatorCapabilityNames() const {
  return RpcNames(operator_capabilities);
}
std::vector<std::string> HandshakeResult::WalCapabilityNames() const {
  return RpcNames(wal_capabilities);
}
std::vector<std::string> HandshakeResult::BackupCapabilityNames() const {
  return RpcNames(backup_capabilities);
}
std::vector<std::string> HandshakeResult::RestoreJobCapabilityNames() const {
  std::vector<std::string> out;
  if (!restore_job_capabilities) return out;
  for (const auto& c : restore_job_capabilities->capabilities()) {
    out.push_back(wal::v1::RestoreJobHooksCapability::Kind_Name(c.kind()));
  }
  return out;
}

}  // namespace cnpgi::testing
