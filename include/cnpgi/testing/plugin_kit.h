// A plugin under test: its PluginServer started in-process on a Unix socket
// in a private temporary directory, and an operator-like client connected to
// it with the handshake done. Everything is torn down when the kit goes away.
//
//   #include <cnpgi/testing/plugin_kit.h>
//
//   auto kit = cnpgi::test::PluginKit::Start(
//       cnpgi::PluginServer(kMetadata).Add(std::make_shared<MyLifecycle>()));
//   ASSERT_TRUE(kit.ok()) << kit.status();
//   auto pod = kit->client().LifecycleHook(cnpgi::LifecycleOperation::kEvaluate,
//                                          kit->cluster(), kit->pod());
//   ASSERT_TRUE(pod.ok()) << pod.status();
//   EXPECT_EQ(pod->label("example.com/seen"), "yes");
//
// The kit does not depend on GoogleTest; <cnpgi/testing/gtest.h> adds
// matchers and a fixture on top of it.
#ifndef CNPGI_TESTING_PLUGIN_KIT_H_
#define CNPGI_TESTING_PLUGIN_KIT_H_

#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cnpgi/plugin_server.h"
#include "cnpgi/testing/fixtures.h"
#include "cnpgi/testing/json_patch.h"
#include "cnpgi/testing/plugin_client.h"
#include "spdlog/common.h"

namespace cnpgi::test {

struct KitOptions {
  // Timeouts, the plugin's parameters in the fixture Cluster, strictness.
  ClientOptions client;
  // The plugin server's log level (its logs go to standard error).
  spdlog::level::level_enum log_level = spdlog::level::warn;
  // How long in-flight calls may run on when the kit is torn down.
  absl::Duration shutdown_grace = absl::Seconds(1);
};

class PluginKit {
 public:
  // Starts `server` and connects a client. The error is the server's refusal
  // to start (its message says what is wrong with the plugin) or the failed
  // handshake step.
  static absl::StatusOr<PluginKit> Start(PluginServer server, KitOptions options = {});

  PluginKit(PluginKit&&) noexcept;
  PluginKit& operator=(PluginKit&&) noexcept;
  // Shuts the server down (in-flight calls get KitOptions::shutdown_grace)
  // and removes the temporary directory.
  ~PluginKit();

  // The client connected at start, handshake done.
  PluginClient& client();
  // Another connection with its own handshake, as another connection of the
  // operator's pool (or another caller process) would make.
  absl::StatusOr<PluginClient> Connect() const;
  absl::StatusOr<PluginClient> Connect(ClientOptions options) const;

  PluginServer& server();
  const Endpoint& endpoint() const;
  // The socket: <temporary directory>/<plugin name>.
  const std::string& socket_path() const;

  // Fixtures configured for the plugin (client().fixtures()); fresh copies.
  const Fixtures& fixtures() const;
  nlohmann::json cluster() const { return fixtures().cluster(); }
  nlohmann::json pod() const { return fixtures().pod(); }
  nlohmann::json job() const { return fixtures().job(); }
  nlohmann::json backup() const { return fixtures().backup(); }

  // Stops the server now (idempotent); later calls fail with UNAVAILABLE.
  void Shutdown();

  class Impl;

 private:
  explicit PluginKit(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cnpgi::test

#endif  // CNPGI_TESTING_PLUGIN_KIT_H_
