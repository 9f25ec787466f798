// The C++ examples of docs/flags-and-logging.md and docs/observability.md,
// compiled with the context the text around them assumes (see
// extract_snippets.py).
#include <cnpgi/cnpgi.h>
#include <cnpgi/logging.h>
#include <cnpgi/server_options.h>

#include <cstddef>
#include <cstdint>
#include <iostream>
#include <string>

namespace flags_own_main {
cnpgi::PluginServer MakeServer();
#include "flags-own-main.inc"
}  // namespace flags_own_main

namespace logging_fields {
std::string ExpensiveDump();
[[maybe_unused]] void Snippet(const cnpgi::ServerOptions& options, const std::string& name,
                              std::int64_t size, const absl::Status& status) {
#include "logging-fields.inc"
}
}  // namespace logging_fields

namespace observability_secrets {
// A WAL service of the plugin (one override is what makes it a service).
class MyWal final : public cnpgi::WalService {
  absl::Status Archive(cnpgi::CallContext&, const ArchiveRequest&, ArchiveResult&) override;
};
[[maybe_unused]] int Snippet(int argc, char** argv) {
  const cnpgi::PluginMetadata kMetadata{.name = "example.cnpgi.io", .version = "1.0.0"};
  return
#include "observability-secrets.inc"
}
}  // namespace observability_secrets
