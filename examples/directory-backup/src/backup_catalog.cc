#include "backup_catalog.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <cnpgi/json.h>

#include "absl/time/clock.h"

namespace directory_backup {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kInfoFile = "backup.json";
constexpr std::string_view kManifestFile = "manifest.json";
constexpr std::string_view kLockFile = ".lock";
// Written into backup.json and manifest.json; a reader refuses other formats.
constexpr int kFormat = 1;

// Reads typed fields out of a JSON object, remembering the first problem.
class FieldReader {
 public:
  FieldReader(const json& object, std::string_view what) : object_(object), what_(what) {
    if (!object_.is_object()) Fail("", "is not a JSON object");
  }

  template <class T>
  void Read(std::string_view key, T& out, bool required = true) {
    if (!status_.ok()) return;
    auto it = object_.find(key);
    if (it == object_.end()) {
      if (required) Fail(key, "is missing");
      return;
    }
    if constexpr (std::is_same_v<T, std::string>) {
      if (!it->is_string()) return Fail(key, "is not a string");
      out = it->template get<std::string>();
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!it->is_boolean()) return Fail(key, "is not a boolean");
      out = it->template get<bool>();
    } else {
      if (!it->is_number_integer()) return Fail(key, "is not an integer");
      if (it->is_number_unsigned()) {
        out = static_cast<T>(it->template get<std::uint64_t>());
      } else {
        out = static_cast<T>(it->template get<std::int64_t>());
      }
    }
  }

  absl::Status status() const { return status_; }

 private:
  void Fail(std::string_view key, std::string_view problem) {
    if (!status_.ok()) return;
    status_ = absl::InvalidArgumentError(
        Cat({what_, key.empty() ? "" : " field \"", key, key.empty() ? " " : "\" ", problem}));
  }

  const json& object_;
  std::string what_;
  absl::Status status_;
};

absl::StatusOr<json> ReadJsonFile(const fs::path& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<json> parsed = cnpgi::ParseJson(*text, {.max_bytes = 1 << 30});
  if (!parsed.ok()) {
    return absl::DataLossError(
        Cat({path.native(), " is not valid JSON: ", MessageOf(parsed.status())}));
  }
  return parsed;
}

std::string IdFor(absl::Time now) {
  return absl::FormatTime("%Y%m%dT%H%M%S", now, absl::UTCTimeZone());
}

}  // namespace

bool IsBackupId(std::string_view name) {
  if (name.size() < 15) return false;
  for (std::size_t i = 0; i < 15; ++i) {
    const char c = name[i];
    if (i == 8 ? c != 'T' : (c < '0' || c > '9')) return false;
  }
  std::string_view rest = name.substr(15);
  if (rest.empty()) return true;
  if (rest.size() < 2 || rest.front() != '-') return false;
  return rest.substr(1).find_first_not_of("0123456789") == std::string_view::npos;
}

// BackupInfo ----------------------------------------------------------------

json BackupInfo::ToJson() const {
  return json{{"format", kFormat},
              {"backupId", id},
              {"backupName", name},
              {"serverName", server_name},
              {"startedAt", started_at},
              {"stoppedAt", stopped_at},
              {"beginLSN", begin_lsn},
              {"endLSN", end_lsn},
              {"beginWal", begin_wal},
              {"endWal", end_wal},
              {"timeline", timeline},
              {"systemIdentifier", system_identifier},
              {"postgresVersion", postgres_version},
              {"walSegmentSize", wal_segment_size},
              {"fromStandby", from_standby},
              {"backupLabel", backup_label},
              {"tablespaceMap", tablespace_map},
              {"files", files},
              {"bytes", bytes}};
}

absl::StatusOr<BackupInfo> BackupInfo::FromJson(const json& j) {
  BackupInfo info;
  int format = 0;
  FieldReader r(j, "backup.json");
  r.Read("format", format);
  r.Read("backupId", info.id);
  r.Read("backupName", info.name);
  r.Read("serverName", info.server_name);
  r.Read("startedAt", info.started_at);
  r.Read("stoppedAt", info.stopped_at);
  r.Read("beginLSN", info.begin_lsn);
  r.Read("endLSN", info.end_lsn);
  r.Read("beginWal", info.begin_wal);
  r.Read("endWal", info.end_wal);
  r.Read("timeline", info.timeline);
  r.Read("systemIdentifier", info.system_identifier);
  r.Read("postgresVersion", info.postgres_version);
  r.Read("walSegmentSize", info.wal_segment_size);
  r.Read("fromStandby", info.from_standby);
  r.Read("backupLabel", info.backup_label);
  r.Read("tablespaceMap", info.tablespace_map);
  r.Read("files", info.files);
  r.Read("bytes", info.bytes);
  if (!r.status().ok()) return r.status();
  if (format != kFormat) {
    return absl::InvalidArgumentError(
        Cat({"backup.json has format ", std::to_string(format), ", this plugin reads format ",
             std::to_string(kFormat)}));
  }
  return info;
}

// Manifest ------------------------------------------------------------------

json Manifest::ToJson() const {
  json list = json::array();
  for (const ManifestEntry& e : entries) {
    if (e.directory) {
      list.push_back({{"path", e.path}, {"type", "directory"}, {"mode", e.mode}});
    } else {
      list.push_back({{"path", e.path},
                      {"type", "file"},
                      {"mode", e.mode},
                      {"size", e.size},
                      {"sha256", e.sha256}});
    }
  }
  return json{{"format", kFormat}, {"checksumAlgorithm", "SHA-256"}, {"entries", std::move(list)}};
}

absl::StatusOr<Manifest> Manifest::FromJson(const json& j) {
  int format = 0;
  std::string algorithm;
  FieldReader r(j, "manifest.json");
  r.Read("format", format);
  r.Read("checksumAlgorithm", algorithm);
  if (!r.status().ok()) return r.status();
  if (format != kFormat || algorithm != "SHA-256") {
    return absl::InvalidArgumentError(
        Cat({"manifest.json has format ", std::to_string(format), " and checksums ", algorithm,
             "; this plugin reads format ", std::to_string(kFormat), " with SHA-256"}));
  }
  auto entries = j.find("entries");
  if (entries == j.end() || !entries->is_array()) {
    return absl::InvalidArgumentError("manifest.json field \"entries\" is not an array");
  }
  Manifest manifest;
  manifest.entries.reserve(entries->size());
  for (const json& item : *entries) {
    ManifestEntry e;
    std::string type;
    FieldReader er(item, "manifest.json entry");
    er.Read("path", e.path);
    er.Read("type", type);
    er.Read("mode", e.mode);
    if (type == "file") {
      er.Read("size", e.size);
      er.Read("sha256", e.sha256);
    } else if (type != "directory" && er.status().ok()) {
      return absl::InvalidArgumentError(Cat({"manifest.json entry ", e.path, " has type \"", type,
                                             "\" (file or directory expected)"}));
    }
    if (!er.status().ok()) return er.status();
    e.directory = type == "directory";
    // Paths come back to the file system at restore: nothing may leave
    // the data directory.
    const fs::path p(e.path);
    if (e.path.empty() || p.is_absolute() ||
        std::any_of(p.begin(), p.end(), [](const fs::path& part) { return part == ".."; })) {
      return absl::InvalidArgumentError(
          Cat({"manifest.json entry \"", e.path, "\" is not a relative path inside PGDATA"}));
    }
    manifest.entries.push_back(std::move(e));
  }
  return manifest;
}

// Catalog -------------------------------------------------------------------

absl::StatusOr<std::vector<BackupInfo>> BackupCatalog::List() const {
  std::vector<BackupInfo> backups;
  std::error_code ec;
  fs::directory_iterator it(root_, ec);
  if (ec == std::errc::no_such_file_or_directory) return backups;
  if (ec) return ErrnoStatus(ec.value(), "cannot list", root_);
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename().native();
    if (!IsBackupId(name)) continue;
    absl::StatusOr<json> j = ReadJsonFile(entry.path() / kInfoFile);
    if (!j.ok()) {
      return absl::DataLossError(
          Cat({"backup ", name, " in ", root_.native(), " is damaged: ", MessageOf(j.status())}));
    }
    absl::StatusOr<BackupInfo> info = BackupInfo::FromJson(*j);
    if (!info.ok()) {
      return absl::DataLossError(Cat(
          {"backup ", name, " in ", root_.native(), " is damaged: ", MessageOf(info.status())}));
    }
    backups.push_back(std::move(*info));
  }
  std::sort(backups.begin(), backups.end(), [](const BackupInfo& a, const BackupInfo& b) {
    return a.started_at != b.started_at ? a.started_at < b.started_at : a.id < b.id;
  });
  return backups;
}

absl::StatusOr<BackupInfo> BackupCatalog::Find(std::string_view id) const {
  absl::StatusOr<std::vector<BackupInfo>> all = List();
  if (!all.ok()) return all.status();
  std::string ids;
  for (const BackupInfo& b : *all) {
    if (b.id == id) return b;
    ids += ids.empty() ? b.id : ", " + b.id;
  }
  return absl::NotFoundError(Cat({"backup \"", id, "\" does not exist in ", root_.native(), " (",
                                  ids.empty() ? "it holds no backup" : "it holds " + ids, ")"}));
}

absl::StatusOr<Manifest> BackupCatalog::ReadManifest(std::string_view id) const {
  const fs::path path = DirectoryOf(id) / kManifestFile;
  absl::StatusOr<json> j = ReadJsonFile(path);
  if (!j.ok()) return j.status();
  absl::StatusOr<Manifest> manifest = Manifest::FromJson(*j);
  if (!manifest.ok()) {
    return absl::DataLossError(Cat({path.native(), ": ", MessageOf(manifest.status())}));
  }
  return manifest;
}

absl::Status BackupCatalog::Remove(std::string_view id) const {
  if (!IsBackupId(id)) return absl::InvalidArgumentError(Cat({"\"", id, "\" is not a backup id"}));
  const fs::path from = DirectoryOf(id);
  const fs::path to = root_ / TemporaryName(id);
  if (::rename(from.c_str(), to.c_str()) != 0)
    return ErrnoStatus(errno, "cannot remove backup", from);
  if (absl::Status s = FsyncDirectory(root_); !s.ok()) return s;
  return RemoveTree(to);
}

absl::StatusOr<std::unique_ptr<BackupCatalog::Writer>> BackupCatalog::Begin(
    std::string_view backup_name, absl::Time now) const {
  if (absl::Status s = MakeDirectories(root_); !s.ok()) return s;
  const fs::path lock_path = root_ / kLockFile;
  absl::StatusOr<Fd> lock = Open(lock_path, O_RDWR | O_CREAT, 0600);
  if (!lock.ok()) return lock.status();
  if (::flock(lock->get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return ErrnoStatus(errno, "cannot lock", lock_path);
    absl::StatusOr<std::string> holder = ReadFile(lock_path);
    return absl::FailedPreconditionError(
        Cat({"another backup of this server is running (", holder.ok() ? *holder : "unknown",
             "); this plugin takes one backup of a server at a time: try again once it is done"}));
  }
  // Ours now: say who holds it, for the message above.
  const std::string holder = Cat({"backup ", backup_name, " started at ",
                                  absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone()),
                                  " by process ", std::to_string(::getpid())});
  if (::ftruncate(lock->get(), 0) != 0 ||
      ::pwrite(lock->get(), holder.data(), holder.size(), 0) < 0) {
    return ErrnoStatus(errno, "cannot write", lock_path);
  }

  // What killed or failed backups left: temporary directories (no one else
  // can be writing one while we hold the lock).
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(root_, ec)) {
    const std::string name = entry.path().filename().native();
    if (name.size() > 1 && name.front() == '.' && name != kLockFile) {
      if (absl::Status s = RemoveTree(entry.path()); !s.ok()) return s;
    }
  }
  if (ec) return ErrnoStatus(ec.value(), "cannot list", root_);

  std::string id = IdFor(now);
  for (int n = 1; fs::exists(DirectoryOf(id), ec); ++n)
    id = Cat({IdFor(now), "-", std::to_string(n)});
  const fs::path work = root_ / TemporaryName(id);
  if (::mkdir(work.c_str(), 0700) != 0) return ErrnoStatus(errno, "cannot create directory", work);
  if (::mkdir((work / "data").c_str(), 0700) != 0) {
    return ErrnoStatus(errno, "cannot create directory", work / "data");
  }
  return std::unique_ptr<Writer>(new Writer(std::move(*lock), root_, std::move(id), work));
}

BackupCatalog::Writer::~Writer() {
  if (!committed_) (void)RemoveTree(work_);
  // The lock goes with the descriptor.
}

absl::Status BackupCatalog::Writer::Commit(const BackupInfo& info, const Manifest& manifest) {
  if (absl::Status s = WriteFileDurably(work_ / kManifestFile, manifest.ToJson().dump()); !s.ok()) {
    return s;
  }
  if (absl::Status s = WriteFileDurably(work_ / kInfoFile, info.ToJson().dump(2)); !s.ok())
    return s;
  if (absl::Status s = FsyncDirectory(work_); !s.ok()) return s;
  const fs::path final_path = root_ / id_;
  if (::rename(work_.c_str(), final_path.c_str()) != 0) {
    return ErrnoStatus(errno, "cannot rename to", final_path);
  }
  committed_ = true;
  return FsyncDirectory(root_);
}

}  // namespace directory_backup
