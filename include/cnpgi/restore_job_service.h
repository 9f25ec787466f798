// RestoreJobHooks: restoring a new Cluster's data from a backup.
#ifndef CNPGI_RESTORE_JOB_SERVICE_H_
#define CNPGI_RESTORE_JOB_SERVICE_H_

#include "absl/status/status.h"
#include "cnpgi/call_context.h"
#include "cnpgi/wal/v1/restore_job.pb.h"

namespace cnpgi {

// Called by the `full-recovery` bootstrap Job when the recovery source is an
// external cluster configured with this plugin, over the Unix socket of a
// sidecar the plugin injected into the Job, without a deadline. Handlers may
// be called from several threads at once.
class RestoreJobService {
 public:
  using Request = wal::v1::RestoreRequest;
  using Response = wal::v1::RestoreResponse;

  virtual ~RestoreJobService() = default;

  // Restore PGDATA (and the WAL volume, if any) before answering, then return
  // the postgresql.conf lines recovery needs, including a working
  // restore_command, in `restore_config`, and environment variables for the
  // recovery run in `envs`.
  virtual absl::Status Restore(CallContext& ctx, const Request& request, Response& response);
};

}  // namespace cnpgi

#endif  // CNPGI_RESTORE_JOB_SERVICE_H_
