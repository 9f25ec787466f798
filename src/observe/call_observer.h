// Not part of the API. What the server tells the recorder and the metrics
// about each call: a narrow hook on the per-call path, a single branch when
// nothing observes.
#ifndef CNPGI_SRC_OBSERVE_CALL_OBSERVER_H_
#define CNPGI_SRC_OBSERVE_CALL_OBSERVER_H_

#include <grpcpp/grpcpp.h>

#include <chrono>

namespace cnpgi::internal {

struct MethodInfo;

// Called on the thread that runs the call; implementations must not block
// (no I/O, no waiting on a lock that is held for long).
class CallObserver {
 public:
  virtual ~CallObserver() = default;
  // A call reached the server (before its request is read).
  virtual void Started(const MethodInfo& method) = 0;
  // The call has its answer, not yet sent. `request` and `response` are the
  // raw messages (`response` empty unless `status` is OK).
  virtual void Finished(const MethodInfo& method, grpc::CallbackServerContext& context,
                        const grpc::ByteBuffer& request, const grpc::ByteBuffer& response,
                        const grpc::Status& status,
                        std::chrono::steady_clock::duration elapsed) = 0;
};

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_OBSERVE_CALL_OBSERVER_H_
