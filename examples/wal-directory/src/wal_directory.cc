#include "wal_directory.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <utility>
#include <vector>

#include <cnpgi/errors.h>
#include <cnpgi/wal.h>

namespace wal_directory {
namespace {

namespace fs = std::filesystem;

// Debian's Abseil has its own string_view, so absl::StrCat does not take
// std::string_view: concatenate by hand.
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

// A status for a failed system call: the code says what kind of failure it
// is, the message what we were doing, on which file, and why.
absl::Status ErrnoStatus(int err, std::string_view what, const fs::path& path) {
  std::string message = Cat({what, " ", path.native(), ": ", std::strerror(err)});
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(message);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(message);
    case EINTR:
    case EAGAIN:
    case EIO:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes and reports the error close() may carry (a delayed write error
  // on some file systems).
  int Close() {
    int rc = ::close(std::exchange(fd_, -1));
    return rc == 0 ? 0 : errno;
  }

 private:
  void Reset() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }
  int fd_ = -1;
};

absl::StatusOr<Fd> Open(const fs::path& path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  return Fd(fd);
}

absl::Status FsyncDirectory(const fs::path& dir) {
  absl::StatusOr<Fd> fd = Open(dir, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return fd.status();
  if (::fsync(fd->get()) != 0) return ErrnoStatus(errno, "cannot fsync directory", dir);
  return absl::OkStatus();
}

// Reads up to `size` bytes, retrying short reads; returns the count (0 at
// end of file) or -1 with errno.
ssize_t ReadFull(int fd, char* buffer, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, buffer + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

bool WriteFull(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

constexpr std::size_t kBufferSize = 1 << 20;

// Copies the whole of `from` (read from its start) into the new file `to`
// (which must not exist), then fsyncs and closes it.
absl::Status CopyToNewFile(const Fd& from, const fs::path& from_path, const fs::path& to) {
  if (::lseek(from.get(), 0, SEEK_SET) != 0) return ErrnoStatus(errno, "cannot seek", from_path);
  absl::StatusOr<Fd> out = Open(to, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (!out.ok()) return out.status();
  std::vector<char> buffer(kBufferSize);
  for (;;) {
    ssize_t n = ReadFull(from.get(), buffer.data(), buffer.size());
    if (n < 0) return ErrnoStatus(errno, "cannot read", from_path);
    if (n == 0) break;
    if (!WriteFull(out->get(), buffer.data(), static_cast<std::size_t>(n))) {
      return ErrnoStatus(errno, "cannot write", to);
    }
  }
  if (::fsync(out->get()) != 0) return ErrnoStatus(errno, "cannot fsync", to);
  if (int err = out->Close(); err != 0) return ErrnoStatus(err, "cannot close", to);
  return absl::OkStatus();
}

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
  std::vector<char> ba(kBufferSize), bb(kBufferSize);
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

// Creates `dir` and its missing parents; each directory created is made
// durable in its parent.
absl::Status MakeDirectories(const fs::path& dir) {
  std::vector<fs::path> missing;
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return absl::FailedPreconditionError(
            Cat({"cannot use ", p.native(), " as a WAL archive directory: not a directory"}));
      }
      break;
    }
    if (errno != ENOENT) return ErrnoStatus(errno, "cannot stat", p);
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "cannot create directory", *it);
    }
    if (absl::Status s = FsyncDirectory(it->parent_path()); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// A name for a temporary file next to `final_name`, unique in this process
// (and across processes: the pid is part of it). Names starting with a dot
// are never taken for WAL files.
std::string TemporaryName(std::string_view final_name) {
  static std::atomic<unsigned long long> counter{0};
  return Cat({".", final_name, ".tmp.", std::to_string(::getpid()), ".",
              std::to_string(counter.fetch_add(1))});
}

// Removes a file when it goes out of scope, unless released.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(fs::path path) : path_(std::move(path)) {}
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;
  ~RemoveOnExit() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

 private:
  fs::path path_;
};

absl::StatusOr<cnpgi::WalFileName> ParseBareName(std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        Cat({"\"", name, "\" is not a WAL file name (a bare name such as ",
             "000000010000000000000001 or 00000002.history is expected)"}));
  }
  absl::StatusOr<cnpgi::WalFileName> wal = cnpgi::WalFileName::Parse(name);
  if (!wal.ok()) return wal.status();
  return wal;
}

// Lists the WAL files of `dir` (no temporary files, nothing else); a
// missing directory has none.
absl::StatusOr<std::vector<cnpgi::WalFileName>> ListWalFiles(const fs::path& dir, bool first_only) {
  std::vector<cnpgi::WalFileName> files;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return files;
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
    files.push_back(*wal);
    if (first_only) break;
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoStatus(err, "cannot list", dir);
  return files;
}

}  // namespace

absl::Status WalDirectory::Archive(const fs::path& source, bool check_empty) const {
  if (!source.is_absolute()) {
    return absl::InvalidArgumentError(Cat(
        {"the file to archive must be given as an absolute path, got \"", source.native(), "\""}));
  }
  absl::StatusOr<cnpgi::WalFileName> wal = ParseBareName(source.filename().native());
  if (!wal.ok()) return wal.status();
  const std::string name = wal->ToString();

  absl::StatusOr<Fd> in = Open(source, O_RDONLY);
  if (!in.ok()) return in.status();
  if (absl::Status s = MakeDirectories(root_); !s.ok()) return s;

  const fs::path destination = root_ / name;
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
    return FsyncDirectory(root_);
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
               " of a new cluster into it; use an empty directory or another serverName"}));
    }
  }

  const fs::path temporary = root_ / TemporaryName(name);
  RemoveOnExit cleanup(temporary);
  if (absl::Status s = CopyToNewFile(*in, source, temporary); !s.ok()) return s;
  // link() never replaces an existing file, unlike rename(): two archivers
  // racing on the same name cannot overwrite each other.
  if (::link(temporary.c_str(), destination.c_str()) != 0) {
    if (errno == EEXIST) return already_there();
    return ErrnoStatus(errno, "cannot link to", destination);
  }
  return FsyncDirectory(root_);
}

absl::Status WalDirectory::Restore(std::string_view wal_name, const fs::path& destination) const {
  absl::StatusOr<cnpgi::WalFileName> wal = ParseBareName(wal_name);
  if (!wal.ok()) return wal.status();
  if (wal->ToString() != wal_name) {
    return absl::InvalidArgumentError(Cat({"\"", wal_name, "\" is not a canonical WAL file name"}));
  }
  if (!destination.is_absolute() || !destination.has_filename()) {
    return absl::InvalidArgumentError(
        Cat({"the destination must be an absolute file path, got \"", destination.native(), "\""}));
  }
  const fs::path source = root_ / wal->ToString();
  absl::StatusOr<Fd> in = Open(source, O_RDONLY);
  if (!in.ok()) {
    if (absl::IsNotFound(in.status())) return cnpgi::WalNotFoundError(wal_name, root_.native());
    return in.status();
  }
  const fs::path temporary =
      destination.parent_path() / TemporaryName(destination.filename().native());
  RemoveOnExit cleanup(temporary);
  if (absl::Status s = CopyToNewFile(*in, source, temporary); !s.ok()) return s;
  // PostgreSQL reuses destinations such as pg_wal/RECOVERYXLOG: replace.
  if (::rename(temporary.c_str(), destination.c_str()) != 0) {
    return ErrnoStatus(errno, "cannot rename to", destination);
  }
  return FsyncDirectory(destination.parent_path());
}

absl::StatusOr<WalDirectory::Summary> WalDirectory::Describe() const {
  absl::StatusOr<std::vector<cnpgi::WalFileName>> files = ListWalFiles(root_, false);
  if (!files.ok()) return files.status();
  Summary summary;
  std::vector<std::string> segments;
  for (const cnpgi::WalFileName& f : *files) {
    if (f.type() == cnpgi::WalFileType::kSegment ||
        f.type() == cnpgi::WalFileType::kPartialSegment) {
      ++summary.segments;
      if (f.type() == cnpgi::WalFileType::kSegment) segments.push_back(f.ToString());
    } else {
      ++summary.other_files;
    }
  }
  // Segment names sort by timeline, then position.
  if (!segments.empty()) {
    auto [first, last] = std::minmax_element(segments.begin(), segments.end());
    summary.first_segment = *first;
    summary.last_segment = *last;
  }
  return summary;
}

absl::StatusOr<std::optional<std::string>> WalDirectory::FindAnyWalFile() const {
  absl::StatusOr<std::vector<cnpgi::WalFileName>> files = ListWalFiles(root_, true);
  if (!files.ok()) return files.status();
  if (files->empty()) return std::optional<std::string>();
  return std::optional<std::string>(files->front().ToString());
}

}  // namespace wal_directory
