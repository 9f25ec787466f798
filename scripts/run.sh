#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds the SDK and runs the main job:
#  1. installs the SDK into a prefix under the build tree and builds the
#     hello-world example against it, as an outside project would;
#  2. starts hello-world on a Unix socket under the build tree, the way a
#     sidecar plugin runs next to PostgreSQL;
#  3. lets cnpgi-conformance (the installed checker) talk to it the way the
#     operator does: handshake, capabilities, every advertised call;
#  4. stops it with SIGTERM and checks that it exits 0 and removes its socket.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$repo/scripts/install-deps.sh"
build=$repo/build
configure_and_build "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCNPGI_BUILD_TESTS=ON \
  -DCNPGI_BUILD_EXAMPLES=ON -DCNPGI_BUILD_BENCH=OFF

echo "== installing the SDK and building examples/hello-world against it"
# The ctest fixtures install the package into build/examples/prefix first.
mkdir -p "$build/run"
if ! ctest --test-dir "$build" -R '^example_hello_world_build$' --output-on-failure \
  --no-tests=error >"$build/run/example-build.log" 2>&1; then
  cat "$build/run/example-build.log" >&2
  exit 1
fi

plugin=$build/examples/hello-world/hello-world
conformance=$build/examples/prefix/bin/cnpgi-conformance
plugins=$build/run/plugins
socket=$plugins/cnpg-i-hello-world.cloudnative-pg.io
log=$build/run/hello-world.log
mkdir -p "$plugins"

echo "== starting hello-world on $socket (its log: $log)"
"$plugin" --plugin-path "$plugins" >"$log" 2>&1 &
pid=$!
trap 'kill -KILL "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  [[ -S $socket ]] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "hello-world exited during start-up:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
[[ -S $socket ]] || { echo "hello-world did not create $socket in 10 s" >&2; exit 1; }

cat "$log"

# The bad-input checks send malformed JSON on purpose: the plugin logs each
# refused call as a warning, in its log file.
echo "== cnpgi-conformance --socket $socket"
"$conformance" --socket "$socket"

echo "== stopping hello-world (SIGTERM)"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
trap - EXIT
tail -n 3 "$log"
if [[ $status -ne 0 ]]; then
  echo "hello-world exited with status $status" >&2
  exit 1
fi
if [[ -e $socket ]]; then
  echo "hello-world left its socket behind: $socket" >&2
  exit 1
fi
echo "== hello-world answered the checks and stopped cleanly (exit 0, socket removed)"
