// Not part of the API. A gRPC service whose methods receive and answer raw
// bytes, registered under the CNPG-I method paths.
//
// The only file of the SDK that uses gRPC's internal server API. It relies
// on, as of gRPC 1.51:
// - grpc::internal::RpcServiceMethod and RpcMethod::NORMAL_RPC (a method
//   registered by name, keeping the name as a raw pointer);
// - grpc::Service::AddMethod() and MarkMethodRawCallback() (protected
//   members meant for generated code);
// - grpc::internal::CallbackUnaryHandler<ByteBuffer, ByteBuffer> from
//   grpcpp/impl/codegen/server_callback_handlers.h (moved in later releases).
// It compiles against the verified release only (grpc_verified.h). The
// public replacement in newer gRPC releases is a generic callback service
// (grpc::CallbackGenericService, grpcpp/generic/callback_generic_service.h):
// it receives every method as raw bytes through one reactor, at the cost of
// routing the method path ourselves, answering UNIMPLEMENTED for unknown
// paths, and registering the service names with reflection and health by
// hand.
#ifndef CNPGI_SRC_SERVER_RAW_CALLBACK_SERVICE_H_
#define CNPGI_SRC_SERVER_RAW_CALLBACK_SERVICE_H_

#include "grpc_verified.h"

// clang-format off
#if !CNPGI_GRPC_IS_VERIFIED
#error "cnpgi: src/server/raw_callback_service.h uses gRPC internals (grpc::internal::RpcServiceMethod, CallbackUnaryHandler) checked on gRPC 1.51 only: re-check them against this gRPC release, or port the file to grpc::CallbackGenericService, then widen the range in src/grpc_verified.h"
#endif
// clang-format on

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>
#include <grpcpp/impl/service_type.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cnpgi::internal {

using RawUnaryHandler = std::function<grpc::ServerUnaryReactor*(
    grpc::CallbackServerContext*, const grpc::ByteBuffer*, grpc::ByteBuffer*)>;

// Why raw bytes instead of the generated service classes:
// - with the generated callback classes, gRPC 1.51 answers a request it
//   cannot parse with UNIMPLEMENTED and an empty message; parsing ourselves
//   lets the SDK answer INVALID_ARGUMENT naming the expected message type;
// - requests and responses can live on a per-call protobuf arena;
// - constant answers (capabilities, metadata, Probe) are serialized once and
//   sent as shared slices;
// - one small class serves all nine services, instead of nine generated
//   class hierarchies stitched to nine SDK base classes.
// The service name is taken from the method paths, so server reflection and
// the health service see the CNPG-I services as usual.
class RawCallbackService final : public grpc::Service {
 public:
  // `path` is the full method path, e.g. "/cnpgi.wal.v1.WAL/Archive".
  void AddUnaryMethod(std::string path, RawUnaryHandler handler) {
    // grpc::internal::RpcMethod keeps the name as a raw pointer: the strings
    // must outlive the service, hence stable unique_ptr storage.
    paths_.push_back(std::make_unique<std::string>(std::move(path)));
    AddMethod(new grpc::internal::RpcServiceMethod(paths_.back()->c_str(),
                                                   grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
    MarkMethodRawCallback(
        static_cast<int>(paths_.size() - 1),
        new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
            std::move(handler)));
  }

 private:
  std::vector<std::unique_ptr<std::string>> paths_;
};

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_SERVER_RAW_CALLBACK_SERVICE_H_
