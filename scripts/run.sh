#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds the SDK and runs the main job.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$repo/scripts/install-deps.sh"
configure_and_build "$repo/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo

# Build a consumer project against the installed package and run it.
ctest --test-dir "$repo/build" -R install_and_consume --output-on-failure -V | grep -E 'consumer|install'
