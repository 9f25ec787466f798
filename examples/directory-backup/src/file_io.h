// The file-system primitives the store is built on: durable writes (a file
// is fsync'ed, then linked or renamed into place, then its directory is
// fsync'ed), copies that hash what they copy, errors that name the file.
//
// This example keeps its own small helpers (Cat, the descriptor wrapper)
// rather than reaching into the SDK's internals: an example is meant to be
// copied out of the repository and built on its own.
#ifndef DIRECTORY_BACKUP_FILE_IO_H_
#define DIRECTORY_BACKUP_FILE_IO_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace directory_backup {

// Concatenation taking std::string_view (Debian's absl::StrCat does not:
// its absl::string_view is its own type).
std::string Cat(std::initializer_list<std::string_view> parts);

// A status's message as a std::string_view, for Cat.
inline std::string_view MessageOf(const absl::Status& status) {
  return {status.message().data(), status.message().size()};
}

// A status for a failed system call: the code says what kind of failure it
// is (NotFound, PermissionDenied, ResourceExhausted for a full disk, ...),
// the message what we were doing, on which file, and why.
absl::Status ErrnoStatus(int err, std::string_view what, const std::filesystem::path& path);

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes and returns the error close() may carry (a delayed write error on
  // some file systems), 0 when none.
  int Close();

 private:
  int fd_ = -1;
};

absl::StatusOr<Fd> Open(const std::filesystem::path& path, int flags, mode_t mode = 0);
absl::Status FsyncDirectory(const std::filesystem::path& dir);

// Reads up to `size` bytes, retrying short reads; the count (0 at end of
// file) or -1 with errno set.
ssize_t ReadFull(int fd, char* buffer, std::size_t size);
bool WriteFull(int fd, const char* data, std::size_t size);

// Creates `dir` and its missing parents (mode 0700); each directory created
// is made durable in its parent. FailedPrecondition naming the path when
// something on the way is not a directory.
absl::Status MakeDirectories(const std::filesystem::path& dir);

// A name for a temporary file or directory next to `final_name`, unique
// across threads and processes. It starts with a dot: such names are never
// taken for WAL files or backups.
std::string TemporaryName(std::string_view final_name);

// Removes a file or a whole tree when it goes out of scope, unless released.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(std::filesystem::path path) : path_(std::move(path)) {}
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;
  ~RemoveOnExit();
  void Release() { path_.clear(); }

 private:
  std::filesystem::path path_;
};

// Removes `path` and everything below it; a missing path is fine.
absl::Status RemoveTree(const std::filesystem::path& path);

// Writes `content` to `path` atomically and durably: a temporary file in the
// same directory, fsync'ed and renamed over `path`, then the directory
// fsync'ed.
absl::Status WriteFileDurably(const std::filesystem::path& path, std::string_view content,
                              mode_t mode = 0600);
// The whole file; NotFound when it does not exist.
absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path);

// SHA-256, fed in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const char* data, std::size_t size);
  // Lowercase hex of the digest; the object is reset for a new input.
  std::string HexDigest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// What a copy is allowed to do besides copying: stop when asked, and not
// go faster than a rate (the I/O a backup may take from a running database).
struct CopyControl {
  // Polled between blocks; the copy stops with Cancelled when it says so.
  std::function<bool()> cancelled{};
  // Bytes per second over the whole operation; 0 for no limit. Shared
  // across files through `Throttle`.
  std::int64_t max_rate = 0;
};

// Paces a sequence of copies at CopyControl::max_rate.
class Throttle {
 public:
  explicit Throttle(const CopyControl& control);
  // Accounts `bytes` just copied; sleeps (in short steps, watching for
  // cancellation) until the rate allows more. Cancelled when cancelled.
  absl::Status Pace(std::int64_t bytes);
  absl::Status CheckCancelled() const;

 private:
  const CopyControl& control_;
  absl::Time start_;
  std::int64_t bytes_ = 0;
};

struct CopiedFile {
  std::int64_t size = 0;
  std::string sha256;
};

// Copies what `from` holds, from its current offset to its end, into the new
// file `to` (O_EXCL: it must not exist) with `mode`, hashing the bytes, then
// fsyncs and closes it. A source that grows or shrinks while being read is
// copied as far as it was read: PostgreSQL's WAL replay repairs a data file
// copied during a backup.
absl::StatusOr<CopiedFile> CopyToNewFile(int from, const std::filesystem::path& from_path,
                                         const std::filesystem::path& to, mode_t mode,
                                         Throttle* throttle = nullptr);

}  // namespace directory_backup

#endif  // DIRECTORY_BACKUP_FILE_IO_H_
