// Not part of the API. --metrics-address: per-RPC metrics of the plugin's
// server in the Prometheus text format, served over plain HTTP by a small
// exposition of the SDK's own (see docs/observability.md for why not
// prometheus-cpp). Names and labels follow the Go gRPC ecosystem's
// (go-grpc-prometheus), so existing dashboards and alerts apply.
#ifndef CNPGI_SRC_OBSERVE_METRICS_H_
#define CNPGI_SRC_OBSERVE_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "cnpgi/logging.h"
#include "observe/call_observer.h"

namespace cnpgi::internal {

// Connections gRPC closed during their handshake, in this process (gRPC's
// log says so without saying which server; see GrpcLogRoute).
void CountHandshakeFailure();
std::uint64_t HandshakeFailures();

// Upper bounds of the latency histogram, in seconds: CNPG-I calls take from
// tens of microseconds (Probe) to hours (Backup).
inline constexpr std::array<double, 14> kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 10, 60};

class ServerMetrics final : public CallObserver {
 public:
  // Listens on `address` (as --server-address is written); the error names
  // `flag` (a taken port, an address not of this host).
  static absl::StatusOr<std::unique_ptr<ServerMetrics>> Listen(const std::string& address,
                                                               std::string_view flag,
                                                               Logger logger);
  ~ServerMetrics() override;

  // The methods served, before the server starts; read-only afterwards,
  // so that calls look their counters up without a lock.
  void Register(const std::deque<MethodInfo>& methods);
  // Where the plugin's own listener is, to count its open connections: a
  // Unix socket path (before the server starts), or a TCP port (once known).
  void SetUnixListener(std::string path) { unix_path_ = std::move(path); }
  void SetTcpListener(int port) { tcp_port_.store(port, std::memory_order_release); }

  void Started(const MethodInfo& method) override;
  void Finished(const MethodInfo& method, grpc::CallbackServerContext& context,
                const grpc::ByteBuffer& request, const grpc::ByteBuffer& response,
                const grpc::Status& status, std::chrono::steady_clock::duration elapsed) override;

  // Starts answering scrapes (the port is bound from Listen() on, so that
  // a taken one fails the start). After Register().
  void StartServing();

  // "host:port" with the actual port.
  const std::string& address() const { return address_; }
  // The exposition, as served at /metrics.
  std::string Render() const;
  void Stop();

 private:
  struct Stats {
    std::string service;
    std::string method;
    std::atomic<std::uint64_t> started{0};
    std::array<std::atomic<std::uint64_t>, 17> handled{};
    std::array<std::atomic<std::uint64_t>, kLatencyBuckets.size()> buckets{};
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint64_t> nanoseconds{0};
  };

  ServerMetrics(int listen_fd, std::string address, Logger logger);
  void Serve();
  void Answer(int fd) const;
  std::int64_t OpenConnections() const;

  const int listen_fd_;
  const std::string address_;
  const Logger logger_;
  int wake_[2] = {-1, -1};
  std::deque<Stats> stats_;
  std::unordered_map<const MethodInfo*, Stats*> by_method_;
  std::string unix_path_;
  std::atomic<int> tcp_port_{0};
  std::thread thread_;
};

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_OBSERVE_METRICS_H_
