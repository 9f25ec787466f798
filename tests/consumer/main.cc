// Uses the installed SDK the way a plugin does: the umbrella header, a
// service class, a PluginServer on a Unix socket, and a generated client stub
// answering through it. Exit 0 means the installed package works.
#include <cnpgi/cnpgi.h>
#include <cnpgi/identity/v1/identity.grpc.pb.h>
#include <grpcpp/grpcpp.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>

namespace {

class Status final : public cnpgi::OperatorService {
  absl::StatusOr<std::optional<nlohmann::json>> OnSetStatusInCluster(
      cnpgi::CallContext&, const cnpgi::Cluster&) override {
    return std::optional<nlohmann::json>(nlohmann::json::object());
  }
};

}  // namespace

int main() {
  char dir_template[] = "/tmp/cnpgi-consumer-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) return 1;

  cnpgi::PluginMetadata metadata{.name = "consumer.cnpgi.example", .version = "0.0.1"};
  cnpgi::PluginServer server(metadata);
  server.Add(std::make_shared<Status>());
  cnpgi::ServerOptions options;
  options.plugin_path = dir;
  options.log_level = spdlog::level::warn;
  if (absl::Status started = server.Start(options); !started.ok()) {
    std::cerr << "cannot start: " << started << "\n";
    return 1;
  }
  auto stub = cnpgi::identity::v1::Identity::NewStub(
      grpc::CreateChannel(server.listening_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  cnpgi::identity::v1::GetPluginMetadataResponse answer;
  const grpc::Status status = stub->GetPluginMetadata(&context, {}, &answer);
  server.Shutdown(absl::Seconds(1));
  rmdir(dir);

  const bool ok = status.ok() && answer.name() == metadata.name &&
                  answer.manifest().at("cnpgi-cpp/sdk-version") == cnpgi::kSdkVersion;
  std::cout << "cnpgi " << cnpgi::LinkedSdkVersion() << " consumer: " << (ok ? "ok" : "FAILED")
            << " (" << status.error_message() << ")\n";
  return ok ? 0 : 1;
}
