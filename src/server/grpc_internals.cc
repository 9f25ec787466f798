#include "server/grpc_internals.h"

#include <grpc/grpc.h>

namespace cnpgi::internal {

void DropAllConnections(grpc::Server& server) { grpc_server_cancel_all_calls(server.c_server()); }

bool IsListenerFailure(std::string_view file, std::string_view message) {
  return file.ends_with("tcp_server_posix.cc") && message.starts_with("Failed accept4: ");
}

std::optional<HandshakeFailureLine> HandshakeFailure(std::string_view file,
                                                     std::string_view message) {
  constexpr std::string_view kPrefix = "Handshaking failed: ";
  if (!file.ends_with("chttp2_server.cc") || !message.starts_with(kPrefix)) return std::nullopt;
  // "UNKNOWN:Tls handshake failed: <OpenSSL's reason> {file:..., children:[...]}"
  std::string_view reason = message.substr(kPrefix.size());
  if (reason.starts_with("UNKNOWN:")) reason.remove_prefix(8);
  if (const std::size_t details = reason.find(" {"); details != std::string_view::npos) {
    reason = reason.substr(0, details);
  }
  // What gRPC makes of an ExternalCertificateVerifier's refusal.
  return HandshakeFailureLine{reason, reason.starts_with("Custom verification check failed")};
}

bool IsTlsHandshakeDetail(std::string_view file, std::string_view message) {
  return file.ends_with("ssl_transport_security.cc") &&
         message.starts_with("Handshake failed with fatal error");
}

}  // namespace cnpgi::internal
