// Backup: physical base backups of a PostgreSQL instance.
#ifndef CNPGI_BACKUP_SERVICE_H_
#define CNPGI_BACKUP_SERVICE_H_

#include "absl/status/status.h"
#include "cnpgi/backup/v1/backup.pb.h"
#include "cnpgi/call_context.h"

namespace cnpgi {

// Called once per Backup resource with `method: plugin`, by the instance
// manager of the chosen Pod, over the Unix socket of a sidecar, synchronously
// and without a deadline: the call lasts as long as the backup. Handlers may
// be called from several threads at once.
class BackupService {
 public:
  using Request = backup::v1::BackupRequest;
  using Result = backup::v1::BackupResult;

  virtual ~BackupService() = default;

  // Take the backup, then describe it in `result`. Always fill `started_at`
  // and `stopped_at` (Unix seconds), `backup_id` and `online`: the operator
  // copies them into the Backup's status as they are.
  virtual absl::Status Backup(CallContext& ctx, const Request& request, Result& result);
};

}  // namespace cnpgi

#endif  // CNPGI_BACKUP_SERVICE_H_
