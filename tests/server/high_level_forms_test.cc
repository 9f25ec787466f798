// The On... forms of the service base classes, driven over a real socket
// with the fixture objects: the SDK parses, the plugin edits or decides, the
// SDK answers patches, validation errors, status and configuration maps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cnpgi/identity/v1/postgres.grpc.pb.h"
#include "cnpgi/metrics/v1/metrics.grpc.pb.h"
#include "cnpgi/operator/v1/operator.grpc.pb.h"
#include "cnpgi/operator_lifecycle/v1/operator_lifecycle.grpc.pb.h"
#include "cnpgi/parameters.h"
#include "cnpgi/sidecar.h"
#include "server_fixture.h"
#include "test_plugins.h"

namespace cnpgi {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_support::Deadline;
using testing_support::UnixServer;

constexpr char kPluginName[] = "cnpg-i-perf.example.com";  // configured in cluster.json

std::string Fixture(const char* name) {
  std::ifstream in(std::string(CNPGI_TEST_DATA_DIR) + "/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class PerfOperator final : public OperatorService {
  absl::Status OnValidateClusterCreate(CallContext& ctx, const Cluster& cluster,
                                       ValidationErrors& errors) override {
    absl::StatusOr<PluginConfiguration> plugin = cluster.GetPlugin(ctx.plugin_name());
    if (!plugin.ok()) return plugin.status();
    plugin->parameters().GetString("mode", errors, {.one_of = {"label", "copy"}});
    return absl::OkStatus();
  }
  absl::Status OnMutateCluster(CallContext&, Cluster& cluster) override {
    return cluster.SetLabel("example.com/defaulted", "true");
  }
  absl::StatusOr<std::optional<json>> OnSetStatusInCluster(CallContext& ctx,
                                                           const Cluster& cluster) override {
    if (cluster.name() == "array") return std::optional<json>(json::array());
    return std::optional<json>(json{{"enabled", true}, {"plugin", ctx.plugin_name()}});
  }
};

class SidecarLifecycle final : public LifecycleService {
  std::vector<LifecycleSubscription> Subscriptions() const override {
    return {{"", "Pod", {LifecycleOperation::kCreate, LifecycleOperation::kEvaluate}}};
  }
  absl::Status OnLifecycle(CallContext&, const Cluster& cluster, Object& object,
                           LifecycleOperation) override {
    SidecarOptions options;
    options.container = {{"name", "perf-sidecar"}, {"image", "example.com/perf:1"}};
    if (absl::Status s = InjectSidecar(object, options); !s.ok()) return s;
    return object.SetLabel("example.com/cluster", cluster.name());
  }
};

class PerfPostgres final : public PostgresService {
  absl::Status OnEnrichConfiguration(CallContext&, const Cluster&,
                                     PostgresConfiguration& configuration,
                                     ConfigurationOperation operation) override {
    if (operation == ConfigurationOperation::kReconcile) {
      configuration.Set("shared_preload_libraries", "pg_stat_statements");
    }
    return absl::OkStatus();
  }
};

class PerfMetrics final : public MetricsService {
 public:
  const MetricRegistry* DeclaredMetrics() const override { return &registry_; }
  absl::Status OnCollect(CallContext&, const Cluster& cluster, CollectResult& result) override {
    if (cluster.name() == "wrong-labels") {
      // Bypasses Metric::Collect's own check: the SDK must still catch it.
      auto* m = result.add_metrics();
      m->set_fq_name("perf_up");
      return absl::OkStatus();
    }
    return up_.Collect(result, 1, {cluster.name()});
  }

 private:
  MetricRegistry registry_;
  // Declared after the registry, so initialised after it.
  Metric up_ = *registry_.Add({.name = "perf_up", .help = "1 when up", .label_names = {"cluster"}});
};

absl::Status StartPerf(UnixServer& fixture) {
  PluginMetadata metadata = testing_plugins::TestMetadata(kPluginName);
  return fixture.Start(PluginServer(metadata)
                           .Add(std::make_shared<PerfOperator>())
                           .Add(std::make_shared<SidecarLifecycle>())
                           .Add(std::make_shared<PerfPostgres>())
                           .Add(std::make_shared<PerfMetrics>()));
}

TEST(HighLevelForms, OverridingTheOnFormAdvertisesTheRpc) {
  UnixServer fixture;
  ASSERT_TRUE(StartPerf(fixture).ok());
  operator_::v1::OperatorCapabilitiesResult caps;
  ASSERT_TRUE(operator_::v1::Operator::NewStub(fixture.NewChannel())
                  ->GetCapabilities(Deadline().get(), {}, &caps)
                  .ok());
  std::vector<int> rpcs;
  for (const auto& c : caps.capabilities()) rpcs.push_back(c.rpc().type());
  using Rpc = operator_::v1::OperatorCapability::RPC;
  EXPECT_THAT(rpcs, ElementsAre(Rpc::TYPE_VALIDATE_CLUSTER_CREATE, Rpc::TYPE_MUTATE_CLUSTER,
                                Rpc::TYPE_SET_STATUS_IN_CLUSTER));
}

TEST(HighLevelForms, ValidationErrorsCarryTheOperatorsPath) {
  UnixServer fixture;
  ASSERT_TRUE(StartPerf(fixture).ok());
  operator_::v1::OperatorValidateClusterCreateRequest request;
  request.set_definition(Fixture("cluster.json"));
  operator_::v1::OperatorValidateClusterCreateResult result;
  ASSERT_TRUE(operator_::v1::Operator::NewStub(fixture.NewChannel())
                  ->ValidateClusterCreate(Deadline().get(), request, &result)
                  .ok());
  ASSERT_EQ(result.validation_errors_size(), 1);
  const auto& error = result.validation_errors(0);
  EXPECT_THAT(error.path_components(), ElementsAre("spec", "plugins", "1", "parameters", "mode"));
  EXPECT_EQ(error.value(), "annotate");
}

TEST(HighLevelForms, MutateClusterAnswersThePatchOfTheEdits) {
  UnixServer fixture;
  ASSERT_TRUE(StartPerf(fixture).ok());
  const std::string sent = Fixture("cluster.json");
  operator_::v1::OperatorMutateClusterRequest request;
  request.set_definition(sent);
  operator_::v1::OperatorMutateClusterResult result;
  ASSERT_TRUE(operator_::v1::Operator::NewStub(fixture.NewChannel())
                  ->MutateCluster(Deadline().get(), request, &result)
                  .ok());
  const json patched = json::parse(sent).patch(json::parse(result.json_patch()));
  EXPECT_EQ(patched["metadata"]["labels"]["example.com/defaulted"], "true");
  EXPECT_EQ(patched["kind"], "Cluster");
}

TEST(HighLevelForms, SetStatusInClusterAnswersAnObjectAndRefusesOthers) {
  UnixServer fixture;
  ASSERT_TRUE(StartPerf(fixture).ok());
  auto op = operator_::v1::Operator::NewStub(fixture.NewChannel());
  operator_::v1::SetStatusInClusterRequest request;
  request.set_cluster(Fixture("cluster.json"));
  operator_::v1::SetStatusInClusterResponse response;
  ASSERT_TRUE(op->SetStatusInCluster(Deadline().get(), request, &response).ok());
  EXPECT_EQ(json::parse(response.json_status()),
            (json{{"enabled", true}, {"plugin", kPluginName}}));

  json array_cluster = json::parse(Fixture("cluster.json"));
  array_cluster["metadata"]["name"] = "array";
  request.set_cluster(array_cluster.dump());
  const grpc::Status status = op->SetStatusInCluster(Deadline().get(), request, &response);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.error_message(), HasSubstr("object"));
}

TEST(HighLevelForms, MalformedClusterIsInvalidArgumentNamingTheField) {
  UnixServer fixture;
  ASSERT_TRUE(StartPerf(fixture).ok());
  operator_::v1::SetStatusInClusterRequest request;
  request.set_cluster("{\"metadata\": [");
  operator_::v1::SetStatusInClusterResponse response;
  const grpc::Status status = operator_::v1::Operator::NewStub(fixture.NewChannel())
                                  ->SetStatusInCluster(Deadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("request field cluster"));
}

TEST(HighLevelForms, LifecyclePatchInjectsTheSidecarAndIsIdempotent) {
  UnixServer fixture;
  ASSERT_TRUE(StartPerf(fixture).ok());
  auto lifecycle = operator_lifecycle::v1::OperatorLifecycle::NewStub(fixture.NewChannel());
  operator_lifecycle::v1::OperatorLifecycleRequest request;
  request.mutable_operation_type()->set_type(
      operator_lifecycle::v1::OperatorOperationType::TYPE_EVALUATE);
  request.set_cluster_definition(Fixture("cluster.json"));
  const json pod = json::parse(Fixture("pod.json"));
  request.set_object_definition(pod.dump());
  operator_lifecycle::v1::OperatorLifecycleResponse response;
  ASSERT_TRUE(lifecycle->LifecycleHook(Deadline().get(), request, &response).ok());
  const json patched = pod.patch(json::parse(response.json_patch()));
  EXPECT_EQ(patched["metadata"]["labels"]["example.com/cluster"], "pg-orders");
  bool found = false;
  for (const auto& c : patched["spec"]["initContainers"]) {
    if (c["name"] == "perf-sidecar") found = (c["restartPolicy"] == "Always");
  }
  EXPECT_TRUE(found) << patched["spec"]["initContainers"].dump();

  // CREATE on the already-patched Pod: nothing more to change.
  request.mutable_operation_type()->set_type(
      operator_lifecycle::v1::OperatorOperationType::TYPE_CREATE);
  request.set_object_definition(patched.dump());
  ASSERT_TRUE(lifecycle->LifecycleHook(Deadline().get(), request, &response).ok());
  EXPECT_EQ(response.json_patch(), "");
}

TEST(HighLevelForms, EnrichConfigurationAnswersTheCompleteMapOrNothing) {
  UnixServer fixture;
  ASSERT_TRUE(StartPerf(fixture).ok());
  auto postgres = identity::v1::Postgres::NewStub(fixture.NewChannel());
  identity::v1::EnrichConfigurationRequest request;
  request.set_cluster_definition(Fixture("cluster.json"));
  (*request.mutable_configs())["max_connections"] = "100";
  (*request.mutable_configs())["archive_command"] = "/controller/manager wal-archive %p";
  request.mutable_operation_type()->set_type(identity::v1::OperationType::TYPE_RECONCILE);
  identity::v1::EnrichConfigurationResult result;
  ASSERT_TRUE(postgres->EnrichConfiguration(Deadline().get(), request, &result).ok());
  EXPECT_EQ(result.configs_size(), 3);
  EXPECT_EQ(result.configs().at("max_connections"), "100");
  EXPECT_EQ(result.configs().at("shared_preload_libraries"), "pg_stat_statements");

  request.mutable_operation_type()->set_type(identity::v1::OperationType::TYPE_INIT);
  result.Clear();
  ASSERT_TRUE(postgres->EnrichConfiguration(Deadline().get(), request, &result).ok());
  EXPECT_EQ(result.configs_size(), 0) << "no change must answer nothing";
}

TEST(HighLevelForms, MetricsDefineAndCollectAgree) {
  UnixServer fixture;
  ASSERT_TRUE(StartPerf(fixture).ok());
  auto metrics = metrics::v1::Metrics::NewStub(fixture.NewChannel());
  metrics::v1::DefineMetricsResult defined;
  ASSERT_TRUE(metrics->Define(Deadline().get(), {}, &defined).ok());
  ASSERT_EQ(defined.metrics_size(), 1);
  EXPECT_EQ(defined.metrics(0).fq_name(), "perf_up");
  EXPECT_THAT(defined.metrics(0).variable_labels(), ElementsAre("cluster"));

  metrics::v1::CollectMetricsRequest request;
  request.set_cluster_definition(Fixture("cluster.json"));
  metrics::v1::CollectMetricsResult collected;
  ASSERT_TRUE(metrics->Collect(Deadline().get(), request, &collected).ok());
  ASSERT_EQ(collected.metrics_size(), 1);
  EXPECT_THAT(collected.metrics(0).variable_labels(), ElementsAre("pg-orders"));

  json wrong = json::parse(Fixture("cluster.json"));
  wrong["metadata"]["name"] = "wrong-labels";
  request.set_cluster_definition(wrong.dump());
  const grpc::Status status = metrics->Collect(Deadline().get(), request, &collected);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.error_message(), HasSubstr("perf_up"));
}

}  // namespace
}  // namespace cnpgi
