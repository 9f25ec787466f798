#include "operator_services.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <system_error>

#include "backup_catalog.h"
#include "configuration.h"
#include "file_io.h"
#include "wal_archive.h"

namespace directory_backup {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Rfc3339(std::int64_t unix_seconds) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

// The sidecar's volumes: the claim of each configuration that names one,
// mounted at its destination (once per claim and path).
struct StoreVolume {
  std::string claim;
  std::string mount_path;
};

void AddStoreVolume(std::vector<StoreVolume>& volumes, const StoreConfiguration& config) {
  if (config.volume_claim.empty()) return;
  for (const StoreVolume& v : volumes) {
    if (v.mount_path == config.location.destination.native()) return;
  }
  volumes.push_back({config.volume_claim, config.location.destination.native()});
}

std::string VolumeName(std::size_t i) {
  return i == 0 ? "directory-backup-store" : Cat({"directory-backup-store-", std::to_string(i)});
}

}  // namespace

// Operator ----------------------------------------------------------------------

absl::Status StoreOperatorService::OnValidateClusterCreate(cnpgi::CallContext& ctx,
                                                           const cnpgi::Cluster& cluster,
                                                           cnpgi::ValidationErrors& errors) {
  ValidateCluster(cluster, ctx.plugin_name(), errors);
  return absl::OkStatus();
}

absl::Status StoreOperatorService::OnValidateClusterChange(cnpgi::CallContext& ctx,
                                                           const cnpgi::Cluster& old_cluster,
                                                           const cnpgi::Cluster& new_cluster,
                                                           cnpgi::ValidationErrors& errors) {
  ValidateCluster(new_cluster, ctx.plugin_name(), errors);
  // Moving a running cluster's store splits its WAL and backups in two:
  // recovery from either half would miss the other's.
  std::optional<cnpgi::PluginConfiguration> before = old_cluster.FindPlugin(ctx.plugin_name());
  std::optional<cnpgi::PluginConfiguration> after = new_cluster.FindPlugin(ctx.plugin_name());
  if (!before || !after) return absl::OkStatus();
  cnpgi::ValidationErrors ignored;
  std::optional<StoreConfiguration> was = ReadConfiguration(*before, old_cluster.name(), ignored);
  std::optional<StoreConfiguration> is = ReadConfiguration(*after, new_cluster.name(), ignored);
  if (was && is && was->location.root() != is->location.root()) {
    errors.Add(after->parameters().Error(
        "destination",
        Cat({"the store cannot move once the Cluster exists (it was ",
             was->location.root().native(), ", it would be ", is->location.root().native(),
             "): create a new Cluster recovering from this one instead"})));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<json>> StoreOperatorService::OnSetStatusInCluster(
    cnpgi::CallContext& ctx, const cnpgi::Cluster& cluster) {
  std::optional<cnpgi::PluginConfiguration> entry = cluster.FindPlugin(ctx.plugin_name());
  if (!entry) return std::optional<json>();  // used as a recovery source only
  cnpgi::ValidationErrors errors;
  std::optional<StoreConfiguration> config = ReadConfiguration(*entry, cluster.name(), errors);
  if (!config) return errors.ToStatus();
  const fs::path root = config->location.root();
  std::error_code ec;
  if (!fs::is_directory(config->location.destination, ec)) {
    // The store's volume is not mounted here: nothing to say.
    ctx.logger().Debug("store not visible, no status", {{"store", root.native()}});
    return std::optional<json>();
  }
  absl::StatusOr<std::vector<BackupInfo>> backups = BackupCatalog(root / "base").List();
  if (!backups.ok()) return backups.status();
  json status = {{"store", root.native()}, {"backups", backups->size()}};
  if (!backups->empty()) {
    status["firstRecoverabilityPoint"] = Rfc3339(backups->front().stopped_at);
    status["lastSuccessfulBackup"] = Rfc3339(backups->back().stopped_at);
    status["lastBackupId"] = backups->back().id;
  }
  // Every answer makes the operator reconcile again 5 s later: answer only
  // when the recorded status differs.
  if (std::optional<cnpgi::PluginStatus> recorded = cluster.FindPluginStatus(ctx.plugin_name())) {
    absl::StatusOr<std::optional<json>> previous = cnpgi::ParseClusterStatus(recorded->status);
    if (previous.ok() && previous->has_value() && **previous == status) {
      return std::optional<json>();
    }
  }
  return std::optional<json>(std::move(status));
}

// Lifecycle ---------------------------------------------------------------------

std::vector<cnpgi::LifecycleSubscription> SidecarInjector::Subscriptions() const {
  using Op = cnpgi::LifecycleOperation;
  return {{.group = "", .kind = "Pod", .operations = {Op::kCreate, Op::kEvaluate}},
          {.group = "batch", .kind = "Job", .operations = {Op::kCreate}}};
}

absl::Status SidecarInjector::OnLifecycle(cnpgi::CallContext& ctx, const cnpgi::Cluster& cluster,
                                          cnpgi::Object& object, cnpgi::LifecycleOperation) {
  std::string role;
  std::vector<StoreVolume> volumes;
  if (object.kind() == "Pod") {
    std::optional<cnpgi::PluginConfiguration> entry = cluster.FindPlugin(ctx.plugin_name());
    if (!entry || !entry->enabled()) return absl::OkStatus();
    cnpgi::ValidationErrors errors;
    std::optional<StoreConfiguration> config = ReadConfiguration(*entry, cluster.name(), errors);
    if (!config) return errors.ToStatus();  // the validation the operator does not call
    role = "instance";
    AddStoreVolume(volumes, *config);
  } else if (object.kind() == "Job") {
    absl::StatusOr<cnpgi::Job> job = cnpgi::Job::FromObject(object);
    if (!job.ok()) return job.status();
    if (job->job_role() != "full-recovery") return absl::OkStatus();
    absl::StatusOr<StoreConfiguration> source =
        RecoverySourceConfiguration(cluster, ctx.plugin_name());
    if (absl::IsFailedPrecondition(source.status())) return absl::OkStatus();  // not ours
    if (!source.ok()) return source.status();
    role = "restore";
    // WAL restore looks in the new cluster's own store first.
    if (std::optional<cnpgi::PluginConfiguration> own = cluster.FindPlugin(ctx.plugin_name())) {
      cnpgi::ValidationErrors errors;
      std::optional<StoreConfiguration> config = ReadConfiguration(*own, cluster.name(), errors);
      if (!config) return errors.ToStatus();
      AddStoreVolume(volumes, *config);
    }
    AddStoreVolume(volumes, *source);
  } else {
    return cnpgi::WrongKindError("Pod or Job", object);
  }
  if (environment_.sidecar_image.empty()) {
    return absl::FailedPreconditionError(
        "SIDECAR_IMAGE is not set in the plugin's Deployment: it names the image of the sidecar "
        "to inject");
  }

  json mounts = json::array();
  for (std::size_t i = 0; i < volumes.size(); ++i) {
    mounts.push_back({{"name", VolumeName(i)}, {"mountPath", volumes[i].mount_path}});
  }
  cnpgi::SidecarOptions sidecar{
      .container = {{"name", kSidecarName},
                    {"image", environment_.sidecar_image},
                    {"args", {role}},
                    {"volumeMounts", std::move(mounts)},
                    {"securityContext",
                     {{"allowPrivilegeEscalation", false},
                      {"readOnlyRootFilesystem", true},
                      {"runAsNonRoot", true},
                      {"capabilities", {{"drop", {"ALL"}}}},
                      {"seccompProfile", {{"type", "RuntimeDefault"}}}}}},
      .copy_env = true,
      .copy_volume_mounts = true,
      .startup_probe = json{{"exec", {{"command", {kBinaryPath, "healthcheck"}}}},
                            {"periodSeconds", 1},
                            {"failureThreshold", 30}}};
  if (absl::Status s = cnpgi::InjectSidecar(object, sidecar); !s.ok()) return s;

  // The claims, as Pod volumes (added once: the hook runs on EVALUATE and
  // again on CREATE).
  absl::StatusOr<std::string_view> spec_pointer = cnpgi::PodSpecPointer(object);
  if (!spec_pointer.ok()) return spec_pointer.status();
  for (std::size_t i = 0; i < volumes.size(); ++i) {
    const std::string name = VolumeName(i);
    if (const json* existing = object.Find(Cat({*spec_pointer, "/volumes"}));
        existing != nullptr && existing->is_array() &&
        std::any_of(existing->begin(), existing->end(),
                    [&](const json& v) { return v.is_object() && v.value("name", "") == name; })) {
      continue;
    }
    absl::Status edited = object.Edit(*spec_pointer, [&](json& spec) {
      json& list = spec["volumes"];
      if (!list.is_array()) list = json::array();
      list.push_back(
          {{"name", name}, {"persistentVolumeClaim", {{"claimName", volumes[i].claim}}}});
    });
    if (!edited.ok()) return edited;
  }
  return absl::OkStatus();
}

}  // namespace directory_backup
