// The operator-side services: parameter validation and the Cluster status
// (Operator), and the sidecar injection (OperatorLifecycle).
#ifndef DIRECTORY_BACKUP_OPERATOR_SERVICES_H_
#define DIRECTORY_BACKUP_OPERATOR_SERVICES_H_

#include <string>
#include <vector>

#include <cnpgi/cnpgi.h>

#include "plugin.h"

namespace directory_backup {

// Validation (for when the operator calls it again: today's only makes
// SetStatusInCluster, so the lifecycle hook refuses bad parameters too) and
// the status: the store's backups, when this process sees the store (the
// Deployment mounts the same volume); nothing otherwise.
class StoreOperatorService final : public cnpgi::OperatorService {
 public:
  absl::Status OnValidateClusterCreate(cnpgi::CallContext& ctx, const cnpgi::Cluster& cluster,
                                       cnpgi::ValidationErrors& errors) override;
  absl::Status OnValidateClusterChange(cnpgi::CallContext& ctx, const cnpgi::Cluster& old_cluster,
                                       const cnpgi::Cluster& new_cluster,
                                       cnpgi::ValidationErrors& errors) override;
  absl::StatusOr<std::optional<nlohmann::json>> OnSetStatusInCluster(
      cnpgi::CallContext& ctx, const cnpgi::Cluster& cluster) override;
};

// Injects the plugin's sidecar: `instance` into every instance Pod of a
// Cluster that uses the plugin (EVALUATE and CREATE), `restore` into its
// full-recovery Job when the recovery source uses the plugin (CREATE). The
// sidecar is a native sidecar with the postgres (or Job) container's
// environment and volume mounts (PGDATA, the PostgreSQL socket), the
// `plugins` volume, the store's volume claim at `destination` when
// `volumeClaim` is set, and a startup probe (`directory-backup healthcheck`)
// so that PostgreSQL starts only once the socket answers.
class SidecarInjector final : public cnpgi::LifecycleService {
 public:
  explicit SidecarInjector(Environment environment) : environment_(std::move(environment)) {}
  std::vector<cnpgi::LifecycleSubscription> Subscriptions() const override;
  absl::Status OnLifecycle(cnpgi::CallContext& ctx, const cnpgi::Cluster& cluster,
                           cnpgi::Object& object, cnpgi::LifecycleOperation operation) override;

 private:
  const Environment environment_;
};

// Where the image puts the binary (the startup probe runs it).
inline constexpr std::string_view kBinaryPath = "/usr/local/bin/directory-backup";
inline constexpr std::string_view kSidecarName = "directory-backup";

}  // namespace directory_backup

#endif  // DIRECTORY_BACKUP_OPERATOR_SERVICES_H_
