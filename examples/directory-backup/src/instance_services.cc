#include "instance_services.h"

#include <filesystem>
#include <limits>
#include <string_view>
#include <vector>

#include "absl/time/clock.h"
#include "backup_catalog.h"
#include "base_backup.h"
#include "configuration.h"
#include "file_io.h"
#include "postgres_session.h"
#include "retention.h"
#include "wal_archive.h"

namespace directory_backup {
namespace {

namespace fs = std::filesystem;

WalArchive WalArchiveAt(const fs::path& root) { return WalArchive(root / "wals"); }
BackupCatalog CatalogAt(const fs::path& root) { return BackupCatalog(root / "base"); }

}  // namespace

// WAL ---------------------------------------------------------------------------

absl::Status StoreWalService::Archive(cnpgi::CallContext& ctx, const ArchiveRequest& request,
                                      ArchiveResult&) {
  absl::StatusOr<cnpgi::Cluster> cluster = cnpgi::Cluster::Parse(request.cluster_definition());
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<StoreConfiguration> config = OwnConfiguration(*cluster, ctx.plugin_name());
  if (!config.ok()) return config.status();
  const fs::path root = config->location.root();

  // The operator always sets the field; an older one leaves it out, which
  // means "do not check".
  const bool check_empty =
      request.has_check_empty_wal_archive() && request.check_empty_wal_archive();
  if (check_empty) {
    // A store holding backups is in use too (the archive is checked below,
    // where a retried file the archive already holds is told apart).
    absl::StatusOr<std::vector<BackupInfo>> backups = CatalogAt(root).List();
    if (!backups.ok()) return backups.status();
    if (!backups->empty()) {
      return absl::FailedPreconditionError(
          Cat({"the store ", root.native(), " is not empty (it holds backup ", backups->back().id,
               "): refusing to archive WAL of a new cluster into it; use an ",
               "empty destination or another serverName"}));
    }
  }
  const absl::Time start = absl::Now();
  const WalArchive archive = WalArchiveAt(root);
  absl::Status status = archive.Archive(request.source_file_name(), check_empty);
  if (status.ok()) {
    ctx.logger().Info("archived", {{"file", request.source_file_name()},
                                   {"archive", archive.root().native()},
                                   {"took", absl::Now() - start}});
  }
  return status;
}

absl::Status StoreWalService::Restore(cnpgi::CallContext& ctx, const RestoreRequest& request,
                                      RestoreResult&) {
  absl::StatusOr<cnpgi::Cluster> cluster = cnpgi::Cluster::Parse(request.cluster_definition());
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<std::vector<StoreLocation>> locations =
      RestoreLocationsOf(*cluster, ctx.plugin_name());
  if (!locations.ok()) return locations.status();

  // REWIND (pg_rewind) and RECOVERY fetch exactly the file asked for, the
  // same way: no prefetching here, so nothing to tell them apart for.
  std::string searched;
  for (const StoreLocation& location : *locations) {
    const WalArchive archive = WalArchiveAt(location.root());
    absl::Status status =
        archive.Restore(request.source_wal_name(), request.destination_file_name());
    if (status.ok()) {
      ctx.logger().Info(
          "restored", {{"file", request.source_wal_name()}, {"archive", archive.root().native()}});
      return status;
    }
    if (!absl::IsNotFound(status)) return status;
    if (!searched.empty()) searched += ", ";
    searched += archive.root().native();
  }
  // NOT_FOUND: the convention for "not archived" (PostgreSQL then ends
  // recovery or falls back to streaming).
  return cnpgi::WalNotFoundError(request.source_wal_name(), searched);
}

absl::Status StoreWalService::Status(cnpgi::CallContext& ctx, const StatusRequest& request,
                                     StatusResult& result) {
  absl::StatusOr<cnpgi::Cluster> cluster = cnpgi::Cluster::Parse(request.cluster_definition());
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<StoreConfiguration> config = OwnConfiguration(*cluster, ctx.plugin_name());
  if (!config.ok()) return config.status();
  const WalArchive archive = WalArchiveAt(config->location.root());
  absl::StatusOr<WalArchive::Summary> summary = archive.Describe();
  if (!summary.ok()) return summary.status();
  result.set_first_wal(summary->first_segment);
  result.set_last_wal(summary->last_segment);
  auto& info = *result.mutable_additional_information();
  info["directory"] = archive.root().native();
  info["segments"] = std::to_string(summary->segments);
  info["otherFiles"] = std::to_string(summary->other_files);
  return absl::OkStatus();
}

// Backup ------------------------------------------------------------------------

absl::Status StoreBackupService::Backup(cnpgi::CallContext& ctx, const Request& request,
                                        Result& result) {
  absl::StatusOr<cnpgi::Cluster> cluster = cnpgi::Cluster::Parse(request.cluster_definition());
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<cnpgi::Backup> backup = cnpgi::Backup::Parse(request.backup_definition());
  if (!backup.ok()) return backup.status();
  absl::StatusOr<StoreConfiguration> own = OwnConfiguration(*cluster, ctx.plugin_name());
  if (!own.ok()) return own.status();
  absl::StatusOr<StoreConfiguration> config = ApplyBackupParameters(*own, *backup);
  if (!config.ok()) return config.status();
  const fs::path root = config->location.root();

  absl::StatusOr<std::unique_ptr<BackupCatalog::Writer>> writer =
      CatalogAt(root).Begin(backup->name(), absl::Now());
  if (!writer.ok()) return writer.status();
  const CopyControl control{.cancelled = [&ctx] { return ctx.IsCancelled(); },
                            .max_rate = config->max_rate};
  Throttle throttle(control);
  absl::StatusOr<PostgresSession> session = PostgresSession::Connect(control.cancelled);
  if (!session.ok()) return session.status();

  const std::string backup_id = (*writer)->id();
  ctx.logger().Info("backup starting", {{"backup", backup_id},
                                        {"name", backup->name()},
                                        {"postgres", session->target()},
                                        {"store", root.native()}});
  absl::StatusOr<BackupInfo> info =
      TakeBaseBackup(*session, **writer, WalArchiveAt(root),
                     {.backup_name = std::string(backup->name()),
                      .server_name = config->location.server_name,
                      .immediate_checkpoint = config->immediate_checkpoint,
                      .wal_wait = environment_.wal_wait},
                     throttle, [&](std::string_view message) {
                       ctx.logger().Info(message, {{"backup", backup_id}});
                     });
  if (!info.ok()) {
    return absl::Status(info.status().code(), Cat({"backup ", backup_id, " of ", root.native(),
                                                   " failed: ", MessageOf(info.status())}));
  }
  ctx.logger().Info("backup completed", {{"backup", info->id},
                                         {"files", info->files},
                                         {"bytes", info->bytes},
                                         {"beginLSN", info->begin_lsn},
                                         {"endLSN", info->end_lsn}});
  // Retention, still holding the lock. A failure is logged, not returned:
  // the backup itself succeeded.
  absl::StatusOr<RetentionOutcome> retention = ApplyRetention(root, config->retention, absl::Now());
  if (!retention.ok()) {
    ctx.logger().Warn("retention not applied", {{"error", MessageOf(retention.status())}});
  } else if (!retention->removed_backups.empty() || retention->removed_wal_files > 0) {
    ctx.logger().Info("retention applied", {{"removedBackups", retention->removed_backups.size()},
                                            {"removedWalFiles", retention->removed_wal_files},
                                            {"oldestBackup", retention->oldest_kept},
                                            {"firstWal", retention->first_kept_wal}});
  }
  writer->reset();  // releases the lock

  result.set_backup_id(info->id);
  result.set_backup_name(info->name);
  result.set_started_at(info->started_at);
  result.set_stopped_at(info->stopped_at);
  result.set_begin_wal(info->begin_wal);
  result.set_end_wal(info->end_wal);
  result.set_begin_lsn(info->begin_lsn);
  result.set_end_lsn(info->end_lsn);
  result.set_backup_label_file(info->backup_label);
  result.set_tablespace_map_file(info->tablespace_map);
  result.set_online(true);
  auto& metadata = *result.mutable_metadata();
  metadata["serverName"] = info->server_name;
  metadata["store"] = root.native();
  metadata["timeline"] = std::to_string(info->timeline);
  metadata["systemIdentifier"] = info->system_identifier;
  metadata["postgresVersion"] = std::to_string(info->postgres_version);
  metadata["files"] = std::to_string(info->files);
  metadata["bytes"] = std::to_string(info->bytes);
  metadata["checksums"] = "SHA-256 of every file, in manifest.json";
  metadata["fromStandby"] = info->from_standby ? "true" : "false";
  return absl::OkStatus();
}

// Metrics -----------------------------------------------------------------------

struct StoreMetricsService::Metrics {
  cnpgi::Metric backups, last_backup, first_recoverability_point, last_archived, wal_files, bytes;
};

StoreMetricsService::StoreMetricsService() {
  auto add = [&](std::string name, std::string help, std::vector<std::string> labels = {}) {
    absl::StatusOr<cnpgi::Metric> metric = registry_.Add({.name = std::move(name),
                                                          .help = std::move(help),
                                                          .type = cnpgi::MetricType::kGauge,
                                                          .label_names = std::move(labels)});
    // The declarations are constants: a bad one is a programming error.
    if (!metric.ok()) std::abort();
    return *metric;
  };
  metrics_ = std::make_shared<Metrics>(Metrics{
      .backups = add("directory_backup_backups", "Base backups in the store"),
      .last_backup = add("directory_backup_last_backup_timestamp_seconds",
                         "When the newest base backup ended (Unix time)"),
      .first_recoverability_point =
          add("directory_backup_first_recoverability_point_seconds",
              "The earliest point in time the store can recover to: the end of its oldest "
              "backup (Unix time)"),
      .last_archived = add("directory_backup_last_archived_wal_timestamp_seconds",
                           "When the newest WAL file reached the store (Unix time)"),
      .wal_files = add("directory_backup_wal_files", "WAL files in the store"),
      .bytes = add("directory_backup_store_bytes", "Bytes in the store, by area", {"area"}),
  });
}

absl::Status StoreMetricsService::OnCollect(cnpgi::CallContext& ctx, const cnpgi::Cluster& cluster,
                                            CollectResult& result) {
  absl::StatusOr<StoreConfiguration> config = OwnConfiguration(cluster, ctx.plugin_name());
  if (!config.ok()) return config.status();
  const fs::path root = config->location.root();
  absl::StatusOr<std::vector<BackupInfo>> backups = CatalogAt(root).List();
  if (!backups.ok()) return backups.status();
  absl::StatusOr<WalArchive::Summary> wal = WalArchiveAt(root).Describe();
  if (!wal.ok()) return wal.status();

  const Metrics& m = *metrics_;
  std::int64_t backup_bytes = 0;
  for (const BackupInfo& b : *backups) backup_bytes += b.bytes;
  std::vector<absl::Status> statuses = {
      m.backups.Collect(result, static_cast<double>(backups->size())),
      m.wal_files.Collect(result, static_cast<double>(wal->segments + wal->other_files)),
      m.bytes.Collect(result, static_cast<double>(backup_bytes), {"base"}),
      m.bytes.Collect(result, static_cast<double>(wal->bytes), {"wal"}),
  };
  // Points in time exist only once there is something: no sample otherwise.
  if (!backups->empty()) {
    statuses.push_back(
        m.last_backup.Collect(result, static_cast<double>(backups->back().stopped_at)));
    statuses.push_back(m.first_recoverability_point.Collect(
        result, static_cast<double>(backups->front().stopped_at)));
  }
  if (wal->last_archived) {
    statuses.push_back(m.last_archived.Collect(
        result, absl::ToDoubleSeconds(*wal->last_archived - absl::UnixEpoch())));
  }
  for (const absl::Status& s : statuses) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace directory_backup
