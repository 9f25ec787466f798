// The SDK against Go: a statically linked SDK plugin (server_sdk_plugin_static,
// as the hello-world image is built) against the same small plugin written
// with grpc-go (go-peer, from ../shared/perf/go-peer/ next to the project,
// built here with Debian's Go packages). See docs/benchmarks.md, "Against Go".
//
//   go_peer_bench [--reps N] [--duration S] [--fresh N] [--no-pin] [--no-tls] [--no-load]
//                 [--go-peer BINARY] [--variant LABEL=BINARY ...]
//
// Measured over the Unix socket and over mutual TLS on TCP, for each server,
// each repetition starting fresh servers in a rotated order (interleaved):
//  - exec to the first answered Probe (a fresh connection, over TLS the full
//    handshake), and the server's CPU time by then;
//  - idle memory: VmRSS (RssAnon + RssFile) and threads, 3 s after the first
//    Probe, a few calls made;
//  - fresh connection: a new connection, the operator's handshake
//    (GetPluginMetadata, GetPluginCapabilities, Operator.GetCapabilities)
//    and one Probe, median of N; the server's CPU per connection;
//  - Probe and MutateCluster (the 8.8 KB fixture Cluster) with 1, 16 and 64
//    calls in flight on up to five connections: req/s, and the server's CPU
//    per call (from its CPU-time clock: independent of the machine's load,
//    unlike req/s), with the client's CPU use (a client near 100 % of its
//    CPU limits req/s).
// By default the servers run on CPU 0 and the client on CPU 1, so that they
// do not take each other's CPU. Medians over the repetitions; the markdown
// table goes to stdout, progress to stderr.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cnpgi/identity/v1/identity.grpc.pb.h"
#include "cnpgi/operator/v1/operator.grpc.pb.h"
#include "server_work.h"
#include "support/bench_support.h"

namespace {

namespace fs = std::filesystem;
using namespace cnpgi_bench;
namespace identity = cnpgi::identity::v1;
namespace op = cnpgi::operator_::v1;

constexpr char kServerName[] = "cnpgi-bench";
constexpr int kConcurrencies[] = {1, 16, 64};

struct Options {
  int reps = 5;
  double duration = 2;
  double warmup = 0.3;
  int fresh = 100;
  bool pin = true;
  bool tls = true;
  bool load = true;     // false: start-up, idle memory and fresh connections only
  std::string go_peer;  // empty: build it
  std::vector<std::pair<std::string, std::string>> extra;  // label, SDK binary
  std::string bin_dir;
  std::string cluster;
};

// The certificates of a mutual-TLS run: self-signed server (SAN kServerName)
// and client certificates, as cert-manager's selfSigned issuer makes them.
struct Tls {
  std::string dir;
  std::string server_cert, server_key, client_cert, client_key;
  std::string server_cert_pem, client_cert_pem, client_key_pem;
};

Tls MakeCertificates(const std::string& dir) {
  Tls t{dir,
        dir + "/server.crt",
        dir + "/server.key",
        dir + "/client.crt",
        dir + "/client.key",
        {},
        {},
        {}};
  auto make = [&](const std::string& cert, const std::string& key, const std::string& cn,
                  const std::string& ext) {
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=" +
        cn + " " + ext + " -keyout " + key + " -out " + cert + " 2>>" + dir + "/openssl.log";
    if (std::system(command.c_str()) != 0) Die("openssl failed: see " + dir + "/openssl.log");
  };
  make(t.server_cert, t.server_key, kServerName,
       std::string("-addext subjectAltName=DNS:") + kServerName +
           " -addext extendedKeyUsage=serverAuth");
  make(t.client_cert, t.client_key, "cnpgi-bench-operator", "-addext extendedKeyUsage=clientAuth");
  t.server_cert_pem = ReadFile(t.server_cert);
  t.client_cert_pem = ReadFile(t.client_cert);
  t.client_key_pem = ReadFile(t.client_key);
  return t;
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    Die("cannot find a free TCP port");
  }
  close(fd);
  return ntohs(a.sin_port);
}

// Whether something accepts connections at the Unix socket path or port.
bool Accepts(const std::string& socket_path, int port) {
  const int fd = socket(port > 0 ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Die(std::string("socket: ") + std::strerror(errno));
  bool ok = false;
  if (port > 0) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    ok = connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) == 0;
  } else {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, socket_path.c_str(), socket_path.size() + 1);
    ok = connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) == 0;
  }
  close(fd);
  return ok;
}

struct Server {
  std::string label;
  std::string binary;
  bool go = false;
};

// One running server, and how to reach it.
struct Running {
  pid_t pid = 0;
  std::string socket;  // Unix runs
  int port = 0;        // TLS runs
  const Tls* tls = nullptr;
  double first_probe_ms = 0;
  double cpu_ms = 0;

  std::shared_ptr<grpc::Channel> Connect(int index) const {
    grpc::ChannelArguments args;
    // Distinct channels must be distinct connections, as the operator's pool.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("cnpgi.bench.connection", index);
    if (tls == nullptr) {
      return grpc::CreateCustomChannel("unix:" + socket, grpc::InsecureChannelCredentials(), args);
    }
    args.SetSslTargetNameOverride(kServerName);
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = tls->server_cert_pem;
    ssl.pem_private_key = tls->client_key_pem;
    ssl.pem_cert_chain = tls->client_cert_pem;
    return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::SslCredentials(ssl),
                                     args);
  }
};

grpc::Status Probe(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  identity::ProbeResponse response;
  return identity::Identity::NewStub(channel)->Probe(&context, {}, &response);
}

// The operator's handshake on a connection, then one Probe.
grpc::Status HandshakeAndProbe(const std::shared_ptr<grpc::Channel>& channel) {
  auto id = identity::Identity::NewStub(channel);
  auto deadline = [] { return std::chrono::system_clock::now() + std::chrono::seconds(10); };
  {
    grpc::ClientContext c;
    c.set_deadline(deadline());
    identity::GetPluginMetadataResponse r;
    if (auto s = id->GetPluginMetadata(&c, {}, &r); !s.ok()) return s;
  }
  {
    grpc::ClientContext c;
    c.set_deadline(deadline());
    identity::GetPluginCapabilitiesResponse r;
    if (auto s = id->GetPluginCapabilities(&c, {}, &r); !s.ok()) return s;
  }
  {
    grpc::ClientContext c;
    c.set_deadline(deadline());
    op::OperatorCapabilitiesResult r;
    if (auto s = op::Operator::NewStub(channel)->GetCapabilities(&c, {}, &r); !s.ok()) return s;
  }
  return Probe(channel);
}

Running Start(const Options& opt, const Server& s, const std::string& dir, const Tls* tls) {
  Running r;
  r.tls = tls;
  std::vector<std::string> args;
  if (tls == nullptr) {
    r.socket = s.go ? dir + "/go-peer.sock" : dir + "/" + cnpgi_bench::kPluginName;
    fs::remove(r.socket);
    if (s.go) {
      args = {"-socket", r.socket};
    } else {
      args = {"--plugin-path", dir};
    }
  } else {
    r.port = FreePort();
    const std::string address = "127.0.0.1:" + std::to_string(r.port);
    if (s.go) {
      args = {"-listen",   address,          "-tls-ca",  tls->client_cert,
              "-tls-cert", tls->server_cert, "-tls-key", tls->server_key};
    } else {
      args = {"--server-address", address,         "--server-cert", tls->server_cert,
              "--server-key",     tls->server_key, "--client-cert", tls->client_cert};
    }
  }
  const std::string log = dir + "/" + (s.go ? "go" : "sdk") + ".log";
  const auto t0 = Clock::now();
  r.pid = Spawn(s.binary, args, {}, log, -1, opt.pin ? 0 : -1);
  const timespec pause{0, 20 * 1000};
  while (!Accepts(r.socket, r.port)) {
    int status = 0;
    if (waitpid(r.pid, &status, WNOHANG) == r.pid) {
      Die(s.label + " exited during start-up; its output:\n" + ReadFile(log));
    }
    if (Clock::now() - t0 > std::chrono::seconds(20)) Die(s.label + " did not start in 20 s");
    nanosleep(&pause, nullptr);
  }
  const grpc::Status probed = Probe(r.Connect(-1));
  const auto t1 = Clock::now();
  if (!probed.ok()) Die(s.label + ": first Probe failed: " + probed.error_message());
  r.first_probe_ms = Seconds(t1 - t0) * 1e3;
  r.cpu_ms = ProcessCpuSeconds(r.pid) * 1e3;
  return r;
}

// Samples of one figure, by transport and server label.
using Samples = std::map<std::string, std::map<std::string, std::vector<double>>>;

std::string Fmt(double v, int decimals = 1) {
  if (std::isnan(v)) return "n/a";
  char b[64];
  std::snprintf(b, sizeof(b), "%.*f", decimals, v);
  return b;
}

std::string BuildGoPeer(const Options& opt) {
  const fs::path script =
      fs::path(CNPGI_BENCH_SOURCE_DIR).parent_path() / "shared" / "perf" / "go-peer" / "build.sh";
  if (!fs::exists(script)) {
    std::fprintf(stderr, "go_peer_bench: %s not found: Go is skipped (give --go-peer)\n",
                 script.c_str());
    return {};
  }
  const std::string out = opt.bin_dir + "/go-peer";
  const std::string command =
      "bash " + script.string() + " " + CNPGI_BENCH_SOURCE_DIR + "/proto " + out + " >&2";
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr,
                 "go_peer_bench: building go-peer failed (Debian's golang-go, protoc-gen-go, "
                 "protoc-gen-go-grpc and golang-google-grpc-dev are needed; "
                 "scripts/install-deps.sh installs them): Go is skipped\n");
    return {};
  }
  return out + "/go-peer";
}

void Usage() {
  std::fputs(
      "usage: go_peer_bench [options]\n"
      "  --reps N          repetitions (default 5)\n"
      "  --duration S      seconds measured per load run (default 2)\n"
      "  --fresh N         fresh connections per server and repetition (default 100)\n"
      "  --no-pin          do not pin servers to CPU 0 and the client to CPU 1\n"
      "  --no-tls          only the Unix socket\n"
      "  --no-load         no Probe/MutateCluster load runs\n"
      "  --go-peer BINARY  an already built go-peer (default: build it)\n"
      "  --variant L=BIN   also measure the SDK plugin BIN under label L\n",
      stderr);
}

Options Parse(int argc, char** argv) {
  Options o;
  o.bin_dir = fs::canonical("/proc/self/exe").parent_path().string();
  o.cluster = std::string(CNPGI_BENCH_SOURCE_DIR) + "/tests/data/cluster.json";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--reps") {
      o.reps = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--duration") {
      o.duration = std::atof(value().c_str());
    } else if (a == "--fresh") {
      o.fresh = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--no-pin") {
      o.pin = false;
    } else if (a == "--no-tls") {
      o.tls = false;
    } else if (a == "--no-load") {
      o.load = false;
    } else if (a == "--go-peer") {
      o.go_peer = value();
    } else if (a == "--variant") {
      const std::string v = value();
      const size_t eq = v.find('=');
      if (eq == std::string::npos) Die("--variant wants LABEL=BINARY");
      o.extra.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else {
      Usage();
      Die("unknown argument " + a);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = Parse(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  const int cpus = static_cast<int>(std::thread::hardware_concurrency());
  if (opt.pin && cpus < 2) opt.pin = false;
  if (opt.pin) {
    // The client (this process, gRPC's threads included: they inherit it)
    // on CPU 1; Spawn() puts each server on CPU 0.
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(1, &one);
    if (sched_setaffinity(0, sizeof(one), &one) != 0) Die("cannot pin the client to CPU 1");
  }
  const std::string cluster = ReadFile(opt.cluster);
  if (cluster.empty()) Die("cannot read " + opt.cluster);

  std::vector<Server> servers = {{"sdk", opt.bin_dir + "/server_sdk_plugin_static", false}};
  if (!fs::exists(servers[0].binary)) Die(servers[0].binary + " not built");
  if (opt.go_peer.empty()) opt.go_peer = BuildGoPeer(opt);
  if (!opt.go_peer.empty()) servers.push_back({"go", opt.go_peer, true});
  for (const auto& [label, binary] : opt.extra) servers.push_back({label, binary, false});

  char tmpl[] = "/tmp/go_peer_bench.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) Die("mkdtemp failed");
  const std::string dir = tmpl;
  const Tls tls = MakeCertificates(dir);
  std::vector<std::pair<std::string, const Tls*>> transports = {{"unix", nullptr}};
  if (opt.tls) transports.emplace_back("mtls", &tls);

  op::OperatorMutateClusterRequest mutate;
  mutate.set_definition(cluster);
  const grpc::ByteBuffer mutate_bytes = Serialize(mutate);
  const grpc::ByteBuffer probe_bytes = Serialize(identity::ProbeRequest());
  const std::vector<std::tuple<std::string, std::string, const grpc::ByteBuffer*>> rpcs = {
      {"Probe", "/cnpgi.identity.v1.Identity/Probe", &probe_bytes},
      {"MutateCluster", "/cnpgi.operator.v1.Operator/MutateCluster", &mutate_bytes}};

  // figure -> transport -> server -> samples
  std::map<std::string, Samples> f;
  std::fprintf(stderr, "go_peer_bench: load average %s", ReadFile("/proc/loadavg").c_str());
  for (int rep = 0; rep < opt.reps; ++rep) {
    for (const auto& [transport, tls_files] : transports) {
      for (size_t k = 0; k < servers.size(); ++k) {
        const Server& s = servers[(k + static_cast<size_t>(rep)) % servers.size()];
        std::fprintf(stderr, "repetition %d/%d: %s over %s\n", rep + 1, opt.reps, s.label.c_str(),
                     transport.c_str());
        const Running r = Start(opt, s, dir, tls_files);
        auto put = [&](const std::string& figure, double v) {
          f[figure][transport][s.label].push_back(v);
        };
        put("start_ms", r.first_probe_ms);
        put("start_cpu_ms", r.cpu_ms);
        // A few calls, then idle: what a plugin between two WAL segments holds.
        for (int i = 0; i < 3; ++i) HandshakeAndProbe(r.Connect(-10 - i));
        std::this_thread::sleep_for(std::chrono::seconds(3));
        put("rss_mib", static_cast<double>(StatusField(r.pid, "VmRSS")) / 1024);
        put("anon_mib", static_cast<double>(StatusField(r.pid, "RssAnon")) / 1024);
        put("file_mib", static_cast<double>(StatusField(r.pid, "RssFile")) / 1024);
        put("threads", static_cast<double>(StatusField(r.pid, "Threads")));

        std::vector<double> fresh;
        const double cpu0 = ProcessCpuSeconds(r.pid);
        for (int i = 0; i < opt.fresh; ++i) {
          const auto t0 = Clock::now();
          auto channel = r.Connect(1000 + i);
          const grpc::Status st = HandshakeAndProbe(channel);
          fresh.push_back(Seconds(Clock::now() - t0) * 1e3);
          if (!st.ok()) Die(s.label + ": fresh connection failed: " + st.error_message());
        }
        put("fresh_ms", Median(fresh));
        put("fresh_cpu_us", (ProcessCpuSeconds(r.pid) - cpu0) * 1e6 / opt.fresh);

        for (const auto& [rpc, method, request] : rpcs) {
          if (!opt.load) break;
          for (int c : kConcurrencies) {
            const LoadResult l = RunLoad(
                r.pid, [&r](int i) { return r.Connect(i); }, method, *request, c, opt.warmup,
                opt.duration, false);
            const std::string key = rpc + "@" + std::to_string(c);
            put("rps " + key, static_cast<double>(l.calls) / l.seconds);
            put("cpu " + key, l.server_cpu_seconds * 1e6 / static_cast<double>(l.calls));
            put("client " + key, l.client_cpu_seconds / l.seconds * 100);
          }
        }
        StopServer(r.pid, false);
      }
    }
  }
  std::fprintf(stderr, "go_peer_bench: load average %s", ReadFile("/proc/loadavg").c_str());

  // One table: rows are figures, columns each server per transport.
  std::vector<std::string> others;
  for (const Server& s : servers) {
    if (s.label != "sdk" && s.label != "go") others.push_back(s.label);
  }
  const bool have_go = !opt.go_peer.empty();
  std::string header = "| figure | transport | SDK |";
  std::string rule = "|---|---|--:|";
  if (have_go) {
    header += " Go | SDK/Go |";
    rule += "--:|--:|";
  }
  for (const auto& o : others) {
    header += " " + o + " |";
    rule += "--:|";
  }
  std::printf("%s\n%s\n", header.c_str(), rule.c_str());
  auto row = [&](const std::string& name, const std::string& figure, int decimals) {
    for (const auto& [transport, unused] : transports) {
      auto& by = f[figure][transport];
      if (by["sdk"].empty()) continue;
      const double sdk = Median(by["sdk"]);
      std::string line = "| " + name + " | " + transport + " | " + Fmt(sdk, decimals) + " |";
      if (have_go) {
        const double go = Median(by["go"]);
        line += " " + Fmt(go, decimals) + " | " + Fmt(sdk / go, 2) + " |";
      }
      for (const auto& o : others) line += " " + Fmt(Median(by[o]), decimals) + " |";
      std::printf("%s\n", line.c_str());
    }
  };
  row("idle RSS, MiB", "rss_mib", 2);
  row("idle RSS anonymous, MiB", "anon_mib", 2);
  row("idle RSS file-backed, MiB", "file_mib", 2);
  row("threads at rest", "threads", 0);
  row("exec to first answered Probe, ms", "start_ms", 1);
  row("server CPU to first Probe, ms", "start_cpu_ms", 1);
  row("fresh connection + handshake + Probe, ms", "fresh_ms", 2);
  row("server CPU per fresh connection, µs", "fresh_cpu_us", 0);
  for (const auto& [rpc, method, request] : rpcs) {
    for (int c : kConcurrencies) {
      const std::string key = rpc + "@" + std::to_string(c);
      row(rpc + " req/s at " + std::to_string(c), "rps " + key, 0);
    }
  }
  for (const auto& [rpc, method, request] : rpcs) {
    for (int c : kConcurrencies) {
      const std::string key = rpc + "@" + std::to_string(c);
      row(rpc + " server CPU µs/call at " + std::to_string(c), "cpu " + key, 1);
    }
  }
  for (const auto& [rpc, method, request] : rpcs) {
    for (int c : kConcurrencies) {
      const std::string key = rpc + "@" + std::to_string(c);
      row(rpc + " client CPU % at " + std::to_string(c), "client " + key, 0);
    }
  }
  fs::remove_all(dir);
  return 0;
}
