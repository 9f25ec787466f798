#include "server/service_adapters.h"

#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cnpgi/backup/v1/backup.grpc.pb.h"
#include "cnpgi/identity/v1/identity.grpc.pb.h"
#include "cnpgi/identity/v1/postgres.grpc.pb.h"
#include "cnpgi/metrics/v1/metrics.grpc.pb.h"
#include "cnpgi/operator/v1/operator.grpc.pb.h"
#include "cnpgi/operator_lifecycle/v1/operator_lifecycle.grpc.pb.h"
#include "cnpgi/reconciler/v1/reconciler.grpc.pb.h"
#include "cnpgi/wal/v1/restore_job.grpc.pb.h"
#include "cnpgi/wal/v1/wal.grpc.pb.h"

namespace cnpgi::internal {
namespace {

grpc::ByteBuffer Serialized(const google::protobuf::Message& message) {
  grpc::ByteBuffer buffer;
  bool own = false;
  // Serializing a message we built cannot fail short of memory exhaustion.
  (void)grpc::SerializationTraits<google::protobuf::Message>::Serialize(message, &buffer, &own);
  return buffer;
}

// Registers the methods of one CNPG-I service.
enum class CallLength { kShort, kHours };

class ServiceBuilder {
 public:
  ServiceBuilder(AdaptedServices& out, CallRuntime& runtime, std::string_view service_name)
      : out_(out), runtime_(runtime), service_name_(service_name) {
    out_.grpc_services.push_back(std::make_unique<RawCallbackService>());
    service_ = out_.grpc_services.back().get();
    out_.service_names.emplace_back(service_name);
  }

  // A plugin RPC. Overridden ones run plugin code (MakeHandler); the others
  // are not advertised and answer UNIMPLEMENTED at once, without parsing.
  // `length`: kHours for calls that last for hours by design.
  template <class Request, class Response, class Invoke>
  void Rpc(std::string_view method, bool overridden, Invoke invoke,
           CallLength length = CallLength::kShort) {
    const MethodInfo& info =
        Describe(method, Request::descriptor()->full_name(), length == CallLength::kHours);
    if (!overridden) {
      service_->AddUnaryMethod(info.path, MakeUnimplementedHandler(runtime_, info));
      return;
    }
    service_->AddUnaryMethod(info.path,
                             MakeHandler<Request, Response>(runtime_, info, std::move(invoke)));
  }

  void Constant(std::string_view method, std::string_view request_type,
                const google::protobuf::Message& response) {
    const MethodInfo& info = Describe(method, request_type);
    service_->AddUnaryMethod(info.path, MakeConstantHandler(runtime_, info, Serialized(response)));
  }

  template <class Request>
  void Capabilities(const google::protobuf::Message& response) {
    Constant("GetCapabilities", Request::descriptor()->full_name(), response);
  }

 private:
  const MethodInfo& Describe(std::string_view method, std::string_view request_type,
                             bool runs_long = false) {
    std::string path = "/" + service_name_ + "/";
    path.append(method);
    out_.methods.push_back(MethodInfo{std::move(path), std::string(request_type), runs_long});
    return out_.methods.back();
  }

  AdaptedServices& out_;
  CallRuntime& runtime_;
  std::string service_name_;
  RawCallbackService* service_;
};

// The call of one RPC on the plugin's object, as a value the handler keeps.
#define CNPGI_CALL(object, Method)                                                  \
  [object](CallContext& ctx, const auto& request, auto& response) -> absl::Status { \
    return object->Method(ctx, request, response);                                  \
  }

void AdaptIdentity(AdaptedServices& out, CallRuntime& runtime, const ServiceSet& set,
                   const Capabilities& caps,
                   const identity::v1::GetPluginMetadataResponse& metadata) {
  ServiceBuilder b(out, runtime, identity::v1::Identity::service_full_name());
  b.Constant("GetPluginMetadata", identity::v1::GetPluginMetadataRequest::descriptor()->full_name(),
             metadata);
  b.Constant("GetPluginCapabilities",
             identity::v1::GetPluginCapabilitiesRequest::descriptor()->full_name(), caps.identity);
  if (set.identity.overrides(0)) {
    auto identity = set.identity.service;
    b.Rpc<identity::v1::ProbeRequest, identity::v1::ProbeResponse>(
        "Probe", true,
        [identity](CallContext& ctx, const identity::v1::ProbeRequest&,
                   identity::v1::ProbeResponse& response) -> absl::Status {
          absl::Status status = identity->Probe(ctx);
          response.set_ready(status.ok());
          return status;
        });
  } else {
    identity::v1::ProbeResponse ready;
    ready.set_ready(true);
    b.Constant("Probe", identity::v1::ProbeRequest::descriptor()->full_name(), ready);
  }
}

void AdaptOperator(AdaptedServices& out, CallRuntime& runtime,
                   const ServiceSlot<OperatorService>& slot, const Capabilities& caps) {
  using S = OperatorService;
  ServiceBuilder b(out, runtime, operator_::v1::Operator::service_full_name());
  b.Capabilities<operator_::v1::OperatorCapabilitiesRequest>(caps.op);
  auto s = slot.service;
  b.Rpc<S::ValidateClusterCreateRequest, S::ValidateClusterCreateResult>(
      "ValidateClusterCreate", slot.overrides(kValidateClusterCreate),
      CNPGI_CALL(s, ValidateClusterCreate));
  b.Rpc<S::ValidateClusterChangeRequest, S::ValidateClusterChangeResult>(
      "ValidateClusterChange", slot.overrides(kValidateClusterChange),
      CNPGI_CALL(s, ValidateClusterChange));
  b.Rpc<S::MutateClusterRequest, S::MutateClusterResult>(
      "MutateCluster", slot.overrides(kMutateCluster), CNPGI_CALL(s, MutateCluster));
  b.Rpc<S::SetStatusInClusterRequest, S::SetStatusInClusterResponse>(
      "SetStatusInCluster", slot.overrides(kSetStatusInCluster), CNPGI_CALL(s, SetStatusInCluster));
  b.Rpc<S::DeregisterRequest, S::DeregisterResponse>("Deregister", slot.overrides(kDeregister),
                                                     CNPGI_CALL(s, Deregister));
}

void AdaptLifecycle(AdaptedServices& out, CallRuntime& runtime,
                    const ServiceSlot<LifecycleService>& slot, const Capabilities& caps) {
  ServiceBuilder b(out, runtime, operator_lifecycle::v1::OperatorLifecycle::service_full_name());
  b.Capabilities<operator_lifecycle::v1::OperatorLifecycleCapabilitiesRequest>(caps.lifecycle);
  auto s = slot.service;
  b.Rpc<LifecycleService::Request, LifecycleService::Response>("LifecycleHook", slot.overrides(0),
                                                               CNPGI_CALL(s, LifecycleHook));
}

void AdaptWal(AdaptedServices& out, CallRuntime& runtime, const ServiceSlot<WalService>& slot,
              const Capabilities& caps) {
  using S = WalService;
  ServiceBuilder b(out, runtime, wal::v1::WAL::service_full_name());
  b.Capabilities<wal::v1::WALCapabilitiesRequest>(caps.wal);
  auto s = slot.service;
  b.Rpc<S::ArchiveRequest, S::ArchiveResult>("Archive", slot.overrides(kArchive),
                                             CNPGI_CALL(s, Archive));
  b.Rpc<S::RestoreRequest, S::RestoreResult>("Restore", slot.overrides(kRestoreWal),
                                             CNPGI_CALL(s, Restore));
  b.Rpc<S::StatusRequest, S::StatusResult>("Status", slot.overrides(kStatus),
                                           CNPGI_CALL(s, Status));
  b.Rpc<S::SetFirstRequiredRequest, S::SetFirstRequiredResult>(
      "SetFirstRequired", slot.overrides(kSetFirstRequired), CNPGI_CALL(s, SetFirstRequired));
}

void AdaptBackup(AdaptedServices& out, CallRuntime& runtime, const ServiceSlot<BackupService>& slot,
                 const Capabilities& caps) {
  ServiceBuilder b(out, runtime, backup::v1::Backup::service_full_name());
  b.Capabilities<backup::v1::BackupCapabilitiesRequest>(caps.backup);
  auto s = slot.service;
  b.Rpc<BackupService::Request, BackupService::Result>("Backup", slot.overrides(0),
                                                       CNPGI_CALL(s, Backup), CallLength::kHours);
}

void AdaptReconcilerHooks(AdaptedServices& out, CallRuntime& runtime,
                          const ServiceSlot<ReconcilerHooksService>& slot,
                          const Capabilities& caps) {
  using S = ReconcilerHooksService;
  ServiceBuilder b(out, runtime, reconciler::v1::ReconcilerHooks::service_full_name());
  b.Capabilities<reconciler::v1::ReconcilerHooksCapabilitiesRequest>(caps.reconciler_hooks);
  auto s = slot.service;
  b.Rpc<S::Request, S::Result>("Pre", slot.overrides(kPre), CNPGI_CALL(s, Pre));
  b.Rpc<S::Request, S::Result>("Post", slot.overrides(kPost), CNPGI_CALL(s, Post));
}

void AdaptRestoreJob(AdaptedServices& out, CallRuntime& runtime,
                     const ServiceSlot<RestoreJobService>& slot, const Capabilities& caps) {
  ServiceBuilder b(out, runtime, wal::v1::RestoreJobHooks::service_full_name());
  b.Capabilities<wal::v1::RestoreJobHooksCapabilitiesRequest>(caps.restore_job);
  auto s = slot.service;
  b.Rpc<RestoreJobService::Request, RestoreJobService::Response>(
      "Restore", slot.overrides(0), CNPGI_CALL(s, Restore), CallLength::kHours);
}

void AdaptPostgres(AdaptedServices& out, CallRuntime& runtime,
                   const ServiceSlot<PostgresService>& slot, const Capabilities& caps) {
  ServiceBuilder b(out, runtime, identity::v1::Postgres::service_full_name());
  b.Capabilities<identity::v1::PostgresCapabilitiesRequest>(caps.postgres);
  auto s = slot.service;
  b.Rpc<PostgresService::Request, PostgresService::Result>("EnrichConfiguration", slot.overrides(0),
                                                           CNPGI_CALL(s, EnrichConfiguration));
}

void AdaptMetrics(AdaptedServices& out, CallRuntime& runtime,
                  const ServiceSlot<MetricsService>& slot, const Capabilities& caps) {
  using S = MetricsService;
  ServiceBuilder b(out, runtime, metrics::v1::Metrics::service_full_name());
  b.Capabilities<metrics::v1::MetricsCapabilitiesRequest>(caps.metrics);
  auto s = slot.service;
  b.Rpc<S::DefineRequest, S::DefineResult>("Define", slot.overrides(kDefine),
                                           CNPGI_CALL(s, Define));
  b.Rpc<S::CollectRequest, S::CollectResult>("Collect", slot.overrides(kCollect),
                                             CNPGI_CALL(s, Collect));
}

#undef CNPGI_CALL

}  // namespace

std::unique_ptr<AdaptedServices> AdaptServices(
    const ServiceSet& set, const Capabilities& caps,
    const identity::v1::GetPluginMetadataResponse& metadata, CallRuntime& runtime) {
  auto out = std::make_unique<AdaptedServices>();
  AdaptIdentity(*out, runtime, set, caps, metadata);
  // DeriveCapabilities has refused anything added but not advertisable, so
  // "added" here means "advertised".
  if (set.op.added()) AdaptOperator(*out, runtime, set.op, caps);
  if (set.lifecycle.added()) AdaptLifecycle(*out, runtime, set.lifecycle, caps);
  if (set.wal.added()) AdaptWal(*out, runtime, set.wal, caps);
  if (set.backup.added()) AdaptBackup(*out, runtime, set.backup, caps);
  if (set.reconciler_hooks.added()) {
    AdaptReconcilerHooks(*out, runtime, set.reconciler_hooks, caps);
  }
  if (set.restore_job.added()) AdaptRestoreJob(*out, runtime, set.restore_job, caps);
  if (set.postgres.added()) AdaptPostgres(*out, runtime, set.postgres, caps);
  if (set.metrics.added()) AdaptMetrics(*out, runtime, set.metrics, caps);
  return out;
}

}  // namespace cnpgi::internal
