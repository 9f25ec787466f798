// Restoring a base backup into an empty data directory, as the full-recovery
// Job needs it: the backup chosen for the Cluster's recovery target, every
// file checked against its SHA-256, and nothing left behind on failure.
#ifndef DIRECTORY_BACKUP_RESTORE_H_
#define DIRECTORY_BACKUP_RESTORE_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <cnpgi/cluster.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backup_catalog.h"
#include "file_io.h"

namespace directory_backup {

// What spec.bootstrap.recovery.recoveryTarget says about which backup to
// start from. PostgreSQL itself gets the target from the operator, which
// appends it to the answered configuration.
struct RecoveryTarget {
  std::optional<std::string> backup_id{};  // backupID
  std::optional<absl::Time> time{};        // targetTime
  std::optional<std::uint64_t> lsn{};      // targetLSN
  std::string description{};               // for messages: "targetTime 2025-11-18 02:30:00+00"
};

// Reads the Cluster's recovery target. InvalidArgument naming the field
// for a time or LSN that does not parse. Times are RFC 3339 or PostgreSQL's
// "2025-11-18 02:30:00.000000+00"; without an offset they are UTC.
absl::StatusOr<RecoveryTarget> ReadRecoveryTarget(const cnpgi::Cluster& cluster);
absl::StatusOr<absl::Time> ParseTargetTime(std::string_view text);

// The backup to restore for `target`, from every backup oldest first: the
// one named, or the newest one that ended before the target time or LSN,
// or the newest one. NotFound saying why when there is none.
absl::StatusOr<BackupInfo> ChooseBackup(const std::vector<BackupInfo>& oldest_first,
                                        const RecoveryTarget& target);

struct RestorePaths {
  std::filesystem::path pgdata{};
  // When the Cluster has a separate WAL volume: where pg_wal goes, with
  // PGDATA/pg_wal a symbolic link to it.
  std::optional<std::filesystem::path> wal_directory{};
};

// Restores `backup` from `catalog`. PGDATA (and the WAL directory) must be
// missing or empty (FailedPrecondition otherwise). The files are written
// under a temporary name next to PGDATA and renamed to it once all of them
// matched their checksum: DataLoss naming the file when one is missing or
// differs from what was backed up, with nothing left behind.
absl::Status RestoreBackup(const BackupCatalog& catalog, const BackupInfo& backup,
                           const RestorePaths& paths, Throttle& throttle);

}  // namespace directory_backup

#endif  // DIRECTORY_BACKUP_RESTORE_H_
