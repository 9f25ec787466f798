#!/usr/bin/env bash
# Builds the libFuzzer target over the JSON helpers with clang (ASan+UBSan)
# into build-fuzz/ and runs it for SECONDS (default 20; 0 = until stopped),
# seeded with tests/data and tests/fuzz/seeds. New interesting inputs
# accumulate in build-fuzz/corpus across runs; a crash or violated property
# leaves its input in build-fuzz/artifacts/ and makes this script fail.
#
#   scripts/fuzz.sh            # CI: about 20 s of fuzzing after the build
#   scripts/fuzz.sh 14400      # four hours
#   FUZZ_JOBS=2 scripts/fuzz.sh 0   # two processes, until Ctrl-C
#
# Reproduce a finding: build-fuzz/json_helpers_fuzzer build-fuzz/artifacts/<file>
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${1:-20}"
jobs="${FUZZ_JOBS:-1}"
build=build-fuzz
cxx="${FUZZ_CXX:-clang++-14}"

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi

start=$(date +%s)
cmake -S tests/fuzz -B "$build" "${generator[@]}" "${launcher[@]}" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE= >/dev/null
cmake --build "$build" -j 2
echo "== fuzz target built in $(( $(date +%s) - start )) s"

mkdir -p "$build/corpus" "$build/artifacts"
# -jobs makes libFuzzer fork workers logging to fuzz-N.log: only when asked.
parallel=()
if [[ "$jobs" -gt 1 ]]; then parallel=(-jobs="$jobs" -workers="$jobs"); fi
# The first directory receives new inputs; the others are read-only seeds.
"$build/json_helpers_fuzzer" "$build/corpus" tests/data tests/fuzz/seeds \
  -dict=tests/fuzz/json.dict \
  -max_len=16384 \
  -max_total_time="$seconds" \
  -timeout=10 \
  -rss_limit_mb=2048 \
  "${parallel[@]}" \
  -artifact_prefix="$build/artifacts/" \
  -print_final_stats=1
