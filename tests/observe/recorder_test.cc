// The recorder's failure paths on their own (a private header of the SDK),
// which a server cannot provoke on demand: a writer that cannot keep up, and
// a directory that stops being writable. Nothing may be lost silently: every
// call is written or counted as dropped, and the log says so.
#include "observe/recorder.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cnpgi/logging.h"
#include "server/call_runner.h"
#include "spdlog/sinks/ostream_sink.h"
#include "support/temp_dir.h"

namespace cnpgi::internal {
namespace {

using ::testing::HasSubstr;

// JSON log lines written into a string.
struct CapturedLog {
  std::ostringstream stream;
  Logger logger{MakeLogger("recorder-test", LogFormat::kJson, spdlog::level::trace,
                           std::make_shared<spdlog::sinks::ostream_sink_mt>(stream))};

  // The lines whose message is `message`.
  std::vector<nlohmann::json> With(const std::string& message) const {
    std::vector<nlohmann::json> out;
    std::istringstream in(stream.str());
    for (std::string line; std::getline(in, line);) {
      nlohmann::json parsed = nlohmann::json::parse(line);
      if (parsed["msg"] == message) out.push_back(std::move(parsed));
    }
    return out;
  }
};

const MethodInfo kProbe{"/cnpgi.identity.v1.Identity/Probe", "cnpgi.identity.v1.ProbeRequest"};

void Finish(Recorder& recorder) {
  grpc::CallbackServerContext context;  // no call behind it: an empty peer
  recorder.Finished(kProbe, context, grpc::ByteBuffer(), grpc::ByteBuffer(), grpc::Status::OK,
                    std::chrono::microseconds(10));
}

std::size_t RecordedFiles(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    n += IsRecordFileName(entry.path().filename().string()) ? 1 : 0;
  }
  return n;
}

TEST(Recorder, AFullQueueDropsCallsAndSaysHowMany) {
  testing_support::TempDir dir;
  CapturedLog log;
  RecorderOptions options;
  options.dir = dir.path();
  options.max_files = 100000;
  options.queue_capacity = 1;  // a writer at a file per call cannot keep up with a loop
  auto recorder = Recorder::Open(options, log.logger, "--record-dir");
  ASSERT_TRUE(recorder.ok()) << recorder.status();
  constexpr std::uint64_t kCalls = 2000;
  for (std::uint64_t i = 0; i < kCalls; ++i) Finish(**recorder);
  (*recorder)->Close();

  const std::uint64_t written = (*recorder)->written();
  const std::uint64_t dropped = (*recorder)->dropped();
  EXPECT_EQ(written + dropped, kCalls);
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(RecordedFiles(dir.path()), written);
  std::uint64_t reported = 0;
  for (const nlohmann::json& line : log.With("calls not recorded: the writer could not keep up")) {
    EXPECT_EQ(line["level"], "warn");
    EXPECT_EQ(line["dir"], dir.path().string());
    reported += line["dropped"].get<std::uint64_t>();
  }
  // A call is dropped only while another waits in the queue, and the write
  // of that one reports it: every drop is in the log.
  EXPECT_EQ(reported, dropped) << log.stream.str();
}

TEST(Recorder, AFailedWriteIsReportedOnceAndRecordingStops) {
  testing_support::TempDir dir;
  const std::filesystem::path records = dir / "records";
  std::filesystem::create_directory(records);
  CapturedLog log;
  RecorderOptions options;
  options.dir = records;
  auto recorder = Recorder::Open(options, log.logger, "--record-dir");
  ASSERT_TRUE(recorder.ok()) << recorder.status();
  std::filesystem::remove_all(records);
  for (int i = 0; i < 50; ++i) Finish(**recorder);
  (*recorder)->Close();

  EXPECT_EQ((*recorder)->written(), 0u);
  const std::vector<nlohmann::json> warnings =
      log.With("cannot write a recorded call; recording stops (calls are not affected)");
  ASSERT_EQ(warnings.size(), 1u) << log.stream.str();
  EXPECT_EQ(warnings[0]["level"], "warn");
  EXPECT_THAT(warnings[0]["file"].get<std::string>(), HasSubstr(records.string()));
  EXPECT_EQ(warnings[0]["error"], "No such file or directory");
  EXPECT_FALSE(std::filesystem::exists(records));  // nothing recreated
}

}  // namespace
}  // namespace cnpgi::internal
