#include "cnpgi/testing/replay.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>

#include "cnpgi/testing/json_patch.h"
#include "observe/call_json.h"
#include "observe/redaction.h"
#include "testing/internal.h"

namespace cnpgi::test {
namespace {

using internal::Cat;
using OrderedJson = nlohmann::ordered_json;

std::optional<absl::StatusCode> ParseCode(std::string_view name) {
  for (int code = 0; code <= 16; ++code) {
    const auto c = static_cast<absl::StatusCode>(code);
    if (absl::StatusCodeToString(c) == name) return c;
  }
  return std::nullopt;
}

std::string CodeName(absl::StatusCode code) { return absl::StatusCodeToString(code); }

absl::Status Damaged(const std::string& file, std::string_view why) {
  return absl::InvalidArgumentError(Cat(file, ": ", why));
}

absl::StatusOr<RecordedCall> LoadFile(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Damaged(file, "cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  if (cnpgi::internal::NestedDeeperThan(text.str(), cnpgi::internal::kMaxExpandedDepth + 16)) {
    return Damaged(file, "nested too deeply to be a recorded call");
  }
  OrderedJson record;
  try {
    record = OrderedJson::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    return Damaged(file, Cat("not valid JSON (", e.what(), ")"));
  }
  if (!record.is_object()) return Damaged(file, "not a recorded call (not a JSON object)");
  RecordedCall call;
  call.file = file;
  const auto method = record.find("method");
  if (method == record.end() || !method->is_string()) {
    return Damaged(file, "no \"method\" (a recorded call has method, request, code)");
  }
  call.method = method->get<std::string>();
  const google::protobuf::MethodDescriptor* descriptor =
      cnpgi::internal::FindMethodByPath(call.method);
  if (descriptor == nullptr) {
    return Damaged(file, Cat("unknown method ", internal::Abbreviated(call.method)));
  }
  const auto code = record.find("code");
  if (code == record.end() || !code->is_string()) return Damaged(file, "no \"code\"");
  const std::optional<absl::StatusCode> parsed_code = ParseCode(code->get<std::string>());
  if (!parsed_code) {
    return Damaged(file, Cat("unknown status code ", internal::Abbreviated(code->dump())));
  }
  call.code = *parsed_code;
  if (const auto message = record.find("message"); message != record.end()) {
    if (!message->is_string()) return Damaged(file, "\"message\" is not a string");
    call.message = message->get<std::string>();
  }
  if (const auto redacted = record.find("redacted"); redacted != record.end()) {
    call.redacted = redacted->is_boolean() && redacted->get<bool>();
  }
  const auto request = record.find("request");
  if (request == record.end()) return Damaged(file, "no \"request\"");
  call.request = *request;
  if (!call.request.is_null()) {
    std::unique_ptr<google::protobuf::Message> message =
        cnpgi::internal::NewMessage(descriptor->input_type());
    if (absl::Status s = cnpgi::internal::FromExpandedJson(call.request, *message); !s.ok()) {
      return Damaged(file, Cat("\"request\": ", std::string(s.message())));
    }
  }
  if (const auto response = record.find("response");
      response != record.end() && !response->is_null()) {
    std::unique_ptr<google::protobuf::Message> message =
        cnpgi::internal::NewMessage(descriptor->output_type());
    if (absl::Status s = cnpgi::internal::FromExpandedJson(*response, *message); !s.ok()) {
      return Damaged(file, Cat("\"response\": ", std::string(s.message())));
    }
    call.response = *response;
  } else if (call.code == absl::StatusCode::kOk) {
    return Damaged(file, "code OK but no \"response\"");
  }
  return call;
}

nlohmann::json Plain(const OrderedJson& json) { return nlohmann::json::parse(json.dump()); }

bool IsJsonPatch(const nlohmann::json& value) {
  if (!value.is_array()) return false;
  return std::all_of(value.begin(), value.end(), [](const nlohmann::json& op) {
    return op.is_object() && op.contains("op") && op.contains("path");
  });
}

// The object a patch in the answer applies to: the one the request carried.
const OrderedJson* PatchedObjectOf(const OrderedJson& request) {
  for (const char* field : {"objectDefinition", "definition", "clusterDefinition"}) {
    const auto it = request.find(field);
    if (it != request.end() && it->is_object()) return &*it;
  }
  return nullptr;
}

std::string Compare(const RecordedCall& recorded, const ReplayedCall& replayed,
                    const ReplayOptions& options) {
  const absl::StatusCode got = replayed.status.code();
  if (got != recorded.code) {
    std::string out = Cat("status: recorded ", CodeName(recorded.code));
    if (!recorded.message.empty()) internal::Append(&out, " (", recorded.message, ")");
    internal::Append(&out, ", replayed ", CodeName(got));
    if (!replayed.status.message().empty()) {
      internal::Append(&out, " (", std::string(replayed.status.message()), ")");
    }
    return out;
  }
  if (got != absl::StatusCode::kOk) {
    std::string message(replayed.status.message());
    // The client prefixes the method; the server's message follows.
    const std::string prefix = Cat(recorded.method.substr(1), ": ");
    if (message.starts_with(prefix)) message.erase(0, prefix.size());
    if (options.compare_messages && message != recorded.message) {
      return Cat("message: recorded \"", recorded.message, "\", replayed \"", message, "\"");
    }
    return "";
  }
  nlohmann::json expected = Plain(*recorded.response);
  nlohmann::json actual = Plain(replayed.response.value_or(OrderedJson::object()));
  for (const std::string& pointer : options.ignored_fields) {
    for (nlohmann::json* side : {&expected, &actual}) {
      try {
        const nlohmann::json::json_pointer p(pointer);
        if (side->contains(p)) side->at(p.parent_pointer()).erase(p.back());
      } catch (const nlohmann::json::exception&) {
        // Not a pointer into this answer: nothing to leave out.
      }
    }
  }
  // Patches: compared by the object they give.
  if (const OrderedJson* object = PatchedObjectOf(recorded.request)) {
    const nlohmann::json sent = Plain(*object);
    std::vector<std::string> keys;
    for (const auto& [key, value] : expected.items()) {
      if (IsJsonPatch(value)) keys.push_back(key);
    }
    for (const auto& [key, value] : actual.items()) {
      if (IsJsonPatch(value) && std::find(keys.begin(), keys.end(), key) == keys.end()) {
        keys.push_back(key);
      }
    }
    for (const std::string& key : keys) {
      const std::string e = expected.value(key, nlohmann::json::array()).dump();
      const std::string a = actual.value(key, nlohmann::json::array()).dump();
      absl::StatusOr<nlohmann::json> want = ApplyJsonPatch(sent, e);
      absl::StatusOr<nlohmann::json> have = ApplyJsonPatch(sent, a);
      if (!want.ok() || !have.ok()) continue;  // compared as JSON below
      if (*want != *have) {
        return Cat("the patch (", key,
                   ") gives another object: ", DescribeJsonDifference(*want, *have));
      }
      expected.erase(key);
      actual.erase(key);
    }
  }
  if (expected != actual) {
    return Cat("the answer differs: ", DescribeJsonDifference(expected, actual));
  }
  return "";
}

}  // namespace

absl::StatusOr<std::vector<RecordedCall>> LoadRecording(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(Cat(dir, ": no such directory (of recorded calls)"));
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(".") && name.ends_with(".json") && entry.is_regular_file(ec)) {
      files.push_back(entry.path());
    }
  }
  if (ec) return absl::NotFoundError(Cat(dir, ": cannot be listed: ", ec.message()));
  if (files.empty()) {
    return absl::NotFoundError(
        Cat(dir, ": no recorded calls (*.json files written by --record-dir)"));
  }
  std::sort(files.begin(), files.end());
  std::vector<RecordedCall> calls;
  calls.reserve(files.size());
  for (const auto& path : files) {
    absl::StatusOr<RecordedCall> call = LoadFile(path);
    if (!call.ok()) return call.status();
    calls.push_back(*std::move(call));
  }
  return calls;
}

ReplayReport Replay(const PluginClient& client, const std::vector<RecordedCall>& calls,
                    const ReplayOptions& options) {
  ReplayReport report;
  const PluginClient unchecked = client.Unchecked();
  for (const RecordedCall& call : calls) {
    if (call.request.is_null()) {
      ++report.skipped;
      continue;
    }
    const google::protobuf::MethodDescriptor* descriptor =
        cnpgi::internal::FindMethodByPath(call.method);
    std::unique_ptr<google::protobuf::Message> request =
        descriptor ? cnpgi::internal::NewMessage(descriptor->input_type()) : nullptr;
    if (!request || !cnpgi::internal::FromExpandedJson(call.request, *request).ok()) {
      report.mismatches.push_back({call.file, call.method, "the request cannot be rebuilt"});
      continue;
    }
    ++report.replayed;
    ReplayedCall replayed;
    absl::StatusOr<std::string> bytes =
        unchecked.CallBytes(call.method, request->SerializeAsString());
    if (bytes.ok()) {
      absl::StatusOr<OrderedJson> response =
          cnpgi::internal::BytesToExpandedJson(descriptor->output_type(), *bytes);
      if (!response.ok()) {
        replayed.status = absl::InternalError(
            Cat("the answer is not a valid ", descriptor->output_type()->full_name()));
      } else {
        if (call.redacted) cnpgi::internal::Redact(*response, {});
        replayed.response = *std::move(response);
      }
    } else {
      replayed.status = bytes.status();
    }
    std::string difference;
    if (const auto it = options.expectations.find(call.method); it != options.expectations.end()) {
      const absl::Status verdict = it->second(call, replayed);
      if (!verdict.ok()) difference = Cat("expectation: ", std::string(verdict.message()));
    } else {
      difference = Compare(call, replayed, options);
    }
    if (!difference.empty()) {
      report.mismatches.push_back({call.file, call.method, std::move(difference)});
    }
  }
  return report;
}

absl::StatusOr<ReplayReport> Replay(const PluginClient& client, const std::string& dir,
                                    const ReplayOptions& options) {
  absl::StatusOr<std::vector<RecordedCall>> calls = LoadRecording(dir);
  if (!calls.ok()) return calls.status();
  return Replay(client, *calls, options);
}

std::string ReplayReport::Describe() const {
  std::string out = Cat(replayed, " calls replayed, ", mismatches.size(), " different");
  if (skipped > 0) internal::Append(&out, ", ", skipped, " skipped (request not recorded)");
  for (const ReplayMismatch& m : mismatches) {
    internal::Append(&out, "\n  ", std::filesystem::path(m.file).filename().string(), " (",
                     m.method, "): ", m.difference);
  }
  return out;
}

}  // namespace cnpgi::test
