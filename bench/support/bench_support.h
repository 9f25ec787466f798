// Helpers shared by the server benchmarks (server_bench, go_peer_bench,
// hardening_probe):
// statistics, server processes and their CPU time, and the load client.
#ifndef CNPGI_BENCH_SUPPORT_BENCH_SUPPORT_H_
#define CNPGI_BENCH_SUPPORT_BENCH_SUPPORT_H_

#include <google/protobuf/message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace cnpgi_bench {

using Clock = std::chrono::steady_clock;

// Prints "<program>: message" and exits 1.
[[noreturn]] void Die(const std::string& message);

double Seconds(Clock::duration d);
double Median(std::vector<double> v);
// The q-quantile (0..1) of sorted values, nearest rank.
double Quantile(const std::vector<double>& sorted, double q);
std::string ReadFile(const std::string& path);

// CPU time (user + system, all threads including exited ones) of a process,
// in seconds, with nanosecond resolution where the kernel gives it.
double ProcessCpuSeconds(pid_t pid);
// The same for this process.
double SelfCpuSeconds();
// CPU nanoseconds of each live thread of a process, by thread id, with its
// name; and µs per call of each thread between two snapshots.
std::map<std::string, std::pair<std::string, double>> ThreadCpu(pid_t pid);
std::string ThreadProfile(const std::map<std::string, std::pair<std::string, double>>& before,
                          const std::map<std::string, std::pair<std::string, double>>& after,
                          uint64_t calls);
// A "Key:   value kB" field of /proc/<pid>/status, -1 when missing.
long StatusField(pid_t pid, const std::string& key);

// Starts `binary` with `args`, the environment plus `extra_env`, standard
// input from /dev/null, standard error (and output, unless `stdout_fd` is
// given) appended to `log`; pinned to CPU `cpu` unless it is negative.
pid_t Spawn(const std::string& binary, const std::vector<std::string>& args,
            const std::vector<std::string>& extra_env, const std::string& log, int stdout_fd = -1,
            int cpu = -1);
// SIGTERM (or SIGKILL when `hard`), then SIGKILL after 5 s.
void StopServer(pid_t pid, bool hard);

// A request message as the bytes a generic stub sends.
grpc::ByteBuffer Serialize(const google::protobuf::Message& m);

// The operator keeps up to five connections per plugin.
inline constexpr int kMaxConnections = 5;

// Makes the client's n-th connection (distinct n, distinct connections).
using Connector = std::function<std::shared_ptr<grpc::Channel>(int)>;

// `count` generic stubs on connections 0..count-1, each connected within
// 10 s, or the program ends saying so.
std::vector<std::unique_ptr<grpc::GenericStub>> ConnectStubs(const Connector& connect, int count);

// `concurrency` unary calls of `method` kept in flight from one client
// thread on a completion queue, spread over `stubs` (one per connection):
// Next() hands out a finished call, Reissue() starts it again. The owner
// decides when to stop reissuing and counts the calls still out.
class CallsInFlight {
 public:
  struct Call {
    grpc::GenericStub* stub = nullptr;
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
    grpc::ByteBuffer response;
    grpc::Status status;
    bool ok = false;          // the completion queue's verdict on the call
    Clock::time_point start;  // when it was (re)issued
  };

  // Every call is issued here. `request` is sent as it is (not copied): it
  // must outlive this object. `deadline`, when not zero, is each call's.
  CallsInFlight(std::vector<std::unique_ptr<grpc::GenericStub>> stubs, std::string method,
                const grpc::ByteBuffer& request, int concurrency,
                std::chrono::seconds deadline = std::chrono::seconds(0));
  CallsInFlight(const CallsInFlight&) = delete;
  CallsInFlight& operator=(const CallsInFlight&) = delete;

  // The next call to finish; blocks until one does.
  Call& Next();
  // The next call to finish before `wait` passes, or nullptr.
  Call* Next(std::chrono::milliseconds wait);
  void Reissue(Call& call);

 private:
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  std::string method_;
  const grpc::ByteBuffer& request_;  // the caller's
  std::chrono::seconds deadline_;
  grpc::CompletionQueue cq_;
  std::vector<Call> calls_;  // never resized: their addresses are the queue's tags
};

struct LoadResult {
  double seconds = 0;
  uint64_t calls = 0;
  uint64_t errors = 0;
  double server_cpu_seconds = 0;
  double client_cpu_seconds = 0;     // this process's, over the same span
  std::vector<double> latencies_us;  // sorted
  std::string thread_profile;        // with thread_profile
};

// `concurrency` calls of `method` always in flight on up to five
// connections, from one client thread driving a completion queue; measured
// for `duration_s` after `warmup_s`.
LoadResult RunLoad(pid_t server, const Connector& connect, const std::string& method,
                   const grpc::ByteBuffer& request, int concurrency, double warmup_s,
                   double duration_s, bool thread_profile);

}  // namespace cnpgi_bench

#endif  // CNPGI_BENCH_SUPPORT_BENCH_SUPPORT_H_
