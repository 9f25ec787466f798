// Not part of the API. The gRPC release whose internals the SDK has been
// checked against. The two files that reach past gRPC's public C++ API
// (server/raw_callback_service.h, tls/grpc_cipher_suites.h) include this
// header and refuse to compile against any other release, so that a gRPC
// upgrade stops the build with a message instead of a plugin misbehaving at
// run time. To support another release: re-check what each of those files
// relies on (listed at its top), then widen the range below.
#ifndef CNPGI_SRC_GRPC_VERIFIED_H_
#define CNPGI_SRC_GRPC_VERIFIED_H_

#include <grpcpp/version_info.h>

#define CNPGI_GRPC_VERIFIED_MAJOR 1
#define CNPGI_GRPC_VERIFIED_MINOR 51

#define CNPGI_GRPC_IS_VERIFIED                            \
  (GRPC_CPP_VERSION_MAJOR == CNPGI_GRPC_VERIFIED_MAJOR && \
   GRPC_CPP_VERSION_MINOR == CNPGI_GRPC_VERIFIED_MINOR)

#endif  // CNPGI_SRC_GRPC_VERIFIED_H_
