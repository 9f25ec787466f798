// Plugin classes used by the server tests, in-process and as a separate
// process (test_plugin_main.cc).
#ifndef CNPGI_TESTS_SERVER_TEST_PLUGINS_H_
#define CNPGI_TESTS_SERVER_TEST_PLUGINS_H_

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cnpgi/backup_service.h"
#include "cnpgi/lifecycle_service.h"
#include "cnpgi/metrics_service.h"
#include "cnpgi/operator_service.h"
#include "cnpgi/plugin_server.h"
#include "cnpgi/postgres_service.h"
#include "cnpgi/reconciler_hooks_service.h"
#include "cnpgi/restore_job_service.h"
#include "cnpgi/wal_service.h"

namespace cnpgi::testing_plugins {

inline PluginMetadata TestMetadata(std::string name = "test-plugin.cnpgi.example") {
  PluginMetadata m;
  m.name = std::move(name);
  m.version = "1.2.3";
  m.display_name = "Test plugin";
  m.vendor = "cnpgi-cpp tests";
  m.manifest["purpose"] = "tests";
  return m;
}

// A latch that handlers can block on until the test releases them.
class Gate {
 public:
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Waits until opened or until the call is cancelled; false if cancelled.
  bool Pass(CallContext& ctx) {
    ++waiting_;
    std::unique_lock lock(mu_);
    while (!open_) {
      if (ctx.IsCancelled()) {
        --waiting_;
        return false;
      }
      cv_.wait_for(lock, std::chrono::milliseconds(10));
    }
    --waiting_;
    return true;
  }
  // Waits until opened, whatever happens to the call: a handler stuck in
  // I/O that never looks at its cancellation.
  void PassIgnoringCancellation() {
    ++waiting_;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return open_; });
    --waiting_;
  }
  int waiting() const { return waiting_.load(); }
  // Waits (up to 5 s) until n handlers are blocked here; true if they are.
  bool AwaitWaiting(int n) const {
    for (int i = 0; i < 500 && waiting() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return waiting() == n;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  std::atomic<int> waiting_{0};
};

// Overrides every RPC of the Operator service, as private overrides
// (the style DESIGN.md shows), with answers the tests can recognise.
class FullOperator final : public OperatorService {
  absl::Status ValidateClusterCreate(CallContext&, const ValidateClusterCreateRequest& request,
                                     ValidateClusterCreateResult& result) override {
    if (request.definition().empty()) {
      auto* error = result.add_validation_errors();
      error->add_path_components("spec");
      error->set_message("empty cluster");
    }
    return absl::OkStatus();
  }
  absl::Status ValidateClusterChange(CallContext&, const ValidateClusterChangeRequest& request,
                                     ValidateClusterChangeResult& result) override {
    if (request.old_cluster() != request.new_cluster()) {
      result.add_validation_errors()->set_message("changed");
    }
    return absl::OkStatus();
  }
  absl::Status MutateCluster(CallContext&, const MutateClusterRequest& request,
                             MutateClusterResult& result) override {
    if (request.definition() == "throw") throw std::runtime_error("mutate exploded");
    if (request.definition() == "huge") {
      result.set_json_patch(std::string(5u << 20, 'x'));
      return absl::OkStatus();
    }
    if (request.definition() == "huge-error") {
      return absl::InvalidArgumentError("bad value " + std::string(3u << 20, 'x'));
    }
    result.set_json_patch(R"([{"op":"add","path":"/spec/x","value":1}])");
    return absl::OkStatus();
  }
  absl::Status SetStatusInCluster(CallContext&, const SetStatusInClusterRequest&,
                                  SetStatusInClusterResponse& response) override {
    response.set_json_status(R"({"enabled":true})");
    return absl::OkStatus();
  }
  absl::Status Deregister(CallContext&, const DeregisterRequest&, DeregisterResponse&) override {
    return absl::FailedPreconditionError("cannot deregister in tests");
  }
};

// Only SetStatusInCluster: the other Operator RPCs must be neither advertised
// nor answered.
class StatusOnlyOperator final : public OperatorService {
 public:
  absl::Status SetStatusInCluster(CallContext&, const SetStatusInClusterRequest&,
                                  SetStatusInClusterResponse& response) override {
    response.set_json_status("{}");
    return absl::OkStatus();
  }
};

class PodLifecycle final : public LifecycleService {
  std::vector<LifecycleSubscription> Subscriptions() const override {
    return {{"", "Pod", {LifecycleOperation::kCreate, LifecycleOperation::kEvaluate}},
            {"batch", "Job", {LifecycleOperation::kCreate}}};
  }
  absl::Status LifecycleHook(CallContext&, const Request& request, Response& response) override {
    response.set_json_patch(absl::StrCat("op=", request.operation_type().type()));
    return absl::OkStatus();
  }
};

// WAL and the restore job in one class, as restore sidecars do. Blocking on
// `gate` lets tests hold calls in flight.
class WalAndRestore final : public WalService, public RestoreJobService {
 public:
  explicit WalAndRestore(Gate* gate = nullptr) : gate_(gate) {}

  absl::Status Archive(CallContext& ctx, const ArchiveRequest& request, ArchiveResult&) override {
    if (request.source_file_name() == "slow" && gate_ != nullptr && !gate_->Pass(ctx)) {
      return absl::CancelledError("archive cancelled");
    }
    if (request.source_file_name() == "stubborn" && gate_ != nullptr) {
      gate_->PassIgnoringCancellation();
    }
    if (request.source_file_name().empty()) {
      return absl::InvalidArgumentError("source_file_name is empty");
    }
    ++archived;
    return absl::OkStatus();
  }
  absl::Status Restore(CallContext&, const WalService::RestoreRequest& request,
                       RestoreResult&) override {
    return absl::NotFoundError(
        absl::StrCat("WAL file ", request.source_wal_name(), " is not in the archive"));
  }
  absl::Status Restore(CallContext&, const RestoreJobService::Request&,
                       RestoreJobService::Response& response) override {
    response.set_restore_config("restore_command = 'true'");
    response.add_envs("A=B");
    return absl::OkStatus();
  }

  std::atomic<int> archived{0};

 private:
  Gate* gate_;
};

class SlowBackup final : public BackupService {
 public:
  explicit SlowBackup(Gate* gate) : gate_(gate) {}
  absl::Status Backup(CallContext& ctx, const Request&, Result& result) override {
    if (gate_ != nullptr && !gate_->Pass(ctx)) return absl::CancelledError("backup cancelled");
    result.set_backup_id("backup-1");
    result.set_started_at(1);
    result.set_stopped_at(2);
    result.set_online(true);
    return absl::OkStatus();
  }

 private:
  Gate* gate_;
};

class ClusterHooks final : public ReconcilerHooksService {
  std::vector<ReconciledKind> HookedKinds() const override { return {ReconciledKind::kCluster}; }
  absl::Status Pre(CallContext&, const Request&, Result& result) override {
    result.set_behavior(reconciler::v1::ReconcilerHooksResult::BEHAVIOR_REQUEUE);
    result.set_requeue_after(7);
    return absl::OkStatus();
  }
};

class ConfigEnricher final : public PostgresService {
  absl::Status EnrichConfiguration(CallContext&, const Request& request, Result& result) override {
    *result.mutable_configs() = request.configs();
    (*result.mutable_configs())["shared_preload_libraries"] = "test";
    return absl::OkStatus();
  }
};

class GaugeMetrics final : public MetricsService {
  absl::Status Define(CallContext&, const DefineRequest&, DefineResult& result) override {
    auto* m = result.add_metrics();
    m->set_fq_name("test_plugin_up");
    m->set_help("1 when up");
    m->mutable_value_type()->set_type(metrics::v1::MetricType::TYPE_GAUGE);
    return absl::OkStatus();
  }
  absl::Status Collect(CallContext&, const CollectRequest&, CollectResult& result) override {
    auto* m = result.add_metrics();
    m->set_fq_name("test_plugin_up");
    m->set_value(1);
    return absl::OkStatus();
  }
};

}  // namespace cnpgi::testing_plugins

#endif  // CNPGI_TESTS_SERVER_TEST_PLUGINS_H_
