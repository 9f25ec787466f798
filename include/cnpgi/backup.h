// cnpgi::Backup: the Backup object the Backup RPC receives.
//
// A plugin backup names its plugin in spec.pluginConfiguration; the request's
// `parameters` map is a copy of spec.pluginConfiguration.parameters.
#ifndef CNPGI_BACKUP_H_
#define CNPGI_BACKUP_H_

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "cnpgi/object.h"
#include "cnpgi/plugin_configuration.h"

namespace cnpgi {

class Backup : public Object {
 public:
  static constexpr std::string_view kApiVersion = "postgresql.cnpg.io/v1";
  static constexpr std::string_view kKind = "Backup";

  // Lenient / strict kind checks as Cluster::Parse; spec.cluster.name,
  // spec.method, spec.target and spec.pluginConfiguration (name, parameters
  // as a map of strings) must have their Kubernetes types.
  static absl::StatusOr<Backup> Parse(std::string_view text, const JsonLimits& limits = {});
  static absl::StatusOr<Backup> ParseStrict(std::string_view text, const JsonLimits& limits = {});
  static absl::StatusOr<Backup> FromObject(Object object);

  // spec.cluster.name.
  std::string_view cluster_name() const;
  // spec.method: "plugin" for plugin backups.
  std::string_view method() const;
  // spec.target: "primary", "prefer-standby" or "".
  std::string_view target() const;
  // spec.pluginConfiguration; parameter errors get paths such as
  // spec.pluginConfiguration.parameters.<name>.
  std::optional<PluginConfiguration> plugin_configuration() const;

 private:
  explicit Backup(Object object) : Object(std::move(object)) {}
  absl::Status CheckShape() const;
};

}  // namespace cnpgi

#endif  // CNPGI_BACKUP_H_
