// WAL: archiving and restoring PostgreSQL write-ahead log files.
#ifndef CNPGI_WAL_SERVICE_H_
#define CNPGI_WAL_SERVICE_H_

#include "absl/status/status.h"
#include "cnpgi/call_context.h"
#include "cnpgi/wal/v1/wal.pb.h"

namespace cnpgi {

// Called by the instance manager inside each PostgreSQL Pod, over the Unix
// socket of a sidecar: PostgreSQL's archive_command and restore_command each
// start a fresh process per WAL file that connects, runs the whole
// handshake and makes one call. There is no deadline: a call may take as
// long as the storage needs.
//
// Override the calls the plugin supports; the SDK advertises exactly those.
// Handlers may be called from several threads at once.
class WalService {
 public:
  using ArchiveRequest = wal::v1::WALArchiveRequest;
  using ArchiveResult = wal::v1::WALArchiveResult;
  using RestoreRequest = wal::v1::WALRestoreRequest;
  using RestoreResult = wal::v1::WALRestoreResult;
  using StatusRequest = wal::v1::WALStatusRequest;
  using StatusResult = wal::v1::WALStatusResult;
  using SetFirstRequiredRequest = wal::v1::SetFirstRequiredRequest;
  using SetFirstRequiredResult = wal::v1::SetFirstRequiredResult;

  virtual ~WalService() = default;

  // Store the file at `source_file_name` (an absolute path). OK tells
  // PostgreSQL the file is archived and may be recycled, so answer OK only
  // once it is durably stored. When `check_empty_wal_archive` is true, refuse
  // if the destination already holds an archive.
  virtual absl::Status Archive(CallContext& ctx, const ArchiveRequest& request,
                               ArchiveResult& result);

  // Write the archived file `source_wal_name` to `destination_file_name` (an
  // absolute path). Answer NOT_FOUND when the archive does not have it.
  virtual absl::Status Restore(CallContext& ctx, const RestoreRequest& request,
                               RestoreResult& result);

  // Describe the archive (first and last WAL). Not called by today's operator.
  virtual absl::Status Status(CallContext& ctx, const StatusRequest& request, StatusResult& result);

  // The oldest WAL still needed; older ones may be removed. Not called by
  // today's operator.
  virtual absl::Status SetFirstRequired(CallContext& ctx, const SetFirstRequiredRequest& request,
                                        SetFirstRequiredResult& result);
};

}  // namespace cnpgi

#endif  // CNPGI_WAL_SERVICE_H_
