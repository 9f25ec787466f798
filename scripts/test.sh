#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs the whole test suite:
# a regular build with every test, then an ASan+UBSan build with every test.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
start=$(date +%s)

"$repo/scripts/install-deps.sh"

echo "== regular build and tests"
configure_and_build "$repo/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
ctest --test-dir "$repo/build" -j "$jobs" --output-on-failure

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
configure_and_build "$repo/build-asan" -DCMAKE_BUILD_TYPE=Debug -DCNPGI_SANITIZE=ON \
  -DCNPGI_BUILD_BENCH=OFF -DCNPGI_BUILD_EXAMPLES=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$repo/build-asan" -j "$jobs" --output-on-failure

echo "== all tests passed in $(( $(date +%s) - start )) s"
