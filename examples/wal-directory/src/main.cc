// wal-directory: a CNPG-I plugin archiving PostgreSQL WAL files to a
// directory. It runs as a sidecar of each instance Pod and listens on the
// Unix socket /plugins/wal-directory.example.com, where the instance
// manager's wal-archive and wal-restore commands find it.
//
//   wal-directory [--plugin-path=/plugins] [--log-level=info] ...
//
// The archive directory comes from the Cluster (spec.plugins[].parameters.
// directory), or from $WAL_DIRECTORY when the parameter is absent.
#include <memory>
#include <string_view>
#include <vector>

#include <cnpgi/cnpgi.h>

#include "configuration.h"
#include "wal_service.h"

int main(int argc, char** argv) {
  // Manifests written for Go plugins start the arguments with a subcommand;
  // accept the word Go plugins use for the sidecar, as they do.
  std::vector<char*> args(argv, argv + argc);
  if (args.size() > 1 &&
      (std::string_view(args[1]) == "instance" || std::string_view(args[1]) == "plugin")) {
    args.erase(args.begin() + 1);
  }
  return cnpgi::PluginServer(wal_directory::Metadata())
      .add(std::make_shared<wal_directory::DirectoryWalService>(
          wal_directory::DirectoryFromEnvironment()))
      .run(static_cast<int>(args.size()), args.data());
}
