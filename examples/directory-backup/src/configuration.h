// The plugin's parameters, read from the Cluster (and the Backup).
//
//   spec:
//     plugins:
//       - name: directory-backup.example.com
//         isWALArchiver: true
//         parameters:
//           destination: /backups        # absolute; where the store volume is mounted
//           serverName: pg1              # default: the Cluster's name
//           retention: 7d                # or "3 backups"; default: keep everything
//           maxRate: 100Mi               # bytes/s a backup may read; default: no limit
//           immediateCheckpoint: "true"  # start backups with a fast checkpoint; default false
//           volumeClaim: backups         # PVC mounted at `destination` in the sidecar (optional)
//
// The store of a server is <destination>/<serverName>, so that several
// clusters can share one volume. A Cluster recovering from (or replicating)
// another one names that one as an external cluster using this plugin; its
// parameters say where that cluster's store is. A Backup may override
// maxRate and immediateCheckpoint in spec.pluginConfiguration.parameters.
#ifndef DIRECTORY_BACKUP_CONFIGURATION_H_
#define DIRECTORY_BACKUP_CONFIGURATION_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cnpgi/backup.h>
#include <cnpgi/cluster.h>
#include <cnpgi/plugin_configuration.h>
#include <cnpgi/validation.h>

#include "absl/status/statusor.h"
#include "retention.h"

namespace directory_backup {

inline constexpr std::string_view kPluginName = "directory-backup.example.com";
inline constexpr std::string_view kVersion = "0.2.0";

// One server's store, as configured.
struct StoreLocation {
  std::filesystem::path destination;  // the `destination` parameter
  std::string server_name;            // the `serverName` parameter (or a default)

  // <destination>/<serverName>
  std::filesystem::path root() const { return destination / server_name; }
};

// A plugin entry of this plugin, read and checked.
struct StoreConfiguration {
  StoreLocation location;
  RetentionPolicy retention;
  std::int64_t max_rate = 0;  // bytes per second, 0 = no limit
  bool immediate_checkpoint = false;
  std::string volume_claim;  // "" = the volume is provided some other way
};

// Reads one plugin entry (spec.plugins[i] or spec.externalClusters[j].plugin)
// of this plugin. `default_server_name` is used when `serverName` is absent.
// Every problem is added to `errors` with the parameter's path.
std::optional<StoreConfiguration> ReadConfiguration(const cnpgi::PluginConfiguration& entry,
                                                    std::string_view default_server_name,
                                                    cnpgi::ValidationErrors& errors);

// The configuration of this Cluster's own store (its spec.plugins entry for
// `plugin_name`). FailedPrecondition when there is none, InvalidArgument
// listing the bad parameters.
absl::StatusOr<StoreConfiguration> OwnConfiguration(const cnpgi::Cluster& cluster,
                                                    std::string_view plugin_name);

// Every problem with this plugin's entries in the Cluster: spec.plugins and
// the external clusters using it.
void ValidateCluster(const cnpgi::Cluster& cluster, std::string_view plugin_name,
                     cnpgi::ValidationErrors& errors);

// The store of the external cluster this Cluster recovers from
// (spec.bootstrap.recovery.source). FailedPrecondition when there is no
// recovery source or it does not use this plugin.
absl::StatusOr<StoreConfiguration> RecoverySourceConfiguration(const cnpgi::Cluster& cluster,
                                                               std::string_view plugin_name);

// Where this Cluster may find WAL to restore, in the order to search: its
// own store (if it has a spec.plugins entry for `plugin_name`), then the
// store of its recovery source and of its replica source (external
// clusters whose `plugin` is this plugin; their server name defaults to the
// external cluster's name). Duplicates are removed. InvalidArgument when a
// configured entry is invalid, FailedPrecondition when there is nowhere to
// look.
absl::StatusOr<std::vector<StoreLocation>> RestoreLocationsOf(const cnpgi::Cluster& cluster,
                                                              std::string_view plugin_name);

// A Backup's own settings: the Cluster's, overridden by the Backup's
// spec.pluginConfiguration.parameters (maxRate, immediateCheckpoint; any
// other parameter is refused with InvalidArgument naming it).
absl::StatusOr<StoreConfiguration> ApplyBackupParameters(StoreConfiguration base,
                                                         const cnpgi::Backup& backup);

// "3 backups" / "1 backup" or a duration ("7d", "36h"). InvalidArgument
// saying what is accepted.
absl::StatusOr<RetentionPolicy> ParseRetention(std::string_view text);

}  // namespace directory_backup

#endif  // DIRECTORY_BACKUP_CONFIGURATION_H_
