// PostgreSQL WAL file names.
//
// WAL.Archive receives an absolute path (…/pg_wal/000000010000000A000000C3)
// and WAL.Restore a bare name; besides segments PostgreSQL archives timeline
// history files (00000002.history), backup history files
// (000000010000000000000002.00000028.backup) and, after promotion, partial
// segments (000000010000000A000000C3.partial).
//
// A segment name is three groups of 8 uppercase hex digits: timeline, "log"
// and "seg", where log/seg encode the segment number
// (segno = log * (2^32 / segment_size) + seg). Arithmetic on names therefore
// depends on the cluster's WAL segment size (16 MiB unless initdb was run
// with --wal-segsize).
#ifndef CNPGI_WAL_H_
#define CNPGI_WAL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cnpgi {

inline constexpr std::uint64_t kDefaultWalSegmentSize = std::uint64_t{16} << 20;

// OK for a power of two from 1 MiB to 1 GiB (what PostgreSQL allows),
// InvalidArgument otherwise.
absl::Status ValidateWalSegmentSize(std::uint64_t segment_size);

enum class WalFileType {
  kSegment,         // 000000010000000A000000C3
  kPartialSegment,  // 000000010000000A000000C3.partial
  kHistory,         // 00000002.history
  kBackupHistory,   // 000000010000000A000000C3.00000028.backup
};

class WalFileName {
 public:
  // Parses a WAL file name, or a path ending with one (directories are
  // ignored). InvalidArgument, quoting the name, for anything else: wrong
  // length, lowercase or non-hex digits, an unknown suffix, timeline 0.
  static absl::StatusOr<WalFileName> Parse(std::string_view name_or_path);

  // The segment `segment_number` of `timeline`.
  static absl::StatusOr<WalFileName> FromSegmentNumber(
      std::uint32_t timeline, std::uint64_t segment_number,
      std::uint64_t segment_size = kDefaultWalSegmentSize);

  WalFileType type() const { return type_; }
  std::uint32_t timeline() const { return timeline_; }
  // The log and seg groups of segment-based names (0 for history files).
  std::uint32_t log() const { return log_; }
  std::uint32_t seg() const { return seg_; }
  // The offset in a backup history file name (0 otherwise).
  std::uint32_t backup_offset() const { return backup_offset_; }
  // True for the types that name a segment (all but kHistory).
  bool has_segment() const { return type_ != WalFileType::kHistory; }

  // The segment number. InvalidArgument for a history file, a bad segment
  // size, or a seg group out of range for that size (e.g. seg 0x100 with
  // 16 MiB segments).
  absl::StatusOr<std::uint64_t> SegmentNumber(
      std::uint64_t segment_size = kDefaultWalSegmentSize) const;
  // The plain segment this file belongs to (itself for a segment).
  absl::StatusOr<WalFileName> Segment() const;
  // The next / previous segment of the same timeline; OutOfRange past the
  // ends of the WAL address space.
  absl::StatusOr<WalFileName> Next(std::uint64_t segment_size = kDefaultWalSegmentSize) const;
  absl::StatusOr<WalFileName> Previous(std::uint64_t segment_size = kDefaultWalSegmentSize) const;

  // The canonical file name.
  std::string ToString() const;

  bool operator==(const WalFileName&) const = default;

 private:
  WalFileName() = default;

  WalFileType type_ = WalFileType::kSegment;
  std::uint32_t timeline_ = 0;
  std::uint32_t log_ = 0;
  std::uint32_t seg_ = 0;
  std::uint32_t backup_offset_ = 0;
};

}  // namespace cnpgi

#endif  // CNPGI_WAL_H_
