// The plugin's identity as the operator sees it.
#ifndef CNPGI_METADATA_H_
#define CNPGI_METADATA_H_

#include <map>
#include <string>

#include "absl/status/status.h"

namespace cnpgi {

// What GetPluginMetadata answers. Only `name` and `version` matter to the
// operator: `name` must equal the Unix socket file name (sidecar plugins),
// the `cnpg.io/pluginName` label of the Service (TCP plugins) and
// `spec.plugins[].name` in the Cluster; `version` is shown in the Cluster's
// `status.pluginStatus[].version`. The rest is for humans and tools.
// Members have default initializers so that designated initializers
// ({.name = ..., .version = ...}) compile cleanly under -Wextra.
struct PluginMetadata {
  std::string name{};     // required; DNS-like, at most 63 characters
  std::string version{};  // required, e.g. "1.2.0"
  std::string display_name{};
  std::string description{};
  std::string project_url{};
  std::string repository_url{};
  std::string license{};
  std::string license_url{};
  std::string maturity{};  // e.g. "alpha", "beta", "stable"
  std::string vendor{};
  // Free-form key/value pairs. The SDK adds `cnpgi-cpp/sdk-version` and
  // `cnpgi-cpp/protocol-version` so that support can tell what a plugin
  // was built with.
  std::map<std::string, std::string> manifest{};
};

// Checks what the operator and Kubernetes require of the metadata: a name of
// 1 to 63 characters made of lowercase letters, digits, '-' and '.',
// starting and ending with a letter or digit, and a version. The error names
// the field and what is wrong with it. PluginServer calls this at startup.
absl::Status ValidatePluginMetadata(const PluginMetadata& metadata);

}  // namespace cnpgi

#endif  // CNPGI_METADATA_H_
