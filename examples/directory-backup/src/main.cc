// directory-backup: a backup plugin for CloudNativePG (see plugin.h).
//
//   directory-backup operator [--server-address=:9090 --server-cert=... ...]
//   directory-backup instance [--plugin-path=/plugins] ...
//   directory-backup restore  [--plugin-path=/plugins] ...
//   directory-backup healthcheck [--plugin-path=/plugins]
//
// The flags after the role are those of the Go plugins (see --help).
// `healthcheck` is the sidecar's startup probe: it exits 0 once the plugin's
// socket answers Probe.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <cnpgi/identity/v1/identity.grpc.pb.h>

#include "configuration.h"
#include "plugin.h"

namespace {

int HealthCheck(int argc, char** argv) {
  std::string dir = "/plugins";
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.substr(0, 14) == "--plugin-path=") {
      dir = std::string(arg.substr(14));
    } else {
      std::cerr << "healthcheck: unknown argument " << arg << " (only --plugin-path=DIR)\n";
      return 2;
    }
  }
  const std::string target = "unix:" + dir + "/" + std::string(directory_backup::kPluginName);
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = cnpgi::identity::v1::Identity::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  cnpgi::identity::v1::ProbeRequest request;
  cnpgi::identity::v1::ProbeResponse response;
  grpc::Status status = stub->Probe(&context, request, &response);
  if (!status.ok()) {
    std::cerr << "healthcheck: " << target << ": " << status.error_message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]).substr(0, 1) == "-") {
    std::cerr << "usage: " << argv[0] << " operator|instance|restore|healthcheck [flags]\n";
    return 2;
  }
  if (std::string_view(argv[1]) == "healthcheck") return HealthCheck(argc, argv);
  absl::StatusOr<directory_backup::Role> role = directory_backup::ParseRole(argv[1]);
  if (!role.ok()) {
    std::cerr << argv[0] << ": " << role.status().message() << "\n";
    return 2;
  }
  std::vector<char*> args(argv, argv + argc);
  args.erase(args.begin() + 1);
  return directory_backup::MakeServer(*role, directory_backup::Environment::FromProcess())
      .Run(static_cast<int>(args.size()), args.data());
}
