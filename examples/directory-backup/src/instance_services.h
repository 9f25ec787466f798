// The instance sidecar's services: WAL archive and restore, base backups
// and metrics, each on the store the Cluster's parameters name.
#ifndef DIRECTORY_BACKUP_INSTANCE_SERVICES_H_
#define DIRECTORY_BACKUP_INSTANCE_SERVICES_H_

#include <cnpgi/cnpgi.h>

#include "plugin.h"

namespace directory_backup {

// WAL Archive, Restore and Status. Archive and Restore are called once per
// file, each from a fresh instance-manager process.
class StoreWalService final : public cnpgi::WalService {
 public:
  absl::Status Archive(cnpgi::CallContext& ctx, const ArchiveRequest& request,
                       ArchiveResult& result) override;
  absl::Status Restore(cnpgi::CallContext& ctx, const RestoreRequest& request,
                       RestoreResult& result) override;
  absl::Status Status(cnpgi::CallContext& ctx, const StatusRequest& request,
                      StatusResult& result) override;
};

// Backup: one base backup per call, then the retention policy. A second
// Backup of the same server while one runs is refused (FailedPrecondition
// naming the running one), not queued: the call has no deadline, and a
// queued Backup would wait invisibly behind one that may last hours, while
// a refused one fails with a reason the user sees in the Backup's status.
class StoreBackupService final : public cnpgi::BackupService {
 public:
  explicit StoreBackupService(Environment environment) : environment_(std::move(environment)) {}
  absl::Status Backup(cnpgi::CallContext& ctx, const Request& request, Result& result) override;

 private:
  const Environment environment_;
};

// Metrics of the Cluster's own store, read from the store at each scrape.
class StoreMetricsService final : public cnpgi::MetricsService {
 public:
  StoreMetricsService();
  const cnpgi::MetricRegistry* DeclaredMetrics() const override { return &registry_; }
  absl::Status OnCollect(cnpgi::CallContext& ctx, const cnpgi::Cluster& cluster,
                         CollectResult& result) override;

 private:
  cnpgi::MetricRegistry registry_;
  struct Metrics;
  std::shared_ptr<const Metrics> metrics_;
};

}  // namespace directory_backup

#endif  // DIRECTORY_BACKUP_INSTANCE_SERVICES_H_
