#include "cnpgi/call_context.h"

#include <grpcpp/grpcpp.h>

namespace cnpgi {

std::string CallContext::peer() const { return grpc_context_.peer(); }

absl::Time CallContext::deadline() const {
  const auto deadline = grpc_context_.deadline();
  // gRPC reports "no deadline" as the far end of the system clock.
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

bool CallContext::IsCancelled() const { return grpc_context_.IsCancelled(); }

}  // namespace cnpgi
