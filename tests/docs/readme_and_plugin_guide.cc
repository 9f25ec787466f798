// The C++ examples of README.md and docs/writing-a-plugin.md, compiled with
// the context the text around them assumes (see extract_snippets.py).
#include <cnpgi/cnpgi.h>

#include <iostream>
#include <string_view>

namespace readme_plugin {
#include "readme-plugin.inc"
}  // namespace readme_plugin

namespace plugin_first {
#include "plugin-first.inc"
}  // namespace plugin_first

namespace plugin_declare {
[[maybe_unused]] void Snippet(cnpgi::PluginServer& server) {
#include "plugin-declare.inc"
}
}  // namespace plugin_declare

namespace plugin_two_roles {
cnpgi::PluginServer OperatorSide();
cnpgi::PluginServer InstanceSide();
#include "plugin-two-roles.inc"
}  // namespace plugin_two_roles
