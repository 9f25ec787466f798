// PluginServer over a real Unix socket, with real gRPC clients doing what
// the operator and the instance manager do.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "cnpgi/backup/v1/backup.grpc.pb.h"
#include "cnpgi/identity/v1/identity.grpc.pb.h"
#include "cnpgi/identity/v1/postgres.grpc.pb.h"
#include "cnpgi/metrics/v1/metrics.grpc.pb.h"
#include "cnpgi/operator/v1/operator.grpc.pb.h"
#include "cnpgi/operator_lifecycle/v1/operator_lifecycle.grpc.pb.h"
#include "cnpgi/reconciler/v1/reconciler.grpc.pb.h"
#include "cnpgi/version.h"
#include "cnpgi/wal/v1/restore_job.grpc.pb.h"
#include "cnpgi/wal/v1/wal.grpc.pb.h"
#include "raw_calls.h"
#include "server_fixture.h"
#include "support/threads_cannot_start.h"
#include "test_plugins.h"

namespace cnpgi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using testing_support::Deadline;
using testing_support::UnixServer;
using namespace testing_plugins;

using ServiceType = identity::v1::PluginCapability::Service;

std::vector<int> IdentityCapabilities(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = identity::v1::Identity::NewStub(channel);
  identity::v1::GetPluginCapabilitiesResponse response;
  const grpc::Status status = stub->GetPluginCapabilities(Deadline().get(), {}, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::vector<int> types;
  for (const auto& c : response.capabilities()) {
    EXPECT_TRUE(c.has_service()) << "a capability entry with its oneof unset";
    types.push_back(c.service().type());
  }
  return types;
}

PluginServer EverythingServer(Gate* gate = nullptr) {
  PluginServer server(TestMetadata());
  server.Add(std::make_shared<FullOperator>())
      .Add(std::make_shared<PodLifecycle>())
      .Add(std::make_shared<WalAndRestore>(gate))
      .Add(std::make_shared<SlowBackup>(gate))
      .Add(std::make_shared<ClusterHooks>())
      .Add(std::make_shared<ConfigEnricher>())
      .Add(std::make_shared<GaugeMetrics>())
      .Declare({.instance_pods = true, .job_pods = true});
  return server;
}

TEST(PluginServerTest, HandshakeAnswersMetadataAndDerivedCapabilities) {
  UnixServer fixture;
  ASSERT_TRUE(fixture.Start(EverythingServer()).ok());
  auto channel = fixture.NewChannel();

  auto identity = identity::v1::Identity::NewStub(channel);
  identity::v1::GetPluginMetadataResponse metadata;
  ASSERT_TRUE(identity->GetPluginMetadata(Deadline().get(), {}, &metadata).ok());
  EXPECT_EQ(metadata.name(), "test-plugin.cnpgi.example");
  EXPECT_EQ(metadata.version(), "1.2.3");
  EXPECT_EQ(metadata.vendor(), "cnpgi-cpp tests");
  EXPECT_EQ(metadata.manifest().at("purpose"), "tests");
  EXPECT_EQ(metadata.manifest().at("cnpgi-cpp/sdk-version"), kSdkVersion);
  EXPECT_EQ(metadata.manifest().at("cnpgi-cpp/protocol-version"), kProtocolVersion);

  EXPECT_THAT(
      IdentityCapabilities(channel),
      ElementsAre(ServiceType::TYPE_OPERATOR_SERVICE, ServiceType::TYPE_WAL_SERVICE,
                  ServiceType::TYPE_BACKUP_SERVICE, ServiceType::TYPE_LIFECYCLE_SERVICE,
                  ServiceType::TYPE_RECONCILER_HOOKS, ServiceType::TYPE_RESTORE_JOB,
                  ServiceType::TYPE_POSTGRES, ServiceType::TYPE_INSTANCE_SIDECAR_INJECTION,
                  ServiceType::TYPE_INSTANCE_JOB_SIDECAR_INJECTION, ServiceType::TYPE_METRICS));

  // Each advertised service's capabilities, in the operator's order.
  {
    operator_::v1::OperatorCapabilitiesResult caps;
    ASSERT_TRUE(operator_::v1::Operator::NewStub(channel)
                    ->GetCapabilities(Deadline().get(), {}, &caps)
                    .ok());
    std::vector<int> rpcs;
    for (const auto& c : caps.capabilities()) rpcs.push_back(c.rpc().type());
    using Rpc = operator_::v1::OperatorCapability::RPC;
    EXPECT_THAT(rpcs, ElementsAre(Rpc::TYPE_VALIDATE_CLUSTER_CREATE,
                                  Rpc::TYPE_VALIDATE_CLUSTER_CHANGE, Rpc::TYPE_MUTATE_CLUSTER,
                                  Rpc::TYPE_SET_STATUS_IN_CLUSTER, Rpc::TYPE_DEREGISTER));
  }
  {
    operator_lifecycle::v1::OperatorLifecycleCapabilitiesResponse caps;
    ASSERT_TRUE(operator_lifecycle::v1::OperatorLifecycle::NewStub(channel)
                    ->GetCapabilities(Deadline().get(), {}, &caps)
                    .ok());
    ASSERT_EQ(caps.lifecycle_capabilities_size(), 2);
    EXPECT_EQ(caps.lifecycle_capabilities(0).group(), "");
    EXPECT_EQ(caps.lifecycle_capabilities(0).kind(), "Pod");
    ASSERT_EQ(caps.lifecycle_capabilities(0).operation_types_size(), 2);
    EXPECT_EQ(caps.lifecycle_capabilities(0).operation_types(0).type(),
              operator_lifecycle::v1::OperatorOperationType::TYPE_CREATE);
    EXPECT_EQ(caps.lifecycle_capabilities(0).operation_types(1).type(),
              operator_lifecycle::v1::OperatorOperationType::TYPE_EVALUATE);
    EXPECT_EQ(caps.lifecycle_capabilities(1).group(), "batch");
    EXPECT_EQ(caps.lifecycle_capabilities(1).kind(), "Job");
  }
  {
    wal::v1::WALCapabilitiesResult caps;
    ASSERT_TRUE(wal::v1::WAL::NewStub(channel)->GetCapabilities(Deadline().get(), {}, &caps).ok());
    std::vector<int> rpcs;
    for (const auto& c : caps.capabilities()) rpcs.push_back(c.rpc().type());
    EXPECT_THAT(rpcs, ElementsAre(wal::v1::WALCapability::RPC::TYPE_ARCHIVE_WAL,
                                  wal::v1::WALCapability::RPC::TYPE_RESTORE_WAL));
  }
  {
    backup::v1::BackupCapabilitiesResult caps;
    ASSERT_TRUE(
        backup::v1::Backup::NewStub(channel)->GetCapabilities(Deadline().get(), {}, &caps).ok());
    ASSERT_EQ(caps.capabilities_size(), 1);
    EXPECT_EQ(caps.capabilities(0).rpc().type(), backup::v1::BackupCapability::RPC::TYPE_BACKUP);
  }
  {
    reconciler::v1::ReconcilerHooksCapabilitiesResult caps;
    ASSERT_TRUE(reconciler::v1::ReconcilerHooks::NewStub(channel)
                    ->GetCapabilities(Deadline().get(), {}, &caps)
                    .ok());
    ASSERT_EQ(caps.reconciler_capabilities_size(), 1);
    EXPECT_EQ(caps.reconciler_capabilities(0).kind(),
              reconciler::v1::ReconcilerHooksCapability::KIND_CLUSTER);
  }
  {
    wal::v1::RestoreJobHooksCapabilitiesResult caps;
    ASSERT_TRUE(wal::v1::RestoreJobHooks::NewStub(channel)
                    ->GetCapabilities(Deadline().get(), {}, &caps)
                    .ok());
    ASSERT_EQ(caps.capabilities_size(), 1);
    EXPECT_EQ(caps.capabilities(0).kind(), wal::v1::RestoreJobHooksCapability::KIND_RESTORE);
  }
  {
    identity::v1::PostgresCapabilitiesResult caps;
    ASSERT_TRUE(identity::v1::Postgres::NewStub(channel)
                    ->GetCapabilities(Deadline().get(), {}, &caps)
                    .ok());
    ASSERT_EQ(caps.capabilities_size(), 1);
    EXPECT_EQ(caps.capabilities(0).rpc().type(),
              identity::v1::PostgresCapability::RPC::TYPE_ENRICH_CONFIGURATION);
  }
  {
    metrics::v1::MetricsCapabilitiesResult caps;
    ASSERT_TRUE(
        metrics::v1::Metrics::NewStub(channel)->GetCapabilities(Deadline().get(), {}, &caps).ok());
    ASSERT_EQ(caps.capabilities_size(), 1);
    EXPECT_EQ(caps.capabilities(0).rpc().type(), metrics::v1::MetricsCapability::RPC::TYPE_METRICS);
  }

  identity::v1::ProbeResponse probe;
  ASSERT_TRUE(identity->Probe(Deadline().get(), {}, &probe).ok());
  EXPECT_TRUE(probe.ready());
}

TEST(PluginServerTest, OnlyAddedServicesAndOverriddenRpcsAreAdvertised) {
  UnixServer fixture;
  ASSERT_TRUE(
      fixture.Start(PluginServer(TestMetadata()).Add(std::make_shared<StatusOnlyOperator>())).ok());
  auto channel = fixture.NewChannel();
  EXPECT_THAT(IdentityCapabilities(channel), ElementsAre(ServiceType::TYPE_OPERATOR_SERVICE));

  auto op = operator_::v1::Operator::NewStub(channel);
  operator_::v1::OperatorCapabilitiesResult caps;
  ASSERT_TRUE(op->GetCapabilities(Deadline().get(), {}, &caps).ok());
  ASSERT_EQ(caps.capabilities_size(), 1);
  EXPECT_EQ(caps.capabilities(0).rpc().type(),
            operator_::v1::OperatorCapability::RPC::TYPE_SET_STATUS_IN_CLUSTER);

  // Not overridden: answered, with the name of what is missing.
  operator_::v1::OperatorMutateClusterResult mutated;
  const grpc::Status status = op->MutateCluster(Deadline().get(), {}, &mutated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(status.error_message(), HasSubstr("MutateCluster"));

  // Not added: not served at all.
  wal::v1::WALCapabilitiesResult wal_caps;
  EXPECT_EQ(
      wal::v1::WAL::NewStub(channel)->GetCapabilities(Deadline().get(), {}, &wal_caps).error_code(),
      grpc::StatusCode::UNIMPLEMENTED);
}

TEST(PluginServerTest, EveryServiceCallReachesThePluginClass) {
  UnixServer fixture;
  ASSERT_TRUE(fixture.Start(EverythingServer()).ok());
  auto channel = fixture.NewChannel();

  auto op = operator_::v1::Operator::NewStub(channel);
  {
    operator_::v1::OperatorValidateClusterCreateResult result;
    ASSERT_TRUE(op->ValidateClusterCreate(Deadline().get(), {}, &result).ok());
    ASSERT_EQ(result.validation_errors_size(), 1);
    EXPECT_EQ(result.validation_errors(0).message(), "empty cluster");
  }
  {
    operator_::v1::OperatorValidateClusterChangeRequest request;
    request.set_old_cluster("{}");
    request.set_new_cluster(R"({"a":1})");
    operator_::v1::OperatorValidateClusterChangeResult result;
    ASSERT_TRUE(op->ValidateClusterChange(Deadline().get(), request, &result).ok());
    EXPECT_EQ(result.validation_errors_size(), 1);
  }
  {
    operator_::v1::OperatorMutateClusterRequest request;
    request.set_definition("{}");
    operator_::v1::OperatorMutateClusterResult result;
    ASSERT_TRUE(op->MutateCluster(Deadline().get(), request, &result).ok());
    EXPECT_THAT(result.json_patch(), HasSubstr("/spec/x"));
  }
  {
    operator_::v1::SetStatusInClusterResponse result;
    ASSERT_TRUE(op->SetStatusInCluster(Deadline().get(), {}, &result).ok());
    EXPECT_EQ(result.json_status(), R"({"enabled":true})");
  }
  {
    operator_::v1::DeregisterResponse result;
    const grpc::Status status = op->Deregister(Deadline().get(), {}, &result);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(status.error_message(), "cannot deregister in tests");
  }
  {
    operator_lifecycle::v1::OperatorLifecycleRequest request;
    request.mutable_operation_type()->set_type(
        operator_lifecycle::v1::OperatorOperationType::TYPE_EVALUATE);
    operator_lifecycle::v1::OperatorLifecycleResponse result;
    ASSERT_TRUE(operator_lifecycle::v1::OperatorLifecycle::NewStub(channel)
                    ->LifecycleHook(Deadline().get(), request, &result)
                    .ok());
    EXPECT_EQ(result.json_patch(), "op=6");
  }
  auto wal = wal::v1::WAL::NewStub(channel);
  {
    wal::v1::WALArchiveRequest request;
    request.set_source_file_name("/pg_wal/000000010000000000000001");
    wal::v1::WALArchiveResult result;
    EXPECT_TRUE(wal->Archive(Deadline().get(), request, &result).ok());
    request.clear_source_file_name();
    const grpc::Status status = wal->Archive(Deadline().get(), request, &result);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(), "source_file_name is empty");
  }
  {
    wal::v1::WALRestoreRequest request;
    request.set_source_wal_name("000000010000000000000009");
    wal::v1::WALRestoreResult result;
    const grpc::Status status = wal->Restore(Deadline().get(), request, &result);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(status.error_message(), HasSubstr("000000010000000000000009"));
    wal::v1::WALStatusResult status_result;
    EXPECT_EQ(wal->Status(Deadline().get(), {}, &status_result).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }
  {
    backup::v1::BackupResult result;
    ASSERT_TRUE(backup::v1::Backup::NewStub(channel)->Backup(Deadline().get(), {}, &result).ok());
    EXPECT_EQ(result.backup_id(), "backup-1");
    EXPECT_TRUE(result.online());
  }
  {
    wal::v1::RestoreResponse result;
    ASSERT_TRUE(
        wal::v1::RestoreJobHooks::NewStub(channel)->Restore(Deadline().get(), {}, &result).ok());
    EXPECT_EQ(result.restore_config(), "restore_command = 'true'");
    EXPECT_THAT(result.envs(), ElementsAre("A=B"));
  }
  {
    auto hooks = reconciler::v1::ReconcilerHooks::NewStub(channel);
    reconciler::v1::ReconcilerHooksResult result;
    ASSERT_TRUE(hooks->Pre(Deadline().get(), {}, &result).ok());
    EXPECT_EQ(result.behavior(), reconciler::v1::ReconcilerHooksResult::BEHAVIOR_REQUEUE);
    EXPECT_EQ(result.requeue_after(), 7);
    EXPECT_EQ(hooks->Post(Deadline().get(), {}, &result).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }
  {
    identity::v1::EnrichConfigurationRequest request;
    (*request.mutable_configs())["max_connections"] = "100";
    identity::v1::EnrichConfigurationResult result;
    ASSERT_TRUE(identity::v1::Postgres::NewStub(channel)
                    ->EnrichConfiguration(Deadline().get(), request, &result)
                    .ok());
    EXPECT_EQ(result.configs().at("max_connections"), "100");
    EXPECT_EQ(result.configs().at("shared_preload_libraries"), "test");
  }
  {
    auto metrics = metrics::v1::Metrics::NewStub(channel);
    metrics::v1::DefineMetricsResult defined;
    ASSERT_TRUE(metrics->Define(Deadline().get(), {}, &defined).ok());
    ASSERT_EQ(defined.metrics_size(), 1);
    EXPECT_EQ(defined.metrics(0).value_type().type(), metrics::v1::MetricType::TYPE_GAUGE);
    metrics::v1::CollectMetricsResult collected;
    ASSERT_TRUE(metrics->Collect(Deadline().get(), {}, &collected).ok());
    EXPECT_EQ(collected.metrics(0).fq_name(), defined.metrics(0).fq_name());
  }
}

TEST(PluginServerTest, HandlerExceptionIsInternalAndServerKeepsServing) {
  UnixServer fixture;
  ASSERT_TRUE(fixture.Start(EverythingServer()).ok());
  auto channel = fixture.NewChannel();
  auto op = operator_::v1::Operator::NewStub(channel);
  operator_::v1::OperatorMutateClusterRequest request;
  request.set_definition("throw");
  operator_::v1::OperatorMutateClusterResult result;
  for (int i = 0; i < 3; ++i) {
    const grpc::Status status = op->MutateCluster(Deadline().get(), request, &result);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
    EXPECT_THAT(status.error_message(), HasSubstr("mutate exploded"));
    EXPECT_THAT(status.error_message(), HasSubstr("/cnpgi.operator.v1.Operator/MutateCluster"));
  }
  request.set_definition("{}");
  EXPECT_TRUE(op->MutateCluster(Deadline().get(), request, &result).ok());
  identity::v1::ProbeResponse probe;
  EXPECT_TRUE(identity::v1::Identity::NewStub(channel)->Probe(Deadline().get(), {}, &probe).ok());
}

TEST(PluginServerTest, OversizedAnswerIsRefusedWithAClearMessage) {
  UnixServer fixture;
  ASSERT_TRUE(fixture.Start(EverythingServer()).ok());
  operator_::v1::OperatorMutateClusterRequest request;
  request.set_definition("huge");
  operator_::v1::OperatorMutateClusterResult result;
  const grpc::Status status = operator_::v1::Operator::NewStub(fixture.NewChannel())
                                  ->MutateCluster(Deadline().get(), request, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("4 MiB"));
}

// An error message that echoes a large value whole must still reach the
// caller with its code: the message is cut, saying how long it was.
TEST(PluginServerTest, AHugeErrorMessageIsCutAndDelivered) {
  UnixServer fixture;
  ASSERT_TRUE(fixture.Start(EverythingServer()).ok());
  operator_::v1::OperatorMutateClusterRequest request;
  request.set_definition("huge-error");
  operator_::v1::OperatorMutateClusterResult result;
  const grpc::Status status = operator_::v1::Operator::NewStub(fixture.NewChannel())
                                  ->MutateCluster(Deadline().get(), request, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("bad value xxx"));
  EXPECT_THAT(status.error_message(), ::testing::EndsWith("...(3145738 bytes)"));
  EXPECT_LE(status.error_message().size(), (2u << 10) + 32);
}

TEST(PluginServerTest, MalformedRequestIsInvalidArgumentNamingTheMessage) {
  UnixServer fixture;
  ASSERT_TRUE(fixture.Start(EverythingServer()).ok());
  // A truncated length-delimited field: not a valid protobuf message.
  const std::string garbage("\x0a\x7f\x01", 3);
  const grpc::Status status = testing_support::RawUnaryCall(
      fixture.NewChannel(), "/cnpgi.operator.v1.Operator/MutateCluster", garbage, nullptr);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("cnpgi.operator.v1.OperatorMutateClusterRequest"));
}

TEST(PluginServerTest, HealthServiceAndReflectionAnswer) {
  UnixServer fixture;
  ASSERT_TRUE(fixture.Start(EverythingServer()).ok());
  auto channel = fixture.NewChannel();
  EXPECT_EQ(testing_support::HealthCheck(channel, ""), 1);
  EXPECT_EQ(testing_support::HealthCheck(channel, "cnpgi.wal.v1.WAL"), 1);
  std::string error;
  const auto services = testing_support::ReflectedServices(channel, &error);
  EXPECT_TRUE(error.empty()) << error;
  for (const char* name :
       {"cnpgi.identity.v1.Identity", "cnpgi.operator.v1.Operator", "cnpgi.wal.v1.WAL",
        "cnpgi.wal.v1.RestoreJobHooks", "cnpgi.identity.v1.Postgres", "grpc.health.v1.Health"}) {
    EXPECT_NE(std::find(services.begin(), services.end(), name), services.end())
        << name << " is not listed by reflection";
  }
}

// A short Probe and a short WAL.Archive, each with a deadline: true if both
// answered OK.
bool ProbeAndArchive(const std::shared_ptr<grpc::Channel>& channel) {
  identity::v1::ProbeResponse probe;
  wal::v1::WALArchiveRequest request;
  request.set_source_file_name("/pg_wal/000000010000000000000002");
  wal::v1::WALArchiveResult result;
  return identity::v1::Identity::NewStub(channel)->Probe(Deadline().get(), {}, &probe).ok() &&
         wal::v1::WAL::NewStub(channel)->Archive(Deadline().get(), request, &result).ok();
}

// WAL.Archive without a deadline (as the instance manager calls it), on a
// thread of its own; "slow" and "stubborn" block in the handler on the gate.
std::future<grpc::Status> ArchiveInBackground(std::shared_ptr<grpc::Channel> channel,
                                              std::string source_file_name) {
  return std::async(std::launch::async,
                    [channel = std::move(channel), name = std::move(source_file_name)] {
                      grpc::ClientContext context;
                      wal::v1::WALArchiveRequest request;
                      request.set_source_file_name(name);
                      wal::v1::WALArchiveResult result;
                      return wal::v1::WAL::NewStub(channel)->Archive(&context, request, &result);
                    });
}

// Hour-long Backup calls (here: held open by a gate) and WAL archiving must
// not delay Probe and WAL calls arriving meanwhile, on several connections.
TEST(PluginServerTest, LongCallsDoNotStarveShortOnes) {
  Gate gate;
  UnixServer fixture;
  ASSERT_TRUE(fixture.Start(EverythingServer(&gate)).ok());

  constexpr int kLongCalls = 12;  // more than cores and gRPC's own threads
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < 5; ++i) channels.push_back(fixture.NewChannel());

  std::vector<std::future<grpc::Status>> long_calls;
  for (int i = 0; i < kLongCalls; ++i) {
    long_calls.push_back(std::async(std::launch::async, [&, i] {
      auto channel = channels[i % channels.size()];
      grpc::ClientContext context;  // no deadline, like the instance manager
      if (i % 2 == 0) {
        backup::v1::BackupResult result;
        return backup::v1::Backup::NewStub(channel)->Backup(&context, {}, &result);
      }
      wal::v1::WALArchiveRequest request;
      request.set_source_file_name("slow");
      wal::v1::WALArchiveResult result;
      return wal::v1::WAL::NewStub(channel)->Archive(&context, request, &result);
    }));
  }
  // Wait until every long call is inside its handler.
  ASSERT_TRUE(gate.AwaitWaiting(kLongCalls));

  // Short calls on every connection, concurrently, each with a deadline.
  std::vector<std::future<bool>> short_calls;
  for (int i = 0; i < 40; ++i) {
    short_calls.push_back(std::async(
        std::launch::async, [&, i] { return ProbeAndArchive(channels[i % channels.size()]); }));
  }
  for (auto& f : short_calls) EXPECT_TRUE(f.get()) << "a short call failed behind long ones";
  EXPECT_EQ(gate.waiting(), kLongCalls) << "long calls must still be running";

  gate.Open();
  for (auto& f : long_calls) EXPECT_TRUE(f.get().ok());
}

// A lone call runs on the gRPC thread that received it (no hand-off to the
// pool). Blocked there, it must not hold up anything else: gRPC keeps
// another thread, and calls arriving meanwhile go to the pool.
TEST(PluginServerTest, ALoneLongCallOnAGrpcThreadDoesNotBlockOthers) {
  Gate gate;
  UnixServer fixture;
  ASSERT_TRUE(fixture.Start(EverythingServer(&gate)).ok());
  auto channel = fixture.NewChannel();

  auto long_call = ArchiveInBackground(channel, "slow");
  ASSERT_TRUE(gate.AwaitWaiting(1));

  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(ProbeAndArchive(channel)) << "call " << i << " waited behind the long one";
  }
  EXPECT_EQ(gate.waiting(), 1);
  gate.Open();
  EXPECT_TRUE(long_call.get().ok());
}

// gRPC's dispatching threads serve every server of the process (the test
// kit may run several): long calls blocking one server each must leave the
// other calls of both answering.
TEST(PluginServerTest, LongCallsInTwoServersOfOneProcessBlockNothing) {
  Gate gate;
  UnixServer first;
  UnixServer second;
  ASSERT_TRUE(first.Start(EverythingServer(&gate)).ok());
  ASSERT_TRUE(second.Start(EverythingServer(&gate)).ok());
  std::vector<std::shared_ptr<grpc::Channel>> channels = {first.NewChannel(), second.NewChannel()};

  std::vector<std::future<grpc::Status>> long_calls;
  for (const auto& channel : channels) {
    long_calls.push_back(ArchiveInBackground(channel, "slow"));
    ASSERT_TRUE(gate.AwaitWaiting(static_cast<int>(long_calls.size())));
  }
  for (int i = 0; i < 10; ++i) {
    for (const auto& channel : channels) {
      ASSERT_TRUE(ProbeAndArchive(channel)) << "call " << i << " waited behind the long ones";
    }
  }
  gate.Open();
  for (auto& call : long_calls) EXPECT_TRUE(call.get().ok());
}

// When the system refuses a new thread, the call that needed one fails alone
// (RESOURCE_EXHAUSTED, saying why) instead of taking the process down, and
// the server still answers and stops.
TEST(PluginServerTest, ACallThatCannotGetAThreadFailsAlone) {
  Gate gate;
  UnixServer fixture;
  ASSERT_TRUE(fixture.Start(EverythingServer(&gate)).ok());
  auto channel = fixture.NewChannel();
  auto backup = backup::v1::Backup::NewStub(channel);
  // Backups always run on the pool: this one holds its only thread.
  auto first = std::async(std::launch::async, [&] {
    backup::v1::BackupResult result;
    return backup->Backup(Deadline(std::chrono::seconds(30)).get(), {}, &result);
  });
  ASSERT_TRUE(gate.AwaitWaiting(1));
  grpc::Status second;
  {
    testing_support::ThreadsCannotStart refused;
    backup::v1::BackupResult result;
    second = backup->Backup(Deadline().get(), {}, &result);
  }
  EXPECT_EQ(second.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << second.error_message();
  EXPECT_THAT(second.error_message(), HasSubstr("cannot start a thread"));
  gate.Open();
  EXPECT_TRUE(first.get().ok());
  identity::v1::ProbeResponse probe;
  EXPECT_TRUE(identity::v1::Identity::NewStub(channel)->Probe(Deadline().get(), {}, &probe).ok());
  auto stopped =
      std::async(std::launch::async, [&] { fixture.server().Shutdown(absl::Seconds(5)); });
  EXPECT_EQ(stopped.wait_for(std::chrono::seconds(30)), std::future_status::ready);
}

TEST(PluginServerTest, ShutdownLetsInFlightCallsFinishThenRemovesTheSocket) {
  Gate gate;
  UnixServer fixture;
  ASSERT_TRUE(fixture.Start(EverythingServer(&gate)).ok());
  auto channel = fixture.NewChannel();
  auto backup = std::async(std::launch::async, [&] {
    grpc::ClientContext context;
    backup::v1::BackupResult result;
    grpc::Status status = backup::v1::Backup::NewStub(channel)->Backup(&context, {}, &result);
    return status.ok() ? result.backup_id() : "error: " + status.error_message();
  });
  ASSERT_TRUE(gate.AwaitWaiting(1));
  std::atomic<bool> shutdown_returned{false};
  auto stopped = std::async(std::launch::async, [&] {
    fixture.server().Shutdown(absl::Seconds(20));
    shutdown_returned = true;
  });
  // Shutdown has begun once new calls are refused (UNAVAILABLE), on the
  // connection the backup keeps open.
  grpc::Status refused;
  for (int i = 0; i < 1000 && refused.error_code() != grpc::StatusCode::UNAVAILABLE; ++i) {
    identity::v1::ProbeResponse probe;
    refused = identity::v1::Identity::NewStub(channel)->Probe(Deadline().get(), {}, &probe);
    if (refused.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("shutting down"));
  // It waits for the backup instead of cutting it short, and the backup's
  // answer reaches the client.
  EXPECT_EQ(gate.waiting(), 1);
  EXPECT_FALSE(shutdown_returned);
  gate.Open();
  EXPECT_EQ(backup.get(), "backup-1");
  stopped.get();
  struct stat info {};
  EXPECT_NE(lstat(fixture.socket_path().c_str(), &info), 0) << "socket file left behind";
}

TEST(PluginServerTest, ShutdownCancelsCallsThatOutliveTheGracePeriod) {
  Gate gate;  // never opened
  UnixServer fixture;
  ASSERT_TRUE(fixture.Start(EverythingServer(&gate)).ok());
  auto channel = fixture.NewChannel();
  auto backup = std::async(std::launch::async, [&] {
    grpc::ClientContext context;
    backup::v1::BackupResult result;
    return backup::v1::Backup::NewStub(channel)->Backup(&context, {}, &result);
  });
  ASSERT_TRUE(gate.AwaitWaiting(1));
  fixture.server().Shutdown(absl::Milliseconds(200));
  EXPECT_FALSE(backup.get().ok());
  EXPECT_EQ(gate.waiting(), 0) << "the handler saw the cancellation and returned";
}

// A handler that never looks at its cancellation (stuck in I/O, say) must
// not keep the server from stopping, wherever it runs: after the grace
// period and a hard-stop margin, Shutdown returns and leaves it behind.
TEST(PluginServerTest, ShutdownReturnsEvenIfAHandlerIgnoresCancellation) {
  Gate gate;
  UnixServer fixture;
  ASSERT_TRUE(fixture.Start(EverythingServer(&gate)).ok());
  auto channel = fixture.NewChannel();
  auto stubborn = ArchiveInBackground(channel, "stubborn");
  ASSERT_TRUE(gate.AwaitWaiting(1));
  auto stopped =
      std::async(std::launch::async, [&] { fixture.server().Shutdown(absl::Milliseconds(100)); });
  EXPECT_EQ(stopped.wait_for(std::chrono::seconds(20)), std::future_status::ready)
      << "Shutdown waited for a handler that ignores its cancellation";
  gate.Open();
  stopped.get();
  stubborn.get();
}

TEST(PluginServerTest, StaleSocketIsReplaced) {
  UnixServer fixture;
  const auto stale = fixture.dir() / "test-plugin.cnpgi.example";
  {
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", stale.c_str());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    close(fd);  // bound, never listened: what a crashed plugin leaves
  }
  ASSERT_TRUE(fixture.Start(EverythingServer()).ok());
  identity::v1::ProbeResponse probe;
  EXPECT_TRUE(identity::v1::Identity::NewStub(fixture.NewChannel())
                  ->Probe(Deadline().get(), {}, &probe)
                  .ok());
}

TEST(PluginServerTest, ManyConnectionsWithCallsInFlight) {
  UnixServer fixture;
  auto wal_plugin = std::make_shared<WalAndRestore>();
  ASSERT_TRUE(fixture.Start(PluginServer(TestMetadata()).Add(wal_plugin)).ok());
  std::vector<std::future<int>> clients;
  for (int c = 0; c < 5; ++c) {
    clients.push_back(std::async(std::launch::async, [&] {
      auto stub = wal::v1::WAL::NewStub(fixture.NewChannel());
      int ok = 0;
      for (int i = 0; i < 50; ++i) {
        wal::v1::WALArchiveRequest request;
        request.set_source_file_name("/pg_wal/x");
        wal::v1::WALArchiveResult result;
        ok += stub->Archive(Deadline().get(), request, &result).ok();
      }
      return ok;
    }));
  }
  int total = 0;
  for (auto& c : clients) total += c.get();
  EXPECT_EQ(total, 250);
  EXPECT_EQ(wal_plugin->archived.load(), 250);
}

}  // namespace
}  // namespace cnpgi
