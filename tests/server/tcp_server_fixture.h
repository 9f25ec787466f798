// A PluginServer over TCP with mutual TLS, as the operator reaches a plugin
// deployed behind a Service: self-made certificates in Secret volumes.
#ifndef CNPGI_TESTS_SERVER_TCP_SERVER_FIXTURE_H_
#define CNPGI_TESTS_SERVER_TCP_SERVER_FIXTURE_H_

#include <memory>
#include <string>

#include "cnpgi/plugin_server.h"
#include "support/secret_volume.h"
#include "support/temp_dir.h"
#include "support/test_certificates.h"
#include "test_plugins.h"

namespace cnpgi::testing_support {

class TcpServer {
 public:
  TcpServer()
      : server_cert_(MakeServerCertificate()),
        client_cert_(MakeClientCertificate()),
        server_secret_(dir_ / "server",
                       {{"tls.crt", server_cert_.cert_pem}, {"tls.key", server_cert_.key_pem}}),
        client_secret_(dir_ / "client", {{"tls.crt", client_cert_.cert_pem}}) {}

  ~TcpServer() { server_.Shutdown(absl::Seconds(1)); }

  // `options` adds to the transport's (e.g. a metrics address).
  absl::Status Start(cnpgi::ServerOptions options = {}) {
    server_.Add(std::make_shared<testing_plugins::StatusOnlyOperator>());
    options.server_address = "127.0.0.1:0";
    options.server_cert = server_secret_.path("tls.crt").string();
    options.server_key = server_secret_.path("tls.key").string();
    options.client_cert = client_secret_.path("tls.crt").string();
    options.tls_reload_interval = absl::Milliseconds(100);
    options.log_level = spdlog::level::warn;
    return server_.Start(options);
  }

  std::string address() const { return server_.listening_address(); }
  int port() const { return std::stoi(address().substr(address().rfind(':') + 1)); }
  const Certificate& server_cert() const { return server_cert_; }
  const Certificate& client_cert() const { return client_cert_; }
  SecretVolume& client_secret() { return client_secret_; }
  SecretVolume& server_secret() { return server_secret_; }
  PluginServer& server() { return server_; }

 private:
  TempDir dir_;
  Certificate server_cert_;
  Certificate client_cert_;
  SecretVolume server_secret_;
  SecretVolume client_secret_;
  PluginServer server_{testing_plugins::TestMetadata()};
};

}  // namespace cnpgi::testing_support

#endif  // CNPGI_TESTS_SERVER_TCP_SERVER_FIXTURE_H_
