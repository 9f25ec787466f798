// Hardening probes: what an attacker or an unlucky operator does to a running
// plugin, measured against a plugin process over its Unix socket. See
// docs/benchmarks.md, section "Hardening".
//
//   hardening_probe [--plugin BIN] [--cluster FILE] [MODE...]
//
// Modes (all of them when none is named):
//   descriptors  the plugin runs with `ulimit -n 256` and 400 connections
//                are opened: does it exit non-zero (and how fast), or, once
//                300 are closed again, accept a new connection, or neither?
//   sigterm      MutateCluster at 16 in flight on 5 connections, SIGTERM,
//                20 times: how many calls end CANCELLED (and with what)?
//   logflood     100,000 identical failing calls: bytes of log written
//   idle         RSS of the plugin before and after 2000 idle connections
//                (HTTP/2 preface and SETTINGS sent, then nothing)
//
// The plugin is bench/server_sdk_plugin by default (MutateCluster, WAL
// Archive; every other RPC answers UNIMPLEMENTED), or any plugin taking
// --plugin-path whose name is given with --name. Markdown goes to stdout,
// progress to stderr.
#include <absl/status/status.h>
#include <errno.h>
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cnpgi/operator/v1/operator.grpc.pb.h"
#include "server_work.h"
#include "support/bench_support.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using cnpgi_bench::Clock;
using cnpgi_bench::Die;
using cnpgi_bench::kMaxConnections;
using cnpgi_bench::Median;
using cnpgi_bench::Seconds;

constexpr char kMutateCluster[] = "/cnpgi.operator.v1.Operator/MutateCluster";
// Not implemented by the benchmark plugin: every call fails the same way.
constexpr char kUnimplemented[] = "/cnpgi.wal.v1.WAL/Restore";

std::string ReadFile(const fs::path& path) { return cnpgi_bench::ReadFile(path.string()); }

long RssKiB(pid_t pid) { return cnpgi_bench::StatusField(pid, "VmRSS"); }

int OpenDescriptors(pid_t pid) {
  int n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

// A plugin process, its socket and its log (standard error).
class Plugin {
 public:
  // `shell_prefix`, when set, runs the plugin under /bin/sh with it first
  // (e.g. "ulimit -n 256"), then exec.
  Plugin(const std::string& binary, const std::string& name, const fs::path& dir,
         const std::vector<std::string>& extra_args, const std::string& shell_prefix = "")
      : dir_(dir), socket_(dir / name), log_(dir / "plugin.log") {
    fs::remove(socket_);
    std::vector<std::string> args;
    if (!shell_prefix.empty()) {
      args = {"/bin/sh", "-c", shell_prefix + " && exec \"$0\" \"$@\"", binary};
    } else {
      args = {binary};
    }
    args.insert(args.end(), {"--plugin-path", dir.string()});
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) Die("cannot start " + binary + ": " + std::strerror(rc));
    const auto give_up = Clock::now() + std::chrono::seconds(20);
    while (!CanConnect()) {
      if (Exited(std::chrono::milliseconds(0))) Die("the plugin exited at start:\n" + Log());
      if (Clock::now() > give_up) Die("the plugin did not listen within 20 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ~Plugin() {
    if (!exit_code_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  pid_t pid() const { return pid_; }
  const fs::path& socket() const { return socket_; }
  std::string Log() const { return ReadFile(log_); }
  std::uintmax_t LogBytes() const {
    std::error_code ec;
    const auto size = fs::file_size(log_, ec);
    return ec ? 0 : size;
  }
  std::optional<int> exit_code() const { return exit_code_; }

  // True once the process has exited (waiting up to `timeout`).
  bool Exited(std::chrono::milliseconds timeout) {
    if (exit_code_) return true;
    const auto end = Clock::now() + timeout;
    do {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return true;
      }
      if (Clock::now() >= end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    } while (true);
  }

  // A raw connection to the socket, or -1.
  int RawConnect() const {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", socket_.c_str());
    if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  bool CanConnect() const {
    const int fd = RawConnect();
    if (fd < 0) return false;
    close(fd);
    return true;
  }

  std::shared_ptr<grpc::Channel> Channel(int index) const {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("cnpgi.probe.connection", index);
    return grpc::CreateCustomChannel("unix:" + socket_.string(), grpc::InsecureChannelCredentials(),
                                     args);
  }

 private:
  fs::path dir_, socket_, log_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

struct Options {
  std::string plugin;
  std::string name = cnpgi_bench::kPluginName;
  std::string cluster;
  std::vector<std::string> modes;
  int stops = 20;
  int failures = 100000;
  int idle_connections = 2000;
};

grpc::ByteBuffer MutateRequest(const std::string& cluster_json) {
  cnpgi::operator_::v1::OperatorMutateClusterRequest request;
  request.set_definition(cluster_json);
  grpc::ByteBuffer buffer;
  bool own = false;
  if (!grpc::SerializationTraits<google::protobuf::Message>::Serialize(request, &buffer, &own)
           .ok()) {
    Die("cannot serialize the request");
  }
  return buffer;
}

// Sends `method` with `request` once on `channel`, waiting up to `timeout`.
grpc::Status CallOnce(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                      const grpc::ByteBuffer& request, std::chrono::milliseconds timeout) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  grpc::CompletionQueue cq;
  grpc::ByteBuffer response;
  grpc::Status status;
  auto call = stub.PrepareUnaryCall(&context, method, request, &cq);
  call->StartCall();
  call->Finish(&response, &status, nullptr);
  void* tag = nullptr;
  bool ok = false;
  cq.Next(&tag, &ok);
  return status;
}

// ---------------------------------------------------------------------------

void Descriptors(const Options& o, const fs::path& dir) {
  std::fprintf(stderr, "descriptors: ulimit -n 256, 400 connections\n");
  Plugin plugin(o.plugin, o.name, dir, {"--grace-period=5s"}, "ulimit -n 256");
  const grpc::ByteBuffer empty;
  std::vector<int> fds;
  for (int i = 0; i < 400; ++i) {
    const int fd = plugin.RawConnect();
    if (fd < 0) break;
    fds.push_back(fd);
  }
  const std::size_t opened = fds.size();
  const auto opened_at = Clock::now();
  // Either the plugin exits (it can no longer accept), or, 1 s later, 300
  // connections are closed and a new one must be accepted; 30 s each.
  std::string outcome;
  double seconds = 0;
  if (plugin.Exited(std::chrono::seconds(1))) {
    seconds = Seconds(Clock::now() - opened_at);
    outcome =
        "exited with code " + std::to_string(*plugin.exit_code()) + ", its descriptors exhausted";
  } else {
    const int at_peak = OpenDescriptors(plugin.pid());
    for (int i = 0; i < 300 && !fds.empty(); ++i) {
      close(fds.back());
      fds.pop_back();
    }
    const auto closed_at = Clock::now();
    int attempt = 0;
    while (outcome.empty() && Clock::now() - closed_at < std::chrono::seconds(30)) {
      if (plugin.Exited(std::chrono::milliseconds(0))) {
        outcome = "exited with code " + std::to_string(*plugin.exit_code()) +
                  " after 300 connections were closed";
      } else if (CallOnce(plugin.Channel(++attempt), "/cnpgi.identity.v1.Identity/Probe", empty,
                          std::chrono::milliseconds(500))
                     .ok()) {
        outcome = "accepts connections again after 300 were closed";
      }
    }
    seconds = Seconds(Clock::now() - closed_at);
    if (outcome.empty()) {
      outcome = "alive (" + std::to_string(OpenDescriptors(plugin.pid())) + " descriptors open, " +
                std::to_string(at_peak) +
                " at the peak) but accepting nothing, 30 s after 300 connections were closed";
    }
  }
  for (int fd : fds) close(fd);
  std::printf("| descriptors | ulimit -n 256, %zu connections opened: %s | %.2f s |\n", opened,
              outcome.c_str(), seconds);
}

// ---------------------------------------------------------------------------

struct StopResult {
  std::map<grpc::StatusCode, int> codes;
  std::map<grpc::StatusCode, std::string> first_message;
  int exit_code = -1;
  double stop_ms = 0;
};

StopResult OneStop(const Options& o, const fs::path& dir, const grpc::ByteBuffer& request,
                   int concurrency, int round) {
  Plugin plugin(o.plugin, o.name, dir, {"--grace-period=10s"});
  cnpgi_bench::CallsInFlight calls(
      cnpgi_bench::ConnectStubs([&](int i) { return plugin.Channel(round * 100 + i); },
                                kMaxConnections),
      kMutateCluster, request, concurrency, std::chrono::seconds(30));
  StopResult r;
  const auto signal_at = Clock::now() + std::chrono::milliseconds(300 + (round * 37) % 100);
  std::optional<Clock::time_point> signalled;
  int outstanding = concurrency;
  bool issuing = true;
  while (outstanding > 0) {
    cnpgi_bench::CallsInFlight::Call* const s = calls.Next(std::chrono::milliseconds(5));
    if (!signalled && Clock::now() >= signal_at) {
      kill(plugin.pid(), SIGTERM);
      signalled = Clock::now();
    }
    if (signalled && issuing && plugin.Exited(std::chrono::milliseconds(0))) {
      r.stop_ms = Seconds(Clock::now() - *signalled) * 1e3;
      issuing = false;  // the calls still in flight finish; no new ones
    }
    if (s == nullptr) continue;
    if (signalled) {
      ++r.codes[s->status.error_code()];
      r.first_message.try_emplace(s->status.error_code(), s->status.error_message());
    }
    if (issuing) {
      calls.Reissue(*s);
    } else {
      --outstanding;
    }
  }
  plugin.Exited(std::chrono::seconds(30));
  r.exit_code = plugin.exit_code().value_or(-1);
  return r;
}

// gRPC's codes are Abseil's, number for number: Abseil names them.
std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

void Sigterm(const Options& o, const fs::path& dir) {
  const std::string cluster = ReadFile(o.cluster);
  if (cluster.empty()) Die("cannot read the Cluster " + o.cluster);
  const grpc::ByteBuffer request = MutateRequest(cluster);
  std::map<grpc::StatusCode, int> total;
  std::map<grpc::StatusCode, std::string> messages;
  int stops_with_cancelled = 0;
  int max_cancelled = 0;
  std::vector<double> stop_ms;
  std::map<int, int> exit_codes;
  for (int round = 0; round < o.stops; ++round) {
    StopResult r = OneStop(o, dir, request, 16, round);
    const int cancelled = r.codes[grpc::StatusCode::CANCELLED];
    std::fprintf(stderr, "sigterm %d/%d: exit %d after %.0f ms;", round + 1, o.stops, r.exit_code,
                 r.stop_ms);
    for (const auto& [code, n] : r.codes) std::fprintf(stderr, " %s %d", CodeName(code).c_str(), n);
    std::fprintf(stderr, "\n");
    for (const auto& [code, n] : r.codes) total[code] += n;
    for (const auto& [code, m] : r.first_message) messages.try_emplace(code, m);
    stops_with_cancelled += cancelled > 0 ? 1 : 0;
    max_cancelled = std::max(max_cancelled, cancelled);
    stop_ms.push_back(r.stop_ms);
    ++exit_codes[r.exit_code];
  }
  std::string codes;
  for (const auto& [code, n] : total) {
    codes += std::string(codes.empty() ? "" : ", ") + CodeName(code) + " " + std::to_string(n);
  }
  std::string exits;
  for (const auto& [code, n] : exit_codes) {
    exits +=
        std::string(exits.empty() ? "" : ", ") + std::to_string(n) + "× " + std::to_string(code);
  }
  std::printf(
      "| sigterm | %d stops under MutateCluster at 16 in flight: %d CANCELLED in all "
      "(%d stops had some, at most %d in one); calls ending after the signal: %s; "
      "exit codes %s | median stop %.0f ms |\n",
      o.stops, total[grpc::StatusCode::CANCELLED], stops_with_cancelled, max_cancelled,
      codes.c_str(), exits.c_str(), Median(stop_ms));
  for (const auto& [code, m] : messages) {
    if (code != grpc::StatusCode::OK) {
      std::fprintf(stderr, "  first %s: %s\n", CodeName(code).c_str(), m.c_str());
    }
  }
}

// ---------------------------------------------------------------------------

void LogFlood(const Options& o, const fs::path& dir) {
  Plugin plugin(o.plugin, o.name, dir, {});
  const std::uintmax_t before = plugin.LogBytes();
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < kMaxConnections; ++i) channels.push_back(plugin.Channel(i));
  const grpc::ByteBuffer empty;
  // 16 in flight, as a caller repeating a failing call as fast as it can.
  grpc::CompletionQueue cq;
  struct Slot {
    std::unique_ptr<grpc::GenericStub> stub;
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> call;
    grpc::ByteBuffer response;
    grpc::Status status;
  };
  std::vector<Slot> slots(16);
  auto issue = [&](Slot& s) {
    s.context = std::make_unique<grpc::ClientContext>();
    s.call = s.stub->PrepareUnaryCall(s.context.get(), kUnimplemented, empty, &cq);
    s.call->StartCall();
    s.call->Finish(&s.response, &s.status, &s);
  };
  int sent = 0;
  int failed = 0;
  const auto start = Clock::now();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    slots[i].stub = std::make_unique<grpc::GenericStub>(channels[i % channels.size()]);
    issue(slots[i]);
    ++sent;
  }
  int outstanding = static_cast<int>(slots.size());
  void* tag = nullptr;
  bool ok = false;
  while (outstanding > 0 && cq.Next(&tag, &ok)) {
    Slot& s = *static_cast<Slot*>(tag);
    if (!s.status.ok()) ++failed;
    if (sent < o.failures) {
      issue(s);
      ++sent;
    } else {
      --outstanding;
    }
  }
  const double seconds = Seconds(Clock::now() - start);
  // Stop it, so that what it writes at exit counts too.
  kill(plugin.pid(), SIGTERM);
  plugin.Exited(std::chrono::seconds(30));
  const std::uintmax_t bytes = plugin.LogBytes() - before;
  std::printf(
      "| logflood | %d identical failing calls (%d failed) in %.1f s: %ju bytes of log "
      "(%.1f KB), %.2f bytes per failure | |\n",
      sent, failed, seconds, bytes, bytes / 1000.0, static_cast<double>(bytes) / sent);
}

// ---------------------------------------------------------------------------

void Idle(const Options& o, const fs::path& dir) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < static_cast<rlim_t>(o.idle_connections) + 100) {
    Die("the descriptor limit is too low for " + std::to_string(o.idle_connections) +
        " connections");
  }
  std::vector<double> per_connection;
  std::vector<double> before_mib;
  for (int rep = 0; rep < 3; ++rep) {
    Plugin plugin(o.plugin, o.name, dir, {});
    // A few calls first, so that the plugin's own start-up allocations are
    // done.
    for (int i = 0; i < 3; ++i) {
      CallOnce(plugin.Channel(-1 - i), "/cnpgi.identity.v1.Identity/Probe", grpc::ByteBuffer(),
               std::chrono::seconds(5));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const long before = RssKiB(plugin.pid());
    // What an HTTP/2 client sends first: the preface and an empty SETTINGS
    // frame. The server answers with its SETTINGS; the connection then idles.
    static constexpr char kPreface[] =
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
    std::vector<int> fds;
    for (int i = 0; i < o.idle_connections; ++i) {
      const int fd = plugin.RawConnect();
      if (fd < 0) Die("connection " + std::to_string(i) + " refused");
      if (write(fd, kPreface, sizeof(kPreface) - 1) < 0) Die("write failed");
      fds.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const long after = RssKiB(plugin.pid());
    for (int fd : fds) close(fd);
    before_mib.push_back(before / 1024.0);
    per_connection.push_back(static_cast<double>(after - before) / o.idle_connections);
    std::fprintf(stderr, "idle %d/3: RSS %ld KiB -> %ld KiB\n", rep + 1, before, after);
  }
  std::printf(
      "| idle | %d idle connections (median of 3): %.1f KiB of RSS each, %.1f MiB in all, "
      "over %.1f MiB before | |\n",
      o.idle_connections, Median(per_connection),
      Median(per_connection) * o.idle_connections / 1024.0, Median(before_mib));
}

void Usage() {
  std::fputs(
      "usage: hardening_probe [options] [descriptors|sigterm|logflood|idle]...\n"
      "  --plugin BIN     the plugin (default: server_sdk_plugin next to this program)\n"
      "  --name NAME      its name, which is its socket's name (default bench.cnpgi.io)\n"
      "  --cluster FILE   the Cluster JSON for MutateCluster (default: tests/data)\n"
      "  --stops N        SIGTERM stops (default 20)\n"
      "  --failures N     failing calls of the log flood (default 100000)\n"
      "  --idle N         idle connections (default 2000)\n",
      stderr);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.plugin = (fs::path(argv[0]).parent_path() / "server_sdk_plugin").string();
  o.cluster = (fs::path(CNPGI_BENCH_SOURCE_DIR) / "tests/data/cluster.json").string();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--plugin") {
      o.plugin = value();
    } else if (a == "--name") {
      o.name = value();
    } else if (a == "--cluster") {
      o.cluster = value();
    } else if (a == "--stops") {
      o.stops = std::stoi(value());
    } else if (a == "--failures") {
      o.failures = std::stoi(value());
    } else if (a == "--idle") {
      o.idle_connections = std::stoi(value());
    } else if (a == "-h" || a == "--help") {
      Usage();
      return 0;
    } else if (a == "descriptors" || a == "sigterm" || a == "logflood" || a == "idle") {
      o.modes.push_back(a);
    } else {
      Usage();
      return 2;
    }
  }
  if (o.modes.empty()) o.modes = {"descriptors", "sigterm", "logflood", "idle"};
  signal(SIGPIPE, SIG_IGN);
  char pattern[] = "/tmp/hardening_probe.XXXXXX";
  if (mkdtemp(pattern) == nullptr) Die("mkdtemp failed");
  const fs::path dir(pattern);
  std::printf("| probe | result | time |\n|---|---|---:|\n");
  std::fflush(stdout);
  for (const std::string& mode : o.modes) {
    if (mode == "descriptors") Descriptors(o, dir);
    if (mode == "sigterm") Sigterm(o, dir);
    if (mode == "logflood") LogFlood(o, dir);
    if (mode == "idle") Idle(o, dir);
    std::fflush(stdout);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
