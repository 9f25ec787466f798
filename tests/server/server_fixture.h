// Starts a PluginServer in-process on a Unix socket in a temporary directory
// and connects real gRPC clients to it.
#ifndef CNPGI_TESTS_SERVER_SERVER_FIXTURE_H_
#define CNPGI_TESTS_SERVER_SERVER_FIXTURE_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "cnpgi/plugin_server.h"
#include "support/temp_dir.h"

namespace cnpgi::testing_support {

class UnixServer {
 public:
  UnixServer() = default;
  ~UnixServer() {
    if (server_) server_->Shutdown(absl::Seconds(1));
  }

  // Starts `server` with its socket in this fixture's directory.
  absl::Status Start(PluginServer server, ServerOptions options = {}) {
    server_ = std::make_unique<PluginServer>(std::move(server));
    options.plugin_path = dir_.path().string();
    options.log_level = spdlog::level::warn;
    return server_->Start(options);
  }

  std::shared_ptr<grpc::Channel> NewChannel() const {
    // A distinct channel argument keeps gRPC from sharing one connection
    // between channels, as the operator's separate pool connections do not.
    grpc::ChannelArguments args;
    args.SetInt("cnpgi.test.channel", ++channels_);
    return grpc::CreateCustomChannel(server_->listening_address(),
                                     grpc::InsecureChannelCredentials(), args);
  }

  PluginServer& server() { return *server_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path socket_path() const { return dir_.path() / server_->metadata().name; }

 private:
  TempDir dir_;
  std::unique_ptr<PluginServer> server_;
  mutable int channels_ = 0;
};

// A client context with a deadline, so that no test can hang on a call.
inline std::unique_ptr<grpc::ClientContext> Deadline(
    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

}  // namespace cnpgi::testing_support

#endif  // CNPGI_TESTS_SERVER_SERVER_FIXTURE_H_
