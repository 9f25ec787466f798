// A real gRPC server on 127.0.0.1 (kernel-chosen port) serving a minimal
// CNPG-I Identity service, for the TLS tests; the SDK's PluginServer is not
// involved, only the credentials under test.
#ifndef CNPGI_TESTS_TLS_TEST_SERVER_H_
#define CNPGI_TESTS_TLS_TEST_SERVER_H_

#include <grpcpp/channel.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace cnpgi::tls_test {

class TestServer {
 public:
  // Fails the calling test (ADD_FAILURE) and leaves port() at 0 when the
  // server does not start.
  explicit TestServer(std::shared_ptr<grpc::ServerCredentials> credentials);
  ~TestServer();

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// Identity.Probe over `channel`, bounded by `deadline`.
grpc::Status CallProbe(const std::shared_ptr<grpc::Channel>& channel,
                       std::chrono::milliseconds deadline = std::chrono::seconds(5));

// Calls `attempt` until it returns true or `bound` has passed, pausing
// between attempts; returns the last result. For effects that happen on a
// timer (certificate reloads): the bound is a safety net against hanging,
// never a measurement.
bool Eventually(const std::function<bool()>& attempt,
                std::chrono::milliseconds bound = std::chrono::seconds(30));

}  // namespace cnpgi::tls_test

#endif  // CNPGI_TESTS_TLS_TEST_SERVER_H_
