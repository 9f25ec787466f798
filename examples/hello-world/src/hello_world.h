// hello-world: the smallest useful operator-facing CNPG-I plugin.
//
// It runs as a Deployment behind a Service (TCP with mutual TLS) and:
//  - validates its parameters in the Cluster (ValidateClusterCreate/Change),
//    refusing changes of the labels once the Cluster exists;
//  - fills in their defaults (MutateCluster);
//  - records {"enabled": true} as its status in the Cluster
//    (SetStatusInCluster);
//  - on every instance Pod the operator computes (EVALUATE) or creates
//    (CREATE), adds the configured labels and annotations and injects a
//    small native sidecar container.
//
// Its configuration, in the Cluster:
//
//   spec:
//     plugins:
//       - name: cnpg-i-hello-world.cloudnative-pg.io
//         parameters:
//           labels: '{"team": "payments"}'           # JSON object of strings
//           annotations: '{"example.com/owner": "x"}'  # JSON object of strings
//           imagePullPolicy: IfNotPresent              # of the sidecar
//
// Of the Operator calls, today's CloudNativePG only makes SetStatusInCluster
// (the validation and defaulting calls are served for when it calls them
// again), so the lifecycle hook applies the same defaults and refuses
// invalid parameters itself.
#ifndef HELLO_WORLD_HELLO_WORLD_H_
#define HELLO_WORLD_HELLO_WORLD_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cnpgi/cnpgi.h>

namespace hello_world {

inline constexpr std::string_view kPluginName = "cnpg-i-hello-world.cloudnative-pg.io";
inline constexpr std::string_view kVersion = "0.1.0";

// Parameter names and defaults.
inline constexpr std::string_view kLabels = "labels";
inline constexpr std::string_view kAnnotations = "annotations";
inline constexpr std::string_view kImagePullPolicy = "imagePullPolicy";
inline constexpr std::string_view kDefaultLabels = R"({"hello-world-plugin":"enabled"})";
inline constexpr std::string_view kDefaultAnnotations = "{}";
inline constexpr std::string_view kDefaultImagePullPolicy = "IfNotPresent";

// The injected sidecar: a container that does nothing, to show where a real
// plugin's sidecar goes.
inline constexpr std::string_view kSidecarName = "hello-world";
inline constexpr std::string_view kSidecarImage = "registry.k8s.io/pause:3.10";

// The plugin's configuration with the defaults applied.
struct Configuration {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string image_pull_policy;
};

// Reads and checks the parameters of `entry`; every problem is added to
// `errors` with the parameter's path. nullopt when there was one.
std::optional<Configuration> ReadConfiguration(const cnpgi::PluginConfiguration& entry,
                                               cnpgi::ValidationErrors& errors);

class HelloOperator final : public cnpgi::OperatorService {
 public:
  absl::Status OnValidateClusterCreate(cnpgi::CallContext& ctx, const cnpgi::Cluster& cluster,
                                       cnpgi::ValidationErrors& errors) override;
  absl::Status OnValidateClusterChange(cnpgi::CallContext& ctx, const cnpgi::Cluster& old_cluster,
                                       const cnpgi::Cluster& new_cluster,
                                       cnpgi::ValidationErrors& errors) override;
  absl::Status OnMutateCluster(cnpgi::CallContext& ctx, cnpgi::Cluster& cluster) override;
  absl::StatusOr<std::optional<nlohmann::json>> OnSetStatusInCluster(
      cnpgi::CallContext& ctx, const cnpgi::Cluster& cluster) override;
};

class HelloLifecycle final : public cnpgi::LifecycleService {
 public:
  std::vector<cnpgi::LifecycleSubscription> Subscriptions() const override;
  absl::Status OnLifecycle(cnpgi::CallContext& ctx, const cnpgi::Cluster& cluster,
                           cnpgi::Object& object, cnpgi::LifecycleOperation operation) override;
};

cnpgi::PluginMetadata Metadata();

// The server with both services, as main() runs it (tests start it too).
cnpgi::PluginServer MakeServer();

}  // namespace hello_world

#endif  // HELLO_WORLD_HELLO_WORLD_H_
