// WalArchive: one server's archived WAL, kept as plain files, one directory
// per timeline: <store>/wals/<timeline>/<WAL file name>.
//
// The rules a WAL archive must follow, independent of gRPC:
//  - a file is archived durably before Archive() returns OK: it is written
//    to a temporary file, fsync'ed, linked to its final name and the
//    directory is fsync'ed, so a crash never leaves a half-written file
//    under a WAL name (PostgreSQL recycles a segment once archived);
//  - an archived file is never overwritten: archiving the same content
//    again is OK (PostgreSQL retries after a crash), different content is
//    AlreadyExists naming the file;
//  - only valid WAL file names are accepted (cnpgi::WalFileName), and files
//    are stored under their canonical name, so no request can reach a path
//    outside the directory;
//  - a restore writes to a temporary file next to the destination and
//    renames it, so PostgreSQL never reads a partial file.
//
// Thread safety: every method may run concurrently with any other, on the
// same directory too (temporary names are unique per call, and the final
// link refuses to replace an existing file).
#ifndef DIRECTORY_BACKUP_WAL_ARCHIVE_H_
#define DIRECTORY_BACKUP_WAL_ARCHIVE_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cnpgi/wal.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace directory_backup {

class WalArchive {
 public:
  // `root` is the `wals` directory of a server's store; it is created on the
  // first Archive() (with its missing parents).
  explicit WalArchive(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  // Where a WAL file of that name is (or would be) kept.
  std::filesystem::path PathOf(const cnpgi::WalFileName& wal) const;

  // Stores the file at `source` (an absolute path whose base name is a WAL
  // file name). With `check_empty`, refuses (FailedPrecondition) when the
  // archive already holds a WAL file: a new cluster must not archive into
  // another one's archive. Existing file with other content: AlreadyExists.
  absl::Status Archive(const std::filesystem::path& source, bool check_empty) const;

  // Writes the archived file `wal_name` (a bare WAL file name) to
  // `destination` (an absolute path). NotFound when it is not archived.
  absl::Status Restore(std::string_view wal_name, const std::filesystem::path& destination) const;

  // True when `wal_name` is archived.
  absl::StatusOr<bool> Contains(const cnpgi::WalFileName& wal) const;

  struct Entry {
    cnpgi::WalFileName name;
    std::int64_t size = 0;
    absl::Time modified;
  };
  // Every archived file, sorted by name (so by timeline, then position). A
  // missing directory is an empty archive.
  absl::StatusOr<std::vector<Entry>> List() const;

  struct Summary {
    std::string first_segment;  // "" when there is none
    std::string last_segment;
    std::size_t segments = 0;     // segments and partial segments
    std::size_t other_files = 0;  // history and backup history files
    std::int64_t bytes = 0;
    std::optional<absl::Time> last_archived;  // newest modification time
  };
  absl::StatusOr<Summary> Describe() const;

  // The first WAL file found, if any.
  absl::StatusOr<std::optional<std::string>> FindAnyWalFile() const;

  // Removes the segments (plain, partial and backup history files) whose
  // segment number is below `first_kept_segment`, on every timeline; history
  // files are always kept (recovery follows timelines through them). The
  // number of files removed.
  absl::StatusOr<std::size_t> RemoveSegmentsBefore(std::uint64_t first_kept_segment,
                                                   std::uint64_t segment_size) const;

 private:
  std::filesystem::path root_;
};

}  // namespace directory_backup

#endif  // DIRECTORY_BACKUP_WAL_ARCHIVE_H_
