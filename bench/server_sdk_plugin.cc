// The SDK side of the server benchmark: a hello-world-sized plugin built on
// cnpgi::PluginServer, with Operator.MutateCluster and WAL.Archive. Started
// by server_bench as `server_sdk_plugin --plugin-path <dir>`.
//
// Built twice: server_sdk_plugin runs the same nlohmann-json work as the bare
// server (server_work.h), so that the two differ only by the SDK;
// server_sdk_helpers_plugin (CNPGI_BENCH_SDK_JSON) does the same edit the way
// the SDK recommends, through OnMutateCluster and the Cluster view, which is
// what a plugin author's MutateCluster costs.
#include <memory>

#include "absl/status/status.h"
#include "cnpgi/cluster.h"
#include "cnpgi/operator_service.h"
#include "cnpgi/plugin_server.h"
#include "cnpgi/wal_service.h"
#include "server_work.h"

namespace {

class BenchOperator final : public cnpgi::OperatorService {
 public:
#ifdef CNPGI_BENCH_SDK_JSON
  absl::Status OnMutateCluster(cnpgi::CallContext& /*ctx*/, cnpgi::Cluster& cluster) override {
    return cluster.SetLabel(cnpgi_bench::kMutatedLabel, "true");
  }
#else
  absl::Status MutateCluster(cnpgi::CallContext& /*ctx*/, const MutateClusterRequest& request,
                             MutateClusterResult& result) override {
    result.set_json_patch(cnpgi_bench::MutateClusterPatch(request.definition()));
    return absl::OkStatus();
  }
#endif
};

class BenchWal final : public cnpgi::WalService {
 public:
  absl::Status Archive(cnpgi::CallContext& /*ctx*/, const ArchiveRequest& /*request*/,
                       ArchiveResult& /*result*/) override {
    return absl::OkStatus();
  }
};

}  // namespace

int main(int argc, char** argv) {
  cnpgi::PluginMetadata metadata;
  metadata.name = cnpgi_bench::kPluginName;
  metadata.version = cnpgi_bench::kPluginVersion;
  return cnpgi::PluginServer(std::move(metadata))
      .Add(std::make_shared<BenchOperator>())
      .Add(std::make_shared<BenchWal>())
      .Run(argc, argv);
}
