// Replaying calls recorded in a cluster (--record-dir, docs/observability.md)
// against a plugin: every recorded request is sent again and each answer is
// compared with the recorded one, or with the test author's expectation.
//
//   auto kit = cnpgi::test::PluginKit::Start(MakeMyPlugin());
//   auto report = cnpgi::test::Replay(kit->client(), "tests/data/recorded");
//   ASSERT_TRUE(report.ok()) << report.status();
//   EXPECT_TRUE(report->ok()) << report->Describe();
//
// Patches (MutateCluster, lifecycle hooks) are compared by their effect on
// the object they were answered for, not byte for byte: two patches that
// give the same object are the same answer. See docs/testing.md.
#ifndef CNPGI_TESTING_REPLAY_H_
#define CNPGI_TESTING_REPLAY_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cnpgi/testing/plugin_client.h"

namespace cnpgi::test {

// One recorded call, as read from its file.
struct RecordedCall {
  std::string file;    // the file's path
  std::string method;  // "/cnpgi.operator.v1.Operator/MutateCluster"
  // The request in protobuf's JSON mapping, Kubernetes objects expanded;
  // null when the recorded bytes were not a valid request (not replayed).
  nlohmann::ordered_json request;
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string message;
  // The answer, for calls that succeeded.
  std::optional<nlohmann::ordered_json> response;
  // Secrets were replaced by "[redacted]" when it was recorded.
  bool redacted = true;
};

// Reads every *.json file of `dir`, in name (that is, call) order. Every
// file is checked before anything is sent: InvalidArgument naming the file
// and what is wrong for a damaged or hand-edited one (not JSON, no method,
// an unknown method or status code, a request that does not fit the
// method's message type); NotFound for a missing or empty directory.
absl::StatusOr<std::vector<RecordedCall>> LoadRecording(const std::string& dir);

// What the plugin answered on replay.
struct ReplayedCall {
  absl::Status status;
  std::optional<nlohmann::ordered_json> response;
};

struct ReplayOptions {
  // Per method ("/cnpgi.wal.v1.WAL/Status"): the author's expectation
  // instead of the comparison with the recorded answer (for answers that
  // depend on time or state). OK when the answer is acceptable, otherwise
  // an error saying why.
  std::map<std::string,
           std::function<absl::Status(const RecordedCall& recorded, const ReplayedCall& replayed)>>
      expectations;
  // JSON pointers into responses ("/backupId") left out of the comparison.
  std::vector<std::string> ignored_fields;
  // Error messages must match too, not only the status codes.
  bool compare_messages = true;
};

struct ReplayMismatch {
  std::string file;
  std::string method;
  std::string difference;
};

struct ReplayReport {
  std::size_t replayed = 0;
  // Recorded calls whose request was not kept (unreadable bytes, redacted).
  std::size_t skipped = 0;
  std::vector<ReplayMismatch> mismatches;

  bool ok() const { return mismatches.empty(); }
  // "12 calls replayed, 0 different" plus one paragraph per mismatch.
  std::string Describe() const;
};

// Sends every recorded call to the plugin behind `client`, in order, and
// compares. An error status only when nothing could be compared (the
// recording cannot be read); differences are in the report.
ReplayReport Replay(const PluginClient& client, const std::vector<RecordedCall>& calls,
                    const ReplayOptions& options = {});
absl::StatusOr<ReplayReport> Replay(const PluginClient& client, const std::string& dir,
                                    const ReplayOptions& options = {});

}  // namespace cnpgi::test

#endif  // CNPGI_TESTING_REPLAY_H_
