#include "cnpgi/sidecar.h"

#include <string>
#include <utility>

#include "cnpgi/pod.h"
#include "helpers/internal.h"

namespace cnpgi {
namespace {

using internal::Cat;
using internal::Member;
using Json = nlohmann::json;

// Index of the entry named `name` in the array `list`, or -1.
std::ptrdiff_t IndexOf(const Json* list, std::string_view name) {
  if (list == nullptr || !list->is_array()) return -1;
  const auto& entries = list->get_ref<const Json::array_t&>();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (internal::StringOrEmpty(Member(&entries[i], "name")) == name) {
      return static_cast<std::ptrdiff_t>(i);
    }
  }
  return -1;
}

bool HasPluginsMount(const Json* mounts) {
  if (mounts == nullptr || !mounts->is_array()) return false;
  for (const Json& mount : mounts->get_ref<const Json::array_t&>()) {
    if (internal::StringOrEmpty(Member(&mount, "name")) == kPluginsVolumeName ||
        internal::StringOrEmpty(Member(&mount, "mountPath")) == kPluginsMountPath) {
      return true;
    }
  }
  return false;
}

Json PluginsMount() {
  return Json::object(
      {{"name", std::string(kPluginsVolumeName)}, {"mountPath", std::string(kPluginsMountPath)}});
}

// Appends to `target` (an array, or null) the entries of `source` whose
// `key` value is not already in `target`.
void AppendMissing(Json& target, const Json* source, std::string_view key) {
  if (source == nullptr || !source->is_array()) return;
  if (target.is_null()) target = Json::value_t::array;
  if (!target.is_array()) return;
  for (const Json& entry : source->get_ref<const Json::array_t&>()) {
    const std::string_view value = internal::StringOrEmpty(Member(&entry, key));
    bool present = false;
    for (const Json& existing : target.get_ref<const Json::array_t&>()) {
      if (internal::StringOrEmpty(Member(&existing, key)) == value) {
        present = true;
        break;
      }
    }
    if (!present) target.push_back(entry);
  }
}

// Appends `entry` to the array at `pointer`, creating the array when absent.
absl::Status AppendToArray(Object& object, const std::string& pointer, Json entry) {
  return object.Edit(pointer, [&](Json& list) -> absl::Status {
    if (list.is_null()) list = Json::value_t::array;
    if (!list.is_array()) {
      return absl::FailedPreconditionError(Cat("cannot inject a sidecar: ", pointer, " is ",
                                               JsonTypeName(list), ", expected an array"));
    }
    list.push_back(std::move(entry));
    return absl::OkStatus();
  });
}

std::string Describe(const Object& object) {
  return Cat(object.kind().empty() ? std::string_view("object") : object.kind(), " ",
             object.namespace_(), object.namespace_().empty() ? "" : "/", object.name());
}

absl::Status Inject(Object& object, const SidecarOptions& options);

}  // namespace

absl::Status InjectSidecar(Object& object, const SidecarOptions& options) {
  // Only allocation can throw below; keep the promise that no exception
  // leaves the SDK's API.
  try {
    return Inject(object, options);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while injecting a sidecar");
  } catch (const std::exception& e) {
    return absl::InternalError(Cat("unexpected error while injecting a sidecar: ", e.what()));
  }
}

namespace {

absl::Status Inject(Object& object, const SidecarOptions& options) {
  const std::string_view sidecar_name = internal::StringOrEmpty(Member(&options.container, "name"));
  if (!options.container.is_object() || sidecar_name.empty()) {
    return absl::InvalidArgumentError(
        "SidecarOptions::container must be a JSON object with a non-empty \"name\"");
  }
  if (options.startup_probe.has_value() && !options.startup_probe->is_object()) {
    return absl::InvalidArgumentError(
        Cat("SidecarOptions::startup_probe must be a JSON object, got ",
            JsonTypeName(*options.startup_probe)));
  }
  absl::StatusOr<std::string_view> base_or = PodSpecPointer(object);
  if (!base_or.ok()) return base_or.status();
  const std::string base(*base_or);
  if (absl::Status s = CheckPodSpec(object, base); !s.ok()) return s;
  const Json* spec = object.Find(base);
  const PodSpecView view(spec);

  // The main container.
  std::string main_name = options.main_container;
  if (main_name.empty()) {
    if (object.kind() == "Pod") {
      main_name = "postgres";
    } else {
      const std::string_view role = StringMapView(object.Find("/spec/template/metadata/labels"))
                                        .find("cnpg.io/jobRole")
                                        .value_or(object.label("cnpg.io/jobRole").value_or(""));
      if (!role.empty()) {
        main_name = role;
      } else if (view.containers().size() == 1) {
        main_name = internal::StringOrEmpty(Member(&view.containers()[0], "name"));
      }
    }
  }
  const std::ptrdiff_t main_index = IndexOf(&view.containers(), main_name);
  if (main_name.empty() || main_index < 0) {
    std::string names;
    for (std::string_view name : view.container_names()) {
      names += Cat(names.empty() ? "" : ", ", name);
    }
    return absl::FailedPreconditionError(
        Cat("cannot inject sidecar ", sidecar_name, " into ", Describe(object), ": ",
            main_name.empty() ? std::string("cannot tell its main container, set "
                                            "SidecarOptions::main_container")
                              : Cat("it has no container named ", main_name),
            " (containers: ", names.empty() ? "none" : names, ")"));
  }
  const std::string main_pointer = Cat(base, "/containers/", main_index);

  // The shared socket volume.
  if (view.FindVolume(kPluginsVolumeName) == nullptr) {
    if (absl::Status s = AppendToArray(object, base + "/volumes",
                                       Json::object({{"name", std::string(kPluginsVolumeName)},
                                                     {"emptyDir", Json::object()}}));
        !s.ok()) {
      return s;
    }
  }

  // /plugins in the main container.
  if (!HasPluginsMount(object.Find(main_pointer + "/volumeMounts"))) {
    if (absl::Status s = AppendToArray(object, main_pointer + "/volumeMounts", PluginsMount());
        !s.ok()) {
      return s;
    }
  }

  // The sidecar itself, unless a container of that name exists already.
  // Finds are repeated because the edits above may have moved things.
  const PodSpecView current(object.Find(base));
  if (current.FindInitContainer(sidecar_name) != nullptr ||
      current.FindContainer(sidecar_name) != nullptr) {
    return absl::OkStatus();
  }
  const Json* main = object.Find(main_pointer);
  Json sidecar = options.container;
  sidecar["restartPolicy"] = "Always";
  if (options.startup_probe.has_value() && !sidecar.contains("startupProbe")) {
    sidecar["startupProbe"] = *options.startup_probe;
  }
  if (options.copy_env) AppendMissing(sidecar["env"], Member(main, "env"), "name");
  Json& mounts = sidecar["volumeMounts"];
  if (options.copy_volume_mounts) AppendMissing(mounts, Member(main, "volumeMounts"), "mountPath");
  if (mounts.is_null()) mounts = Json::value_t::array;
  if (!mounts.is_array()) {
    return absl::InvalidArgumentError(
        Cat("SidecarOptions::container.volumeMounts must be an array, got ", JsonTypeName(mounts)));
  }
  if (!HasPluginsMount(&mounts)) mounts.push_back(PluginsMount());
  if (sidecar.contains("env") && sidecar["env"].is_null()) sidecar.erase("env");

  return AppendToArray(object, base + "/initContainers", std::move(sidecar));
}

}  // namespace
}  // namespace cnpgi
