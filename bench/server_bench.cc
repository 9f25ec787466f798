// Server benchmark: a plugin built on cnpgi::PluginServer against the same
// plugin written on bare gRPC (bare_plugin.cc), over the Unix socket, each
// server in its own process. See docs/benchmarks.md, section "Server".
//
//   server_bench [--quick] [--reps N] [--duration SECONDS] [--segments N]
//                [--startups N] [--bin-dir DIR] [--cluster FILE] [--no-static]
//
// Measured, for every server variant, in the same run and interleaved
// (each repetition starts fresh servers and rotates the order):
//  - Identity.Probe and Operator.MutateCluster at concurrency 1, 16, 64:
//    req/s, p50/p99 latency, server CPU per call (user + system CPU time of
//    the server process before and after, from its CPU-time clock:
//    clock_getcpuclockid(), the utime+stime of /proc/<pid>/stat with
//    nanosecond resolution);
//  - time from exec to the socket accepting connections and to the first
//    answered Probe; VmRSS and thread count after a few calls and ~1 s idle;
//  - the WAL path: one exec'd client process per segment (server_wal_client)
//    doing the operator's handshake and WAL.Archive; its wall time and the
//    server's CPU per segment.
// Figures are medians over the repetitions; the markdown tables go to stdout,
// progress to stderr.
#include <errno.h>
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "cnpgi/identity/v1/identity.grpc.pb.h"
#include "cnpgi/operator/v1/operator.grpc.pb.h"
#include "cnpgi/wal/v1/wal.grpc.pb.h"
#include "server_work.h"
#include "support/bench_support.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace cnpgi_bench;

constexpr char kProbe[] = "/cnpgi.identity.v1.Identity/Probe";
constexpr char kMutateCluster[] = "/cnpgi.operator.v1.Operator/MutateCluster";
constexpr int kConcurrencies[] = {1, 16, 64};

// Shared libraries mapped by a process.
int SharedLibraries(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  std::set<std::string> libs;
  std::string line;
  while (std::getline(in, line)) {
    const size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.find(".so") != std::string::npos) libs.insert(path);
  }
  return static_cast<int>(libs.size());
}

std::string LoadAverage() {
  std::string s = ReadFile("/proc/loadavg");
  std::istringstream in(s);
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// ---------------------------------------------------------------------------
// Server processes.

struct Variant {
  std::string label;
  std::string binary;            // file name in the bin dir
  std::vector<std::string> env;  // extra NAME=VALUE entries
  bool sdk = false;              // false: bare gRPC
  bool is_static = false;        // linked with cnpgi_link_statically()
  bool load = true;              // Probe/MutateCluster runs and WAL path
  std::string dir;               // its plugin path (set at run time)
  std::string socket() const { return dir + "/" + cnpgi_bench::kPluginName; }
};

bool CanConnect(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Die(std::string("socket: ") + std::strerror(errno));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const bool ok = connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return ok;
}

std::shared_ptr<grpc::Channel> Connect(const std::string& socket, int index) {
  grpc::ChannelArguments args;
  // Distinct channels must be distinct connections, as the operator's pool.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("cnpgi.bench.connection", index);
  return grpc::CreateCustomChannel("unix:" + socket, grpc::InsecureChannelCredentials(), args);
}

grpc::Status ProbeOnce(const std::shared_ptr<grpc::Channel>& channel) {
  cnpgi::identity::v1::Identity::Stub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  cnpgi::identity::v1::ProbeResponse response;
  return stub.Probe(&context, cnpgi::identity::v1::ProbeRequest(), &response);
}

struct Started {
  pid_t pid = 0;
  double listen_ms = 0;  // exec -> socket accepts connections
  double probe_ms = 0;   // exec -> first Probe answered
  double cpu_ms = 0;     // the server's CPU time by then
};

Started StartServer(const std::string& bin_dir, const Variant& v) {
  fs::remove(v.socket());
  const std::string log = v.dir + "/log";
  const auto t0 = Clock::now();
  Started s;
  s.pid = Spawn((fs::path(bin_dir) / v.binary).string(), {"--plugin-path", v.dir}, v.env, log);
  const timespec pause{0, 20 * 1000};  // 20 µs between connect attempts
  while (!CanConnect(v.socket())) {
    int status = 0;
    if (waitpid(s.pid, &status, WNOHANG) == s.pid) {
      Die(v.label + " exited during start-up; its output:\n" + ReadFile(log));
    }
    if (Clock::now() - t0 > std::chrono::seconds(20)) Die(v.label + " did not start in 20 s");
    nanosleep(&pause, nullptr);
  }
  const auto t_listen = Clock::now();
  const grpc::Status probed = ProbeOnce(Connect(v.socket(), -1));
  const auto t_probe = Clock::now();
  if (!probed.ok()) Die(v.label + ": first Probe failed: " + probed.error_message());
  s.cpu_ms = ProcessCpuSeconds(s.pid) * 1e3;
  s.listen_ms = Seconds(t_listen - t0) * 1e3;
  s.probe_ms = Seconds(t_probe - t0) * 1e3;
  return s;
}

// One MutateCluster call; answers the patch, for checking that both servers
// do the same work.
std::string MutateOnce(const std::string& socket, const std::string& cluster) {
  cnpgi::operator_::v1::Operator::Stub stub(Connect(socket, -2));
  grpc::ClientContext context;
  cnpgi::operator_::v1::OperatorMutateClusterRequest request;
  request.set_definition(cluster);
  cnpgi::operator_::v1::OperatorMutateClusterResult result;
  const grpc::Status status = stub.MutateCluster(&context, request, &result);
  if (!status.ok()) Die(socket + ": MutateCluster failed: " + status.error_message());
  return result.json_patch();
}

// ---------------------------------------------------------------------------
// The WAL path: one exec'd client per segment.

struct SegmentResult {
  std::vector<double> wall_ms;    // exec -> exit
  std::vector<double> client_ms;  // inside the client: connect .. Archive answered
  double server_cpu_seconds = 0;
};

SegmentResult RunSegments(const std::string& bin_dir, const Variant& v, pid_t server,
                          const std::string& cluster_path, int segments) {
  SegmentResult r;
  const double cpu0 = ProcessCpuSeconds(server);
  for (int i = 0; i < segments; ++i) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) Die("pipe");
    const auto t0 = Clock::now();
    const pid_t pid = Spawn(bin_dir + "/server_wal_client", {v.socket(), cluster_path}, {},
                            v.dir + "/client.log", out[1]);
    close(out[1]);
    std::string output;
    char buffer[256];
    ssize_t n = 0;
    while ((n = read(out[0], buffer, sizeof(buffer))) > 0) output.append(buffer, n);
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    const auto t1 = Clock::now();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      Die("server_wal_client against " + v.label + " failed:\n" + ReadFile(v.dir + "/client.log"));
    }
    r.wall_ms.push_back(Seconds(t1 - t0) * 1e3);
    r.client_ms.push_back(std::strtod(output.c_str(), nullptr) / 1e3);
  }
  r.server_cpu_seconds = ProcessCpuSeconds(server) - cpu0;
  return r;
}

// ---------------------------------------------------------------------------
// Collected samples and the report.

struct LoadKey {
  std::string variant;
  std::string rpc;
  int concurrency;
  bool operator<(const LoadKey& o) const {
    return std::tie(variant, rpc, concurrency) < std::tie(o.variant, o.rpc, o.concurrency);
  }
};

struct LoadSamples {
  std::vector<double> rps, p50, p99, cpu_us;
};

struct VariantSamples {
  std::vector<double> listen_ms, probe_ms, startup_cpu_ms, rss_mib, threads, shared_libs;
  std::vector<double> rss_after_load_mib, threads_after_load;
  std::vector<double> seg_wall_ms, seg_client_ms, seg_cpu_us;
};

struct Options {
  bool quick = false;
  int reps = 5;
  double duration = 2.0;
  double warmup = 0.3;
  int segments = 30;
  int startups = 3;
  bool with_static = true;
  bool startup_only = false;
  bool more_rpcs = false;       // also GetPluginMetadata and WAL.Archive
  bool thread_profile = false;  // server CPU per call by thread name, to stderr
  std::string only_rpc;         // diagnostics: load this RPC only
  int only_concurrency = 0;     // diagnostics: at this concurrency only
  std::vector<Variant> extra;   // --variant: start-up and memory only
  bool extra_load = false;      // --variant-load: load runs for them too
  std::string bin_dir;
  std::string cluster;
};

std::string Fmt(double v, int decimals = 1) {
  if (std::isnan(v)) return "n/a";
  char b[64];
  std::snprintf(b, sizeof(b), "%.*f", decimals, v);
  return b;
}

std::string Ratio(double a, double b) { return (b > 0 && !std::isnan(a)) ? Fmt(a / b, 2) : "n/a"; }

std::string DefaultClusterPath() {
  for (const char* relative : {"tests/data/cluster.json", "bench/data/cluster.json"}) {
    const fs::path p = fs::path(CNPGI_BENCH_SOURCE_DIR) / relative;
    if (fs::exists(p)) return p.string();
  }
  return {};
}

void Usage() {
  std::fputs(
      "usage: server_bench [options]\n"
      "  --quick            short run (2 repetitions, 0.5 s per load run, 10 segments)\n"
      "  --reps N           repetitions (default 5)\n"
      "  --duration S       seconds measured per load run (default 2)\n"
      "  --segments N       WAL segments per variant and repetition (default 30)\n"
      "  --startups N       start-up samples per variant and repetition (default 3)\n"
      "  --no-static        skip the statically linked variants\n"
      "  --more-rpcs        also load GetPluginMetadata (a constant answer) and WAL.Archive\n"
      "  --only-rpc NAME    load only this RPC (Probe, MutateCluster, ...)\n"
      "  --only-concurrency N  load only at this concurrency\n"
      "  --thread-profile   print the server's CPU per call by thread name (stderr)\n"
      "  --startup-only     only start-up and idle memory (no load, no WAL path)\n"
      "  --variant L:BIN[:NAME=VALUE,...]\n"
      "                     also measure start-up and idle memory of BIN (in the bin dir\n"
      "                     or a path) under label L, with extra environment variables\n"
      "  --variant-load     also run the load and WAL path against the --variant servers\n"
      "  --bin-dir DIR      where the server binaries are (default: next to server_bench)\n"
      "  --cluster FILE     the Cluster JSON (default: tests/data or bench/data of the source)\n",
      stderr);
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  std::optional<int> reps, segments, startups;
  std::optional<double> duration;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        Usage();
        Die(a + " needs a value");
      }
      return argv[++i];
    };
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--reps") {
      reps = std::stoi(value());
    } else if (a == "--duration") {
      duration = std::stod(value());
    } else if (a == "--segments") {
      segments = std::stoi(value());
    } else if (a == "--startups") {
      startups = std::stoi(value());
    } else if (a == "--no-static") {
      o.with_static = false;
    } else if (a == "--only-rpc") {
      o.only_rpc = value();
    } else if (a == "--only-concurrency") {
      o.only_concurrency = std::stoi(value());
    } else if (a == "--thread-profile") {
      o.thread_profile = true;
    } else if (a == "--more-rpcs") {
      o.more_rpcs = true;
    } else if (a == "--variant-load") {
      o.extra_load = true;
    } else if (a == "--startup-only") {
      o.startup_only = true;
    } else if (a == "--variant") {
      const std::string spec = value();
      Variant v;
      const size_t c1 = spec.find(':');
      const size_t c2 = c1 == std::string::npos ? c1 : spec.find(':', c1 + 1);
      if (c1 == std::string::npos || c1 == 0) Die("--variant wants LABEL:BINARY[:ENV=VALUE,...]");
      v.label = spec.substr(0, c1);
      v.binary = spec.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
      if (c2 != std::string::npos) {
        std::istringstream env(spec.substr(c2 + 1));
        for (std::string e; std::getline(env, e, ',');) {
          if (e.find('=') == std::string::npos) Die("--variant: " + e + " is not NAME=VALUE");
          v.env.push_back(e);
        }
      }
      v.sdk = v.binary.find("sdk") != std::string::npos;
      v.is_static = v.binary.find("static") != std::string::npos;
      v.load = false;
      o.extra.push_back(std::move(v));
    } else if (a == "--bin-dir") {
      o.bin_dir = value();
    } else if (a == "--cluster") {
      o.cluster = value();
    } else if (a == "-h" || a == "--help") {
      Usage();
      std::exit(0);
    } else {
      Usage();
      Die("unknown argument " + a);
    }
  }
  if (o.quick) {
    o.reps = 2;
    o.duration = 0.5;
    o.warmup = 0.1;
    o.segments = 10;
    o.startups = 2;
  }
  if (reps) o.reps = *reps;
  if (duration) o.duration = *duration;
  if (segments) o.segments = *segments;
  if (startups) o.startups = *startups;
  if (o.reps < 1 || o.duration <= 0 || o.segments < 1 || o.startups < 1) Die("bad option value");
  if (o.bin_dir.empty()) o.bin_dir = fs::read_symlink("/proc/self/exe").parent_path().string();
  if (o.cluster.empty()) o.cluster = DefaultClusterPath();
  if (o.cluster.empty() || !fs::exists(o.cluster)) Die("no cluster.json found; pass --cluster");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = ParseOptions(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  const std::string cluster = ReadFile(opt.cluster);

  // label, binary, extra environment, SDK?, static?, load runs and WAL path?
  std::vector<Variant> variants = {
      {"sdk", "server_sdk_plugin", {}, true, false, true, {}},
      {"bare", "bare_plugin", {}, false, false, true, {}},
      {"bare+hr", "bare_plugin_hr", {}, false, false, true, {}},
      {"sdk + JSON helpers", "server_sdk_helpers_plugin", {}, true, false, true, {}},
      // glibc's per-thread cache holds 7 chunks per size by default; a parsed
      // Cluster frees hundreds of same-sized nodes, which then go through the
      // fastbins and malloc_consolidate(). A deeper cache keeps them local.
      {"sdk + JSON helpers, tcache 1024",
       "server_sdk_helpers_plugin",
       {"GLIBC_TUNABLES=glibc.malloc.tcache_count=1024"},
       true,
       false,
       true,
       {}},
  };
  if (opt.with_static) {
    variants.push_back({"sdk static", "server_sdk_plugin_static", {}, true, true, true, {}});
    variants.push_back({"bare static", "bare_plugin_static", {}, false, true, true, {}});
    variants.push_back({"sdk static, shared C++ runtime/spdlog/fmt",
                        "server_sdk_plugin_static_sharedrt",
                        {},
                        true,
                        true,
                        false,
                        {}});
    variants.push_back(
        {"sdk static no-pie", "server_sdk_plugin_static_nopie", {}, true, true, false, {}});
    variants.push_back({"sdk static, MALLOC_ARENA_MAX=1",
                        "server_sdk_plugin_static",
                        {"MALLOC_ARENA_MAX=1"},
                        true,
                        true,
                        false,
                        {}});
  }
  for (auto v : opt.extra) {
    v.load = opt.extra_load;
    variants.push_back(std::move(v));
  }
  for (auto& v : variants) {
    if (opt.startup_only) v.load = false;
  }
  for (const auto& v : variants) {
    if (!fs::exists(fs::path(opt.bin_dir) / v.binary)) {
      Die(v.binary + " not found in " + opt.bin_dir + " (build the server_bench target)");
    }
  }
  if (!fs::exists(fs::path(opt.bin_dir) / "server_wal_client")) Die("server_wal_client not built");

  std::string tmpl = (fs::temp_directory_path() / "cnpgi-server-bench-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp failed");
  const std::string work = tmpl;
  for (size_t i = 0; i < variants.size(); ++i) {
    variants[i].dir = work + "/v" + std::to_string(i);
    fs::create_directories(variants[i].dir);
  }

  const std::string load_before = LoadAverage();
  std::fprintf(stderr,
               "server_bench: %d repetitions, %.1f s per load run, %d segments, %d start-ups; "
               "load average %s\n",
               opt.reps, opt.duration, opt.segments, opt.startups, load_before.c_str());

  grpc::ByteBuffer probe_request = Serialize(cnpgi::identity::v1::ProbeRequest());
  cnpgi::operator_::v1::OperatorMutateClusterRequest mutate;
  mutate.set_definition(cluster);
  grpc::ByteBuffer mutate_request = Serialize(mutate);
  struct Rpc {
    std::string name;
    std::string path;
    const grpc::ByteBuffer* request;
  };
  std::vector<Rpc> rpcs = {{"Probe", kProbe, &probe_request},
                           {"MutateCluster", kMutateCluster, &mutate_request}};
  cnpgi::wal::v1::WALArchiveRequest archive;
  archive.set_cluster_definition(cluster);
  archive.set_source_file_name("/var/lib/postgresql/data/pgdata/pg_wal/000000010000000000000005");
  grpc::ByteBuffer archive_request = Serialize(archive);
  grpc::ByteBuffer metadata_request = Serialize(cnpgi::identity::v1::GetPluginMetadataRequest());
  if (opt.more_rpcs) {
    rpcs.push_back(
        {"GetPluginMetadata", "/cnpgi.identity.v1.Identity/GetPluginMetadata", &metadata_request});
    rpcs.push_back({"WAL.Archive", "/cnpgi.wal.v1.WAL/Archive", &archive_request});
  }

  std::map<LoadKey, LoadSamples> load;
  std::map<std::string, VariantSamples> per_variant;
  // Every server must produce the same edited Cluster (the SDK's helpers may
  // order or phrase the patch differently from nlohmann::json::diff).
  const nlohmann::json cluster_doc = nlohmann::json::parse(cluster);
  const nlohmann::json expected_cluster =
      cluster_doc.patch(nlohmann::json::parse(cnpgi_bench::MutateClusterPatch(cluster)));

  for (int rep = 0; rep < opt.reps; ++rep) {
    // Rotate the order each repetition so no variant always goes first.
    std::vector<Variant*> order;
    for (size_t i = 0; i < variants.size(); ++i) {
      order.push_back(&variants[(i + static_cast<size_t>(rep)) % variants.size()]);
    }
    std::fprintf(stderr, "repetition %d/%d: start-up\n", rep + 1, opt.reps);
    std::map<std::string, pid_t> pids;
    for (int round = 0; round < opt.startups; ++round) {
      for (Variant* v : order) {
        const Started s = StartServer(opt.bin_dir, *v);
        per_variant[v->label].listen_ms.push_back(s.listen_ms);
        per_variant[v->label].probe_ms.push_back(s.probe_ms);
        per_variant[v->label].startup_cpu_ms.push_back(s.cpu_ms);
        if (round + 1 < opt.startups) {
          StopServer(s.pid, /*hard=*/true);
        } else {
          pids[v->label] = s.pid;
        }
      }
    }
    // A few calls (the handshake's worth and a MutateCluster), then ~1 s idle.
    for (Variant* v : order) {
      auto channel = Connect(v->socket(), -3);
      for (int i = 0; i < 5; ++i) {
        if (!ProbeOnce(channel).ok()) Die(v->label + ": Probe failed");
      }
      const std::string patch = MutateOnce(v->socket(), cluster);
      if (cluster_doc.patch(nlohmann::json::parse(patch)) != expected_cluster) {
        Die(v->label + ": MutateCluster's patch does not make the shared work's edit: " + patch);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    for (Variant* v : order) {
      per_variant[v->label].rss_mib.push_back(StatusField(pids[v->label], "VmRSS") / 1024.0);
      per_variant[v->label].threads.push_back(StatusField(pids[v->label], "Threads"));
      per_variant[v->label].shared_libs.push_back(SharedLibraries(pids[v->label]));
    }

    for (const auto& [rpc, path, request] : rpcs) {
      if (opt.startup_only) break;
      if (!opt.only_rpc.empty() && rpc != opt.only_rpc) continue;
      for (int c : kConcurrencies) {
        if (opt.only_concurrency != 0 && c != opt.only_concurrency) continue;
        std::fprintf(stderr, "repetition %d/%d: %s at concurrency %d\n", rep + 1, opt.reps,
                     rpc.c_str(), c);
        for (Variant* v : order) {
          if (!v->load) continue;
          const std::string socket = v->socket();
          LoadResult r = RunLoad(
              pids[v->label], [&socket](int i) { return Connect(socket, i); }, path, *request, c,
              opt.warmup, opt.duration, opt.thread_profile);
          if (opt.thread_profile) {
            std::fprintf(stderr, "  %s, µs/call by thread:%s\n", v->label.c_str(),
                         r.thread_profile.c_str());
          }
          LoadSamples& s = load[{v->label, rpc, c}];
          s.rps.push_back(static_cast<double>(r.calls) / r.seconds);
          s.p50.push_back(Quantile(r.latencies_us, 0.50));
          s.p99.push_back(Quantile(r.latencies_us, 0.99));
          s.cpu_us.push_back(r.calls ? r.server_cpu_seconds / static_cast<double>(r.calls) * 1e6
                                     : std::nan(""));
        }
      }
    }

    std::fprintf(stderr, "repetition %d/%d: WAL segments\n", rep + 1, opt.reps);
    for (Variant* v : order) {
      if (!v->load) continue;
      SegmentResult r = RunSegments(opt.bin_dir, *v, pids[v->label], opt.cluster, opt.segments);
      VariantSamples& s = per_variant[v->label];
      s.seg_wall_ms.push_back(Median(r.wall_ms));
      s.seg_client_ms.push_back(Median(r.client_ms));
      s.seg_cpu_us.push_back(r.server_cpu_seconds / opt.segments * 1e6);
    }
    for (Variant* v : order) {
      if (v->load) {
        VariantSamples& s = per_variant[v->label];
        s.rss_after_load_mib.push_back(StatusField(pids[v->label], "VmRSS") / 1024.0);
        s.threads_after_load.push_back(StatusField(pids[v->label], "Threads"));
      }
      StopServer(pids[v->label], /*hard=*/false);
    }
  }
  const std::string load_after = LoadAverage();

  // ---- Report.
  auto med = [](const std::vector<double>& v) { return Median(v); };
  std::printf("### Server benchmark\n\n");
  std::string command = "server_bench";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  std::printf("`%s`: ", command.c_str());
  std::printf(
      "%d repetitions (medians shown), %.1f s per load run after %.1f s warm-up, %d WAL "
      "segments and %d start-ups per variant and repetition; %u CPUs; load average %s before, "
      "%s after.\n\n",
      opt.reps, opt.duration, opt.warmup, opt.segments, opt.startups,
      std::thread::hardware_concurrency(), load_before.c_str(), load_after.c_str());

  std::map<std::string, double> worst_cpu_ratio;          // per SDK variant
  std::map<std::string, std::vector<double>> cpu_ratios;  // per SDK variant
  std::vector<std::pair<std::string, std::string>> pairs = {{"sdk", "bare"}};
  if (per_variant.count("sdk static") && per_variant.count("bare static")) {
    pairs.push_back({"sdk static", "bare static"});
  }
  for (const auto& [sdk, bare] : pairs) {
    if (opt.startup_only) break;
    std::printf("#### Calls over the Unix socket: %s vs %s\n\n", sdk.c_str(), bare.c_str());
    std::printf(
        "| RPC | conc. | req/s SDK | req/s bare | ratio | p50 µs SDK | p50 µs bare | ratio | "
        "p99 µs SDK | p99 µs bare | ratio | CPU µs/call SDK | CPU µs/call bare | ratio |\n");
    std::printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (const auto& [rpc, path, request] : rpcs) {
      (void)path;
      (void)request;
      for (int c : kConcurrencies) {
        const LoadSamples& a = load[{sdk, rpc, c}];
        const LoadSamples& b = load[{bare, rpc, c}];
        const double cpu_ratio = med(a.cpu_us) / med(b.cpu_us);
        worst_cpu_ratio[sdk] = std::max(worst_cpu_ratio[sdk], cpu_ratio);
        cpu_ratios[sdk].push_back(cpu_ratio);
        std::printf("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                    rpc.c_str(), c, Fmt(med(a.rps), 0).c_str(), Fmt(med(b.rps), 0).c_str(),
                    Ratio(med(a.rps), med(b.rps)).c_str(), Fmt(med(a.p50)).c_str(),
                    Fmt(med(b.p50)).c_str(), Ratio(med(a.p50), med(b.p50)).c_str(),
                    Fmt(med(a.p99)).c_str(), Fmt(med(b.p99)).c_str(),
                    Ratio(med(a.p99), med(b.p99)).c_str(), Fmt(med(a.cpu_us)).c_str(),
                    Fmt(med(b.cpu_us)).c_str(), Ratio(med(a.cpu_us), med(b.cpu_us)).c_str());
      }
    }
    std::printf("\n");
  }

  if (!opt.startup_only) {
    std::printf(
        "#### Server CPU per call, every variant (µs; bare+hr = bare with gRPC's health "
        "service and reflection, as the SDK has them)\n\n| RPC | conc. |");
    std::string rule = "|---|--:|";
    for (const auto& v : variants) {
      if (!v.load) continue;
      std::printf(" %s |", v.label.c_str());
      rule += "--:|";
    }
    std::printf(" sdk / bare+hr |\n%s--:|\n", rule.c_str());
    for (const auto& [rpc, path, request] : rpcs) {
      (void)path;
      (void)request;
      for (int c : kConcurrencies) {
        std::printf("| %s | %d |", rpc.c_str(), c);
        for (const auto& v : variants) {
          if (!v.load) continue;
          std::printf(" %s |", Fmt(med(load[{v.label, rpc, c}].cpu_us)).c_str());
        }
        std::printf(" %s |\n",
                    Ratio(med(load[{"sdk", rpc, c}].cpu_us), med(load[{"bare+hr", rpc, c}].cpu_us))
                        .c_str());
      }
    }
    std::printf("\n");
  }

  auto baseline_of = [&](const Variant& v) -> std::string {
    if (v.label == "sdk") return "bare";
    if (v.label.rfind("sdk static", 0) == 0) return "bare static";
    return {};
  };
  std::printf("#### Start-up and idle memory\n\n");
  std::printf(
      "| server | exec → listening ms | exec → first Probe ms | ratio to bare | server CPU ms "
      "to first Probe | idle RSS MiB | ratio to bare | threads | shared libraries | executable "
      "MiB | after the load runs: RSS MiB, threads |\n");
  std::printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
  for (const auto& v : variants) {
    const VariantSamples& s = per_variant[v.label];
    const std::string base = baseline_of(v);
    const VariantSamples* b = base.empty() ? nullptr : &per_variant[base];
    std::error_code ec;
    const double size_mib =
        static_cast<double>(fs::file_size(fs::path(opt.bin_dir) / v.binary, ec)) / (1 << 20);
    const std::string after =
        s.rss_after_load_mib.empty()
            ? std::string()
            : Fmt(med(s.rss_after_load_mib), 1) + ", " + Fmt(med(s.threads_after_load), 0);
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", v.label.c_str(),
                Fmt(med(s.listen_ms)).c_str(), Fmt(med(s.probe_ms)).c_str(),
                b ? Ratio(med(s.probe_ms), med(b->probe_ms)).c_str() : "",
                Fmt(med(s.startup_cpu_ms)).c_str(), Fmt(med(s.rss_mib), 2).c_str(),
                b ? Ratio(med(s.rss_mib), med(b->rss_mib)).c_str() : "",
                Fmt(med(s.threads), 0).c_str(), Fmt(med(s.shared_libs), 0).c_str(),
                Fmt(size_mib, 1).c_str(), after.c_str());
  }
  if (!opt.startup_only) {
    std::printf("\n#### WAL segment: exec'd client, handshake, WAL.Archive\n\n");
    std::printf(
        "| server | wall ms (exec → exit) | ratio to bare | in-client ms (connect → Archive "
        "answered) | ratio to bare | server CPU µs/segment | ratio to bare |\n");
    std::printf("|---|--:|--:|--:|--:|--:|--:|\n");
    for (const auto& v : variants) {
      if (!v.load) continue;
      const VariantSamples& s = per_variant[v.label];
      const std::string base = baseline_of(v);
      const VariantSamples* b = base.empty() ? nullptr : &per_variant[base];
      std::printf("| %s | %s | %s | %s | %s | %s | %s |\n", v.label.c_str(),
                  Fmt(med(s.seg_wall_ms), 2).c_str(),
                  b ? Ratio(med(s.seg_wall_ms), med(b->seg_wall_ms)).c_str() : "",
                  Fmt(med(s.seg_client_ms), 2).c_str(),
                  b ? Ratio(med(s.seg_client_ms), med(b->seg_client_ms)).c_str() : "",
                  Fmt(med(s.seg_cpu_us), 0).c_str(),
                  b ? Ratio(med(s.seg_cpu_us), med(b->seg_cpu_us)).c_str() : "");
    }
  }

  std::printf("\n#### Targets\n\n");
  std::printf("| target | measured | |\n|---|---|---|\n");
  for (const auto& [sdk, bare] : pairs) {
    if (opt.startup_only) break;
    const double r = worst_cpu_ratio[sdk];
    std::printf(
        "| %s: ≤ 5%% more server CPU per call than %s (worst RPC × concurrency) | %+.1f%% | %s |\n",
        sdk.c_str(), bare.c_str(), (r - 1) * 100, r <= 1.05 ? "met" : "not met");
    double log_sum = 0;
    for (double x : cpu_ratios[sdk]) log_sum += std::log(x);
    const double g = std::exp(log_sum / static_cast<double>(cpu_ratios[sdk].size()));
    std::printf(
        "| %s: ≤ 5%% more server CPU per call than %s (geometric mean over RPC × concurrency) | "
        "%+.1f%% | %s |\n",
        sdk.c_str(), bare.c_str(), (g - 1) * 100, g <= 1.05 ? "met" : "not met");
  }
  if (!opt.startup_only && per_variant.count("sdk + JSON helpers")) {
    const double us = med(load[{"sdk + JSON helpers", "MutateCluster", 1}].cpu_us);
    std::printf(
        "| sdk + JSON helpers: MutateCluster < 100 µs server CPU per call, gRPC included "
        "(concurrency 1) | %s µs | %s |\n",
        Fmt(us).c_str(), us < 100 ? "met" : "not met");
  }
  for (const char* label : {"sdk", "sdk static"}) {
    if (!per_variant.count(label)) continue;
    const VariantSamples& s = per_variant[label];
    std::printf("| %s: idle RSS < 8 MiB | %s MiB | %s |\n", label, Fmt(med(s.rss_mib), 2).c_str(),
                med(s.rss_mib) < 8 ? "met" : "not met");
    std::printf("| %s: first Probe ≤ 25 ms after exec | %s ms | %s |\n", label,
                Fmt(med(s.probe_ms)).c_str(), med(s.probe_ms) <= 25 ? "met" : "not met");
  }
  std::fflush(stdout);

  std::error_code ignored;
  fs::remove_all(work, ignored);
  return 0;
}
