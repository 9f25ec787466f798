#include "wal_archive.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <cnpgi/errors.h>

#include "file_io.h"

namespace directory_backup {
namespace {

namespace fs = std::filesystem;

// True when both files have the same bytes.
absl::StatusOr<bool> SameContent(const Fd& a, const fs::path& a_path, const fs::path& b_path) {
  absl::StatusOr<Fd> b = Open(b_path, O_RDONLY);
  if (!b.ok()) return b.status();
  struct stat sa {
  }, sb{};
  if (::fstat(a.get(), &sa) != 0) return ErrnoStatus(errno, "cannot stat", a_path);
  if (::fstat(b->get(), &sb) != 0) return ErrnoStatus(errno, "cannot stat", b_path);
  if (sa.st_size != sb.st_size) return false;
  if (::lseek(a.get(), 0, SEEK_SET) != 0) return ErrnoStatus(errno, "cannot seek", a_path);
  constexpr std::size_t kBlock = 1 << 20;
  std::vector<char> ba(kBlock), bb(kBlock);
  for (;;) {
    ssize_t na = ReadFull(a.get(), ba.data(), ba.size());
    if (na < 0) return ErrnoStatus(errno, "cannot read", a_path);
    ssize_t nb = ReadFull(b->get(), bb.data(), bb.size());
    if (nb < 0) return ErrnoStatus(errno, "cannot read", b_path);
    if (na != nb) return false;  // the file changed size under us
    if (na == 0) return true;
    if (std::memcmp(ba.data(), bb.data(), static_cast<std::size_t>(na)) != 0) return false;
  }
}

absl::StatusOr<cnpgi::WalFileName> ParseBareName(std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        Cat({"\"", name, "\" is not a WAL file name (a bare name such as ",
             "000000010000000000000001 or 00000002.history is expected)"}));
  }
  return cnpgi::WalFileName::Parse(name);
}

std::string TimelineDirectory(std::uint32_t timeline) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string name(8, '0');
  for (int i = 7; i >= 0; --i, timeline >>= 4) name[i] = kHex[timeline & 0xf];
  return name;
}

// Calls `visit(name, dir_fd)` for each WAL file of `dir` (no temporary
// files, nothing else) until it returns false; a missing directory has none.
template <class Visit>
absl::Status ForEachWalFile(const fs::path& dir, Visit visit) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(errno, "cannot list", dir);
  }
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(d);
    if (entry == nullptr) break;
    std::string_view name = entry->d_name;
    if (name.empty() || name.front() == '.') continue;
    absl::StatusOr<cnpgi::WalFileName> wal = cnpgi::WalFileName::Parse(name);
    if (!wal.ok() || wal->ToString() != name) continue;
    if (!visit(*wal, ::dirfd(d))) break;
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoStatus(err, "cannot list", dir);
  return absl::OkStatus();
}

// The timeline directories of the archive, sorted.
absl::StatusOr<std::vector<fs::path>> TimelineDirectories(const fs::path& root) {
  std::vector<fs::path> dirs;
  std::error_code ec;
  fs::directory_iterator it(root, ec);
  if (ec == std::errc::no_such_file_or_directory) return dirs;
  if (ec) return ErrnoStatus(ec.value(), "cannot list", root);
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename().native();
    if (name.size() == 8 && name.find_first_not_of("0123456789ABCDEF") == std::string::npos &&
        entry.is_directory(ec)) {
      dirs.push_back(entry.path());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

}  // namespace

fs::path WalArchive::PathOf(const cnpgi::WalFileName& wal) const {
  return root_ / TimelineDirectory(wal.timeline()) / wal.ToString();
}

absl::Status WalArchive::Archive(const fs::path& source, bool check_empty) const {
  if (!source.is_absolute()) {
    return absl::InvalidArgumentError(Cat(
        {"the file to archive must be given as an absolute path, got \"", source.native(), "\""}));
  }
  absl::StatusOr<cnpgi::WalFileName> wal = ParseBareName(source.filename().native());
  if (!wal.ok()) return wal.status();
  const std::string name = wal->ToString();

  absl::StatusOr<Fd> in = Open(source, O_RDONLY);
  if (!in.ok()) return in.status();
  const fs::path destination = PathOf(*wal);
  const fs::path dir = destination.parent_path();
  if (absl::Status s = MakeDirectories(dir); !s.ok()) return s;

  // Already archived (PostgreSQL retries a file whose archiving it could
  // not confirm): fine if it is the same file, made durable again in case
  // the earlier attempt stopped before its fsyncs.
  auto already_there = [&]() -> absl::Status {
    absl::StatusOr<bool> same = SameContent(*in, source, destination);
    if (!same.ok()) return same.status();
    if (!*same) {
      return absl::AlreadyExistsError(
          Cat({"WAL file ", name, " is already archived as ", destination.native(),
               " with different content; refusing to overwrite it"}));
    }
    absl::StatusOr<Fd> existing = Open(destination, O_RDONLY);
    if (!existing.ok()) return existing.status();
    if (::fsync(existing->get()) != 0) return ErrnoStatus(errno, "cannot fsync", destination);
    return FsyncDirectory(dir);
  };
  struct stat st {};
  if (::stat(destination.c_str(), &st) == 0) return already_there();
  if (errno != ENOENT) return ErrnoStatus(errno, "cannot stat", destination);

  // A retry of a file this archive already holds is not a new cluster
  // writing into an old archive: it was answered above.
  if (check_empty) {
    absl::StatusOr<std::optional<std::string>> any = FindAnyWalFile();
    if (!any.ok()) return any.status();
    if (any->has_value()) {
      return absl::FailedPreconditionError(
          Cat({"the WAL archive ", root_.native(), " is not empty (it holds ", **any,
               "): refusing to archive ", name,
               " of a new cluster into it; use an empty destination or another serverName"}));
    }
  }

  const fs::path temporary = dir / TemporaryName(name);
  RemoveOnExit cleanup(temporary);
  absl::StatusOr<CopiedFile> copied = CopyToNewFile(in->get(), source, temporary, 0600);
  if (!copied.ok()) return copied.status();
  // link() never replaces an existing file, unlike rename(): two archivers
  // racing on the same name cannot overwrite each other.
  if (::link(temporary.c_str(), destination.c_str()) != 0) {
    if (errno == EEXIST) return already_there();
    return ErrnoStatus(errno, "cannot link to", destination);
  }
  return FsyncDirectory(dir);
}

absl::Status WalArchive::Restore(std::string_view wal_name, const fs::path& destination) const {
  absl::StatusOr<cnpgi::WalFileName> wal = ParseBareName(wal_name);
  if (!wal.ok()) return wal.status();
  if (wal->ToString() != wal_name) {
    return absl::InvalidArgumentError(Cat({"\"", wal_name, "\" is not a canonical WAL file name"}));
  }
  if (!destination.is_absolute() || !destination.has_filename()) {
    return absl::InvalidArgumentError(
        Cat({"the destination must be an absolute file path, got \"", destination.native(), "\""}));
  }
  const fs::path source = PathOf(*wal);
  absl::StatusOr<Fd> in = Open(source, O_RDONLY);
  if (!in.ok()) {
    if (absl::IsNotFound(in.status())) return cnpgi::WalNotFoundError(wal_name, root_.native());
    return in.status();
  }
  const fs::path temporary =
      destination.parent_path() / TemporaryName(destination.filename().native());
  RemoveOnExit cleanup(temporary);
  absl::StatusOr<CopiedFile> copied = CopyToNewFile(in->get(), source, temporary, 0600);
  if (!copied.ok()) return copied.status();
  // PostgreSQL reuses destinations such as pg_wal/RECOVERYXLOG: replace.
  if (::rename(temporary.c_str(), destination.c_str()) != 0) {
    return ErrnoStatus(errno, "cannot rename to", destination);
  }
  cleanup.Release();
  return FsyncDirectory(destination.parent_path());
}

absl::StatusOr<bool> WalArchive::Contains(const cnpgi::WalFileName& wal) const {
  struct stat st {};
  const fs::path path = PathOf(wal);
  if (::stat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return ErrnoStatus(errno, "cannot stat", path);
}

absl::StatusOr<std::vector<WalArchive::Entry>> WalArchive::List() const {
  absl::StatusOr<std::vector<fs::path>> dirs = TimelineDirectories(root_);
  if (!dirs.ok()) return dirs.status();
  std::vector<Entry> entries;
  for (const fs::path& dir : *dirs) {
    absl::Status failure;
    absl::Status s = ForEachWalFile(dir, [&](const cnpgi::WalFileName& wal, int dir_fd) {
      struct stat st {};
      const std::string name = wal.ToString();
      if (::fstatat(dir_fd, name.c_str(), &st, 0) != 0) {
        if (errno == ENOENT) return true;  // removed meanwhile (retention)
        failure = ErrnoStatus(errno, "cannot stat", dir / name);
        return false;
      }
      entries.push_back({.name = wal,
                         .size = static_cast<std::int64_t>(st.st_size),
                         .modified = absl::TimeFromTimespec(st.st_mtim)});
      return true;
    });
    if (!s.ok()) return s;
    if (!failure.ok()) return failure;
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name.ToString() < b.name.ToString(); });
  return entries;
}

absl::StatusOr<WalArchive::Summary> WalArchive::Describe() const {
  absl::StatusOr<std::vector<Entry>> entries = List();
  if (!entries.ok()) return entries.status();
  Summary summary;
  for (const Entry& e : *entries) {
    summary.bytes += e.size;
    if (!summary.last_archived || e.modified > *summary.last_archived) {
      summary.last_archived = e.modified;
    }
    switch (e.name.type()) {
      case cnpgi::WalFileType::kSegment:
        if (summary.first_segment.empty()) summary.first_segment = e.name.ToString();
        summary.last_segment = e.name.ToString();  // sorted: the last one wins
        ++summary.segments;
        break;
      case cnpgi::WalFileType::kPartialSegment:
        ++summary.segments;
        break;
      default:
        ++summary.other_files;
    }
  }
  return summary;
}

absl::StatusOr<std::optional<std::string>> WalArchive::FindAnyWalFile() const {
  absl::StatusOr<std::vector<fs::path>> dirs = TimelineDirectories(root_);
  if (!dirs.ok()) return dirs.status();
  for (const fs::path& dir : *dirs) {
    std::optional<std::string> found;
    absl::Status s = ForEachWalFile(dir, [&](const cnpgi::WalFileName& wal, int) {
      found = wal.ToString();
      return false;
    });
    if (!s.ok()) return s;
    if (found) return found;
  }
  return std::optional<std::string>();
}

absl::StatusOr<std::size_t> WalArchive::RemoveSegmentsBefore(std::uint64_t first_kept_segment,
                                                             std::uint64_t segment_size) const {
  absl::StatusOr<std::vector<Entry>> entries = List();
  if (!entries.ok()) return entries.status();
  std::size_t removed = 0;
  std::vector<fs::path> touched;
  for (const Entry& e : *entries) {
    if (!e.name.has_segment()) continue;  // history files stay
    absl::StatusOr<std::uint64_t> segment = e.name.SegmentNumber(segment_size);
    if (!segment.ok() || *segment >= first_kept_segment) continue;
    const fs::path path = PathOf(e.name);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, "cannot remove", path);
    }
    ++removed;
    if (touched.empty() || touched.back() != path.parent_path()) {
      touched.push_back(path.parent_path());
    }
  }
  for (const fs::path& dir : touched) {
    if (absl::Status s = FsyncDirectory(dir); !s.ok()) return s;
  }
  return removed;
}

}  // namespace directory_backup
