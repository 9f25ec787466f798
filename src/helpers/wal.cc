#include "cnpgi/wal.h"

#include <cstdio>
#include <string>

#include "cnpgi/errors.h"
#include "helpers/internal.h"

namespace cnpgi {
namespace {

using internal::Cat;

constexpr std::uint64_t kMinSegmentSize = std::uint64_t{1} << 20;
constexpr std::uint64_t kMaxSegmentSize = std::uint64_t{1} << 30;

// Parses exactly 8 uppercase hex digits, as PostgreSQL writes them.
bool ParseHex8(std::string_view text, std::uint32_t& value) {
  if (text.size() != 8) return false;
  value = 0;
  for (const char c : text) {
    std::uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
    value = value << 4 | digit;
  }
  return true;
}

void AppendHex8(std::uint32_t value, std::string& out) {
  char buffer[9];
  std::snprintf(buffer, sizeof buffer, "%08X", value);
  out.append(buffer, 8);
}

absl::Status BadName(std::string_view name, std::string_view why) {
  return absl::InvalidArgumentError(Cat("invalid WAL file name ", QuoteValue(name), ": ", why));
}

}  // namespace

absl::Status ValidateWalSegmentSize(std::uint64_t segment_size) {
  if (segment_size < kMinSegmentSize || segment_size > kMaxSegmentSize ||
      (segment_size & (segment_size - 1)) != 0) {
    return absl::InvalidArgumentError(
        Cat("invalid WAL segment size ", segment_size,
            ": it must be a power of two from 1 MiB to 1 GiB (1048576 to 1073741824 bytes)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<WalFileName> WalFileName::Parse(std::string_view name_or_path) {
  std::string_view name = name_or_path;
  if (const std::size_t slash = name.rfind('/'); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  constexpr std::string_view kExpected =
      "expected 24 uppercase hex digits (a segment), optionally followed by .partial or by "
      ".<8 hex digits>.backup, or 8 hex digits followed by .history";
  WalFileName result;
  if (name.size() == 16 && name.substr(8) == ".history") {
    if (!ParseHex8(name.substr(0, 8), result.timeline_)) return BadName(name, kExpected);
    result.type_ = WalFileType::kHistory;
  } else {
    if (name.size() < 24 || !ParseHex8(name.substr(0, 8), result.timeline_) ||
        !ParseHex8(name.substr(8, 8), result.log_) || !ParseHex8(name.substr(16, 8), result.seg_)) {
      return BadName(name, kExpected);
    }
    const std::string_view suffix = name.substr(24);
    if (suffix.empty()) {
      result.type_ = WalFileType::kSegment;
    } else if (suffix == ".partial") {
      result.type_ = WalFileType::kPartialSegment;
    } else if (suffix.size() == 16 && suffix[0] == '.' && suffix.substr(9) == ".backup" &&
               ParseHex8(suffix.substr(1, 8), result.backup_offset_)) {
      result.type_ = WalFileType::kBackupHistory;
    } else {
      return BadName(name, kExpected);
    }
  }
  if (result.timeline_ == 0)
    return BadName(name, "timeline 0 does not exist (timelines start at 1)");
  return result;
}

absl::StatusOr<WalFileName> WalFileName::FromSegmentNumber(std::uint32_t timeline,
                                                           std::uint64_t segment_number,
                                                           std::uint64_t segment_size) {
  if (absl::Status s = ValidateWalSegmentSize(segment_size); !s.ok()) return s;
  if (timeline == 0) {
    return absl::InvalidArgumentError("timeline 0 does not exist (timelines start at 1)");
  }
  const std::uint64_t per_log = (std::uint64_t{1} << 32) / segment_size;
  if (segment_number / per_log > 0xFFFFFFFFULL) {
    return absl::OutOfRangeError(
        Cat("WAL segment number ", segment_number, " is beyond the WAL address space"));
  }
  WalFileName result;
  result.type_ = WalFileType::kSegment;
  result.timeline_ = timeline;
  result.log_ = static_cast<std::uint32_t>(segment_number / per_log);
  result.seg_ = static_cast<std::uint32_t>(segment_number % per_log);
  return result;
}

absl::StatusOr<std::uint64_t> WalFileName::SegmentNumber(std::uint64_t segment_size) const {
  if (!has_segment()) {
    return absl::InvalidArgumentError(
        Cat("WAL file ", ToString(), " is a timeline history file, not a segment"));
  }
  if (absl::Status s = ValidateWalSegmentSize(segment_size); !s.ok()) return s;
  const std::uint64_t per_log = (std::uint64_t{1} << 32) / segment_size;
  if (seg_ >= per_log) {
    return absl::InvalidArgumentError(Cat("invalid WAL file name \"", ToString(),
                                          "\": with segments of ", segment_size,
                                          " bytes the last 8 digits must be below ", per_log));
  }
  return std::uint64_t{log_} * per_log + seg_;
}

absl::StatusOr<WalFileName> WalFileName::Segment() const {
  if (!has_segment()) {
    return absl::InvalidArgumentError(
        Cat("WAL file ", ToString(), " is a timeline history file, not a segment"));
  }
  WalFileName result = *this;
  result.type_ = WalFileType::kSegment;
  result.backup_offset_ = 0;
  return result;
}

absl::StatusOr<WalFileName> WalFileName::Next(std::uint64_t segment_size) const {
  absl::StatusOr<std::uint64_t> number = SegmentNumber(segment_size);
  if (!number.ok()) return number.status();
  absl::StatusOr<WalFileName> next = FromSegmentNumber(timeline_, *number + 1, segment_size);
  if (!next.ok()) {
    return absl::OutOfRangeError(Cat("WAL segment ", ToString(), " is the last one possible"));
  }
  return next;
}

absl::StatusOr<WalFileName> WalFileName::Previous(std::uint64_t segment_size) const {
  absl::StatusOr<std::uint64_t> number = SegmentNumber(segment_size);
  if (!number.ok()) return number.status();
  if (*number == 0) {
    return absl::OutOfRangeError(Cat("WAL segment ", ToString(), " is the first one possible"));
  }
  return FromSegmentNumber(timeline_, *number - 1, segment_size);
}

std::string WalFileName::ToString() const {
  std::string out;
  out.reserve(40);
  AppendHex8(timeline_, out);
  switch (type_) {
    case WalFileType::kHistory:
      out += ".history";
      return out;
    case WalFileType::kSegment:
    case WalFileType::kPartialSegment:
    case WalFileType::kBackupHistory:
      AppendHex8(log_, out);
      AppendHex8(seg_, out);
      break;
  }
  if (type_ == WalFileType::kPartialSegment) out += ".partial";
  if (type_ == WalFileType::kBackupHistory) {
    out += '.';
    AppendHex8(backup_offset_, out);
    out += ".backup";
  }
  return out;
}

}  // namespace cnpgi
