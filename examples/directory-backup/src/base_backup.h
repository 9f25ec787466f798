// Base backups: a consistent physical copy of a running instance, taken
// through PostgreSQL's own backup protocol.
//
// Why pg_backup_start/pg_backup_stop and a file copy, rather than running
// pg_basebackup: the sidecar then needs no PostgreSQL client binaries of the
// server's major version in its image (libpq speaks to every version); the
// Backup answer's fields come straight from the protocol (pg_backup_stop
// returns the backup_label and tablespace_map contents and the end LSN);
// every file is hashed in the same pass that copies it; and the copy can be
// paced (maxRate) and cancelled between blocks. The backup is non-exclusive:
// the session that starts it must stay open until it stops, and a plugin
// that dies mid-backup ends it (PostgreSQL aborts a non-exclusive backup
// whose session is gone), so nothing is left behind in the server.
//
// The copy follows PostgreSQL's rules for what a base backup leaves out
// (pg_wal's contents, which recovery fetches from the archive; runtime
// directories' contents such as pg_stat_tmp, pg_replslot, pg_subtrans;
// postmaster.pid and .opts, pg_internal.init, pgsql_tmp files). Files
// changing while they are copied are fine: WAL replay from the backup's
// start repairs them. Tablespaces are refused: see the README.
#ifndef DIRECTORY_BACKUP_BASE_BACKUP_H_
#define DIRECTORY_BACKUP_BASE_BACKUP_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backup_catalog.h"
#include "file_io.h"
#include "postgres_session.h"
#include "wal_archive.h"

namespace directory_backup {

struct CopyResult {
  Manifest manifest;
  std::int64_t files = 0;
  std::int64_t bytes = 0;
};

// Copies the data directory `pgdata` into `destination` (an existing, empty
// directory), leaving out what a base backup leaves out, hashing every file.
// FailedPrecondition for a tablespace or a symbolic link other than pg_wal.
absl::StatusOr<CopyResult> CopyDataDirectory(const std::filesystem::path& pgdata,
                                             const std::filesystem::path& destination,
                                             Throttle& throttle);

// A PostgreSQL LSN as text ("16/B374D848") and as a number.
absl::StatusOr<std::uint64_t> ParseLsn(std::string_view text);
// The name of the WAL segment holding `lsn` (as PostgreSQL names the start
// and stop segments in backup_label and the backup history file).
absl::StatusOr<std::string> SegmentOf(std::uint64_t lsn, std::uint32_t timeline,
                                      std::uint64_t segment_size);

struct BaseBackupRequest {
  std::string backup_name;  // the Backup object's name
  std::string server_name;
  bool immediate_checkpoint = false;
  // How long to wait, after pg_backup_stop, for the last segment the backup
  // needs to reach the archive (immediate on a primary, which waits for it
  // itself; a standby's backup waits for the primary's archiving).
  absl::Duration wal_wait = absl::Minutes(10);
};

// Takes a base backup of the instance behind `session` into `writer`, and
// commits it. Every failure leaves nothing listed (the writer's temporary
// directory goes away with it).
absl::StatusOr<BackupInfo> TakeBaseBackup(PostgresSession& session, BackupCatalog::Writer& writer,
                                          const WalArchive& archive,
                                          const BaseBackupRequest& request, Throttle& throttle,
                                          const std::function<void(std::string_view)>& log);

}  // namespace directory_backup

#endif  // DIRECTORY_BACKUP_BASE_BACKUP_H_
