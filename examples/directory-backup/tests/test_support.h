// What the example's tests share: a temporary directory, small file helpers,
// and a store with backups made without PostgreSQL (a fake data directory
// copied the way a real backup copies one).
#ifndef DIRECTORY_BACKUP_TESTS_TEST_SUPPORT_H_
#define DIRECTORY_BACKUP_TESTS_TEST_SUPPORT_H_

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backup_catalog.h"
#include "base_backup.h"

namespace directory_backup::testing {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "directory-backup-test.XXXXXX").native();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

inline std::string ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

// A data directory that looks like PostgreSQL's, with what a base backup
// keeps and what it leaves out.
inline void MakeFakePgdata(const fs::path& pgdata) {
  WriteFile(pgdata / "PG_VERSION", "15\n");
  WriteFile(pgdata / "postgresql.conf", "shared_buffers = 128MB\n");
  WriteFile(pgdata / "global" / "pg_control", std::string(8192, 'c'));
  WriteFile(pgdata / "base" / "5" / "1259", std::string(3 << 20, 'r'));
  WriteFile(pgdata / "base" / "5" / "pg_internal.init", "cache");
  WriteFile(pgdata / "base" / "pgsql_tmp" / "pgsql_tmp123.0", "spill");
  WriteFile(pgdata / "pg_wal" / "000000010000000000000001", std::string(1 << 20, 'w'));
  WriteFile(pgdata / "pg_wal" / "archive_status" / "000000010000000000000001.done", "");
  WriteFile(pgdata / "pg_stat_tmp" / "global.stat", "stats");
  WriteFile(pgdata / "postmaster.pid", "123\n");
  WriteFile(pgdata / ".check-empty-wal-archive", "");
  fs::create_directories(pgdata / "pg_tblspc");
  fs::permissions(pgdata, fs::perms::owner_all);
}

// Catalog entries (no files) of backups that ended at the given times.
inline std::vector<BackupInfo> BackupsEndingAt(std::initializer_list<std::int64_t> times) {
  std::vector<BackupInfo> backups;
  for (std::int64_t t : times) {
    BackupInfo b;
    b.id = std::to_string(t);
    b.stopped_at = t;
    backups.push_back(b);
  }
  return backups;
}

// A complete backup of `pgdata` in the store at `root`, as TakeBaseBackup
// would leave it, with made-up WAL positions.
inline absl::StatusOr<BackupInfo> MakeBackup(const fs::path& root, const fs::path& pgdata,
                                             std::int64_t stopped_at, std::string begin_wal,
                                             std::string end_lsn = "0/3000100") {
  const BackupCatalog catalog(root / "base");
  absl::StatusOr<std::unique_ptr<BackupCatalog::Writer>> writer =
      catalog.Begin("test-backup", absl::FromUnixSeconds(stopped_at - 5));
  if (!writer.ok()) return writer.status();
  const CopyControl control;
  Throttle throttle(control);
  absl::StatusOr<CopyResult> copy =
      CopyDataDirectory(pgdata, (*writer)->data_directory(), throttle);
  if (!copy.ok()) return copy.status();
  BackupInfo info;
  info.id = (*writer)->id();
  info.name = "test-backup";
  info.server_name = root.filename();
  info.started_at = stopped_at - 5;
  info.stopped_at = stopped_at;
  info.begin_lsn = "0/" + begin_wal.substr(begin_wal.size() - 2) + "000028";
  info.end_lsn = std::move(end_lsn);
  info.begin_wal = begin_wal;
  info.end_wal = begin_wal;
  info.timeline = 1;
  info.system_identifier = "7000000000000000001";
  info.postgres_version = 150010;
  info.wal_segment_size = 16 << 20;
  info.backup_label = "START WAL LOCATION: 0/3000028 (file " + begin_wal + ")\n";
  info.files = copy->files;
  info.bytes = copy->bytes;
  if (absl::Status s = (*writer)->Commit(info, copy->manifest); !s.ok()) return s;
  return info;
}

}  // namespace directory_backup::testing

#endif  // DIRECTORY_BACKUP_TESTS_TEST_SUPPORT_H_
