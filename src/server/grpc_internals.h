// Not part of the API. What the SDK needs from gRPC 1.51 beyond its stable
// C++ API, in one place: each entry says what it relies on, so that a gRPC
// upgrade knows what to re-check.
#ifndef CNPGI_SRC_SERVER_GRPC_INTERNALS_H_
#define CNPGI_SRC_SERVER_GRPC_INTERNALS_H_

#include <grpcpp/server.h>

namespace cnpgi::internal {

// Closes every connection of `server` at once, without starting its
// shutdown: the clients see UNAVAILABLE for whatever they had sent on them.
// Relies on grpc::Server::c_server() (marked experimental) and the public
// C call grpc_server_cancel_all_calls(), which, called before the server's
// shutdown, disconnects its transports and leaves the listener as it is.
void DropAllConnections(grpc::Server& server);

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_SERVER_GRPC_INTERNALS_H_
