// The WAL service of the wal-directory plugin: Archive, Restore and Status
// on a directory per server (see configuration.h and wal_directory.h).
#ifndef WAL_DIRECTORY_WAL_SERVICE_H_
#define WAL_DIRECTORY_WAL_SERVICE_H_

#include <optional>
#include <string>

#include <cnpgi/cnpgi.h>

namespace wal_directory {

class DirectoryWalService final : public cnpgi::WalService {
 public:
  // `env_directory`: the archive directory used when a plugin entry has no
  // `directory` parameter (main() passes $WAL_DIRECTORY).
  explicit DirectoryWalService(std::optional<std::string> env_directory = std::nullopt)
      : env_directory_(std::move(env_directory)) {}

  absl::Status Archive(cnpgi::CallContext& ctx, const ArchiveRequest& request,
                       ArchiveResult& result) override;
  absl::Status Restore(cnpgi::CallContext& ctx, const RestoreRequest& request,
                       RestoreResult& result) override;
  absl::Status Status(cnpgi::CallContext& ctx, const StatusRequest& request,
                      StatusResult& result) override;

 private:
  const std::optional<std::string> env_directory_;
};

// The plugin's identity.
cnpgi::PluginMetadata Metadata();

}  // namespace wal_directory

#endif  // WAL_DIRECTORY_WAL_SERVICE_H_
