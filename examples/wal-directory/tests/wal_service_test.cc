// The WAL service as the instance manager reaches it: the plugin serves on a
// Unix socket in-process (cnpgi::testing::PluginKit) and an operator-like
// client does the handshake, then Archive / Restore / Status with the
// fixture Cluster, whose spec.plugins entry points at a temporary archive.
#include <stdlib.h>

#include <cnpgi/testing/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "configuration.h"
#include "wal_service.h"

namespace wal_directory {
namespace {

namespace fs = std::filesystem;
using cnpgi::testing::IsOk;
using cnpgi::testing::StatusIs;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kSegment[] = "000000010000000000000007";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class WalServiceTest : public cnpgi::testing::PluginTest {
 protected:
  WalServiceTest() {
    std::string pattern = (fs::temp_directory_path() / "wal-service-test.XXXXXX").native();
    tmp_ = ::mkdtemp(pattern.data());
    fs::create_directories(pg_wal());
  }
  ~WalServiceTest() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }

  cnpgi::PluginServer MakePlugin() override {
    return cnpgi::PluginServer(Metadata()).add(std::make_shared<DirectoryWalService>());
  }
  cnpgi::testing::KitOptions MakeKitOptions() override {
    cnpgi::testing::KitOptions options;
    options.client.plugin_parameters = {{"directory", archive_dir().native()}};
    return options;
  }

  fs::path archive_dir() const { return tmp_ / "archive"; }
  fs::path pg_wal() const { return tmp_ / "pgdata" / "pg_wal"; }
  // The fixture Cluster's archive: <directory>/<Cluster name>.
  fs::path archive_of(const json& cluster) const {
    return archive_dir() / cluster["metadata"]["name"].get<std::string>();
  }
  std::string Segment(const std::string& name, const std::string& content) const {
    std::ofstream(pg_wal() / name, std::ios::binary) << content;
    return (pg_wal() / name).native();
  }

  fs::path tmp_;
};

TEST_F(WalServiceTest, AdvertisesArchiveRestoreAndStatusOnly) {
  const cnpgi::testing::HandshakeResult& h = client().handshake();
  ASSERT_TRUE(h.complete);
  EXPECT_EQ(h.name(), kPluginName);
  EXPECT_THAT(h.IdentityCapabilityNames(), ElementsAre("TYPE_WAL_SERVICE"));
  EXPECT_THAT(h.WalCapabilityNames(),
              ElementsAre("TYPE_ARCHIVE_WAL", "TYPE_RESTORE_WAL", "TYPE_STATUS"));
}

TEST_F(WalServiceTest, ArchivedFilesComeBackByteForByte) {
  const json cluster = kit().cluster();
  const std::string content(1 << 20, 'x');
  ASSERT_THAT(client().ArchiveWal(cluster, Segment(kSegment, content), true), IsOk());
  EXPECT_EQ(ReadFile(archive_of(cluster) / kSegment), content);

  const fs::path destination = pg_wal() / "RECOVERYXLOG";
  ASSERT_THAT(client().RestoreWal(cluster, kSegment, destination.native()), IsOk());
  EXPECT_EQ(ReadFile(destination), content);

  auto status = client().WalStatus(cluster);
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(status->first_wal(), kSegment);
  EXPECT_EQ(status->last_wal(), kSegment);
  EXPECT_EQ(status->additional_information().at("segments"), "1");
}

TEST_F(WalServiceTest, MissingFileIsNotFound) {
  const fs::path destination = pg_wal() / "RECOVERYXLOG";
  EXPECT_THAT(client().RestoreWal(kit().cluster(), kSegment, destination.native()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(kSegment)));
  EXPECT_THAT(client().RestoreWal(kit().cluster(), "00000002.history", destination.native()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(fs::exists(destination));
}

TEST_F(WalServiceTest, ANewClusterRefusesANonEmptyArchive) {
  const json cluster = kit().cluster();
  ASSERT_THAT(client().ArchiveWal(cluster, Segment(kSegment, "a"), true), IsOk());
  EXPECT_THAT(client().ArchiveWal(cluster, Segment("000000010000000000000008", "b"), true),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not empty")));
  EXPECT_THAT(client().ArchiveWal(cluster, Segment("000000010000000000000008", "b"), false),
              IsOk());
}

TEST_F(WalServiceTest, AnArchivedFileIsNeverOverwritten) {
  const json cluster = kit().cluster();
  ASSERT_THAT(client().ArchiveWal(cluster, Segment(kSegment, "first"), false), IsOk());
  EXPECT_THAT(client().ArchiveWal(cluster, Segment(kSegment, "first"), false), IsOk());
  EXPECT_THAT(client().ArchiveWal(cluster, Segment(kSegment, "other"), false),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(kSegment)));
  EXPECT_EQ(ReadFile(archive_of(cluster) / kSegment), "first");
}

TEST_F(WalServiceTest, NamesThatAreNotWalAreRefused) {
  const json cluster = kit().cluster();
  const fs::path destination = pg_wal() / "RECOVERYXLOG";
  EXPECT_THAT(client().RestoreWal(cluster, "../../etc/passwd", destination.native()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client().ArchiveWal(cluster, Segment("postgresql.conf", "x"), false),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(WalServiceTest, WithoutADirectoryTheErrorNamesTheParameter) {
  json cluster = kit().cluster();
  for (json& entry : cluster["spec"]["plugins"]) {
    if (entry["name"] == kPluginName) entry["parameters"] = json::object();
  }
  EXPECT_THAT(client().ArchiveWal(cluster, Segment(kSegment, "a"), false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("parameters.directory")));
}

TEST_F(WalServiceTest, ARecoveringClusterReadsItsSourcesArchive) {
  // The origin cluster archived under its own name...
  json origin = kit().cluster();
  origin["metadata"]["name"] = "origin";
  ASSERT_THAT(client().ArchiveWal(origin, Segment(kSegment, "from origin"), true), IsOk());
  // ...and the new one, bootstrapping from the external cluster "origin"
  // (same plugin, same directory), finds it there.
  const json recovering = kit().fixtures().recovery_cluster();
  const fs::path destination = pg_wal() / "RECOVERYXLOG";
  ASSERT_THAT(client().RestoreWal(recovering, kSegment, destination.native()), IsOk());
  EXPECT_EQ(ReadFile(destination), "from origin");
}

}  // namespace
}  // namespace wal_directory
