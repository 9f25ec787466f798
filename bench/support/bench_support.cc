// Helpers shared by the server benchmarks (server_bench, go_peer_bench).
#include "support/bench_support.h"

#include <errno.h>
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace cnpgi_bench {

namespace fs = std::filesystem;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, message.c_str());
  std::exit(1);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The q-quantile (0..1) of sorted values, nearest rank.
double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::nan("");
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// CPU time (user + system, all threads including exited ones) of a process,
// in seconds: the quantity of utime + stime in /proc/<pid>/stat, read from
// the process's CPU-time clock, which has nanosecond rather than 10 ms
// resolution; /proc/<pid>/stat when that clock is not available.
double ProcessCpuSeconds(pid_t pid) {
  clockid_t clock = 0;
  timespec t{};
  if (clock_getcpuclockid(pid, &clock) == 0 && clock_gettime(clock, &t) == 0) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
  }
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) Die("cannot read /proc/" + std::to_string(pid) + "/stat");
  std::istringstream fields(stat.substr(paren + 2));
  // Fields 3..13 (state .. cmajflt), then utime (14) and stime (15).
  std::string skip;
  for (int i = 3; i <= 13; ++i) fields >> skip;
  unsigned long long utime = 0, stime = 0;
  fields >> utime >> stime;
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return static_cast<double>(utime + stime) / ticks;
}

// CPU nanoseconds of each live thread of a process, by thread id, with its
// name (for --thread-profile).
std::map<std::string, std::pair<std::string, double>> ThreadCpu(pid_t pid) {
  std::map<std::string, std::pair<std::string, double>> out;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::string comm = ReadFile(task.path() / "comm");
    if (!comm.empty() && comm.back() == '\n') comm.pop_back();
    const double ns = std::strtod(ReadFile(task.path() / "schedstat").c_str(), nullptr);
    out[task.path().filename().string()] = {comm, ns};
  }
  return out;
}

// µs per call of each thread between two ThreadCpu() snapshots, as
// " name/tid=µs" for the threads that used at least 0.5 µs per call.
std::string ThreadProfile(const std::map<std::string, std::pair<std::string, double>>& before,
                          const std::map<std::string, std::pair<std::string, double>>& after,
                          uint64_t calls) {
  std::string out;
  int quiet = 0;
  for (const auto& [tid, entry] : after) {
    const auto it = before.find(tid);
    const double us = (entry.second - (it == before.end() ? 0 : it->second.second)) / 1e3 /
                      static_cast<double>(std::max<uint64_t>(calls, 1));
    if (us < 0.5) {
      ++quiet;
      continue;
    }
    char b[128];
    std::snprintf(b, sizeof(b), " %s/%s%s=%.1f", entry.first.c_str(), tid.c_str(),
                  it == before.end() ? "(new)" : "", us);
    out += b;
  }
  return out + " (+" + std::to_string(quiet) + " threads below 0.5)";
}

// A "Key:   value kB" field of /proc/<pid>/status.
long StatusField(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0)
      return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
  }
  return -1;
}

double SelfCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

pid_t Spawn(const std::string& binary, const std::vector<std::string>& args,
            const std::vector<std::string>& extra_env, const std::string& log, int stdout_fd,
            int cpu) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& x : extra_env) overridden |= x.rfind(name + "=", 0) == 0;
    if (!overridden) env.push_back(entry);
  }
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_s{binary};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (stdout_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
  } else {
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  // The child inherits the CPU set of the thread that spawns it.
  cpu_set_t before;
  CPU_ZERO(&before);
  const bool pin = cpu >= 0 && sched_getaffinity(0, sizeof(before), &before) == 0;
  if (pin) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof(one), &one) != 0)
      Die("cannot pin to CPU " + std::to_string(cpu));
  }
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  if (pin) sched_setaffinity(0, sizeof(before), &before);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) Die("cannot start " + binary + ": " + std::strerror(rc));
  return pid;
}

void StopServer(pid_t pid, bool hard) {
  kill(pid, hard ? SIGKILL : SIGTERM);
  for (int i = 0; i < 500; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
}

grpc::ByteBuffer Serialize(const google::protobuf::Message& m) {
  grpc::ByteBuffer b;
  bool own = false;
  if (!grpc::SerializationTraits<google::protobuf::Message>::Serialize(m, &b, &own).ok()) {
    Die("cannot serialize a request");
  }
  return b;
}

std::vector<std::unique_ptr<grpc::GenericStub>> ConnectStubs(const Connector& connect, int count) {
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
  for (int i = 0; i < count; ++i) {
    auto channel = connect(i);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      Die("cannot connect to the server (connection " + std::to_string(i) + ")");
    }
    stubs.push_back(std::make_unique<grpc::GenericStub>(channel));
  }
  return stubs;
}

CallsInFlight::CallsInFlight(std::vector<std::unique_ptr<grpc::GenericStub>> stubs,
                             std::string method, const grpc::ByteBuffer& request, int concurrency,
                             std::chrono::seconds deadline)
    : stubs_(std::move(stubs)),
      method_(std::move(method)),
      request_(request),
      deadline_(deadline),
      calls_(static_cast<size_t>(concurrency)) {
  for (size_t i = 0; i < calls_.size(); ++i) {
    calls_[i].stub = stubs_[i % stubs_.size()].get();
    Reissue(calls_[i]);
  }
}

CallsInFlight::Call& CallsInFlight::Next() {
  void* tag = nullptr;
  bool ok = false;
  if (!cq_.Next(&tag, &ok)) Die("the completion queue shut down with calls in flight");
  Call& call = *static_cast<Call*>(tag);
  call.ok = ok;
  return call;
}

CallsInFlight::Call* CallsInFlight::Next(std::chrono::milliseconds wait) {
  void* tag = nullptr;
  bool ok = false;
  if (cq_.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + wait) !=
      grpc::CompletionQueue::GOT_EVENT) {
    return nullptr;
  }
  Call* call = static_cast<Call*>(tag);
  call->ok = ok;
  return call;
}

void CallsInFlight::Reissue(Call& call) {
  call.context = std::make_unique<grpc::ClientContext>();
  if (deadline_.count() > 0)
    call.context->set_deadline(std::chrono::system_clock::now() + deadline_);
  call.response.Clear();
  call.start = Clock::now();
  call.reader = call.stub->PrepareUnaryCall(call.context.get(), method_, request_, &cq_);
  call.reader->StartCall();
  call.reader->Finish(&call.response, &call.status, &call);
}

LoadResult RunLoad(pid_t server, const Connector& connect, const std::string& method,
                   const grpc::ByteBuffer& request, int concurrency, double warmup_s,
                   double duration_s, bool thread_profile) {
  std::map<std::string, std::pair<std::string, double>> threads0;
  CallsInFlight calls(ConnectStubs(connect, std::min(concurrency, kMaxConnections)), method,
                      request, concurrency);
  LoadResult r;
  r.latencies_us.reserve(static_cast<size_t>(duration_s * 50000));
  const auto begin = Clock::now();
  const auto measure_from =
      begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup_s));
  const auto measure_to = measure_from + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(duration_s));
  enum class Phase { kWarmup, kMeasure, kDrain } phase = Phase::kWarmup;
  double cpu0 = 0;
  double client_cpu0 = 0;
  Clock::time_point t0;
  int outstanding = concurrency;
  while (outstanding > 0) {
    CallsInFlight::Call& s = calls.Next();
    const auto now = Clock::now();
    if (phase == Phase::kWarmup && now >= measure_from) {
      phase = Phase::kMeasure;
      cpu0 = ProcessCpuSeconds(server);
      client_cpu0 = SelfCpuSeconds();
      if (thread_profile) threads0 = ThreadCpu(server);
      t0 = now;
    } else if (phase == Phase::kMeasure && now >= measure_to) {
      phase = Phase::kDrain;
      r.server_cpu_seconds = ProcessCpuSeconds(server) - cpu0;
      r.client_cpu_seconds = SelfCpuSeconds() - client_cpu0;
      if (thread_profile) r.thread_profile = ThreadProfile(threads0, ThreadCpu(server), r.calls);
      r.seconds = Seconds(now - t0);
    }
    if (phase == Phase::kMeasure) {
      if (s.ok && s.status.ok()) {
        ++r.calls;
        r.latencies_us.push_back(Seconds(now - s.start) * 1e6);
      } else {
        ++r.errors;
        if (r.errors == 1)
          std::fprintf(stderr, "bench: %s: %d %s\n", method.c_str(),
                       static_cast<int>(s.status.error_code()), s.status.error_message().c_str());
      }
    }
    if (phase == Phase::kDrain) {
      --outstanding;
    } else {
      calls.Reissue(s);
    }
  }
  std::sort(r.latencies_us.begin(), r.latencies_us.end());
  if (r.errors > 0) {
    std::fprintf(stderr, "bench: %llu failed calls to %s\n",
                 static_cast<unsigned long long>(r.errors), method.c_str());
  }
  return r;
}

}  // namespace cnpgi_bench
