// Idle trim (src/server/idle_memory.h): what it drops, when it runs, and that
// a server it ran on keeps serving.
#include "server/idle_memory.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cnpgi/identity/v1/identity.grpc.pb.h"
#include "server_fixture.h"
#include "test_plugins.h"

namespace cnpgi {
namespace {

using internal::IdleTrimmer;
using testing_support::Deadline;
using testing_support::UnixServer;

bool Probed(const std::shared_ptr<grpc::Channel>& channel) {
  identity::v1::ProbeResponse probe;
  return identity::v1::Identity::NewStub(channel)->Probe(Deadline().get(), {}, &probe).ok() &&
         probe.ready();
}

TEST(IdleMemory, AServerKeepsServingAfterItsCodeAndHeapWereTrimmed) {
  UnixServer server;
  PluginServer plugin(testing_plugins::TestMetadata());
  plugin.add(std::make_shared<testing_plugins::FullOperator>());
  const absl::Status started = server.Start(std::move(plugin));
  ASSERT_TRUE(started.ok()) << started;
  auto channel = server.NewChannel();
  ASSERT_TRUE(Probed(channel));

  // Heap garbage for malloc_trim to give back.
  auto garbage = std::make_unique<std::vector<std::string>>(2000, std::string(1000, 'x'));
  garbage.reset();
  const internal::IdleTrimResult trimmed = internal::TrimIdleMemory();
  // At least this test's own code was resident and read-only.
  EXPECT_GT(trimmed.mappings, 0u);
  EXPECT_GT(trimmed.file_bytes, 0u);

  // The connection made before and a new one both work: the code and
  // constants come back from the file.
  EXPECT_TRUE(Probed(channel));
  EXPECT_TRUE(Probed(server.NewChannel()));
  // Twice in a row is harmless.
  internal::TrimIdleMemory();
  EXPECT_TRUE(Probed(channel));
}

IdleTrimmer::Policy TestPolicy() {
  IdleTrimmer::Policy p;
  p.first_quiet = absl::Seconds(1);
  p.later_quiet = absl::Seconds(30);
  p.busy_cpu = absl::Milliseconds(2);
  return p;
}

TEST(IdleMemory, TrimsOnceAfterStartUpThenOnlyAfterALongQuietFollowingWork) {
  IdleTrimmer trimmer(TestPolicy());
  absl::Time now = absl::UnixEpoch();
  absl::Duration cpu = absl::Milliseconds(30);  // start-up's CPU
  auto tick = [&](absl::Duration used) {
    now += absl::Milliseconds(100);
    cpu += used;
    return trimmer.Due(now, cpu);
  };
  EXPECT_FALSE(trimmer.Due(now, cpu));  // first tick: the quiet spell starts
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(tick(absl::ZeroDuration())) << i;
  EXPECT_TRUE(tick(absl::Microseconds(100)));  // 1 s quiet: trim
  cpu += absl::Milliseconds(5);                // the trim's own work
  trimmer.Trimmed(cpu);
  // Quiet goes on: no second trim.
  for (int i = 0; i < 600; ++i) ASSERT_FALSE(tick(absl::Microseconds(100))) << i;
  // Work, then quiet: a trim after 30 s, not 1 s.
  EXPECT_FALSE(tick(absl::Milliseconds(50)));
  for (int i = 0; i < 299; ++i) ASSERT_FALSE(tick(absl::ZeroDuration())) << i;
  EXPECT_TRUE(tick(absl::ZeroDuration()));
  trimmer.Trimmed(cpu);
  // Work in the middle of a quiet spell starts it again.
  EXPECT_FALSE(tick(absl::Milliseconds(3)));
  for (int i = 0; i < 200; ++i) ASSERT_FALSE(tick(absl::ZeroDuration())) << i;
  EXPECT_FALSE(tick(absl::Milliseconds(3)));
  for (int i = 0; i < 299; ++i) ASSERT_FALSE(tick(absl::ZeroDuration())) << i;
  EXPECT_TRUE(tick(absl::ZeroDuration()));
}

}  // namespace
}  // namespace cnpgi
