// WalDirectory: one server's WAL archive, kept as plain files in a directory.
//
// The rules a WAL archive must follow, independent of gRPC:
//  - a file is archived durably before Archive() returns OK: it is written
//    to a temporary file, fsync'ed, linked to its final name and the
//    directory is fsync'ed, so a crash never leaves a half-written file
//    under a WAL name;
//  - an archived file is never overwritten: archiving the same content
//    again is OK (PostgreSQL retries after a crash), different content is
//    an error naming the file;
//  - only valid WAL file names are accepted (cnpgi::WalFileName), and files
//    are stored under their canonical name, so no request can reach a path
//    outside the directory;
//  - a restore writes to a temporary file next to the destination and
//    renames it, so PostgreSQL never reads a partial file.
//
// Thread safety: every method may run concurrently with any other, on the
// same directory too (temporary names are unique per call, and the final
// link refuses to replace an existing file).
#ifndef WAL_DIRECTORY_WAL_DIRECTORY_H_
#define WAL_DIRECTORY_WAL_DIRECTORY_H_

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wal_directory {

class WalDirectory {
 public:
  // `root` is the directory holding this server's files; it is created on
  // the first Archive() (with its missing parents).
  explicit WalDirectory(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }

  // Stores the file at `source` (an absolute path whose base name is a WAL
  // file name). With `check_empty`, refuses (FailedPrecondition) when the
  // directory already holds a WAL file: a new cluster must not archive into
  // another one's archive. Existing file with other content: AlreadyExists.
  absl::Status Archive(const std::filesystem::path& source, bool check_empty) const;

  // Writes the archived file `wal_name` (a bare WAL file name) to
  // `destination` (an absolute path). NotFound when it is not archived.
  absl::Status Restore(std::string_view wal_name, const std::filesystem::path& destination) const;

  struct Summary {
    std::string first_segment;  // "" when there is none
    std::string last_segment;
    std::size_t segments = 0;     // segments and partial segments
    std::size_t other_files = 0;  // history and backup history files
  };
  // What the archive holds. A missing directory is an empty archive.
  absl::StatusOr<Summary> Describe() const;

  // The first WAL file found (in directory order), if any.
  absl::StatusOr<std::optional<std::string>> FindAnyWalFile() const;

 private:
  std::filesystem::path root_;
};

}  // namespace wal_directory

#endif  // WAL_DIRECTORY_WAL_DIRECTORY_H_
