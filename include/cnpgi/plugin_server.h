// PluginServer: serves a plugin's services to CloudNativePG.
#ifndef CNPGI_PLUGIN_SERVER_H_
#define CNPGI_PLUGIN_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cnpgi/identity_service.h"
#include "cnpgi/internal/service_traits.h"
#include "cnpgi/metadata.h"
#include "cnpgi/server_options.h"

namespace cnpgi {

// The two capabilities that are declarations rather than services. They tell
// the operator that the plugin injects its sidecar (with a lifecycle hook)
// into instance Pods, so that the instance manager loads it for
// configuration and metrics, and into the initdb/restore/upgrade Jobs, so
// that those load it for configuration. Advertise them on the
// operator-facing endpoint.
struct SidecarInjection {
  bool instance_pods = false;  // TYPE_INSTANCE_SIDECAR_INJECTION
  bool job_pods = false;       // TYPE_INSTANCE_JOB_SIDECAR_INJECTION
};

// Plugin parameters (spec.plugins[].parameters) whose values are secrets:
// calls recorded with --record-dir carry "[redacted]" instead. Parameters
// whose names look secret (password, token, ...key, credentials, ...) are
// redacted without being declared (docs/observability.md).
struct SecretParameters {
  std::vector<std::string> names;
};

// Serves whichever services it is given, over a Unix socket (sidecar
// plugins) or TCP with mutual TLS (plugins deployed behind a Service):
//
//   int main(int argc, char** argv) {
//     return cnpgi::PluginServer(kMetadata)
//         .Add(std::make_shared<MyOperator>())
//         .Add(std::make_shared<MyLifecycle>())
//         .Run(argc, argv);
//   }
//
// Capabilities are derived, never written: the services added are the
// services advertised, and each service advertises the RPCs its class
// overrides. What the derivation cannot see (lifecycle subscriptions,
// reconciler kinds, SidecarInjection) is declared as data. Start() refuses
// anything the operator would choke on, with a message that says what.
//
// Threading: every handler may run on several threads at once (the
// operator keeps up to five connections per plugin and reconciles clusters
// in parallel). Handlers run on a pool that grows with demand (one call at a
// time may run on the gRPC thread that received it, which gRPC can spare),
// so a Backup that lasts an hour never delays a Probe or a WAL call.
class PluginServer {
 public:
  explicit PluginServer(PluginMetadata metadata);
  // With an Identity implementation of your own (a real Probe).
  template <class T>
  explicit PluginServer(std::shared_ptr<T> identity);
  ~PluginServer();

  PluginServer(PluginServer&&) noexcept;
  PluginServer& operator=(PluginServer&&) noexcept;

  // Adds a service implementation: an object of a class derived from one or
  // more of OperatorService, LifecycleService, WalService, BackupService,
  // ReconcilerHooksService, RestoreJobService, PostgresService and
  // MetricsService. Pass the concrete class (std::make_shared<MyWal>()), not
  // a pointer to the base class: the overrides are read from its type.
  template <class T>
  PluginServer& Add(std::shared_ptr<T> service) &;
  // Chaining on a temporary keeps it a temporary, so that
  // `Harness(PluginServer(m).Add(a).Add(b))` moves the server.
  template <class T>
  PluginServer&& Add(std::shared_ptr<T> service) && {
    return std::move(Add(std::move(service)));
  }

  PluginServer& Declare(SidecarInjection injection) &;
  PluginServer&& Declare(SidecarInjection injection) && { return std::move(Declare(injection)); }
  PluginServer& Declare(SecretParameters secrets) &;
  PluginServer&& Declare(SecretParameters secrets) && {
    return std::move(Declare(std::move(secrets)));
  }

  // The whole life of a plugin process: parses the command line (same flags
  // as the Go helper library, see --help), starts serving, waits for SIGTERM
  // or SIGINT, drains in-flight calls within the grace period and returns
  // the process exit code: 0 after a clean shutdown, non-zero with a message
  // on stderr for bad flags or a refused start.
  int Run(int argc, char** argv);
  // The same life with options the program parsed itself (for example with
  // ParseCommandLine after taking its own flags off the front): raises the
  // open-files limit, starts, serves until SIGTERM or SIGINT, drains within
  // options.grace_period and returns the exit code. `program` names the
  // process in messages on stderr and in the start-up log.
  int Run(const ServerOptions& options, std::string_view program = "plugin");

  // The parts of Run(), for tests and for programs that manage their own
  // life cycle. Start() validates everything, binds and starts serving; it
  // can be called once.
  absl::Status Start(const ServerOptions& options);
  // Stops the server: from the start, every new call is refused with
  // UNAVAILABLE without reaching plugin code (the code clients retry), the
  // health service answers NOT_SERVING and the Unix socket is removed;
  // in-flight calls get up to `grace` to finish, then are cancelled; then
  // every connection is closed (what a client still had on its way fails
  // with UNAVAILABLE, never CANCELLED) and gRPC stops. Idempotent; safe from
  // any thread.
  void Shutdown(absl::Duration grace);
  // Blocks until Shutdown() has completed.
  void Wait();

  // Where the server listens once started: "unix:/plugins/<name>" or
  // "host:port" with the actual port (useful with ":0" in tests).
  std::string listening_address() const;
  // Where --metrics-address serves, "host:port" with the actual port; ""
  // when not serving metrics.
  std::string metrics_address() const;

  // The metadata as served (after validation, with the SDK's manifest
  // entries).
  const PluginMetadata& metadata() const;

  class Impl;

 private:
  void SetIdentity(std::shared_ptr<IdentityService> identity, std::uint32_t overridden);
  void Register(std::shared_ptr<OperatorService> service, std::uint32_t overridden);
  void Register(std::shared_ptr<LifecycleService> service, std::uint32_t overridden);
  void Register(std::shared_ptr<WalService> service, std::uint32_t overridden);
  void Register(std::shared_ptr<BackupService> service, std::uint32_t overridden);
  void Register(std::shared_ptr<ReconcilerHooksService> service, std::uint32_t overridden);
  void Register(std::shared_ptr<RestoreJobService> service, std::uint32_t overridden);
  void Register(std::shared_ptr<PostgresService> service, std::uint32_t overridden);
  void Register(std::shared_ptr<MetricsService> service, std::uint32_t overridden);

  template <class Base, class T>
  void RegisterAs(const std::shared_ptr<T>& service) {
    if constexpr (std::is_base_of_v<Base, T>) {
      Register(std::static_pointer_cast<Base>(service), internal::OverriddenRpcs<Base, T>());
    }
  }

  std::unique_ptr<Impl> impl_;
};

template <class T>
PluginServer::PluginServer(std::shared_ptr<T> identity) : PluginServer(PluginMetadata{}) {
  static_assert(std::is_base_of_v<IdentityService, T>,
                "PluginServer takes PluginMetadata or an IdentityService implementation");
  static_assert(!std::is_same_v<T, IdentityService>,
                "pass the concrete Identity class, not a pointer to IdentityService, so that the "
                "SDK can see whether it overrides Probe");
  SetIdentity(std::static_pointer_cast<IdentityService>(identity),
              internal::OverriddenRpcs<IdentityService, T>());
}

template <class T>
PluginServer& PluginServer::Add(std::shared_ptr<T> service) & {
  static_assert(internal::kDerivesFromAService<T>,
                "PluginServer::Add() takes an object of a class derived from a cnpgi service "
                "base class (OperatorService, LifecycleService, WalService, ...)");
  static_assert(!internal::kIsServiceBase<T>,
                "PluginServer::Add() needs the concrete plugin class (std::make_shared<MyWal>()), "
                "not a pointer to the base class: capabilities are derived from its overrides");
  RegisterAs<OperatorService>(service);
  RegisterAs<LifecycleService>(service);
  RegisterAs<WalService>(service);
  RegisterAs<BackupService>(service);
  RegisterAs<ReconcilerHooksService>(service);
  RegisterAs<RestoreJobService>(service);
  RegisterAs<PostgresService>(service);
  RegisterAs<MetricsService>(service);
  return *this;
}

}  // namespace cnpgi

#endif  // CNPGI_PLUGIN_SERVER_H_
