#include "cnpgi/pod.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cnpgi/backup.h"
#include "cnpgi/sidecar.h"
#include "test_data.h"

namespace cnpgi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// Applies a patch the way the operator does (RFC 6902 on the bytes sent).
std::string Apply(const std::string& text, const std::string& patch) {
  if (patch.empty()) return text;
  return Json::parse(text).patch(Json::parse(patch)).dump();
}

SidecarOptions ExampleSidecar() {
  SidecarOptions options;
  options.container = Json::parse(R"({"name":"plugin-example","image":"example/sidecar:1.0",
                                      "args":["instance"],
                                      "env":[{"name":"NAMESPACE","value":"mine"}]})");
  options.copy_env = true;
  options.copy_volume_mounts = true;
  options.startup_probe = Json::parse(R"({"exec":{"command":["/healthcheck"]}})");
  return options;
}

TEST(PodTest, Views) {
  absl::StatusOr<Pod> pod = Pod::ParseStrict(test::ReadTestData("pod.json"));
  ASSERT_TRUE(pod.ok()) << pod.status();
  PodSpecView spec = pod->spec();
  EXPECT_THAT(spec.container_names(), ElementsAre("postgres"));
  EXPECT_THAT(spec.init_container_names(),
              ElementsAre("bootstrap-controller", "plugin-barman-cloud"));
  ASSERT_NE(spec.FindContainer("postgres"), nullptr);
  EXPECT_EQ((*spec.FindContainer("postgres"))["name"], "postgres");
  EXPECT_NE(spec.FindVolume("pgdata"), nullptr);
  EXPECT_EQ(spec.FindVolume("nope"), nullptr);
  EXPECT_EQ(spec.FindInitContainer("postgres"), nullptr);
  EXPECT_EQ(spec.volumes().size(), 6u);
  EXPECT_FALSE(Pod::Parse(test::ReadTestData("job.json")).ok());
}

TEST(PodTest, BadShapesNameThePath) {
  struct Case {
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"kind":"Pod","spec":{"containers":{}}})", "spec.containers: expected an array"},
      {R"({"kind":"Pod","spec":{"containers":[[]]}})", "spec.containers[0]: expected an object"},
      {R"({"kind":"Pod","spec":{"initContainers":[{"name":3}]}})",
       "spec.initContainers[0].name: expected a string"},
      {R"({"kind":"Pod","spec":{"containers":[{"name":"a","env":[1]}]}})",
       "spec.containers[0].env[0]: expected an object"},
      {R"({"kind":"Pod","spec":{"containers":[{"name":"a","volumeMounts":[{"mountPath":1}]}]}})",
       "spec.containers[0].volumeMounts[0].mountPath: expected a string"},
      {R"({"kind":"Pod","spec":{"volumes":"x"}})", "spec.volumes: expected an array"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Pod> pod = Pod::Parse(c.text);
    ASSERT_FALSE(pod.ok()) << c.text;
    EXPECT_THAT(Message(pod.status()), HasSubstr(c.expected)) << c.text;
  }
  absl::StatusOr<Job> job = Job::Parse(R"({"kind":"Job","spec":{"template":[]}})");
  EXPECT_THAT(Message(job.status()), HasSubstr("spec.template: expected an object"));
  job = Job::Parse(R"({"kind":"Job","spec":{"template":{"spec":{"containers":5}}}})");
  EXPECT_THAT(Message(job.status()), HasSubstr("spec.template.spec.containers: expected an array"));
}

TEST(JobTest, Views) {
  absl::StatusOr<Job> job = Job::Parse(test::ReadTestData("job.json"));
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->job_role(), "full-recovery");
  EXPECT_THAT(job->pod_spec().container_names(), ElementsAre("full-recovery"));
  EXPECT_TRUE(Job::FromObject(*Object::Parse(test::ReadTestData("job.json"))).ok());
  EXPECT_FALSE(Job::FromObject(*Object::Parse(R"({"kind":"Pod"})")).ok());
}

TEST(SidecarTest, InjectsIntoTheFixturePod) {
  const std::string text = test::ReadTestData("pod.json");
  Object pod = *Object::Parse(text);
  ASSERT_TRUE(InjectSidecar(pod, ExampleSidecar()).ok());
  // The plugins volume and mount are there already: one operation.
  const Json patch = Json::parse(*pod.Patch());
  ASSERT_EQ(patch.size(), 1u) << patch;
  EXPECT_EQ(patch[0]["op"], "add");
  EXPECT_EQ(patch[0]["path"], "/spec/initContainers/2");
  const Json& sidecar = patch[0]["value"];
  EXPECT_EQ(sidecar["restartPolicy"], "Always");
  EXPECT_EQ(sidecar["startupProbe"]["exec"]["command"][0], "/healthcheck");
  // Its own env first and kept; then the main container's.
  EXPECT_EQ(sidecar["env"][0], Json::parse(R"({"name":"NAMESPACE","value":"mine"})"));
  EXPECT_EQ(sidecar["env"][1]["name"], "PGDATA");
  const Json sent = Json::parse(text);
  const Json& main_env = sent["spec"]["containers"][0]["env"];
  EXPECT_EQ(sidecar["env"].size(), main_env.size());  // NAMESPACE not duplicated
  // All of the main container's mounts, /plugins included once.
  const Json& main_mounts = sent["spec"]["containers"][0]["volumeMounts"];
  EXPECT_EQ(sidecar["volumeMounts"], main_mounts);
  EXPECT_EQ(Json::parse(Apply(text, *pod.Patch())), pod.json());
}

TEST(SidecarTest, AlreadyInjectedPodIsLeftAlone) {
  const std::string text = test::ReadTestData("pod.json");
  Object pod = *Object::Parse(text);
  SidecarOptions barman;
  barman.container = {{"name", "plugin-barman-cloud"}, {"image", "other:2"}};
  ASSERT_TRUE(InjectSidecar(pod, barman).ok());
  EXPECT_EQ(*pod.Patch(), "");
}

TEST(SidecarTest, IdempotentAndDeterministicOnABarePod) {
  // The fixture without any plugin: no sidecar, no volume, no mount.
  Json bare = Json::parse(test::ReadTestData("pod.json"));
  bare["spec"]["initContainers"].erase(1);
  auto& volumes = bare["spec"]["volumes"];
  volumes.erase(4);
  ASSERT_EQ(volumes.size(), 5u);
  auto& mounts = bare["spec"]["containers"][0]["volumeMounts"];
  mounts.erase(mounts.size() - 1);
  const std::string text = bare.dump();

  Object first = *Object::Parse(text);
  ASSERT_TRUE(InjectSidecar(first, ExampleSidecar()).ok());
  const std::string patch = *first.Patch();
  const Json operations = Json::parse(patch);
  ASSERT_EQ(operations.size(), 3u) << operations;
  EXPECT_EQ(operations[0], Json::parse(R"({"op":"add","path":"/spec/volumes/5",
                                           "value":{"name":"plugins","emptyDir":{}}})"));
  EXPECT_EQ(operations[1], Json::parse(R"({"op":"add",
      "path":"/spec/containers/0/volumeMounts/6",
      "value":{"name":"plugins","mountPath":"/plugins"}})"));
  EXPECT_EQ(operations[2]["path"], "/spec/initContainers/1");

  // EVALUATE twice on the same input: the same answer.
  Object again = *Object::Parse(text);
  ASSERT_TRUE(InjectSidecar(again, ExampleSidecar()).ok());
  EXPECT_EQ(*again.Patch(), patch);

  // CREATE receives the EVALUATE result: nothing more to do.
  Object injected = *Object::Parse(Apply(text, patch));
  ASSERT_TRUE(InjectSidecar(injected, ExampleSidecar()).ok());
  EXPECT_EQ(*injected.Patch(), "");
}

TEST(SidecarTest, JobMainContainerFromTheJobRole) {
  const std::string text = test::ReadTestData("job.json");
  Object job = *Object::Parse(text);
  SidecarOptions options = ExampleSidecar();
  options.startup_probe.reset();
  ASSERT_TRUE(InjectSidecar(job, options).ok());
  const std::string patch = *job.Patch();
  const Json operations = Json::parse(patch);
  ASSERT_EQ(operations.size(), 3u) << operations;
  EXPECT_EQ(operations[0]["path"], "/spec/template/spec/volumes/3");
  EXPECT_EQ(operations[1]["path"], "/spec/template/spec/containers/0/volumeMounts/4");
  EXPECT_EQ(operations[2]["path"], "/spec/template/spec/initContainers/1");
  EXPECT_FALSE(operations[2]["value"].contains("startupProbe"));
  Object injected = *Object::Parse(Apply(text, patch));
  ASSERT_TRUE(InjectSidecar(injected, options).ok());
  EXPECT_EQ(*injected.Patch(), "");
}

TEST(SidecarTest, MissingInitContainersListIsCreated) {
  const std::string text =
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
          "spec":{"containers":[{"name":"postgres"}]}})";
  Object pod = *Object::Parse(text);
  SidecarOptions options;
  options.container = {{"name", "side"}};
  ASSERT_TRUE(InjectSidecar(pod, options).ok());
  const std::string patch = *pod.Patch();
  EXPECT_EQ(Json::parse(Apply(text, patch)), pod.json());
  EXPECT_EQ(pod.json()["spec"]["initContainers"][0],
            Json::parse(R"({"name":"side","restartPolicy":"Always",
                            "volumeMounts":[{"name":"plugins","mountPath":"/plugins"}]})"));
}

TEST(SidecarTest, Errors) {
  Object pod = *Object::Parse(test::ReadTestData("pod.json"));
  SidecarOptions options;
  EXPECT_EQ(InjectSidecar(pod, options).code(), absl::StatusCode::kInvalidArgument);
  options.container = {{"name", ""}};
  EXPECT_EQ(InjectSidecar(pod, options).code(), absl::StatusCode::kInvalidArgument);
  options.container = {{"name", "side"}};
  options.startup_probe = "not a probe";
  EXPECT_THAT(Message(InjectSidecar(pod, options)), HasSubstr("startup_probe"));
  options.startup_probe.reset();
  options.main_container = "initdb";
  absl::Status status = InjectSidecar(pod, options);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(status), HasSubstr("Pod payments/pg-orders-1: it has no container named "
                                         "initdb (containers: postgres)"));
  EXPECT_EQ(*pod.Patch(), "");

  Object service = *Object::Parse(R"({"apiVersion":"v1","kind":"Service",
                                      "metadata":{"name":"pg-rw"}})");
  options.main_container.clear();
  EXPECT_THAT(Message(InjectSidecar(service, options)),
              HasSubstr("expected an object with a pod spec (Pod, Job, ...), got a Service named "
                        "pg-rw"));

  Object job = *Object::Parse(R"({"kind":"Job","spec":{"template":{"spec":{"containers":[
                                  {"name":"a"},{"name":"b"}]}}}})");
  EXPECT_THAT(Message(InjectSidecar(job, options)),
              HasSubstr("cannot tell its main container, set SidecarOptions::main_container "
                        "(containers: a, b)"));
  options.main_container = "b";
  EXPECT_TRUE(InjectSidecar(job, options).ok());

  Object broken = *Object::Parse(R"({"kind":"Pod","spec":{"containers":[{"name":"postgres",
                                     "volumeMounts":{}}]}})");
  EXPECT_THAT(Message(InjectSidecar(broken, options)),
              HasSubstr("spec.containers[0].volumeMounts: expected an array"));
}

TEST(BackupTest, Views) {
  absl::StatusOr<Backup> backup = Backup::ParseStrict(test::ReadTestData("backup.json"));
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_EQ(backup->cluster_name(), "pg-orders");
  EXPECT_EQ(backup->method(), "plugin");
  EXPECT_EQ(backup->target(), "prefer-standby");
  std::optional<PluginConfiguration> plugin = backup->plugin_configuration();
  ASSERT_TRUE(plugin.has_value());
  EXPECT_EQ(plugin->name(), "cnpgi-directory-archiver.example.com");
  ValidationErrors errors;
  EXPECT_EQ(plugin->parameters().GetString("compression", errors, {.one_of = {"gzip", "zstd"}}),
            "gzip");
  EXPECT_EQ(plugin->parameters().GetInt("destination", errors), std::nullopt);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].PathString(), "spec.pluginConfiguration.parameters.destination");
  EXPECT_FALSE(Backup::Parse(test::ReadTestData("cluster.json")).ok());
  EXPECT_FALSE(Backup::Parse(R"({"spec":{"pluginConfiguration":{"parameters":[]}}})").ok());
  EXPECT_FALSE(Backup::Parse(R"({"spec":{"cluster":{"name":1}}})").ok());
  EXPECT_FALSE(Backup::Parse(R"({})")->plugin_configuration().has_value());
  EXPECT_TRUE(Backup::FromObject(*Object::Parse(R"({"kind":"Backup"})")).ok());
}

}  // namespace
}  // namespace cnpgi
