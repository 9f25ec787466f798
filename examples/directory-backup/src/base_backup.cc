#include "base_backup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <vector>

#include <cnpgi/wal.h>

#include "absl/time/clock.h"

namespace directory_backup {
namespace {

namespace fs = std::filesystem;

// Top-level directories whose contents a base backup leaves out (the
// directories themselves are kept, empty): WAL comes from the archive, the
// rest is runtime state PostgreSQL rebuilds.
constexpr std::array<std::string_view, 8> kContentsExcluded = {
    "pg_wal",    "pg_dynshmem",  "pg_notify",   "pg_replslot",
    "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans"};
// Top-level files left out: the running server's own files, and the files a
// restore writes itself (backup_label, tablespace_map come from
// pg_backup_stop). CloudNativePG's marker for the empty-archive check
// belongs to the instance, not to its copies.
constexpr std::array<std::string_view, 8> kFilesExcluded = {
    "postmaster.pid",       "postmaster.opts",         "backup_label",
    "tablespace_map",       "backup_manifest",         "postgresql.auto.conf.tmp",
    "current_logfiles.tmp", ".check-empty-wal-archive"};

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

template <std::size_t N>
bool OneOf(std::string_view s, const std::array<std::string_view, N>& list) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// The sorted entry names of a directory; nullopt when it vanished.
absl::StatusOr<std::optional<std::vector<std::string>>> ListDirectory(const fs::path& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return std::optional<std::vector<std::string>>();
    return ErrnoStatus(errno, "cannot list", dir);
  }
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(d);
    if (entry == nullptr) break;
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoStatus(err, "cannot list", dir);
  std::sort(names.begin(), names.end());
  return std::optional<std::vector<std::string>>(std::move(names));
}

class TreeCopier {
 public:
  TreeCopier(const fs::path& source, const fs::path& destination, Throttle& throttle)
      : source_(source), destination_(destination), throttle_(throttle) {}

  absl::StatusOr<CopyResult> Run() {
    if (absl::Status s = CopyDirectoryContents(""); !s.ok()) return s;
    // Files were fsync'ed as they were written; now their names.
    directories_.push_back(destination_);
    for (const fs::path& dir : directories_) {
      if (absl::Status s = FsyncDirectory(dir); !s.ok()) return s;
    }
    return std::move(result_);
  }

 private:
  void AddDirectory(const std::string& relative, mode_t mode) {
    result_.manifest.entries.push_back(
        {.path = relative, .directory = true, .mode = static_cast<mode_t>(mode & 07777)});
  }

  absl::Status MakeDirectory(const std::string& relative, mode_t mode) {
    const fs::path to = destination_ / relative;
    if (::mkdir(to.c_str(), 0700) != 0) return ErrnoStatus(errno, "cannot create directory", to);
    directories_.push_back(to);
    AddDirectory(relative, mode);
    return absl::OkStatus();
  }

  absl::Status CopyDirectoryContents(const std::string& relative) {
    const fs::path dir = relative.empty() ? source_ : source_ / relative;
    absl::StatusOr<std::optional<std::vector<std::string>>> names = ListDirectory(dir);
    if (!names.ok()) return names.status();
    if (!names->has_value()) return absl::OkStatus();  // dropped meanwhile
    const bool top = relative.empty();
    for (const std::string& name : **names) {
      if (top && OneOf(name, kFilesExcluded)) continue;
      if (StartsWith(name, "pg_internal.init") || StartsWith(name, "pgsql_tmp")) continue;
      const std::string child = top ? name : relative + "/" + name;
      const fs::path from = source_ / child;
      struct stat st {};
      if (::lstat(from.c_str(), &st) != 0) {
        if (errno == ENOENT) continue;  // dropped meanwhile
        return ErrnoStatus(errno, "cannot stat", from);
      }
      if (S_ISLNK(st.st_mode)) {
        if (top && name == "pg_wal") {
          // A separate WAL volume: its contents are left out anyway.
          if (absl::Status s = MakeDirectory(child, 0700); !s.ok()) return s;
          if (absl::Status s = MakeDirectory(child + "/archive_status", 0700); !s.ok()) return s;
          continue;
        }
        if (relative == "pg_tblspc") {
          return absl::FailedPreconditionError(
              Cat({"the instance has a tablespace (", from.native(),
                   "): this example plugin backs up the data directory only and does not "
                   "support tablespaces"}));
        }
        return absl::FailedPreconditionError(
            Cat({"unexpected symbolic link in the data directory: ", from.native()}));
      }
      if (S_ISDIR(st.st_mode)) {
        if (absl::Status s = MakeDirectory(child, st.st_mode); !s.ok()) return s;
        if (top && OneOf(name, kContentsExcluded)) {
          if (name == "pg_wal") {
            if (absl::Status s = MakeDirectory(child + "/archive_status", 0700); !s.ok()) return s;
          }
          continue;
        }
        if (absl::Status s = CopyDirectoryContents(child); !s.ok()) return s;
        continue;
      }
      if (!S_ISREG(st.st_mode)) continue;  // sockets and the like are not data
      absl::StatusOr<Fd> in = Open(from, O_RDONLY | O_NOFOLLOW);
      if (!in.ok()) {
        if (absl::IsNotFound(in.status())) continue;  // dropped meanwhile
        return in.status();
      }
      absl::StatusOr<CopiedFile> copied =
          CopyToNewFile(in->get(), from, destination_ / child, 0600, &throttle_);
      if (!copied.ok()) return copied.status();
      result_.manifest.entries.push_back({.path = child,
                                          .directory = false,
                                          .mode = static_cast<mode_t>(st.st_mode & 07777),
                                          .size = copied->size,
                                          .sha256 = std::move(copied->sha256)});
      ++result_.files;
      result_.bytes += copied->size;
    }
    return absl::OkStatus();
  }

  const fs::path& source_;
  const fs::path& destination_;
  Throttle& throttle_;
  CopyResult result_;
  std::vector<fs::path> directories_;
};

// The value of a "KEY: value" line of a backup_label.
std::string_view LabelLine(std::string_view label, std::string_view key) {
  for (std::size_t pos = 0; pos < label.size();) {
    std::size_t end = label.find('\n', pos);
    if (end == std::string_view::npos) end = label.size();
    std::string_view line = label.substr(pos, end - pos);
    if (StartsWith(line, key) && line.size() > key.size() + 1 && line[key.size()] == ':') {
      return line.substr(key.size() + 2);
    }
    pos = end + 1;
  }
  return {};
}

std::string Column(const PostgresSession::Row& row, std::size_t i) {
  return i < row.size() && row[i] ? *row[i] : std::string();
}

}  // namespace

absl::StatusOr<CopyResult> CopyDataDirectory(const fs::path& pgdata, const fs::path& destination,
                                             Throttle& throttle) {
  return TreeCopier(pgdata, destination, throttle).Run();
}

absl::StatusOr<std::uint64_t> ParseLsn(std::string_view text) {
  const std::size_t slash = text.find('/');
  std::uint64_t high = 0, low = 0;
  auto parse = [](std::string_view part, std::uint64_t& out) {
    if (part.empty() || part.size() > 8) return false;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out, 16);
    return ec == std::errc() && end == part.data() + part.size();
  };
  if (slash == std::string_view::npos || !parse(text.substr(0, slash), high) ||
      !parse(text.substr(slash + 1), low)) {
    return absl::InvalidArgumentError(
        Cat({"\"", text, "\" is not an LSN (two hexadecimal numbers such as 16/B374D848)"}));
  }
  return (high << 32) | low;
}

absl::StatusOr<std::string> SegmentOf(std::uint64_t lsn, std::uint32_t timeline,
                                      std::uint64_t segment_size) {
  if (absl::Status s = cnpgi::ValidateWalSegmentSize(segment_size); !s.ok()) return s;
  absl::StatusOr<cnpgi::WalFileName> name =
      cnpgi::WalFileName::FromSegmentNumber(timeline, lsn / segment_size, segment_size);
  if (!name.ok()) return name.status();
  return name->ToString();
}

absl::StatusOr<BackupInfo> TakeBaseBackup(PostgresSession& session, BackupCatalog::Writer& writer,
                                          const WalArchive& archive,
                                          const BaseBackupRequest& request, Throttle& throttle,
                                          const std::function<void(std::string_view)>& log) {
  absl::StatusOr<PostgresSession::Row> server = session.QueryRow(
      "SELECT current_setting('server_version_num'), pg_is_in_recovery()::text, "
      "current_setting('data_directory'), current_setting('archive_mode'), "
      "(SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'), "
      "(SELECT system_identifier::text FROM pg_control_system())");
  if (!server.ok()) return server.status();
  BackupInfo info;
  info.id = writer.id();
  info.name = request.backup_name;
  info.server_name = request.server_name;
  info.postgres_version = std::atoll(Column(*server, 0).c_str());
  info.from_standby = Column(*server, 1) == "true";
  const fs::path pgdata = Column(*server, 2);
  const std::string archive_mode = Column(*server, 3);
  info.wal_segment_size = std::strtoull(Column(*server, 4).c_str(), nullptr, 10);
  info.system_identifier = Column(*server, 5);
  if (info.postgres_version < 100000) {
    return absl::FailedPreconditionError(
        Cat({"PostgreSQL ", Column(*server, 0),
             " is too old: this plugin needs PostgreSQL 10 or later"}));
  }
  if (archive_mode == "off") {
    return absl::FailedPreconditionError(
        "archive_mode is off: a base backup cannot be restored without the WAL written while it "
        "was taken; archive WAL through this plugin (spec.plugins[].isWALArchiver)");
  }
  struct stat st {};
  if (::stat((pgdata / "PG_VERSION").c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        Cat({"PostgreSQL's data directory ", pgdata.native(),
             " is not visible in the plugin's container: the sidecar must mount the postgres "
             "container's volumes"}));
  }

  const bool modern = info.postgres_version >= 150000;
  const std::string label = Cat({"directory-backup ", info.id, " ", request.backup_name});
  const absl::Time started = absl::Now();
  absl::StatusOr<PostgresSession::Row> start =
      session.QueryRow(modern ? "SELECT pg_backup_start($1, $2)::text"
                              : "SELECT pg_start_backup($1, $2, false)::text",
                       {label, request.immediate_checkpoint ? "true" : "false"});
  if (!start.ok()) return start.status();
  info.started_at = absl::ToUnixSeconds(started);
  info.begin_lsn = Column(*start, 0);
  log(Cat({"backup started at ", info.begin_lsn, "; copying ", pgdata.native()}));

  // From here, leaving early (an error, a cancellation) closes the session
  // with the backup still running, and PostgreSQL aborts it.
  absl::StatusOr<CopyResult> copy = CopyDataDirectory(pgdata, writer.data_directory(), throttle);
  if (!copy.ok()) return copy.status();
  info.files = copy->files;
  info.bytes = copy->bytes;

  absl::StatusOr<PostgresSession::Row> stop = session.QueryRow(
      modern ? "SELECT lsn::text, labelfile, spcmapfile FROM pg_backup_stop(true)"
             : "SELECT lsn::text, labelfile, spcmapfile FROM pg_stop_backup(false, true)");
  if (!stop.ok()) return stop.status();
  info.stopped_at = std::max(absl::ToUnixSeconds(absl::Now()), info.started_at);
  info.end_lsn = Column(*stop, 0);
  info.backup_label = Column(*stop, 1);
  info.tablespace_map = Column(*stop, 2);

  // The start segment and timeline as PostgreSQL wrote them in the label.
  std::string_view location = LabelLine(info.backup_label, "START WAL LOCATION");
  const std::size_t file = location.find("(file ");
  std::string_view timeline = LabelLine(info.backup_label, "START TIMELINE");
  if (file == std::string_view::npos || location.size() < file + 6 + 24 || timeline.empty()) {
    return absl::InternalError(
        Cat({"unexpected backup_label from PostgreSQL:\n", info.backup_label}));
  }
  info.begin_wal = std::string(location.substr(file + 6, 24));
  info.timeline =
      static_cast<std::uint32_t>(std::strtoul(std::string(timeline).c_str(), nullptr, 10));
  absl::StatusOr<std::uint64_t> end_lsn = ParseLsn(info.end_lsn);
  if (!end_lsn.ok()) return end_lsn.status();
  absl::StatusOr<std::string> end_wal = SegmentOf(*end_lsn, info.timeline, info.wal_segment_size);
  if (!end_wal.ok()) return end_wal.status();
  info.end_wal = *end_wal;

  // Restorable only once the WAL up to the end is archived. A primary waited
  // for it in pg_backup_stop; a standby's WAL comes from the primary.
  absl::StatusOr<cnpgi::WalFileName> last = cnpgi::WalFileName::Parse(info.end_wal);
  if (!last.ok()) return last.status();
  const absl::Time wal_deadline = absl::Now() + request.wal_wait;
  for (;;) {
    absl::StatusOr<bool> archived = archive.Contains(*last);
    if (!archived.ok()) return archived.status();
    if (*archived) break;
    if (absl::Now() >= wal_deadline) {
      return absl::DeadlineExceededError(
          Cat({"the backup ended at ", info.end_lsn, " but WAL segment ", info.end_wal,
               " did not reach the archive ", archive.root().native(), " within ",
               absl::FormatDuration(request.wal_wait), ": is WAL archived through this plugin?"}));
    }
    if (absl::Status s = throttle.CheckCancelled(); !s.ok()) return s;
    absl::SleepFor(absl::Milliseconds(200));
  }

  if (absl::Status s = writer.Commit(info, copy->manifest); !s.ok()) return s;
  return info;
}

}  // namespace directory_backup
