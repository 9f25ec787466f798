# Sourced by the shipping tests: podman with all its storage and
# configuration under the build tree (never /etc or /var/lib/containers),
# set for machines like CI's:
#   - runc, not crun: crun 1.8 refuses a mixed cgroup v1/v2 layout
#     ("cgroups in hybrid mode not supported");
#   - default_ulimits within the current hard limits: root without
#     CAP_SYS_RESOURCE cannot raise them, and podman's defaults (nofile
#     1048576) would fail every container start in setrlimit;
#   - cgroupfs and file event logs: no systemd in a CI container.
#
#   source podman_env.sh <dir under the build tree>
# then: podman_ready || skip "$podman_problem"
# Exit code 77 is the shipping tests' "skipped" (ctest SKIP_RETURN_CODE).
shipping_skip=77

# CNPGI_PODMAN: another podman binary (or a missing one, to see the skip).
podman() { command "${CNPGI_PODMAN:-podman}" "$@"; }

podman_setup() {
  local root=$1
  mkdir -p "$root"/{storage,run,tmp,conf,cni}
  root=$(cd "$root" && pwd)
  local nofile nproc
  nofile=$(ulimit -Hn)
  nproc=$(ulimit -Hu)
  [[ $nofile == unlimited ]] && nofile=1048576
  [[ $nproc == unlimited ]] && nproc=32768
  # podman 4.3 lowers its own process limit to 32768.
  ((nproc > 32768)) && nproc=32768
  local driver=${CNPGI_PODMAN_STORAGE_DRIVER:-overlay}
  cat >"$root/conf/storage.conf" <<CONF
[storage]
driver = "$driver"
graphroot = "$root/storage"
runroot = "$root/run"
CONF
  cat >"$root/conf/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[network]
network_config_dir = "$root/cni"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$root/tmp"
CONF
  export CONTAINERS_STORAGE_CONF=$root/conf/storage.conf
  export CONTAINERS_CONF=$root/conf/containers.conf
  # No registries: images are built or imported locally.
  printf 'unqualified-search-registries = []\nshort-name-mode = "permissive"\n' \
    >"$root/conf/registries.conf"
  export CONTAINERS_REGISTRIES_CONF=$root/conf/registries.conf
  export TMPDIR=${TMPDIR:-/tmp}
  podman_root=$root
}

# True when podman can run a container here; otherwise podman_problem says why.
podman_ready() {
  podman_problem=
  if ! command -v "${CNPGI_PODMAN:-podman}" >/dev/null; then
    podman_problem="${CNPGI_PODMAN:-podman} is not installed (scripts/install-deps.sh installs it)"
    return 1
  fi
  if [[ $(id -u) -ne 0 ]]; then
    # Rootless podman needs subordinate ids and a user session; CI runs as root.
    podman_problem="podman here runs as root only (uid $(id -u))"
    return 1
  fi
  local out
  if ! out=$(podman info --format '{{.Host.OCIRuntime.Name}}' 2>&1); then
    podman_problem="podman info failed: $(tail -n 3 <<<"$out")"
    return 1
  fi
  # The runtime itself (cgroups, rlimits, seccomp...) shows only when a
  # container starts: try one once the base image exists.
  if podman image exists debian:12 &&
    ! out=$(podman run --rm --network=none debian:12 true 2>&1); then
    podman_problem="podman cannot run a container here: $(tail -n 3 <<<"$out")"
    return 1
  fi
  return 0
}
