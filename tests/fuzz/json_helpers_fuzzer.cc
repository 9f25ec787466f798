// libFuzzer target over the JSON-facing helpers: arbitrary bytes go through
// the parser, the object views and their accessors, parameter reading,
// random edits, patch production and sidecar injection. Besides crashes and
// sanitizer reports, it checks the properties the operator relies on:
//  - the parser agrees with nlohmann's (accept/reject and value), apart from
//    our depth limit;
//  - whatever parses can be written back and re-read unchanged;
//  - a patch applied to the bytes sent gives exactly the edited object;
//  - sidecar injection is idempotent and deterministic.
// A violated property prints what went wrong and aborts, so libFuzzer keeps
// the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cnpgi/backup.h"
#include "cnpgi/cluster.h"
#include "cnpgi/cluster_status.h"
#include "cnpgi/errors.h"
#include "cnpgi/json.h"
#include "cnpgi/object.h"
#include "cnpgi/parameters.h"
#include "cnpgi/pod.h"
#include "cnpgi/sidecar.h"
#include "cnpgi/wal.h"

namespace {

using Json = nlohmann::json;

[[noreturn]] void Violated(const char* property, const std::string& detail) {
  std::fprintf(stderr, "PROPERTY VIOLATED: %s\n%s\n", property, detail.c_str());
  std::abort();
}

// null, or objects of one member down to a null: what Edit() creates.
bool IsUntouchedSkeleton(const Json& value) {
  if (value.is_null()) return true;
  return value.is_object() && value.size() == 1 && IsUntouchedSkeleton(value.begin().value());
}

// Whether an operation of Json::diff(patched, current) is such a skeleton:
// added, or replacing a null that Edit() turned into an object.
bool IsSkeletonOperation(const Json& before, const Json& op) {
  if (op["op"] == "add") return IsUntouchedSkeleton(op["value"]);
  if (op["op"] != "replace" || !op["value"].is_object()) return false;
  const Json::json_pointer at(op["path"].get<std::string>());
  return before.contains(at) && before.at(at).is_null() && IsUntouchedSkeleton(op["value"]);
}

// Applies `patch` to `sent` with nlohmann's RFC 6902 implementation (an
// independent one) and compares with `current`.
void CheckPatch(const std::string& sent, const cnpgi::Object& object) {
  absl::StatusOr<std::string> patch = object.Patch();
  if (!patch.ok()) {
    // Allowed failures: edits to apiVersion/kind, values without JSON text.
    if (patch.status().code() == absl::StatusCode::kFailedPrecondition ||
        patch.status().code() == absl::StatusCode::kInvalidArgument) {
      return;
    }
    Violated("Patch() fails only for kind changes or unwritable values", patch.status().ToString());
  }
  Json original = Json::parse(sent, nullptr, false);
  if (patch->empty()) {
    for (const Json& op : Json::diff(original, object.json())) {
      if (!IsSkeletonOperation(original, op)) {
        Violated("empty patch means unchanged", op.dump());
      }
    }
    return;
  }
  Json operations = Json::parse(*patch, nullptr, false);
  if (operations.is_discarded()) Violated("patch is JSON", *patch);
  try {
    const Json patched = original.patch(operations);
    // The one documented difference: members that Edit() created and the
    // author left null (or only null inside) are not part of the patch.
    for (const Json& op : Json::diff(patched, object.json())) {
      if (!IsSkeletonOperation(patched, op)) {
        Violated("patch turns the object as sent into the edited one",
                 *patch + "\nremaining difference: " + op.dump());
      }
    }
  } catch (const std::exception& e) {
    Violated("patch applies with RFC 6902 semantics", std::string(e.what()) + "\n" + *patch);
  }
}

void CollectPointers(const Json& node, const std::string& pointer, std::vector<std::string>& out) {
  if (out.size() > 200) return;
  out.push_back(pointer);
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      std::string child = pointer;
      cnpgi::AppendJsonPointerToken(key, child);
      CollectPointers(value, child, out);
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      CollectPointers(node[i], pointer + "/" + std::to_string(i), out);
    }
  }
}

Json RandomValue(std::minstd_rand& random) {
  switch (random() % 5) {
    case 0:
      return Json(static_cast<int>(random() % 100));
    case 1:
      return Json("v");
    case 2:
      return Json::object({{"k", "x"}});
    case 3:
      return Json::array({1});
    default:
      return Json(nullptr);
  }
}

void Mutate(Json& node, std::minstd_rand& random) {
  if (node.is_object() && random() % 3 != 0) {
    if (!node.empty() && random() % 2 == 0) {
      auto it = node.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(random() % node.size()));
      node.erase(it);
    } else {
      node["m" + std::to_string(random() % 3)] = RandomValue(random);
    }
  } else if (node.is_array() && random() % 3 != 0) {
    const std::size_t at = random() % (node.size() + 1);
    if (!node.empty() && random() % 2 == 0) {
      node.erase(node.begin() + static_cast<std::ptrdiff_t>(std::min(at, node.size() - 1)));
    } else {
      node.insert(node.begin() + static_cast<std::ptrdiff_t>(at), RandomValue(random));
    }
  } else {
    node = RandomValue(random);
  }
}

void FuzzParser(std::string_view text) {
  absl::StatusOr<Json> ours = cnpgi::ParseJson(text);
  const Json theirs = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (ours.ok()) {
    if (theirs.is_discarded()) Violated("nlohmann accepts what we accept", std::string(text));
    if (*ours != theirs) Violated("same value as nlohmann", std::string(text));
    absl::StatusOr<std::string> written = cnpgi::ToJson(*ours);
    if (!written.ok()) Violated("parsed values can be written", written.status().ToString());
    absl::StatusOr<Json> reread = cnpgi::ParseJson(*written);
    if (!reread.ok() || *reread != *ours) Violated("written JSON reads back", *written);
    (void)cnpgi::EncodeClusterStatus(*ours);
  } else if (!theirs.is_discarded() &&
             ours.status().message().find("nesting deeper") == absl::string_view::npos &&
             text.find('\0') == std::string_view::npos) {
    // (nlohmann stops reading at a NUL byte, taking it for the end of the
    // input, so it accepts "0\0garbage"; we reject it.)
    Violated("we accept what nlohmann accepts", ours.status().ToString());
  }
}

void FuzzParameters(const cnpgi::Parameters& parameters) {
  cnpgi::ValidationErrors errors;
  for (const auto& [name, value] : parameters.map()) {
    (void)parameters.GetString(name, errors, {.non_empty = true, .one_of = {"a", "b"}});
    (void)parameters.GetBool(name, errors);
    (void)parameters.GetInt(name, errors, {.min = 0, .max = 10});
    (void)parameters.GetDuration(name, errors, {.max = absl::Hours(1)});
    (void)parameters.GetQuantity(name, errors, {.min = 1});
    (void)parameters.GetJson(name, errors);
  }
  parameters.RejectUnknown({"size", "every"}, errors);
  (void)parameters.GetString("required", errors, {.required = true});
  for (const cnpgi::ValidationError& error : errors) {
    if (error.path.empty()) Violated("validation errors have a path", error.message);
    (void)cnpgi::InvalidParameterError(error);
  }
  (void)errors.ToStatus();
}

void FuzzCluster(std::string_view text) {
  absl::StatusOr<cnpgi::Cluster> cluster = cnpgi::Cluster::Parse(text);
  if (!cluster.ok()) return;
  for (const cnpgi::PluginConfiguration& plugin : cluster->plugins()) {
    (void)plugin.enabled();
    (void)plugin.is_wal_archiver();
    FuzzParameters(plugin.parameters());
    if (!cluster->FindPlugin(plugin.name()).has_value()) {
      Violated("FindPlugin finds listed plugins", std::string(plugin.name()));
    }
  }
  for (const cnpgi::ExternalCluster& external : cluster->external_clusters()) {
    if (external.plugin.has_value()) FuzzParameters(external.plugin->parameters());
    (void)cluster->FindExternalClusterPlugin(external.name);
  }
  (void)cluster->recovery_source();
  for (const cnpgi::PluginStatus& status : cluster->plugin_statuses()) {
    (void)status.HasCapability("TYPE_WAL_SERVICE");
    (void)cnpgi::ParseClusterStatus(status.status);
  }
  (void)cluster->GetPlugin("fuzz.example.com");
  if (cluster->SetPluginParameter("fuzz.example.com", "added", "yes").ok()) {
    CheckPatch(std::string(text), *cluster);
  }
}

void FuzzSidecar(std::string_view text) {
  cnpgi::SidecarOptions options;
  options.container = Json::parse(R"({"name":"plugin-fuzz","image":"fuzz:1",
                                      "env":[{"name":"A","value":"mine"}]})");
  options.copy_env = true;
  options.copy_volume_mounts = true;
  options.startup_probe = Json::parse(R"({"exec":{"command":["/ok"]}})");

  absl::StatusOr<cnpgi::Object> first = cnpgi::Object::Parse(text);
  if (!first.ok() || !cnpgi::InjectSidecar(*first, options).ok()) return;
  const std::string sent(text);
  CheckPatch(sent, *first);
  absl::StatusOr<std::string> patch = first->Patch();
  if (!patch.ok()) return;

  // Deterministic: the same input gives the same patch.
  cnpgi::Object second = *cnpgi::Object::Parse(text);
  if (!cnpgi::InjectSidecar(second, options).ok() || *second.Patch() != *patch) {
    Violated("sidecar injection is deterministic", *patch);
  }
  // Idempotent: injecting into the result changes nothing.
  absl::StatusOr<std::string> injected = cnpgi::ToJson(first->json());
  if (!injected.ok()) return;
  absl::StatusOr<cnpgi::Object> again = cnpgi::Object::Parse(*injected);
  if (!again.ok()) Violated("injected object parses", again.status().ToString());
  absl::Status status = cnpgi::InjectSidecar(*again, options);
  absl::StatusOr<std::string> second_patch = again->Patch();
  if (!status.ok() || !second_patch.ok() || !second_patch->empty()) {
    Violated("sidecar injection is idempotent",
             status.ToString() + " " + second_patch.value_or("(error)"));
  }
}

void FuzzViews(std::string_view text) {
  if (absl::StatusOr<cnpgi::Pod> pod = cnpgi::Pod::Parse(text); pod.ok()) {
    const cnpgi::PodSpecView spec = pod->spec();
    for (std::string_view name : spec.container_names()) (void)spec.FindContainer(name);
    (void)spec.FindVolume("plugins");
  }
  if (absl::StatusOr<cnpgi::Job> job = cnpgi::Job::Parse(text); job.ok()) {
    (void)job->job_role();
    (void)job->pod_spec().init_container_names();
  }
  if (absl::StatusOr<cnpgi::Backup> backup = cnpgi::Backup::Parse(text); backup.ok()) {
    (void)backup->cluster_name();
    if (auto plugin = backup->plugin_configuration()) FuzzParameters(plugin->parameters());
  }
}

void FuzzEdits(std::string_view text, std::uint32_t seed) {
  absl::StatusOr<cnpgi::Object> object = cnpgi::Object::Parse(text);
  if (!object.ok()) return;
  (void)object->labels().size();
  for (auto [key, value] : object->annotations()) (void)object->annotation(key);
  std::minstd_rand random(seed);
  const int edits = 1 + static_cast<int>(random() % 4);
  for (int e = 0; e < edits; ++e) {
    if (random() % 8 == 0) {
      (void)object->SetLabel("fuzz", "1");
      continue;
    }
    std::vector<std::string> pointers;
    CollectPointers(object->json(), "", pointers);
    std::string pointer = pointers[random() % pointers.size()];
    if (random() % 4 == 0) pointer += "/new/deeper";  // creation below missing parents
    // Fails (e.g. through a scalar) without calling the lambda.
    (void)object->Edit(pointer, [&](Json& node) {
      if (pointer.empty()) {
        node["extra"] = RandomValue(random);
      } else {
        Mutate(node, random);
      }
    });
  }
  CheckPatch(std::string(text), *object);
}

void FuzzScalars(std::string_view text) {
  if (text.size() > 256) return;
  absl::StatusOr<cnpgi::WalFileName> wal = cnpgi::WalFileName::Parse(text);
  if (wal.ok()) {
    const std::string name = wal->ToString();
    absl::StatusOr<cnpgi::WalFileName> reparsed = cnpgi::WalFileName::Parse(name);
    if (!reparsed.ok() || !(*reparsed == *wal)) Violated("WAL names round-trip", name);
    if (absl::StatusOr<cnpgi::WalFileName> next = wal->Next(); next.ok()) {
      absl::StatusOr<cnpgi::WalFileName> back = next->Previous();
      if (!back.ok() || !(*back == *wal->Segment())) Violated("Next then Previous", name);
    }
  }
  (void)cnpgi::Quantity::Parse(text);
  (void)cnpgi::ParseDuration(text);
  (void)cnpgi::ParseBool(text);
  (void)cnpgi::ParseInt(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::uint32_t seed = 0;
  for (std::size_t i = 0; i < size && i < 4; ++i) seed = seed << 8 | data[i];
  FuzzParser(text);
  FuzzCluster(text);
  FuzzViews(text);
  FuzzSidecar(text);
  FuzzEdits(text, seed);
  FuzzScalars(text);
  return 0;
}
