// The retention policy: which backups to keep, and the WAL they need.
#ifndef DIRECTORY_BACKUP_RETENTION_H_
#define DIRECTORY_BACKUP_RETENTION_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backup_catalog.h"

namespace directory_backup {

// Which backups to keep. With neither set, every backup is kept.
struct RetentionPolicy {
  // Keep the newest N backups.
  std::optional<std::int64_t> keep_backups{};
  // Keep what recovery to any point of the last `period` needs: the backups
  // that ended inside it and the newest one that ended before it.
  std::optional<absl::Duration> period{};

  bool keeps_everything() const { return !keep_backups && !period; }
};

// The ids of the backups `policy` drops, given every backup oldest first.
// The newest backup is always kept.
std::vector<std::string> BackupsToRemove(const std::vector<BackupInfo>& oldest_first,
                                         const RetentionPolicy& policy, absl::Time now);

struct RetentionOutcome {
  std::vector<std::string> removed_backups{};
  std::size_t removed_wal_files = 0;
  std::string oldest_kept{};     // "" when the store holds no backup
  std::string first_kept_wal{};  // the oldest kept backup's first segment
};

// Applies `policy` to the store at `store_root`: the backups it drops go
// first, then the WAL segments no kept backup needs: those before the
// oldest kept backup's first segment, on every timeline (a recovery from
// any kept backup reads from its start onwards). History files always stay,
// and without a backup no WAL is removed. Must run while the store's
// backup lock is held (after a backup, as the Backup call does).
absl::StatusOr<RetentionOutcome> ApplyRetention(const std::filesystem::path& store_root,
                                                const RetentionPolicy& policy, absl::Time now);

}  // namespace directory_backup

#endif  // DIRECTORY_BACKUP_RETENTION_H_
