// Not part of the API. --record-dir: every call written to a directory, one
// JSON file per call, off the call path.
#ifndef CNPGI_SRC_OBSERVE_RECORDER_H_
#define CNPGI_SRC_OBSERVE_RECORDER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cnpgi/logging.h"
#include "observe/call_observer.h"
#include "observe/redaction.h"

namespace cnpgi::internal {

struct RecorderOptions {
  std::filesystem::path dir;
  // Beyond either, the oldest recorded files are removed.
  std::size_t max_files = 1000;
  std::uint64_t max_bytes = 100u << 20;
  bool redact = true;
  RedactionRules rules;
  // Calls waiting for the writer; beyond, calls are dropped (and counted)
  // rather than slowed down.
  std::size_t queue_capacity = 512;
};

// The name a recorded call's file has: "<UTC time>-<sequence>-<method>.json",
// e.g. "20240102T030405.123456Z-000000001-cnpgi.wal.v1.WAL.Archive.json",
// so that names sort in call order.
std::string RecordFileName(absl::Time time, std::uint64_t sequence, std::string_view method_path);

// True for names RecordFileName() makes.
bool IsRecordFileName(std::string_view name);

class Recorder final : public CallObserver {
 public:
  // Checks that the directory exists and is writable (InvalidArgument
  // naming `flag` otherwise) and starts the writer thread.
  static absl::StatusOr<std::unique_ptr<Recorder>> Open(RecorderOptions options, Logger logger,
                                                        std::string_view flag);
  ~Recorder() override;

  void Started(const MethodInfo&) override {}
  // Copies the call (reference-counted buffers, no parsing) into the queue.
  void Finished(const MethodInfo& method, grpc::CallbackServerContext& context,
                const grpc::ByteBuffer& request, const grpc::ByteBuffer& response,
                const grpc::Status& status, std::chrono::steady_clock::duration elapsed) override;

  // Writes what is queued, then stops the writer. Idempotent.
  void Close();

  std::uint64_t written() const { return written_.load(); }
  std::uint64_t dropped() const { return dropped_.load(); }

 private:
  struct Call {
    const MethodInfo* method;
    std::string peer;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    int code;
    std::string message;
    std::chrono::steady_clock::duration elapsed;
    absl::Time time;
    std::uint64_t sequence;
  };

  Recorder(RecorderOptions options, Logger logger);
  void Run();
  // False (after its one warning) when the file could not be written.
  bool Write(const Call& call);
  void Trim();

  const RecorderOptions options_;
  const Logger logger_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Call> queue_;
  bool closing_ = false;
  std::uint64_t next_sequence_ = 1;
  // Set when a write failed: calls are not even queued any more.
  std::atomic<bool> stopped_{false};
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> dropped_{0};

  // Writer thread only: the recorded files, oldest first, with their sizes.
  std::deque<std::pair<std::string, std::uint64_t>> files_;
  std::uint64_t total_bytes_ = 0;

  std::thread writer_;
};

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_OBSERVE_RECORDER_H_
