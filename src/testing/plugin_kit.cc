#include "cnpgi/testing/plugin_kit.h"

#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <utility>

#include "testing/internal.h"

namespace cnpgi::test {

class PluginKit::Impl {
 public:
  ~Impl() {
    Shutdown();
    if (!dir.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  }

  void Shutdown() {
    if (server && !stopped) {
      stopped = true;
      server->Shutdown(options.shutdown_grace);
    }
  }

  KitOptions options;
  std::string dir;
  std::unique_ptr<PluginServer> server;
  Endpoint endpoint;
  std::optional<PluginClient> client;
  bool stopped = false;
};

namespace {

absl::StatusOr<std::string> MakeTemporaryDirectory() {
  const char* base = getenv("TMPDIR");
  std::string pattern =
      internal::Cat(base != nullptr && *base != '\0' ? base : "/tmp", "/cnpgi-kit-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(internal::Cat("cannot create a temporary directory like ", pattern));
  }
  return pattern;
}

}  // namespace

absl::StatusOr<PluginKit> PluginKit::Start(PluginServer server, KitOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  absl::StatusOr<std::string> dir = MakeTemporaryDirectory();
  if (!dir.ok()) return dir.status();
  impl->dir = *std::move(dir);

  impl->server = std::make_unique<PluginServer>(std::move(server));
  ServerOptions server_options;
  server_options.plugin_path = impl->dir;
  server_options.log_level = impl->options.log_level;
  server_options.grace_period = impl->options.shutdown_grace;
  if (absl::Status s = impl->server->Start(server_options); !s.ok()) {
    impl->stopped = true;
    return absl::Status(s.code(), internal::Cat("the plugin server did not start: ", s.message()));
  }
  impl->endpoint =
      Endpoint::Unix((std::filesystem::path(impl->dir) / impl->server->metadata().name).string());
  absl::StatusOr<PluginClient> client = PluginClient::Connect(impl->endpoint, impl->options.client);
  if (!client.ok()) return client.status();
  impl->client.emplace(*std::move(client));
  return PluginKit(std::move(impl));
}

PluginKit::PluginKit(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PluginKit::PluginKit(PluginKit&&) noexcept = default;
PluginKit& PluginKit::operator=(PluginKit&&) noexcept = default;
PluginKit::~PluginKit() = default;

PluginClient& PluginKit::client() { return *impl_->client; }

absl::StatusOr<PluginClient> PluginKit::Connect() const { return Connect(impl_->options.client); }

absl::StatusOr<PluginClient> PluginKit::Connect(ClientOptions options) const {
  return PluginClient::Connect(impl_->endpoint, std::move(options));
}

PluginServer& PluginKit::server() { return *impl_->server; }
const Endpoint& PluginKit::endpoint() const { return impl_->endpoint; }
const std::string& PluginKit::socket_path() const { return impl_->endpoint.socket_path; }
const Fixtures& PluginKit::fixtures() const { return impl_->client->fixtures(); }
void PluginKit::Shutdown() { impl_->Shutdown(); }

}  // namespace cnpgi::test
