#include "tls/tls13_only.h"

#include <stdlib.h>

#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"

namespace cnpgi::internal {
namespace {

std::mutex env_mutex;
bool set_by_us = false;  // guarded by env_mutex

}  // namespace

// When gRPC's accessor is present (Debian's libgrpc 1.51 exports it), it
// tells which list gRPC has actually fixed for the process; calling it also
// fixes the list right away, so nothing can change it after we checked.
absl::Status EnforceTls13Only() { return EnforceTls13OnlyWith(GrpcCipherSuitesAccessor()); }

absl::Status EnforceTls13OnlyWith(CipherSuitesAccessor cipher_suites_in_use) {
  const std::string wanted(kNoTls12CipherSuites);
  const std::string name(kGrpcCipherSuitesEnv);
  // True when the environment had the value before this process touched
  // it: then gRPC, whenever it read the variable, read that value.
  bool inherited = false;
  {
    // setenv(3) is not safe against a concurrent setenv; serialise ours and
    // skip the call entirely when the value is already in place.
    std::lock_guard<std::mutex> lock(env_mutex);
    const char* current = getenv(name.c_str());
    if (current != nullptr && wanted == current) {
      inherited = !set_by_us;
    } else {
      if (setenv(name.c_str(), wanted.c_str(), /*overwrite=*/1) != 0) {
        return absl::InternalError(
            absl::StrCat("cannot set ", name, " to restrict gRPC to TLS 1.3"));
      }
      set_by_us = true;
    }
  }
  if (cipher_suites_in_use == nullptr) {
    // Fail closed: gRPC may have fixed another list already, and serving
    // TCP while accepting TLS 1.2 is what this function exists to prevent.
    if (inherited) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot confirm that gRPC restricts TLS to 1.3: the gRPC library in use does not "
        "export grpc_get_ssl_cipher_suites, which tells which TLS 1.2 cipher list it has "
        "fixed; start the process with ",
        name, "=", wanted, " in its environment (then gRPC can only have read that list)"));
  }
  const char* in_use = cipher_suites_in_use();
  if (in_use == nullptr || wanted != in_use) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot restrict gRPC to TLS 1.3: gRPC already fixed its TLS 1.2 cipher list to \"",
        in_use == nullptr ? "" : in_use,
        "\" because TLS was used in this process before the plugin server was set up (a gRPC "
        "TLS channel or server created earlier); TLS 1.2 clients would be accepted. Create "
        "the plugin server before any other gRPC TLS object, or start the process with ",
        name, "=", wanted));
  }
  return absl::OkStatus();
}

}  // namespace cnpgi::internal
