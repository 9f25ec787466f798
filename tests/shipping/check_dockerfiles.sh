#!/usr/bin/env bash
# The examples' Dockerfiles must keep their stage `sdk` identical, line for
# line (from `ARG DEBIAN_IMAGE` to `FROM sdk AS build`): podman's and
# Docker's layer caches then build the SDK once for all the images, which
# is what keeps the image tests affordable in CI. Nor may they start with
# a `# syntax=` line, which makes Docker fetch a frontend from a registry.
#
#   check_dockerfiles.sh DOCKERFILE...
set -euo pipefail
sdk_stage() { sed -n '/^ARG DEBIAN_IMAGE/,/^FROM sdk AS build/p' "$1"; }
first=$1
reference=$(sdk_stage "$first")
[[ -n $reference ]] || { echo "FAILED: $first has no stage sdk (ARG DEBIAN_IMAGE ... FROM sdk AS build)"; exit 1; }
status=0
for f in "$@"; do
  if grep -q '^# *syntax=' "$f"; then
    echo "FAILED: $f starts with a # syntax= line (Docker would fetch a frontend image)"
    status=1
  fi
  if ! diff -u <(echo "$reference") <(sdk_stage "$f") >/dev/null; then
    diff -u --label "$first" --label "$f" <(echo "$reference") <(sdk_stage "$f") || true
    echo "FAILED: the sdk stage of $f differs from $first's"
    status=1
  fi
done
[[ $status -eq 0 ]] && echo "stage sdk identical in: $*"
exit "$status"
