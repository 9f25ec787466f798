// Not part of the API. The per-call path: bytes in, typed request, the
// plugin's handler, typed response, bytes out; with logging, error mapping
// and the protections the operator needs.
#ifndef CNPGI_SRC_SERVER_CALL_RUNNER_H_
#define CNPGI_SRC_SERVER_CALL_RUNNER_H_

#include <google/protobuf/arena.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "cnpgi/call_context.h"
#include "cnpgi/logging.h"
#include "observe/call_observer.h"
#include "options/log_throttle.h"
#include "server/elastic_thread_pool.h"
#include "server/raw_callback_service.h"

namespace cnpgi::internal {

// grpc-go's default receive limit, which the operator does not raise: a
// larger answer is rejected on the operator's side with a message that does
// not name the plugin's mistake, so the SDK refuses it first.
inline constexpr std::size_t kMaxResponseBytes = 4u << 20;

// The longest error message sent; longer ones are cut, saying how long they
// were. The message travels in an HTTP/2 header (grpc-message,
// percent-encoded: up to three bytes per byte) and gRPC C++ clients refuse
// headers over 8 KiB ("received initial metadata size exceeds limit",
// instead of the plugin's code and message); grpc-go, the operator's,
// accepts more, but writes plugin errors into conditions and the Backup's
// status, where a message echoing a large value helps nobody.
inline constexpr std::size_t kMaxStatusMessageBytes = 2u << 10;

struct MethodInfo {
  std::string path;          // "/cnpgi.wal.v1.WAL/Archive"
  std::string request_type;  // "cnpgi.wal.v1.WALArchiveRequest"
  // Calls that run for hours by design (Backup, a restore job's Restore):
  // always on the pool, never on a thread lent by gRPC.
  bool runs_long = false;
};

// What every call shares. Lives as long as the server.
struct CallRuntime {
  CallRuntime(std::string plugin_name, Logger logger, ElasticThreadPool& pool)
      : plugin_name(std::move(plugin_name)), logger(std::move(logger)), pool(pool) {}

  const std::string plugin_name;
  Logger logger;
  ElasticThreadPool& pool;
  // Calls that run plugin code, from their start until gRPC is done with
  // them (their answer sent).
  std::atomic<int> in_flight{0};
  // Set when the server starts stopping: from then on every call is refused
  // with UNAVAILABLE before it reaches plugin code (see BeginCall).
  std::atomic<bool> draining{false};
  std::atomic<std::uint64_t> refused_while_draining{0};
  // The recorder and the metrics, when enabled; set before the server
  // starts, read-only afterwards. Empty: one branch per call.
  std::vector<CallObserver*> observers;

  void ObserveStart(const MethodInfo& method) const {
    for (CallObserver* o : observers) o->Started(method);
  }
  void ObserveFinish(const MethodInfo& method, grpc::CallbackServerContext& context,
                     const grpc::ByteBuffer& request, const grpc::ByteBuffer& response,
                     const grpc::Status& status,
                     std::chrono::steady_clock::duration elapsed) const {
    for (CallObserver* o : observers) {
      o->Finished(method, context, request, response, status, elapsed);
    }
  }

  // Counts a call in, unless the server is stopping. The increment comes
  // before the check (both sequentially consistent, as is the store of
  // `draining`), so the server either sees the call in `in_flight` and waits
  // for it, or the call sees `draining` and is refused: none slips through.
  bool BeginCall() {
    in_flight.fetch_add(1);
    if (!draining.load()) return true;
    in_flight.fetch_sub(1);
    refused_while_draining.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  void EndCall() { in_flight.fetch_sub(1, std::memory_order_release); }
  bool Draining() {
    if (!draining.load(std::memory_order_acquire)) return false;
    refused_while_draining.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  // Handing a call to the pool costs two thread switches, which on a VM is
  // most of a small call's server CPU (measured: ~100 µs of 300 for a
  // MutateCluster at concurrency 1, bench/server_bench). So one call at a
  // time runs on the gRPC thread that received it. That is safe from
  // starvation: gRPC 1.51 dispatches callbacks from at least two threads
  // (its "nexting" threads, max(2, cores / 2)), so one stays free whatever
  // the borrowed one is doing; every other concurrent call goes to the pool.
  // Those threads serve every server of the process (the plugin kit may run
  // several), hence one count for the process.
  static constexpr int kMaxCallsOnGrpcThreads = 1;
  static inline std::atomic<int> calls_on_grpc_threads{0};

  static bool BorrowGrpcThread() {
    if (calls_on_grpc_threads.fetch_add(1, std::memory_order_acquire) < kMaxCallsOnGrpcThreads) {
      return true;
    }
    calls_on_grpc_threads.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  static void ReturnGrpcThread() { calls_on_grpc_threads.fetch_sub(1, std::memory_order_release); }

  // One line per failed call (method, code, message, duration), throttled
  // per method and code (a caller repeating a failing call must not flood
  // the log): after a burst, one line per interval carries the count of the
  // lines skipped since the previous one (`suppressed`). Every call at
  // debug level, unthrottled: that level is asked for.
  void LogCall(const MethodInfo& method, const grpc::Status& status,
               std::chrono::steady_clock::duration elapsed);
  // One line per method and code with failures not logged since their last
  // line, for when the server stops.
  void LogSuppressedCallFailures();

  LogThrottle call_failures;
};

// The status a plugin returned, its message cut after
// kMaxStatusMessageBytes.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Answers a constant, pre-serialized response (capabilities, metadata,
// Probe): a reference-counted copy of its slices, no parsing, no allocation
// of messages.
RawUnaryHandler MakeConstantHandler(CallRuntime& runtime, const MethodInfo& method,
                                    grpc::ByteBuffer response);

// Answers an RPC the plugin does not implement (and does not advertise).
RawUnaryHandler MakeUnimplementedHandler(CallRuntime& runtime, const MethodInfo& method);

absl::Status HandlerThrew(const MethodInfo& method, const char* what);
grpc::Status ResponseTooLarge(const MethodInfo& method, std::size_t bytes);
grpc::Status RequestNotParsed(const MethodInfo& method);
// UNAVAILABLE: the server is stopping and no plugin code saw the call, so
// the caller can safely try again (on the plugin's next instance).
grpc::Status ShuttingDown(const MethodInfo& method);
// The call could not be handed to a thread (`why`, from the pool).
grpc::Status NotStarted(const MethodInfo& method, const absl::Status& why);

// A C++ exception escaping a handler becomes INTERNAL with its message: one
// faulty call must not take the whole plugin (and every Pod it serves) down.
template <class Invoke>
absl::Status InvokeGuarded(const MethodInfo& method, const Invoke& invoke) {
  try {
    return invoke();
  } catch (const std::exception& e) {
    return HandlerThrew(method, e.what());
  } catch (...) {
    return HandlerThrew(method, nullptr);
  }
}

template <class Request, class Response, class Invoke>
grpc::Status RunCall(CallRuntime& runtime, const MethodInfo& method, const Invoke& invoke,
                     grpc::CallbackServerContext& grpc_context,
                     const grpc::ByteBuffer& request_bytes, grpc::ByteBuffer& response_bytes) {
  const auto start = std::chrono::steady_clock::now();
  grpc::Status status;
  if (grpc_context.IsCancelled()) {
    // The caller gave up (deadline, cancellation) while the call waited.
    status = grpc::Status(grpc::StatusCode::CANCELLED,
                          method.path + ": the call was cancelled before it started");
  } else {
    // Request and response live on a per-call arena whose first block is on
    // the stack: typical CNPG-I calls then allocate nothing for the messages
    // but the JSON bytes beyond the block.
    alignas(std::max_align_t) char initial_block[8192];
    google::protobuf::ArenaOptions arena_options;
    arena_options.initial_block = initial_block;
    arena_options.initial_block_size = sizeof(initial_block);
    google::protobuf::Arena arena(arena_options);
    auto* request = google::protobuf::Arena::CreateMessage<Request>(&arena);
    auto* response = google::protobuf::Arena::CreateMessage<Response>(&arena);

    grpc::ProtoBufferReader reader(const_cast<grpc::ByteBuffer*>(&request_bytes));
    if (!reader.status().ok() || !request->ParseFromZeroCopyStream(&reader)) {
      status = RequestNotParsed(method);
    } else {
      CallContext context(grpc_context, method.path, runtime.plugin_name, runtime.logger);
      const absl::Status result =
          InvokeGuarded(method, [&] { return invoke(context, *request, *response); });
      if (!result.ok()) {
        status = ToGrpcStatus(result);
      } else if (const std::size_t size = response->ByteSizeLong(); size > kMaxResponseBytes) {
        status = ResponseTooLarge(method, size);
      } else {
        bool own_buffer = false;
        status =
            grpc::SerializationTraits<Response>::Serialize(*response, &response_bytes, &own_buffer);
      }
    }
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  runtime.LogCall(method, status, elapsed);
  if (!runtime.observers.empty()) {
    runtime.ObserveFinish(method, grpc_context, request_bytes, response_bytes, status, elapsed);
  }
  return status;
}

// The reactor of a call that runs plugin code. It counts the call out of
// `in_flight` when gRPC is done with it, its answer written, rather than
// when the handler returns: a stopping server closes its connections once
// nothing is in flight, and would otherwise cut off answers not yet sent.
// (One small allocation per call; gRPC's default reactor has no OnDone.)
class CountedReactor final : public grpc::ServerUnaryReactor {
 public:
  explicit CountedReactor(CallRuntime& runtime) : runtime_(runtime) {}
  void OnDone() override {
    runtime_.EndCall();
    delete this;
  }
  void OnCancel() override {}

 private:
  CallRuntime& runtime_;
};

// The gRPC entry point of one plugin RPC: the call runs on the thread gRPC
// received it on when that thread may be borrowed (see CallRuntime), on the
// elastic pool otherwise, so that plugin code never blocks gRPC itself.
template <class Request, class Response, class Invoke>
RawUnaryHandler MakeHandler(CallRuntime& runtime, const MethodInfo& method, Invoke invoke) {
  return [&runtime, &method, invoke = std::move(invoke)](
             grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
             grpc::ByteBuffer* response) -> grpc::ServerUnaryReactor* {
    if (!runtime.BeginCall()) {
      grpc::ServerUnaryReactor* refused = context->DefaultReactor();
      refused->Finish(ShuttingDown(method));
      return refused;
    }
    if (!runtime.observers.empty()) runtime.ObserveStart(method);
    auto* reactor = new CountedReactor(runtime);
    if (!method.runs_long && CallRuntime::BorrowGrpcThread()) {
      reactor->Finish(
          RunCall<Request, Response>(runtime, method, invoke, *context, *request, *response));
      CallRuntime::ReturnGrpcThread();
      return reactor;
    }
    const absl::Status queued =
        runtime.pool.Submit([&runtime, &method, &invoke, context, request, response, reactor]() {
          reactor->Finish(
              RunCall<Request, Response>(runtime, method, invoke, *context, *request, *response));
        });
    if (!queued.ok()) {
      // The task was dropped without running: answer for it here.
      const grpc::Status status = queued.code() == absl::StatusCode::kUnavailable
                                      ? ShuttingDown(method)
                                      : NotStarted(method, queued);
      runtime.LogCall(method, status, std::chrono::steady_clock::duration::zero());
      if (!runtime.observers.empty()) {
        runtime.ObserveFinish(method, *context, *request, grpc::ByteBuffer(), status,
                              std::chrono::steady_clock::duration::zero());
      }
      reactor->Finish(status);
    }
    return reactor;
  };
}

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_SERVER_CALL_RUNNER_H_
