// WalDirectory and the configuration, on real files in a temporary
// directory: durability is not observable here, but every rule that is
// (no overwrite, idempotence, the empty-archive check, NOT_FOUND, names) is.
#include "wal_directory.h"

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

namespace wal_directory {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kSegment1[] = "000000010000000000000001";
constexpr char kSegment2[] = "000000010000000000000002";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "wal-directory-test.XXXXXX").native();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void WriteFile(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

class WalDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(pg_wal());
    archive_root_ = tmp_.path() / "archive" / "pg1";
  }
  fs::path pg_wal() const { return tmp_.path() / "pgdata" / "pg_wal"; }
  fs::path Segment(const std::string& name, const std::string& content) const {
    fs::path p = pg_wal() / name;
    WriteFile(p, content);
    return p;
  }
  WalDirectory archive() const { return WalDirectory(archive_root_); }

  TempDir tmp_;
  fs::path archive_root_;
};

TEST_F(WalDirectoryTest, ArchiveCreatesTheDirectoryAndStoresTheFile) {
  ASSERT_TRUE(archive().Archive(Segment(kSegment1, "one"), false).ok());
  EXPECT_EQ(ReadFile(archive_root_ / kSegment1), "one");
  // No temporary file is left behind.
  EXPECT_THAT(Entries(archive_root_), ElementsAre(kSegment1));
  struct stat st {};
  ASSERT_EQ(::stat(archive_root_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(WalDirectoryTest, ArchivingTheSameFileAgainIsOk) {
  fs::path source = Segment(kSegment1, "one");
  ASSERT_TRUE(archive().Archive(source, false).ok());
  absl::Status again = archive().Archive(source, false);
  EXPECT_TRUE(again.ok()) << again;
  EXPECT_THAT(Entries(archive_root_), ElementsAre(kSegment1));
}

TEST_F(WalDirectoryTest, DifferentContentIsNeverOverwritten) {
  ASSERT_TRUE(archive().Archive(Segment(kSegment1, "one"), false).ok());
  absl::Status s = archive().Archive(Segment(kSegment1, "ONE"), false);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(s.message(), HasSubstr(kSegment1));
  EXPECT_THAT(s.message(), HasSubstr("different content"));
  EXPECT_EQ(ReadFile(archive_root_ / kSegment1), "one");
  // Same size, different bytes too.
  s = archive().Archive(Segment(kSegment1, "onf"), false);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(WalDirectoryTest, CheckEmptyRefusesAnArchiveHoldingWal) {
  ASSERT_TRUE(archive().Archive(Segment(kSegment1, "one"), true).ok()) << "empty: accepted";
  absl::Status s = archive().Archive(Segment(kSegment2, "two"), true);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("not empty"));
  EXPECT_THAT(s.message(), HasSubstr(kSegment1));
  EXPECT_FALSE(fs::exists(archive_root_ / kSegment2));
  // A retry of the file it already holds is not a new cluster.
  EXPECT_TRUE(archive().Archive(pg_wal() / kSegment1, true).ok());
  // Without the check, archiving goes on.
  EXPECT_TRUE(archive().Archive(pg_wal() / kSegment2, false).ok());
}

TEST_F(WalDirectoryTest, CheckEmptyIgnoresFilesThatAreNotWal) {
  fs::create_directories(archive_root_);
  WriteFile(archive_root_ / "README", "x");
  WriteFile(archive_root_ / ".000000010000000000000009.tmp.1.2", "partial copy");
  EXPECT_TRUE(archive().Archive(Segment(kSegment1, "one"), true).ok());
}

TEST_F(WalDirectoryTest, ArchiveRefusesBadNamesAndRelativePaths) {
  WriteFile(pg_wal() / "passwd", "x");
  EXPECT_EQ(archive().Archive(pg_wal() / "passwd", false).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(archive().Archive(fs::path("pg_wal") / kSegment1, false).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(archive().Archive(pg_wal() / "000000010000000000000001x", false).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(archive_root_));
}

TEST_F(WalDirectoryTest, ArchiveOfAMissingSourceIsNotFound) {
  absl::Status s = archive().Archive(pg_wal() / kSegment2, false);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(kSegment2));
}

TEST_F(WalDirectoryTest, ArchivesEveryKindOfWalFile) {
  for (const char* name : {"00000002.history", "000000010000000000000003.00000028.backup",
                           "000000010000000000000004.partial"}) {
    EXPECT_TRUE(archive().Archive(Segment(name, name), false).ok()) << name;
    EXPECT_EQ(ReadFile(archive_root_ / name), name);
  }
}

TEST_F(WalDirectoryTest, RestoreWritesTheDestinationAndReplacesIt) {
  ASSERT_TRUE(archive().Archive(Segment(kSegment1, "one"), false).ok());
  const fs::path destination = pg_wal() / "RECOVERYXLOG";
  WriteFile(destination, "an older file");
  absl::Status s = archive().Restore(kSegment1, destination);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(ReadFile(destination), "one");
  // No temporary file is left behind.
  for (const auto& e : fs::directory_iterator(pg_wal())) {
    EXPECT_NE(e.path().filename().native().front(), '.') << e.path();
  }
}

TEST_F(WalDirectoryTest, RestoreOfAMissingFileIsNotFound) {
  const fs::path destination = pg_wal() / "RECOVERYXLOG";
  absl::Status s = archive().Restore(kSegment2, destination);  // no archive at all
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(archive().Archive(Segment(kSegment1, "one"), false).ok());
  s = archive().Restore(kSegment2, destination);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(kSegment2));
  EXPECT_FALSE(fs::exists(destination));
}

TEST_F(WalDirectoryTest, RestoreCannotLeaveTheArchive) {
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

TEST_F(WalDirectoryTest, ConcurrentArchivesOfTheSameFileAllSucceed) {
  fs::path source = Segment(kSegment1, std::string(3 << 20, 'w'));
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(8);
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = archive().Archive(source, false); });
  }
  for (auto& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
  EXPECT_THAT(Entries(archive_root_), ElementsAre(kSegment1));
}

TEST_F(WalDirectoryTest, DescribeListsFirstAndLastSegments) {
  absl::StatusOr<WalDirectory::Summary> empty = archive().Describe();
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->segments, 0u);
  for (const char* name : {"000000010000000000000003", kSegment2, "00000002.history",
                           "000000020000000000000003", "000000010000000000000003.partial"}) {
    ASSERT_TRUE(archive().Archive(Segment(name, name), false).ok());
  }
  absl::StatusOr<WalDirectory::Summary> summary = archive().Describe();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->first_segment, kSegment2);
  EXPECT_EQ(summary->last_segment, "000000020000000000000003");
  EXPECT_EQ(summary->segments, 4u);
  EXPECT_EQ(summary->other_files, 1u);
}

// Configuration ------------------------------------------------------------

absl::StatusOr<cnpgi::Cluster> ClusterWith(const std::string& plugins_and_more) {
  return cnpgi::Cluster::Parse(R"({"apiVersion":"postgresql.cnpg.io/v1","kind":"Cluster",)"
                               R"("metadata":{"name":"pg1","namespace":"app"},"spec":{)" +
                               plugins_and_more + "}}");
}

TEST(Configuration, ReadsDirectoryAndServerName) {
  auto cluster = ClusterWith(R"("plugins":[{"name":"other"},{"name":"wal-directory.example.com",)"
                             R"("parameters":{"directory":"/archive/./x/","serverName":"main"}}])");
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto location = ArchiveLocationOf(*cluster, kPluginName, std::nullopt);
  ASSERT_TRUE(location.ok()) << location.status();
  EXPECT_EQ(location->root(), fs::path("/archive/x/main"));
}

TEST(Configuration, ServerNameDefaultsToTheClusterAndDirectoryToTheEnvironment) {
  auto cluster = ClusterWith(R"("plugins":[{"name":"wal-directory.example.com"}])");
  ASSERT_TRUE(cluster.ok());
  auto location = ArchiveLocationOf(*cluster, kPluginName, std::string("/mnt/wal"));
  ASSERT_TRUE(location.ok()) << location.status();
  EXPECT_EQ(location->root(), fs::path("/mnt/wal/pg1"));

  auto missing = ArchiveLocationOf(*cluster, kPluginName, std::nullopt);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("spec.plugins[0].parameters.directory"));
}

TEST(Configuration, BadParametersAreReportedWithTheirPaths) {
  auto cluster =
      ClusterWith(R"("plugins":[{"name":"wal-directory.example.com","parameters":)"
                  R"({"directory":"relative/dir","serverName":"../escape","bucket":"x"}}])");
  ASSERT_TRUE(cluster.ok());
  auto location = ArchiveLocationOf(*cluster, kPluginName, std::string("/mnt/wal"));
  ASSERT_FALSE(location.ok());
  const std::string message(location.status().message());
  EXPECT_THAT(message, HasSubstr("spec.plugins[0].parameters.directory: must be an absolute"));
  EXPECT_THAT(message, HasSubstr("spec.plugins[0].parameters.serverName"));
  EXPECT_THAT(message, HasSubstr("spec.plugins[0].parameters.bucket"));
}

TEST(Configuration, NotConfiguredIsFailedPrecondition) {
  auto cluster = ClusterWith(R"("plugins":[{"name":"other"}])");
  ASSERT_TRUE(cluster.ok());
  EXPECT_EQ(ArchiveLocationOf(*cluster, kPluginName, std::nullopt).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RestoreLocationsOf(*cluster, kPluginName, std::nullopt).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Configuration, RestoreSearchesOwnArchiveThenTheRecoverySource) {
  auto cluster = ClusterWith(
      R"("plugins":[{"name":"wal-directory.example.com","parameters":{"directory":"/a"}}],)"
      R"("bootstrap":{"recovery":{"source":"origin"}},)"
      R"("externalClusters":[{"name":"origin","plugin":{"name":"wal-directory.example.com",)"
      R"("parameters":{"directory":"/b"}}}])");
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto locations = RestoreLocationsOf(*cluster, kPluginName, std::nullopt);
  ASSERT_TRUE(locations.ok()) << locations.status();
  ASSERT_EQ(locations->size(), 2u);
  EXPECT_EQ((*locations)[0].root(), fs::path("/a/pg1"));
  EXPECT_EQ((*locations)[1].root(), fs::path("/b/origin"));
}

}  // namespace
}  // namespace wal_directory
