#include "server/call_runner.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "helpers/internal.h"

namespace cnpgi::internal {
namespace {

absl::StatusCode ToAbslCode(grpc::StatusCode code) {
  // Both follow the canonical gRPC code numbering.
  return static_cast<absl::StatusCode>(static_cast<int>(code));
}

// Codes a plugin returns on purpose while working normally (a WAL segment
// the archive does not have, a refused parameter) are warnings; the rest
// mean something broke.
spdlog::level::level_enum LevelFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNIMPLEMENTED:
      return spdlog::level::warn;
    default:
      return spdlog::level::err;
  }
}

}  // namespace

void CallRuntime::LogCall(const MethodInfo& method, const grpc::Status& status,
                          std::chrono::steady_clock::duration elapsed) {
  if (status.ok()) {
    if (logger.ShouldLog(spdlog::level::debug)) {
      logger.Debug("call", {{"method", method.path},
                            {"code", absl::StatusCode::kOk},
                            {"duration", absl::FromChrono(elapsed)}});
    }
    return;
  }
  const auto level = LevelFor(status.error_code());
  if (!logger.ShouldLog(level)) return;
  const LogThrottle::Decision decision =
      call_failures.Admit({&method, static_cast<int>(status.error_code())});
  if (!decision.write) return;
  if (decision.suppressed == 0) {
    logger.Log(level, "call failed",
               {{"method", method.path},
                {"code", ToAbslCode(status.error_code())},
                {"message", status.error_message()},
                {"duration", absl::FromChrono(elapsed)}});
  } else {
    logger.Log(level, "call failed",
               {{"method", method.path},
                {"code", ToAbslCode(status.error_code())},
                {"message", status.error_message()},
                {"duration", absl::FromChrono(elapsed)},
                {"suppressed", decision.suppressed}});
  }
}

void CallRuntime::LogSuppressedCallFailures() {
  for (const auto& [key, count] : call_failures.TakeSuppressed()) {
    const auto* method = static_cast<const MethodInfo*>(key.scope);
    const auto code = static_cast<grpc::StatusCode>(key.detail);
    logger.Log(LevelFor(code), "call failures not logged",
               {{"method", method->path}, {"code", ToAbslCode(code)}, {"suppressed", count}});
  }
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const absl::string_view message = status.message();
  return grpc::Status(
      static_cast<grpc::StatusCode>(static_cast<int>(status.code())),
      CutToBytes(std::string_view(message.data(), message.size()), kMaxStatusMessageBytes));
}

absl::Status HandlerThrew(const MethodInfo& method, const char* what) {
  if (what == nullptr) {
    return absl::InternalError(
        absl::StrCat(method.path, ": the handler threw an exception that is not a std::exception"));
  }
  return absl::InternalError(absl::StrCat(method.path, ": the handler threw: ", what));
}

grpc::Status ResponseTooLarge(const MethodInfo& method, std::size_t bytes) {
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      absl::StrCat(method.path, ": the answer is ", bytes, " bytes, more than the ",
                                   kMaxResponseBytes, " bytes (4 MiB) the operator accepts"));
}

grpc::Status RequestNotParsed(const MethodInfo& method) {
  return grpc::Status(
      grpc::StatusCode::INVALID_ARGUMENT,
      absl::StrCat(method.path, ": the request is not a valid ", method.request_type, " message"));
}

grpc::Status ShuttingDown(const MethodInfo& method) {
  return grpc::Status(
      grpc::StatusCode::UNAVAILABLE,
      absl::StrCat(method.path, ": the plugin server is shutting down; the call was not run"));
}

grpc::Status NotStarted(const MethodInfo& method, const absl::Status& why) {
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(why.code())),
                      absl::StrCat(method.path, ": the call was not run: ", why.message()));
}

RawUnaryHandler MakeConstantHandler(CallRuntime& runtime, const MethodInfo& method,
                                    grpc::ByteBuffer response) {
  return [&runtime, &method, response = std::move(response)](
             grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
             grpc::ByteBuffer* out) -> grpc::ServerUnaryReactor* {
    const auto start = std::chrono::steady_clock::now();
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (runtime.Draining()) {
      reactor->Finish(ShuttingDown(method));
      return reactor;
    }
    if (!runtime.observers.empty()) runtime.ObserveStart(method);
    *out = response;
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if (!runtime.observers.empty()) {
      runtime.ObserveFinish(method, *context, *request, *out, grpc::Status::OK, elapsed);
    }
    reactor->Finish(grpc::Status::OK);
    runtime.LogCall(method, grpc::Status::OK, elapsed);
    return reactor;
  };
}

RawUnaryHandler MakeUnimplementedHandler(CallRuntime& runtime, const MethodInfo& method) {
  return [&runtime, &method](grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                             grpc::ByteBuffer* /*response*/) -> grpc::ServerUnaryReactor* {
    const auto start = std::chrono::steady_clock::now();
    if (runtime.Draining()) {
      grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
      reactor->Finish(ShuttingDown(method));
      return reactor;
    }
    const grpc::Status status(
        grpc::StatusCode::UNIMPLEMENTED,
        absl::StrCat(method.path, " is not implemented by this plugin (and not advertised)"));
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if (!runtime.observers.empty()) {
      runtime.ObserveStart(method);
      runtime.ObserveFinish(method, *context, *request, grpc::ByteBuffer(), status, elapsed);
    }
    reactor->Finish(status);
    runtime.LogCall(method, status, elapsed);
    return reactor;
  };
}

}  // namespace cnpgi::internal
