#!/usr/bin/env bash
# Builds an example's image from its Dockerfile, unchanged, with the
# repository root as context, into the build tree's podman storage (the base
# image debian:12 from base_image.sh). Layers are cached there, and the
# examples' Dockerfiles share their first stage (`sdk`), so the SDK is built
# once for all of them.
#
#   build_image.sh CONTAINERS_DIR SOURCE_DIR DOCKERFILE TAG
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/podman_env.sh"
podman_setup "$1"
source_dir=$2 dockerfile=$3 tag=$4
podman_ready || { echo "SKIPPED: $podman_problem"; exit "$shipping_skip"; }
podman image exists debian:12 || { echo "no debian:12 image: base_image.sh has not run"; exit 1; }

ignore=()
[[ -f $source_dir/$dockerfile.dockerignore ]] && ignore=(--ignorefile "$source_dir/$dockerfile.dockerignore")
# apt's download cache of this machine, when it has one, as a throw-away
# overlay for the RUN steps: the packages apt-get installs in the image are
# not downloaded again, and nothing is written back. The image is the same.
cache=()
[[ -d /var/cache/apt/archives ]] && cache=(-v /var/cache/apt/archives:/var/cache/apt/archives:O)
start=$SECONDS
log=$podman_root/build-${tag//[:\/]/_}.log
if ! podman build --network=host --layers "${cache[@]}" -f "$source_dir/$dockerfile" "${ignore[@]}" \
  -t "$tag" "$source_dir" >"$log" 2>&1; then
  tail -n 60 "$log"
  echo "FAILED: podman build of $dockerfile (full log: $log)"
  exit 1
fi
grep -E 'STEP|Using cache' "$log" | sed 's/^/  /' || true
echo "$tag built in $((SECONDS - start)) s: $(podman image inspect --format '{{.Size}}' "$tag") bytes"
