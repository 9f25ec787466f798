// Not part of the API. gRPC's own log lines, in the plugin's log.
#ifndef CNPGI_SRC_SERVER_GRPC_LOG_H_
#define CNPGI_SRC_SERVER_GRPC_LOG_H_

#include <functional>
#include <string_view>

#include "cnpgi/logging.h"

namespace cnpgi::internal {

// While one exists, gRPC's log lines (gpr_log) are written through its
// logger (the latest one's, when there are several: gRPC's log is one per
// process), so that they have the format chosen on the command line and the
// plugin's name, with `source=grpc` and `at` (where in gRPC). Throttled like
// call failures. gRPC's levels are lowered by one step, its INFO and DEBUG
// lines being about gRPC's internals: ERROR stays an error, INFO becomes
// debug, DEBUG trace. Connections gRPC closes during their handshake (a TLS
// client refused, a client without ALPN "h2") become warnings.
//
// The first one makes gRPC pass every line on (gpr_set_log_verbosity), the
// logger's level deciding, unless GRPC_VERBOSITY is set; when the last one
// is gone, gRPC's lines keep going through the last logger.
//
// `on_listener_failure` is called when gRPC reports that a listener stopped
// accepting connections for good (for every route: gRPC does not say which
// server). It runs on a gRPC thread that may hold gRPC's locks: it must only
// take note, never call into gRPC.
class GrpcLogRoute {
 public:
  GrpcLogRoute(Logger logger, std::function<void()> on_listener_failure);
  ~GrpcLogRoute();
  GrpcLogRoute(const GrpcLogRoute&) = delete;
  GrpcLogRoute& operator=(const GrpcLogRoute&) = delete;

  const Logger& logger() const { return logger_; }
  void ListenerFailed() const {
    if (on_listener_failure_) on_listener_failure_();
  }

 private:
  Logger logger_;
  std::function<void()> on_listener_failure_;
};

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_SERVER_GRPC_LOG_H_
