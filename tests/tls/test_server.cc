#include "test_server.h"

#include <grpcpp/client_context.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <thread>

#include "cnpgi/identity/v1/identity.grpc.pb.h"

namespace cnpgi::tls_test {
namespace {

namespace identity = ::cnpgi::identity::v1;

class ProbeOnlyIdentity final : public identity::Identity::Service {
  grpc::Status Probe(grpc::ServerContext*, const identity::ProbeRequest*,
                     identity::ProbeResponse* response) override {
    response->set_ready(true);
    return grpc::Status::OK;
  }
};

}  // namespace

TestServer::TestServer(std::shared_ptr<grpc::ServerCredentials> credentials)
    : service_(std::make_unique<ProbeOnlyIdentity>()) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", std::move(credentials), &port_);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    ADD_FAILURE() << "the test gRPC server did not start";
    port_ = 0;
  }
}

TestServer::~TestServer() {
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
  }
}

grpc::Status CallProbe(const std::shared_ptr<grpc::Channel>& channel,
                       std::chrono::milliseconds deadline) {
  auto stub = identity::Identity::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  identity::ProbeRequest request;
  identity::ProbeResponse response;
  grpc::Status status = stub->Probe(&context, request, &response);
  if (status.ok() && !response.ready()) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "Probe answered ready=false");
  }
  return status;
}

bool Eventually(const std::function<bool()>& attempt, std::chrono::milliseconds bound) {
  const auto give_up = std::chrono::steady_clock::now() + bound;
  while (true) {
    if (attempt()) return true;
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace cnpgi::tls_test
