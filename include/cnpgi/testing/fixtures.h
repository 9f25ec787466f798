// Realistic objects to send to a plugin, built into the library (no files
// needed at run time): a CloudNativePG Cluster as the operator serialises it,
// one of its instance Pods as EVALUATE sees it, its full-recovery Job, a
// plugin Backup, and the postgresql.conf parameter map the instance manager
// generates.
//
// A Fixtures object configures them for one plugin: its name is added to the
// Cluster's spec.plugins (with the parameters given) and status.pluginStatus,
// and set as the Backup's spec.pluginConfiguration.name, which is where a
// plugin looks for its own configuration.
//
//   cnpgi::test::Fixtures fixtures("example.cnpgi.io", {{"bucket", "b1"}});
//   nlohmann::json cluster = fixtures.cluster();
//   cluster["spec"]["instances"] = 1;   // tweak freely: each call returns a copy
#ifndef CNPGI_TESTING_FIXTURES_H_
#define CNPGI_TESTING_FIXTURES_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cnpgi::test {

class Fixtures {
 public:
  using Parameters = std::map<std::string, std::string>;

  // Fixtures for no plugin in particular: the Cluster lists the two plugins
  // of the embedded sample only.
  Fixtures() = default;
  // Fixtures configured for `plugin_name` with `parameters`
  // (spec.plugins[].parameters). If the sample Cluster already lists that
  // name, its entry is updated (its parameters replaced when `parameters` is
  // not empty).
  explicit Fixtures(std::string plugin_name, Parameters parameters = {});

  // Advertised capabilities recorded in the Cluster's status.pluginStatus[]
  // entry of the plugin, as the operator records them after its handshake
  // (e.g. "TYPE_LIFECYCLE_SERVICE"; operator RPCs such as
  // "TYPE_SET_STATUS_IN_CLUSTER"). PluginClient fills these in.
  Fixtures& WithCapabilities(std::vector<std::string> identity,
                             std::vector<std::string> operator_rpcs = {},
                             std::vector<std::string> wal_rpcs = {},
                             std::vector<std::string> backup_rpcs = {},
                             std::vector<std::string> restore_job_kinds = {});
  // The plugin version recorded in status.pluginStatus[].
  Fixtures& WithVersion(std::string version);

  const std::string& plugin_name() const { return plugin_name_; }
  const Parameters& parameters() const { return parameters_; }

  // Each call returns a fresh copy.
  // postgresql.cnpg.io/v1 Cluster "pg-orders" in namespace "payments".
  nlohmann::json cluster() const;
  // v1 Pod "pg-orders-1", an instance of that Cluster (containers
  // `postgres`, init container `bootstrap-controller`).
  nlohmann::json pod() const;
  // batch/v1 Job "pg-orders-1-full-recovery" (container `full-recovery`,
  // label cnpg.io/jobRole=full-recovery).
  nlohmann::json job() const;
  // postgresql.cnpg.io/v1 Backup with method "plugin" naming this plugin.
  nlohmann::json backup() const;
  // The Cluster set up to be restored by this plugin: an external cluster
  // "origin" using the plugin and spec.bootstrap.recovery.source = "origin",
  // as the full-recovery Job sends it to RestoreJobHooks.Restore.
  nlohmann::json recovery_cluster() const;
  // An object of any kind for a lifecycle hook: the Pod, Job, Cluster or
  // Backup above for those kinds, otherwise a small object of that
  // apiVersion/kind belonging to the Cluster. `group` is the API group (""
  // for core).
  nlohmann::json object(std::string_view group, std::string_view kind) const;
  // The complete parameter map the operator sends to EnrichConfiguration.
  std::map<std::string, std::string> postgres_configuration() const;
  // The keys of postgres_configuration() that the operator always sets and
  // no plugin may drop (archive_command, listen_addresses, port, ...).
  static const std::vector<std::string>& MandatoryPostgresParameters();

  // The embedded sample documents, unmodified (the JSON text).
  static std::string_view SampleClusterJson();
  static std::string_view SamplePodJson();
  static std::string_view SampleJobJson();
  static std::string_view SampleBackupJson();

 private:
  std::string plugin_name_;
  Parameters parameters_;
  std::string version_ = "0.0.0";
  std::vector<std::string> identity_capabilities_;
  std::vector<std::string> operator_capabilities_;
  std::vector<std::string> wal_capabilities_;
  std::vector<std::string> backup_capabilities_;
  std::vector<std::string> restore_job_capabilities_;
};

}  // namespace cnpgi::test

#endif  // CNPGI_TESTING_FIXTURES_H_
