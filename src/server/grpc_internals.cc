#include "server/grpc_internals.h"

#include <grpc/grpc.h>

namespace cnpgi::internal {

void DropAllConnections(grpc::Server& server) { grpc_server_cancel_all_calls(server.c_server()); }

}  // namespace cnpgi::internal
