// directory-backup: a complete backup plugin for CloudNativePG, written with
// cnpgi-cpp. One binary, three roles, as CloudNativePG runs backup plugins:
//
//   operator   a Deployment behind a Service (TCP, mutual TLS): validates the
//              plugin's parameters, injects the sidecar into instance Pods
//              and full-recovery Jobs, reports the store in the Cluster's
//              status;
//   instance   the sidecar of every instance Pod (Unix socket in /plugins):
//              WAL archive and restore, base backups, metrics;
//   restore    the sidecar of the full-recovery Job: restores a base backup
//              into PGDATA, then serves WAL restore during recovery.
//
// See the README for the store layout, the parameters and the rules each
// call follows.
#ifndef DIRECTORY_BACKUP_PLUGIN_H_
#define DIRECTORY_BACKUP_PLUGIN_H_

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <cnpgi/cnpgi.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace directory_backup {

enum class Role { kOperator, kInstance, kRestore };

// "operator", "instance" or "restore"; InvalidArgument listing them.
absl::StatusOr<Role> ParseRole(std::string_view name);
std::string_view RoleName(Role role);

// What CloudNativePG's recovery runs as restore_command: its instance manager,
// which calls WAL Restore of the plugins in /plugins.
inline constexpr std::string_view kDefaultRestoreCommand =
    "/controller/manager wal-restore --log-destination /controller/log/postgres.json %f %p";

// What the roles take from their container rather than from the Cluster.
struct Environment {
  // restore: the data directory to restore into ($PGDATA, which the sidecar
  // copies from the Job's container).
  std::filesystem::path pgdata;
  // restore: where pg_wal goes when the Cluster has spec.walStorage.
  // CloudNativePG mounts the data volume at /var/lib/postgresql/data (PGDATA
  // is its pgdata directory) and the WAL volume at /var/lib/postgresql/wal:
  // the WAL directory is <PGDATA>/../../wal/pg_wal.
  std::filesystem::path WalVolume() const {
    return pgdata.parent_path().parent_path() / "wal" / "pg_wal";
  }
  // restore: the restore_command answered for recovery.
  std::string restore_command = std::string(kDefaultRestoreCommand);
  // instance: how long a backup waits for its last WAL segment to be
  // archived (a standby's backup waits for the primary).
  absl::Duration wal_wait = absl::Minutes(10);
  // operator: the image of the injected sidecar ($SIDECAR_IMAGE); the
  // operator role refuses to inject without one.
  std::string sidecar_image;

  // From the process environment.
  static Environment FromProcess();
};

cnpgi::PluginMetadata Metadata();

// The server of a role, as main() runs it (tests start it too).
cnpgi::PluginServer MakeServer(Role role, const Environment& environment);

}  // namespace directory_backup

#endif  // DIRECTORY_BACKUP_PLUGIN_H_
