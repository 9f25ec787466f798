// Not part of the API. What the plugin handed to PluginServer.
#ifndef CNPGI_SRC_SERVER_SERVICE_SET_H_
#define CNPGI_SRC_SERVER_SERVICE_SET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cnpgi/backup_service.h"
#include "cnpgi/identity_service.h"
#include "cnpgi/lifecycle_service.h"
#include "cnpgi/metrics_service.h"
#include "cnpgi/operator_service.h"
#include "cnpgi/plugin_server.h"
#include "cnpgi/postgres_service.h"
#include "cnpgi/reconciler_hooks_service.h"
#include "cnpgi/restore_job_service.h"
#include "cnpgi/wal_service.h"

namespace cnpgi::internal {

template <class Service>
struct ServiceSlot {
  std::shared_ptr<Service> service;
  std::uint32_t overridden = 0;  // bit i set: RPC i overridden (see service_traits.h)
  int times_added = 0;

  bool added() const { return times_added > 0; }
  bool overrides(int rpc) const { return (overridden >> rpc) & 1u; }
};

struct ServiceSet {
  ServiceSlot<IdentityService> identity;
  ServiceSlot<OperatorService> op;
  ServiceSlot<LifecycleService> lifecycle;
  ServiceSlot<WalService> wal;
  ServiceSlot<BackupService> backup;
  ServiceSlot<ReconcilerHooksService> reconciler_hooks;
  ServiceSlot<RestoreJobService> restore_job;
  ServiceSlot<PostgresService> postgres;
  ServiceSlot<MetricsService> metrics;
  SidecarInjection sidecar_injection;
  // Problems found while services were added (a null pointer), reported by
  // Start() with the rest.
  std::vector<std::string> registration_errors;
};

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_SERVER_SERVICE_SET_H_
