// RFC 6902 application with the operator's semantics, the fixtures, and
// metric matching.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cnpgi/json.h"
#include "cnpgi/testing/fixtures.h"
#include "cnpgi/testing/json_patch.h"
#include "cnpgi/testing/plugin_client.h"

namespace cnpgi::testing_test {
namespace {

namespace ct = ::cnpgi::test;
using ::testing::HasSubstr;
using Json = nlohmann::json;

Json Doc() { return Json::parse(R"({"a":{"b":1},"list":[1,2,3],"k/x":{"t~":0}})"); }

Json Apply(const std::string& patch) {
  auto result = ct::ApplyJsonPatch(Doc(), patch);
  EXPECT_TRUE(result.ok()) << patch << ": " << result.status();
  return result.ok() ? *result : Json();
}

std::string Error(const std::string& patch, const Json& doc = Doc()) {
  auto result = ct::ApplyJsonPatch(doc, patch);
  EXPECT_FALSE(result.ok()) << patch << " applied: " << (result.ok() ? result->dump() : "");
  return std::string(result.status().message());
}

TEST(ApplyJsonPatch, Operations) {
  EXPECT_EQ(Apply(""), Doc());
  EXPECT_EQ(Apply("[]"), Doc());
  // What a Go plugin answers for an empty list of operations; evanphx/json-patch
  // decodes it as a patch without operations.
  EXPECT_EQ(Apply("null"), Doc());
  EXPECT_EQ(Apply(" null\n"), Doc());
  EXPECT_EQ(Apply(R"([{"op":"add","path":"/a/c","value":2}])")["a"]["c"], 2);
  EXPECT_EQ(Apply(R"([{"op":"add","path":"/a/b","value":5}])")["a"]["b"], 5);
  EXPECT_EQ(Apply(R"([{"op":"add","path":"/list/-","value":4}])")["list"], Json({1, 2, 3, 4}));
  EXPECT_EQ(Apply(R"([{"op":"add","path":"/list/0","value":0}])")["list"], Json({0, 1, 2, 3}));
  EXPECT_EQ(Apply(R"([{"op":"add","path":"/list/3","value":4}])")["list"], Json({1, 2, 3, 4}));
  EXPECT_EQ(Apply(R"([{"op":"remove","path":"/list/-1"}])")["list"], Json({1, 2}));
  EXPECT_EQ(Apply(R"([{"op":"replace","path":"/k~1x/t~0","value":9}])")["k/x"]["t~"], 9);
  EXPECT_EQ(Apply(R"([{"op":"move","from":"/a/b","path":"/c"}])"),
            Json::parse(R"({"a":{},"list":[1,2,3],"k/x":{"t~":0},"c":1})"));
  EXPECT_EQ(Apply(R"([{"op":"copy","from":"/list","path":"/a/l"}])")["a"]["l"], Json({1, 2, 3}));
  EXPECT_EQ(Apply(R"([{"op":"test","path":"/a/b","value":1}])"), Doc());
  // evanphx/json-patch's readings (tests/go checks them against it).
  EXPECT_EQ(Apply(R"([{"op":"add","path":"/a/c"}])")["a"]["c"], Json());  // no value: null
  EXPECT_EQ(Apply(R"([{"op":"add","path":"/list/-1","value":4}])")["list"], Json({1, 2, 3, 4}));
  EXPECT_EQ(Apply(R"([{"op":"replace","path":"/list/01","value":0}])")["list"], Json({1, 0, 3}));
  EXPECT_EQ(Apply(R"([{"op":"add","path":"/a/x~2","value":0}])")["a"]["x~2"], 0);
}

TEST(ApplyJsonPatch, ErrorsNameTheOperationAndNeverCrash) {
  EXPECT_EQ(Error(R"([{"op":"add","path":"/x/y","value":1}])"),
            "patch operation 0 (add /x/y) does not apply: its parent does not exist: the "
            "document has no /x");
  EXPECT_THAT(Error(R"([{"op":"test","path":"/a/b","value":1},{"op":"remove","path":"/zz"}])"),
              HasSubstr("patch operation 1 (remove /zz) does not apply: the document has no /zz"));
  EXPECT_THAT(Error(R"([{"op":"replace","path":"/nope","value":1}])"),
              HasSubstr("the document has no /nope"));
  EXPECT_THAT(Error(R"([{"op":"add","path":"/list/9","value":1}])"),
              HasSubstr("index 9 is out of range (the array has 3 elements)"));
  EXPECT_THAT(Error(R"([{"op":"add","path":"/list/1x","value":1}])"),
              HasSubstr("\"1x\" is not an array index"));
  EXPECT_THAT(Error(R"([{"op":"add","path":"/a/b/c","value":1}])"),
              HasSubstr("its parent /a/b is a number"));
  EXPECT_THAT(Error(R"([{"op":"frob","path":"/a"}])"), HasSubstr("unknown op \"frob\""));
  EXPECT_THAT(Error(R"([{"path":"/a"}])"), HasSubstr("it has no \"op\""));
  EXPECT_THAT(Error(R"([{"op":"test","path":"/a"}])"), HasSubstr("it has no \"value\""));
  EXPECT_THAT(Error(R"([{"op":"test","path":"/list/0","value":1.0}])"),
              HasSubstr("test failed: the value is 1, written differently from 1.0"));
  EXPECT_THAT(Error(R"([{"op":"replace","path":"","value":[1]}])"),
              HasSubstr("its path is the whole document (\"\"), which evanphx/json-patch refuses"));
  EXPECT_THAT(Error(R"([{"op":"add","path":"a","value":1}])"),
              HasSubstr("\"a\" is not a JSON pointer"));
  EXPECT_THAT(Error(R"([{"op":"move","from":"/a","path":"/a/b/c"}])"),
              HasSubstr("moves a value into itself"));
  EXPECT_THAT(Error(R"([{"op":"test","path":"/a/b","value":2}])"),
              HasSubstr("test failed: the value is 1, not 2"));
  EXPECT_THAT(Error(R"([{"op":"remove","path":""}])"), HasSubstr("the whole document"));
  EXPECT_THAT(Error(R"({"op":"add"})"), HasSubstr("the patch is an object, not an array"));
  EXPECT_THAT(Error("[1]"), HasSubstr("patch operation 0 does not apply: it is a number"));
  EXPECT_THAT(Error("[{"), HasSubstr("the patch is not JSON"));
  EXPECT_THAT(Error(std::string(100000, '[')), HasSubstr("the patch is not JSON"));
}

TEST(PatchedObject, CountsOperations) {
  for (const char* none : {"", "null", "[]"}) {
    auto patched = ct::PatchedObject::Make(Doc(), none);
    ASSERT_TRUE(patched.ok()) << none << ": " << patched.status();
    EXPECT_FALSE(patched->has_operations()) << none;
    EXPECT_FALSE(patched->changed()) << none;
  }
  auto same = ct::PatchedObject::Make(Doc(), R"([{"op":"test","path":"/a/b","value":1}])");
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(same->has_operations());
  EXPECT_FALSE(same->changed());
}

// evanphx/json-patch v5 with default options, which the operator applies
// patches with, on the cases RFC 6902 leaves open or that it reads its own
// way (its patch.go: findObject, partialArray, test). The kit must accept
// exactly what the operator accepts.
TEST(ApplyJsonPatch, FollowsTheOperatorsLibraryOnEdgeCases) {
  const Json doc = Json::parse(R"({"a":{"b":1},"list":[1,2,3],"n":null,"s":"text"})");
  auto apply = [&](const std::string& patch) {
    auto result = ct::ApplyJsonPatch(doc, patch);
    EXPECT_TRUE(result.ok()) << patch << ": " << result.status();
    return result.ok() ? *result : Json();
  };
  auto error = [&](const std::string& patch) { return Error(patch, doc); };

  // `test` of null: passes for a null value and for a member missing from
  // an object that exists...
  EXPECT_EQ(apply(R"([{"op":"test","path":"/n","value":null}])"), doc);
  EXPECT_EQ(apply(R"([{"op":"test","path":"/a/missing","value":null}])"), doc);
  EXPECT_EQ(apply(R"([{"op":"test","path":"/missing","value":null}])"), doc);
  // ...but not where the parent is missing, null or not a container, nor
  // for an array element that does not exist.
  EXPECT_THAT(error(R"([{"op":"test","path":"/x/y","value":null}])"),
              HasSubstr("the document has no /x"));
  EXPECT_THAT(error(R"([{"op":"test","path":"/n/y","value":null}])"),
              HasSubstr("the document has no /n/y (/n is null)"));
  EXPECT_THAT(error(R"([{"op":"test","path":"/s/y","value":null}])"),
              HasSubstr("the document has no /s/y (/s is a string)"));
  EXPECT_THAT(error(R"([{"op":"test","path":"/list/9","value":null}])"),
              HasSubstr("index 9 is out of range"));
  EXPECT_THAT(error(R"([{"op":"test","path":"/list/-","value":null}])"),
              HasSubstr("\"-\" is not an array index"));
  // Null against a value, a value against null.
  EXPECT_THAT(error(R"([{"op":"test","path":"/a/b","value":null}])"), HasSubstr("test failed"));
  EXPECT_THAT(error(R"([{"op":"test","path":"/n","value":1}])"), HasSubstr("test failed"));

  // Negative indices count from the end. For `add` they address the
  // insertion points, of which there is one more than elements: -1 appends.
  EXPECT_EQ(apply(R"([{"op":"add","path":"/list/-1","value":9}])")["list"], Json({1, 2, 3, 9}));
  EXPECT_EQ(apply(R"([{"op":"add","path":"/list/-2","value":9}])")["list"], Json({1, 2, 9, 3}));
  EXPECT_EQ(apply(R"([{"op":"add","path":"/list/-4","value":9}])")["list"], Json({9, 1, 2, 3}));
  EXPECT_THAT(error(R"([{"op":"add","path":"/list/-5","value":9}])"),
              HasSubstr("index -5 is out of range"));
  // For the others they address elements: -1 is the last one.
  EXPECT_EQ(apply(R"([{"op":"remove","path":"/list/-3"}])")["list"], Json({2, 3}));
  EXPECT_THAT(error(R"([{"op":"remove","path":"/list/-4"}])"),
              HasSubstr("index -4 is out of range"));
  EXPECT_EQ(apply(R"([{"op":"replace","path":"/list/-1","value":9}])")["list"], Json({1, 2, 9}));
  EXPECT_EQ(apply(R"([{"op":"test","path":"/list/-3","value":1}])"), doc);
  EXPECT_EQ(apply(R"([{"op":"copy","from":"/list/-1","path":"/c"}])")["c"], 3);
  EXPECT_EQ(apply(R"([{"op":"move","from":"/list/-1","path":"/list/0"}])")["list"],
            Json({3, 1, 2}));

  // A null parent has no members, whatever the operation.
  EXPECT_THAT(error(R"([{"op":"add","path":"/n/x","value":1}])"),
              HasSubstr("its parent /n is null"));
  EXPECT_THAT(error(R"([{"op":"remove","path":"/n/x"}])"), HasSubstr("/n is null"));
  EXPECT_THAT(error(R"([{"op":"replace","path":"/n/x","value":1}])"), HasSubstr("/n is null"));

  // Indices are read as Go's strconv.Atoi reads them: a sign is allowed,
  // leading zeros too.
  EXPECT_EQ(apply(R"([{"op":"add","path":"/list/01","value":9}])")["list"], Json({1, 9, 2, 3}));
  EXPECT_EQ(apply(R"([{"op":"remove","path":"/list/+0"}])")["list"], Json({2, 3}));
  EXPECT_EQ(apply(R"([{"op":"remove","path":"/list/-0"}])")["list"], Json({2, 3}));
  EXPECT_EQ(apply(R"([{"op":"replace","path":"/list/00000000000000000000002","value":9}])")["list"],
            Json({1, 2, 9}));
  EXPECT_THAT(error(R"([{"op":"remove","path":"/list/1x"}])"), HasSubstr("not an array index"));
  EXPECT_THAT(error(R"([{"op":"remove","path":"/list/+"}])"), HasSubstr("not an array index"));
  EXPECT_THAT(error(R"([{"op":"remove","path":"/list/ 1"}])"), HasSubstr("not an array index"));
  EXPECT_THAT(error(R"([{"op":"remove","path":"/list/99999999999999999999"}])"),
              HasSubstr("not an array index"));
}

TEST(DescribeJsonDifference, NamesTheFirstDifference) {
  EXPECT_EQ(ct::DescribeJsonDifference(Doc(), Doc()), "");
  Json other = Doc();
  other["a"]["b"] = 2;
  EXPECT_EQ(ct::DescribeJsonDifference(Doc(), other), "/a/b: 1, then 2");
  other = Doc();
  other["list"].push_back("x");
  EXPECT_EQ(ct::DescribeJsonDifference(Doc(), other), "/list: 3 elements, then 4 (added \"x\")");
  other = Doc();
  other.erase("a");
  EXPECT_EQ(ct::DescribeJsonDifference(Doc(), other), "/a: {\"b\":1}, then absent");
  EXPECT_EQ(ct::DescribeJsonDifference(Json(1), Json("1")), "(root): 1, then \"1\"");
}

TEST(PatchedObject, AccessorsReadTheResult) {
  const Json pod = Json::parse(ct::Fixtures::SamplePodJson());
  auto patched =
      ct::PatchedObject::Make(pod, R"([{"op":"add","path":"/metadata/labels/x","value":"y"}])");
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ(patched->label("x"), "y");
  EXPECT_EQ(patched->label("missing"), std::nullopt);
  EXPECT_NE(patched->FindContainer("postgres"), nullptr);
  EXPECT_NE(patched->FindInitContainer("bootstrap-controller"), nullptr);
  EXPECT_EQ(patched->FindContainer("bootstrap-controller"), nullptr);
  EXPECT_EQ(patched->At("/kind"), "Pod");
  EXPECT_EQ(patched->DescribeChange(), "/metadata/labels/x: absent, then \"y\"");
  EXPECT_THAT(::testing::PrintToString(*patched), HasSubstr("v1 Pod, patch [{"));
  EXPECT_FALSE(ct::PatchedObject::Make(pod, "[{").ok());
}

TEST(Fixtures, SamplesParseAndBelongTogether) {
  const Json cluster = Json::parse(ct::Fixtures::SampleClusterJson());
  const Json pod = Json::parse(ct::Fixtures::SamplePodJson());
  const Json job = Json::parse(ct::Fixtures::SampleJobJson());
  const Json backup = Json::parse(ct::Fixtures::SampleBackupJson());
  EXPECT_EQ(cluster["kind"], "Cluster");
  EXPECT_EQ(pod["metadata"]["labels"]["cnpg.io/cluster"], cluster["metadata"]["name"]);
  EXPECT_EQ(job["kind"], "Job");
  EXPECT_EQ(backup["spec"]["cluster"]["name"], cluster["metadata"]["name"]);
  EXPECT_EQ(ct::Fixtures().cluster(), cluster);
}

TEST(Fixtures, ConfiguredForAPlugin) {
  ct::Fixtures fixtures("example.cnpgi.io", {{"bucket", "b1"}});
  fixtures.WithVersion("2.0.0").WithCapabilities({"TYPE_WAL_SERVICE"}, {}, {"TYPE_ARCHIVE_WAL"});
  const Json cluster = fixtures.cluster();
  const Json& entry = cluster["spec"]["plugins"].back();
  EXPECT_EQ(entry["name"], "example.cnpgi.io");
  EXPECT_EQ(entry["enabled"], true);
  EXPECT_EQ(entry["parameters"], Json({{"bucket", "b1"}}));
  const Json& status = cluster["status"]["pluginStatus"].back();
  EXPECT_EQ(status["version"], "2.0.0");
  EXPECT_EQ(status["walCapabilities"], Json({"TYPE_ARCHIVE_WAL"}));
  EXPECT_FALSE(status.contains("operatorCapabilities"));
  EXPECT_EQ(fixtures.backup()["spec"]["pluginConfiguration"]["name"], "example.cnpgi.io");
  const Json recovery = fixtures.recovery_cluster();
  EXPECT_EQ(recovery["spec"]["bootstrap"]["recovery"]["source"], "origin");
  EXPECT_EQ(recovery["spec"]["externalClusters"].back()["plugin"]["name"], "example.cnpgi.io");

  // A name the sample already lists keeps its entry (no duplicate).
  const Json barman = ct::Fixtures("barman-cloud.cloudnative-pg.io").cluster();
  int entries = 0;
  for (const auto& p : barman["spec"]["plugins"])
    entries += p["name"] == "barman-cloud.cloudnative-pg.io";
  EXPECT_EQ(entries, 1);

  const Json deployment = fixtures.object("apps", "Deployment");
  EXPECT_EQ(deployment["apiVersion"], "apps/v1");
  EXPECT_EQ(deployment["metadata"]["name"], "pg-orders-deployment");
  EXPECT_EQ(fixtures.object("", "Pod"), fixtures.pod());

  const auto config = fixtures.postgres_configuration();
  for (const std::string& key : ct::Fixtures::MandatoryPostgresParameters()) {
    EXPECT_EQ(config.count(key), 1u) << key;
  }
}

TEST(MatchMetrics, AgreesLikeTheExporter) {
  metrics::v1::DefineMetricsResult defined;
  auto* m = defined.add_metrics();
  m->set_fq_name("x_total");
  m->add_variable_labels("a");
  (*m->mutable_const_labels())["c"] = "1";
  m->mutable_value_type()->set_type(metrics::v1::MetricType::TYPE_COUNTER);
  metrics::v1::CollectMetricsResult collected;
  auto* s = collected.add_metrics();
  s->set_fq_name("x_total");
  s->add_variable_labels("va");
  s->set_value(2);
  auto matched = ct::MatchMetrics(defined, collected);
  ASSERT_TRUE(matched.ok()) << matched.status();
  EXPECT_EQ((*matched)[0].labels, (std::map<std::string, std::string>{{"a", "va"}, {"c", "1"}}));

  m->set_fq_name("9bad");
  m->add_variable_labels("a");
  EXPECT_THAT(std::string(ct::MatchMetrics(defined, collected).status().message()),
              ::testing::AllOf(HasSubstr("\"9bad\" is not a valid Prometheus name"),
                               HasSubstr("label \"a\" is listed twice"),
                               HasSubstr("collected sample 0 \"x_total\" has no definition")));
}

}  // namespace
}  // namespace cnpgi::testing_test
