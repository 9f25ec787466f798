// The work the benchmark's plugins do, shared by the SDK plugin and the bare
// gRPC server so that the only difference between them is the SDK.
#ifndef CNPGI_BENCH_SERVER_WORK_H_
#define CNPGI_BENCH_SERVER_WORK_H_

#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace cnpgi_bench {

// Both servers take this name: the socket is <plugin-path>/<kPluginName>.
inline constexpr char kPluginName[] = "bench.cnpgi.io";
inline constexpr char kPluginVersion[] = "0.0.1";
inline constexpr char kMutatedLabel[] = "bench.cnpgi.io/mutated";

// MutateCluster's work: parse the Cluster, add one label, answer the RFC 6902
// patch from the original to the edited Cluster. Throws nlohmann::json's
// exceptions on a request that is not JSON.
inline std::string MutateClusterPatch(std::string_view cluster_json) {
  const nlohmann::json original = nlohmann::json::parse(cluster_json);
  nlohmann::json mutated = original;
  mutated["metadata"]["labels"][kMutatedLabel] = "true";
  return nlohmann::json::diff(original, mutated).dump();
}

}  // namespace cnpgi_bench

#endif  // CNPGI_BENCH_SERVER_WORK_H_
