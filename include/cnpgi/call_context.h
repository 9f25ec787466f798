// What a handler knows about the call it is serving.
#ifndef CNPGI_CALL_CONTEXT_H_
#define CNPGI_CALL_CONTEXT_H_

#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace grpc {
class CallbackServerContext;
}  // namespace grpc

namespace cnpgi {

class Logger;

// Passed to every handler. Valid only for the duration of the handler call;
// do not keep references to it after returning.
//
// Deadlines: over TCP the operator gives every call 30 seconds; over the
// Unix socket calls such as Backup, WAL archive/restore and the restore job
// have no deadline at all and may legitimately run for hours. Long handlers
// should poll IsCancelled() (the caller gave up, or the server is shutting
// down past its grace period) and return early.
class CallContext {
 public:
  CallContext(grpc::CallbackServerContext& grpc_context, std::string_view method,
              std::string_view plugin_name, const Logger& logger)
      : grpc_context_(grpc_context), method_(method), plugin_name_(plugin_name), logger_(logger) {}

  CallContext(const CallContext&) = delete;
  CallContext& operator=(const CallContext&) = delete;

  // Full gRPC method path, e.g. "/cnpgi.wal.v1.WAL/Archive".
  std::string_view method() const { return method_; }

  // This plugin's name (its metadata name): the key of its entry in the
  // Cluster's spec.plugins, e.g. `cluster.GetPlugin(ctx.plugin_name())`.
  std::string_view plugin_name() const { return plugin_name_; }

  // The caller's address as gRPC reports it ("unix:" or "ipv4:..." /
  // "ipv6:..."), for logs.
  std::string peer() const;

  // When the caller stops waiting; absl::InfiniteFuture() when it set no
  // deadline (the normal case over the Unix socket).
  absl::Time deadline() const;

  // True once the caller has cancelled the call or its deadline has passed,
  // or the server has stopped waiting for it during shutdown.
  bool IsCancelled() const;

  // The plugin's logger (level and format set by --log-level and
  // --log-format). Fields such as the method are added by the SDK to its own
  // per-call log lines; add your own as needed.
  const Logger& logger() const { return logger_; }

  // The underlying gRPC context, for the rare case that needs it (metadata
  // sent by the client, authentication context of a TLS peer).
  grpc::CallbackServerContext& grpc_context() const { return grpc_context_; }

 private:
  grpc::CallbackServerContext& grpc_context_;
  std::string_view method_;
  std::string_view plugin_name_;
  const Logger& logger_;
};

}  // namespace cnpgi

#endif  // CNPGI_CALL_CONTEXT_H_
