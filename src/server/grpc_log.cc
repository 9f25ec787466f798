#include "server/grpc_log.h"

#include <grpc/support/log.h>
#include <stdlib.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "observe/metrics.h"
#include "options/log_throttle.h"
#include "server/grpc_internals.h"

namespace cnpgi::internal {
namespace {

struct Registry {
  std::mutex mu;
  std::vector<const GrpcLogRoute*> routes;  // guarded by mu; the latest last
  Logger fallback;                          // guarded by mu
  LogThrottle throttle;
};

// Never destroyed: gRPC may log from its threads while the process exits.
Registry& TheRegistry() {
  static auto* registry = new Registry();
  return *registry;
}

spdlog::level::level_enum LevelOf(gpr_log_severity severity) {
  switch (severity) {
    case GPR_LOG_SEVERITY_ERROR:
      return spdlog::level::err;
    case GPR_LOG_SEVERITY_INFO:
      return spdlog::level::debug;
    case GPR_LOG_SEVERITY_DEBUG:
    default:
      return spdlog::level::trace;
  }
}

// "src/core/lib/iomgr/tcp_server_posix.cc" -> "tcp_server_posix.cc".
std::string_view BaseName(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

void Write(gpr_log_func_args* args) {
  const std::string_view file = args->file != nullptr ? args->file : "";
  const std::string_view message = args->message != nullptr ? args->message : "";
  const bool listener_failure = IsListenerFailure(file, message);
  Registry& registry = TheRegistry();
  Logger logger;
  {
    std::lock_guard lock(registry.mu);
    logger = registry.routes.empty() ? registry.fallback : registry.routes.back()->logger();
    if (listener_failure) {
      for (const GrpcLogRoute* route : registry.routes) route->ListenerFailed();
    }
  }
  spdlog::level::level_enum level = LevelOf(args->severity);
  std::string_view text = message;
  std::string_view reason;
  if (listener_failure) {
    text = "cannot accept connections any more";
    reason = message;
  } else if (std::optional<HandshakeFailureLine> failure = HandshakeFailure(file, message)) {
    CountHandshakeFailure();  // cnpgi_server_handshake_failures_total
    // The verifier's own line says it already, with the certificate.
    level = failure->refused_by_verifier ? spdlog::level::debug : spdlog::level::warn;
    text = "connection closed during its handshake";
    reason = failure->reason;
  } else if (IsTlsHandshakeDetail(file, message)) {
    level = spdlog::level::debug;  // the line above says it, with the outcome
  }
  if (!logger.ShouldLog(level)) return;
  const LogThrottle::Decision decision = registry.throttle.Admit({args->file, args->line});
  if (!decision.write) return;
  const std::string at = std::string(BaseName(file)) + ":" + std::to_string(args->line);
  std::vector<LogField> fields = {{"source", "grpc"}, {"at", at}};
  if (!reason.empty()) fields.emplace_back("reason", reason);
  if (decision.suppressed > 0) fields.emplace_back("suppressed", decision.suppressed);
  logger.Log(level, text, absl::MakeConstSpan(fields));
}

void Install() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* verbosity = getenv("GRPC_VERBOSITY");
    if (verbosity == nullptr || *verbosity == '\0') gpr_set_log_verbosity(GPR_LOG_SEVERITY_DEBUG);
    gpr_set_log_function(&Write);
  });
}

}  // namespace

GrpcLogRoute::GrpcLogRoute(Logger logger, std::function<void()> on_listener_failure)
    : logger_(std::move(logger)), on_listener_failure_(std::move(on_listener_failure)) {
  Registry& registry = TheRegistry();
  {
    std::lock_guard lock(registry.mu);
    registry.routes.push_back(this);
  }
  Install();
}

GrpcLogRoute::~GrpcLogRoute() {
  Registry& registry = TheRegistry();
  std::lock_guard lock(registry.mu);
  registry.routes.erase(std::remove(registry.routes.begin(), registry.routes.end(), this),
                        registry.routes.end());
  if (registry.routes.empty()) registry.fallback = logger_;
}

}  // namespace cnpgi::internal
