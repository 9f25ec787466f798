// A raw OpenSSL TLS client for protocol-level checks that a gRPC client cannot
// make: which TLS versions a server accepts, which ALPN protocol it selects,
// and whether it keeps the connection after verifying the client certificate.
#ifndef CNPGI_TESTS_SUPPORT_TLS_PROBE_H_
#define CNPGI_TESTS_SUPPORT_TLS_PROBE_H_

#include <chrono>
#include <string>

#include "absl/status/statusor.h"

namespace cnpgi::testing_support {

enum class TlsVersion { k1_2, k1_3 };

struct TlsProbeOptions {
  TlsVersion min_version = TlsVersion::k1_2;
  TlsVersion max_version = TlsVersion::k1_3;
  // SNI and the name the server certificate must carry.
  std::string server_name;
  // When set, the server certificate must chain to it (pinned, like the
  // operator does); when empty the server certificate is not verified.
  std::string trusted_server_cert_pem;
  // When both set, the client presents this certificate.
  std::string client_cert_pem;
  std::string client_key_pem;
  // Offered as the only ALPN protocol, as grpc-go does.
  std::string alpn = "h2";
  // After the handshake, send the HTTP/2 client preface and wait for the
  // server's first frame. A server that rejects the client certificate after
  // a TLS 1.3 handshake (the client finishes before the server has checked
  // its certificate) is only detected this way.
  bool exchange_http2_preface = true;
  // Bounds every connect, read and write.
  std::chrono::milliseconds timeout = std::chrono::seconds(5);
};

struct TlsProbeResult {
  std::string version;  // "TLSv1.3", as OpenSSL names it
  std::string alpn;     // selected by the server, empty if none
  bool http2_settings_received = false;
  // How many acceptable client-certificate issuers the server named in its
  // CertificateRequest (TLS 1.3 certificate_authorities).
  int acceptable_ca_names = 0;
};

// Connects to host:port and performs a TLS handshake. An error status carries
// the step that failed and OpenSSL's reason.
absl::StatusOr<TlsProbeResult> ProbeTls(const std::string& host, int port,
                                        const TlsProbeOptions& options);

}  // namespace cnpgi::testing_support

#endif  // CNPGI_TESTS_SUPPORT_TLS_PROBE_H_
