// One plugin entry of a Cluster or Backup: name, flags and parameters.
#ifndef CNPGI_PLUGIN_CONFIGURATION_H_
#define CNPGI_PLUGIN_CONFIGURATION_H_

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cnpgi/parameters.h"

namespace cnpgi {

// A view of spec.plugins[i], spec.externalClusters[j].plugin (Cluster) or
// spec.pluginConfiguration (Backup). Cheap to copy; valid while the object it
// was taken from is alive and that entry is not edited.
class PluginConfiguration {
 public:
  // `entry` must be a JSON object (the views check this when parsing);
  // `path` is the entry's field path, e.g. {"spec", "plugins", "1"}.
  PluginConfiguration(const nlohmann::json* entry, std::vector<std::string> path);

  // The plugin's name (its GetPluginMetadata name).
  std::string_view name() const;
  // `enabled`, true when absent (the CRD default): a disabled plugin is not
  // loaded by the operator.
  bool enabled() const;
  // `isWALArchiver`, false when absent.
  bool is_wal_archiver() const;
  // The parameters, with paths such as spec.plugins[1].parameters.<name>.
  // By value, so that `cluster.FindPlugin(name)->parameters()` cannot
  // dangle; a copy is one small allocation.
  Parameters parameters() const { return parameters_; }

  // The entry's field path, e.g. {"spec", "plugins", "1"}.
  const std::vector<std::string>& path() const { return path_; }
  // The entry's RFC 6901 pointer, e.g. "/spec/plugins/1", for Object::Edit.
  std::string pointer() const;
  // The entry's index in spec.plugins or spec.externalClusters (0 for a
  // Backup's pluginConfiguration).
  std::size_t index() const { return index_; }
  const nlohmann::json& json() const { return *entry_; }

 private:
  const nlohmann::json* entry_;
  std::vector<std::string> path_;
  std::size_t index_ = 0;
  Parameters parameters_;
};

}  // namespace cnpgi

#endif  // CNPGI_PLUGIN_CONFIGURATION_H_
