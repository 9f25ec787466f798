// --record-dir through a real server on a real Unix socket: one file per
// call, in call order, with the Kubernetes objects expanded, secrets
// redacted; and the errors for a directory that cannot be used.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cnpgi/plugin_server.h"
#include "cnpgi/testing/fixtures.h"
#include "cnpgi/testing/plugin_client.h"
#include "conformance/good_plugin.h"
#include "server/server_fixture.h"
#include "support/temp_dir.h"

namespace cnpgi {
namespace {

using conformance_test::kGoodPluginName;
using conformance_test::MakeGoodPlugin;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::TempDir;
using testing_support::UnixServer;

std::vector<std::filesystem::path> RecordedFiles(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Secrets as the operator sends them, in realistic places; every one must
// be gone from the disk.
constexpr const char* kSecrets[] = {
    "hunter2-parameter",         // a parameter the plugin declares secret
    "s3cr3t-access-key",         // AWS_SECRET_ACCESS_KEY in a container's env
    "pgpass-in-env",             // PGPASSWORD in an init container's env
    "MIIEvQIBADANBgkqhkiG9w0B",  // a private key's body, in an annotation
    "url-pass-word",             // postgres://app:...@host in an annotation
    "kv-pass-word",              // password=... in a libpq connection string
    "token-in-parameter",        // a parameter whose name says token
};
// What must survive redaction next to them.
constexpr const char* kKept[] = {"pg-orders",
                                 "payments",
                                 "AWS_SECRET_ACCESS_KEY",
                                 "PGPASSWORD",
                                 "@pg-orders-rw:5432",
                                 "host=pg-rw",
                                 "-----BEGIN PRIVATE KEY-----",
                                 "backup-creds",
                                 "password_encryption",
                                 "scram-sha-256",
                                 "topologyKey",
                                 "pg-orders-ca"};

json SecretLadenPod() {
  json pod = test::Fixtures(kGoodPluginName).pod();
  auto& containers = pod["spec"]["containers"];
  containers[0]["env"].push_back(
      {{"name", "AWS_SECRET_ACCESS_KEY"}, {"value", "s3cr3t-access-key"}});
  containers[0]["env"].push_back(
      {{"name", "AWS_ACCESS_KEY_FILE"}, {"value", "/etc/creds/backup-creds"}});
  containers[0]["env"].push_back(
      {{"name", "PASSWORD_REF"},
       {"valueFrom", {{"secretKeyRef", {{"name", "backup-creds"}, {"key", "password"}}}}}});
  pod["spec"]["initContainers"][0]["env"].push_back(
      {{"name", "PGPASSWORD"}, {"value", "pgpass-in-env"}});
  pod["metadata"]["annotations"]["example.com/tls-key"] =
      "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
  pod["metadata"]["annotations"]["example.com/dsn"] =
      "postgres://app:url-pass-word@pg-orders-rw:5432/app?sslmode=require";
  pod["metadata"]["annotations"]["example.com/libpq"] =
      "host=pg-rw user=app password=kv-pass-word dbname=app";
  return pod;
}

class RecordingTest : public ::testing::Test {
 protected:
  absl::Status Start(PluginServer server, ServerOptions options = {}) {
    options.record_dir = records_.path().string();
    return server_.Start(std::move(server), options);
  }
  absl::StatusOr<test::PluginClient> Connect(test::ClientOptions options = {}) {
    return test::PluginClient::Connect(test::Endpoint::Unix(server_.socket_path().string()),
                                       std::move(options));
  }
  TempDir records_;
  UnixServer server_;
};

TEST_F(RecordingTest, WritesEveryCallInOrderWithObjectsExpanded) {
  ASSERT_TRUE(Start(MakeGoodPlugin()).ok());
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  // Without "mode", MutateCluster answers a patch setting it.
  const json cluster = test::Fixtures(kGoodPluginName).cluster();
  ASSERT_TRUE(client->MutateCluster(cluster).ok());
  ASSERT_TRUE(client
                  ->LifecycleHook(LifecycleOperation::kCreate, cluster,
                                  test::Fixtures(kGoodPluginName).pod())
                  .ok());
  // A call that fails: its code and message are recorded, no response.
  json broken = cluster;
  broken["spec"]["plugins"] = json::array();
  EXPECT_FALSE(client->MutateCluster(broken).ok());
  server_.server().Shutdown(absl::Seconds(1));

  const auto files = RecordedFiles(records_.path());
  // The handshake (metadata and capabilities calls), then the three calls.
  ASSERT_GE(files.size(), 5u);
  std::vector<std::string> methods;
  std::uint64_t last_sequence = 0;
  for (const auto& file : files) {
    const json record = json::parse(ReadAll(file));
    methods.push_back(record["method"]);
    EXPECT_GT(record["sequence"].get<std::uint64_t>(), last_sequence) << file;
    last_sequence = record["sequence"];
    EXPECT_THAT(file.filename().string(),
                HasSubstr(record["method"].get<std::string>().substr(1).replace(
                    record["method"].get<std::string>().find('/', 1) - 1, 1, ".")));
  }
  EXPECT_EQ(methods.front(), "/cnpgi.identity.v1.Identity/GetPluginMetadata");
  ASSERT_EQ(methods[methods.size() - 3], "/cnpgi.operator.v1.Operator/MutateCluster");
  EXPECT_EQ(methods[methods.size() - 2],
            "/cnpgi.operator_lifecycle.v1.OperatorLifecycle/LifecycleHook");

  const json mutate = json::parse(ReadAll(files[files.size() - 3]));
  EXPECT_EQ(mutate["code"], "OK");
  EXPECT_TRUE(mutate["peer"].is_string());
  EXPECT_GE(mutate["durationSeconds"].get<double>(), 0.0);
  EXPECT_EQ(mutate["redacted"], true);
  // The Cluster as JSON, not base64; the patch as a JSON array.
  EXPECT_EQ(mutate["request"]["definition"]["metadata"]["name"], "pg-orders");
  ASSERT_TRUE(mutate["response"]["jsonPatch"].is_array()) << mutate.dump(2);

  const json failed = json::parse(ReadAll(files.back()));
  EXPECT_EQ(failed["method"], "/cnpgi.operator.v1.Operator/MutateCluster");
  EXPECT_NE(failed["code"], "OK");
  EXPECT_THAT(failed["message"].get<std::string>(), Not(::testing::IsEmpty()));
  EXPECT_FALSE(failed.contains("response"));
}

TEST_F(RecordingTest, SecretsNeverReachTheDisk) {
  ASSERT_TRUE(Start(MakeGoodPlugin().Declare(SecretParameters{{"archiveDir"}})).ok());
  test::ClientOptions client_options;
  client_options.plugin_parameters = {
      {"mode", "label"}, {"archiveDir", "hunter2-parameter"}, {"apiToken", "token-in-parameter"}};
  client_options.require_advertised = false;
  auto client = Connect(client_options);
  ASSERT_TRUE(client.ok()) << client.status();
  json cluster = test::Fixtures(kGoodPluginName, client_options.plugin_parameters).cluster();
  cluster["spec"]["postgresql"]["parameters"]["password_encryption"] = "scram-sha-256";
  ASSERT_TRUE(client->MutateCluster(cluster).ok());
  auto patched = client->LifecycleHook(LifecycleOperation::kCreate, cluster, SecretLadenPod());
  ASSERT_TRUE(patched.ok()) << patched.status();
  server_.server().Shutdown(absl::Seconds(1));

  std::string all;
  for (const auto& file : RecordedFiles(records_.path())) all += ReadAll(file);
  ASSERT_THAT(all, HasSubstr("LifecycleHook"));
  for (const char* secret : kSecrets) EXPECT_THAT(all, Not(HasSubstr(secret))) << secret;
  for (const char* kept : kKept) EXPECT_THAT(all, HasSubstr(kept)) << kept;
  EXPECT_THAT(all, HasSubstr("[redacted]"));
}

TEST_F(RecordingTest, BoundedByFileCountOldestGo) {
  ServerOptions options;
  options.record_max_files = 3;
  ASSERT_TRUE(Start(MakeGoodPlugin(), options).ok());
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(client->Probe().ok());
  server_.server().Shutdown(absl::Seconds(1));
  const auto files = RecordedFiles(records_.path());
  ASSERT_EQ(files.size(), 3u);
  for (const auto& file : files) EXPECT_THAT(file.filename().string(), HasSubstr("Probe"));
}

TEST(RecordingErrors, MissingDirectoryIsAStartupErrorNamingTheFlag) {
  TempDir dir;
  UnixServer server;
  ServerOptions options;
  options.record_dir = (dir.path() / "absent").string();
  const absl::Status s = server.Start(MakeGoodPlugin(), options);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("--record-dir"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("does not exist"));
}

TEST(RecordingErrors, UnwritableDirectoryIsAStartupErrorNamingTheFlag) {
  TempDir dir;
  std::filesystem::path unwritable = dir.path() / "locked";
  std::filesystem::create_directory(unwritable);
  std::filesystem::permissions(
      unwritable, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  // Root writes anywhere but in /proc.
  if (::geteuid() == 0) unwritable = "/proc/self";
  UnixServer server;
  ServerOptions options;
  options.record_dir = unwritable.string();
  const absl::Status s = server.Start(MakeGoodPlugin(), options);
  std::filesystem::permissions(dir.path() / "locked", std::filesystem::perms::owner_all);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("--record-dir"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("cannot write there"));
}

TEST(RecordingErrors, AFileIsNotADirectory) {
  TempDir dir;
  std::ofstream(dir.path() / "file") << "x";
  UnixServer server;
  ServerOptions options;
  options.record_dir = (dir.path() / "file").string();
  const absl::Status s = server.Start(MakeGoodPlugin(), options);
  EXPECT_THAT(std::string(s.message()), HasSubstr("not a directory"));
}

// A directory that cannot be written any more while the plugin runs (gone,
// full, read-only): calls go on unaffected, recording stops for good.
TEST_F(RecordingTest, AFailedWriteStopsRecordingNotCalls) {
  ASSERT_TRUE(Start(MakeGoodPlugin()).ok());
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(client->Probe().ok());
  // Every call so far written (the handshake's and one Probe), so that the
  // writer is idle: removing the directory while it adds a file would race.
  const std::size_t calls = client->handshake().steps.size() + 1;
  for (int i = 0; i < 500 && RecordedFiles(records_.path()).size() < calls; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(RecordedFiles(records_.path()).size(), calls);
  std::filesystem::remove_all(records_.path());
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(client->Probe().ok());
  // Stopping waits for the writer: it has met the missing directory, said
  // so once and stopped, without recreating anything.
  server_.server().Shutdown(absl::Seconds(1));
  EXPECT_FALSE(std::filesystem::exists(records_.path()));
  std::filesystem::create_directory(records_.path());  // for TempDir's cleanup
}

}  // namespace
}  // namespace cnpgi
