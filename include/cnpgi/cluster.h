// cnpgi::Cluster: the CloudNativePG Cluster every request carries.
//
// Plugins read their configuration from it (spec.plugins[i].parameters, or
// spec.externalClusters[j].plugin for recovery and replica sources), and
// their previous status from status.pluginStatus[]. MutateCluster authors
// edit it like any Object and return Patch().
//
//   absl::StatusOr<cnpgi::Cluster> cluster = cnpgi::Cluster::Parse(request.cluster_definition());
//   if (!cluster.ok()) return cluster.status();
//   absl::StatusOr<cnpgi::PluginConfiguration> me = cluster->GetPlugin(kPluginName);
//   if (!me.ok()) return me.status();
//   cnpgi::ValidationErrors errors;
//   auto bucket = me->parameters().GetString("bucket", errors, {.required = true});
#ifndef CNPGI_CLUSTER_H_
#define CNPGI_CLUSTER_H_

#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cnpgi/object.h"
#include "cnpgi/plugin_configuration.h"

namespace cnpgi {

// spec.externalClusters[j].
struct ExternalCluster {
  std::string_view name;
  std::optional<PluginConfiguration> plugin;  // when it names a plugin
  std::size_t index = 0;
  const nlohmann::json* json = nullptr;
};

// status.pluginStatus[i]: what the operator recorded about a plugin at its
// handshake, plus the string the plugin returned from SetStatusInCluster.
struct PluginStatus {
  std::string_view name;
  std::string_view version;
  // The JSON object text last returned by SetStatusInCluster; usually ""
  // because the operator drops it at the start of each reconcile. Parse it
  // with ParseClusterStatus (cnpgi/cluster_status.h).
  std::string_view status;
  std::size_t index = 0;
  const nlohmann::json* json = nullptr;

  // True if the identity capability list (e.g. "TYPE_LIFECYCLE_SERVICE") or
  // any service capability list (operatorCapabilities, walCapabilities,
  // backupCapabilities, restoreJobHookCapabilities) contains `capability`.
  bool HasCapability(std::string_view capability) const;
};

class Cluster : public Object {
 public:
  static constexpr std::string_view kApiVersion = "postgresql.cnpg.io/v1";
  static constexpr std::string_view kKind = "Cluster";

  // Lenient: apiVersion/kind may be absent (the operator omits them on some
  // paths) but must be the Cluster's when present. Besides the checks of
  // Object::Parse, the fields below must have their Kubernetes types, so the
  // accessors never fail; errors are InvalidArgument naming the field path.
  static absl::StatusOr<Cluster> Parse(std::string_view text, const JsonLimits& limits = {});
  // apiVersion and kind must be present and the Cluster's.
  static absl::StatusOr<Cluster> ParseStrict(std::string_view text, const JsonLimits& limits = {});
  // Checks an Object parsed earlier (leniently) and makes it a Cluster.
  static absl::StatusOr<Cluster> FromObject(Object object);

  // spec.plugins[], in order.
  std::vector<PluginConfiguration> plugins() const;
  // This plugin's entry in spec.plugins, by plugin name.
  std::optional<PluginConfiguration> FindPlugin(std::string_view plugin_name) const;
  // As FindPlugin; FailedPrecondition naming the Cluster and the plugins it
  // does configure when there is no entry.
  absl::StatusOr<PluginConfiguration> GetPlugin(std::string_view plugin_name) const;

  // spec.externalClusters[], in order.
  std::vector<ExternalCluster> external_clusters() const;
  std::optional<ExternalCluster> FindExternalCluster(std::string_view name) const;
  // The plugin entry of the external cluster `external_cluster_name`, when
  // that external cluster uses a plugin.
  std::optional<PluginConfiguration> FindExternalClusterPlugin(
      std::string_view external_cluster_name) const;

  // spec.bootstrap.recovery.source and spec.replica.source: names of
  // external clusters ("" when absent).
  std::string_view recovery_source() const;
  std::string_view replica_source() const;

  // status.pluginStatus[], in order.
  std::vector<PluginStatus> plugin_statuses() const;
  std::optional<PluginStatus> FindPluginStatus(std::string_view plugin_name) const;

  // Sets spec.plugins[<entry of plugin_name>].parameters.<key> (MutateCluster
  // defaulting). FailedPrecondition when the plugin has no entry.
  absl::Status SetPluginParameter(std::string_view plugin_name, std::string_view key,
                                  std::string_view value);

 private:
  explicit Cluster(Object object) : Object(std::move(object)) {}
  absl::Status CheckShape() const;
};

}  // namespace cnpgi

#endif  // CNPGI_CLUSTER_H_
