// The instance sidecar as the instance manager reaches it: the plugin serves
// on a Unix socket in-process (cnpgi::test::PluginKit) and an
// operator-like client does the handshake, then WAL, Backup and Metrics
// calls with the fixture Cluster, whose spec.plugins entry points at a
// temporary store. Backups of a real PostgreSQL are in postgres_e2e.sh;
// here, what does not need one: the refusals.
#include <stdlib.h>

#include <cnpgi/testing/gtest.h>

#include <filesystem>
#include <string>

#include "configuration.h"
#include "plugin.h"
#include "test_support.h"

namespace directory_backup {
namespace {

namespace fs = std::filesystem;
using cnpgi::test::IsOk;
using cnpgi::test::StatusIs;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::ReadWholeFile;
using ::testing::UnorderedElementsAre;

constexpr char kSegment[] = "000000010000000000000007";

class InstanceTest : public cnpgi::test::PluginTest {
 protected:
  InstanceTest() { fs::create_directories(pg_wal()); }

  cnpgi::PluginServer MakePlugin() override { return MakeServer(Role::kInstance, Environment{}); }
  cnpgi::test::KitOptions MakeKitOptions() override {
    cnpgi::test::KitOptions options;
    options.client.plugin_parameters = {{"destination", destination().native()}};
    return options;
  }

  fs::path destination() const { return tmp_.path() / "backups"; }
  fs::path pg_wal() const { return tmp_.path() / "pgdata" / "pg_wal"; }
  // The fixture Cluster's store: <destination>/<Cluster name>.
  fs::path store_of(const json& cluster) const {
    return destination() / cluster["metadata"]["name"].get<std::string>();
  }
  std::string Segment(const std::string& name, const std::string& content) const {
    testing::WriteFile(pg_wal() / name, content);
    return (pg_wal() / name).native();
  }
  std::vector<std::string> LeftInBase(const json& cluster) const {
    std::vector<std::string> left;
    for (const std::string& name : testing::Entries(store_of(cluster) / "base")) {
      if (name != ".lock") left.push_back(name);
    }
    return left;
  }

  testing::TempDir tmp_;
};

TEST_F(InstanceTest, AdvertisesWalBackupAndMetrics) {
  const cnpgi::test::HandshakeResult& h = client().handshake();
  ASSERT_TRUE(h.complete);
  EXPECT_EQ(h.name(), kPluginName);
  EXPECT_THAT(h.IdentityCapabilityNames(),
              ElementsAre("TYPE_WAL_SERVICE", "TYPE_BACKUP_SERVICE", "TYPE_METRICS"));
  EXPECT_THAT(h.WalCapabilityNames(),
              ElementsAre("TYPE_ARCHIVE_WAL", "TYPE_RESTORE_WAL", "TYPE_STATUS"));
}

TEST_F(InstanceTest, ArchivedFilesComeBackByteForByte) {
  const json cluster = kit().cluster();
  const std::string content(1 << 20, 'x');
  ASSERT_THAT(client().ArchiveWal(cluster, Segment(kSegment, content), true), IsOk());
  EXPECT_EQ(ReadWholeFile(store_of(cluster) / "wals" / "00000001" / kSegment), content);

  const fs::path destination = pg_wal() / "RECOVERYXLOG";
  ASSERT_THAT(client().RestoreWal(cluster, kSegment, destination.native()), IsOk());
  EXPECT_EQ(ReadWholeFile(destination), content);

  auto status = client().WalStatus(cluster);
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(status->first_wal(), kSegment);
  EXPECT_EQ(status->last_wal(), kSegment);
  EXPECT_EQ(status->additional_information().at("segments"), "1");
}

TEST_F(InstanceTest, MissingFileIsNotFound) {
  const fs::path destination = pg_wal() / "RECOVERYXLOG";
  EXPECT_THAT(client().RestoreWal(kit().cluster(), kSegment, destination.native()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(kSegment)));
  EXPECT_THAT(client().RestoreWal(kit().cluster(), "00000002.history", destination.native()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(fs::exists(destination));
}

TEST_F(InstanceTest, ANewClusterRefusesAStoreInUse) {
  const json cluster = kit().cluster();
  ASSERT_THAT(client().ArchiveWal(cluster, Segment(kSegment, "a"), true), IsOk());
  EXPECT_THAT(client().ArchiveWal(cluster, Segment("000000010000000000000008", "b"), true),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not empty")));
  EXPECT_THAT(client().ArchiveWal(cluster, Segment("000000010000000000000008", "b"), false),
              IsOk());
}

TEST_F(InstanceTest, AStoreHoldingOnlyBackupsIsInUseToo) {
  const json cluster = kit().cluster();
  testing::MakeFakePgdata(tmp_.path() / "pgdata");
  ASSERT_THAT(testing::MakeBackup(store_of(cluster), tmp_.path() / "pgdata", 1700000000,
                                  "000000010000000000000003"),
              IsOk());
  EXPECT_THAT(client().ArchiveWal(cluster, Segment(kSegment, "a"), true),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("holds backup")));
}

TEST_F(InstanceTest, AnArchivedFileIsNeverOverwritten) {
  const json cluster = kit().cluster();
  ASSERT_THAT(client().ArchiveWal(cluster, Segment(kSegment, "first"), false), IsOk());
  EXPECT_THAT(client().ArchiveWal(cluster, Segment(kSegment, "first"), false), IsOk());
  EXPECT_THAT(client().ArchiveWal(cluster, Segment(kSegment, "other"), false),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(kSegment)));
  EXPECT_EQ(ReadWholeFile(store_of(cluster) / "wals" / "00000001" / kSegment), "first");
}

TEST_F(InstanceTest, NamesThatAreNotWalAreRefused) {
  const json cluster = kit().cluster();
  const fs::path destination = pg_wal() / "RECOVERYXLOG";
  EXPECT_THAT(client().RestoreWal(cluster, "../../etc/passwd", destination.native()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client().ArchiveWal(cluster, Segment("postgresql.conf", "x"), false),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(InstanceTest, WithoutADestinationTheErrorNamesTheParameter) {
  json cluster = kit().cluster();
  for (json& entry : cluster["spec"]["plugins"]) {
    if (entry["name"] == kPluginName) entry["parameters"] = json::object();
  }
  EXPECT_THAT(client().ArchiveWal(cluster, Segment(kSegment, "a"), false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("parameters.destination")));
  EXPECT_THAT(client().Backup(cluster, kit().backup()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("parameters.destination")));
}

TEST_F(InstanceTest, ADestinationThatIsNotADirectoryIsNamed) {
  testing::WriteFile(destination(), "a file where the volume should be");
  const json cluster = kit().cluster();
  EXPECT_THAT(client().ArchiveWal(cluster, Segment(kSegment, "a"), false),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(destination().native() + " exists and is not a directory")));
  EXPECT_THAT(client().Backup(cluster, kit().backup()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(destination().native() + " exists and is not a directory")));
}

TEST_F(InstanceTest, ARecoveringClusterReadsItsSourcesArchive) {
  // The origin cluster archived under its own name...
  json origin = kit().cluster();
  origin["metadata"]["name"] = "origin";
  ASSERT_THAT(client().ArchiveWal(origin, Segment(kSegment, "from origin"), true), IsOk());
  // ...and the new one, bootstrapping from the external cluster "origin"
  // (same plugin, same destination), finds it there.
  const json recovering = kit().fixtures().recovery_cluster();
  const fs::path destination = pg_wal() / "RECOVERYXLOG";
  ASSERT_THAT(client().RestoreWal(recovering, kSegment, destination.native()), IsOk());
  EXPECT_EQ(ReadWholeFile(destination), "from origin");
}

// Backup --------------------------------------------------------------------------

TEST_F(InstanceTest, ABackupOfAStoppedInstanceIsUnavailableAndLeavesNothing) {
  // Nobody listens in this directory: as an instance whose PostgreSQL is down.
  ::setenv("PGHOST", (tmp_.path() / "no-server").c_str(), 1);
  const json cluster = kit().cluster();
  auto result = client().WithTimeout(absl::Seconds(30)).Backup(cluster, kit().backup());
  ::unsetenv("PGHOST");
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("cannot connect to PostgreSQL (host=" +
                                         (tmp_.path() / "no-server").native())));
  EXPECT_THAT(LeftInBase(cluster), IsEmpty());
}

TEST_F(InstanceTest, ASecondBackupWhileOneRunsIsRefused) {
  const json cluster = kit().cluster();
  // A backup in progress: the catalog's lock is held.
  auto running = BackupCatalog(store_of(cluster) / "base")
                     .Begin("pg-orders-running", absl::FromUnixSeconds(1700000000));
  ASSERT_THAT(running, IsOk());
  EXPECT_THAT(client().Backup(cluster, kit().backup()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("another backup of this server is running (backup "
                                 "pg-orders-running started at 2023-11-14T22:13:20Z")));
  running->reset();  // the running backup failed: its files go
  EXPECT_THAT(LeftInBase(cluster), IsEmpty());
}

TEST_F(InstanceTest, UnknownBackupParametersAreRefused) {
  json backup = kit().backup();
  backup["spec"]["pluginConfiguration"]["parameters"] = {{"compression", "gzip"}};
  EXPECT_THAT(client().Backup(kit().cluster(), backup, {{"compression", "gzip"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("spec.pluginConfiguration.parameters.compression")));
}

// Metrics -------------------------------------------------------------------------

TEST_F(InstanceTest, MetricsDescribeTheStore) {
  const json cluster = kit().cluster();
  auto empty = client().ScrapeMetrics(cluster);
  ASSERT_THAT(empty, IsOk());
  std::map<std::string, double> values;
  for (const auto& sample : *empty) values[sample.name] = sample.value;
  EXPECT_EQ(values["directory_backup_backups"], 0);
  EXPECT_EQ(values.count("directory_backup_last_backup_timestamp_seconds"), 0u);

  ASSERT_THAT(client().ArchiveWal(cluster, Segment(kSegment, std::string(1000, 'w')), true),
              IsOk());
  testing::MakeFakePgdata(tmp_.path() / "pgdata");
  auto older = testing::MakeBackup(store_of(cluster), tmp_.path() / "pgdata", 1700000000,
                                   "000000010000000000000003");
  ASSERT_THAT(older, IsOk());
  auto newer = testing::MakeBackup(store_of(cluster), tmp_.path() / "pgdata", 1700003600,
                                   "000000010000000000000005");
  ASSERT_THAT(newer, IsOk());

  auto samples = client().ScrapeMetrics(cluster);
  ASSERT_THAT(samples, IsOk());
  std::map<std::string, double> by_name;
  for (const auto& sample : *samples) {
    by_name[sample.name + (sample.labels.count("area") ? "/" + sample.labels.at("area") : "")] =
        sample.value;
  }
  EXPECT_EQ(by_name["directory_backup_backups"], 2);
  EXPECT_EQ(by_name["directory_backup_last_backup_timestamp_seconds"], 1700003600);
  EXPECT_EQ(by_name["directory_backup_first_recoverability_point_seconds"], 1700000000);
  EXPECT_EQ(by_name["directory_backup_wal_files"], 1);
  EXPECT_EQ(by_name["directory_backup_store_bytes/wal"], 1000);
  EXPECT_EQ(by_name["directory_backup_store_bytes/base"], older->bytes + newer->bytes);
  EXPECT_GT(by_name["directory_backup_last_archived_wal_timestamp_seconds"], 1700000000);
}

}  // namespace
}  // namespace directory_backup
