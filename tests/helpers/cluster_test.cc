#include "cnpgi/cluster.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_data.h"

namespace cnpgi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr std::string_view kPerf = "cnpg-i-perf.example.com";
constexpr std::string_view kBarman = "barman-cloud.cloudnative-pg.io";

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// The value at `pointer`, for tests that keep editing it across Patch()
// calls (the value stays where it is until an edit above it changes the
// structure: what Object's own edits rely on).
Json& EditedValue(Object& object, std::string_view pointer) {
  static Json failed;
  Json* value = &failed;
  EXPECT_TRUE(object.Edit(pointer, [&value](Json& v) { value = &v; }).ok()) << pointer;
  return *value;
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    text_ = test::ReadTestData("cluster.json");
    absl::StatusOr<Cluster> cluster = Cluster::Parse(text_);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_.emplace(*std::move(cluster));
  }

  std::string text_;
  std::optional<Cluster> cluster_;
};

TEST_F(ClusterTest, Metadata) {
  EXPECT_EQ(cluster_->kind(), "Cluster");
  EXPECT_EQ(cluster_->name(), "pg-orders");
  EXPECT_EQ(cluster_->namespace_(), "payments");
  EXPECT_EQ(cluster_->label("team"), "checkout");
  EXPECT_TRUE(Cluster::ParseStrict(text_).ok());
}

TEST_F(ClusterTest, Plugins) {
  std::vector<PluginConfiguration> plugins = cluster_->plugins();
  ASSERT_EQ(plugins.size(), 2u);
  EXPECT_EQ(plugins[0].name(), kBarman);
  EXPECT_TRUE(plugins[0].enabled());
  EXPECT_TRUE(plugins[0].is_wal_archiver());
  EXPECT_EQ(plugins[0].parameters().Get("barmanObjectName"), "orders-store");
  EXPECT_EQ(plugins[1].name(), kPerf);
  EXPECT_FALSE(plugins[1].is_wal_archiver());
  EXPECT_EQ(plugins[1].index(), 1u);
  EXPECT_EQ(plugins[1].pointer(), "/spec/plugins/1");
  EXPECT_THAT(plugins[1].path(), ElementsAre("spec", "plugins", "1"));
  EXPECT_THAT(plugins[1].parameters().path(), ElementsAre("spec", "plugins", "1", "parameters"));
  EXPECT_EQ(plugins[1].parameters().size(), 3u);

  std::optional<PluginConfiguration> perf = cluster_->FindPlugin(kPerf);
  ASSERT_TRUE(perf.has_value());
  EXPECT_EQ(perf->parameters().Get("mode"), "annotate");
  EXPECT_FALSE(cluster_->FindPlugin("unknown.example.com").has_value());
}

TEST_F(ClusterTest, GetPluginNamesWhatIsConfigured) {
  EXPECT_TRUE(cluster_->GetPlugin(kPerf).ok());
  absl::StatusOr<PluginConfiguration> missing = cluster_->GetPlugin("other.example.com");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(missing.status()),
              HasSubstr("Cluster payments/pg-orders has no entry for plugin other.example.com in "
                        "spec.plugins (configured: barman-cloud.cloudnative-pg.io, "
                        "cnpg-i-perf.example.com)"));
}

TEST_F(ClusterTest, ParameterErrorsCarryTheOperatorPath) {
  ValidationErrors errors;
  const Parameters parameters = cluster_->FindPlugin(kPerf)->parameters();
  EXPECT_EQ(parameters.GetDuration("retention", errors), absl::Hours(24 * 7));
  EXPECT_EQ(parameters.GetInt("mode", errors), std::nullopt);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].path, ElementsAre("spec", "plugins", "1", "parameters", "mode"));
  EXPECT_EQ(errors[0].value, "annotate");
  EXPECT_EQ(errors[0].PathString(), "spec.plugins[1].parameters.mode");
}

TEST_F(ClusterTest, PluginStatus) {
  std::vector<PluginStatus> statuses = cluster_->plugin_statuses();
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].name, kBarman);
  EXPECT_EQ(statuses[0].version, "0.5.0");
  EXPECT_EQ(statuses[0].status, R"({"lastArchivedWAL":"000000010000000A000000C3"})");
  EXPECT_TRUE(statuses[0].HasCapability("TYPE_LIFECYCLE_SERVICE"));
  EXPECT_TRUE(statuses[0].HasCapability("TYPE_ARCHIVE_WAL"));
  EXPECT_FALSE(statuses[0].HasCapability("TYPE_INSTANCE_SIDECAR_INJECTION"));
  EXPECT_TRUE(cluster_->FindPluginStatus(kBarman).has_value());
  EXPECT_FALSE(cluster_->FindPluginStatus(kPerf).has_value());
}

TEST_F(ClusterTest, SetPluginParameterPatch) {
  ASSERT_TRUE(cluster_->SetPluginParameter(kPerf, "mode", "annotate").ok());
  EXPECT_EQ(*cluster_->Patch(), "");  // same value: no change, no copy
  ASSERT_TRUE(cluster_->SetPluginParameter(kPerf, "compression", "gzip").ok());
  EXPECT_EQ(*cluster_->Patch(),
            R"([{"op":"add","path":"/spec/plugins/1/parameters/compression","value":"gzip"}])");
  EXPECT_EQ(cluster_->FindPlugin(kPerf)->parameters().Get("compression"), "gzip");
  EXPECT_EQ(cluster_->SetPluginParameter("absent", "a", "b").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ClusterExternalTest, ExternalClustersAndSources) {
  const std::string text = R"({
    "spec": {
      "bootstrap": {"recovery": {"source": "origin"}},
      "replica": {"source": "origin"},
      "plugins": [{"name": "p", "enabled": false, "parameters": {}}],
      "externalClusters": [
        {"name": "plain", "connectionParameters": {"host": "h"}},
        {"name": "origin", "plugin": {"name": "p", "parameters": {"serverName": "o"}}}
      ]}})";
  absl::StatusOr<Cluster> cluster = Cluster::Parse(text);  // no apiVersion/kind: lenient
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  EXPECT_FALSE(Cluster::ParseStrict(text).ok());
  EXPECT_EQ(cluster->recovery_source(), "origin");
  EXPECT_EQ(cluster->replica_source(), "origin");
  EXPECT_FALSE(cluster->FindPlugin("p")->enabled());
  std::vector<ExternalCluster> externals = cluster->external_clusters();
  ASSERT_EQ(externals.size(), 2u);
  EXPECT_FALSE(externals[0].plugin.has_value());
  std::optional<ExternalCluster> plain = cluster->FindExternalCluster("plain");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->index, 0u);
  EXPECT_EQ((*plain->json)["connectionParameters"]["host"], "h");
  EXPECT_EQ(cluster->FindExternalCluster("origin")->index, 1u);
  EXPECT_FALSE(cluster->FindExternalCluster("none").has_value());
  std::optional<PluginConfiguration> plugin = cluster->FindExternalClusterPlugin("origin");
  ASSERT_TRUE(plugin.has_value());
  EXPECT_EQ(plugin->index(), 1u);
  EXPECT_TRUE(plugin->enabled());
  ValidationErrors errors;
  plugin->parameters().RejectUnknown({"destination"}, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].path,
              ElementsAre("spec", "externalClusters", "1", "plugin", "parameters", "serverName"));
  EXPECT_FALSE(cluster->FindExternalClusterPlugin("plain").has_value());
  EXPECT_FALSE(cluster->FindExternalClusterPlugin("none").has_value());
}

TEST(ClusterBadInputTest, WrongTypesNameThePath) {
  struct Case {
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"kind":"Pod"})", "expected a Cluster"},
      {R"({"apiVersion":"v1","kind":"Cluster"})", "got kind \"Cluster\" with apiVersion \"v1\""},
      {R"({"spec":[]})", "Cluster spec: expected an object, got an array"},
      {R"({"spec":{"plugins":{}}})", "spec.plugins: expected an array"},
      {R"({"spec":{"plugins":[1]}})", "spec.plugins[0]: expected an object, got a number"},
      {R"({"spec":{"plugins":[{}]}})", "spec.plugins[0].name: missing plugin name"},
      {R"({"spec":{"plugins":[{"name":1}]}})", "spec.plugins[0].name: expected a string"},
      {R"({"spec":{"plugins":[{"name":"a","enabled":"yes"}]}})",
       "spec.plugins[0].enabled: expected a boolean, got a string"},
      {R"({"spec":{"plugins":[{"name":"a","parameters":{"x":1}}]}})",
       "spec.plugins[0].parameters.x: expected a string, got a number"},
      {R"({"spec":{"externalClusters":[{"name":"o","plugin":{"name":"p","isWALArchiver":1}}]}})",
       "spec.externalClusters[0].plugin.isWALArchiver: expected a boolean"},
      {R"({"spec":{"bootstrap":{"recovery":{"source":7}}}})",
       "spec.bootstrap.recovery.source: expected a string"},
      {R"({"status":{"pluginStatus":[{"name":"a","capabilities":[1]}]}})",
       "status.pluginStatus[0].capabilities[0]: expected a string"},
      {R"({"status":{"pluginStatus":[{"name":"a","status":{}}]}})",
       "status.pluginStatus[0].status: expected a string, got an object"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Cluster> cluster = Cluster::Parse(c.text);
    ASSERT_FALSE(cluster.ok()) << c.text;
    EXPECT_EQ(cluster.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(Message(cluster.status()), HasSubstr(c.expected)) << c.text;
  }
}

TEST(ClusterBadInputTest, FromObject) {
  EXPECT_TRUE(Cluster::FromObject(*Object::Parse("{}")).ok());
  EXPECT_FALSE(Cluster::FromObject(*Object::Parse(R"({"kind":"Pod"})")).ok());
  EXPECT_FALSE(Cluster::FromObject(*Object::Parse(R"({"spec":{"plugins":3}})")).ok());
}

TEST(ClusterBadInputTest, AccessorsSurviveBrokenEdits) {
  Cluster cluster = *Cluster::Parse(R"({"spec":{"plugins":[{"name":"a"}]}})");
  EditedValue(cluster, "/spec/plugins") = "broken";
  EXPECT_TRUE(cluster.plugins().empty());
  EXPECT_FALSE(cluster.FindPlugin("a").has_value());
  EXPECT_EQ(cluster.SetPluginParameter("a", "k", "v").code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cnpgi
