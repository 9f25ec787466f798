#include "server/grpc_internals.h"

#include <grpc/grpc.h>

namespace cnpgi::internal {

void DropAllConnections(grpc::Server& server) { grpc_server_cancel_all_calls(server.c_server()); }

bool IsListenerFailure(std::string_view file, std::string_view message) {
  return file.ends_with("tcp_server_posix.cc") && message.starts_with("Failed accept4: ");
}

}  // namespace cnpgi::internal
