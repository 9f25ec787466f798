// Sidecar injection for lifecycle hooks.
//
// A plugin that serves WAL, backup, restore, metrics or configuration calls
// runs as a sidecar in the instance Pods (and in the Jobs that need it),
// listening on a Unix socket in /plugins. Its lifecycle hook on Pod
// EVALUATE/CREATE (and Job CREATE) must therefore:
//   - add the `plugins` emptyDir volume,
//   - mount it at /plugins in the main container (`postgres`, or the job's
//     container), where the instance manager looks for sockets,
//   - add the plugin container as a native sidecar: an init container with
//     restartPolicy Always, so that it is up before PostgreSQL starts (the
//     instance manager scans /plugins once, at start), optionally with a
//     startup probe, mounting /plugins too.
//
// InjectSidecar does all of that in place on the object, so the hook returns
// object.Patch(). It is idempotent (on an already injected Pod it changes
// nothing: the operator runs EVALUATE and then CREATE on the result) and
// deterministic (the operator compares EVALUATE results to decide whether
// to restart Pods): each piece is added only if absent, at the end of its
// list, and entries already there are never modified.
//
//   cnpgi::SidecarOptions sidecar{.container = {{"name", "plugin-example"},
//                                               {"image", image},
//                                               {"args", {"instance"}}},
//                                 .copy_env = true,
//                                 .copy_volume_mounts = true};
//   if (absl::Status s = cnpgi::InjectSidecar(object, sidecar); !s.ok()) return s;
//   return object.Patch();
#ifndef CNPGI_SIDECAR_H_
#define CNPGI_SIDECAR_H_

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "cnpgi/object.h"

namespace cnpgi {

// Name and mount path of the shared socket volume (fixed by the operator).
inline constexpr std::string_view kPluginsVolumeName = "plugins";
inline constexpr std::string_view kPluginsMountPath = "/plugins";

struct SidecarOptions {
  // The sidecar container, as in a PodSpec; needs a non-empty "name".
  // restartPolicy is set to Always.
  nlohmann::json container{};
  // The main container. Empty means "postgres" in a Pod; in a Job (or other
  // pod template) the container named by the label cnpg.io/jobRole, else the
  // only container.
  std::string main_container{};
  // Copy the main container's env entries into the sidecar (after the
  // sidecar's own; names the sidecar already has are kept as they are).
  bool copy_env = false;
  // Copy the main container's volumeMounts into the sidecar (mount paths the
  // sidecar already has are kept as they are), giving it PGDATA and the WAL
  // volume, as backup and WAL plugins need.
  bool copy_volume_mounts = false;
  // Set as the sidecar's startupProbe unless the container has one.
  std::optional<nlohmann::json> startup_probe{};
};

// Injects the sidecar, the plugins volume and the main container's /plugins
// mount into a Pod or a Job (any kind PodSpecPointer knows). Errors:
// InvalidArgument for options without a container name or an object of
// another kind; FailedPrecondition when the main container does not exist
// (the message lists the containers there are).
absl::Status InjectSidecar(Object& object, const SidecarOptions& options);

}  // namespace cnpgi

#endif  // CNPGI_SIDECAR_H_
