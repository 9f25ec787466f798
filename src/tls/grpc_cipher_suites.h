// Not part of the API. The one gRPC symbol outside its public API the TLS
// code uses, behind a function of ours.
//
// It relies on, as of gRPC 1.51: grpc_get_ssl_cipher_suites(), declared in
// gRPC's src/core/lib/security/security_connector/ssl_utils.h (not
// installed) with C++ linkage, exported by libgrpc, which returns the TLS
// 1.2 cipher list gRPC has fixed for the process (reading
// GRPC_SSL_CIPHER_SUITES on its first call). It compiles against the
// verified release only (grpc_verified.h). The public replacement in newer
// gRPC releases is a minimum TLS version in the credentials options
// (grpc::experimental::TlsCredentialsOptions::set_min_tls_version), which
// makes the cipher-list mechanism of tls13_only.h unnecessary.
#ifndef CNPGI_SRC_TLS_GRPC_CIPHER_SUITES_H_
#define CNPGI_SRC_TLS_GRPC_CIPHER_SUITES_H_

#include "grpc_verified.h"

// clang-format off
#if !CNPGI_GRPC_IS_VERIFIED
#error "cnpgi: src/tls/grpc_cipher_suites.h relies on gRPC's non-public grpc_get_ssl_cipher_suites(), checked on gRPC 1.51 only: re-check it against this gRPC release, or use TlsCredentialsOptions::set_min_tls_version where this gRPC has it, then widen the range in src/grpc_verified.h"
#endif
// clang-format on

namespace cnpgi::internal {

// Returns the TLS 1.2 cipher list gRPC uses, fixing it for the process.
using CipherSuitesAccessor = const char* (*)();

// gRPC's accessor, or null where the gRPC library linked does not define it
// (see the .cc: the reference is weak).
CipherSuitesAccessor GrpcCipherSuitesAccessor();

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_TLS_GRPC_CIPHER_SUITES_H_
