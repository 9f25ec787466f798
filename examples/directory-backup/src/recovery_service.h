// The restore sidecar's RestoreJobHooks: restores the base backup the
// Cluster's recovery target needs into PGDATA, and answers the
// configuration PostgreSQL recovers with.
#ifndef DIRECTORY_BACKUP_RECOVERY_SERVICE_H_
#define DIRECTORY_BACKUP_RECOVERY_SERVICE_H_

#include <cnpgi/cnpgi.h>

#include "plugin.h"

namespace directory_backup {

// Called once by the full-recovery Job, before PostgreSQL starts, without a
// deadline. The backup comes from the store of the external cluster named by
// spec.bootstrap.recovery.source (recoveryTarget.backupID, or the newest
// backup that ended before targetTime / targetLSN, or the newest). WAL replay
// then goes through restore_command, which is the instance manager's
// wal-restore, back to this sidecar's WAL service.
class StoreRecoveryService final : public cnpgi::RestoreJobService {
 public:
  explicit StoreRecoveryService(Environment environment) : environment_(std::move(environment)) {}
  absl::Status Restore(cnpgi::CallContext& ctx, const Request& request,
                       Response& response) override;

 private:
  const Environment environment_;
};

}  // namespace directory_backup

#endif  // DIRECTORY_BACKUP_RECOVERY_SERVICE_H_
