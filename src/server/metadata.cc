#include "cnpgi/metadata.h"

#include "absl/strings/str_cat.h"

namespace cnpgi {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

absl::Status ValidatePluginMetadata(const PluginMetadata& metadata) {
  const std::string& name = metadata.name;
  // The name is a Unix socket file name, a Kubernetes label value and a
  // key in the Cluster's status: the rules below keep it valid as all three.
  if (name.empty()) {
    return absl::InvalidArgumentError("plugin metadata: the name is empty");
  }
  if (name.size() > 63) {
    return absl::InvalidArgumentError(absl::StrCat("plugin metadata: the name \"", name, "\" is ",
                                                   name.size(),
                                                   " characters long; at most 63 are allowed"));
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!IsLowerAlnum(c) && c != '-' && c != '.') {
      return absl::InvalidArgumentError(absl::StrCat(
          "plugin metadata: the name \"", name, "\" has the character '", std::string(1, c),
          "' at position ", i, "; only lowercase letters, digits, '-' and '.' are allowed"));
    }
  }
  if (!IsLowerAlnum(name.front()) || !IsLowerAlnum(name.back())) {
    return absl::InvalidArgumentError(
        absl::StrCat("plugin metadata: the name \"", name,
                     "\" must start and end with a lowercase letter or a digit"));
  }
  if (metadata.version.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("plugin metadata: the version of \"", name,
                     "\" is empty; the operator shows it in the Cluster status"));
  }
  return absl::OkStatus();
}

}  // namespace cnpgi
