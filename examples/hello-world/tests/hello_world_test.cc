// The hello-world plugin driven the way the operator drives it: the server
// runs in-process on a Unix socket (cnpgi::test::PluginKit) and an
// operator-like client does the handshake and sends the fixture Cluster and
// Pod, with this plugin configured in spec.plugins.
#include "hello_world.h"

#include <cnpgi/testing/conformance.h>
#include <cnpgi/testing/gtest.h>
#include <cnpgi/testing/replay.h>
#include <stdlib.h>

#include <filesystem>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hello_world {
namespace {

using cnpgi::LifecycleOperation;
using cnpgi::test::HasAnnotation;
using cnpgi::test::HasInitContainer;
using cnpgi::test::HasLabel;
using cnpgi::test::HasVolume;
using cnpgi::test::IsOk;
using cnpgi::test::IsOkAndHolds;
using cnpgi::test::JsonAt;
using cnpgi::test::StatusIs;
using cnpgi::test::Unchanged;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kTeamLabels[] = R"({"team":"payments","tier":"db"})";
constexpr char kOwnerAnnotations[] = R"({"example.com/owner":"dba@example.com"})";

class HelloWorldTest : public cnpgi::test::PluginTest {
 protected:
  cnpgi::PluginServer MakePlugin() override { return MakeServer(); }
  cnpgi::test::KitOptions MakeKitOptions() override {
    cnpgi::test::KitOptions options;
    options.client.plugin_parameters = {{"labels", kTeamLabels},
                                        {"annotations", kOwnerAnnotations}};
    return options;
  }

  // The index of this plugin's entry in spec.plugins, as a path element.
  static std::string Index(const json& cluster) {
    const json& plugins = cluster["spec"]["plugins"];
    for (std::size_t i = 0; i < plugins.size(); ++i) {
      if (plugins[i]["name"] == kPluginName) return std::to_string(i);
    }
    ADD_FAILURE() << "the fixture Cluster does not configure " << kPluginName;
    return "?";
  }
  static json& Parameters(json& cluster) {
    return cluster["spec"]["plugins"][std::stoul(Index(cluster))]["parameters"];
  }
  static std::vector<std::string> PathOf(const json& cluster, const std::string& parameter) {
    return {"spec", "plugins", Index(cluster), "parameters", parameter};
  }
};

TEST_F(HelloWorldTest, AdvertisesWhatAnOperatorFacingPluginServes) {
  const cnpgi::test::HandshakeResult& h = client().handshake();
  ASSERT_TRUE(h.complete);
  EXPECT_EQ(h.name(), kPluginName);
  EXPECT_THAT(h.IdentityCapabilityNames(),
              ElementsAre("TYPE_OPERATOR_SERVICE", "TYPE_LIFECYCLE_SERVICE"));
  EXPECT_THAT(h.OperatorCapabilityNames(),
              ElementsAre("TYPE_VALIDATE_CLUSTER_CREATE", "TYPE_VALIDATE_CLUSTER_CHANGE",
                          "TYPE_MUTATE_CLUSTER", "TYPE_SET_STATUS_IN_CLUSTER"));
  EXPECT_TRUE(h.Subscribes("", "Pod", LifecycleOperation::kEvaluate));
  EXPECT_TRUE(h.Subscribes("", "Pod", LifecycleOperation::kCreate));
  EXPECT_FALSE(h.Subscribes("", "Pod", LifecycleOperation::kDelete));
  EXPECT_FALSE(h.Subscribes("batch", "Job", LifecycleOperation::kCreate));
  // No gRPC server in the instance Pods: the instance manager must not look
  // for one.
  EXPECT_FALSE(h.DeclaresInstanceSidecarInjection());
  EXPECT_FALSE(h.Advertises(cnpgi::test::Service::kWal));
}

TEST_F(HelloWorldTest, ValidConfigurationHasNoErrors) {
  EXPECT_THAT(client().ValidateClusterCreate(kit().cluster()), IsOkAndHolds(IsEmpty()));
  json cluster = kit().cluster();
  Parameters(cluster) = json::object();  // all defaults
  EXPECT_THAT(client().ValidateClusterCreate(cluster), IsOkAndHolds(IsEmpty()));
}

TEST_F(HelloWorldTest, BadParametersAreReportedWithTheirPathsAndValues) {
  json cluster = kit().cluster();
  Parameters(cluster) = {{"labels", "{not json"},
                         {"annotations", R"({"cnpg.io/cluster":"mine"})"},
                         {"imagePullPolicy", "Sometimes"},
                         {"colour", "blue"}};
  auto errors = client().ValidateClusterCreate(cluster);
  ASSERT_THAT(errors, IsOk());
  ASSERT_THAT(*errors, SizeIs(4));
  std::map<std::string, cnpgi::ValidationError> by_parameter;
  for (const cnpgi::ValidationError& e : *errors) by_parameter[e.path.back()] = e;
  for (const char* name : {"labels", "annotations", "imagePullPolicy", "colour"}) {
    ASSERT_TRUE(by_parameter.count(name)) << name;
    EXPECT_EQ(by_parameter[name].path, PathOf(cluster, name));
    EXPECT_EQ(by_parameter[name].value, Parameters(cluster)[name].get<std::string>());
  }
  EXPECT_THAT(by_parameter["annotations"].message, HasSubstr("reserved for CloudNativePG"));
  EXPECT_THAT(by_parameter["imagePullPolicy"].message, HasSubstr("IfNotPresent"));
}

TEST_F(HelloWorldTest, LabelKeysAndValuesFollowKubernetesRules) {
  json cluster = kit().cluster();
  for (const char* bad : {R"({"team":1})", R"({"-team":"x"})", R"({"team":"has space"})",
                          R"({"Example.com/team":"x"})", R"(["team"])"}) {
    Parameters(cluster) = {{"labels", bad}};
    auto errors = client().ValidateClusterCreate(cluster);
    ASSERT_THAT(errors, IsOk());
    ASSERT_THAT(*errors, SizeIs(1)) << bad;
    EXPECT_EQ((*errors)[0].path, PathOf(cluster, "labels")) << bad;
  }
  Parameters(cluster) = {{"labels", R"({"example.com/team":"pay-ments_1.0","empty":""})"}};
  EXPECT_THAT(client().ValidateClusterCreate(cluster), IsOkAndHolds(IsEmpty()));
}

// A value of megabytes (a probe sent a 3 MiB label value) must still get an
// answer saying which key is wrong: the value is quoted short, with its
// length, instead of echoed whole into an answer too large to deliver.
TEST_F(HelloWorldTest, AHugeLabelValueIsReportedNamingTheKey) {
  json cluster = kit().cluster();
  Parameters(cluster) = {{"labels", json{{"team", std::string(3u << 20, 'x')}}.dump()}};
  auto errors = client().ValidateClusterCreate(cluster);
  ASSERT_THAT(errors, IsOk());
  ASSERT_THAT(*errors, SizeIs(1));
  const cnpgi::ValidationError& error = (*errors)[0];
  EXPECT_EQ(error.path, PathOf(cluster, "labels"));
  EXPECT_THAT(error.message, HasSubstr("of \"team\""));
  EXPECT_THAT(error.message, HasSubstr("...(3145728 bytes)"));
  EXPECT_LT(error.message.size(), 300u);
  EXPECT_LT(error.value.size(), 300u);
  EXPECT_THAT(client().LifecycleHook(LifecycleOperation::kEvaluate, cluster, kit().pod()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("of \"team\"")));
}

TEST_F(HelloWorldTest, LabelsCannotChangeButAnnotationsCan) {
  const json before = kit().cluster();
  json after = before;
  Parameters(after)["labels"] = R"({"team":"billing"})";
  auto errors = client().ValidateClusterChange(before, after);
  ASSERT_THAT(errors, IsOk());
  ASSERT_THAT(*errors, SizeIs(1));
  EXPECT_EQ((*errors)[0].path, PathOf(after, "labels"));
  EXPECT_THAT((*errors)[0].message, HasSubstr("cannot be changed"));
  EXPECT_THAT((*errors)[0].message, HasSubstr("payments"));

  after = before;
  Parameters(after)["annotations"] = R"({"example.com/owner":"someone-else"})";
  EXPECT_THAT(client().ValidateClusterChange(before, after), IsOkAndHolds(IsEmpty()));

  // Same labels written differently (key order, spaces) are no change.
  after = before;
  Parameters(after)["labels"] = R"({ "tier": "db", "team": "payments" })";
  EXPECT_THAT(client().ValidateClusterChange(before, after), IsOkAndHolds(IsEmpty()));
}

TEST_F(HelloWorldTest, WritingTheDefaultLabelsOutIsNoChange) {
  json before = kit().cluster();
  Parameters(before) = json::object();
  json after = before;
  Parameters(after)["labels"] = std::string(kDefaultLabels);
  EXPECT_THAT(client().ValidateClusterChange(before, after), IsOkAndHolds(IsEmpty()));
}

TEST_F(HelloWorldTest, MutateFillsTheDefaultsOnce) {
  json cluster = kit().cluster();
  Parameters(cluster) = {{"labels", kTeamLabels}};
  auto mutated = client().MutateCluster(cluster);
  const std::string entry = "/spec/plugins/" + Index(cluster) + "/parameters";
  EXPECT_THAT(mutated, JsonAt(entry + "/labels", kTeamLabels));
  EXPECT_THAT(mutated, JsonAt(entry + "/annotations", std::string(kDefaultAnnotations)));
  EXPECT_THAT(mutated, JsonAt(entry + "/imagePullPolicy", std::string(kDefaultImagePullPolicy)));
  ASSERT_THAT(mutated, IsOk());
  // The result validates, and defaulting it again changes nothing.
  EXPECT_THAT(client().ValidateClusterCreate(mutated->json()), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(client().MutateCluster(*mutated), Unchanged());
}

TEST_F(HelloWorldTest, MutateWorksWithoutAnyParameters) {
  json cluster = kit().cluster();
  cluster["spec"]["plugins"][std::stoul(Index(cluster))].erase("parameters");
  auto mutated = client().MutateCluster(cluster);
  const std::string entry = "/spec/plugins/" + Index(cluster) + "/parameters";
  EXPECT_THAT(mutated, JsonAt(entry + "/labels", std::string(kDefaultLabels)));
}

TEST_F(HelloWorldTest, StatusIsReportedOnlyUntilRecorded) {
  json cluster = kit().cluster();
  EXPECT_THAT(client().SetStatusInCluster(cluster), IsOkAndHolds(json{{"enabled", true}}));

  // What the operator stores, as the next request carries it: no answer, so
  // no requeue.
  for (json& entry : cluster["status"]["pluginStatus"]) {
    if (entry["name"] == kPluginName) entry["status"] = R"({"enabled":true})";
  }
  EXPECT_THAT(client().SetStatusInCluster(cluster), IsOkAndHolds(std::nullopt));

  // Anything else recorded is replaced.
  for (json& entry : cluster["status"]["pluginStatus"]) {
    if (entry["name"] == kPluginName) entry["status"] = R"({"enabled":"yes"})";
  }
  EXPECT_THAT(client().SetStatusInCluster(cluster), IsOkAndHolds(json{{"enabled", true}}));
}

TEST_F(HelloWorldTest, StatusWithoutAPluginStatusEntryIsAnError) {
  json cluster = kit().cluster();
  cluster["status"].erase("pluginStatus");
  EXPECT_THAT(client().SetStatusInCluster(cluster),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("status.pluginStatus")));
}

TEST_F(HelloWorldTest, EvaluateLabelsAnnotatesAndInjectsTheSidecar) {
  auto pod = client().LifecycleHook(LifecycleOperation::kEvaluate, kit().cluster(), kit().pod());
  EXPECT_THAT(pod, HasLabel("team", "payments"));
  EXPECT_THAT(pod, HasLabel("tier", "db"));
  EXPECT_THAT(pod, HasAnnotation("example.com/owner", "dba@example.com"));
  EXPECT_THAT(pod, HasVolume("plugins"));
  EXPECT_THAT(pod, HasInitContainer(std::string(kSidecarName)));
  ASSERT_THAT(pod, IsOk());
  const json* sidecar = pod->FindInitContainer(kSidecarName);
  ASSERT_NE(sidecar, nullptr);
  EXPECT_EQ((*sidecar)["restartPolicy"], "Always") << "a native sidecar";
  EXPECT_EQ((*sidecar)["image"], kSidecarImage);
  EXPECT_EQ((*sidecar)["imagePullPolicy"], kDefaultImagePullPolicy);
  // The labels the operator set are kept.
  EXPECT_EQ(pod->label("cnpg.io/cluster"), std::optional<std::string>("pg-orders"));
}

TEST_F(HelloWorldTest, TheConfiguredPullPolicyReachesTheSidecar) {
  json cluster = kit().cluster();
  Parameters(cluster)["imagePullPolicy"] = "Always";
  auto pod = client().LifecycleHook(LifecycleOperation::kEvaluate, cluster, kit().pod());
  ASSERT_THAT(pod, IsOk());
  EXPECT_EQ((*pod->FindInitContainer(kSidecarName))["imagePullPolicy"], "Always");
}

TEST_F(HelloWorldTest, CreateAfterEvaluateChangesNothingAndEvaluateIsDeterministic) {
  auto evaluated =
      client().LifecycleHook(LifecycleOperation::kEvaluate, kit().cluster(), kit().pod());
  ASSERT_THAT(evaluated, IsOk());
  // The operator sends CREATE with the EVALUATE result.
  EXPECT_THAT(client().LifecycleHook(LifecycleOperation::kCreate, kit().cluster(), *evaluated),
              Unchanged());
  // And compares EVALUATE results between reconciles: same input, same bytes.
  auto again = client().LifecycleHook(LifecycleOperation::kEvaluate, kit().cluster(), kit().pod());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->patch(), evaluated->patch());
}

TEST_F(HelloWorldTest, DefaultsApplyWhenNothingIsConfigured) {
  json cluster = kit().cluster();
  Parameters(cluster) = json::object();
  auto pod = client().LifecycleHook(LifecycleOperation::kEvaluate, cluster, kit().pod());
  EXPECT_THAT(pod, HasLabel("hello-world-plugin", "enabled"));
  EXPECT_THAT(pod, HasInitContainer(std::string(kSidecarName)));
}

TEST_F(HelloWorldTest, ABadConfigurationFailsTheHookNamingTheParameter) {
  json cluster = kit().cluster();
  Parameters(cluster)["labels"] = R"({"team": 7})";
  EXPECT_THAT(client().LifecycleHook(LifecycleOperation::kEvaluate, cluster, kit().pod()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("spec.plugins[" + Index(cluster) + "].parameters.labels")));
}

TEST_F(HelloWorldTest, OnlyPodsAreHooked) {
  // The operator only sends subscribed kinds; an unchecked client sends a Job
  // anyway, and the plugin says what it expected.
  EXPECT_THAT(
      client().Unchecked().LifecycleHook(LifecycleOperation::kCreate, kit().cluster(), kit().job()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected a Pod")));
}

// The round trip of the SDK's docs/testing.md: the conformance checks run
// against the real server with --record-dir; the recording replays green
// against hello-world and red against a changed plugin.
class ChangedLifecycle final : public cnpgi::LifecycleService {
 public:
  std::vector<cnpgi::LifecycleSubscription> Subscriptions() const override {
    return hello_.Subscriptions();
  }
  absl::Status OnLifecycle(cnpgi::CallContext& ctx, const cnpgi::Cluster& cluster,
                           cnpgi::Object& object, cnpgi::LifecycleOperation operation) override {
    if (absl::Status s = hello_.OnLifecycle(ctx, cluster, object, operation); !s.ok()) return s;
    return object.SetAnnotation("example.com/changed", "yes");
  }

 private:
  HelloLifecycle hello_;
};

TEST(HelloWorldReplay, RecordedConformanceRunReplaysGreenThenRedAfterAChange) {
  std::string temp = (std::filesystem::temp_directory_path() / "hello-replay-XXXXXX").string();
  ASSERT_NE(mkdtemp(temp.data()), nullptr);
  const std::filesystem::path dir(temp);
  std::filesystem::create_directories(dir / "records");
  {
    cnpgi::PluginServer server = MakeServer();
    cnpgi::ServerOptions options;
    options.plugin_path = dir.string();
    options.record_dir = (dir / "records").string();
    options.log_level = spdlog::level::err;
    ASSERT_TRUE(server.Start(options).ok());
    cnpgi::test::ConformanceOptions check;
    check.endpoint = cnpgi::test::Endpoint::Unix((dir / std::string(kPluginName)).string());
    check.plugin_parameters = {{"labels", kTeamLabels}, {"annotations", kOwnerAnnotations}};
    auto report = cnpgi::test::RunConformance(check);
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_TRUE(report->ok()) << report->Summary();
    server.Shutdown(absl::Seconds(1));
  }
  const std::string records = (dir / "records").string();
  {
    auto kit = cnpgi::test::PluginKit::Start(MakeServer());
    ASSERT_TRUE(kit.ok()) << kit.status();
    auto replay = cnpgi::test::Replay(kit->client(), records);
    ASSERT_TRUE(replay.ok()) << replay.status();
    EXPECT_TRUE(replay->ok()) << replay->Describe();
    EXPECT_GT(replay->replayed, 10u);
  }
  {
    cnpgi::PluginServer changed(Metadata());
    changed.Add(std::make_shared<HelloOperator>()).Add(std::make_shared<ChangedLifecycle>());
    auto kit = cnpgi::test::PluginKit::Start(std::move(changed));
    ASSERT_TRUE(kit.ok()) << kit.status();
    auto replay = cnpgi::test::Replay(kit->client(), records);
    ASSERT_TRUE(replay.ok()) << replay.status();
    EXPECT_FALSE(replay->ok());
    EXPECT_THAT(replay->Describe(), HasSubstr("/metadata/annotations/example.com~1changed"));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hello_world
