#!/usr/bin/env bash
# Builds the Go side of the cross-language tests the way CNPG-I Go code is
# built, with Debian's Go packages only (GOPATH mode, nothing downloaded):
# stubs generated from the project's own proto/ tree by protoc-gen-go and
# protoc-gen-go-grpc, under the Go package paths of upstream cnpg-i, then
#
#   cnpgi-go-operator-client  connects to a plugin as the operator does
#   cnpgi-go-plugin           a plugin written like upstream Go plugins
#   cnpgi-go-patch-oracle     evanphx/json-patch v5 against the kit's patches
#
#   build.sh PROTO_ROOT OUT_DIR
#
# Exit status 77 (ctest's skip) when the Go toolchain is not installed:
# scripts/install-deps.sh installs it, so CI always builds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto=$(cd "${1:?usage: build.sh PROTO_ROOT OUT_DIR}" && pwd)
out=$(mkdir -p "${2:?usage: build.sh PROTO_ROOT OUT_DIR}" && cd "$2" && pwd)

missing=()
for tool in go protoc protoc-gen-go protoc-gen-go-grpc; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
for dir in google.golang.org/grpc google.golang.org/protobuf github.com/evanphx/json-patch/v5; do
  [[ -d /usr/share/gocode/src/$dir ]] || missing+=("/usr/share/gocode/src/$dir")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "SKIP: the Go toolchain is missing (${missing[*]}): run scripts/install-deps.sh" >&2
  exit 77
fi

gopath="$out/gopath"
rm -rf "$gopath/src"
mkdir -p "$gopath/src"

# proto file -> Go package, as upstream cnpg-i lays them out.
upstream=github.com/cloudnative-pg/cnpg-i/pkg
declare -A packages=(
  [cnpgi/identity/v1/identity.proto]=$upstream/identity
  [cnpgi/identity/v1/postgres.proto]=$upstream/postgres
  [cnpgi/operator/v1/operator.proto]=$upstream/operator
  [cnpgi/operator_lifecycle/v1/operator_lifecycle.proto]=$upstream/lifecycle
  [cnpgi/wal/v1/wal.proto]=$upstream/wal
  [cnpgi/wal/v1/restore_job.proto]=$upstream/restore/job
  [cnpgi/backup/v1/backup.proto]=$upstream/backup
  [cnpgi/reconciler/v1/reconciler.proto]=$upstream/reconciler
  [cnpgi/metrics/v1/metrics.proto]=$upstream/metrics
)
mapping=()
files=()
for file in "${!packages[@]}"; do
  [[ -f $proto/$file ]] || { echo "build.sh: $proto/$file is missing" >&2; exit 1; }
  mapping+=("M$file=${packages[$file]}")
  files+=("$proto/$file")
done
m=$(IFS=,; echo "${mapping[*]}")
protoc -I"$proto" --go_out="$gopath/src" --go_opt="$m" --go-grpc_out="$gopath/src" \
  --go-grpc_opt="$m" "${files[@]}"

cp -r "$here/src/cnpgitest" "$gopath/src/"
# Go's own build cache (content-addressed, safe to share): the regular and
# the sanitizer builds, and the next CI run on the machine, reuse it.
export GOCACHE=${GOCACHE:-${XDG_CACHE_HOME:-${HOME:-$out}/.cache}/go-build}
export GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOFLAGS= CGO_ENABLED=0 \
  GOTOOLCHAIN=local GOPROXY=off
for program in operatorclient:cnpgi-go-operator-client goplugin:cnpgi-go-plugin \
  patchoracle:cnpgi-go-patch-oracle; do
  (cd "$gopath/src/cnpgitest/${program%%:*}" && go vet . && go build -trimpath -o "$out/${program#*:}" .)
done
echo "built $out: cnpgi-go-operator-client cnpgi-go-plugin cnpgi-go-patch-oracle ($(go version | awk '{print $3}'))"
