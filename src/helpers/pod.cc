#include "cnpgi/pod.h"

#include <string>
#include <utility>

#include "helpers/internal.h"

namespace cnpgi {
namespace {

using internal::Cat;
using internal::Member;
using Json = nlohmann::json;

const Json& EmptyArray() {
  static const Json* const kEmpty = new Json(Json::value_t::array);
  return *kEmpty;
}

const Json& ListOf(const Json* spec, std::string_view field) {
  const Json* list = Member(spec, field);
  return list != nullptr && list->is_array() ? *list : EmptyArray();
}

const Json* FindNamed(const Json& list, std::string_view name) {
  for (const Json& entry : list.get_ref<const Json::array_t&>()) {
    if (internal::StringOrEmpty(Member(&entry, "name")) == name) return &entry;
  }
  return nullptr;
}

std::vector<std::string_view> NamesOf(const Json& list) {
  std::vector<std::string_view> names;
  names.reserve(list.size());
  for (const Json& entry : list.get_ref<const Json::array_t&>()) {
    names.push_back(internal::StringOrEmpty(Member(&entry, "name")));
  }
  return names;
}

// `list` (at `path`) must be absent or an array of objects whose `name`, if
// present, is a string.
absl::Status CheckNamedList(std::string_view what, const Json* list, const std::string& path) {
  if (absl::Status s = internal::CheckOptionalArray(what, list, path); !s.ok()) return s;
  if (list == nullptr || list->is_null()) return absl::OkStatus();
  const auto& entries = list->get_ref<const Json::array_t&>();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string entry_path = Cat(path, "[", i, "]");
    if (!entries[i].is_object()) {
      return internal::TypeError(what, entry_path, "an object", entries[i]);
    }
    if (absl::Status s =
            internal::CheckOptionalString(what, Member(&entries[i], "name"), entry_path + ".name");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status CheckContainers(std::string_view what, const Json* list, const std::string& path) {
  if (absl::Status s = CheckNamedList(what, list, path); !s.ok()) return s;
  if (list == nullptr || list->is_null()) return absl::OkStatus();
  const auto& containers = list->get_ref<const Json::array_t&>();
  for (std::size_t i = 0; i < containers.size(); ++i) {
    const std::string container_path = Cat(path, "[", i, "]");
    if (absl::Status s =
            CheckNamedList(what, Member(&containers[i], "env"), container_path + ".env");
        !s.ok()) {
      return s;
    }
    const Json* mounts = Member(&containers[i], "volumeMounts");
    const std::string mounts_path = container_path + ".volumeMounts";
    if (absl::Status s = CheckNamedList(what, mounts, mounts_path); !s.ok()) return s;
    if (mounts != nullptr && mounts->is_array()) {
      const auto& entries = mounts->get_ref<const Json::array_t&>();
      for (std::size_t j = 0; j < entries.size(); ++j) {
        if (absl::Status s = internal::CheckOptionalString(what, Member(&entries[j], "mountPath"),
                                                           Cat(mounts_path, "[", j, "].mountPath"));
            !s.ok()) {
          return s;
        }
      }
    }
  }
  return absl::OkStatus();
}

// Dotted form of a pointer such as "/spec/template/spec" for messages.
std::string DottedPath(std::string_view pointer) {
  std::string out;
  internal::PointerTokens tokens(pointer);
  std::string_view token;
  while (tokens.Next(token)) internal::AppendFieldPath(out, internal::PathStep::Member(token));
  return out;
}

}  // namespace

const nlohmann::json& PodSpecView::containers() const { return ListOf(spec_, "containers"); }
const nlohmann::json& PodSpecView::init_containers() const {
  return ListOf(spec_, "initContainers");
}
const nlohmann::json& PodSpecView::volumes() const { return ListOf(spec_, "volumes"); }

const nlohmann::json* PodSpecView::FindContainer(std::string_view name) const {
  return FindNamed(containers(), name);
}
const nlohmann::json* PodSpecView::FindInitContainer(std::string_view name) const {
  return FindNamed(init_containers(), name);
}
const nlohmann::json* PodSpecView::FindVolume(std::string_view name) const {
  return FindNamed(volumes(), name);
}
std::vector<std::string_view> PodSpecView::container_names() const { return NamesOf(containers()); }
std::vector<std::string_view> PodSpecView::init_container_names() const {
  return NamesOf(init_containers());
}

absl::StatusOr<std::string_view> PodSpecPointer(const Object& object) {
  const std::string_view kind = object.kind();
  if (kind == "Pod") return std::string_view("/spec");
  if (kind == "Job" || kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" ||
      kind == "ReplicaSet") {
    return std::string_view("/spec/template/spec");
  }
  return absl::InvalidArgumentError(
      Cat("expected an object with a pod spec (Pod, Job, ...), got ",
          kind.empty() ? std::string("an object without kind") : Cat("a ", kind),
          object.name().empty() ? "" : Cat(" named ", object.name())));
}

absl::Status CheckPodSpec(const Object& object, std::string_view pointer) {
  const std::string_view what = object.kind().empty() ? "object" : object.kind();
  // Every step down to the PodSpec must be an object when present.
  const Json* node = &object.json();
  std::string path;
  internal::PointerTokens tokens(pointer);
  std::string_view token;
  while (node != nullptr && tokens.Next(token)) {
    internal::AppendFieldPath(path, internal::PathStep::Member(token));
    node = Member(node, token);
    if (absl::Status s = internal::CheckOptionalObject(what, node, path); !s.ok()) return s;
  }
  if (node == nullptr || node->is_null()) return absl::OkStatus();
  const std::string base = DottedPath(pointer);
  if (absl::Status s = CheckContainers(what, Member(node, "containers"), base + ".containers");
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckContainers(what, Member(node, "initContainers"), base + ".initContainers");
      !s.ok()) {
    return s;
  }
  return CheckNamedList(what, Member(node, "volumes"), base + ".volumes");
}

absl::StatusOr<Pod> Pod::Parse(std::string_view text, const JsonLimits& limits) {
  absl::StatusOr<Object> object = ParseAs(text, limits, kApiVersion, kKind, /*strict=*/false);
  if (!object.ok()) return object.status();
  if (absl::Status s = CheckPodSpec(*object, "/spec"); !s.ok()) return s;
  return Pod(*std::move(object));
}

absl::StatusOr<Pod> Pod::ParseStrict(std::string_view text, const JsonLimits& limits) {
  absl::StatusOr<Object> object = ParseAs(text, limits, kApiVersion, kKind, /*strict=*/true);
  if (!object.ok()) return object.status();
  if (absl::Status s = CheckPodSpec(*object, "/spec"); !s.ok()) return s;
  return Pod(*std::move(object));
}

absl::StatusOr<Pod> Pod::FromObject(Object object) {
  Pod pod(std::move(object));
  if (absl::Status s = pod.CheckKind(kApiVersion, kKind, /*strict=*/false); !s.ok()) return s;
  if (absl::Status s = CheckPodSpec(pod, "/spec"); !s.ok()) return s;
  return pod;
}

PodSpecView Pod::spec() const { return PodSpecView(Member(&json(), "spec")); }

absl::StatusOr<Job> Job::Parse(std::string_view text, const JsonLimits& limits) {
  absl::StatusOr<Object> object = ParseAs(text, limits, kApiVersion, kKind, /*strict=*/false);
  if (!object.ok()) return object.status();
  if (absl::Status s = CheckPodSpec(*object, "/spec/template/spec"); !s.ok()) return s;
  return Job(*std::move(object));
}

absl::StatusOr<Job> Job::ParseStrict(std::string_view text, const JsonLimits& limits) {
  absl::StatusOr<Object> object = ParseAs(text, limits, kApiVersion, kKind, /*strict=*/true);
  if (!object.ok()) return object.status();
  if (absl::Status s = CheckPodSpec(*object, "/spec/template/spec"); !s.ok()) return s;
  return Job(*std::move(object));
}

absl::StatusOr<Job> Job::FromObject(Object object) {
  Job job(std::move(object));
  if (absl::Status s = job.CheckKind(kApiVersion, kKind, /*strict=*/false); !s.ok()) return s;
  if (absl::Status s = CheckPodSpec(job, "/spec/template/spec"); !s.ok()) return s;
  return job;
}

PodSpecView Job::pod_spec() const { return PodSpecView(Find("/spec/template/spec")); }

std::string_view Job::job_role() const {
  constexpr std::string_view kLabel = "cnpg.io/jobRole";
  const Json* template_labels = Find("/spec/template/metadata/labels");
  if (std::optional<std::string_view> role = StringMapView(template_labels).find(kLabel)) {
    return *role;
  }
  return label(kLabel).value_or("");
}

}  // namespace cnpgi
