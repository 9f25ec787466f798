// gRPC client channels shaped like the operator's connection to a TCP plugin:
// the server certificate pinned as the only root, the client certificate
// presented, the TLS target name set to the Service name the certificate
// carries. Every channel gets its own connection (no subchannel sharing), so
// each one goes through a full TLS handshake.
#ifndef CNPGI_TESTS_SUPPORT_TLS_CHANNEL_H_
#define CNPGI_TESTS_SUPPORT_TLS_CHANNEL_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "support/test_certificates.h"

namespace cnpgi::testing_support {

struct MutualTlsChannelOptions {
  // PEM the server certificate must chain to (usually the server's own).
  std::string trusted_server_cert_pem;
  // Presented to the server; leave both empty to present none.
  std::string client_cert_pem;
  std::string client_key_pem;
  // Name the server certificate must carry (a DNS SAN).
  std::string server_name = std::string(kTestServerName);
};

// `address` is host:port, e.g. "127.0.0.1:4321".
std::shared_ptr<grpc::Channel> MakeMutualTlsChannel(const std::string& address,
                                                    const MutualTlsChannelOptions& options);
// Shorthand: trust `server`, present `client`.
std::shared_ptr<grpc::Channel> MakeMutualTlsChannel(const std::string& address,
                                                    const Certificate& server,
                                                    const Certificate& client);
// Plaintext HTTP/2, which a mutual-TLS server must never answer.
std::shared_ptr<grpc::Channel> MakeInsecureChannel(const std::string& address);

}  // namespace cnpgi::testing_support

#endif  // CNPGI_TESTS_SUPPORT_TLS_CHANNEL_H_
