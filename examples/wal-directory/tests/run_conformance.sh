#!/usr/bin/env bash
# Runs cnpgi-conformance against the wal-directory binary on its Unix
# socket, with the side-effect checks on: the checker writes a test segment
# into a scratch directory, archives it through the plugin (into a temporary
# archive) and restores it.
#
#   run_conformance.sh CONFORMANCE_BINARY PLUGIN_BINARY
#
# The plugin is always stopped, also when a check fails.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 CONFORMANCE_BINARY PLUGIN_BINARY" >&2
  exit 2
fi
conformance=$1
plugin=$2
name=wal-directory.example.com

work=$(mktemp -d "${TMPDIR:-/tmp}/wal-directory-conformance.XXXXXX")
mkdir "$work/plugins" "$work/scratch"
pid=
cleanup() {
  local status=$?
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -f $work/plugin.log ]]; then
    echo "----- plugin log"
    tail -n 30 "$work/plugin.log"
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$plugin" "--plugin-path=$work/plugins" --grace-period=1s >"$work/plugin.log" 2>&1 &
pid=$!
deadline=$((SECONDS + 15))
until [[ -S $work/plugins/$name ]]; do
  ((SECONDS < deadline)) || { echo "no socket $work/plugins/$name"; exit 1; }
  sleep 0.1
done

"$conformance" --socket "$work/plugins/$name" --plugin-name "$name" \
  --plugin-parameters "directory=$work/archive" --wal-dir "$work/scratch" --timeout 90s
# The segment the checker archived is in the archive.
find "$work/archive" -mindepth 2 -maxdepth 2 -type f -printf '%f\n' | grep -qE '^[0-9A-F]{24}$' ||
  { echo "nothing was archived"; exit 1; }
