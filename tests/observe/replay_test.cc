// Record a conformance run through a real server, replay it: green against
// the same plugin, red against a changed one; patches compared by effect;
// damaged recordings refused with the file named.
#include "cnpgi/testing/replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cnpgi/testing/conformance.h"
#include "cnpgi/testing/plugin_kit.h"
#include "conformance/good_plugin.h"
#include "server/server_fixture.h"
#include "support/temp_dir.h"

namespace cnpgi {
namespace {

using conformance_test::GoodMetadata;
using conformance_test::MakeGoodPlugin;
using ::testing::HasSubstr;
using testing_support::TempDir;
using testing_support::UnixServer;

// The good plugin with one change: MutateCluster defaults "mode" to
// "label" instead of "annotate".
class ChangedOperator final : public OperatorService {
  absl::Status OnMutateCluster(CallContext& ctx, Cluster& cluster) override {
    absl::StatusOr<PluginConfiguration> me = cluster.GetPlugin(ctx.plugin_name());
    if (!me.ok()) return me.status();
    if (me->parameters().contains("mode")) return absl::OkStatus();
    return cluster.SetPluginParameter(ctx.plugin_name(), "mode", "label");
  }
};

// Runs every conformance check against the good plugin with --record-dir.
void RecordConformanceRun(const std::filesystem::path& dir) {
  UnixServer server;
  ServerOptions options;
  options.record_dir = dir.string();
  ASSERT_TRUE(server.Start(MakeGoodPlugin(), options).ok());
  test::ConformanceOptions check;
  check.endpoint = test::Endpoint::Unix(server.socket_path().string());
  absl::StatusOr<test::ConformanceReport> report = test::RunConformance(check);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_TRUE(report->ok()) << report->Summary();
  server.server().Shutdown(absl::Seconds(1));
}

std::vector<std::filesystem::path> Files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::filesystem::path FindFile(const std::filesystem::path& dir, std::string_view method) {
  for (const auto& file : Files(dir)) {
    if (file.filename().string().find(method) != std::string::npos) return file;
  }
  return {};
}

class ReplayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    recording_ = new TempDir();
    RecordConformanceRun(recording_->path());
  }
  static void TearDownTestSuite() { delete recording_; }
  // A private copy to edit.
  std::filesystem::path Copy() {
    std::filesystem::copy(recording_->path(), copy_.path() / "rec");
    return copy_.path() / "rec";
  }
  static TempDir* recording_;
  TempDir copy_;
};
TempDir* ReplayTest::recording_ = nullptr;

TEST_F(ReplayTest, GreenAgainstTheSamePlugin) {
  auto calls = test::LoadRecording(recording_->path().string());
  ASSERT_TRUE(calls.ok()) << calls.status();
  ASSERT_GT(calls->size(), 20u);
  auto kit = test::PluginKit::Start(MakeGoodPlugin());
  ASSERT_TRUE(kit.ok()) << kit.status();
  const test::ReplayReport report = test::Replay(kit->client(), *calls);
  EXPECT_TRUE(report.ok()) << report.Describe();
  EXPECT_GT(report.replayed, 20u);
}

TEST_F(ReplayTest, RedAgainstAChangedPlugin) {
  auto kit = test::PluginKit::Start(PluginServer(GoodMetadata())
                                        .Add(std::make_shared<ChangedOperator>())
                                        .Add(std::make_shared<conformance_test::GoodLifecycle>())
                                        .Add(std::make_shared<conformance_test::GoodHooks>())
                                        .Add(std::make_shared<conformance_test::GoodPostgres>())
                                        .Add(std::make_shared<conformance_test::GoodMetrics>())
                                        .Add(std::make_shared<conformance_test::GoodWal>())
                                        .Declare(SidecarInjection{.instance_pods = true}));
  ASSERT_TRUE(kit.ok()) << kit.status();
  auto report = test::Replay(kit->client(), recording_->path().string());
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_FALSE(report->ok());
  const std::string text = report->Describe();
  EXPECT_THAT(text, HasSubstr("MutateCluster"));
  EXPECT_THAT(text, HasSubstr("label"));
  bool mutate = false;
  for (const auto& m : report->mismatches) {
    if (m.method == "/cnpgi.operator.v1.Operator/MutateCluster") {
      mutate = true;
      EXPECT_THAT(m.difference, HasSubstr("gives another object")) << m.difference;
    }
  }
  EXPECT_TRUE(mutate) << text;
}

TEST_F(ReplayTest, PatchesComparedByEffect) {
  const auto dir = Copy();
  // Rewrite every recorded MutateCluster patch into an equivalent one.
  int edited = 0;
  for (const auto& file : Files(dir)) {
    if (file.filename().string().find("MutateCluster") == std::string::npos) continue;
    std::ifstream in(file);
    nlohmann::ordered_json record = nlohmann::ordered_json::parse(in);
    in.close();
    auto& patch = record["response"]["jsonPatch"];
    if (!patch.is_array() || patch.empty()) continue;
    // Setting a value, then setting it again: another patch, the same object.
    nlohmann::ordered_json again = patch.back();
    again["op"] = "replace";
    patch.push_back(again);
    std::ofstream(file) << record.dump(1);
    ++edited;
  }
  ASSERT_GT(edited, 0);
  auto kit = test::PluginKit::Start(MakeGoodPlugin());
  ASSERT_TRUE(kit.ok()) << kit.status();
  auto report = test::Replay(kit->client(), dir.string());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Describe();
}

TEST_F(ReplayTest, AnExpectationReplacesTheComparison) {
  auto kit = test::PluginKit::Start(MakeGoodPlugin());
  ASSERT_TRUE(kit.ok()) << kit.status();
  test::ReplayOptions options;
  int seen = 0;
  options.expectations["/cnpgi.identity.v1.Identity/Probe"] =
      [&seen](const test::RecordedCall&, const test::ReplayedCall& replayed) {
        ++seen;
        return replayed.status.ok() ? absl::InternalError("the author expected a failure")
                                    : absl::OkStatus();
      };
  auto report = test::Replay(kit->client(), recording_->path().string(), options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(seen, 0);
  EXPECT_THAT(report->Describe(), HasSubstr("the author expected a failure"));
}

TEST_F(ReplayTest, DamagedFilesAreNamed) {
  {
    const auto dir = Copy();
    const auto victim = FindFile(dir, "MutateCluster");
    ASSERT_FALSE(victim.empty());
    std::ofstream(victim) << "{\"method\": \"/cnpgi.operator.v1.Operator/MutateCluster\",";
    auto calls = test::LoadRecording(dir.string());
    ASSERT_FALSE(calls.ok());
    EXPECT_EQ(calls.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(calls.status().message()), HasSubstr(victim.filename().string()));
    EXPECT_THAT(std::string(calls.status().message()), HasSubstr("not valid JSON"));
  }
  const auto edit = [&](const std::string& name, const auto& change) {
    TempDir scratch;
    std::filesystem::copy(recording_->path(), scratch.path() / "rec");
    const auto victim = FindFile(scratch.path() / "rec", name);
    std::ifstream in(victim);
    nlohmann::ordered_json record = nlohmann::ordered_json::parse(in);
    in.close();
    change(record);
    std::ofstream(victim) << record.dump();
    auto calls = test::LoadRecording((scratch.path() / "rec").string());
    EXPECT_FALSE(calls.ok());
    EXPECT_THAT(std::string(calls.status().message()), HasSubstr(victim.filename().string()));
    return std::string(calls.status().message());
  };
  EXPECT_THAT(edit("Probe", [](auto& r) { r["method"] = "/no.Such/Method"; }),
              HasSubstr("unknown method"));
  EXPECT_THAT(edit("Probe", [](auto& r) { r["code"] = "FINE"; }), HasSubstr("unknown status code"));
  EXPECT_THAT(edit("MutateCluster", [](auto& r) { r["request"]["definition"] = 42; }),
              HasSubstr("request"));
  EXPECT_THAT(edit("Probe", [](auto& r) { r.erase("method"); }), HasSubstr("method"));

  auto missing = test::LoadRecording((copy_.path() / "absent").string());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cnpgi
