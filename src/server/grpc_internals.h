// Not part of the API. What the SDK needs from gRPC 1.51 beyond its stable
// C++ API, in one place: each entry says what it relies on, so that a gRPC
// upgrade knows what to re-check.
#ifndef CNPGI_SRC_SERVER_GRPC_INTERNALS_H_
#define CNPGI_SRC_SERVER_GRPC_INTERNALS_H_

#include <grpcpp/server.h>

#include <optional>
#include <string_view>

namespace cnpgi::internal {

// Closes every connection of `server` at once, without starting its
// shutdown: the clients see UNAVAILABLE for whatever they had sent on them.
// Relies on grpc::Server::c_server() (marked experimental) and the public
// C call grpc_server_cancel_all_calls(), which, called before the server's
// shutdown, disconnects its transports and leaves the listener as it is.
void DropAllConnections(grpc::Server& server);

// True when gRPC logged, from its POSIX TCP server (which serves Unix
// sockets too), that accept() failed for a reason other than a transient
// one. gRPC 1.51 then stops listening on that port for good, without any
// other sign: the process lives on, deaf. Relies on the file and the message
// of that line (tcp_server_posix.cc: "Failed accept4: <reason>").
bool IsListenerFailure(std::string_view file, std::string_view message);

// The reason, when gRPC logged that it closed a connection during its
// handshake (a TLS client refused, a client without ALPN "h2", a peer that
// hung up), without gRPC's debugging details. gRPC logs it at DEBUG level
// only, without the peer's address. Relies on the file and the message of
// that line (chttp2_server.cc: "Handshaking failed: <status>").
struct HandshakeFailureLine {
  std::string_view reason;
  // The SDK's client certificate verifier refused the client, and has
  // logged why already.
  bool refused_by_verifier = false;
};
std::optional<HandshakeFailureLine> HandshakeFailure(std::string_view file,
                                                     std::string_view message);

// True for the line OpenSSL's failures also get (ssl_transport_security.cc:
// "Handshake failed with fatal error ..."), at ERROR level, which the
// HandshakeFailure() line repeats.
bool IsTlsHandshakeDetail(std::string_view file, std::string_view message);

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_SERVER_GRPC_INTERNALS_H_
