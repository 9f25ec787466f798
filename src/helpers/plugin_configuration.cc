#include "cnpgi/plugin_configuration.h"

#include <string>
#include <utility>

#include "helpers/internal.h"

namespace cnpgi {

namespace {

std::vector<std::string> Append(std::vector<std::string> path, std::string_view step) {
  path.emplace_back(step);
  return path;
}

}  // namespace

PluginConfiguration::PluginConfiguration(const nlohmann::json* entry, std::vector<std::string> path)
    : entry_(entry),
      path_(std::move(path)),
      parameters_(internal::Member(entry, "parameters"), Append(path_, "parameters")) {
  // The index is the last all-digit step: spec.plugins[i] or
  // spec.externalClusters[j].plugin.
  for (auto it = path_.rbegin(); it != path_.rend(); ++it) {
    if (internal::ParseArrayIndex(*it, index_)) break;
  }
}

std::string_view PluginConfiguration::name() const {
  return internal::StringOrEmpty(internal::Member(entry_, "name"));
}

bool PluginConfiguration::enabled() const {
  const nlohmann::json* value = internal::Member(entry_, "enabled");
  return value == nullptr || !value->is_boolean() || value->get<bool>();
}

bool PluginConfiguration::is_wal_archiver() const {
  const nlohmann::json* value = internal::Member(entry_, "isWALArchiver");
  return value != nullptr && value->is_boolean() && value->get<bool>();
}

std::string PluginConfiguration::pointer() const {
  std::string out;
  for (const std::string& step : path_) AppendJsonPointerToken(step, out);
  return out;
}

}  // namespace cnpgi
