#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs the whole test suite:
#  1. a regular build with every test, the examples (built against the
#     installed package) and a real PostgreSQL end-to-end test included;
#  2. an ASan+UBSan build with every test of the SDK;
#  3. a short libFuzzer run over the JSON helpers.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
start=$(date +%s)
stage() { echo "== $1 ($(( $(date +%s) - start )) s elapsed)"; }

"$repo/scripts/install-deps.sh"

stage "regular build and tests"
configure_and_build "$repo/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCNPGI_BUILD_TESTS=ON \
  -DCNPGI_BUILD_EXAMPLES=ON -DCNPGI_BUILD_BENCH=OFF
ctest --test-dir "$repo/build" -j "$jobs" --output-on-failure

stage "AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
configure_and_build "$repo/build-asan" -DCMAKE_BUILD_TYPE=Debug -DCNPGI_SANITIZE=ON \
  -DCNPGI_BUILD_BENCH=OFF -DCNPGI_BUILD_EXAMPLES=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$repo/build-asan" -j "$jobs" --output-on-failure

stage "fuzzing the JSON helpers"
"$repo/scripts/fuzz.sh" 20

stage "all tests passed"
