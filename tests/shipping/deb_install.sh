#!/usr/bin/env bash
# The proof that the .deb packages are complete: in a fresh debian:12
# container, `apt-get install ./*.deb` (Debian's packages come from the
# mirror), then hello-world is built against the installed package as its
# README says (statically linked, with cnpgi_link_statically from the
# package), the installed cnpgi-conformance checks it over both transports
# (its run_conformance.sh), and the pkg-config consumer
# (tests/consumer/Makefile: the SDK and the test kit) builds and runs. The
# CMake side of the test kit is proven by install_and_consume (same files).
#
#   deb_install.sh CONTAINERS_DIR SOURCE_DIR DEB_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/podman_env.sh"
podman_setup "$1"
source_dir=$(cd "$2" && pwd) debs=$(cd "$3" && pwd)
podman_ready || { echo "SKIPPED: $podman_problem"; exit "$shipping_skip"; }
podman image exists debian:12 || { echo "no debian:12 image: base_image.sh has not run"; exit 1; }
compgen -G "$debs/*.deb" >/dev/null || { echo "no .deb in $debs: make_debs.sh has not run"; exit 1; }

# apt's download cache of this machine, when it has one, as a throw-away
# overlay: packages already downloaded are not fetched again, and nothing
# is written back.
cache=()
[[ -d /var/cache/apt/archives ]] && cache=(-v /var/cache/apt/archives:/var/cache/apt/archives:O)
name=cnpgi-test-deb-install-$$
trap 'podman rm -f -t 0 "$name" >/dev/null 2>&1 || true' EXIT
start=$SECONDS
podman run --name "$name" --network=host "${cache[@]}" \
  -v "$debs:/debs:ro" -v "$source_dir/examples/hello-world:/src/hello-world:ro" \
  -v "$source_dir/tests/consumer:/src/consumer:ro" \
  debian:12 bash -euo pipefail -c '
    export DEBIAN_FRONTEND=noninteractive
    step() { echo "== $1 ($SECONDS s)"; }
    step "apt-get install ./*.deb"
    apt-get update -q >/dev/null
    cd /debs
    apt-get install -y -q --no-install-recommends ./*.deb \
      cmake g++ make pkg-config openssl >/tmp/apt.log 2>&1 ||
      { tail -n 40 /tmp/apt.log; exit 1; }
    dpkg-query -W libcnpgi-dev cnpgi-conformance
    step "hello-world against the installed package (CMake, cnpgi_link_statically)"
    cmake -S /src/hello-world -B /tmp/hello-world -DCMAKE_BUILD_TYPE=Release \
      -DHELLO_WORLD_STATIC=ON >/tmp/configure.log 2>&1 || { cat /tmp/configure.log; exit 1; }
    cmake --build /tmp/hello-world -j"$(nproc)" >/tmp/build.log 2>&1 || { tail -n 60 /tmp/build.log; exit 1; }
    step "the installed cnpgi-conformance against it, Unix socket and mutual TLS"
    for transport in unix tcp; do
      /src/hello-world/tests/run_conformance.sh $transport "$(command -v cnpgi-conformance)" \
        /tmp/hello-world/hello-world >/tmp/conformance.log 2>&1 || { cat /tmp/conformance.log; exit 1; }
      grep -E "checks:" /tmp/conformance.log | tail -n 1
    done
    step "the pkg-config consumer, with plain make"
    make -s -f /src/consumer/Makefile OUT=/tmp/consumer
    /tmp/consumer/consumer
    /tmp/consumer/consumer_kit
    step "done"
  '
echo "the .deb packages install and hello-world builds against them ($((SECONDS - start)) s)"
