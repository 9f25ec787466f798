#include "observe/recorder.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "observe/call_json.h"
#include "server/call_runner.h"

namespace cnpgi::internal {
namespace {

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::string out;
  if (!buffer.Valid()) return out;
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices)
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

std::string CodeName(int code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

// The message part of a recorded call: expanded JSON, or why not.
void AddMessage(OrderedJson& record, const char* field, const google::protobuf::Descriptor* type,
                const grpc::ByteBuffer& buffer, bool redact) {
  const std::string bytes = ToString(buffer);
  if (type != nullptr) {
    absl::StatusOr<OrderedJson> json = BytesToExpandedJson(type, bytes);
    if (json.ok()) {
      record[field] = *std::move(json);
      return;
    }
  }
  record[field] = nullptr;
  record[absl::StrCat(field, "Error")] =
      absl::StrCat("not a valid ", type != nullptr ? type->full_name() : "message", " (",
                   bytes.size(), " bytes)", redact ? "; the bytes are not kept (redaction)" : "");
  // Unreadable bytes cannot be redacted, so they are kept only on request.
  if (!redact) record[absl::StrCat(field, "Base64")] = absl::Base64Escape(bytes);
}

bool WriteAll(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::string RecordFileName(absl::Time time, std::uint64_t sequence, std::string_view method_path) {
  std::string method(method_path.substr(method_path.empty() ? 0 : 1));
  std::replace(method.begin(), method.end(), '/', '.');
  std::string seq = std::to_string(sequence);
  if (seq.size() < 9) seq.insert(0, 9 - seq.size(), '0');
  return absl::StrCat(absl::FormatTime("%Y%m%dT%H%M%E6SZ", time, absl::UTCTimeZone()), "-", seq,
                      "-", method, ".json");
}

bool IsRecordFileName(std::string_view name) {
  if (name.size() < 30 || !name.ends_with(".json")) return false;
  if (name[8] != 'T' || name[15] != '.' || name[22] != 'Z' || name[23] != '-') return false;
  for (std::size_t i : {0, 7, 9, 14, 16, 21, 24}) {
    if (name[i] < '0' || name[i] > '9') return false;
  }
  return true;
}

absl::StatusOr<std::unique_ptr<Recorder>> Recorder::Open(RecorderOptions options, Logger logger,
                                                         std::string_view flag) {
  const std::string shown = absl::StrCat(std::string(flag), " \"", options.dir.string(), "\"");
  std::error_code ec;
  const auto status = std::filesystem::status(options.dir, ec);
  if (!std::filesystem::exists(status)) {
    return absl::InvalidArgumentError(absl::StrCat(
        shown, ": the directory does not exist (create it, e.g. as an emptyDir volume)"));
  }
  if (!std::filesystem::is_directory(status)) {
    return absl::InvalidArgumentError(absl::StrCat(shown, ": not a directory"));
  }
  const std::filesystem::path probe =
      options.dir / absl::StrCat(".cnpgi-record-probe-", ::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(shown, ": cannot write there: ", std::strerror(errno)));
  }
  ::close(fd);
  std::filesystem::remove(probe, ec);

  std::unique_ptr<Recorder> recorder(new Recorder(std::move(options), std::move(logger)));
  // Files of earlier runs count towards the bounds.
  std::vector<std::pair<std::string, std::uint64_t>> existing;
  for (const auto& entry : std::filesystem::directory_iterator(recorder->options_.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!IsRecordFileName(name)) continue;
    std::error_code size_ec;
    const auto size = entry.file_size(size_ec);
    existing.emplace_back(name, size_ec ? 0 : size);
  }
  std::sort(existing.begin(), existing.end());
  for (auto& file : existing) {
    recorder->total_bytes_ += file.second;
    recorder->files_.push_back(std::move(file));
  }
  recorder->Trim();
  recorder->writer_ = std::thread([r = recorder.get()] { r->Run(); });
  return recorder;
}

Recorder::Recorder(RecorderOptions options, Logger logger)
    : options_(std::move(options)), logger_(std::move(logger)) {}

Recorder::~Recorder() { Close(); }

void Recorder::Close() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void Recorder::Finished(const MethodInfo& method, grpc::CallbackServerContext& context,
                        const grpc::ByteBuffer& request, const grpc::ByteBuffer& response,
                        const grpc::Status& status, std::chrono::steady_clock::duration elapsed) {
  if (stopped_.load(std::memory_order_relaxed)) return;
  Call call{&method,
            context.peer(),
            request,
            response,
            static_cast<int>(status.error_code()),
            status.error_message(),
            elapsed,
            absl::InfinitePast(),
            0};
  {
    std::lock_guard lock(mu_);
    if (closing_ || queue_.size() >= options_.queue_capacity) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    call.time = absl::Now();
    call.sequence = next_sequence_++;
    queue_.push_back(std::move(call));
  }
  wake_.notify_one();
}

void Recorder::Run() {
  std::uint64_t dropped_reported = 0;
  while (true) {
    Call call;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;
      call = std::move(queue_.front());
      queue_.pop_front();
    }
    if (!Write(call)) {
      stopped_.store(true);
      std::lock_guard lock(mu_);
      queue_.clear();
      return;
    }
    if (const std::uint64_t dropped = dropped_.load(); dropped != dropped_reported) {
      logger_.Warn("calls not recorded: the writer could not keep up",
                   {{"dropped", dropped - dropped_reported}, {"dir", options_.dir.string()}});
      dropped_reported = dropped;
    }
  }
}

bool Recorder::Write(const Call& call) {
  const std::string& path = call.method->path;
  const google::protobuf::MethodDescriptor* method = FindMethodByPath(path);
  OrderedJson record = OrderedJson::object();
  record["method"] = path;
  record["time"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", call.time, absl::UTCTimeZone());
  record["sequence"] = call.sequence;
  record["peer"] = call.peer;
  record["durationSeconds"] = std::chrono::duration<double>(call.elapsed).count();
  record["code"] = CodeName(call.code);
  std::string message = call.message;
  if (options_.redact) RedactText(message);
  record["message"] = std::move(message);
  record["redacted"] = options_.redact;
  AddMessage(record, "request", method != nullptr ? method->input_type() : nullptr, call.request,
             options_.redact);
  if (call.code == 0) {
    AddMessage(record, "response", method != nullptr ? method->output_type() : nullptr,
               call.response, options_.redact);
  }
  if (options_.redact) {
    Redact(record["request"], options_.rules);
    if (record.contains("response")) Redact(record["response"], options_.rules);
  }
  const std::string text = record.dump(2) + "\n";

  const std::string name = RecordFileName(call.time, call.sequence, path);
  const std::filesystem::path final_path = options_.dir / name;
  // Written aside, then renamed: a reader never sees half a file.
  const std::filesystem::path temp_path = options_.dir / ("." + name + ".tmp");
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  bool ok = fd >= 0 && WriteAll(fd, text);
  int error = ok ? 0 : errno;
  if (fd >= 0 && ::close(fd) != 0 && ok) {
    ok = false;
    error = errno;
  }
  if (ok && ::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    ok = false;
    error = errno;
  }
  if (!ok) {
    std::error_code ec;
    std::filesystem::remove(temp_path, ec);
    logger_.Warn("cannot write a recorded call; recording stops (calls are not affected)",
                 {{"file", final_path.string()}, {"error", std::strerror(error)}});
    return false;
  }
  written_.fetch_add(1, std::memory_order_relaxed);
  files_.emplace_back(name, text.size());
  total_bytes_ += text.size();
  Trim();
  return true;
}

void Recorder::Trim() {
  while (!files_.empty() && (files_.size() > options_.max_files ||
                             (total_bytes_ > options_.max_bytes && files_.size() > 1))) {
    std::error_code ec;
    std::filesystem::remove(options_.dir / files_.front().first, ec);
    total_bytes_ -= std::min(total_bytes_, files_.front().second);
    files_.pop_front();
  }
}

}  // namespace cnpgi::internal
