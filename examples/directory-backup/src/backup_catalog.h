// BackupCatalog: the base backups of one server, in <store>/base/.
//
//   base/<backup id>/backup.json     what the Backup RPC answered, and more
//   base/<backup id>/manifest.json   every file and directory, with its size,
//                                    mode and SHA-256
//   base/<backup id>/data/...        the copy of PGDATA
//   base/.lock                       held (flock) while a backup is written
//   base/.<backup id>.tmp.*          a backup being written
//
// A backup is written under a temporary name and renamed to its id once
// complete and durable: a directory named after a backup id is always a
// usable backup, and a plugin killed in the middle leaves only a temporary
// directory, which the next backup removes. Only one backup of a server is
// written at a time (the lock is a flock: it dies with the process).
#ifndef DIRECTORY_BACKUP_BACKUP_CATALOG_H_
#define DIRECTORY_BACKUP_BACKUP_CATALOG_H_

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "file_io.h"

namespace directory_backup {

// What backup.json holds.
struct BackupInfo {
  std::string id;               // e.g. 20261204T164137
  std::string name;             // the Backup object's metadata.name
  std::string server_name;      // whose backup it is
  std::int64_t started_at = 0;  // Unix seconds
  std::int64_t stopped_at = 0;
  std::string begin_lsn;  // as PostgreSQL writes them: "0/2000028"
  std::string end_lsn;
  std::string begin_wal;  // the segments holding those positions
  std::string end_wal;
  std::uint32_t timeline = 0;
  std::string system_identifier;
  std::int64_t postgres_version = 0;  // server_version_num, e.g. 150010
  std::uint64_t wal_segment_size = 0;
  bool from_standby = false;
  std::string backup_label;    // the backup_label file pg_backup_stop gave
  std::string tablespace_map;  // the tablespace_map file ("" without tablespaces)
  std::int64_t files = 0;      // regular files in data/
  std::int64_t bytes = 0;      // their total size

  nlohmann::json ToJson() const;
  // InvalidArgument naming the field when something is missing or mistyped.
  static absl::StatusOr<BackupInfo> FromJson(const nlohmann::json& json);
};

// One entry of manifest.json: a directory or a regular file of PGDATA,
// relative to it ("base/5/1259").
struct ManifestEntry {
  std::string path{};
  bool directory = false;
  mode_t mode = 0;
  std::int64_t size = 0;  // files only
  std::string sha256{};   // files only, lowercase hex
};

struct Manifest {
  std::vector<ManifestEntry> entries;  // parents before children

  nlohmann::json ToJson() const;
  static absl::StatusOr<Manifest> FromJson(const nlohmann::json& json);
};

class BackupCatalog {
 public:
  // `root` is the `base` directory of a server's store.
  explicit BackupCatalog(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path DirectoryOf(std::string_view id) const { return root_ / id; }

  // The complete backups, oldest first. A missing directory holds none. A
  // directory with a backup id's name but no readable backup.json is an
  // error naming it (something other than this plugin changed the store).
  absl::StatusOr<std::vector<BackupInfo>> List() const;
  // NotFound naming the id and the ids there are.
  absl::StatusOr<BackupInfo> Find(std::string_view id) const;
  absl::StatusOr<Manifest> ReadManifest(std::string_view id) const;

  // Removes a complete backup: renamed to a temporary name first, so that it
  // stops being listed at once, then deleted.
  absl::Status Remove(std::string_view id) const;

  // The exclusive right to write one backup.
  class Writer {
   public:
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    const std::string& id() const { return id_; }
    // Where the copy of PGDATA goes (created empty).
    std::filesystem::path data_directory() const { return work_ / "data"; }
    // Writes manifest.json and backup.json durably, then renames the backup
    // to its id: from then on it is listed.
    absl::Status Commit(const BackupInfo& info, const Manifest& manifest);

   private:
    friend class BackupCatalog;
    Writer(Fd lock, std::filesystem::path root, std::string id, std::filesystem::path work)
        : lock_(std::move(lock)),
          root_(std::move(root)),
          id_(std::move(id)),
          work_(std::move(work)) {}

    Fd lock_;
    std::filesystem::path root_;
    std::string id_;
    std::filesystem::path work_;
    bool committed_ = false;
  };

  // Takes the lock and prepares a new backup whose id is derived from `now`.
  // FailedPrecondition naming the running backup when another one holds the
  // lock (a second Backup is refused, not queued: see the README). Removes
  // what killed backups left behind.
  absl::StatusOr<std::unique_ptr<Writer>> Begin(std::string_view backup_name, absl::Time now) const;

 private:
  std::filesystem::path root_;
};

// True for a name that can be a backup id (what Begin generates).
bool IsBackupId(std::string_view name);

}  // namespace directory_backup

#endif  // DIRECTORY_BACKUP_BACKUP_CATALOG_H_
