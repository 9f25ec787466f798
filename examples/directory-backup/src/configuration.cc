#include "configuration.h"

#include <utility>

#include <cnpgi/parameters.h>

#include "absl/status/status.h"
#include "file_io.h"

namespace directory_backup {
namespace {

constexpr std::string_view kDestination = "destination";
constexpr std::string_view kServerName = "serverName";
constexpr std::string_view kRetention = "retention";
constexpr std::string_view kMaxRate = "maxRate";
constexpr std::string_view kImmediateCheckpoint = "immediateCheckpoint";
constexpr std::string_view kVolumeClaim = "volumeClaim";

bool IsSafeServerName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// A Kubernetes object name (RFC 1123 subdomain), for the claim name.
bool IsObjectName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  for (char c : name) {
    if (!alnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<RetentionPolicy> ParseRetention(std::string_view text) {
  RetentionPolicy policy;
  const std::size_t space = text.find(' ');
  if (space != std::string_view::npos) {
    std::string_view unit = text.substr(space + 1);
    absl::StatusOr<std::int64_t> count = cnpgi::ParseInt(text.substr(0, space));
    if (count.ok() && *count >= 1 && (unit == "backups" || (unit == "backup" && *count == 1))) {
      policy.keep_backups = *count;
      return policy;
    }
  } else if (absl::StatusOr<absl::Duration> period = cnpgi::ParseDuration(text);
             period.ok() && *period > absl::ZeroDuration()) {
    policy.period = *period;
    return policy;
  }
  return absl::InvalidArgumentError(
      Cat({"\"", text, "\" is not a retention policy: use a number of backups (\"3 backups\") or ",
           "a recovery window (\"7d\", \"36h\")"}));
}

std::optional<StoreConfiguration> ReadConfiguration(const cnpgi::PluginConfiguration& entry,
                                                    std::string_view default_server_name,
                                                    cnpgi::ValidationErrors& errors) {
  const cnpgi::Parameters p = entry.parameters();
  const std::size_t errors_before = errors.size();
  p.RejectUnknown(
      {kDestination, kServerName, kRetention, kMaxRate, kImmediateCheckpoint, kVolumeClaim},
      errors);

  StoreConfiguration config;
  if (std::optional<std::string_view> destination =
          p.GetString(kDestination, errors, {.required = true, .non_empty = true})) {
    config.location.destination = std::filesystem::path(*destination).lexically_normal();
    if (!config.location.destination.is_absolute()) {
      errors.Add(p.Error(kDestination,
                         "must be an absolute path (where the store volume is "
                         "mounted in the plugin's container)"));
    }
  }
  config.location.server_name =
      std::string(p.GetString(kServerName, errors).value_or(default_server_name));
  if (!IsSafeServerName(config.location.server_name)) {
    errors.Add(p.Error(kServerName, Cat({"must be a single directory name made of letters, "
                                         "digits, '-', '_' and '.' (got \"",
                                         config.location.server_name, "\")"})));
  }
  if (std::optional<std::string_view> retention = p.GetString(kRetention, errors)) {
    absl::StatusOr<RetentionPolicy> policy = ParseRetention(*retention);
    if (policy.ok()) {
      config.retention = *policy;
    } else {
      errors.Add(p.Error(kRetention, std::string(policy.status().message())));
    }
  }
  if (std::optional<cnpgi::Quantity> rate = p.GetQuantity(kMaxRate, errors, {.min = 0})) {
    config.max_rate = rate->value();
  }
  config.immediate_checkpoint = p.GetBool(kImmediateCheckpoint, errors).value_or(false);
  config.volume_claim = std::string(p.GetString(kVolumeClaim, errors).value_or(""));
  if (p.contains(kVolumeClaim) && !IsObjectName(config.volume_claim)) {
    errors.Add(p.Error(kVolumeClaim,
                       "must be the name of a PersistentVolumeClaim in the "
                       "Cluster's namespace"));
  }
  if (errors.size() != errors_before) return std::nullopt;
  return config;
}

absl::StatusOr<StoreConfiguration> OwnConfiguration(const cnpgi::Cluster& cluster,
                                                    std::string_view plugin_name) {
  absl::StatusOr<cnpgi::PluginConfiguration> entry = cluster.GetPlugin(plugin_name);
  if (!entry.ok()) return entry.status();
  cnpgi::ValidationErrors errors;
  std::optional<StoreConfiguration> config = ReadConfiguration(*entry, cluster.name(), errors);
  if (!config) return errors.ToStatus();
  return *config;
}

void ValidateCluster(const cnpgi::Cluster& cluster, std::string_view plugin_name,
                     cnpgi::ValidationErrors& errors) {
  if (std::optional<cnpgi::PluginConfiguration> own = cluster.FindPlugin(plugin_name)) {
    ReadConfiguration(*own, cluster.name(), errors);
  }
  for (const cnpgi::ExternalCluster& external : cluster.external_clusters()) {
    if (external.plugin && external.plugin->name() == plugin_name) {
      ReadConfiguration(*external.plugin, external.name, errors);
    }
  }
}

absl::StatusOr<StoreConfiguration> RecoverySourceConfiguration(const cnpgi::Cluster& cluster,
                                                               std::string_view plugin_name) {
  const std::string_view source = cluster.recovery_source();
  if (source.empty()) {
    return absl::FailedPreconditionError(
        Cat({"Cluster ", cluster.name(), " has no spec.bootstrap.recovery.source: nothing to ",
             "restore from"}));
  }
  std::optional<cnpgi::PluginConfiguration> entry = cluster.FindExternalClusterPlugin(source);
  if (!entry || entry->name() != plugin_name) {
    return absl::FailedPreconditionError(
        Cat({"the recovery source \"", source, "\" of Cluster ", cluster.name(),
             " is not an external cluster using plugin ", plugin_name}));
  }
  cnpgi::ValidationErrors errors;
  std::optional<StoreConfiguration> config = ReadConfiguration(*entry, source, errors);
  if (!config) return errors.ToStatus();
  return *config;
}

absl::StatusOr<std::vector<StoreLocation>> RestoreLocationsOf(const cnpgi::Cluster& cluster,
                                                              std::string_view plugin_name) {
  std::vector<StoreLocation> locations;
  cnpgi::ValidationErrors errors;
  auto add = [&](const cnpgi::PluginConfiguration& entry, std::string_view default_server) {
    std::optional<StoreConfiguration> config = ReadConfiguration(entry, default_server, errors);
    if (!config) return;
    for (const StoreLocation& known : locations) {
      if (known.root().lexically_normal() == config->location.root().lexically_normal()) return;
    }
    locations.push_back(std::move(config->location));
  };

  if (std::optional<cnpgi::PluginConfiguration> own = cluster.FindPlugin(plugin_name)) {
    if (own->enabled()) add(*own, cluster.name());
  }
  for (std::string_view source : {cluster.recovery_source(), cluster.replica_source()}) {
    if (source.empty()) continue;
    std::optional<cnpgi::PluginConfiguration> entry = cluster.FindExternalClusterPlugin(source);
    if (entry && entry->name() == plugin_name && entry->enabled()) add(*entry, source);
  }
  if (!errors.empty()) return errors.ToStatus();
  if (locations.empty()) {
    return absl::FailedPreconditionError(
        Cat({"Cluster ", cluster.name(), " configures no store of plugin ", plugin_name,
             ": neither in spec.plugins nor in the external cluster of its recovery or replica "
             "source"}));
  }
  return locations;
}

absl::StatusOr<StoreConfiguration> ApplyBackupParameters(StoreConfiguration base,
                                                         const cnpgi::Backup& backup) {
  std::optional<cnpgi::PluginConfiguration> entry = backup.plugin_configuration();
  if (!entry) return base;
  const cnpgi::Parameters p = entry->parameters();
  cnpgi::ValidationErrors errors;
  p.RejectUnknown({kMaxRate, kImmediateCheckpoint}, errors);
  if (std::optional<cnpgi::Quantity> rate = p.GetQuantity(kMaxRate, errors, {.min = 0})) {
    base.max_rate = rate->value();
  }
  if (std::optional<bool> immediate = p.GetBool(kImmediateCheckpoint, errors)) {
    base.immediate_checkpoint = *immediate;
  }
  if (!errors.empty()) return errors.ToStatus();
  return base;
}

}  // namespace directory_backup
