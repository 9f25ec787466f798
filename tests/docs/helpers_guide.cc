// The C++ examples of docs/helpers.md, compiled with the context the text
// around them assumes (see extract_snippets.py): each runs in a hook that
// received the request the text names.
#include <cnpgi/cnpgi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace helpers_object {
[[maybe_unused]] absl::StatusOr<std::string> Snippet(
    const cnpgi::LifecycleService::Request& request) {
#include "helpers-object.inc"
  return patch;
}
}  // namespace helpers_object

namespace helpers_parameters {
[[maybe_unused]] absl::Status Snippet(const cnpgi::LifecycleService::Request& request) {
#include "helpers-parameters.inc"
  return absl::OkStatus();
}
}  // namespace helpers_parameters

namespace helpers_sidecar {
[[maybe_unused]] absl::StatusOr<std::string> Snippet(cnpgi::Object& object,
                                                     const std::string& image) {
#include "helpers-sidecar.inc"
}
}  // namespace helpers_sidecar

namespace helpers_wal_name {
[[maybe_unused]] absl::Status Snippet(const cnpgi::WalService::ArchiveRequest& request) {
#include "helpers-wal-name.inc"
  return absl::OkStatus();
}
}  // namespace helpers_wal_name
