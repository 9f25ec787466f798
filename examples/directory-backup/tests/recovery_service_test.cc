// The restore sidecar as the full-recovery Job reaches it: RestoreJobHooks
// Restore with a Cluster recovering from an external cluster served by this
// plugin, restoring backups made from a fake data directory into a
// temporary PGDATA. The real thing, with PostgreSQL replaying WAL, is in
// postgres_e2e.sh.
#include <sys/stat.h>

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
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::ReadWholeFile;

class RecoveryTest : public cnpgi::test::PluginTest {
 protected:
  RecoveryTest() { testing::MakeFakePgdata(source_pgdata()); }

  cnpgi::PluginServer MakePlugin() override {
    Environment environment;
    environment.pgdata = pgdata();
    return MakeServer(Role::kRestore, environment);
  }
  cnpgi::test::KitOptions MakeKitOptions() override {
    cnpgi::test::KitOptions options;
    options.client.plugin_parameters = {{"destination", destination().native()}};
    return options;
  }

  fs::path destination() const { return tmp_.path() / "backups"; }
  // The recovery source of the fixture's recovery Cluster is "origin".
  fs::path origin_store() const { return destination() / "origin"; }
  fs::path source_pgdata() const { return tmp_.path() / "source" / "pgdata"; }
  // As in a Pod: <volume>/data/pgdata, the WAL volume <volume>/wal/pg_wal.
  fs::path pgdata() const { return tmp_.path() / "pod" / "data" / "pgdata"; }
  fs::path wal_volume() const { return tmp_.path() / "pod" / "wal" / "pg_wal"; }

  json Recovering(const json& target = json::object(), bool wal_storage = false) {
    json cluster = kit().fixtures().recovery_cluster();
    cluster["spec"]["bootstrap"]["recovery"]["recoveryTarget"] = target;
    if (!wal_storage) cluster["spec"].erase("walStorage");
    return cluster;
  }
  BackupInfo Backup(std::int64_t stopped_at, const std::string& begin_wal,
                    const std::string& end_lsn = "0/3000100") {
    auto info =
        testing::MakeBackup(origin_store(), source_pgdata(), stopped_at, begin_wal, end_lsn);
    EXPECT_TRUE(info.ok()) << info.status();
    return info.ok() ? *info : BackupInfo{};
  }
  std::vector<std::string> PodDirectory() const { return testing::Entries(pgdata().parent_path()); }

  testing::TempDir tmp_;
};

TEST_F(RecoveryTest, RestoresTheNewestBackupAndAnswersARestoreCommand) {
  Backup(1700000000, "000000010000000000000003");
  const BackupInfo newest = Backup(1700003600, "000000010000000000000005");
  auto answer = client().RestoreJob(Recovering(), true);
  ASSERT_THAT(answer, IsOk());
  EXPECT_EQ(answer->restore_config(),
            "restore_command = '/controller/manager wal-restore --log-destination "
            "/controller/log/postgres.json %f %p'\nrecovery_target_action = 'promote'\n");
  EXPECT_TRUE(answer->envs().empty());

  // The data as it was backed up, the label pg_backup_stop gave, and none of
  // what a backup leaves out.
  EXPECT_EQ(ReadWholeFile(pgdata() / "base" / "5" / "1259"),
            ReadWholeFile(source_pgdata() / "base" / "5" / "1259"));
  EXPECT_EQ(ReadWholeFile(pgdata() / "backup_label"), newest.backup_label);
  EXPECT_TRUE(fs::is_directory(pgdata() / "pg_wal" / "archive_status"));
  EXPECT_TRUE(fs::is_empty(pgdata() / "pg_wal" / "archive_status"));
  for (const char* left_out :
       {"postmaster.pid", ".check-empty-wal-archive", "base/5/pg_internal.init", "base/pgsql_tmp",
        "pg_stat_tmp/global.stat", "pg_wal/000000010000000000000001"}) {
    EXPECT_FALSE(fs::exists(pgdata() / left_out)) << left_out;
  }
  EXPECT_TRUE(fs::is_directory(pgdata() / "pg_stat_tmp"));
  struct stat st {};
  ASSERT_EQ(::stat(pgdata().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);  // PostgreSQL refuses anything looser
  // Nothing but PGDATA next to it.
  EXPECT_EQ(PodDirectory(), std::vector<std::string>{"pgdata"});
}

TEST_F(RecoveryTest, TheTargetChoosesTheBackup) {
  const BackupInfo first = Backup(1700000000, "000000010000000000000003", "0/3000100");
  Backup(1700003600, "000000010000000000000005", "0/5000100");
  // A time between the two backups' ends: the first one.
  ASSERT_THAT(client().RestoreJob(Recovering({{"targetTime", "2023-11-14 22:30:00.000000+00"}})),
              IsOk());
  EXPECT_EQ(ReadWholeFile(pgdata() / "backup_label"), first.backup_label);
}

TEST_F(RecoveryTest, ALsnTargetChoosesTheBackupEndingBeforeIt) {
  const BackupInfo first = Backup(1700000000, "000000010000000000000003", "0/3000100");
  Backup(1700003600, "000000010000000000000005", "0/5000100");
  ASSERT_THAT(client().RestoreJob(Recovering({{"targetLSN", "0/4000000"}})), IsOk());
  EXPECT_EQ(ReadWholeFile(pgdata() / "backup_label"), first.backup_label);
}

TEST_F(RecoveryTest, ANamedBackupThatDoesNotExistIsNotFound) {
  const BackupInfo only = Backup(1700000000, "000000010000000000000003");
  EXPECT_THAT(
      client().RestoreJob(Recovering({{"backupID", "20200101T000000"}})),
      StatusIs(
          absl::StatusCode::kNotFound,
          HasSubstr("backupID \"20200101T000000\" does not exist (backups: " + only.id + ")")));
  EXPECT_FALSE(fs::exists(pgdata()));
}

TEST_F(RecoveryTest, ATargetBeforeEveryBackupIsNotFound) {
  Backup(1700000000, "000000010000000000000003");
  EXPECT_THAT(client().RestoreJob(Recovering({{"targetTime", "2023-01-01T00:00:00Z"}})),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no backup ended before")));
  EXPECT_THAT(client().RestoreJob(Recovering({{"targetTime", "yesterday"}})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("recoveryTarget.targetTime")));
  EXPECT_FALSE(fs::exists(pgdata()));
}

TEST_F(RecoveryTest, AnEmptyStoreIsNotFound) {
  EXPECT_THAT(client().RestoreJob(Recovering()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("there is no backup")));
}

TEST_F(RecoveryTest, ADamagedFileIsRefusedAndNothingIsRestored) {
  const BackupInfo backup = Backup(1700000000, "000000010000000000000003");
  const fs::path relation = origin_store() / "base" / backup.id / "data" / "base" / "5" / "1259";
  const std::string original = ReadWholeFile(relation);
  for (const std::string& damaged :
       {original.substr(0, original.size() - 1), "X" + original.substr(1)}) {
    testing::WriteFile(relation, damaged);
    EXPECT_THAT(client().RestoreJob(Recovering()),
                StatusIs(absl::StatusCode::kDataLoss,
                         HasSubstr("backup " + backup.id +
                                   " is damaged: base/5/1259 does not match its checksum")));
    EXPECT_THAT(PodDirectory(), IsEmpty());
  }
  fs::remove(relation);
  EXPECT_THAT(client().RestoreJob(Recovering()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("base/5/1259 is missing")));
  EXPECT_THAT(PodDirectory(), IsEmpty());
}

TEST_F(RecoveryTest, ANonEmptyDataDirectoryIsNeverOverwritten) {
  Backup(1700000000, "000000010000000000000003");
  testing::WriteFile(pgdata() / "PG_VERSION", "16\n");
  EXPECT_THAT(client().RestoreJob(Recovering()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is not empty")));
  EXPECT_EQ(ReadWholeFile(pgdata() / "PG_VERSION"), "16\n");
  // An empty one (a fresh volume's directory) is fine.
  fs::remove(pgdata() / "PG_VERSION");
  EXPECT_THAT(client().RestoreJob(Recovering()), IsOk());
}

TEST_F(RecoveryTest, WithAWalVolumePgWalLivesThere) {
  Backup(1700000000, "000000010000000000000003");
  ASSERT_THAT(client().RestoreJob(Recovering(json::object(), /*wal_storage=*/true)), IsOk());
  EXPECT_TRUE(fs::is_symlink(pgdata() / "pg_wal"));
  EXPECT_EQ(fs::read_symlink(pgdata() / "pg_wal"), wal_volume());
  EXPECT_TRUE(fs::is_directory(wal_volume() / "archive_status"));
}

TEST_F(RecoveryTest, CheckEmptyRefusesANewClusterWhoseStoreIsInUse) {
  Backup(1700000000, "000000010000000000000003");
  json cluster = Recovering();
  // The new cluster's own store is the origin's.
  for (json& entry : cluster["spec"]["plugins"]) {
    if (entry["name"] == kPluginName) entry["parameters"]["serverName"] = "origin";
  }
  EXPECT_THAT(client().RestoreJob(cluster, true),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is already in use")));
  EXPECT_FALSE(fs::exists(pgdata()));
  // The annotation that turns the check off reaches the plugin as false.
  EXPECT_THAT(client().RestoreJob(cluster, false), IsOk());
}

TEST_F(RecoveryTest, ARecoverySourceOfAnotherPluginIsRefused) {
  json cluster = Recovering();
  cluster["spec"]["externalClusters"].back()["plugin"]["name"] = "barman-cloud.cloudnative-pg.io";
  EXPECT_THAT(client().RestoreJob(cluster),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is not an external cluster using plugin")));
}

}  // namespace
}  // namespace directory_backup
