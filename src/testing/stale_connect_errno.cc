#include "testing/stale_connect_errno.h"

#include <string.h>

#include <string_view>

namespace cnpgi::test::internal {

bool IsStaleConnectErrno(const Endpoint& endpoint, const absl::Status& status) {
  if (endpoint.transport != Endpoint::Transport::kTcp ||
      status.code() != absl::StatusCode::kUnavailable) {
    return false;
  }
  // "...failed to connect to all addresses; last error: UNKNOWN:
  // ipv4:127.0.0.1:37221: No such file or directory": gRPC's connect error
  // carries the address, then strerror() and nothing else.
  constexpr std::string_view kLastError = "last error: UNKNOWN: ";
  const std::string_view message(status.message().data(), status.message().size());
  const size_t at = message.rfind(kLastError);
  if (at == std::string_view::npos) return false;
  std::string_view rest = message.substr(at + kLastError.size());
  if (!rest.starts_with("ipv4:") && !rest.starts_with("ipv6:")) return false;
  const size_t colon = rest.find(": ");  // the address itself has no ": "
  if (colon == std::string_view::npos) return false;
  rest.remove_prefix(colon + 2);
  // strerrordesc_np: glibc's thread-safe table, nullptr for unknown numbers.
  for (int error = 1; error < 256; ++error) {
    const char* text = strerrordesc_np(error);
    if (text != nullptr && rest == text) return true;
  }
  return false;
}

}  // namespace cnpgi::test::internal
