// WalArchive and the configuration, on real files in a temporary directory:
// durability is not observable here, but every rule that is (no overwrite,
// idempotence, the empty-archive check, NOT_FOUND, names, timelines,
// retention of segments) is.
#include "wal_archive.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <cnpgi/cluster.h>

#include "configuration.h"
#include "test_support.h"

namespace directory_backup {
namespace {

using ::testing::ElementsAre;
using testing::Entries;
using ::testing::HasSubstr;
using testing::ReadWholeFile;
using testing::TempDir;
using testing::WriteFile;
namespace fs = std::filesystem;

constexpr char kSegment1[] = "000000010000000000000001";
constexpr char kSegment2[] = "000000010000000000000002";

class WalArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(pg_wal());
    archive_root_ = tmp_.path() / "store" / "pg1" / "wals";
  }
  fs::path pg_wal() const { return tmp_.path() / "pgdata" / "pg_wal"; }
  fs::path Segment(const std::string& name, const std::string& content) const {
    fs::path p = pg_wal() / name;
    WriteFile(p, content);
    return p;
  }
  WalArchive archive() const { return WalArchive(archive_root_); }
  fs::path tl1() const { return archive_root_ / "00000001"; }

  TempDir tmp_;
  fs::path archive_root_;
};

TEST_F(WalArchiveTest, ArchiveCreatesTheDirectoryAndStoresTheFile) {
  ASSERT_TRUE(archive().Archive(Segment(kSegment1, "one"), false).ok());
  EXPECT_EQ(ReadWholeFile(tl1() / kSegment1), "one");
  // No temporary file is left behind.
  EXPECT_THAT(Entries(tl1()), ElementsAre(kSegment1));
  struct stat st {};
  ASSERT_EQ(::stat(tl1().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(WalArchiveTest, ArchivingTheSameFileAgainIsOk) {
  fs::path source = Segment(kSegment1, "one");
  ASSERT_TRUE(archive().Archive(source, false).ok());
  absl::Status again = archive().Archive(source, false);
  EXPECT_TRUE(again.ok()) << again;
  EXPECT_THAT(Entries(tl1()), ElementsAre(kSegment1));
}

TEST_F(WalArchiveTest, DifferentContentIsNeverOverwritten) {
  ASSERT_TRUE(archive().Archive(Segment(kSegment1, "one"), false).ok());
  absl::Status s = archive().Archive(Segment(kSegment1, "ONE"), false);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(s.message(), HasSubstr(kSegment1));
  EXPECT_THAT(s.message(), HasSubstr("different content"));
  EXPECT_EQ(ReadWholeFile(tl1() / kSegment1), "one");
  // Same size, different bytes too.
  s = archive().Archive(Segment(kSegment1, "onf"), false);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(WalArchiveTest, CheckEmptyRefusesAnArchiveHoldingWal) {
  ASSERT_TRUE(archive().Archive(Segment(kSegment1, "one"), true).ok()) << "empty: accepted";
  absl::Status s = archive().Archive(Segment(kSegment2, "two"), true);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("not empty"));
  EXPECT_THAT(s.message(), HasSubstr(kSegment1));
  EXPECT_FALSE(fs::exists(tl1() / kSegment2));
  // A retry of the file it already holds is not a new cluster.
  EXPECT_TRUE(archive().Archive(pg_wal() / kSegment1, true).ok());
  // Without the check, archiving goes on.
  EXPECT_TRUE(archive().Archive(pg_wal() / kSegment2, false).ok());
}

TEST_F(WalArchiveTest, CheckEmptyIgnoresFilesThatAreNotWal) {
  WriteFile(archive_root_ / "README", "x");
  WriteFile(tl1() / "README", "x");
  WriteFile(tl1() / ".000000010000000000000009.tmp.1.2", "partial copy");
  EXPECT_TRUE(archive().Archive(Segment(kSegment1, "one"), true).ok());
}

TEST_F(WalArchiveTest, ArchiveRefusesBadNamesAndRelativePaths) {
  WriteFile(pg_wal() / "passwd", "x");
  EXPECT_EQ(archive().Archive(pg_wal() / "passwd", false).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(archive().Archive(fs::path("pg_wal") / kSegment1, false).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(archive().Archive(pg_wal() / "000000010000000000000001x", false).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(archive_root_));
}

TEST_F(WalArchiveTest, ArchiveOfAMissingSourceIsNotFound) {
  absl::Status s = archive().Archive(pg_wal() / kSegment2, false);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(kSegment2));
}

TEST_F(WalArchiveTest, ArchivesEveryKindOfWalFile) {
  for (const char* name : {"00000002.history", "000000010000000000000003.00000028.backup",
                           "000000010000000000000004.partial"}) {
    EXPECT_TRUE(archive().Archive(Segment(name, name), false).ok()) << name;
    EXPECT_EQ(ReadWholeFile(archive().PathOf(*cnpgi::WalFileName::Parse(name))), name);
  }
}

TEST_F(WalArchiveTest, RestoreWritesTheDestinationAndReplacesIt) {
  ASSERT_TRUE(archive().Archive(Segment(kSegment1, "one"), false).ok());
  const fs::path destination = pg_wal() / "RECOVERYXLOG";
  WriteFile(destination, "an older file");
  absl::Status s = archive().Restore(kSegment1, destination);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(ReadWholeFile(destination), "one");
  // No temporary file is left behind.
  for (const auto& e : fs::directory_iterator(pg_wal())) {
    EXPECT_NE(e.path().filename().native().front(), '.') << e.path();
  }
}

TEST_F(WalArchiveTest, RestoreOfAMissingFileIsNotFound) {
  const fs::path destination = pg_wal() / "RECOVERYXLOG";
  absl::Status s = archive().Restore(kSegment2, destination);  // no archive at all
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(archive().Archive(Segment(kSegment1, "one"), false).ok());
  s = archive().Restore(kSegment2, destination);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(kSegment2));
  EXPECT_FALSE(fs::exists(destination));
}

TEST_F(WalArchiveTest, RestoreCannotLeaveTheArchive) {
  WriteFile(tmp_.path() / "secret", "secret");
  const fs::path destination = pg_wal() / "RECOVERYXLOG";
  for (const char* name :
       {"../secret", "../../secret", "/etc/passwd", "", "../pg1/000000010000000000000001",
        "000000010000000000000001/", "00000001000000000000000a"}) {
    absl::Status s = archive().Restore(name, destination);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << name << ": " << s;
  }
  EXPECT_EQ(archive().Restore(kSegment1, fs::path("RECOVERYXLOG")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(destination));
}

TEST_F(WalArchiveTest, ConcurrentArchivesOfTheSameFileAllSucceed) {
  fs::path source = Segment(kSegment1, std::string(3 << 20, 'w'));
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(8);
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = archive().Archive(source, false); });
  }
  for (auto& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
  EXPECT_THAT(Entries(tl1()), ElementsAre(kSegment1));
}

TEST_F(WalArchiveTest, DescribeListsFirstAndLastSegments) {
  absl::StatusOr<WalArchive::Summary> empty = archive().Describe();
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->segments, 0u);
  for (const char* name : {"000000010000000000000003", kSegment2, "00000002.history",
                           "000000020000000000000003", "000000010000000000000003.partial"}) {
    ASSERT_TRUE(archive().Archive(Segment(name, name), false).ok());
  }
  absl::StatusOr<WalArchive::Summary> summary = archive().Describe();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->first_segment, kSegment2);
  EXPECT_EQ(summary->last_segment, "000000020000000000000003");
  EXPECT_EQ(summary->segments, 4u);
  EXPECT_EQ(summary->other_files, 1u);
}

TEST_F(WalArchiveTest, TimelinesHaveTheirOwnDirectories) {
  for (const char* name : {kSegment1, "00000002.history", "000000020000000000000002"}) {
    ASSERT_TRUE(archive().Archive(Segment(name, name), false).ok()) << name;
  }
  EXPECT_THAT(Entries(archive_root_), ElementsAre("00000001", "00000002"));
  EXPECT_THAT(Entries(archive_root_ / "00000002"),
              ElementsAre("00000002.history", "000000020000000000000002"));
  absl::Status s = archive().Restore("00000002.history", pg_wal() / "RECOVERYHISTORY");
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(ReadWholeFile(pg_wal() / "RECOVERYHISTORY"), "00000002.history");
}

TEST_F(WalArchiveTest, RemovingOldSegmentsKeepsHistoryAndNewerSegments) {
  for (const char* name : {kSegment1, kSegment2, "000000010000000000000002.00000028.backup",
                           "000000010000000000000003", "00000002.history",
                           "000000020000000000000001.partial", "000000020000000000000004"}) {
    ASSERT_TRUE(archive().Archive(Segment(name, name), false).ok()) << name;
  }
  absl::StatusOr<std::size_t> removed = archive().RemoveSegmentsBefore(3, 16 << 20);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 4u);
  EXPECT_THAT(Entries(tl1()), ElementsAre("000000010000000000000003"));
  EXPECT_THAT(Entries(archive_root_ / "00000002"),
              ElementsAre("00000002.history", "000000020000000000000004"));
}

// Configuration ------------------------------------------------------------

absl::StatusOr<cnpgi::Cluster> ClusterWith(const std::string& plugins_and_more) {
  return cnpgi::Cluster::Parse(R"({"apiVersion":"postgresql.cnpg.io/v1","kind":"Cluster",)"
                               R"("metadata":{"name":"pg1","namespace":"app"},"spec":{)" +
                               plugins_and_more + "}}");
}

TEST(Configuration, ReadsEveryParameter) {
  auto cluster = ClusterWith(
      R"("plugins":[{"name":"other"},{"name":"directory-backup.example.com","parameters":)"
      R"({"destination":"/backups/./x/","serverName":"main","retention":"3 backups",)"
      R"("maxRate":"10Mi","immediateCheckpoint":"true","volumeClaim":"backups"}}])");
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto config = OwnConfiguration(*cluster, kPluginName);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->location.root(), fs::path("/backups/x/main"));
  EXPECT_EQ(config->retention.keep_backups, 3);
  EXPECT_FALSE(config->retention.period.has_value());
  EXPECT_EQ(config->max_rate, 10 << 20);
  EXPECT_TRUE(config->immediate_checkpoint);
  EXPECT_EQ(config->volume_claim, "backups");
}

TEST(Configuration, ServerNameDefaultsToTheClusterAndTheRestToNothing) {
  auto cluster = ClusterWith(
      R"("plugins":[{"name":"directory-backup.example.com","parameters":{"destination":"/b"}}])");
  ASSERT_TRUE(cluster.ok());
  auto config = OwnConfiguration(*cluster, kPluginName);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->location.root(), fs::path("/b/pg1"));
  EXPECT_TRUE(config->retention.keeps_everything());
  EXPECT_EQ(config->max_rate, 0);
  EXPECT_FALSE(config->immediate_checkpoint);
}

TEST(Configuration, DestinationIsRequired) {
  auto cluster = ClusterWith(R"("plugins":[{"name":"directory-backup.example.com"}])");
  ASSERT_TRUE(cluster.ok());
  auto missing = OwnConfiguration(*cluster, kPluginName);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("spec.plugins[0].parameters.destination"));
}

TEST(Configuration, BadParametersAreReportedWithTheirPaths) {
  auto cluster =
      ClusterWith(R"("plugins":[{"name":"directory-backup.example.com","parameters":)"
                  R"({"destination":"relative/dir","serverName":"../escape","bucket":"x",)"
                  R"("retention":"forever","maxRate":"fast","volumeClaim":"Not_A_Name"}}])");
  ASSERT_TRUE(cluster.ok());
  auto config = OwnConfiguration(*cluster, kPluginName);
  ASSERT_FALSE(config.ok());
  const std::string message(config.status().message());
  for (const char* parameter :
       {"destination: must be an absolute", "serverName", "bucket",
        "retention: \"forever\" is not a retention policy", "maxRate", "volumeClaim"}) {
    EXPECT_THAT(message, HasSubstr(std::string("spec.plugins[0].parameters.") + parameter));
  }
}

TEST(Configuration, RetentionIsACountOrAWindow) {
  EXPECT_EQ(ParseRetention("1 backup")->keep_backups, 1);
  EXPECT_EQ(ParseRetention("12 backups")->keep_backups, 12);
  EXPECT_EQ(ParseRetention("7d")->period, absl::Hours(24 * 7));
  EXPECT_EQ(ParseRetention("36h")->period, absl::Hours(36));
  for (const char* bad : {"", "0 backups", "3", "2 backup", "-1d", "0", "3 days", "seven"}) {
    EXPECT_EQ(ParseRetention(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Configuration, NotConfiguredIsFailedPrecondition) {
  auto cluster = ClusterWith(R"("plugins":[{"name":"other"}])");
  ASSERT_TRUE(cluster.ok());
  EXPECT_EQ(OwnConfiguration(*cluster, kPluginName).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RestoreLocationsOf(*cluster, kPluginName).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RecoverySourceConfiguration(*cluster, kPluginName).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Configuration, RestoreSearchesOwnStoreThenTheRecoverySource) {
  auto cluster = ClusterWith(
      R"("plugins":[{"name":"directory-backup.example.com","parameters":{"destination":"/a"}}],)"
      R"("bootstrap":{"recovery":{"source":"origin"}},)"
      R"("externalClusters":[{"name":"origin","plugin":{"name":"directory-backup.example.com",)"
      R"("parameters":{"destination":"/b"}}}])");
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto locations = RestoreLocationsOf(*cluster, kPluginName);
  ASSERT_TRUE(locations.ok()) << locations.status();
  ASSERT_EQ(locations->size(), 2u);
  EXPECT_EQ((*locations)[0].root(), fs::path("/a/pg1"));
  EXPECT_EQ((*locations)[1].root(), fs::path("/b/origin"));
  auto source = RecoverySourceConfiguration(*cluster, kPluginName);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(source->location.root(), fs::path("/b/origin"));
}

TEST(Configuration, ABackupMayPaceItselfAndNothingElse) {
  auto cluster = ClusterWith(
      R"("plugins":[{"name":"directory-backup.example.com","parameters":{"destination":"/a"}}])");
  ASSERT_TRUE(cluster.ok());
  auto base = OwnConfiguration(*cluster, kPluginName);
  ASSERT_TRUE(base.ok());
  auto backup_with = [](const std::string& parameters) {
    return cnpgi::Backup::Parse(
        R"({"apiVersion":"postgresql.cnpg.io/v1","kind":"Backup","metadata":{"name":"b"},)"
        R"("spec":{"cluster":{"name":"pg1"},"method":"plugin","pluginConfiguration":)"
        R"({"name":"directory-backup.example.com","parameters":)" +
        parameters + "}}}");
  };
  auto paced = ApplyBackupParameters(
      *base, *backup_with(R"({"maxRate":"1Mi","immediateCheckpoint":"true"})"));
  ASSERT_TRUE(paced.ok()) << paced.status();
  EXPECT_EQ(paced->max_rate, 1 << 20);
  EXPECT_TRUE(paced->immediate_checkpoint);
  auto refused = ApplyBackupParameters(*base, *backup_with(R"({"destination":"/elsewhere"})"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("spec.pluginConfiguration.parameters.destination"));
}

}  // namespace
}  // namespace directory_backup
