#include "configuration.h"

#include <cstdlib>
#include <initializer_list>
#include <utility>

#include <cnpgi/parameters.h>

#include "absl/status/status.h"

namespace wal_directory {
namespace {

// Concatenation taking std::string_view (Debian's absl::StrCat does not),
// without GCC 12's -Wrestrict false positive on `"literal" + std::string`.
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

bool IsSafeServerName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool SameLocation(const ArchiveLocation& a, const ArchiveLocation& b) {
  return a.root().lexically_normal() == b.root().lexically_normal();
}

}  // namespace

std::optional<std::string> DirectoryFromEnvironment() {
  const char* value = std::getenv(std::string(kDirectoryEnv).c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::optional<ArchiveLocation> ReadLocation(const cnpgi::PluginConfiguration& entry,
                                            std::string_view default_server_name,
                                            const std::optional<std::string>& env_directory,
                                            cnpgi::ValidationErrors& errors) {
  const cnpgi::Parameters p = entry.parameters();
  const std::size_t errors_before = errors.size();
  p.RejectUnknown({"directory", "serverName"}, errors);

  ArchiveLocation location;
  std::optional<std::string_view> directory = p.GetString("directory", errors, {.non_empty = true});
  if (directory) {
    location.directory = std::filesystem::path(*directory);
  } else if (!p.contains("directory") && env_directory) {
    location.directory = std::filesystem::path(*env_directory);
  } else if (!p.contains("directory")) {
    errors.Add(
        p.Error("directory", Cat({"required: the absolute path of the archive volume (or set ",
                                  kDirectoryEnv, " in the plugin's container)"})));
  }
  if (!location.directory.empty() && !location.directory.is_absolute()) {
    errors.Add(p.Error("directory", "must be an absolute path"));
  }
  location.directory = location.directory.lexically_normal();

  std::optional<std::string_view> server = p.GetString("serverName", errors);
  location.server_name = std::string(server.value_or(default_server_name));
  if (!IsSafeServerName(location.server_name)) {
    errors.Add(p.Error("serverName",
                       Cat({"must be a single directory name made of letters, digits, '-', '_' "
                            "and '.' (got \"",
                            location.server_name, "\")"})));
  }
  if (errors.size() != errors_before) return std::nullopt;
  return location;
}

absl::StatusOr<ArchiveLocation> ArchiveLocationOf(const cnpgi::Cluster& cluster,
                                                  std::string_view plugin_name,
                                                  const std::optional<std::string>& env_directory) {
  absl::StatusOr<cnpgi::PluginConfiguration> entry = cluster.GetPlugin(plugin_name);
  if (!entry.ok()) return entry.status();
  cnpgi::ValidationErrors errors;
  std::optional<ArchiveLocation> location =
      ReadLocation(*entry, cluster.name(), env_directory, errors);
  if (!location) return errors.ToStatus();
  return *location;
}

absl::StatusOr<std::vector<ArchiveLocation>> RestoreLocationsOf(
    const cnpgi::Cluster& cluster, std::string_view plugin_name,
    const std::optional<std::string>& env_directory) {
  std::vector<ArchiveLocation> locations;
  cnpgi::ValidationErrors errors;
  auto add = [&](const cnpgi::PluginConfiguration& entry, std::string_view default_server) {
    std::optional<ArchiveLocation> location =
        ReadLocation(entry, default_server, env_directory, errors);
    if (!location) return;
    for (const ArchiveLocation& known : locations) {
      if (SameLocation(known, *location)) return;
    }
    locations.push_back(std::move(*location));
  };

  if (std::optional<cnpgi::PluginConfiguration> own = cluster.FindPlugin(plugin_name)) {
    if (own->enabled()) add(*own, cluster.name());
  }
  for (std::string_view source : {cluster.recovery_source(), cluster.replica_source()}) {
    if (source.empty()) continue;
    std::optional<cnpgi::PluginConfiguration> entry = cluster.FindExternalClusterPlugin(source);
    if (entry && entry->name() == plugin_name && entry->enabled()) add(*entry, source);
  }
  if (!errors.empty()) return errors.ToStatus();
  if (locations.empty()) {
    return absl::FailedPreconditionError(
        Cat({"Cluster ", cluster.name(), " configures no WAL archive of plugin ", plugin_name,
             ": neither in spec.plugins nor in the external cluster of its recovery or replica "
             "source"}));
  }
  return locations;
}

}  // namespace wal_directory
