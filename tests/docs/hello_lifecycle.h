// What docs/testing.md calls "your plugin's classes": the context its
// examples assume, declared only (the snippets are compiled, not linked).
#pragma once

#include <cnpgi/cnpgi.h>

#include <vector>

class HelloLifecycle final : public cnpgi::LifecycleService {
  std::vector<cnpgi::LifecycleSubscription> Subscriptions() const override;
  absl::Status OnLifecycle(cnpgi::CallContext& ctx, const cnpgi::Cluster& cluster,
                           cnpgi::Object& object, cnpgi::LifecycleOperation operation) override;
};

extern const cnpgi::PluginMetadata kMetadata;
