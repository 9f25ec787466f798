#include "retention.h"

#include <algorithm>

#include <cnpgi/wal.h>

#include "file_io.h"
#include "wal_archive.h"

namespace directory_backup {

std::vector<std::string> BackupsToRemove(const std::vector<BackupInfo>& oldest_first,
                                         const RetentionPolicy& policy, absl::Time now) {
  const std::size_t n = oldest_first.size();
  if (n <= 1 || policy.keeps_everything()) return {};
  // A backup is kept when any rule keeps it: the oldest backup kept is the
  // older of the two rules' answers.
  std::size_t first_kept = n - 1;
  bool any_rule = false;
  auto keep_from = [&](std::size_t index) {
    first_kept = any_rule ? std::min(first_kept, index) : index;
    any_rule = true;
  };
  if (policy.keep_backups) {
    const std::size_t keep =
        static_cast<std::size_t>(std::max<std::int64_t>(1, *policy.keep_backups));
    keep_from(keep >= n ? 0 : n - keep);
  }
  if (policy.period) {
    const std::int64_t window_start = absl::ToUnixSeconds(now - *policy.period);
    // The newest backup that ended before the window is the base for
    // recovering to its first moments; everything older can go.
    std::size_t index = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (oldest_first[i].stopped_at <= window_start) index = i;
    }
    keep_from(std::min(index, n - 1));
  }
  std::vector<std::string> remove;
  for (std::size_t i = 0; i < first_kept; ++i) remove.push_back(oldest_first[i].id);
  return remove;
}

absl::StatusOr<RetentionOutcome> ApplyRetention(const std::filesystem::path& store_root,
                                                const RetentionPolicy& policy, absl::Time now) {
  RetentionOutcome outcome;
  if (policy.keeps_everything()) return outcome;
  const BackupCatalog catalog(store_root / "base");
  absl::StatusOr<std::vector<BackupInfo>> backups = catalog.List();
  if (!backups.ok()) return backups.status();
  if (backups->empty()) return outcome;
  for (const std::string& id : BackupsToRemove(*backups, policy, now)) {
    // A failure keeps the WAL of what is still there: stop here.
    if (absl::Status s = catalog.Remove(id); !s.ok()) return s;
    outcome.removed_backups.push_back(id);
  }
  const BackupInfo& oldest = (*backups)[outcome.removed_backups.size()];
  outcome.oldest_kept = oldest.id;
  outcome.first_kept_wal = oldest.begin_wal;
  absl::StatusOr<cnpgi::WalFileName> begin = cnpgi::WalFileName::Parse(oldest.begin_wal);
  if (!begin.ok()) return begin.status();
  absl::StatusOr<std::uint64_t> segment = begin->SegmentNumber(oldest.wal_segment_size);
  if (!segment.ok()) return segment.status();
  absl::StatusOr<std::size_t> removed =
      WalArchive(store_root / "wals").RemoveSegmentsBefore(*segment, oldest.wal_segment_size);
  if (!removed.ok()) return removed.status();
  outcome.removed_wal_files = *removed;
  return outcome;
}

}  // namespace directory_backup
