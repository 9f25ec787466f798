#include "recovery_service.h"

#include <filesystem>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "backup_catalog.h"
#include "configuration.h"
#include "file_io.h"
#include "restore.h"
#include "wal_archive.h"

namespace directory_backup {
namespace {

namespace fs = std::filesystem;

// A postgresql.conf string value.
std::string Quoted(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// The new Cluster's own store must not belong to another cluster already:
// its WAL and backups would mix with the ones this cluster is about to write.
absl::Status CheckOwnStoreEmpty(const cnpgi::Cluster& cluster, std::string_view plugin_name) {
  std::optional<cnpgi::PluginConfiguration> own = cluster.FindPlugin(plugin_name);
  if (!own || !own->enabled()) return absl::OkStatus();
  cnpgi::ValidationErrors errors;
  std::optional<StoreConfiguration> config = ReadConfiguration(*own, cluster.name(), errors);
  if (!config) return errors.ToStatus();
  const fs::path root = config->location.root();
  absl::StatusOr<std::vector<BackupInfo>> backups = BackupCatalog(root / "base").List();
  if (!backups.ok()) return backups.status();
  absl::StatusOr<std::optional<std::string>> wal = WalArchive(root / "wals").FindAnyWalFile();
  if (!wal.ok()) return wal.status();
  if (!backups->empty() || wal->has_value()) {
    return absl::FailedPreconditionError(
        Cat({"the store of Cluster ", cluster.name(), ", ", root.native(),
             ", is already in use (it holds ",
             backups->empty() ? Cat({"WAL file ", **wal}) : Cat({"backup ", backups->back().id}),
             "): a recovered cluster must archive into an empty store; choose another "
             "destination or serverName, or set the annotation "
             "cnpg.io/skipEmptyWalArchiveCheck: enabled"}));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status StoreRecoveryService::Restore(cnpgi::CallContext& ctx, const Request& request,
                                           Response& response) {
  absl::StatusOr<cnpgi::Cluster> cluster = cnpgi::Cluster::Parse(request.cluster_definition());
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<StoreConfiguration> source =
      RecoverySourceConfiguration(*cluster, ctx.plugin_name());
  if (!source.ok()) return source.status();
  if (request.has_check_empty_wal_archive() && request.check_empty_wal_archive()) {
    if (absl::Status s = CheckOwnStoreEmpty(*cluster, ctx.plugin_name()); !s.ok()) return s;
  }
  absl::StatusOr<RecoveryTarget> target = ReadRecoveryTarget(*cluster);
  if (!target.ok()) return target.status();

  const fs::path root = source->location.root();
  const BackupCatalog catalog(root / "base");
  absl::StatusOr<std::vector<BackupInfo>> backups = catalog.List();
  if (!backups.ok()) return backups.status();
  absl::StatusOr<BackupInfo> chosen = ChooseBackup(*backups, *target);
  if (!chosen.ok()) {
    return absl::Status(chosen.status().code(), Cat({"cannot restore from ", root.native(), ": ",
                                                     MessageOf(chosen.status())}));
  }
  if (environment_.pgdata.empty()) {
    return absl::FailedPreconditionError(
        "PGDATA is not set in the plugin's container: the sidecar must copy the Job's "
        "environment");
  }
  RestorePaths paths{.pgdata = environment_.pgdata, .wal_directory = std::nullopt};
  if (cluster->Find("/spec/walStorage") != nullptr) paths.wal_directory = environment_.WalVolume();

  const absl::Time start = absl::Now();
  ctx.logger().Info("restoring", {{"backup", chosen->id},
                                  {"store", root.native()},
                                  {"pgdata", paths.pgdata.native()},
                                  {"target", target->description}});
  const CopyControl control{.cancelled = [&ctx] { return ctx.IsCancelled(); }};
  Throttle throttle(control);
  if (absl::Status s = RestoreBackup(catalog, *chosen, paths, throttle); !s.ok()) return s;
  ctx.logger().Info("restored", {{"backup", chosen->id},
                                 {"files", chosen->files},
                                 {"bytes", chosen->bytes},
                                 {"took", absl::Now() - start}});

  // The operator appends the recovery target after these lines. Promote
  // when it is reached (PostgreSQL's default would pause and keep the Job
  // waiting).
  response.set_restore_config(Cat({"restore_command = ", Quoted(environment_.restore_command),
                                   "\nrecovery_target_action = 'promote'\n"}));
  return absl::OkStatus();
}

}  // namespace directory_backup
