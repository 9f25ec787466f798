// The retention policy: which backups it keeps, and that the cleanup never
// removes WAL a kept backup needs.
#include "retention.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "test_support.h"
#include "wal_archive.h"

namespace directory_backup {
namespace {

namespace fs = std::filesystem;
using testing::BackupsEndingAt;
using ::testing::ElementsAre;
using testing::Entries;
using ::testing::IsEmpty;

TEST(Retention, KeepsTheNewestN) {
  const auto backups = BackupsEndingAt({100, 200, 300, 400});
  EXPECT_THAT(BackupsToRemove(backups, {.keep_backups = 2}, absl::FromUnixSeconds(500)),
              ElementsAre("100", "200"));
  EXPECT_THAT(BackupsToRemove(backups, {.keep_backups = 9}, absl::FromUnixSeconds(500)), IsEmpty());
  EXPECT_THAT(BackupsToRemove(backups, {}, absl::FromUnixSeconds(500)), IsEmpty());
}

TEST(Retention, AWindowKeepsTheBackupItStartsFrom) {
  const auto backups = BackupsEndingAt({100, 200, 300, 400});
  // Window [250, 500]: recovering to 250 needs the backup that ended at 200.
  EXPECT_THAT(BackupsToRemove(backups, {.period = absl::Seconds(250)}, absl::FromUnixSeconds(500)),
              ElementsAre("100"));
  // A window older than everything keeps everything; one after the last
  // backup keeps only the last.
  EXPECT_THAT(BackupsToRemove(backups, {.period = absl::Seconds(450)}, absl::FromUnixSeconds(500)),
              IsEmpty());
  EXPECT_THAT(BackupsToRemove(backups, {.period = absl::Seconds(10)}, absl::FromUnixSeconds(500)),
              ElementsAre("100", "200", "300"));
}

TEST(Retention, EitherRuleKeepsABackup) {
  const auto backups = BackupsEndingAt({100, 200, 300, 400});
  EXPECT_THAT(BackupsToRemove(backups, {.keep_backups = 3, .period = absl::Seconds(10)},
                              absl::FromUnixSeconds(500)),
              ElementsAre("100"));
  EXPECT_THAT(BackupsToRemove(backups, {.keep_backups = 1, .period = absl::Seconds(250)},
                              absl::FromUnixSeconds(500)),
              ElementsAre("100"));
}

TEST(Retention, TheCleanupKeepsTheWalOfEveryKeptBackup) {
  testing::TempDir tmp;
  const fs::path store = tmp.path() / "store" / "pg1";
  testing::MakeFakePgdata(tmp.path() / "pgdata");
  // Three backups starting at segments 3, 5 and 7, WAL from 1 to 8 on
  // timeline 1 and a timeline 2 branching at 6.
  for (auto [stopped_at, begin] :
       {std::pair{1000, "000000010000000000000003"}, std::pair{2000, "000000010000000000000005"},
        std::pair{3000, "000000010000000000000007"}}) {
    ASSERT_TRUE(testing::MakeBackup(store, tmp.path() / "pgdata", stopped_at, begin).ok());
  }
  const WalArchive wal(store / "wals");
  for (const char* name :
       {"000000010000000000000001", "000000010000000000000002", "000000010000000000000003",
        "000000010000000000000003.00000028.backup", "000000010000000000000004",
        "000000010000000000000005", "000000010000000000000006", "000000010000000000000007",
        "000000010000000000000008", "00000002.history", "000000020000000000000004.partial",
        "000000020000000000000006"}) {
    testing::WriteFile(tmp.path() / "pg_wal" / name, name);
    ASSERT_TRUE(wal.Archive(tmp.path() / "pg_wal" / name, false).ok()) << name;
  }
  // Keep two backups: the one starting at 3 goes, and the WAL before 5.
  auto outcome = ApplyRetention(store, {.keep_backups = 2}, absl::FromUnixSeconds(4000));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->removed_backups.size(), 1u);
  EXPECT_EQ(outcome->removed_wal_files, 6u);
  EXPECT_EQ(outcome->first_kept_wal, "000000010000000000000005");
  EXPECT_EQ(BackupCatalog(store / "base").List()->size(), 2u);
  EXPECT_THAT(Entries(store / "wals" / "00000001"),
              ElementsAre("000000010000000000000005", "000000010000000000000006",
                          "000000010000000000000007", "000000010000000000000008"));
  EXPECT_THAT(Entries(store / "wals" / "00000002"),
              ElementsAre("00000002.history", "000000020000000000000006"));
  // Nothing more to do the second time.
  outcome = ApplyRetention(store, {.keep_backups = 2}, absl::FromUnixSeconds(4000));
  ASSERT_TRUE(outcome.ok());
  EXPECT_THAT(outcome->removed_backups, IsEmpty());
  EXPECT_EQ(outcome->removed_wal_files, 0u);
}

TEST(Retention, WithoutABackupNoWalIsRemoved) {
  testing::TempDir tmp;
  const fs::path store = tmp.path() / "pg1";
  testing::WriteFile(tmp.path() / "000000010000000000000001", "wal");
  ASSERT_TRUE(
      WalArchive(store / "wals").Archive(tmp.path() / "000000010000000000000001", false).ok());
  auto outcome = ApplyRetention(store, {.keep_backups = 1}, absl::FromUnixSeconds(4000));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->removed_wal_files, 0u);
  EXPECT_THAT(Entries(store / "wals" / "00000001"), ElementsAre("000000010000000000000001"));
}

}  // namespace
}  // namespace directory_backup
