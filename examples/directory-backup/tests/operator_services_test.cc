// The operator-side plugin as the operator reaches it: validation, the
// status of SetStatusInCluster, and the sidecar the lifecycle hook injects
// into instance Pods and the full-recovery Job.
#include <cnpgi/testing/gtest.h>

#include <filesystem>
#include <string>

#include "configuration.h"
#include "operator_services.h"
#include "plugin.h"
#include "test_support.h"

namespace directory_backup {
namespace {

namespace fs = std::filesystem;
using cnpgi::LifecycleOperation;
using cnpgi::test::HasInitContainer;
using cnpgi::test::HasVolume;
using cnpgi::test::IsOk;
using cnpgi::test::StatusIs;
using cnpgi::test::Unchanged;
using nlohmann::json;
using ::testing::Contains;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kImage[] = "registry.example.com/directory-backup:0.2.0";

class OperatorTest : public cnpgi::test::PluginTest {
 protected:
  cnpgi::PluginServer MakePlugin() override {
    Environment environment;
    environment.sidecar_image = kImage;
    return MakeServer(Role::kOperator, environment);
  }
  cnpgi::test::KitOptions MakeKitOptions() override {
    cnpgi::test::KitOptions options;
    options.client.plugin_parameters = {{"destination", destination().native()},
                                        {"volumeClaim", "pg-backups"}};
    return options;
  }
  fs::path destination() const { return tmp_.path() / "backups"; }

  // The sidecar in a patched object (Pod or Job), or null.
  static json Sidecar(const cnpgi::test::PatchedObject& object) {
    const json* sidecar = object.FindInitContainer(std::string(kSidecarName));
    return sidecar == nullptr ? json() : *sidecar;
  }

  testing::TempDir tmp_;
};

TEST_F(OperatorTest, AdvertisesValidationStatusLifecycleAndInstanceInjection) {
  const cnpgi::test::HandshakeResult& h = client().handshake();
  ASSERT_TRUE(h.complete);
  EXPECT_TRUE(h.Advertises(cnpgi::test::Rpc::kSetStatusInCluster));
  EXPECT_TRUE(h.Advertises(cnpgi::test::Rpc::kValidateClusterCreate));
  EXPECT_TRUE(h.Advertises(cnpgi::test::Rpc::kLifecycleHook));
  EXPECT_TRUE(h.DeclaresInstanceSidecarInjection());
  EXPECT_FALSE(h.DeclaresJobSidecarInjection());
  EXPECT_FALSE(h.Advertises(cnpgi::test::Service::kWal));
}

TEST_F(OperatorTest, InstancePodsGetTheInstanceSidecar) {
  auto pod = client().LifecycleHook(LifecycleOperation::kEvaluate, kit().cluster(), kit().pod());
  ASSERT_THAT(pod, HasInitContainer(std::string(kSidecarName)));
  const json sidecar = Sidecar(*pod);
  EXPECT_EQ(sidecar["image"], kImage);
  EXPECT_EQ(sidecar["args"], json::array({"instance"}));
  EXPECT_EQ(sidecar["restartPolicy"], "Always");
  EXPECT_EQ(sidecar["startupProbe"]["exec"]["command"],
            json::array({std::string(kBinaryPath), "healthcheck"}));
  // PGDATA and the PostgreSQL socket from the postgres container...
  auto has_env = [&](const std::string& name) {
    for (const json& e : sidecar["env"]) {
      if (e["name"] == name) return true;
    }
    return false;
  };
  EXPECT_TRUE(has_env("PGDATA"));
  std::vector<std::string> mounts;
  for (const json& m : sidecar["volumeMounts"]) mounts.push_back(m["mountPath"]);
  EXPECT_THAT(mounts, Contains("/var/lib/postgresql/data"));
  EXPECT_THAT(mounts, Contains("/controller"));
  EXPECT_THAT(mounts, Contains("/plugins"));
  // ...and the store's claim at the destination.
  EXPECT_THAT(mounts, Contains(destination().native()));
  EXPECT_THAT(pod, HasVolume("directory-backup-store"));
  EXPECT_THAT(pod, HasVolume("plugins"));

  // CREATE after EVALUATE changes nothing; EVALUATE is deterministic.
  EXPECT_THAT(client().LifecycleHook(LifecycleOperation::kCreate, kit().cluster(), pod->json()),
              Unchanged());
  auto again = client().LifecycleHook(LifecycleOperation::kEvaluate, kit().cluster(), kit().pod());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->json(), pod->json());
}

TEST_F(OperatorTest, ClustersNotUsingThePluginAreLeftAlone) {
  json cluster = kit().cluster();
  for (json& entry : cluster["spec"]["plugins"]) {
    if (entry["name"] == kPluginName) entry["enabled"] = false;
  }
  EXPECT_THAT(client().LifecycleHook(LifecycleOperation::kEvaluate, cluster, kit().pod()),
              Unchanged());
  // A Job of the Cluster that does not recover from this plugin.
  EXPECT_THAT(client().LifecycleHook(LifecycleOperation::kCreate, kit().cluster(), kit().job()),
              Unchanged());
}

TEST_F(OperatorTest, TheFullRecoveryJobGetsTheRestoreSidecar) {
  auto job = client().LifecycleHook(LifecycleOperation::kCreate,
                                    kit().fixtures().recovery_cluster(), kit().job());
  ASSERT_THAT(job, HasInitContainer(std::string(kSidecarName)));
  EXPECT_EQ(Sidecar(*job)["args"], json::array({"restore"}));
  const json* volume = job->FindVolume("directory-backup-store");
  ASSERT_NE(volume, nullptr);
  EXPECT_EQ((*volume)["persistentVolumeClaim"]["claimName"], "pg-backups");
}

TEST_F(OperatorTest, BadParametersOrAMissingImageStopThePod) {
  json cluster = kit().cluster();
  for (json& entry : cluster["spec"]["plugins"]) {
    if (entry["name"] == kPluginName) entry["parameters"]["destination"] = "relative";
  }
  EXPECT_THAT(client().LifecycleHook(LifecycleOperation::kEvaluate, cluster, kit().pod()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("parameters.destination: must be an absolute path")));
}

TEST_F(OperatorTest, ValidationReportsEveryEntryWithItsPath) {
  json cluster = kit().fixtures().recovery_cluster();
  cluster["spec"]["plugins"].back()["parameters"]["retention"] = "often";
  cluster["spec"]["externalClusters"].back()["plugin"]["parameters"]["maxRate"] = "-1";
  auto errors = client().ValidateClusterCreate(cluster);
  ASSERT_THAT(errors, IsOk());
  std::vector<std::string> paths;
  for (const cnpgi::ValidationError& e : *errors) {
    std::string path;
    for (const std::string& p : e.path) path += (path.empty() ? "" : ".") + p;
    paths.push_back(path);
  }
  EXPECT_THAT(paths, Contains(HasSubstr("plugins")));
  EXPECT_THAT(paths, Contains(HasSubstr("externalClusters")));
  EXPECT_EQ(paths.size(), 2u);
}

TEST_F(OperatorTest, TheStoreCannotMoveOnceTheClusterExists) {
  json moved = kit().cluster();
  for (json& entry : moved["spec"]["plugins"]) {
    if (entry["name"] == kPluginName) entry["parameters"]["serverName"] = "elsewhere";
  }
  auto errors = client().ValidateClusterChange(kit().cluster(), moved);
  ASSERT_THAT(errors, IsOk());
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_THAT((*errors)[0].message, HasSubstr("the store cannot move"));
  EXPECT_THAT(client().ValidateClusterChange(kit().cluster(), kit().cluster()),
              cnpgi::test::IsOkAndHolds(::testing::IsEmpty()));
}

TEST_F(OperatorTest, TheStatusDescribesTheStoreWhenItIsVisible) {
  // Not mounted here: nothing to say.
  EXPECT_THAT(client().SetStatusInCluster(kit().cluster()),
              cnpgi::test::IsOkAndHolds(Eq(std::nullopt)));

  testing::MakeFakePgdata(tmp_.path() / "pgdata");
  auto backup = testing::MakeBackup(destination() / "pg-orders", tmp_.path() / "pgdata", 1700000000,
                                    "000000010000000000000003");
  ASSERT_THAT(backup, IsOk());
  auto status = client().SetStatusInCluster(kit().cluster());
  ASSERT_THAT(status, IsOk());
  ASSERT_TRUE(status->has_value());
  EXPECT_EQ((**status)["backups"], 1);
  EXPECT_EQ((**status)["lastBackupId"], backup->id);
  EXPECT_EQ((**status)["firstRecoverabilityPoint"], "2023-11-14T22:13:20Z");

  // Recorded already: no answer, so no requeue.
  json cluster = kit().cluster();
  for (json& entry : cluster["status"]["pluginStatus"]) {
    if (entry["name"] == kPluginName) entry["status"] = (*status)->dump();
  }
  EXPECT_THAT(client().SetStatusInCluster(cluster), cnpgi::test::IsOkAndHolds(Eq(std::nullopt)));
}

class OperatorWithoutImageTest : public OperatorTest {
 protected:
  cnpgi::PluginServer MakePlugin() override { return MakeServer(Role::kOperator, Environment{}); }
};

TEST_F(OperatorWithoutImageTest, InjectionSaysTheImageIsMissing) {
  EXPECT_THAT(client().LifecycleHook(LifecycleOperation::kEvaluate, kit().cluster(), kit().pod()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("SIDECAR_IMAGE")));
}

}  // namespace
}  // namespace directory_backup
