#!/usr/bin/env bash
# Runs cnpgi-conformance against one role of the directory-backup binary on
# its Unix socket (the Backup and restore-job checks need a PostgreSQL: they
# run in postgres_e2e.sh):
#   operator  validation, status and the sidecar injection (SIDECAR_IMAGE set);
#   instance  WAL archive and restore into a temporary store, metrics.
#
#   run_conformance.sh CONFORMANCE_BINARY PLUGIN_BINARY ROLE
#
# Self-contained on purpose: an example is meant to be copied out of this
# repository as the start of a plugin project, so it shares no script with
# the other example (examples/*/tests/run_conformance.sh start alike).
#
# The plugin is always stopped, also when a check fails.
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 CONFORMANCE_BINARY PLUGIN_BINARY operator|instance" >&2
  exit 2
fi
conformance=$1
plugin=$2
role=$3
name=directory-backup.example.com

work=$(mktemp -d "${TMPDIR:-/tmp}/directory-backup-conformance.XXXXXX")
mkdir "$work/plugins" "$work/scratch" "$work/backups"
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

SIDECAR_IMAGE=registry.example.com/directory-backup:test \
  "$plugin" "$role" "--plugin-path=$work/plugins" --grace-period=1s >"$work/plugin.log" 2>&1 &
pid=$!
deadline=$((SECONDS + 15))
until [[ -S $work/plugins/$name ]]; do
  ((SECONDS < deadline)) || { echo "no socket $work/plugins/$name"; exit 1; }
  sleep 0.1
done

args=(--socket "$work/plugins/$name" --plugin-name "$name"
  --plugin-parameters "destination=$work/backups" --timeout 90s)
case $role in
  operator) "$conformance" "${args[@]}" ;;
  instance)
    "$conformance" "${args[@]}" --wal-dir "$work/scratch"
    # The segment the checker archived is in the fixture Cluster's store.
    find "$work/backups" -path '*/wals/*' -type f -printf '%f\n' | grep -qE '^[0-9A-F]{24}$' ||
      { echo "nothing was archived"; exit 1; }
    ;;
  *) echo "unknown role $role" >&2; exit 2 ;;
esac
