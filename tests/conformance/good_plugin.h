// A plugin built with the SDK that serves every CNPG-I service the way the
// operator expects, so that every conformance check passes against it. Used
// in-process by the kit tests and as a process (good_plugin_main.cc) by the
// checker tests.
//
// Its configuration, in the Cluster's spec.plugins[] entry:
//   mode       "annotate" (default) or "label": what EVALUATE/CREATE adds
//   archiveDir directory of the WAL archive and backups (WAL and Backup
//              calls fail without it)
#ifndef CNPGI_TESTS_CONFORMANCE_GOOD_PLUGIN_H_
#define CNPGI_TESTS_CONFORMANCE_GOOD_PLUGIN_H_

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "cnpgi/cnpgi.h"

namespace cnpgi::conformance_test {

inline constexpr char kGoodPluginName[] = "good.conformance.cnpgi.example";

inline PluginMetadata GoodMetadata() {
  PluginMetadata m;
  m.name = kGoodPluginName;
  m.version = "1.0.0";
  m.display_name = "Conformance test plugin";
  m.vendor = "cnpgi-cpp tests";
  return m;
}

// This plugin's parameters in a Cluster, or an error naming what is wrong.
inline absl::StatusOr<PluginConfiguration> Configuration(const CallContext& ctx,
                                                         const Cluster& cluster) {
  return cluster.GetPlugin(ctx.plugin_name());
}

class GoodOperator final : public OperatorService {
  absl::Status OnValidateClusterCreate(CallContext& ctx, const Cluster& cluster,
                                       ValidationErrors& errors) override {
    absl::StatusOr<PluginConfiguration> me = Configuration(ctx, cluster);
    if (!me.ok()) return me.status();
    me->parameters().GetString("mode", errors, {.one_of = {"annotate", "label"}});
    me->parameters().RejectUnknown({"mode", "archiveDir"}, errors);
    return absl::OkStatus();
  }
  absl::Status OnValidateClusterChange(CallContext& ctx, const Cluster&, const Cluster& cluster,
                                       ValidationErrors& errors) override {
    return OnValidateClusterCreate(ctx, cluster, errors);
  }
  absl::Status OnMutateCluster(CallContext& ctx, Cluster& cluster) override {
    absl::StatusOr<PluginConfiguration> me = Configuration(ctx, cluster);
    if (!me.ok()) return me.status();
    if (me->parameters().contains("mode")) return absl::OkStatus();
    return cluster.SetPluginParameter(ctx.plugin_name(), "mode", "annotate");
  }
  absl::StatusOr<std::optional<nlohmann::json>> OnSetStatusInCluster(
      CallContext& ctx, const Cluster& cluster) override {
    absl::StatusOr<PluginConfiguration> me = Configuration(ctx, cluster);
    if (!me.ok()) return me.status();
    return std::optional<nlohmann::json>(nlohmann::json{
        {"enabled", true}, {"instances", cluster.json()["spec"].value("instances", 0)}});
  }
};

class GoodLifecycle final : public LifecycleService {
  std::vector<LifecycleSubscription> Subscriptions() const override {
    return {{"", "Pod", {LifecycleOperation::kCreate, LifecycleOperation::kEvaluate}},
            {"batch", "Job", {LifecycleOperation::kCreate}}};
  }
  absl::Status OnLifecycle(CallContext& ctx, const Cluster& cluster, Object& object,
                           LifecycleOperation) override {
    absl::StatusOr<PluginConfiguration> me = Configuration(ctx, cluster);
    if (!me.ok()) return me.status();
    const std::string mode(me->parameters().Get("mode").value_or("annotate"));
    absl::Status s = mode == "label"
                         ? object.SetLabel("conformance.cnpgi.example/plugin", "good")
                         : object.SetAnnotation("conformance.cnpgi.example/plugin", "good");
    if (!s.ok()) return s;
    SidecarOptions sidecar;
    sidecar.container = {{"name", "conformance-sidecar"},
                         {"image", "registry.example/conformance-sidecar:1.0.0"},
                         {"args", {"instance"}}};
    return InjectSidecar(object, sidecar);
  }
};

class GoodHooks final : public ReconcilerHooksService {
  std::vector<ReconciledKind> HookedKinds() const override {
    return {ReconciledKind::kCluster, ReconciledKind::kBackup};
  }
  absl::Status Pre(CallContext&, const Request& request, Result& result) override {
    absl::StatusOr<Cluster> cluster = Cluster::Parse(request.cluster_definition());
    if (!cluster.ok()) return cluster.status();
    result.set_behavior(reconciler::v1::ReconcilerHooksResult::BEHAVIOR_CONTINUE);
    return absl::OkStatus();
  }
  absl::Status Post(CallContext& ctx, const Request& request, Result& result) override {
    return Pre(ctx, request, result);
  }
};

class GoodPostgres final : public PostgresService {
  absl::Status OnEnrichConfiguration(CallContext&, const Cluster&,
                                     PostgresConfiguration& configuration,
                                     ConfigurationOperation) override {
    configuration.Set("cnpgi_good.enabled", "on");
    return absl::OkStatus();
  }
};

class GoodMetrics final : public MetricsService {
 public:
  GoodMetrics() {
    up_.emplace(*registry_.Add({.name = "cnpgi_good_up",
                                .help = "1 when the plugin is up",
                                .type = MetricType::kGauge,
                                .label_names = {"cluster"}}));
  }
  const MetricRegistry* DeclaredMetrics() const override { return &registry_; }
  absl::Status OnCollect(CallContext&, const Cluster& cluster, CollectResult& result) override {
    return up_->Collect(result, 1, {cluster.name()});
  }

 private:
  MetricRegistry registry_;
  std::optional<Metric> up_;
};

// WAL in a directory (parameter archiveDir), plus Backup and the restore
// job, as a sidecar plugin would.
class GoodWal final : public WalService, public BackupService, public RestoreJobService {
  static absl::StatusOr<std::filesystem::path> ArchiveDir(const std::string& cluster_json,
                                                          std::string_view plugin) {
    absl::StatusOr<Cluster> cluster = Cluster::Parse(cluster_json);
    if (!cluster.ok()) return cluster.status();
    absl::StatusOr<PluginConfiguration> me = cluster->GetPlugin(plugin);
    if (!me.ok()) return me.status();
    std::optional<std::string_view> dir = me->parameters().Get("archiveDir");
    if (!dir || dir->empty()) {
      return absl::FailedPreconditionError("parameter archiveDir is not set");
    }
    return std::filesystem::path(*dir);
  }

  absl::Status Archive(CallContext& ctx, const ArchiveRequest& request, ArchiveResult&) override {
    auto dir = ArchiveDir(request.cluster_definition(), ctx.plugin_name());
    if (!dir.ok()) return dir.status();
    std::error_code ec;
    std::filesystem::create_directories(*dir, ec);
    const std::filesystem::path source(request.source_file_name());
    std::filesystem::copy_file(source, *dir / source.filename(),
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) return absl::InternalError("archiving " + source.string() + ": " + ec.message());
    return absl::OkStatus();
  }
  absl::Status Restore(CallContext& ctx, const WalService::RestoreRequest& request,
                       RestoreResult&) override {
    auto dir = ArchiveDir(request.cluster_definition(), ctx.plugin_name());
    if (!dir.ok()) return dir.status();
    const std::filesystem::path stored = *dir / request.source_wal_name();
    if (!std::filesystem::exists(stored)) {
      return WalNotFoundError(request.source_wal_name(), dir->string());
    }
    std::error_code ec;
    std::filesystem::copy_file(stored, request.destination_file_name(),
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) return absl::InternalError("restoring: " + ec.message());
    return absl::OkStatus();
  }
  absl::Status Backup(CallContext& ctx, const BackupService::Request& request,
                      BackupService::Result& result) override {
    auto dir = ArchiveDir(request.cluster_definition(), ctx.plugin_name());
    if (!dir.ok()) return dir.status();
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    result.set_backup_id("backup-" + std::to_string(now));
    result.set_started_at(now);
    result.set_stopped_at(now);
    result.set_online(true);
    return absl::OkStatus();
  }
  absl::Status Restore(CallContext&, const RestoreJobService::Request& request,
                       RestoreJobService::Response& response) override {
    absl::StatusOr<Cluster> cluster = Cluster::Parse(request.cluster_definition());
    if (!cluster.ok()) return cluster.status();
    response.set_restore_config(
        "restore_command = '/controller/manager wal-restore --log-destination "
        "/controller/log/postgres.json %f %p'\nrecovery_target_action = promote\n");
    return absl::OkStatus();
  }
};

inline PluginServer MakeGoodPlugin() {
  PluginServer server(GoodMetadata());
  server.Add(std::make_shared<GoodOperator>())
      .Add(std::make_shared<GoodLifecycle>())
      .Add(std::make_shared<GoodHooks>())
      .Add(std::make_shared<GoodPostgres>())
      .Add(std::make_shared<GoodMetrics>())
      .Add(std::make_shared<GoodWal>())
      .Declare(SidecarInjection{.instance_pods = true});
  return server;
}

}  // namespace cnpgi::conformance_test

#endif  // CNPGI_TESTS_CONFORMANCE_GOOD_PLUGIN_H_
