// gRPC calls without generated stubs, for what the tests must send that a
// stub cannot (malformed requests) or for protocols whose generated code
// Debian does not ship (health, reflection).
#ifndef CNPGI_TESTS_SERVER_RAW_CALLS_H_
#define CNPGI_TESTS_SERVER_RAW_CALLS_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace cnpgi::testing_support {

// One unary call of `method` with `request` as the raw message bytes.
grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                          const std::string& request, std::string* response,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5));

// grpc.health.v1.Health/Check for `service` ("" for the whole server):
// the status enum (1 = SERVING, 2 = NOT_SERVING), or -1 on a call error.
int HealthCheck(const std::shared_ptr<grpc::Channel>& channel, const std::string& service);

// The services the server lists through grpc.reflection.v1alpha; empty with
// `error` set on failure.
std::vector<std::string> ReflectedServices(const std::shared_ptr<grpc::Channel>& channel,
                                           std::string* error);

}  // namespace cnpgi::testing_support

#endif  // CNPGI_TESTS_SERVER_RAW_CALLS_H_
