// Tests of the helpers that build RPC answers: SetStatusInCluster,
// EnrichConfiguration, metrics, validation errors, error statuses.
#include <cmath>
#include <string>

#include <cnpgi/identity/v1/postgres.pb.h>
#include <cnpgi/metrics/v1/metrics.pb.h>
#include <cnpgi/operator/v1/operator.pb.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cnpgi/cluster.h"
#include "cnpgi/cluster_status.h"
#include "cnpgi/errors.h"
#include "cnpgi/metrics.h"
#include "cnpgi/postgres_configuration.h"
#include "cnpgi/validation.h"
#include "test_data.h"

namespace cnpgi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using Json = nlohmann::json;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(ClusterStatusTest, ObjectOrNothing) {
  EXPECT_EQ(*EncodeClusterStatus(std::nullopt), "");
  EXPECT_EQ(*EncodeClusterStatus(Json::parse(R"({"enabled":true,"n":1})")),
            R"({"enabled":true,"n":1})");
  EXPECT_EQ(*EncodeClusterStatus(Json::object()), "{}");
  for (const Json& bad : {Json::array(), Json("x"), Json(nullptr), Json(1)}) {
    absl::StatusOr<std::string> encoded = EncodeClusterStatus(bad);
    ASSERT_FALSE(encoded.ok()) << bad;
    EXPECT_EQ(encoded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(Message(encoded.status()), HasSubstr("must be a JSON object, got"));
  }
  EXPECT_THAT(Message(EncodeClusterStatus(Json({{"a", std::nan("")}})).status()),
              HasSubstr("at a"));
}

TEST(ClusterStatusTest, FillsTheResponse) {
  operator_::v1::SetStatusInClusterResponse response;
  ASSERT_TRUE(SetClusterStatus(Json({{"enabled", true}}), response).ok());
  EXPECT_EQ(response.json_status(), R"({"enabled":true})");
  ASSERT_TRUE(SetClusterStatus(std::nullopt, response).ok());
  EXPECT_EQ(response.json_status(), "");
  response.set_json_status("stale");
  EXPECT_FALSE(SetClusterStatus(Json::array(), response).ok());
  EXPECT_EQ(response.json_status(), "");
}

TEST(ClusterStatusTest, ReadsBackTheFixtureStatus) {
  Cluster cluster = *Cluster::Parse(test::ReadTestData("cluster.json"));
  absl::StatusOr<std::optional<Json>> status =
      ParseClusterStatus(cluster.FindPluginStatus("barman-cloud.cloudnative-pg.io")->status);
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_TRUE(status->has_value());
  EXPECT_EQ((**status)["lastArchivedWAL"], "000000010000000A000000C3");
  EXPECT_FALSE(ParseClusterStatus("")->has_value());
  EXPECT_THAT(Message(ParseClusterStatus("[1]").status()), HasSubstr("got an array"));
  EXPECT_THAT(Message(ParseClusterStatus("{").status()), HasSubstr("invalid JSON"));
}

TEST(PostgresConfigurationTest, CompleteMapOrNothing) {
  identity::v1::EnrichConfigurationRequest request;
  auto& sent = *request.mutable_configs();
  sent["max_connections"] = "100";
  sent["archive_command"] = "/controller/manager wal-archive %p";
  sent["shared_buffers"] = "256MB";

  PostgresConfiguration config(request);
  EXPECT_EQ(config.Get("max_connections"), "100");
  EXPECT_EQ(config.Get("absent"), std::nullopt);
  identity::v1::EnrichConfigurationResult result;
  (*result.mutable_configs())["stale"] = "x";
  config.WriteTo(result);
  EXPECT_TRUE(result.configs().empty());  // unchanged: no answer

  config.Set("max_connections", "100");  // same value: still unchanged
  config.Remove("absent");
  EXPECT_FALSE(config.changed());

  config.Set("archive_timeout", "60s");
  config.Set("max_connections", "200");
  config.Remove("shared_buffers");
  EXPECT_TRUE(config.changed());
  EXPECT_EQ(config.Get("shared_buffers"), std::nullopt);
  EXPECT_EQ(config.Get("archive_timeout"), "60s");
  config.WriteTo(result);
  std::map<std::string, std::string> answer(result.configs().begin(), result.configs().end());
  EXPECT_THAT(answer, ElementsAre(Pair("archive_command", "/controller/manager wal-archive %p"),
                                  Pair("archive_timeout", "60s"), Pair("max_connections", "200")));
  EXPECT_EQ(config.Result().size(), 3u);
  EXPECT_EQ(sent.size(), 3u);  // the request is untouched
}

TEST(PostgresConfigurationTest, RemovalAloneIsAChange) {
  google::protobuf::Map<std::string, std::string> sent;
  sent["a"] = "1";
  PostgresConfiguration config(sent);
  config.Remove("a");
  EXPECT_TRUE(config.changed());
  identity::v1::EnrichConfigurationResult result;
  config.WriteTo(result);
  // An empty map reads as "no change" to the operator; that is the one
  // answer that cannot express "remove everything".
  EXPECT_TRUE(result.configs().empty());
}

TEST(MetricsTest, DefineAndCollectFromOneDeclaration) {
  MetricRegistry registry;
  absl::StatusOr<Metric> archived = registry.Add({.name = "example_wal_archived_total",
                                                  .help = "WAL segments archived",
                                                  .type = MetricType::kCounter,
                                                  .label_names = {"destination"},
                                                  .const_labels = {{"plugin", "example"}}});
  ASSERT_TRUE(archived.ok()) << archived.status();
  absl::StatusOr<Metric> lag = registry.Add({.name = "example_lag_seconds", .help = "Lag"});
  ASSERT_TRUE(lag.ok());

  metrics::v1::DefineMetricsResult define;
  registry.Define(define);
  ASSERT_EQ(define.metrics_size(), 2);
  EXPECT_EQ(define.metrics(0).fq_name(), "example_wal_archived_total");
  EXPECT_EQ(define.metrics(0).help(), "WAL segments archived");
  EXPECT_THAT(define.metrics(0).variable_labels(), ElementsAre("destination"));
  EXPECT_THAT(define.metrics(0).const_labels(), UnorderedElementsAre(Pair("plugin", "example")));
  EXPECT_TRUE(define.metrics(0).has_value_type());
  EXPECT_EQ(define.metrics(0).value_type().type(), metrics::v1::MetricType::TYPE_COUNTER);
  EXPECT_EQ(define.metrics(1).value_type().type(), metrics::v1::MetricType::TYPE_GAUGE);

  metrics::v1::CollectMetricsResult collect;
  ASSERT_TRUE(archived->Collect(collect, 42, {"s3"}).ok());
  ASSERT_TRUE(lag->Collect(collect, 1.5).ok());
  ASSERT_TRUE(archived->Collect(collect, 7, std::vector<std::string>{"gcs"}).ok());
  ASSERT_EQ(collect.metrics_size(), 3);
  EXPECT_EQ(collect.metrics(0).fq_name(), "example_wal_archived_total");
  EXPECT_EQ(collect.metrics(0).value(), 42);
  EXPECT_THAT(collect.metrics(0).variable_labels(), ElementsAre("s3"));
  EXPECT_TRUE(registry.Check(collect).ok());

  absl::Status mismatch = archived->Collect(collect, 1, {"a", "b"});
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(mismatch), HasSubstr("example_wal_archived_total takes 1 label values "
                                           "[destination], got 2"));
  EXPECT_FALSE(lag->Collect(collect, 1, {"x"}).ok());
  EXPECT_FALSE(archived->Collect(collect, 1, {"\xFF"}).ok());
  EXPECT_EQ(collect.metrics_size(), 3);  // nothing appended on error

  collect.add_metrics()->set_fq_name("unknown_metric");
  EXPECT_THAT(Message(registry.Check(collect)), HasSubstr("\"unknown_metric\", which is not"));
  collect.mutable_metrics()->RemoveLast();
  auto* wrong = collect.add_metrics();
  wrong->set_fq_name("example_wal_archived_total");
  EXPECT_THAT(Message(registry.Check(collect)), HasSubstr("has 0 label values"));
}

TEST(MetricsTest, DeclarationErrors) {
  MetricRegistry registry;
  ASSERT_TRUE(registry.Add({.name = "ok_metric"}).ok());
  EXPECT_EQ(registry.Add({.name = "ok_metric"}).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(Message(registry.Add({.name = "9bad"}).status()), HasSubstr("invalid metric name"));
  EXPECT_FALSE(registry.Add({.name = ""}).ok());
  EXPECT_FALSE(registry.Add({.name = "bad-name"}).ok());
  EXPECT_TRUE(registry.Add({.name = "ns:colon_ok"}).ok());
  EXPECT_THAT(Message(registry.Add({.name = "m1", .label_names = {"a", "a"}}).status()),
              HasSubstr("label a is declared twice"));
  EXPECT_FALSE(registry.Add({.name = "m2", .label_names = {"a:b"}}).ok());
  EXPECT_FALSE(registry.Add({.name = "m3", .label_names = {"__reserved"}}).ok());
  EXPECT_FALSE(
      registry.Add({.name = "m4", .label_names = {"a"}, .const_labels = {{"a", "x"}}}).ok());
  EXPECT_FALSE(registry.Add({.name = "m5", .help = "\xFF"}).ok());
  EXPECT_EQ(registry.size(), 2u);
}

TEST(ValidationTest, ToProto) {
  ValidationErrors errors;
  errors.Add({"spec", "plugins", "0", "parameters", "labels"}, "{", "invalid JSON");
  errors.Add({}, "", "whole object");
  operator_::v1::OperatorValidateClusterCreateResult create;
  errors.AppendTo(create);
  ASSERT_EQ(create.validation_errors_size(), 2);
  EXPECT_THAT(create.validation_errors(0).path_components(),
              ElementsAre("spec", "plugins", "0", "parameters", "labels"));
  EXPECT_EQ(create.validation_errors(0).value(), "{");
  EXPECT_EQ(create.validation_errors(0).message(), "invalid JSON");
  // Never an empty path: the operator indexes its first element.
  EXPECT_THAT(create.validation_errors(1).path_components(), ElementsAre("<root>"));
  operator_::v1::OperatorValidateClusterChangeResult change;
  errors.AppendTo(change);
  EXPECT_EQ(change.validation_errors_size(), 2);
  EXPECT_EQ(errors[0].PathString(), "spec.plugins[0].parameters.labels");
}

TEST(ErrorsTest, CodesAndMessages) {
  const ValidationError error{{"spec", "plugins", "1", "parameters", "retention"}, "7x", "bad"};
  absl::Status invalid = InvalidParameterError(error);
  EXPECT_EQ(invalid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(invalid), "invalid parameter spec.plugins[1].parameters.retention=\"7x\": bad");
  EXPECT_EQ(InvalidParameterError("destination", "", "required").code(),
            absl::StatusCode::kInvalidArgument);

  Object job = *Object::Parse(R"({"kind":"Job","metadata":{"name":"pg1-initdb"}})");
  absl::Status kind = WrongKindError("Pod", job);
  EXPECT_EQ(kind.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(kind), "expected a Pod, got a Job named pg1-initdb");

  absl::Status missing = WalNotFoundError("000000010000000A000000C3", "s3://bucket/wals");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Message(missing), "WAL file 000000010000000A000000C3 not found in s3://bucket/wals");

  absl::Status unavailable = BackendUnavailableError("object store s3://bucket", "timeout");
  EXPECT_EQ(unavailable.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Message(unavailable), "object store s3://bucket unavailable: timeout");
}

// Errors echo the offending value; a value of megabytes must not make an
// answer of megabytes (a 3 MiB label value made a 6 MB answer the operator
// could not receive, replaced by RESOURCE_EXHAUSTED).
TEST(ErrorsTest, QuotedValuesAreEscapedAndCutWithTheirLength) {
  EXPECT_EQ(QuoteValue("7x"), R"("7x")");
  EXPECT_EQ(QuoteValue(""), R"("")");
  EXPECT_EQ(QuoteValue("a\"b\\c\n\x7f"), R"("a\"b\\c\x0a\x7f")");
  EXPECT_EQ(QuoteValue("\xff\xc3\xa9"), "\"\\xff\xc3\xa9\"");  // invalid byte, then é
  EXPECT_EQ(QuoteValue(std::string(3u << 20, 'v')),
            "\"" + std::string(64, 'v') + "...(3145728 bytes)\"");
  EXPECT_EQ(QuoteValue("abcdef", 3), R"x("abc...(6 bytes)")x");
  // Never cut inside a character: "é" is two bytes.
  EXPECT_EQ(QuoteValue("a\xc3\xa9z", 2), "\"a...(4 bytes)\"");
  const std::string huge(3u << 20, '{');
  EXPECT_LT(Message(InvalidParameterError("labels", huge, "not JSON")).size(), 200u);
}

TEST(ValidationTest, LongValuesAndMessagesAreCutSoThatTheAnswerFits) {
  const std::string value(3u << 20, 'v');
  ValidationErrors errors;
  errors.Add({"spec", "plugins", "0", "parameters", "labels"}, value, "bad: " + value);
  operator_::v1::OperatorValidateClusterCreateResult create;
  errors.AppendTo(create);
  ASSERT_EQ(create.validation_errors_size(), 1);
  const auto& sent = create.validation_errors(0);
  EXPECT_LE(sent.value().size(), ValidationError::kMaxValueBytes + 32);
  EXPECT_THAT(sent.value(), ::testing::EndsWith("...(3145728 bytes)"));
  EXPECT_LE(sent.message().size(), ValidationError::kMaxMessageBytes + 32);
  EXPECT_THAT(sent.message(), ::testing::StartsWith("bad: vvv"));
  EXPECT_THAT(sent.message(), ::testing::EndsWith("...(3145733 bytes)"));
  EXPECT_LT(create.ByteSizeLong(), 8192u);
  EXPECT_LE(Message(errors.ToStatus()).size(), ValidationError::kMaxMessageBytes + 100);
}

}  // namespace
}  // namespace cnpgi
