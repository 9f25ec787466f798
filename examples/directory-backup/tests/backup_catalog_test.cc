// The catalog of base backups, the copy of a data directory and the restore,
// on real files: what a backup keeps and leaves out, that only complete
// backups are listed, that one backup of a server runs at a time, the
// retention policy, and that a restore checks every file.
#include "backup_catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "base_backup.h"
#include "restore.h"
#include "test_support.h"

namespace directory_backup {
namespace {

namespace fs = std::filesystem;
using testing::BackupsEndingAt;
using ::testing::ElementsAre;
using testing::Entries;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::ReadWholeFile;
using testing::TempDir;
using testing::WriteFile;

class CatalogTest : public ::testing::Test {
 protected:
  CatalogTest() { testing::MakeFakePgdata(pgdata()); }
  fs::path pgdata() const { return tmp_.path() / "pgdata"; }
  fs::path store() const { return tmp_.path() / "store" / "pg1"; }
  BackupCatalog catalog() const { return BackupCatalog(store() / "base"); }
  BackupInfo Backup(std::int64_t stopped_at,
                    const std::string& begin_wal = "000000010000000000000003") {
    auto info = testing::MakeBackup(store(), pgdata(), stopped_at, begin_wal);
    EXPECT_TRUE(info.ok()) << info.status();
    return info.ok() ? *info : BackupInfo{};
  }

  TempDir tmp_;
};

TEST_F(CatalogTest, ACopyKeepsDataAndLeavesOutRuntimeFiles) {
  const fs::path copy = tmp_.path() / "copy";
  fs::create_directories(copy);
  const CopyControl control;
  Throttle throttle(control);
  auto result = CopyDataDirectory(pgdata(), copy, throttle);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Entries(copy), ElementsAre("PG_VERSION", "base", "global", "pg_stat_tmp", "pg_tblspc",
                                         "pg_wal", "postgresql.conf"));
  EXPECT_THAT(Entries(copy / "base" / "5"), ElementsAre("1259"));
  EXPECT_THAT(Entries(copy / "pg_wal"), ElementsAre("archive_status"));
  EXPECT_THAT(Entries(copy / "pg_stat_tmp"), IsEmpty());
  EXPECT_EQ(result->files, 4);
  EXPECT_EQ(result->bytes, 3 + 23 + 8192 + (3 << 20));
  // The manifest: parents first, every file with its checksum.
  for (const ManifestEntry& e : result->manifest.entries) {
    if (e.directory) continue;
    Sha256 hash;
    const std::string content = ReadWholeFile(pgdata() / e.path);
    hash.Update(content.data(), content.size());
    EXPECT_EQ(e.sha256, hash.HexDigest()) << e.path;
    EXPECT_EQ(e.size, static_cast<std::int64_t>(content.size()));
  }
  // Parents before children, so that a restore can create them in order.
  std::vector<std::string> paths;
  for (const ManifestEntry& e : result->manifest.entries) paths.push_back(e.path);
  auto position = [&](const std::string& p) { return std::find(paths.begin(), paths.end(), p); };
  EXPECT_LT(position("base"), position("base/5"));
  EXPECT_LT(position("base/5"), position("base/5/1259"));
}

TEST_F(CatalogTest, TablespacesAreRefused) {
  fs::create_directories(tmp_.path() / "ts");
  fs::create_symlink(tmp_.path() / "ts", pgdata() / "pg_tblspc" / "16384");
  const fs::path copy = tmp_.path() / "copy";
  fs::create_directories(copy);
  const CopyControl control;
  Throttle throttle(control);
  EXPECT_THAT(CopyDataDirectory(pgdata(), copy, throttle).status().message(),
              HasSubstr("does not support tablespaces"));
}

TEST_F(CatalogTest, OnlyCompleteBackupsAreListedOldestFirst) {
  EXPECT_THAT(catalog().List().value(), IsEmpty());
  const BackupInfo newer = Backup(1700003600);
  const BackupInfo older = Backup(1700000000);
  {
    // A backup being written (or whose plugin was killed) is not listed.
    auto writer = catalog().Begin("in-progress", absl::FromUnixSeconds(1700007200));
    ASSERT_TRUE(writer.ok()) << writer.status();
    auto listed = catalog().List();
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->size(), 2u);
    EXPECT_EQ((*listed)[0].id, older.id);
    EXPECT_EQ((*listed)[1].id, newer.id);
    EXPECT_EQ((*listed)[1].backup_label, newer.backup_label);
  }
  EXPECT_EQ(catalog().List()->size(), 2u);
  EXPECT_EQ(catalog().Find(older.id)->stopped_at, 1700000000);
  EXPECT_THAT(catalog().Find("20200101T000000").status().message(),
              HasSubstr("it holds " + older.id + ", " + newer.id));
}

TEST_F(CatalogTest, OneBackupAtATimeAndAKilledOneIsCleanedUp) {
  auto first = catalog().Begin("first", absl::FromUnixSeconds(1700000000));
  ASSERT_TRUE(first.ok());
  auto second = catalog().Begin("second", absl::FromUnixSeconds(1700000001));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("backup first started at"));
  // What a killed plugin leaves: a temporary directory, no lock holder.
  WriteFile((*first)->data_directory() / "base" / "1", "half a copy");
  const fs::path left = (*first)->data_directory().parent_path();
  fs::rename(left, store() / "base" / ".20231114T221320.tmp.999.0");
  first->reset();
  auto third = catalog().Begin("third", absl::FromUnixSeconds(1700000002));
  ASSERT_TRUE(third.ok()) << third.status();
  std::vector<std::string> entries = Entries(store() / "base");
  // Only .lock and third's own temporary directory.
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_THAT(entries[0], HasSubstr("." + (*third)->id() + ".tmp."));
  EXPECT_EQ(entries[1], ".lock");
}

TEST_F(CatalogTest, BackupIdsStaySortedAndUnique) {
  EXPECT_TRUE(IsBackupId("20231114T221320"));
  EXPECT_TRUE(IsBackupId("20231114T221320-2"));
  for (const char* bad : {"", "2023-11-14", "20231114T22132", "20231114X221320", "20231114T221320-",
                          ".20231114T221320", "20231114T221320/.."}) {
    EXPECT_FALSE(IsBackupId(bad)) << bad;
  }
  const BackupInfo a = Backup(1700000000);
  const BackupInfo b = Backup(1700000000);  // the same second
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(b.id, a.id + "-1");
}

TEST_F(CatalogTest, ADamagedBackupJsonIsDataLoss) {
  const BackupInfo b = Backup(1700000000);
  WriteFile(store() / "base" / b.id / "backup.json", "{\"format\": 1");
  EXPECT_EQ(catalog().List().status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(catalog().List().status().message(), HasSubstr("backup " + b.id));
}

TEST_F(CatalogTest, RemovedBackupsDisappearAtOnce) {
  const BackupInfo b = Backup(1700000000);
  ASSERT_TRUE(catalog().Remove(b.id).ok());
  EXPECT_THAT(catalog().List().value(), IsEmpty());
  EXPECT_THAT(Entries(store() / "base"), ElementsAre(".lock"));
  EXPECT_EQ(catalog().Remove("../wals").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, AManifestCannotPointOutsidePgdata) {
  for (const char* path : {"../../etc/passwd", "/etc/passwd", "base/../../x"}) {
    auto manifest = Manifest::FromJson(nlohmann::json{
        {"format", 1},
        {"checksumAlgorithm", "SHA-256"},
        {"entries",
         {{{"path", path}, {"type", "file"}, {"mode", 384}, {"size", 1}, {"sha256", "x"}}}}});
    EXPECT_EQ(manifest.status().code(), absl::StatusCode::kInvalidArgument) << path;
  }
}

// Choosing and restoring ----------------------------------------------------------------

TEST(RecoveryTarget, TimesInEveryFormTheOperatorPasses) {
  const absl::Time t = absl::FromUnixSeconds(1763433000);  // 2025-11-18 02:30:00 UTC
  for (const char* text :
       {"2025-11-18 02:30:00.000000+00", "2025-11-18 02:30:00+00", "2025-11-18T02:30:00Z",
        "2025-11-18 02:30:00", "2025-11-18T03:30:00+01:00", "2025-11-18 04:30:00+0200",
        "2025-11-17 21:30:00-05"}) {
    auto parsed = ParseTargetTime(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status();
    EXPECT_EQ(*parsed, t) << text;
  }
  EXPECT_FALSE(ParseTargetTime("last tuesday").ok());
}

TEST(RecoveryTarget, TheBackupMustEndBeforeTheTarget) {
  auto backups = BackupsEndingAt({100, 200});
  backups[0].end_lsn = "0/3000100";
  backups[1].end_lsn = "0/5000100";
  RecoveryTarget latest;
  EXPECT_EQ(ChooseBackup(backups, latest)->id, "200");
  RecoveryTarget by_time{.time = absl::FromUnixSeconds(150)};
  EXPECT_EQ(ChooseBackup(backups, by_time)->id, "100");
  // The same second as its end may be before the real end.
  RecoveryTarget same_second{.time = absl::FromUnixSeconds(200)};
  EXPECT_EQ(ChooseBackup(backups, same_second)->id, "100");
  RecoveryTarget by_lsn{.lsn = ParseLsn("0/5000100").value()};
  EXPECT_EQ(ChooseBackup(backups, by_lsn)->id, "200");
  RecoveryTarget too_early{.time = absl::FromUnixSeconds(50), .description = "targetTime x"};
  EXPECT_EQ(ChooseBackup(backups, too_early).status().code(), absl::StatusCode::kNotFound);
  RecoveryTarget named{.backup_id = std::string("100")};
  EXPECT_EQ(ChooseBackup(backups, named)->id, "100");
}

TEST(Lsn, ParsesWhatPostgresqlWrites) {
  EXPECT_EQ(ParseLsn("0/0").value(), 0u);
  EXPECT_EQ(ParseLsn("16/B374D848").value(), 0x16B374D848u);
  for (const char* bad : {"", "16", "/1", "1/", "G/1", "1/123456789", "1/2/3"}) {
    EXPECT_FALSE(ParseLsn(bad).ok()) << bad;
  }
  EXPECT_EQ(SegmentOf(0x16B374D848u, 1, 16 << 20).value(), "0000000100000016000000B3");
  EXPECT_EQ(SegmentOf(0x3000000, 2, 16 << 20).value(), "000000020000000000000003");
}

TEST_F(CatalogTest, RestoreGivesBackModesAndRefusesAMissingPgdataPath) {
  const BackupInfo b = Backup(1700000000);
  fs::permissions(pgdata() / "postgresql.conf", fs::perms::owner_read | fs::perms::group_read);
  const BackupInfo c = Backup(1700000100);
  const CopyControl control;
  Throttle throttle(control);
  const fs::path target = tmp_.path() / "restored" / "pgdata";
  ASSERT_TRUE(RestoreBackup(catalog(), c, {.pgdata = target}, throttle).ok());
  struct stat st {};
  ASSERT_EQ(::stat((target / "postgresql.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0440u);
  EXPECT_EQ(RestoreBackup(catalog(), b, {.pgdata = "relative"}, throttle).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace directory_backup
