#include "plugin.h"

#include <cstdlib>
#include <memory>

#include "configuration.h"
#include "file_io.h"
#include "instance_services.h"
#include "operator_services.h"
#include "recovery_service.h"

namespace directory_backup {
namespace {

std::string FromEnv(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

absl::StatusOr<Role> ParseRole(std::string_view name) {
  if (name == "operator") return Role::kOperator;
  if (name == "instance") return Role::kInstance;
  if (name == "restore") return Role::kRestore;
  return absl::InvalidArgumentError(Cat({"unknown role \"", name,
                                         "\": the first argument is operator, instance, restore or "
                                         "healthcheck"}));
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOperator:
      return "operator";
    case Role::kInstance:
      return "instance";
    case Role::kRestore:
      return "restore";
  }
  return "";
}

Environment Environment::FromProcess() {
  Environment e;
  e.pgdata = FromEnv("PGDATA");
  e.sidecar_image = FromEnv("SIDECAR_IMAGE");
  return e;
}

cnpgi::PluginMetadata Metadata() {
  cnpgi::PluginMetadata m;
  m.name = std::string(kPluginName);
  m.version = std::string(kVersion);
  m.display_name = "Directory backup";
  m.description =
      "Archives WAL and takes base backups into a directory, and recovers clusters from them, "
      "to any point in time (example)";
  m.license = "Apache-2.0";
  m.maturity = "example";
  return m;
}

cnpgi::PluginServer MakeServer(Role role, const Environment& environment) {
  cnpgi::PluginServer server(Metadata());
  switch (role) {
    case Role::kOperator:
      server.Add(std::make_shared<StoreOperatorService>())
          .Add(std::make_shared<SidecarInjector>(environment))
          // The instance manager loads the plugin for metrics.
          .Declare({.instance_pods = true});
      break;
    case Role::kInstance:
      server.Add(std::make_shared<StoreWalService>())
          .Add(std::make_shared<StoreBackupService>(environment))
          .Add(std::make_shared<StoreMetricsService>());
      break;
    case Role::kRestore:
      server.Add(std::make_shared<StoreRecoveryService>(environment))
          .Add(std::make_shared<StoreWalService>());
      break;
  }
  return server;
}

}  // namespace directory_backup
