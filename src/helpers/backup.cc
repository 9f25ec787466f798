#include "cnpgi/backup.h"

#include <string>
#include <utility>

#include "helpers/internal.h"

namespace cnpgi {
namespace {

using internal::Member;
using Json = nlohmann::json;

constexpr std::string_view kBackup = "Backup";

}  // namespace

absl::StatusOr<Backup> Backup::Parse(std::string_view text, const JsonLimits& limits) {
  absl::StatusOr<Object> object = ParseAs(text, limits, kApiVersion, kKind, /*strict=*/false);
  if (!object.ok()) return object.status();
  Backup backup(*std::move(object));
  if (absl::Status s = backup.CheckShape(); !s.ok()) return s;
  return backup;
}

absl::StatusOr<Backup> Backup::ParseStrict(std::string_view text, const JsonLimits& limits) {
  absl::StatusOr<Object> object = ParseAs(text, limits, kApiVersion, kKind, /*strict=*/true);
  if (!object.ok()) return object.status();
  Backup backup(*std::move(object));
  if (absl::Status s = backup.CheckShape(); !s.ok()) return s;
  return backup;
}

absl::StatusOr<Backup> Backup::FromObject(Object object) {
  Backup backup(std::move(object));
  if (absl::Status s = backup.CheckKind(kApiVersion, kKind, /*strict=*/false); !s.ok()) return s;
  if (absl::Status s = backup.CheckShape(); !s.ok()) return s;
  return backup;
}

absl::Status Backup::CheckShape() const {
  const Json* spec = Member(&json(), "spec");
  if (absl::Status s = internal::CheckOptionalObject(kBackup, spec, "spec"); !s.ok()) return s;
  const Json* cluster = Member(spec, "cluster");
  if (absl::Status s = internal::CheckOptionalObject(kBackup, cluster, "spec.cluster"); !s.ok()) {
    return s;
  }
  if (absl::Status s =
          internal::CheckOptionalString(kBackup, Member(cluster, "name"), "spec.cluster.name");
      !s.ok()) {
    return s;
  }
  for (const char* field : {"method", "target"}) {
    if (absl::Status s = internal::CheckOptionalString(kBackup, Member(spec, field),
                                                       internal::Cat("spec.", field));
        !s.ok()) {
      return s;
    }
  }
  const Json* plugin = Member(spec, "pluginConfiguration");
  if (absl::Status s = internal::CheckOptionalObject(kBackup, plugin, "spec.pluginConfiguration");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = internal::CheckOptionalString(kBackup, Member(plugin, "name"),
                                                     "spec.pluginConfiguration.name");
      !s.ok()) {
    return s;
  }
  return internal::CheckOptionalStringMap(kBackup, Member(plugin, "parameters"),
                                          "spec.pluginConfiguration.parameters");
}

std::string_view Backup::cluster_name() const {
  return internal::StringOrEmpty(Find("/spec/cluster/name"));
}

std::string_view Backup::method() const { return internal::StringOrEmpty(Find("/spec/method")); }

std::string_view Backup::target() const { return internal::StringOrEmpty(Find("/spec/target")); }

std::optional<PluginConfiguration> Backup::plugin_configuration() const {
  const Json* plugin = Find("/spec/pluginConfiguration");
  if (plugin == nullptr || !plugin->is_object()) return std::nullopt;
  return PluginConfiguration(plugin, {"spec", "pluginConfiguration"});
}

}  // namespace cnpgi
