#!/usr/bin/env bash
# Installs the Debian 12 packages cnpgi-cpp needs to build, test and run its
# examples. Idempotent: installs only what is missing, so it is cheap to call
# from every other script. Needs root or sudo when something is missing.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config ccache clang libclang-rt-14-dev clang-format
  # protocol and runtime
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev libabsl-dev
  libspdlog-dev nlohmann-json3-dev libssl-dev
  # cnpgi-conformance's command line (header-only)
  libcli11-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3 python3-protobuf openssl procps
  # cnpgi_link_statically(... ALLOCATOR jemalloc) and its benchmark
  libjemalloc-dev
  # backup example: libpq for PostgreSQL's backup protocol, and a real
  # PostgreSQL server for its end-to-end test
  libpq-dev postgresql
  # hello-world example: YAML for the Kubernetes manifests check
  python3-yaml
  # shipping tests (tests/shipping): the examples' images built and run with
  # podman (runc: crun refuses hybrid cgroups), the base image by debootstrap,
  # the .deb packages made by CPack (dpkg-shlibdeps, from build-essential)
  podman runc containernetworking-plugins iptables debootstrap
  # cross-language tests (tests/go): the operator's stack, built from proto/ in GOPATH mode
  golang-go protoc-gen-go protoc-gen-go-grpc golang-google-grpc-dev golang-google-protobuf-dev
  golang-github-golang-protobuf-1-5-dev golang-github-evanphx-json-patch-dev
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
