#include "cnpgi/plugin_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "cnpgi/logging.h"
#include "cnpgi/version.h"
#include "observe/metrics.h"
#include "observe/recorder.h"
#include "server/call_runner.h"
#include "server/capabilities.h"
#include "server/elastic_thread_pool.h"
#include "server/grpc_internals.h"
#include "server/grpc_log.h"
#include "server/idle_memory.h"
#include "server/service_adapters.h"
#include "server/service_set.h"
#include "server/unix_socket.h"
#include "tls/mutual_tls.h"

namespace cnpgi {
namespace {

// Calls still running this long after the grace period have ignored their
// cancellation: the server stops waiting for them.
constexpr absl::Duration kHardStopMargin = absl::Seconds(5);

// How long a new connection has to complete its handshake (TLS, then the
// HTTP/2 preface) before the server closes it.
constexpr absl::Duration kHandshakeTimeout = absl::Seconds(10);

// Keeps what calls that ignored their cancellation still use, for the rest
// of the process: never destroyed, and reachable (not a leak to sanitizers).
template <class... Parts>
void LeaveBehind(std::unique_ptr<Parts>... parts) {
  static std::mutex mu;
  static auto* kept = new std::vector<std::shared_ptr<void>>();
  std::lock_guard lock(mu);
  (kept->push_back(std::shared_ptr<void>(std::move(parts))), ...);
}

// The SDK's own entries in the metadata manifest.
constexpr char kManifestSdkVersion[] = "cnpgi-cpp/sdk-version";
constexpr char kManifestProtocolVersion[] = "cnpgi-cpp/protocol-version";

identity::v1::GetPluginMetadataResponse ToProto(const PluginMetadata& m) {
  identity::v1::GetPluginMetadataResponse out;
  out.set_name(m.name);
  out.set_version(m.version);
  out.set_display_name(m.display_name);
  out.set_description(m.description);
  out.set_project_url(m.project_url);
  out.set_repository_url(m.repository_url);
  out.set_license(m.license);
  out.set_license_url(m.license_url);
  out.set_maturity(m.maturity);
  out.set_vendor(m.vendor);
  out.mutable_manifest()->insert(m.manifest.begin(), m.manifest.end());
  return out;
}

std::string CapabilityNames(const identity::v1::GetPluginCapabilitiesResponse& caps) {
  std::vector<std::string> names;
  for (const auto& c : caps.capabilities()) {
    names.push_back(identity::v1::PluginCapability::Service::Type_Name(c.service().type()));
  }
  return absl::StrJoin(names, ",");
}

// The soft limit on open files, what accept() runs into.
std::uint64_t OpenFilesLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  return limit.rlim_cur;
}

// Raises the soft limit on open files to the hard limit, as Go programs do
// at start-up: each connection costs a descriptor, and a plugin that runs
// out cannot accept connections any more. The soft limit is often 1024 where
// the hard one is far higher.
void RaiseOpenFilesLimit(const Logger& log) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    log.Warn("cannot raise the open files limit", {{"soft", before}, {"hard", limit.rlim_max}});
  }
}

}  // namespace

class PluginServer::Impl {
 public:
  explicit Impl(PluginMetadata metadata) : metadata_(std::move(metadata)) {}

  ~Impl() {
    // A started server that nobody stopped: stop it without grace rather
    // than leave gRPC threads running into freed memory.
    Shutdown(absl::ZeroDuration());
  }

  internal::ServiceSet services;
  // SecretParameters declared, for the recorder's redaction.
  std::vector<std::string> secret_parameters;

  const PluginMetadata& metadata() const { return metadata_; }

  // The metadata the plugin declares, before the SDK's additions.
  absl::StatusOr<PluginMetadata> DeclaredMetadata() const {
    if (!services.identity.service) return metadata_;
    try {
      return services.identity.service->Metadata();
    } catch (const std::exception& e) {
      return absl::FailedPreconditionError(
          absl::StrCat("IdentityService::Metadata() threw: ", e.what()));
    }
  }

  absl::Status Start(const ServerOptions& options) {
    {
      std::lock_guard lock(mu_);
      if (state_ != State::kNew) {
        return absl::FailedPreconditionError("PluginServer::Start() can be called only once");
      }
      state_ = State::kStarting;
    }
    absl::Status status = StartLocked(options);
    std::lock_guard lock(mu_);
    state_ = status.ok() ? State::kServing : State::kStopped;
    if (!status.ok()) stopped_.notify_all();
    return status;
  }

  void Shutdown(absl::Duration grace) {
    {
      std::unique_lock lock(mu_);
      if (state_ == State::kNew) {
        state_ = State::kStopped;
        stopped_.notify_all();
        return;
      }
      if (state_ != State::kServing) {
        // Another thread is stopping it (or it never started): wait for it.
        stopped_.wait(lock, [this] { return state_ == State::kStopped; });
        return;
      }
      state_ = State::kStopping;
    }
    DrainAndStop(grace);
    std::lock_guard lock(mu_);
    state_ = State::kStopped;
    stopped_.notify_all();
  }

  void Wait() {
    std::unique_lock lock(mu_);
    stopped_.wait(lock, [this] { return state_ == State::kStopped; });
  }

  bool WaitFor(absl::Duration timeout) {
    std::unique_lock lock(mu_);
    return stopped_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                             [this] { return state_ == State::kStopped; });
  }

  std::string listening_address() const {
    std::lock_guard lock(mu_);
    return listening_address_;
  }

  std::string metrics_address() const {
    std::lock_guard lock(mu_);
    return state_ == State::kServing && metrics_ ? metrics_->address() : std::string();
  }

  // True when every call finished before the server stopped waiting.
  bool drained() const {
    std::lock_guard lock(mu_);
    return drained_;
  }

  const Logger* logger() const { return runtime_ ? &runtime_->logger : nullptr; }

  // True once gRPC reported that the server can no longer accept
  // connections (see GrpcLogRoute): it serves the connections it has, and
  // no other.
  bool listener_failed() const { return listener_failed_.load(std::memory_order_acquire); }

 private:
  enum class State { kNew, kStarting, kServing, kStopping, kStopped };

  absl::Status StartLocked(const ServerOptions& options) {
    if (absl::Status s = options.Validate(); !s.ok()) return s;
    absl::StatusOr<PluginMetadata> declared = DeclaredMetadata();
    if (!declared.ok()) return declared.status();
    if (absl::Status s = ValidatePluginMetadata(*declared); !s.ok()) return s;
    metadata_ = *std::move(declared);
    metadata_.manifest[kManifestSdkVersion] = std::string(kSdkVersion);
    metadata_.manifest[kManifestProtocolVersion] = std::string(kProtocolVersion);

    absl::StatusOr<internal::Capabilities> capabilities = internal::DeriveCapabilities(services);
    if (!capabilities.ok()) return capabilities.status();

    // Every line of the server, gRPC's own included, goes through this
    // logger, in the format chosen on the command line.
    Logger logger(MakeLogger(metadata_.name, options.log_format, options.log_level));
    grpc_log_ = std::make_unique<internal::GrpcLogRoute>(
        logger, [this] { listener_failed_.store(true, std::memory_order_release); });

    std::shared_ptr<grpc::ServerCredentials> credentials;
    std::string address;
    std::string transport;
    if (options.uses_tcp()) {
      const internal::MutualTlsFiles files{options.server_cert, options.server_key,
                                           options.client_cert};
      // Validates the files too, with errors naming the file and its flag.
      auto made =
          internal::MakeMutualTlsServerCredentials(files, options.tls_reload_interval, logger);
      if (!made.ok()) return made.status();
      credentials = *std::move(made);
      auto listen = options.GrpcListenAddress();
      if (!listen.ok()) return listen.status();
      address = *std::move(listen);
      transport = "tcp+mtls";
    } else {
      auto path = internal::PrepareUnixSocketPath(options.plugin_path, metadata_.name);
      if (!path.ok()) return path.status();
      socket_path_ = *path;
      address = absl::StrCat("unix:", *path);
      credentials = grpc::InsecureServerCredentials();
      transport = "unix";
    }

#ifdef NDEBUG
    // Abseil's deadlock detection (on unless Abseil itself was built with
    // NDEBUG, as Debian's is not) records every lock taken in a graph:
    // gRPC takes several absl::Mutex per call. A release build of a plugin
    // does not pay for it; a debug build keeps it, to catch lock cycles.
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
    if (absl::Status s = OpenObservers(options, logger); !s.ok()) return s;
    pool_ = std::make_unique<internal::ElasticThreadPool>();
    runtime_ = std::make_unique<internal::CallRuntime>(metadata_.name, logger, *pool_);
    if (recorder_) runtime_->observers.push_back(recorder_.get());
    adapted_ = internal::AdaptServices(services, *capabilities, ToProto(metadata_), *runtime_);
    if (metrics_) {
      metrics_->Register(adapted_->methods);
      metrics_->SetUnixListener(socket_path_);
      runtime_->observers.push_back(metrics_.get());
      metrics_->StartServing();
    }

    // Standard health checking (grpc.health.v1) and reflection, so that
    // probes and grpcurl-like tools work against any plugin.
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    for (auto& service : adapted_->grpc_services) builder.RegisterService(service.get());
    // A connection costs about 25 KiB while it waits for its handshake
    // (docs/benchmarks.md, "Hardening"), and over TCP anyone who can reach
    // the port can open them: gRPC's default (120 s) lets a client that
    // never completes the mutual-TLS handshake hold 2.5 MiB per connection
    // opened per second. The operator's handshakes take milliseconds (its
    // whole connection acquisition has 5 s).
    builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                               static_cast<int>(absl::ToInt64Milliseconds(kHandshakeTimeout)));
    int port = 0;
    builder.AddListeningPort(address, credentials, options.uses_tcp() ? &port : nullptr);
    server_ = builder.BuildAndStart();
    if (!server_ || (options.uses_tcp() && port == 0)) {
      server_.reset();
      if (!socket_path_.empty()) internal::RemoveUnixSocket(socket_path_);
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", address, " (see the gRPC error above for the reason)"));
    }
    if (auto* health = server_->GetHealthCheckService()) {
      for (const auto& name : adapted_->service_names) health->SetServingStatus(name, true);
    }
    if (metrics_ && options.uses_tcp()) metrics_->SetTcpListener(port);
    {
      std::lock_guard lock(mu_);
      if (options.uses_tcp()) {
        const std::string& a = address;
        listening_address_ = absl::StrCat(a.substr(0, a.rfind(':')), ":", port);
      } else {
        listening_address_ = address;
      }
    }
    runtime_->logger.Info("plugin server started",
                          {{"name", metadata_.name},
                           {"version", metadata_.version},
                           {"transport", transport},
                           {"address", listening_address_},
                           {"capabilities", CapabilityNames(capabilities->identity)},
                           {"sdk", kSdkVersion},
                           {"max_open_files", OpenFilesLimit()}});
    return absl::OkStatus();
  }

  // --record-dir and --metrics-address (docs/observability.md).
  absl::Status OpenObservers(const ServerOptions& options, const Logger& logger) {
    if (!options.record_dir.empty()) {
      internal::RecorderOptions record;
      record.dir = options.record_dir;
      record.max_files = options.record_max_files;
      record.max_bytes = options.record_max_bytes;
      record.redact = options.record_redact;
      record.rules.secret_parameters.insert(secret_parameters.begin(), secret_parameters.end());
      auto recorder = internal::Recorder::Open(std::move(record), logger, "--record-dir");
      if (!recorder.ok()) return recorder.status();
      recorder_ = *std::move(recorder);
      logger.Info("recording every call", {{"dir", options.record_dir},
                                           {"redacted", options.record_redact},
                                           {"max_files", options.record_max_files},
                                           {"max_bytes", options.record_max_bytes}});
    }
    if (!options.metrics_address.empty()) {
      auto metrics =
          internal::ServerMetrics::Listen(options.metrics_address, "--metrics-address", logger);
      if (!metrics.ok()) return metrics.status();
      metrics_ = *std::move(metrics);
      logger.Info("serving metrics", {{"url", "http://" + metrics_->address() + "/metrics"}});
    }
    return absl::OkStatus();
  }

  void DrainAndStop(absl::Duration grace) {
    const auto& log = runtime_->logger;
    log.Info("stopping: new calls are refused (UNAVAILABLE), calls in flight may finish",
             {{"grace_period", grace}, {"in_flight", runtime_->in_flight.load()}});
    const absl::Time grace_end = absl::Now() + grace;
    // gRPC 1.51 cancels (CANCELLED) every call that reaches a connection
    // after its Shutdown began and before the client read the GOAWAY: calls
    // no handler saw, which clients do not retry. So the server stops in
    // steps of its own first. New calls are refused with UNAVAILABLE (the
    // code clients retry) at the door, the health service says NOT_SERVING
    // and the Unix socket disappears (a reconnecting client fails at once);
    // the calls in flight finish; then every connection is dropped, which
    // clients see as UNAVAILABLE for anything still on its way; only then
    // does gRPC's Shutdown run, on a server without connections.
    runtime_->draining.store(true);
    if (auto* health = server_->GetHealthCheckService()) health->Shutdown();
    if (!socket_path_.empty()) {
      internal::RemoveUnixSocket(socket_path_);
      socket_path_.clear();
    }
    while (runtime_->in_flight.load() > 0 && absl::Now() < grace_end) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    // Cancels what outlived the grace period, as gRPC's deadline would.
    internal::DropAllConnections(*server_);

    // gRPC's Shutdown does not wait for handlers running on our pool (the
    // loop below does), but it does wait, without limit, for a handler
    // running on one of its own threads (see CallRuntime), even one that
    // ignores its cancellation. So it runs on a thread of its own and is
    // given up on after the grace period and the margin.
    const absl::Time give_up = std::max(grace_end, absl::Now()) + kHardStopMargin;
    auto grpc_stopped = std::make_shared<std::promise<void>>();
    std::future<void> grpc_stopped_future = grpc_stopped->get_future();
    std::thread([server = server_.get(), grpc_stopped] {
      server->Shutdown(std::chrono::system_clock::now());
      grpc_stopped->set_value();
    }).detach();
    const bool grpc_done =
        grpc_stopped_future.wait_until(absl::ToChronoTime(give_up)) == std::future_status::ready;
    while (runtime_->in_flight.load() > 0 && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    bool drained = grpc_done && runtime_->in_flight.load() == 0 && pool_->Stop(absl::Seconds(1));
    const std::uint64_t refused = runtime_->refused_while_draining.load();
    runtime_->LogSuppressedCallFailures();
    if (drained) {
      server_->Wait();
      server_.reset();
      // Every call is done: what the recorder holds is written out.
      if (recorder_) recorder_->Close();
    } else {
      log.Error("calls ignored their cancellation past the grace period; leaving them behind",
                {{"in_flight", runtime_->in_flight.load()}});
      // They still reference the server and the pool: keep all of it alive
      // (the process is about to exit) rather than free memory under them.
      LeaveBehind(std::move(server_), std::move(pool_), std::move(adapted_), std::move(runtime_),
                  std::move(recorder_), std::move(metrics_));
    }
    if (runtime_) log.Info("stopped", {{"refused_while_stopping", refused}});
    std::lock_guard lock(mu_);
    drained_ = drained;
  }

  PluginMetadata metadata_;
  std::string socket_path_;
  // Before the pool, the runtime and the server: destroyed after them.
  std::unique_ptr<internal::Recorder> recorder_;
  std::unique_ptr<internal::ServerMetrics> metrics_;
  std::unique_ptr<internal::ElasticThreadPool> pool_;
  std::unique_ptr<internal::CallRuntime> runtime_;
  std::unique_ptr<internal::AdaptedServices> adapted_;
  std::unique_ptr<grpc::Server> server_;

  mutable std::mutex mu_;
  std::condition_variable stopped_;
  State state_ = State::kNew;
  std::string listening_address_;
  bool drained_ = true;
  std::atomic<bool> listener_failed_{false};
  // Last: destroyed first, as its callback uses the members above.
  std::unique_ptr<internal::GrpcLogRoute> grpc_log_;
};

PluginServer::PluginServer(PluginMetadata metadata)
    : impl_(std::make_unique<Impl>(std::move(metadata))) {}
PluginServer::~PluginServer() = default;
PluginServer::PluginServer(PluginServer&&) noexcept = default;
PluginServer& PluginServer::operator=(PluginServer&&) noexcept = default;

void PluginServer::SetIdentity(std::shared_ptr<IdentityService> identity,
                               std::uint32_t overridden) {
  auto& slot = impl_->services.identity;
  if (!identity) {
    impl_->services.registration_errors.push_back("a null IdentityService was given");
    return;
  }
  slot.service = std::move(identity);
  slot.overridden = overridden;
  slot.times_added = 1;
}

namespace {
template <class Service>
void Fill(internal::ServiceSet& set, internal::ServiceSlot<Service>& slot,
          std::shared_ptr<Service> service, std::uint32_t overridden, const char* name) {
  if (!service) {
    set.registration_errors.push_back(absl::StrCat("a null ", name, " was added"));
    return;
  }
  slot.service = std::move(service);
  slot.overridden = overridden;
  ++slot.times_added;
}
}  // namespace

void PluginServer::Register(std::shared_ptr<OperatorService> s, std::uint32_t o) {
  Fill(impl_->services, impl_->services.op, std::move(s), o, "OperatorService");
}
void PluginServer::Register(std::shared_ptr<LifecycleService> s, std::uint32_t o) {
  Fill(impl_->services, impl_->services.lifecycle, std::move(s), o, "LifecycleService");
}
void PluginServer::Register(std::shared_ptr<WalService> s, std::uint32_t o) {
  Fill(impl_->services, impl_->services.wal, std::move(s), o, "WalService");
}
void PluginServer::Register(std::shared_ptr<BackupService> s, std::uint32_t o) {
  Fill(impl_->services, impl_->services.backup, std::move(s), o, "BackupService");
}
void PluginServer::Register(std::shared_ptr<ReconcilerHooksService> s, std::uint32_t o) {
  Fill(impl_->services, impl_->services.reconciler_hooks, std::move(s), o,
       "ReconcilerHooksService");
}
void PluginServer::Register(std::shared_ptr<RestoreJobService> s, std::uint32_t o) {
  Fill(impl_->services, impl_->services.restore_job, std::move(s), o, "RestoreJobService");
}
void PluginServer::Register(std::shared_ptr<PostgresService> s, std::uint32_t o) {
  Fill(impl_->services, impl_->services.postgres, std::move(s), o, "PostgresService");
}
void PluginServer::Register(std::shared_ptr<MetricsService> s, std::uint32_t o) {
  Fill(impl_->services, impl_->services.metrics, std::move(s), o, "MetricsService");
}

PluginServer& PluginServer::Declare(SidecarInjection injection) & {
  impl_->services.sidecar_injection = injection;
  return *this;
}

PluginServer& PluginServer::Declare(SecretParameters secrets) & {
  for (auto& name : secrets.names) impl_->secret_parameters.push_back(std::move(name));
  return *this;
}

absl::Status PluginServer::Start(const ServerOptions& options) { return impl_->Start(options); }
void PluginServer::Shutdown(absl::Duration grace) { impl_->Shutdown(grace); }
void PluginServer::Wait() { impl_->Wait(); }
std::string PluginServer::listening_address() const { return impl_->listening_address(); }
std::string PluginServer::metrics_address() const { return impl_->metrics_address(); }
const PluginMetadata& PluginServer::metadata() const { return impl_->metadata(); }

int PluginServer::Run(int argc, char** argv) {
  const std::string program = argc > 0 ? argv[0] : "plugin";
  auto command =
      ParseCommandLine(absl::MakeConstSpan(argv + (argc > 0 ? 1 : 0), argc > 0 ? argc - 1 : 0));
  if (!command.ok()) {
    std::fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", program.c_str(),
                 std::string(command.status().message()).c_str(), program.c_str());
    return 2;
  }
  const auto declared = impl_->DeclaredMetadata();
  const std::string name = declared.ok() ? declared->name : std::string();
  switch (command->action) {
    case CommandLine::Action::kHelp:
      std::fputs(CommandLineHelp(program, name).c_str(), stdout);
      return 0;
    case CommandLine::Action::kVersion:
      std::printf("%s %s (cnpgi-cpp %s, CNPG-I %s)\n", name.c_str(),
                  declared.ok() ? declared->version.c_str() : "", std::string(kSdkVersion).c_str(),
                  std::string(kProtocolVersion).c_str());
      return 0;
    case CommandLine::Action::kServe:
      break;
  }
  return Run(command->options, program);
}

int PluginServer::Run(const ServerOptions& options, std::string_view program_name) {
  const std::string program(program_name);
  // Signals are taken synchronously by this thread: block them before gRPC
  // starts its threads, which inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  RaiseOpenFilesLimit(Logger(MakeLogger(program, options.log_format, options.log_level)));
  if (absl::Status started = Start(options); !started.ok()) {
    std::fprintf(stderr, "%s: cannot start: %s\n", program.c_str(),
                 std::string(started.message()).c_str());
    return 1;
  }
  // Until a signal comes, or gRPC reports that the server can no longer
  // accept connections: then the plugin stops and exits non-zero, so that
  // Kubernetes restarts it, rather than living on deaf.
  const Logger* log = impl_->logger();
  const timespec tick{0, 100 * 1000 * 1000};
  int signal_number = 0;
  internal::IdleTrimmer trimmer({});
  while (signal_number <= 0 && !impl_->listener_failed()) {
    signal_number = sigtimedwait(&signals, nullptr, &tick);
    if (signal_number > 0) break;
    if (const auto trimmed = trimmer.Tick()) {
      log->Debug("idle: memory returned",
                 {{"file_mappings", trimmed->mappings}, {"file_bytes", trimmed->file_bytes}});
    }
  }
  const bool failed = signal_number <= 0;
  if (failed) {
    log->Error(
        "stopping: the plugin cannot accept connections any more; exiting non-zero so "
        "that it is restarted");
  } else {
    log->Info("received signal, shutting down", {{"signal", strsignal(signal_number)}});
  }

  const absl::Duration grace = options.grace_period;
  std::thread stopper([this, grace] { Shutdown(grace); });
  // A (second) signal while draining means "now".
  while (!impl_->WaitFor(absl::ZeroDuration())) {
    if (sigtimedwait(&signals, nullptr, &tick) > 0) {
      log->Warn("second signal: exiting without waiting for in-flight calls");
      std::fflush(nullptr);
      std::_Exit(1);
    }
  }
  stopper.join();
  return !failed && impl_->drained() ? 0 : 1;
}

}  // namespace cnpgi
