#include "cnpgi/cluster.h"

#include <string>
#include <utility>

#include "helpers/internal.h"

namespace cnpgi {
namespace {

using internal::Cat;
using internal::Member;
using Json = nlohmann::json;

constexpr std::string_view kCluster = "Cluster";

const Json::array_t* ArrayAt(const Json* value) {
  return value != nullptr && value->is_array() ? &value->get_ref<const Json::array_t&>() : nullptr;
}

// Checks one PluginConfiguration entry at `path` (e.g. "spec.plugins[1]").
absl::Status CheckPluginEntry(const Json& entry, const std::string& path) {
  if (!entry.is_object()) return internal::TypeError(kCluster, path, "an object", entry);
  const Json* name = Member(&entry, "name");
  if (name == nullptr || !name->is_string()) {
    if (name == nullptr || name->is_null()) {
      return absl::InvalidArgumentError(Cat("Cluster ", path, ".name: missing plugin name"));
    }
    return internal::TypeError(kCluster, path + ".name", "a string", *name);
  }
  if (absl::Status s =
          internal::CheckOptionalBool(kCluster, Member(&entry, "enabled"), path + ".enabled");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = internal::CheckOptionalBool(kCluster, Member(&entry, "isWALArchiver"),
                                                   path + ".isWALArchiver");
      !s.ok()) {
    return s;
  }
  return internal::CheckOptionalStringMap(kCluster, Member(&entry, "parameters"),
                                          path + ".parameters");
}

std::string IndexPath(std::string_view array_path, std::size_t i) {
  return Cat(array_path, "[", i, "]");
}

}  // namespace

absl::StatusOr<Cluster> Cluster::Parse(std::string_view text, const JsonLimits& limits) {
  absl::StatusOr<Object> object = ParseAs(text, limits, kApiVersion, kKind, /*strict=*/false);
  if (!object.ok()) return object.status();
  Cluster cluster(*std::move(object));
  if (absl::Status s = cluster.CheckShape(); !s.ok()) return s;
  return cluster;
}

absl::StatusOr<Cluster> Cluster::ParseStrict(std::string_view text, const JsonLimits& limits) {
  absl::StatusOr<Object> object = ParseAs(text, limits, kApiVersion, kKind, /*strict=*/true);
  if (!object.ok()) return object.status();
  Cluster cluster(*std::move(object));
  if (absl::Status s = cluster.CheckShape(); !s.ok()) return s;
  return cluster;
}

absl::StatusOr<Cluster> Cluster::FromObject(Object object) {
  Cluster cluster(std::move(object));
  if (absl::Status s = cluster.CheckKind(kApiVersion, kKind, /*strict=*/false); !s.ok()) return s;
  if (absl::Status s = cluster.CheckShape(); !s.ok()) return s;
  return cluster;
}

absl::Status Cluster::CheckShape() const {
  const Json* spec = Member(&json(), "spec");
  if (absl::Status s = internal::CheckOptionalObject(kCluster, spec, "spec"); !s.ok()) return s;

  const Json* plugins = Member(spec, "plugins");
  if (absl::Status s = internal::CheckOptionalArray(kCluster, plugins, "spec.plugins"); !s.ok()) {
    return s;
  }
  if (const Json::array_t* entries = ArrayAt(plugins)) {
    for (std::size_t i = 0; i < entries->size(); ++i) {
      if (absl::Status s = CheckPluginEntry((*entries)[i], IndexPath("spec.plugins", i)); !s.ok()) {
        return s;
      }
    }
  }

  const Json* externals = Member(spec, "externalClusters");
  if (absl::Status s = internal::CheckOptionalArray(kCluster, externals, "spec.externalClusters");
      !s.ok()) {
    return s;
  }
  if (const Json::array_t* entries = ArrayAt(externals)) {
    for (std::size_t i = 0; i < entries->size(); ++i) {
      const Json& entry = (*entries)[i];
      const std::string path = IndexPath("spec.externalClusters", i);
      if (!entry.is_object()) return internal::TypeError(kCluster, path, "an object", entry);
      if (absl::Status s =
              internal::CheckOptionalString(kCluster, Member(&entry, "name"), path + ".name");
          !s.ok()) {
        return s;
      }
      const Json* plugin = Member(&entry, "plugin");
      if (plugin != nullptr && !plugin->is_null()) {
        if (absl::Status s = CheckPluginEntry(*plugin, path + ".plugin"); !s.ok()) return s;
      }
    }
  }

  for (const char* section : {"bootstrap", "replica"}) {
    const Json* value = Member(spec, section);
    if (absl::Status s = internal::CheckOptionalObject(kCluster, value, Cat("spec.", section));
        !s.ok()) {
      return s;
    }
  }
  const Json* recovery = Member(Member(spec, "bootstrap"), "recovery");
  if (absl::Status s = internal::CheckOptionalObject(kCluster, recovery, "spec.bootstrap.recovery");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = internal::CheckOptionalString(kCluster, Member(recovery, "source"),
                                                     "spec.bootstrap.recovery.source");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = internal::CheckOptionalString(
          kCluster, Member(Member(spec, "replica"), "source"), "spec.replica.source");
      !s.ok()) {
    return s;
  }

  const Json* status = Member(&json(), "status");
  if (absl::Status s = internal::CheckOptionalObject(kCluster, status, "status"); !s.ok()) return s;
  const Json* statuses = Member(status, "pluginStatus");
  if (absl::Status s = internal::CheckOptionalArray(kCluster, statuses, "status.pluginStatus");
      !s.ok()) {
    return s;
  }
  if (const Json::array_t* entries = ArrayAt(statuses)) {
    for (std::size_t i = 0; i < entries->size(); ++i) {
      const Json& entry = (*entries)[i];
      const std::string path = IndexPath("status.pluginStatus", i);
      if (!entry.is_object()) return internal::TypeError(kCluster, path, "an object", entry);
      for (const char* field : {"name", "version", "status"}) {
        if (absl::Status s = internal::CheckOptionalString(kCluster, Member(&entry, field),
                                                           Cat(path, ".", field));
            !s.ok()) {
          return s;
        }
      }
      for (const char* field : {"capabilities", "operatorCapabilities", "walCapabilities",
                                "backupCapabilities", "restoreJobHookCapabilities"}) {
        const Json* list = Member(&entry, field);
        const std::string list_path = Cat(path, ".", field);
        if (absl::Status s = internal::CheckOptionalArray(kCluster, list, list_path); !s.ok()) {
          return s;
        }
        if (const Json::array_t* items = ArrayAt(list)) {
          for (std::size_t j = 0; j < items->size(); ++j) {
            if (!(*items)[j].is_string()) {
              return internal::TypeError(kCluster, IndexPath(list_path, j), "a string",
                                         (*items)[j]);
            }
          }
        }
      }
    }
  }
  return absl::OkStatus();
}

std::vector<PluginConfiguration> Cluster::plugins() const {
  std::vector<PluginConfiguration> out;
  if (const Json::array_t* entries = ArrayAt(Member(Member(&json(), "spec"), "plugins"))) {
    out.reserve(entries->size());
    for (std::size_t i = 0; i < entries->size(); ++i) {
      if (!(*entries)[i].is_object()) continue;  // only after an edit
      out.emplace_back(&(*entries)[i], std::vector<std::string>{"spec", "plugins", Cat(i)});
    }
  }
  return out;
}

std::optional<PluginConfiguration> Cluster::FindPlugin(std::string_view plugin_name) const {
  if (const Json::array_t* entries = ArrayAt(Member(Member(&json(), "spec"), "plugins"))) {
    for (std::size_t i = 0; i < entries->size(); ++i) {
      const Json& entry = (*entries)[i];
      if (internal::StringOrEmpty(Member(&entry, "name")) == plugin_name && entry.is_object()) {
        return PluginConfiguration(&entry, {"spec", "plugins", Cat(i)});
      }
    }
  }
  return std::nullopt;
}

absl::StatusOr<PluginConfiguration> Cluster::GetPlugin(std::string_view plugin_name) const {
  std::optional<PluginConfiguration> plugin = FindPlugin(plugin_name);
  if (plugin.has_value()) return *std::move(plugin);
  std::string configured;
  for (const PluginConfiguration& entry : plugins()) {
    configured += Cat(configured.empty() ? "" : ", ", entry.name());
  }
  return absl::FailedPreconditionError(
      Cat("Cluster ", namespace_(), namespace_().empty() ? "" : "/", name(),
          " has no entry for plugin ", plugin_name,
          " in spec.plugins (configured: ", configured.empty() ? "none" : configured, ")"));
}

std::vector<ExternalCluster> Cluster::external_clusters() const {
  std::vector<ExternalCluster> out;
  if (const Json::array_t* entries = ArrayAt(Member(Member(&json(), "spec"), "externalClusters"))) {
    out.reserve(entries->size());
    for (std::size_t i = 0; i < entries->size(); ++i) {
      const Json& entry = (*entries)[i];
      if (!entry.is_object()) continue;
      ExternalCluster external{internal::StringOrEmpty(Member(&entry, "name")), std::nullopt, i,
                               &entry};
      const Json* plugin = Member(&entry, "plugin");
      if (plugin != nullptr && plugin->is_object()) {
        external.plugin.emplace(
            plugin, std::vector<std::string>{"spec", "externalClusters", Cat(i), "plugin"});
      }
      out.push_back(std::move(external));
    }
  }
  return out;
}

std::optional<ExternalCluster> Cluster::FindExternalCluster(std::string_view name) const {
  for (ExternalCluster& external : external_clusters()) {
    if (external.name == name) return std::move(external);
  }
  return std::nullopt;
}

std::optional<PluginConfiguration> Cluster::FindExternalClusterPlugin(
    std::string_view external_cluster_name) const {
  std::optional<ExternalCluster> external = FindExternalCluster(external_cluster_name);
  if (!external.has_value()) return std::nullopt;
  return std::move(external->plugin);
}

std::string_view Cluster::recovery_source() const {
  return internal::StringOrEmpty(
      Member(Member(Member(Member(&json(), "spec"), "bootstrap"), "recovery"), "source"));
}

std::string_view Cluster::replica_source() const {
  return internal::StringOrEmpty(Member(Member(Member(&json(), "spec"), "replica"), "source"));
}

std::vector<PluginStatus> Cluster::plugin_statuses() const {
  std::vector<PluginStatus> out;
  if (const Json::array_t* entries = ArrayAt(Member(Member(&json(), "status"), "pluginStatus"))) {
    out.reserve(entries->size());
    for (std::size_t i = 0; i < entries->size(); ++i) {
      const Json& entry = (*entries)[i];
      if (!entry.is_object()) continue;
      out.push_back({internal::StringOrEmpty(Member(&entry, "name")),
                     internal::StringOrEmpty(Member(&entry, "version")),
                     internal::StringOrEmpty(Member(&entry, "status")), i, &entry});
    }
  }
  return out;
}

std::optional<PluginStatus> Cluster::FindPluginStatus(std::string_view plugin_name) const {
  for (const PluginStatus& status : plugin_statuses()) {
    if (status.name == plugin_name) return status;
  }
  return std::nullopt;
}

bool PluginStatus::HasCapability(std::string_view capability) const {
  for (const char* field : {"capabilities", "operatorCapabilities", "walCapabilities",
                            "backupCapabilities", "restoreJobHookCapabilities"}) {
    if (const Json::array_t* items = ArrayAt(Member(json, field))) {
      for (const Json& item : *items) {
        if (internal::StringOrEmpty(&item) == capability) return true;
      }
    }
  }
  return false;
}

absl::Status Cluster::SetPluginParameter(std::string_view plugin_name, std::string_view key,
                                         std::string_view value) {
  absl::StatusOr<PluginConfiguration> plugin = GetPlugin(plugin_name);
  if (!plugin.ok()) return plugin.status();
  if (plugin->parameters().Get(key) == value) return absl::OkStatus();  // no snapshot needed
  absl::StatusOr<Json*> parameters = EditAt(plugin->pointer() + "/parameters");
  if (!parameters.ok()) return parameters.status();
  Json& map = **parameters;
  if (map.is_null()) map = Json::value_t::object;
  if (!map.is_object()) {
    return absl::FailedPreconditionError(Cat("cannot set parameter ", key, ": ",
                                             internal::FormatFieldPath(plugin->path()),
                                             ".parameters is ", JsonTypeName(map)));
  }
  map[std::string(key)] = std::string(value);
  return absl::OkStatus();
}

}  // namespace cnpgi
