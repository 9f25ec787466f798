#include "restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "base_backup.h"

namespace directory_backup {
namespace {

namespace fs = std::filesystem;

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", t, absl::UTCTimeZone());
}

// Missing, or an empty directory.
absl::Status CheckEmpty(const fs::path& path, std::string_view what) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(path, ec);
  if (ec == std::errc::no_such_file_or_directory || status.type() == fs::file_type::not_found) {
    return absl::OkStatus();
  }
  if (ec) return ErrnoStatus(ec.value(), "cannot stat", path);
  if (status.type() != fs::file_type::directory || !fs::is_empty(path, ec)) {
    return absl::FailedPreconditionError(
        Cat({what, " ", path.native(), " is not empty: refusing to restore over it"}));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<absl::Time> ParseTargetTime(std::string_view text) {
  // PostgreSQL writes "2025-11-18 02:30:00.000000+00": make it RFC 3339.
  std::string_view date_time = text, offset = "Z";  // no offset: UTC
  const std::size_t sign = text.find_last_of("+-");
  if (sign != std::string_view::npos && sign > 10) {
    date_time = text.substr(0, sign);
    offset = text.substr(sign);
  } else if (!text.empty() && (text.back() == 'Z' || text.back() == 'z')) {
    date_time = text.substr(0, text.size() - 1);
  }
  std::string s;
  if (offset.size() == 3) {  // +00
    s = Cat({date_time, offset, ":00"});
  } else if (offset.size() == 5 && offset.find(':') == std::string_view::npos) {  // +0000
    s = Cat({date_time, offset.substr(0, 3), ":", offset.substr(3)});
  } else {
    s = Cat({date_time, offset});
  }
  if (s.size() > 10 && s[10] == ' ') s[10] = 'T';
  absl::Time t;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%dT%H:%M:%E*S%Ez", s, &t, &error)) {
    return absl::InvalidArgumentError(
        Cat({"\"", text, "\" is not a time (RFC 3339, or PostgreSQL's 2025-11-18 02:30:00+00)"}));
  }
  return t;
}

absl::StatusOr<RecoveryTarget> ReadRecoveryTarget(const cnpgi::Cluster& cluster) {
  RecoveryTarget target;
  const nlohmann::json* spec = cluster.Find("/spec/bootstrap/recovery/recoveryTarget");
  if (spec == nullptr || !spec->is_object()) return target;
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto it = spec->find(key);
    if (it == spec->end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
      return std::nullopt;
    }
    return it->get<std::string>();
  };
  auto invalid = [](const char* field, const absl::Status& why) {
    return absl::InvalidArgumentError(
        Cat({"spec.bootstrap.recovery.recoveryTarget.", field, ": ", MessageOf(why)}));
  };
  target.backup_id = text("backupID");
  if (std::optional<std::string> time = text("targetTime")) {
    absl::StatusOr<absl::Time> parsed = ParseTargetTime(*time);
    if (!parsed.ok()) return invalid("targetTime", parsed.status());
    target.time = *parsed;
    target.description = Cat({"targetTime ", *time});
  }
  if (std::optional<std::string> lsn = text("targetLSN")) {
    absl::StatusOr<std::uint64_t> parsed = ParseLsn(*lsn);
    if (!parsed.ok()) return invalid("targetLSN", parsed.status());
    target.lsn = *parsed;
    target.description = Cat({"targetLSN ", *lsn});
  }
  return target;
}

absl::StatusOr<BackupInfo> ChooseBackup(const std::vector<BackupInfo>& oldest_first,
                                        const RecoveryTarget& target) {
  if (target.backup_id) {
    for (const BackupInfo& b : oldest_first) {
      if (b.id == *target.backup_id) return b;
    }
    std::string ids;
    for (const BackupInfo& b : oldest_first) ids += ids.empty() ? b.id : ", " + b.id;
    return absl::NotFoundError(
        Cat({"recoveryTarget.backupID \"", *target.backup_id, "\" does not exist (",
             ids.empty() ? "there is no backup" : "backups: " + ids, ")"}));
  }
  if (oldest_first.empty()) return absl::NotFoundError("there is no backup to restore");
  for (auto it = oldest_first.rbegin(); it != oldest_first.rend(); ++it) {
    // A backup is a starting point only for targets after its end. Its
    // stop time is known to the second: anything in that second may be
    // before the real end.
    if (target.time && absl::FromUnixSeconds(it->stopped_at + 1) > *target.time) continue;
    if (target.lsn) {
      absl::StatusOr<std::uint64_t> end = ParseLsn(it->end_lsn);
      if (!end.ok() || *end > *target.lsn) continue;
    }
    return *it;
  }
  const BackupInfo& oldest = oldest_first.front();
  return absl::NotFoundError(
      Cat({"no backup ended before the recovery target (", target.description,
           "): the oldest one, ", oldest.id, ", ended at ",
           FormatUtc(absl::FromUnixSeconds(oldest.stopped_at)), " (LSN ", oldest.end_lsn, ")"}));
}

absl::Status RestoreBackup(const BackupCatalog& catalog, const BackupInfo& backup,
                           const RestorePaths& paths, Throttle& throttle) {
  if (!paths.pgdata.is_absolute() || !paths.pgdata.has_filename()) {
    return absl::FailedPreconditionError(
        Cat({"PGDATA must be an absolute path, got \"", paths.pgdata.native(), "\""}));
  }
  if (absl::Status s = CheckEmpty(paths.pgdata, "PGDATA"); !s.ok()) return s;
  if (paths.wal_directory) {
    if (absl::Status s = CheckEmpty(*paths.wal_directory, "the WAL directory"); !s.ok()) return s;
  }
  absl::StatusOr<Manifest> manifest = catalog.ReadManifest(backup.id);
  if (!manifest.ok()) return manifest.status();

  const fs::path parent = paths.pgdata.parent_path();
  if (absl::Status s = MakeDirectories(parent); !s.ok()) return s;
  const fs::path work = parent / TemporaryName(paths.pgdata.filename().native());
  RemoveOnExit cleanup(work);
  if (::mkdir(work.c_str(), 0700) != 0) return ErrnoStatus(errno, "cannot create directory", work);

  const fs::path source = catalog.DirectoryOf(backup.id) / "data";
  auto damaged = [&](std::string_view path, std::string_view why) {
    return absl::DataLossError(
        Cat({"backup ", backup.id, " is damaged: ", path, " ", why, "; nothing was restored"}));
  };
  std::vector<fs::path> directories = {work};
  for (const ManifestEntry& entry : manifest->entries) {
    const fs::path to = work / entry.path;
    if (entry.directory) {
      if (::mkdir(to.c_str(), entry.mode & 07777) != 0) {
        return ErrnoStatus(errno, "cannot create directory", to);
      }
      directories.push_back(to);
      continue;
    }
    const fs::path from = source / entry.path;
    absl::StatusOr<Fd> in = Open(from, O_RDONLY | O_NOFOLLOW);
    if (!in.ok()) {
      if (absl::IsNotFound(in.status())) return damaged(entry.path, "is missing from the store");
      return in.status();
    }
    absl::StatusOr<CopiedFile> copied =
        CopyToNewFile(in->get(), from, to, entry.mode & 07777, &throttle);
    if (!copied.ok()) return copied.status();
    if (copied->size != entry.size || copied->sha256 != entry.sha256) {
      return damaged(entry.path, Cat({"does not match its checksum (", std::to_string(copied->size),
                                      " bytes with SHA-256 ", copied->sha256,
                                      ", backed up: ", std::to_string(entry.size),
                                      " bytes with SHA-256 ", entry.sha256, ")"}));
    }
  }
  // What pg_backup_stop gave instead of files: recovery starts from the
  // checkpoint backup_label names.
  if (absl::Status s = WriteFileDurably(work / "backup_label", backup.backup_label); !s.ok()) {
    return s;
  }
  if (!backup.tablespace_map.empty()) {
    if (absl::Status s = WriteFileDurably(work / "tablespace_map", backup.tablespace_map);
        !s.ok()) {
      return s;
    }
  }
  std::optional<RemoveOnExit> wal_cleanup;
  if (paths.wal_directory) {
    const fs::path& wal = *paths.wal_directory;
    if (absl::Status s = MakeDirectories(wal); !s.ok()) return s;
    wal_cleanup.emplace(wal);
    if (::mkdir((wal / "archive_status").c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "cannot create directory", wal / "archive_status");
    }
    if (absl::Status s = RemoveTree(work / "pg_wal"); !s.ok()) return s;
    if (::symlink(wal.c_str(), (work / "pg_wal").c_str()) != 0) {
      return ErrnoStatus(errno, "cannot create symbolic link", work / "pg_wal");
    }
    directories.push_back(wal);
  }
  for (auto it = directories.rbegin(); it != directories.rend(); ++it) {
    if (absl::Status s = FsyncDirectory(*it); !s.ok()) return s;
  }
  // PGDATA may exist empty (the volume's directory): make room, then the
  // rename makes the whole restore appear at once.
  if (::rmdir(paths.pgdata.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, "cannot replace the empty directory", paths.pgdata);
  }
  if (::rename(work.c_str(), paths.pgdata.c_str()) != 0) {
    return ErrnoStatus(errno, "cannot rename to", paths.pgdata);
  }
  cleanup.Release();
  if (wal_cleanup) wal_cleanup->Release();
  return FsyncDirectory(parent);
}

}  // namespace directory_backup
