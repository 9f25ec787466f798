// TLS 1.3 only, for every TLS connection gRPC makes or accepts in this
// process, on a gRPC (Debian's 1.51) whose C++ API has no minimum-version
// setting. See docs/tls.md for the mechanism and its limits.
#ifndef CNPGI_SRC_TLS_TLS13_ONLY_H_
#define CNPGI_SRC_TLS_TLS13_ONLY_H_

#include <string_view>

#include "absl/status/status.h"
#include "tls/grpc_cipher_suites.h"

namespace cnpgi::internal {

// Environment variable gRPC reads, once per process, for the cipher list of
// TLS 1.2 and below (TLS 1.3 suites are configured separately by OpenSSL).
inline constexpr std::string_view kGrpcCipherSuitesEnv = "GRPC_SSL_CIPHER_SUITES";

// A TLS <= 1.2 cipher list no handshake of this process can ever agree on:
// pre-shared-key suites only, and gRPC installs no PSK callback, so OpenSSL
// never selects them. Every TLS 1.2 handshake ends in "no shared cipher",
// while TLS 1.3 negotiates its own suites as usual. (A list without any
// TLS 1.2 suite at all is refused by OpenSSL 3, so gRPC would fail instead.)
inline constexpr std::string_view kNoTls12CipherSuites =
    "PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256";

// Sets GRPC_SSL_CIPHER_SUITES to kNoTls12CipherSuites (replacing any value
// the environment had) so that gRPC can only speak TLS 1.3, then checks
// that gRPC has adopted it. gRPC reads the variable once, when it first
// creates a TLS context (first TLS server started or first TLS channel
// connected); from then on the list is fixed for the process.
//
// Returns FailedPrecondition when gRPC had already fixed another list (TLS
// was used before this call): servers created now would accept TLS 1.2.
// Fails closed where gRPC cannot be asked which list it uses (a build
// without the accessor, see tls/grpc_cipher_suites.h): FailedPrecondition too, unless the
// process was started with the variable already set to kNoTls12CipherSuites,
// the only value gRPC can then have read.
// Safe to call more than once. Call it before starting any gRPC TLS server
// or channel; MakeMutualTlsServerCredentials() does.
absl::Status EnforceTls13Only();

// EnforceTls13Only() with the accessor given: gRPC's, or null for a gRPC
// that lacks it. For tests.
absl::Status EnforceTls13OnlyWith(CipherSuitesAccessor cipher_suites_in_use);

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_TLS_TLS13_ONLY_H_
