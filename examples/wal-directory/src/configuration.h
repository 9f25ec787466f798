// Where a Cluster's WAL archive lives, read from its plugin parameters.
//
//   spec:
//     plugins:
//       - name: wal-directory.example.com
//         isWALArchiver: true
//         parameters:
//           directory: /var/lib/wal-archive   # absolute; default: $WAL_DIRECTORY
//           serverName: pg1                   # default: the Cluster's name
//
// The archive of a server is the directory <directory>/<serverName>, so that
// several clusters can share one volume. A Cluster recovering from (or
// replicating) another one names that one as an external cluster using this
// plugin; its parameters say where that cluster's archive is.
#ifndef WAL_DIRECTORY_CONFIGURATION_H_
#define WAL_DIRECTORY_CONFIGURATION_H_

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cnpgi/cluster.h>
#include <cnpgi/plugin_configuration.h>
#include <cnpgi/validation.h>

#include "absl/status/statusor.h"

namespace wal_directory {

inline constexpr std::string_view kPluginName = "wal-directory.example.com";
// Used when a plugin entry has no `directory` parameter.
inline constexpr std::string_view kDirectoryEnv = "WAL_DIRECTORY";

struct ArchiveLocation {
  std::filesystem::path directory;  // the `directory` parameter (or $WAL_DIRECTORY)
  std::string server_name;          // the `serverName` parameter (or the Cluster's name)

  // <directory>/<serverName>
  std::filesystem::path root() const { return directory / server_name; }
};

// Reads and checks one plugin entry (spec.plugins[i] or
// spec.externalClusters[j].plugin) of this plugin. `default_server_name` is
// used when `serverName` is absent; `env_directory` when `directory` is.
// Every problem is added to `errors` with the parameter's path.
std::optional<ArchiveLocation> ReadLocation(const cnpgi::PluginConfiguration& entry,
                                            std::string_view default_server_name,
                                            const std::optional<std::string>& env_directory,
                                            cnpgi::ValidationErrors& errors);

// The process environment's $WAL_DIRECTORY, if set and not empty.
std::optional<std::string> DirectoryFromEnvironment();

// Where this Cluster archives: its spec.plugins entry for `plugin_name`.
// FailedPrecondition when there is none, InvalidArgument listing the bad
// parameters.
absl::StatusOr<ArchiveLocation> ArchiveLocationOf(const cnpgi::Cluster& cluster,
                                                  std::string_view plugin_name,
                                                  const std::optional<std::string>& env_directory);

// Where this Cluster may find WAL to restore, in the order to search: its
// own archive (if it has a spec.plugins entry for `plugin_name`), then the
// archive of its recovery source and of its replica source (external
// clusters whose `plugin` is this plugin; their server name defaults to the
// external cluster's name). Duplicates are removed. InvalidArgument when a
// configured entry is invalid, FailedPrecondition when there is nowhere to
// look.
absl::StatusOr<std::vector<ArchiveLocation>> RestoreLocationsOf(
    const cnpgi::Cluster& cluster, std::string_view plugin_name,
    const std::optional<std::string>& env_directory);

}  // namespace wal_directory

#endif  // WAL_DIRECTORY_CONFIGURATION_H_
