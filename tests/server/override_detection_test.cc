// Which RPCs a plugin class overrides, as PluginServer sees it at compile
// time. Capabilities are derived from this, so a mistake here means the
// operator is told about RPCs that do not exist, or not told about real ones.
#include <gtest/gtest.h>

#include "cnpgi/internal/service_traits.h"
#include "test_plugins.h"

namespace cnpgi {
namespace {

using internal::OverriddenRpcs;

class NothingOverridden final : public WalService {};

class PublicArchive : public WalService {
 public:
  absl::Status Archive(CallContext&, const ArchiveRequest&, ArchiveResult&) override {
    return absl::OkStatus();
  }
};

// Inherits the override from its parent.
class DerivedFromPublicArchive final : public PublicArchive {};

class PrivateRestore final : public WalService {
  absl::Status Restore(CallContext&, const RestoreRequest&, RestoreResult&) override {
    return absl::OkStatus();
  }
};

// Overrides only the WAL Restore next to RestoreJobService: the restore job's
// Restore is hidden by name, not overridden.
class WalRestoreOnly final : public WalService, public RestoreJobService {
 public:
  absl::Status Restore(CallContext&, const WalService::RestoreRequest&, RestoreResult&) override {
    return absl::OkStatus();
  }
};

class RestoreJobOnly final : public WalService, public RestoreJobService {
 public:
  absl::Status Archive(CallContext&, const ArchiveRequest&, ArchiveResult&) override {
    return absl::OkStatus();
  }
  absl::Status Restore(CallContext&, const RestoreJobService::Request&,
                       RestoreJobService::Response&) override {
    return absl::OkStatus();
  }
};

class ProbingIdentity final : public IdentityService {
  PluginMetadata Metadata() const override { return testing_plugins::TestMetadata(); }
  absl::Status Probe(CallContext&) override { return absl::OkStatus(); }
};

class PlainIdentity final : public IdentityService {
 public:
  PluginMetadata Metadata() const override { return testing_plugins::TestMetadata(); }
};

class HighLevelOperator final : public OperatorService {
  absl::Status OnMutateCluster(CallContext&, Cluster&) override { return absl::OkStatus(); }
  absl::StatusOr<std::optional<nlohmann::json>> OnSetStatusInCluster(CallContext&,
                                                                     const Cluster&) override {
    return std::nullopt;
  }
};

class RegistryMetrics final : public MetricsService {
  const MetricRegistry* DeclaredMetrics() const override { return nullptr; }
  absl::Status OnCollect(CallContext&, const Cluster&, CollectResult&) override {
    return absl::OkStatus();
  }
};

class OnLifecycleOnly final : public LifecycleService {
  std::vector<LifecycleSubscription> Subscriptions() const override { return {}; }
  absl::Status OnLifecycle(CallContext&, const Cluster&, Object&, LifecycleOperation) override {
    return absl::OkStatus();
  }
};

constexpr std::uint32_t Bit(int i) { return 1u << i; }

TEST(OverrideDetection, ClassOverridingNothingHasNoRpcs) {
  EXPECT_EQ((OverriddenRpcs<WalService, NothingOverridden>()), 0u);
}

TEST(OverrideDetection, PublicOverrideIsSeen) {
  EXPECT_EQ((OverriddenRpcs<WalService, PublicArchive>()), Bit(internal::kArchive));
}

TEST(OverrideDetection, OverrideInheritedFromParentIsSeen) {
  EXPECT_EQ((OverriddenRpcs<WalService, DerivedFromPublicArchive>()), Bit(internal::kArchive));
}

TEST(OverrideDetection, PrivateOverrideIsSeen) {
  EXPECT_EQ((OverriddenRpcs<WalService, PrivateRestore>()), Bit(internal::kRestoreWal));
}

TEST(OverrideDetection, EveryOperatorRpcIsSeen) {
  EXPECT_EQ((OverriddenRpcs<OperatorService, testing_plugins::FullOperator>()), 0b11111u);
  EXPECT_EQ((OverriddenRpcs<OperatorService, testing_plugins::StatusOnlyOperator>()),
            Bit(internal::kSetStatusInCluster));
}

TEST(OverrideDetection, SameNameInTwoServicesIsToldApartBySignature) {
  EXPECT_EQ((OverriddenRpcs<WalService, WalRestoreOnly>()), Bit(internal::kRestoreWal));
  EXPECT_EQ((OverriddenRpcs<RestoreJobService, WalRestoreOnly>()), 0u);
  EXPECT_EQ((OverriddenRpcs<WalService, RestoreJobOnly>()), Bit(internal::kArchive));
  EXPECT_EQ((OverriddenRpcs<RestoreJobService, RestoreJobOnly>()), Bit(0));
}

TEST(OverrideDetection, BothRestoreOverloadsAreSeen) {
  using testing_plugins::WalAndRestore;
  EXPECT_EQ((OverriddenRpcs<WalService, WalAndRestore>()),
            Bit(internal::kArchive) | Bit(internal::kRestoreWal));
  EXPECT_EQ((OverriddenRpcs<RestoreJobService, WalAndRestore>()), Bit(0));
}

TEST(OverrideDetection, ProbeOverride) {
  EXPECT_EQ((OverriddenRpcs<IdentityService, ProbingIdentity>()), Bit(0));
  EXPECT_EQ((OverriddenRpcs<IdentityService, PlainIdentity>()), 0u);
}

TEST(OverrideDetection, OtherServices) {
  using namespace testing_plugins;
  EXPECT_EQ((OverriddenRpcs<LifecycleService, PodLifecycle>()), Bit(0));
  EXPECT_EQ((OverriddenRpcs<BackupService, SlowBackup>()), Bit(0));
  EXPECT_EQ((OverriddenRpcs<ReconcilerHooksService, ClusterHooks>()), Bit(internal::kPre));
  EXPECT_EQ((OverriddenRpcs<PostgresService, ConfigEnricher>()), Bit(0));
  EXPECT_EQ((OverriddenRpcs<MetricsService, GaugeMetrics>()),
            Bit(internal::kDefine) | Bit(internal::kCollect));
}

TEST(OverrideDetection, HigherLevelFormsServeTheirRpc) {
  EXPECT_EQ((OverriddenRpcs<OperatorService, HighLevelOperator>()),
            Bit(internal::kMutateCluster) | Bit(internal::kSetStatusInCluster));
  EXPECT_EQ((OverriddenRpcs<MetricsService, RegistryMetrics>()),
            Bit(internal::kDefine) | Bit(internal::kCollect));
  EXPECT_EQ((OverriddenRpcs<LifecycleService, OnLifecycleOnly>()), Bit(0));
}

}  // namespace
}  // namespace cnpgi
