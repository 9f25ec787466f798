// Postgres: contributing to the PostgreSQL configuration.
#ifndef CNPGI_POSTGRES_SERVICE_H_
#define CNPGI_POSTGRES_SERVICE_H_

#include "absl/status/status.h"
#include "cnpgi/call_context.h"
#include "cnpgi/cluster.h"
#include "cnpgi/identity/v1/postgres.pb.h"
#include "cnpgi/postgres_configuration.h"

namespace cnpgi {

// Called by the instance manager (on every instance reconcile) and by the
// initdb, restore and major-upgrade Jobs, over the Unix socket of a
// sidecar, each time they render postgresql.conf. Handlers may be called
// from several threads at once.
// Who is rendering the configuration. Values equal the protocol's
// OperationType.Type.
enum class ConfigurationOperation {
  kInit = 1,       // initdb Job
  kRestore = 2,    // restore Job
  kReconcile = 3,  // instance manager, on every instance reconcile
  kUpgrade = 4,    // major-upgrade Job
};

class PostgresService {
 public:
  using Request = identity::v1::EnrichConfigurationRequest;
  using Result = identity::v1::EnrichConfigurationResult;

  virtual ~PostgresService() = default;

  // Set or remove parameters on `configuration`, which starts as the map the
  // operator sent; the SDK answers the complete map when something changed
  // and nothing otherwise, so the operator's other parameters are never
  // lost.
  virtual absl::Status OnEnrichConfiguration(CallContext& ctx, const Cluster& cluster,
                                             PostgresConfiguration& configuration,
                                             ConfigurationOperation operation);

  // The raw form; by default it parses the request and calls
  // OnEnrichConfiguration.

  // `request.configs` is the complete parameter map the operator generated.
  // Answer the complete map (a copy of it with your additions) or nothing:
  // the last non-empty answer replaces the whole configuration, so an answer
  // holding only your keys would drop everything else. Be deterministic:
  // the answer feeds a hash that triggers reloads and restarts.
  virtual absl::Status EnrichConfiguration(CallContext& ctx, const Request& request,
                                           Result& result);
};

}  // namespace cnpgi

#endif  // CNPGI_POSTGRES_SERVICE_H_
