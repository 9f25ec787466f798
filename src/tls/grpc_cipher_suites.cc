#include "tls/grpc_cipher_suites.h"

// gRPC's declaration is in a header it does not install. The reference is
// weak so that a libgrpc without the symbol still links, and the SDK fails
// closed at run time (tls13_only.cc) rather than the plugin failing to load.
// With static linking a weak reference does not pull the definition out of
// libgrpc.a by itself: cnpgi_link_statically() (cmake/CnpgiStaticLink.cmake)
// exports the symbol, which makes the linker keep it.
const char* grpc_get_ssl_cipher_suites(void) __attribute__((weak));

namespace cnpgi::internal {

CipherSuitesAccessor GrpcCipherSuitesAccessor() { return &grpc_get_ssl_cipher_suites; }

}  // namespace cnpgi::internal
