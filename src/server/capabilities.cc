#include "server/capabilities.h"

#include <algorithm>
#include <exception>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cnpgi::internal {
namespace {

using ServiceType = identity::v1::PluginCapability::Service::Type;

class Derivation {
 public:
  explicit Derivation(const ServiceSet& services) : services_(services) {}

  absl::StatusOr<Capabilities> Run() {
    for (const auto& e : services_.registration_errors) problems_.push_back(e);
    Operator();
    Wal();
    Backup();
    Lifecycle();
    ReconcilerHooks();
    RestoreJob();
    Postgres();
    Metrics();
    if (services_.sidecar_injection.instance_pods) {
      Advertise(identity::v1::PluginCapability::Service::TYPE_INSTANCE_SIDECAR_INJECTION);
    }
    if (services_.sidecar_injection.job_pods) {
      Advertise(identity::v1::PluginCapability::Service::TYPE_INSTANCE_JOB_SIDECAR_INJECTION);
    }
    if (caps_.identity.capabilities_size() == 0 && problems_.empty()) {
      problems_.push_back(
          "no service was added: add at least one (OperatorService, LifecycleService, "
          "WalService, ...) with PluginServer::add()");
    }
    if (!problems_.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the plugin's services cannot be advertised to the operator: ",
                       absl::StrJoin(problems_, "; ")));
    }
    // Keep the list in the protocol's numbering: stable across restarts and
    // easy to compare with status.pluginStatus[].capabilities.
    auto* list = caps_.identity.mutable_capabilities();
    std::sort(list->begin(), list->end(),
              [](const auto& a, const auto& b) { return a.service().type() < b.service().type(); });
    return std::move(caps_);
  }

 private:
  void Advertise(ServiceType type) {
    caps_.identity.add_capabilities()->mutable_service()->set_type(type);
  }

  // Common checks; true when the service should be advertised.
  template <class Slot>
  bool Check(const Slot& slot, const char* service, const char* rpcs) {
    if (!slot.added()) return false;
    if (slot.times_added > 1) {
      problems_.push_back(absl::StrCat(service, " was added ", slot.times_added,
                                       " times; a plugin endpoint serves each service once"));
      return false;
    }
    if (slot.overridden == 0) {
      problems_.push_back(absl::StrCat(service, " was added but overrides none of its RPCs (", rpcs,
                                       "): the operator would find nothing to call"));
      return false;
    }
    return true;
  }

  void Operator() {
    const auto& slot = services_.op;
    if (!Check(slot, "OperatorService",
               "ValidateClusterCreate, ValidateClusterChange, MutateCluster, "
               "SetStatusInCluster, Deregister")) {
      return;
    }
    using Rpc = operator_::v1::OperatorCapability::RPC;
    const std::pair<int, Rpc::Type> map[] = {
        {kValidateClusterCreate, Rpc::TYPE_VALIDATE_CLUSTER_CREATE},
        {kValidateClusterChange, Rpc::TYPE_VALIDATE_CLUSTER_CHANGE},
        {kMutateCluster, Rpc::TYPE_MUTATE_CLUSTER},
        {kSetStatusInCluster, Rpc::TYPE_SET_STATUS_IN_CLUSTER},
        {kDeregister, Rpc::TYPE_DEREGISTER},
    };
    for (const auto& [bit, type] : map) {
      if (slot.overrides(bit)) caps_.op.add_capabilities()->mutable_rpc()->set_type(type);
    }
    Advertise(identity::v1::PluginCapability::Service::TYPE_OPERATOR_SERVICE);
  }

  void Wal() {
    const auto& slot = services_.wal;
    if (!Check(slot, "WalService", "Archive, Restore, Status, SetFirstRequired")) return;
    using Rpc = wal::v1::WALCapability::RPC;
    const std::pair<int, Rpc::Type> map[] = {
        {kArchive, Rpc::TYPE_ARCHIVE_WAL},
        {kRestoreWal, Rpc::TYPE_RESTORE_WAL},
        {kStatus, Rpc::TYPE_STATUS},
        {kSetFirstRequired, Rpc::TYPE_SET_FIRST_REQUIRED},
    };
    for (const auto& [bit, type] : map) {
      if (slot.overrides(bit)) caps_.wal.add_capabilities()->mutable_rpc()->set_type(type);
    }
    Advertise(identity::v1::PluginCapability::Service::TYPE_WAL_SERVICE);
  }

  void Backup() {
    if (!Check(services_.backup, "BackupService", "Backup")) return;
    caps_.backup.add_capabilities()->mutable_rpc()->set_type(
        backup::v1::BackupCapability::RPC::TYPE_BACKUP);
    Advertise(identity::v1::PluginCapability::Service::TYPE_BACKUP_SERVICE);
  }

  void Lifecycle() {
    const auto& slot = services_.lifecycle;
    if (!Check(slot, "LifecycleService", "LifecycleHook")) return;
    std::vector<LifecycleSubscription> subscriptions;
    if (!CallDeclaration("LifecycleService::Subscriptions()",
                         [&] { subscriptions = slot.service->Subscriptions(); })) {
      return;
    }
    if (subscriptions.empty()) {
      problems_.push_back(
          "LifecycleService::Subscriptions() is empty: declare which kinds and operations to "
          "hook, e.g. {.group = \"\", .kind = \"Pod\", .operations = {kCreate, kEvaluate}}");
      return;
    }
    for (std::size_t i = 0; i < subscriptions.size(); ++i) {
      const auto& s = subscriptions[i];
      const std::string where = absl::StrCat("LifecycleService::Subscriptions()[", i, "]");
      if (s.kind.empty()) {
        problems_.push_back(absl::StrCat(where, " has no kind (\"Pod\", \"Job\", ...)"));
        continue;
      }
      if (s.operations.empty()) {
        problems_.push_back(absl::StrCat(where, " (", s.kind, ") lists no operations"));
        continue;
      }
      auto* out = caps_.lifecycle.add_lifecycle_capabilities();
      out->set_group(s.group);
      out->set_kind(s.kind);
      std::set<int> seen;
      for (const auto op : s.operations) {
        const int value = static_cast<int>(op);
        if (!operator_lifecycle::v1::OperatorOperationType::Type_IsValid(value) || value == 0) {
          problems_.push_back(
              absl::StrCat(where, " (", s.kind, ") has an unknown operation ", value));
          continue;
        }
        // A duplicate would make the operator call the hook twice.
        if (!seen.insert(value).second) continue;
        out->add_operation_types()->set_type(
            static_cast<operator_lifecycle::v1::OperatorOperationType::Type>(value));
      }
    }
    Advertise(identity::v1::PluginCapability::Service::TYPE_LIFECYCLE_SERVICE);
  }

  void ReconcilerHooks() {
    const auto& slot = services_.reconciler_hooks;
    if (!Check(slot, "ReconcilerHooksService", "Pre, Post")) return;
    std::vector<ReconciledKind> kinds;
    if (!CallDeclaration("ReconcilerHooksService::HookedKinds()",
                         [&] { kinds = slot.service->HookedKinds(); })) {
      return;
    }
    if (kinds.empty()) {
      problems_.push_back(
          "ReconcilerHooksService::HookedKinds() is empty: declare kCluster and/or kBackup");
      return;
    }
    std::set<int> seen;
    for (const auto kind : kinds) {
      const int value = static_cast<int>(kind);
      if (!reconciler::v1::ReconcilerHooksCapability::Kind_IsValid(value) || value == 0) {
        problems_.push_back(
            absl::StrCat("ReconcilerHooksService::HookedKinds() has an unknown kind ", value));
        continue;
      }
      if (!seen.insert(value).second) continue;
      caps_.reconciler_hooks.add_reconciler_capabilities()->set_kind(
          static_cast<reconciler::v1::ReconcilerHooksCapability::Kind>(value));
    }
    Advertise(identity::v1::PluginCapability::Service::TYPE_RECONCILER_HOOKS);
  }

  void RestoreJob() {
    if (!Check(services_.restore_job, "RestoreJobService", "Restore")) return;
    caps_.restore_job.add_capabilities()->set_kind(
        wal::v1::RestoreJobHooksCapability::KIND_RESTORE);
    Advertise(identity::v1::PluginCapability::Service::TYPE_RESTORE_JOB);
  }

  void Postgres() {
    if (!Check(services_.postgres, "PostgresService", "EnrichConfiguration")) return;
    caps_.postgres.add_capabilities()->mutable_rpc()->set_type(
        identity::v1::PostgresCapability::RPC::TYPE_ENRICH_CONFIGURATION);
    Advertise(identity::v1::PluginCapability::Service::TYPE_POSTGRES);
  }

  void Metrics() {
    const auto& slot = services_.metrics;
    if (!Check(slot, "MetricsService", "Define, Collect")) return;
    // The exporter calls Define then Collect on every scrape: one without
    // the other fails every scrape.
    if (!slot.overrides(kDefine) || !slot.overrides(kCollect)) {
      problems_.push_back(absl::StrCat("MetricsService overrides ",
                                       slot.overrides(kDefine) ? "Define" : "Collect", " but not ",
                                       slot.overrides(kDefine) ? "Collect" : "Define",
                                       ": the metrics exporter always calls both"));
      return;
    }
    caps_.metrics.add_capabilities()->mutable_rpc()->set_type(
        metrics::v1::MetricsCapability::RPC::TYPE_METRICS);
    Advertise(identity::v1::PluginCapability::Service::TYPE_METRICS);
  }

  // Declarations are plugin code: an exception there is a startup error,
  // not a crash.
  template <class F>
  bool CallDeclaration(const char* what, F&& f) {
    try {
      f();
      return true;
    } catch (const std::exception& e) {
      problems_.push_back(absl::StrCat(what, " threw: ", e.what()));
    } catch (...) {
      problems_.push_back(absl::StrCat(what, " threw an exception"));
    }
    return false;
  }

  const ServiceSet& services_;
  Capabilities caps_;
  std::vector<std::string> problems_;
};

}  // namespace

absl::StatusOr<Capabilities> DeriveCapabilities(const ServiceSet& services) {
  return Derivation(services).Run();
}

}  // namespace cnpgi::internal
