// What PluginServer refuses to start with, and how it says so: anything the
// operator would choke on is caught before a single call is served.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "server_fixture.h"
#include "test_plugins.h"

namespace cnpgi {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing_support::TempDir;
using testing_support::UnixServer;
using namespace testing_plugins;

class OverridesNothing final : public WalService {};

class DefineOnly final : public MetricsService {
  absl::Status Define(CallContext&, const DefineRequest&, DefineResult&) override {
    return absl::OkStatus();
  }
};

class NoSubscriptions final : public LifecycleService {
  std::vector<LifecycleSubscription> Subscriptions() const override { return {}; }
  absl::Status LifecycleHook(CallContext&, const Request&, Response&) override {
    return absl::OkStatus();
  }
};

class BadSubscriptions final : public LifecycleService {
  std::vector<LifecycleSubscription> Subscriptions() const override {
    return {{"", "", {LifecycleOperation::kCreate}}, {"", "Pod", {}}};
  }
  absl::Status LifecycleHook(CallContext&, const Request&, Response&) override {
    return absl::OkStatus();
  }
};

class ThrowingSubscriptions final : public LifecycleService {
  std::vector<LifecycleSubscription> Subscriptions() const override {
    throw std::runtime_error("no config");
  }
  absl::Status LifecycleHook(CallContext&, const Request&, Response&) override {
    return absl::OkStatus();
  }
};

class NoKinds final : public ReconcilerHooksService {
  std::vector<ReconciledKind> HookedKinds() const override { return {}; }
  absl::Status Post(CallContext&, const Request&, Result&) override { return absl::OkStatus(); }
};

class ThrowingIdentity final : public IdentityService {
  PluginMetadata Metadata() const override { throw std::runtime_error("metadata unavailable"); }
};

std::string StartError(PluginServer server) {
  UnixServer fixture;
  const absl::Status status = fixture.Start(std::move(server));
  return status.ok() ? "started" : std::string(status.message());
}

PluginServer WithStatus(PluginMetadata metadata = TestMetadata()) {
  PluginServer server(std::move(metadata));
  server.Add(std::make_shared<StatusOnlyOperator>());
  return server;
}

TEST(StartupChecks, NoServiceAtAll) {
  EXPECT_THAT(StartError(PluginServer(TestMetadata())), HasSubstr("no service was added"));
}

TEST(StartupChecks, ServiceThatOverridesNothing) {
  EXPECT_THAT(StartError(PluginServer(TestMetadata()).Add(std::make_shared<OverridesNothing>())),
              AllOf(HasSubstr("WalService was added but overrides none of its RPCs"),
                    HasSubstr("Archive, Restore, Status, SetFirstRequired")));
}

TEST(StartupChecks, MetricsNeedBothDefineAndCollect) {
  EXPECT_THAT(StartError(PluginServer(TestMetadata()).Add(std::make_shared<DefineOnly>())),
              HasSubstr("MetricsService overrides Define but not Collect"));
}

TEST(StartupChecks, LifecycleSubscriptionsMustBeDeclared) {
  EXPECT_THAT(StartError(PluginServer(TestMetadata()).Add(std::make_shared<NoSubscriptions>())),
              HasSubstr("Subscriptions() is empty"));
  const std::string bad =
      StartError(PluginServer(TestMetadata()).Add(std::make_shared<BadSubscriptions>()));
  EXPECT_THAT(bad, HasSubstr("Subscriptions()[0] has no kind"));
  EXPECT_THAT(bad, HasSubstr("Subscriptions()[1] (Pod) lists no operations"));
  EXPECT_THAT(
      StartError(PluginServer(TestMetadata()).Add(std::make_shared<ThrowingSubscriptions>())),
      HasSubstr("Subscriptions() threw: no config"));
}

TEST(StartupChecks, ReconcilerKindsMustBeDeclared) {
  EXPECT_THAT(StartError(PluginServer(TestMetadata()).Add(std::make_shared<NoKinds>())),
              HasSubstr("HookedKinds() is empty"));
}

TEST(StartupChecks, ServiceAddedTwice) {
  EXPECT_THAT(StartError(PluginServer(TestMetadata())
                             .Add(std::make_shared<StatusOnlyOperator>())
                             .Add(std::make_shared<FullOperator>())),
              HasSubstr("OperatorService was added 2 times"));
}

TEST(StartupChecks, NullService) {
  EXPECT_THAT(StartError(PluginServer(TestMetadata()).Add(std::shared_ptr<FullOperator>())),
              HasSubstr("a null OperatorService was added"));
}

TEST(StartupChecks, EveryProblemIsListedAtOnce) {
  const std::string error = StartError(PluginServer(TestMetadata())
                                           .Add(std::make_shared<OverridesNothing>())
                                           .Add(std::make_shared<DefineOnly>()));
  EXPECT_THAT(error, AllOf(HasSubstr("WalService"), HasSubstr("MetricsService")));
}

TEST(StartupChecks, PluginNameRules) {
  // ValidatePluginMetadata, which a plugin's own tests can call, decides as
  // the start does and says the same.
  auto named = [](std::string name) {
    auto m = TestMetadata();
    m.name = std::move(name);
    const std::string started = StartError(WithStatus(m));
    const absl::Status checked = ValidatePluginMetadata(m);
    EXPECT_EQ(checked.ok(), started == "started") << m.name;
    EXPECT_THAT(started, HasSubstr(checked.message())) << m.name;
    return started;
  };
  EXPECT_THAT(named(""), HasSubstr("the name is empty"));
  EXPECT_THAT(named(std::string(64, 'a')), HasSubstr("64 characters long; at most 63"));
  EXPECT_EQ(named(std::string(63, 'a')), "started");
  EXPECT_THAT(named("Hello.example"), HasSubstr("character 'H' at position 0"));
  EXPECT_THAT(named("hello_world"), HasSubstr("character '_'"));
  EXPECT_THAT(named("-hello"), HasSubstr("must start and end with"));
  EXPECT_THAT(named("hello."), HasSubstr("must start and end with"));
  EXPECT_EQ(named("cnpg-i-hello-world.cloudnative-pg.io"), "started");
}

TEST(StartupChecks, VersionIsRequired) {
  auto m = TestMetadata();
  m.version.clear();
  EXPECT_THAT(StartError(WithStatus(m)), HasSubstr("the version of"));
}

TEST(StartupChecks, IdentityThatThrows) {
  PluginServer server(std::make_shared<ThrowingIdentity>());
  server.Add(std::make_shared<StatusOnlyOperator>());
  EXPECT_THAT(StartError(std::move(server)), HasSubstr("Metadata() threw: metadata unavailable"));
}

TEST(StartupChecks, MissingPluginDirectory) {
  TempDir dir;
  ServerOptions options;
  options.plugin_path = (dir / "absent").string();
  const absl::Status status = WithStatus().Start(options);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr("absent"), HasSubstr("No such file or directory")));
}

TEST(StartupChecks, PluginPathIsAFile) {
  TempDir dir;
  testing_support::WriteFile(dir / "file", "x");
  ServerOptions options;
  options.plugin_path = (dir / "file").string();
  EXPECT_THAT(std::string(WithStatus().Start(options).message()), HasSubstr("is not a directory"));
}

TEST(StartupChecks, SocketPathHoldsAnotherFileThatIsKept) {
  TempDir dir;
  testing_support::WriteFile(dir / "test-plugin.cnpgi.example", "precious");
  ServerOptions options;
  options.plugin_path = dir.path().string();
  EXPECT_THAT(std::string(WithStatus().Start(options).message()),
              HasSubstr("exists and is not a socket; refusing to replace it"));
  std::ifstream kept(dir / "test-plugin.cnpgi.example");
  std::string content;
  kept >> content;
  EXPECT_EQ(content, "precious");
}

TEST(StartupChecks, SecondServerWithTheSameNameIsRefused) {
  UnixServer first;
  ASSERT_TRUE(first.Start(WithStatus()).ok());
  ServerOptions options;
  options.plugin_path = first.dir().string();
  EXPECT_THAT(std::string(WithStatus().Start(options).message()),
              HasSubstr("another server is already listening"));
}

TEST(StartupChecks, SocketPathTooLong) {
  TempDir dir;
  auto deep = dir.path() / std::string(100, 'd');
  std::filesystem::create_directories(deep);
  ServerOptions options;
  options.plugin_path = deep.string();
  EXPECT_THAT(std::string(WithStatus().Start(options).message()),
              HasSubstr("Unix sockets allow at most"));
}

TEST(StartupChecks, StartOnlyOnce) {
  UnixServer fixture;
  ASSERT_TRUE(fixture.Start(WithStatus()).ok());
  ServerOptions options;
  options.plugin_path = fixture.dir().string();
  EXPECT_THAT(std::string(fixture.server().Start(options).message()),
              HasSubstr("can be called only once"));
}

TEST(StartupChecks, TcpWithoutCertificatesIsRefused) {
  ServerOptions options;
  options.server_address = "127.0.0.1:0";
  const absl::Status status = WithStatus().Start(options);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("--server-cert"));
}

}  // namespace
}  // namespace cnpgi
