// The test kit as plugin authors use it: an SDK plugin started in-process,
// the operator-like client, the fixtures and the GoogleTest helpers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "cnpgi/testing/gtest.h"
#include "good_plugin.h"
#include "support/temp_dir.h"

namespace cnpgi::testing_test {
namespace {

namespace ct = ::cnpgi::test;
using conformance_test::kGoodPluginName;
using conformance_test::MakeGoodPlugin;
using ct::HasAnnotation;
using ct::HasInitContainer;
using ct::HasLabel;
using ct::HasVolume;
using ct::IsOk;
using ct::IsOkAndHolds;
using ct::JsonAt;
using ct::StatusIs;
using ct::Unchanged;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// The fixture of <cnpgi/testing/gtest.h>, as a plugin author writes it.
class GoodPluginTest : public ct::PluginTest {
 protected:
  PluginServer MakePlugin() override { return MakeGoodPlugin(); }
  ct::KitOptions MakeKitOptions() override {
    ct::KitOptions options;
    options.client.plugin_parameters = {{"mode", "label"}, {"archiveDir", archive_.string()}};
    return options;
  }
  testing_support::TempDir dir_;
  std::filesystem::path archive_ = dir_ / "archive";
};

TEST_F(GoodPluginTest, EvaluatePatchIsAppliedToThePodSent) {
  auto pod = client().LifecycleHook(LifecycleOperation::kEvaluate, kit().cluster(), kit().pod());
  ASSERT_THAT(pod, IsOk());
  // The one-liners a plugin author writes.
  EXPECT_EQ(pod->json()["metadata"]["labels"]["conformance.cnpgi.example/plugin"], "good");
  EXPECT_EQ(pod->label("conformance.cnpgi.example/plugin"), "good");
  EXPECT_THAT(pod, HasLabel("conformance.cnpgi.example/plugin", "good"));
  EXPECT_THAT(pod, HasInitContainer("conformance-sidecar"));
  EXPECT_THAT(pod, HasVolume("plugins"));
  EXPECT_THAT(pod, JsonAt("/spec/initContainers/1/restartPolicy", "Always"));
  EXPECT_THAT(pod, JsonAt("/spec/nothing", nullptr));
  EXPECT_THAT(pod, Not(HasLabel("conformance.cnpgi.example/plugin", "bad")));
  EXPECT_THAT(pod, Not(HasAnnotation("conformance.cnpgi.example/plugin", "good")));
  EXPECT_TRUE(pod->changed());
  EXPECT_EQ(pod->kind(), "Pod");
  EXPECT_FALSE(pod->patch().empty());
  EXPECT_EQ(pod->sent(), kit().pod());
}

TEST_F(GoodPluginTest, CreateAfterEvaluateChangesNothing) {
  auto evaluated =
      client().LifecycleHook(LifecycleOperation::kEvaluate, kit().cluster(), kit().pod());
  ASSERT_THAT(evaluated, IsOk());
  // The operator sends CREATE the EVALUATE result.
  auto created = client().LifecycleHook(LifecycleOperation::kCreate, kit().cluster(), *evaluated);
  EXPECT_THAT(created, Unchanged());
  auto job = client().LifecycleHook(LifecycleOperation::kCreate, kit().cluster(), kit().job());
  EXPECT_THAT(job, HasInitContainer("conformance-sidecar"));
  EXPECT_THAT(job, Not(Unchanged()));
}

TEST_F(GoodPluginTest, HandshakeFollowsTheOperatorsOrder) {
  const ct::HandshakeResult& h = client().handshake();
  EXPECT_TRUE(h.complete);
  EXPECT_EQ(h.name(), kGoodPluginName);
  std::vector<std::string> methods;
  for (const auto& step : h.steps) methods.push_back(step.method);
  EXPECT_THAT(methods, ElementsAre("/cnpgi.identity.v1.Identity/GetPluginMetadata",
                                   "/cnpgi.identity.v1.Identity/GetPluginCapabilities",
                                   "/cnpgi.operator.v1.Operator/GetCapabilities",
                                   "/cnpgi.operator_lifecycle.v1.OperatorLifecycle/GetCapabilities",
                                   "/cnpgi.wal.v1.WAL/GetCapabilities",
                                   "/cnpgi.backup.v1.Backup/GetCapabilities",
                                   "/cnpgi.reconciler.v1.ReconcilerHooks/GetCapabilities",
                                   "/cnpgi.wal.v1.RestoreJobHooks/GetCapabilities",
                                   "/cnpgi.identity.v1.Postgres/GetCapabilities",
                                   "/cnpgi.metrics.v1.Metrics/GetCapabilities",
                                   "/cnpgi.identity.v1.Identity/Probe"));
  EXPECT_TRUE(h.Advertises(ct::Rpc::kSetStatusInCluster));
  EXPECT_FALSE(h.Advertises(ct::Rpc::kWalStatus));
  EXPECT_TRUE(h.Subscribes("batch", "Job", LifecycleOperation::kCreate));
  EXPECT_FALSE(h.Subscribes("batch", "Job", LifecycleOperation::kEvaluate));
  EXPECT_TRUE(h.DeclaresInstanceSidecarInjection());
  EXPECT_TRUE(h.HooksBackups());
  EXPECT_TRUE(h.HooksClusters());
  EXPECT_THAT(h.BackupCapabilityNames(), ElementsAre("TYPE_BACKUP"));
  EXPECT_THAT(h.RestoreJobCapabilityNames(), ElementsAre("KIND_RESTORE"));

  // The fixture Cluster carries the plugin as the operator records it.
  const nlohmann::json cluster = kit().cluster();
  const nlohmann::json& plugins = cluster["spec"]["plugins"];
  EXPECT_EQ(plugins.back()["name"], kGoodPluginName);
  EXPECT_EQ(plugins.back()["parameters"]["mode"], "label");
  const nlohmann::json& status = cluster["status"]["pluginStatus"].back();
  EXPECT_EQ(status["version"], "1.0.0");
  EXPECT_THAT(status["capabilities"].get<std::vector<std::string>>(),
              ::testing::Contains("TYPE_INSTANCE_SIDECAR_INJECTION"));
  EXPECT_THAT(status["operatorCapabilities"].get<std::vector<std::string>>(),
              ::testing::Contains("TYPE_SET_STATUS_IN_CLUSTER"));
  EXPECT_EQ(status["backupCapabilities"], h.BackupCapabilityNames());
  EXPECT_EQ(status["restoreJobHookCapabilities"], h.RestoreJobCapabilityNames());
  EXPECT_EQ(status["walCapabilities"], h.WalCapabilityNames());
}

TEST_F(GoodPluginTest, OperatorCalls) {
  EXPECT_THAT(
      client().SetStatusInCluster(kit().cluster()),
      IsOkAndHolds(::testing::Optional(nlohmann::json{{"enabled", true}, {"instances", 3}})));
  EXPECT_THAT(client().ValidateClusterCreate(kit().cluster()), IsOkAndHolds(::testing::IsEmpty()));

  nlohmann::json bad = kit().cluster();
  bad["spec"]["plugins"].back()["parameters"]["mode"] = "shout";
  auto errors = client().ValidateClusterCreate(bad);
  ASSERT_THAT(errors, IsOk());
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ((*errors)[0].PathString(), "spec.plugins[2].parameters.mode");
  EXPECT_EQ((*errors)[0].value, "shout");

  nlohmann::json without_mode = kit().cluster();
  without_mode["spec"]["plugins"].back()["parameters"].erase("mode");
  auto mutated = client().MutateCluster(without_mode);
  EXPECT_THAT(mutated, JsonAt("/spec/plugins/2/parameters/mode", "annotate"));
}

TEST_F(GoodPluginTest, ConfigurationMetricsAndReconcilerHooks) {
  const auto sent = kit().fixtures().postgres_configuration();
  auto enriched =
      client().EnrichConfiguration(ConfigurationOperation::kReconcile, kit().cluster(), sent);
  ASSERT_THAT(enriched, IsOk());
  EXPECT_TRUE(enriched->changed());
  EXPECT_EQ(enriched->configuration.at("cnpgi_good.enabled"), "on");
  EXPECT_EQ(enriched->configuration.at("port"), "5432");
  EXPECT_EQ(enriched->configuration.size(), sent.size() + 1);

  auto samples = client().ScrapeMetrics(kit().cluster());
  ASSERT_THAT(samples, IsOk());
  ASSERT_EQ(samples->size(), 1u);
  EXPECT_EQ((*samples)[0].name, "cnpgi_good_up");
  EXPECT_EQ((*samples)[0].labels.at("cluster"), "pg-orders");
  EXPECT_EQ((*samples)[0].value, 1);

  // The two calls behind ScrapeMetrics, as the instance manager makes them.
  auto defined = client().DefineMetrics(kit().cluster());
  ASSERT_THAT(defined, IsOk());
  ASSERT_EQ(defined->metrics_size(), 1);
  EXPECT_EQ(defined->metrics(0).fq_name(), "cnpgi_good_up");
  auto collected = client().CollectMetrics(kit().cluster());
  ASSERT_THAT(collected, IsOk());
  ASSERT_EQ(collected->metrics_size(), 1);
  EXPECT_EQ(collected->metrics(0).fq_name(), "cnpgi_good_up");
  EXPECT_EQ(collected->metrics(0).value(), 1);

  auto pre = client().PreReconcile(kit().cluster(), kit().cluster());
  ASSERT_THAT(pre, IsOk());
  EXPECT_EQ(pre->behavior(), reconciler::v1::ReconcilerHooksResult::BEHAVIOR_CONTINUE);
  auto post = client().PostReconcile(kit().cluster(), kit().backup());
  ASSERT_THAT(post, IsOk());
  EXPECT_EQ(post->behavior(), reconciler::v1::ReconcilerHooksResult::BEHAVIOR_CONTINUE);
}

TEST_F(GoodPluginTest, WalArchiveRestoreBackupAndRestoreJob) {
  const auto segment = dir_ / "000000010000000000000007";
  testing_support::WriteFile(segment, "segment bytes");
  EXPECT_THAT(client().ArchiveWal(kit().cluster(), segment.string()), IsOk());
  EXPECT_TRUE(std::filesystem::exists(archive_ / "000000010000000000000007"));
  const auto destination = dir_ / "RECOVERYXLOG";
  EXPECT_THAT(
      client().RestoreWal(kit().cluster(), "000000010000000000000007", destination.string()),
      IsOk());
  std::ifstream in(destination);
  std::string restored((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(restored, "segment bytes");
  EXPECT_THAT(
      client().RestoreWal(kit().cluster(), "0000000100000000000000FF", destination.string()),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("0000000100000000000000FF")));

  auto backup = client().Backup(kit().cluster(), kit().backup());
  ASSERT_THAT(backup, IsOk());
  EXPECT_GT(backup->started_at(), 0);
  auto restore = client().RestoreJob(kit().fixtures().recovery_cluster());
  ASSERT_THAT(restore, IsOk());
  EXPECT_THAT(restore->restore_config(), HasSubstr("restore_command"));
}

TEST_F(GoodPluginTest, MalformedInputReachesThePluginAsSent) {
  EXPECT_THAT(client().SetStatusInCluster(ct::Document::Raw("{\"kind\": ")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request field cluster")));
  EXPECT_THAT(client().LifecycleHook(LifecycleOperation::kEvaluate, kit().cluster(),
                                     ct::Document::Raw("not json")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("object_definition")));
}

TEST_F(GoodPluginTest, RawBytesReachThePluginAsSent) {
  const std::string_view method = ct::MethodOf(ct::Rpc::kSetStatusInCluster);
  operator_::v1::SetStatusInClusterRequest request;
  request.set_cluster(kit().cluster().dump());
  auto answer = client().CallBytes(method, request.SerializeAsString());
  ASSERT_THAT(answer, IsOk());
  operator_::v1::SetStatusInClusterResponse response;
  ASSERT_TRUE(response.ParseFromString(*answer));
  EXPECT_EQ(nlohmann::json::parse(response.json_status()),
            (nlohmann::json{{"enabled", true}, {"instances", 3}}));
  // Bytes that are no protobuf message: refused by the server, which still
  // answers afterwards.
  EXPECT_THAT(client().CallBytes(method, "\xff\xff\xff\xff"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a valid cnpgi.operator.v1.SetStatusInClusterRequest")));
  EXPECT_THAT(client().Probe(), IsOk());
}

TEST_F(GoodPluginTest, AnotherConnectionRunsItsOwnHandshake) {
  auto other = kit().Connect();
  ASSERT_THAT(other, IsOk());
  EXPECT_TRUE(other->handshake().complete);
  EXPECT_THAT(other->Probe(), IsOk());
  kit().Shutdown();
  EXPECT_THAT(client().Probe(), StatusIs(absl::StatusCode::kUnavailable));
}

// Calls the operator never makes are refused before anything is sent.
class StatusOnly final : public OperatorService {
  absl::StatusOr<std::optional<nlohmann::json>> OnSetStatusInCluster(CallContext&,
                                                                     const Cluster&) override {
    return std::optional<nlohmann::json>();
  }
};

TEST(PluginKit, UnadvertisedCallsAreRefusedUnlessUnchecked) {
  auto kit = ct::PluginKit::Start(
      PluginServer(conformance_test::GoodMetadata()).Add(std::make_shared<StatusOnly>()));
  ASSERT_THAT(kit, IsOk());
  EXPECT_THAT(kit->client().SetStatusInCluster(kit->cluster()),
              IsOkAndHolds(::testing::Eq(std::nullopt)));
  EXPECT_THAT(kit->client().MutateCluster(kit->cluster()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cnpgi.operator.v1.Operator/MutateCluster: not called: the "
                                 "plugin does not advertise it")));
  EXPECT_THAT(
      kit->client().LifecycleHook(LifecycleOperation::kEvaluate, kit->cluster(), kit->pod()),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("nor TYPE_LIFECYCLE_SERVICE")));
  EXPECT_THAT(kit->client().Unchecked().MutateCluster(kit->cluster()),
              StatusIs(absl::StatusCode::kUnimplemented));
}

TEST(PluginKit, ARefusedStartSaysWhy) {
  PluginMetadata bad = conformance_test::GoodMetadata();
  bad.name = "Not A Name";
  auto kit = ct::PluginKit::Start(PluginServer(bad).Add(std::make_shared<StatusOnly>()));
  EXPECT_THAT(kit, StatusIs(absl::StatusCode::kInvalidArgument,
                            HasSubstr("the plugin server did not start: plugin metadata")));
}

TEST(PluginKit, TeardownRemovesTheSocketDirectory) {
  std::filesystem::path dir;
  {
    auto kit = ct::PluginKit::Start(MakeGoodPlugin());
    ASSERT_THAT(kit, IsOk());
    dir = std::filesystem::path(kit->socket_path()).parent_path();
    EXPECT_TRUE(std::filesystem::exists(kit->socket_path()));
    ct::PluginKit moved = *std::move(kit);  // movable, still serving
    EXPECT_THAT(moved.client().Probe(), IsOk());
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

// A Backup that runs until the caller gives up.
class EndlessBackup final : public BackupService {
  absl::Status Backup(CallContext& ctx, const Request&, Result&) override {
    while (!ctx.IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return absl::CancelledError("cancelled");
  }
};

TEST(PluginKit, EveryCallHasADeadline) {
  auto kit = ct::PluginKit::Start(
      PluginServer(conformance_test::GoodMetadata()).Add(std::make_shared<EndlessBackup>()));
  ASSERT_THAT(kit, IsOk());
  const auto start = std::chrono::steady_clock::now();
  auto result =
      kit->client().WithTimeout(absl::Milliseconds(300)).Backup(kit->cluster(), kit->backup());
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kDeadlineExceeded,
                               HasSubstr("cnpgi.backup.v1.Backup/Backup: no answer within 300ms")));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));

  ct::ClientOptions past;
  past.deadline = absl::Now() - absl::Seconds(1);
  auto late = kit->Connect(past);
  EXPECT_THAT(late, StatusIs(absl::StatusCode::kDeadlineExceeded,
                             HasSubstr("not called: the overall deadline has passed")));
}

// The kit's RPC table against the protocol compiled from proto/: each method
// path names a method of the generated descriptors, the table covers every
// method of the services it names but their GetCapabilities, and each
// service is the protocol's PluginCapability.Service.Type value.
TEST(RpcTable, MatchesTheCompiledProtocol) {
  const google::protobuf::DescriptorPool* pool = google::protobuf::DescriptorPool::generated_pool();
  const google::protobuf::EnumDescriptor* types =
      identity::v1::PluginCapability_Service_Type_descriptor();
  std::set<std::string> table;
  std::set<const google::protobuf::ServiceDescriptor*> services;
  for (ct::Rpc rpc : ct::AllRpcs()) {
    const std::string method(ct::MethodOf(rpc));
    EXPECT_EQ(method, "/" + std::string(ct::NameOf(rpc)));
    std::string full_name = method.substr(1);
    full_name[full_name.find('/')] = '.';
    const google::protobuf::MethodDescriptor* descriptor = pool->FindMethodByName(full_name);
    ASSERT_NE(descriptor, nullptr) << method;
    EXPECT_TRUE(table.insert(descriptor->full_name()).second) << method << " is listed twice";
    services.insert(descriptor->service());
    const google::protobuf::EnumValueDescriptor* type =
        types->FindValueByNumber(static_cast<int>(ct::ServiceOf(rpc)));
    ASSERT_NE(type, nullptr) << method;
    EXPECT_EQ(type->name(), ct::NameOf(ct::ServiceOf(rpc))) << method;
  }
  EXPECT_EQ(services.size(), 8u);  // the nine services but Identity
  for (const google::protobuf::ServiceDescriptor* service : services) {
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* m = service->method(i);
      if (m->name() == "GetCapabilities") continue;
      EXPECT_EQ(table.count(m->full_name()), 1u) << m->full_name() << " is missing";
    }
  }
}

TEST(PluginClient, MissingSocketIsExplained) {
  testing_support::TempDir dir;
  auto client = ct::PluginClient::Connect(ct::Endpoint::Unix((dir / "nope").string()));
  EXPECT_THAT(client, StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("there is no socket at " + (dir / "nope").string())));
}

TEST(PluginClient, TcpServerNameDefaultsToTheServiceName) {
  EXPECT_EQ(ct::Endpoint::Tcp("barman-cloud.cnpg-system.svc:9090", {}).ServerName(),
            "barman-cloud");
  EXPECT_EQ(ct::Endpoint::Tcp("127.0.0.1:9090", {}).ServerName(), "127.0.0.1");
  EXPECT_EQ(ct::Endpoint::Tcp("[::1]:9090", {}).ServerName(), "::1");
  ct::TlsCredentials tls;
  tls.server_name = "explicit";
  EXPECT_EQ(ct::Endpoint::Tcp("h.ns.svc:1", tls).ServerName(), "explicit");
  EXPECT_EQ(ct::Endpoint::Tcp("h.ns.svc:1", tls).Describe(),
            "h.ns.svc:1 (mTLS, server name explicit)");
  EXPECT_THAT(ct::PluginClient::Open(ct::Endpoint::Tcp("nohost", {})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("has no port")));
  testing_support::TempDir dir;
  testing_support::WriteFile(dir / "not-pem", "hello");
  EXPECT_THAT(ct::TlsCredentials::FromFiles((dir / "not-pem").string(), "k", "s"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("client certificate file " + (dir / "not-pem").string() +
                                 ": no certificate in it")));
}

TEST(GtestHelpers, MatchersExplainErrors) {
  absl::StatusOr<ct::PatchedObject> error = absl::NotFoundError("gone");
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(::testing::ExplainMatchResult(HasLabel("a", "b"), error, &listener));
  EXPECT_THAT(listener.str(), HasSubstr("which is an error: NOT_FOUND: gone"));
  EXPECT_THAT(absl::OkStatus(), IsOk());
  EXPECT_THAT(absl::InternalError("x"), Not(IsOk()));
  EXPECT_THAT(absl::InternalError("boom"), StatusIs(absl::StatusCode::kInternal, "boom"));
  CNPGI_EXPECT_OK(absl::OkStatus());
  CNPGI_ASSERT_OK_AND_ASSIGN(const int value, absl::StatusOr<int>(7));
  EXPECT_EQ(value, 7);
}

}  // namespace
}  // namespace cnpgi::testing_test
