// The baseline of the server benchmark: the same plugin as
// server_sdk_plugin.cc written directly against gRPC's generated callback
// services, without the SDK. Started by server_bench as
// `bare_plugin --plugin-path <dir>`; listens on <dir>/<kPluginName>.
//
// Like a hand-written plugin, it builds its answers on each call and runs
// MutateCluster inline on gRPC's thread. It has no logging and no flag
// parsing beyond --plugin-path. Built twice: bare_plugin without health
// service and reflection, bare_plugin_hr (CNPGI_BENCH_HEALTH_REFLECTION)
// with both, as the SDK has them, to tell their cost from the SDK's own.
#include <grpcpp/grpcpp.h>
#ifdef CNPGI_BENCH_HEALTH_REFLECTION
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#endif
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include "cnpgi/identity/v1/identity.grpc.pb.h"
#include "cnpgi/operator/v1/operator.grpc.pb.h"
#include "cnpgi/wal/v1/wal.grpc.pb.h"
#include "server_work.h"

namespace {

namespace identity = cnpgi::identity::v1;
namespace op = cnpgi::operator_::v1;
namespace wal = cnpgi::wal::v1;

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context,
                               grpc::Status status = grpc::Status::OK) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

class Identity final : public identity::Identity::CallbackService {
  grpc::ServerUnaryReactor* GetPluginMetadata(grpc::CallbackServerContext* context,
                                              const identity::GetPluginMetadataRequest*,
                                              identity::GetPluginMetadataResponse* out) override {
    out->set_name(cnpgi_bench::kPluginName);
    out->set_version(cnpgi_bench::kPluginVersion);
    return Done(context);
  }

  grpc::ServerUnaryReactor* GetPluginCapabilities(
      grpc::CallbackServerContext* context, const identity::GetPluginCapabilitiesRequest*,
      identity::GetPluginCapabilitiesResponse* out) override {
    using Type = identity::PluginCapability::Service;
    out->add_capabilities()->mutable_service()->set_type(Type::TYPE_OPERATOR_SERVICE);
    out->add_capabilities()->mutable_service()->set_type(Type::TYPE_WAL_SERVICE);
    return Done(context);
  }

  grpc::ServerUnaryReactor* Probe(grpc::CallbackServerContext* context,
                                  const identity::ProbeRequest*,
                                  identity::ProbeResponse* out) override {
    out->set_ready(true);
    return Done(context);
  }
};

class Operator final : public op::Operator::CallbackService {
  grpc::ServerUnaryReactor* GetCapabilities(grpc::CallbackServerContext* context,
                                            const op::OperatorCapabilitiesRequest*,
                                            op::OperatorCapabilitiesResult* out) override {
    out->add_capabilities()->mutable_rpc()->set_type(
        op::OperatorCapability::RPC::TYPE_MUTATE_CLUSTER);
    return Done(context);
  }

  grpc::ServerUnaryReactor* MutateCluster(grpc::CallbackServerContext* context,
                                          const op::OperatorMutateClusterRequest* request,
                                          op::OperatorMutateClusterResult* out) override {
    try {
      out->set_json_patch(cnpgi_bench::MutateClusterPatch(request->definition()));
    } catch (const std::exception& e) {
      return Done(context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, e.what()));
    }
    return Done(context);
  }
};

class Wal final : public wal::WAL::CallbackService {
  grpc::ServerUnaryReactor* GetCapabilities(grpc::CallbackServerContext* context,
                                            const wal::WALCapabilitiesRequest*,
                                            wal::WALCapabilitiesResult* out) override {
    out->add_capabilities()->mutable_rpc()->set_type(wal::WALCapability::RPC::TYPE_ARCHIVE_WAL);
    return Done(context);
  }

  grpc::ServerUnaryReactor* Archive(grpc::CallbackServerContext* context,
                                    const wal::WALArchiveRequest*,
                                    wal::WALArchiveResult*) override {
    return Done(context);
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/plugins";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--plugin-path") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--plugin-path DIR]\n", argv[0]);
      return 2;
    }
  }
  const std::string path = dir + "/" + cnpgi_bench::kPluginName;
  unlink(path.c_str());

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Identity identity_service;
  Operator operator_service;
  Wal wal_service;
#ifdef CNPGI_BENCH_HEALTH_REFLECTION
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
#endif
  grpc::ServerBuilder builder;
  builder.RegisterService(&identity_service);
  builder.RegisterService(&operator_service);
  builder.RegisterService(&wal_service);
  builder.AddListeningPort("unix:" + path, grpc::InsecureServerCredentials());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "%s: cannot listen on %s\n", argv[0], path.c_str());
    return 1;
  }
  int signal_number = 0;
  while (sigwait(&signals, &signal_number) != 0) {
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server->Wait();
  unlink(path.c_str());
  return 0;
}
