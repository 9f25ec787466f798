// Uses the installed cnpgi::testing the way a plugin author's tests do: the
// kit starts a plugin in-process and the operator-like client calls it.
// Exit 0 means the installed test kit works.
#include <cnpgi/cnpgi.h>
#include <cnpgi/testing/plugin_kit.h>

#include <iostream>

namespace {

class Labeller final : public cnpgi::LifecycleService {
  std::vector<cnpgi::LifecycleSubscription> Subscriptions() const override {
    return {{"", "Pod", {cnpgi::LifecycleOperation::kEvaluate}}};
  }
  absl::Status OnLifecycle(cnpgi::CallContext&, const cnpgi::Cluster&, cnpgi::Object& pod,
                           cnpgi::LifecycleOperation) override {
    return pod.SetLabel("consumer.cnpgi.example/seen", "yes");
  }
};

}  // namespace

int main() {
  auto kit = cnpgi::test::PluginKit::Start(
      cnpgi::PluginServer(
          cnpgi::PluginMetadata{.name = "consumer-kit.cnpgi.example", .version = "0.0.1"})
          .Add(std::make_shared<Labeller>()));
  if (!kit.ok()) {
    std::cerr << "kit: " << kit.status() << "\n";
    return 1;
  }
  auto pod =
      kit->client().LifecycleHook(cnpgi::LifecycleOperation::kEvaluate, kit->cluster(), kit->pod());
  if (!pod.ok()) {
    std::cerr << "kit: " << pod.status() << "\n";
    return 1;
  }
  const bool ok = pod->label("consumer.cnpgi.example/seen") == "yes";
  std::cout << "cnpgi::testing consumer: " << (ok ? "ok" : "FAILED") << "\n";
  return ok ? 0 : 1;
}
