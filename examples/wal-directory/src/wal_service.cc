#include "wal_service.h"

#include <filesystem>
#include <string_view>
#include <vector>

#include "absl/time/clock.h"
#include "configuration.h"
#include "wal_directory.h"

namespace wal_directory {

cnpgi::PluginMetadata Metadata() {
  cnpgi::PluginMetadata m;
  m.name = std::string(kPluginName);
  m.version = "0.1.0";
  m.display_name = "WAL directory";
  m.description = "Archives PostgreSQL WAL files to a directory and restores them (example)";
  m.license = "Apache-2.0";
  m.maturity = "example";
  return m;
}

absl::Status DirectoryWalService::Archive(cnpgi::CallContext& ctx, const ArchiveRequest& request,
                                          ArchiveResult&) {
  const absl::Time start = absl::Now();
  absl::StatusOr<cnpgi::Cluster> cluster = cnpgi::Cluster::Parse(request.cluster_definition());
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<ArchiveLocation> location =
      ArchiveLocationOf(*cluster, ctx.plugin_name(), env_directory_);
  if (!location.ok()) return location.status();

  // The operator always sets the field; an older one leaves it out, which
  // means "do not check".
  const bool check_empty =
      request.has_check_empty_wal_archive() && request.check_empty_wal_archive();
  const WalDirectory archive(location->root());
  absl::Status status = archive.Archive(request.source_file_name(), check_empty);
  if (status.ok()) {
    ctx.logger().Info("archived", {{"file", request.source_file_name()},
                                   {"archive", archive.root().native()},
                                   {"took", absl::Now() - start}});
  }
  return status;
}

absl::Status DirectoryWalService::Restore(cnpgi::CallContext& ctx, const RestoreRequest& request,
                                          RestoreResult&) {
  absl::StatusOr<cnpgi::Cluster> cluster = cnpgi::Cluster::Parse(request.cluster_definition());
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<std::vector<ArchiveLocation>> locations =
      RestoreLocationsOf(*cluster, ctx.plugin_name(), env_directory_);
  if (!locations.ok()) return locations.status();

  // REWIND (pg_rewind) and RECOVERY fetch exactly the file asked for, the
  // same way: no prefetching here, so nothing to tell them apart for.
  std::string searched;
  for (const ArchiveLocation& location : *locations) {
    const WalDirectory archive(location.root());
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

absl::Status DirectoryWalService::Status(cnpgi::CallContext& ctx, const StatusRequest& request,
                                         StatusResult& result) {
  absl::StatusOr<cnpgi::Cluster> cluster = cnpgi::Cluster::Parse(request.cluster_definition());
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<ArchiveLocation> location =
      ArchiveLocationOf(*cluster, ctx.plugin_name(), env_directory_);
  if (!location.ok()) return location.status();
  const WalDirectory archive(location->root());
  absl::StatusOr<WalDirectory::Summary> summary = archive.Describe();
  if (!summary.ok()) return summary.status();
  result.set_first_wal(summary->first_segment);
  result.set_last_wal(summary->last_segment);
  auto& info = *result.mutable_additional_information();
  info["directory"] = archive.root().native();
  info["segments"] = std::to_string(summary->segments);
  info["otherFiles"] = std::to_string(summary->other_files);
  return absl::OkStatus();
}

}  // namespace wal_directory
