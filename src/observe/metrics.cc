#include "observe/metrics.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cnpgi/server_options.h"
#include "server/call_runner.h"

namespace cnpgi::internal {
namespace {

std::atomic<std::uint64_t> handshake_failures{0};

// grpc-go's names of the codes, which go-grpc-prometheus puts in grpc_code.
constexpr std::array<const char*, 17> kGoCodeNames = {
    "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
    "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
    "DataLoss", "Unauthenticated"};

// How long a scraper may take to send its request.
constexpr int kRequestTimeoutMs = 2000;
constexpr std::size_t kMaxRequestBytes = 8192;

std::string Labels(const std::string& service, const std::string& method) {
  return absl::StrCat("grpc_type=\"unary\",grpc_service=\"", service, "\",grpc_method=\"", method,
                      "\"");
}

std::string Seconds(double value) {
  std::ostringstream out;
  out.precision(9);
  out << value;
  return out.str();
}

void WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// The inodes of this process's sockets.
std::set<std::string> OwnSocketInodes() {
  std::set<std::string> inodes;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return inodes;
  while (const dirent* entry = ::readdir(dir)) {
    char target[128];
    const std::string path = absl::StrCat("/proc/self/fd/", entry->d_name);
    const ssize_t n = ::readlink(path.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    const std::string_view link(target, static_cast<std::size_t>(n));
    if (link.starts_with("socket:[") && link.ends_with("]")) {
      inodes.emplace(link.substr(8, link.size() - 9));
    }
  }
  ::closedir(dir);
  return inodes;
}

}  // namespace

void CountHandshakeFailure() { handshake_failures.fetch_add(1, std::memory_order_relaxed); }
std::uint64_t HandshakeFailures() { return handshake_failures.load(std::memory_order_relaxed); }

absl::StatusOr<std::unique_ptr<ServerMetrics>> ServerMetrics::Listen(const std::string& address,
                                                                     std::string_view flag,
                                                                     Logger logger) {
  const std::string shown = absl::StrCat(std::string(flag), " \"", address, "\"");
  absl::StatusOr<std::string> listen = ToGrpcListenAddress(address);
  if (!listen.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(shown, ": ", listen.status().message()));
  }
  // "[::]:9187", "host:9187", "[v6]:9187".
  const std::size_t colon = listen->rfind(':');
  std::string host = listen->substr(0, colon);
  const std::string port = listen->substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int e =
          ::getaddrinfo(host == "::" ? nullptr : host.c_str(), port.c_str(), &hints, &found);
      e != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(shown, ": cannot resolve \"", host, "\": ", gai_strerror(e)));
  }
  int fd = -1;
  int error = 0;
  // The IPv6 wildcard first: on a dual-stack host it takes IPv4 too.
  for (int pass = 0; pass < 2 && fd < 0; ++pass) {
    for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
      if ((pass == 0) != (a->ai_family == AF_INET6)) continue;
      const int s = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (s < 0) {
        error = errno;
        continue;
      }
      const int one = 1;
      ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      if (::bind(s, a->ai_addr, a->ai_addrlen) == 0 && ::listen(s, 16) == 0) {
        fd = s;
      } else {
        error = errno;
        ::close(s);
      }
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(shown, ": cannot listen: ", std::strerror(error),
                                               error == EADDRINUSE
                                                   ? " (another process, or the plugin's own "
                                                     "--server-address, has that port)"
                                                   : ""));
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  char text[INET6_ADDRSTRLEN] = "";
  int actual_port = 0;
  if (bound.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&bound);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    actual_port = ntohs(in6->sin6_port);
  } else {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(&bound);
    ::inet_ntop(AF_INET, &in4->sin_addr, text, sizeof(text));
    actual_port = ntohs(in4->sin_port);
  }
  const std::string actual = bound.ss_family == AF_INET6
                                 ? absl::StrCat("[", text, "]:", actual_port)
                                 : absl::StrCat(text, ":", actual_port);
  std::unique_ptr<ServerMetrics> metrics(new ServerMetrics(fd, actual, std::move(logger)));
  if (::pipe2(metrics->wake_, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat(shown, ": pipe: ", std::strerror(errno)));
  }
  return metrics;
}

ServerMetrics::ServerMetrics(int listen_fd, std::string address, Logger logger)
    : listen_fd_(listen_fd), address_(std::move(address)), logger_(std::move(logger)) {}

ServerMetrics::~ServerMetrics() {
  Stop();
  ::close(listen_fd_);
  for (int fd : wake_) {
    if (fd >= 0) ::close(fd);
  }
}

void ServerMetrics::StartServing() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Serve(); });
}

void ServerMetrics::Stop() {
  if (!thread_.joinable()) return;
  const char byte = 0;
  (void)!::write(wake_[1], &byte, 1);
  thread_.join();
}

void ServerMetrics::Register(const std::deque<MethodInfo>& methods) {
  for (const MethodInfo& m : methods) {
    const std::size_t slash = m.path.rfind('/');
    Stats& s = stats_.emplace_back();
    s.service = m.path.substr(1, slash - 1);
    s.method = m.path.substr(slash + 1);
    by_method_[&m] = &s;
  }
}

void ServerMetrics::Started(const MethodInfo& method) {
  const auto it = by_method_.find(&method);
  if (it != by_method_.end()) it->second->started.fetch_add(1, std::memory_order_relaxed);
}

void ServerMetrics::Finished(const MethodInfo& method, grpc::CallbackServerContext&,
                             const grpc::ByteBuffer&, const grpc::ByteBuffer&,
                             const grpc::Status& status,
                             std::chrono::steady_clock::duration elapsed) {
  const auto it = by_method_.find(&method);
  if (it == by_method_.end()) return;
  Stats& s = *it->second;
  const auto code = static_cast<std::size_t>(status.error_code());
  if (code < s.handled.size()) s.handled[code].fetch_add(1, std::memory_order_relaxed);
  const double seconds = std::chrono::duration<double>(elapsed).count();
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) {
      s.buckets[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  s.nanoseconds.fetch_add(
      static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()),
      std::memory_order_relaxed);
  s.count.fetch_add(1, std::memory_order_relaxed);
}

std::int64_t ServerMetrics::OpenConnections() const {
  const std::set<std::string> own = OwnSocketInodes();
  std::int64_t open = 0;
  if (!unix_path_.empty()) {
    // Num RefCount Protocol Flags Type St Inode Path; accepted sockets
    // carry the listener's path, St 03 = connected.
    std::ifstream in("/proc/net/unix");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string num, refs, protocol, flags, type, state, inode, path;
      fields >> num >> refs >> protocol >> flags >> type >> state >> inode >> path;
      if (state == "03" && path == unix_path_ && own.contains(inode)) ++open;
    }
  } else if (const int tcp_port = tcp_port_.load(std::memory_order_acquire); tcp_port > 0) {
    char port[16];
    std::snprintf(port, sizeof(port), "%04X", tcp_port);
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
      std::ifstream in(table);
      std::string line;
      std::getline(in, line);
      while (std::getline(in, line)) {
        // sl local remote st tx:rx tr:when retrnsmt uid timeout inode
        std::istringstream fields(line);
        std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
        fields >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
            timeout >> inode;
        if (state == "01" && local.ends_with(absl::StrCat(":", port)) && own.contains(inode)) {
          ++open;
        }
      }
    }
  }
  return open;
}

std::string ServerMetrics::Render() const {
  std::string out;
  out +=
      "# HELP grpc_server_started_total Total number of RPCs started on the server.\n"
      "# TYPE grpc_server_started_total counter\n";
  for (const Stats& s : stats_) {
    absl::StrAppend(&out, "grpc_server_started_total{", Labels(s.service, s.method), "} ",
                    s.started.load(std::memory_order_relaxed), "\n");
  }
  out +=
      "# HELP grpc_server_handled_total Total number of RPCs completed on the server, "
      "regardless of success or failure.\n"
      "# TYPE grpc_server_handled_total counter\n";
  for (const Stats& s : stats_) {
    for (std::size_t code = 0; code < s.handled.size(); ++code) {
      const std::uint64_t n = s.handled[code].load(std::memory_order_relaxed);
      if (n == 0 && code != 0) continue;
      absl::StrAppend(&out, "grpc_server_handled_total{", Labels(s.service, s.method),
                      ",grpc_code=\"", kGoCodeNames[code], "\"} ", n, "\n");
    }
  }
  out +=
      "# HELP grpc_server_handling_seconds Histogram of response latency (seconds) of gRPC "
      "that had been application-level handled by the server.\n"
      "# TYPE grpc_server_handling_seconds histogram\n";
  std::int64_t in_flight = 0;
  for (const Stats& s : stats_) {
    const std::string labels = Labels(s.service, s.method);
    const std::uint64_t count = s.count.load(std::memory_order_relaxed);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      cumulative += s.buckets[i].load(std::memory_order_relaxed);
      absl::StrAppend(&out, "grpc_server_handling_seconds_bucket{", labels, ",le=\"",
                      Seconds(kLatencyBuckets[i]), "\"} ", cumulative, "\n");
    }
    absl::StrAppend(&out, "grpc_server_handling_seconds_bucket{", labels, ",le=\"+Inf\"} ", count,
                    "\n");
    absl::StrAppend(
        &out, "grpc_server_handling_seconds_sum{", labels, "} ",
        Seconds(static_cast<double>(s.nanoseconds.load(std::memory_order_relaxed)) / 1e9), "\n");
    absl::StrAppend(&out, "grpc_server_handling_seconds_count{", labels, "} ", count, "\n");
    in_flight += static_cast<std::int64_t>(s.started.load(std::memory_order_relaxed)) -
                 static_cast<std::int64_t>(count);
  }
  absl::StrAppend(&out,
                  "# HELP cnpgi_server_calls_in_flight RPCs started and not yet answered.\n"
                  "# TYPE cnpgi_server_calls_in_flight gauge\n"
                  "cnpgi_server_calls_in_flight ",
                  std::max<std::int64_t>(in_flight, 0), "\n");
  absl::StrAppend(&out,
                  "# HELP cnpgi_server_connections Open client connections to the plugin's "
                  "gRPC listener.\n"
                  "# TYPE cnpgi_server_connections gauge\n"
                  "cnpgi_server_connections ",
                  OpenConnections(), "\n");
  absl::StrAppend(&out,
                  "# HELP cnpgi_server_handshake_failures_total Connections closed during "
                  "their handshake (TLS refused, not HTTP/2, peer gone), in this process.\n"
                  "# TYPE cnpgi_server_handshake_failures_total counter\n"
                  "cnpgi_server_handshake_failures_total ",
                  HandshakeFailures(), "\n");
  return out;
}

void ServerMetrics::Serve() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      logger_.Error("metrics endpoint stopped", {{"error", std::strerror(errno)}});
      return;
    }
    if (fds[1].revents != 0) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors or a connection gone before accept: the next
      // scrape tries again.
      if (errno == EMFILE || errno == ENFILE) ::usleep(100 * 1000);
      continue;
    }
    Answer(fd);
    ::close(fd);
  }
}

void ServerMetrics::Answer(int fd) const {
  // One scrape at a time, each bounded in time: a client that sends nothing
  // holds the endpoint for kRequestTimeoutMs at most.
  std::string request;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kRequestTimeoutMs);
  char buffer[1024];
  while (request.find("\r\n\r\n") == std::string::npos &&
         request.find("\n\n") == std::string::npos && request.size() < kMaxRequestBytes) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return;
    request.append(buffer, static_cast<std::size_t>(n));
  }
  const std::string line = request.substr(0, request.find_first_of("\r\n"));
  std::string status = "200 OK";
  std::string body;
  std::string type = "text/plain; version=0.0.4; charset=utf-8";
  if (!line.starts_with("GET ") && !line.starts_with("HEAD ")) {
    status = "405 Method Not Allowed";
    body = "only GET\n";
  } else {
    const std::size_t start = line.find(' ') + 1;
    const std::string path = line.substr(start, line.find(' ', start) - start);
    if (path == "/metrics" || path.starts_with("/metrics?")) {
      body = Render();
    } else {
      status = "404 Not Found";
      body = "metrics are at /metrics\n";
    }
  }
  std::string response =
      absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", type,
                   "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n");
  if (!line.starts_with("HEAD ")) response += body;
  WriteAll(fd, response);
}

}  // namespace cnpgi::internal
