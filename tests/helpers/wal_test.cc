#include "cnpgi/wal.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cnpgi {
namespace {

using ::testing::HasSubstr;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(WalFileNameTest, Segments) {
  absl::StatusOr<WalFileName> name = WalFileName::Parse("000000010000000A000000C3");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->type(), WalFileType::kSegment);
  EXPECT_EQ(name->timeline(), 1u);
  EXPECT_EQ(name->log(), 0xAu);
  EXPECT_EQ(name->seg(), 0xC3u);
  EXPECT_EQ(*name->SegmentNumber(), 0xAu * 256 + 0xC3);
  EXPECT_EQ(name->ToString(), "000000010000000A000000C3");
  EXPECT_EQ(name->Next()->ToString(), "000000010000000A000000C4");
  EXPECT_EQ(name->Previous()->ToString(), "000000010000000A000000C2");
}

TEST(WalFileNameTest, PathsAreAccepted) {
  absl::StatusOr<WalFileName> name =
      WalFileName::Parse("/var/lib/postgresql/data/pgdata/pg_wal/000000020000000100000012");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->timeline(), 2u);
  EXPECT_EQ(name->ToString(), "000000020000000100000012");
}

TEST(WalFileNameTest, OtherFileTypes) {
  absl::StatusOr<WalFileName> history = WalFileName::Parse("0000000A.history");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->type(), WalFileType::kHistory);
  EXPECT_EQ(history->timeline(), 10u);
  EXPECT_FALSE(history->has_segment());
  EXPECT_EQ(history->ToString(), "0000000A.history");
  EXPECT_FALSE(history->SegmentNumber().ok());
  EXPECT_FALSE(history->Next().ok());
  EXPECT_FALSE(history->Segment().ok());

  absl::StatusOr<WalFileName> partial = WalFileName::Parse("000000010000000A000000C3.partial");
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->type(), WalFileType::kPartialSegment);
  EXPECT_EQ(partial->ToString(), "000000010000000A000000C3.partial");
  EXPECT_EQ(partial->Segment()->ToString(), "000000010000000A000000C3");
  EXPECT_EQ(partial->Next()->ToString(), "000000010000000A000000C4");

  absl::StatusOr<WalFileName> backup =
      WalFileName::Parse("000000010000000000000002.00000028.backup");
  ASSERT_TRUE(backup.ok());
  EXPECT_EQ(backup->type(), WalFileType::kBackupHistory);
  EXPECT_EQ(backup->backup_offset(), 0x28u);
  EXPECT_EQ(backup->ToString(), "000000010000000000000002.00000028.backup");
  EXPECT_EQ(backup->Segment()->ToString(), "000000010000000000000002");
}

TEST(WalFileNameTest, SegmentSizeChangesTheArithmetic) {
  // 16 MiB: 256 segments per log, so ...000000FF is followed by the next log.
  WalFileName last = *WalFileName::Parse("0000000100000001000000FF");
  EXPECT_EQ(last.Next()->ToString(), "000000010000000200000000");
  EXPECT_EQ(WalFileName::Parse("000000010000000200000000")->Previous()->ToString(),
            "0000000100000001000000FF");
  // 64 MiB: 64 segments per log; seg 0xFF does not exist.
  constexpr std::uint64_t k64MiB = 64 << 20;
  absl::StatusOr<std::uint64_t> number = last.SegmentNumber(k64MiB);
  ASSERT_FALSE(number.ok());
  EXPECT_THAT(Message(number.status()), HasSubstr("must be below 64"));
  WalFileName seg63 = *WalFileName::Parse("00000001000000010000003F");
  EXPECT_EQ(seg63.Next(k64MiB)->ToString(), "000000010000000200000000");
  // 1 GiB: 4 per log.
  EXPECT_EQ(WalFileName::Parse("000000010000000000000003")->Next(1 << 30)->ToString(),
            "000000010000000100000000");
  EXPECT_EQ(WalFileName::FromSegmentNumber(3, 257)->ToString(), "000000030000000100000001");
}

TEST(WalFileNameTest, Ends) {
  absl::StatusOr<WalFileName> first = WalFileName::Parse("000000010000000000000000");
  EXPECT_EQ(first->Previous().status().code(), absl::StatusCode::kOutOfRange);
  absl::StatusOr<WalFileName> last = WalFileName::Parse("00000001FFFFFFFF000000FF");
  EXPECT_EQ(last->Next().status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(Message(last->Next().status()), HasSubstr("last one possible"));
}

TEST(WalFileNameTest, BadNames) {
  for (const char* bad :
       {"", "00000001", "000000010000000A000000C", "000000010000000A000000C3X",
        "000000010000000a000000c3", "00000001 000000A000000C3", "000000010000000A000000C3.partia",
        "000000010000000A000000C3.backup", "000000010000000A000000C3.0000002.backup",
        "0000001.history", "0000000G.history", "RECOVERYXLOG", "/pg_wal/",
        "-00000010000000A000000C3", "000000000000000A000000C3", "00000000.history"}) {
    absl::StatusOr<WalFileName> name = WalFileName::Parse(bad);
    EXPECT_FALSE(name.ok()) << bad;
    if (!name.ok()) {
      EXPECT_EQ(name.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(Message(name.status()), HasSubstr("invalid WAL file name"));
    }
  }
  EXPECT_THAT(Message(WalFileName::Parse("000000000000000A000000C3").status()),
              HasSubstr("timeline 0"));
}

TEST(WalSegmentSizeTest, PowersOfTwoFromOneMiBToOneGiB) {
  for (std::uint64_t size : {1ULL << 20, 16ULL << 20, 1ULL << 30}) {
    EXPECT_TRUE(ValidateWalSegmentSize(size).ok()) << size;
  }
  for (std::uint64_t size : {0ULL, 1ULL << 19, 3ULL << 20, 2ULL << 30}) {
    EXPECT_FALSE(ValidateWalSegmentSize(size).ok()) << size;
  }
  EXPECT_FALSE(WalFileName::Parse("000000010000000000000001")->Next(3 << 20).ok());
  EXPECT_FALSE(WalFileName::FromSegmentNumber(0, 1).ok());
  EXPECT_EQ(WalFileName::FromSegmentNumber(1, ~0ULL).status().code(),
            absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace cnpgi
