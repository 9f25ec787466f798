#!/usr/bin/env bash
# Benchmark of the directory-backup plugin against its baselines, measured in
# the same run on the same PostgreSQL:
#
#  1. base backup throughput: a Backup through the plugin (Backup RPC,
#     pg_backup_start, copy with SHA-256 of every file, fsync,
#     pg_backup_stop) against plain `pg_basebackup -Fp -X none -c fast` into
#     a local directory (its defaults: CRC32C manifest, fsync);
#  2. WAL archive calls per second, each a fresh instance-client process
#     (connection, handshake, Archive of a 16 MiB segment, fsync) as the
#     instance manager makes them, while a backup runs against without one.
#
#   backup_bench.sh PLUGIN_BINARY CLIENT_BINARY [SIZE_MB [REPETITIONS]]
#
# Repetitions are interleaved (the order alternates) and medians reported.
# Defaults: 400 MB of table data, 5 repetitions.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 4 ]]; then
  echo "usage: $0 PLUGIN_BINARY CLIENT_BINARY [SIZE_MB [REPETITIONS]]" >&2
  exit 2
fi
size_mb=${3:-400}
repetitions=${4:-5}
# shellcheck source=../tests/postgres_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/postgres_lib.sh"
pg_harness_setup bench "$1" "$2"
mkdir -p "$work/backups" "$work/segments"
[[ ${#as_pg[@]} -eq 0 ]] || chown nobody "$work/backups" "$work/segments"

cluster_json() { # NAME
  cat <<EOF
{"apiVersion":"postgresql.cnpg.io/v1","kind":"Cluster","metadata":{"name":"$1","namespace":"default"},
 "spec":{"instances":1,"plugins":[{"name":"$plugin_name","isWALArchiver":true,
   "parameters":{"destination":"$work/backups","immediateCheckpoint":"true"}}]}}
EOF
}
cluster_json bench >"$work/bench.json"
cluster_json walbench >"$work/walbench.json"
cat >"$work/backup.json" <<EOF
{"apiVersion":"postgresql.cnpg.io/v1","kind":"Backup","metadata":{"name":"bench","namespace":"default"},
 "spec":{"cluster":{"name":"bench"},"method":"plugin","pluginConfiguration":{"name":"$plugin_name"}}}
EOF

init_primary bench "$work/bench.json"
rundir=$work/run-bench
sql "$rundir" "SELECT pg_switch_wal()" >/dev/null
wait_for 30 bash -c "ls '$work/backups/bench/wals/00000001' 2>/dev/null | grep -q ." ||
  fail "the first segment was not archived"
rm -f "$work/bench/.check-empty-wal-archive"
rows=$((size_mb * 1024 * 1024 / 300))
sql "$rundir" "CREATE TABLE filler AS SELECT g, repeat(md5(g::text), 8) AS t FROM generate_series(1, $rows) g"
sql "$rundir" "CHECKPOINT"
pgdata_mb=$(($(du -sm --exclude=pg_wal "$work/bench" | cut -f1)))
log "data directory: $pgdata_mb MB without pg_wal"

now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }
elapsed() { calc "$(now) - $1"; }

plugin_backup() {
  local answer id
  answer=$(run "$client" --socket="$(socket bench-pod)" --cluster="$work/bench.json" --timeout=3600 \
    backup --backup="$work/backup.json") || fail "plugin backup failed"
  id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["backup_id"])' "$answer")
  echo "$id"
}
pgbasebackup() { # DIR
  run "$pg/pg_basebackup" -h "$rundir" -U postgres -D "$1" -Fp -X none -c fast >/dev/null 2>&1 ||
    fail "pg_basebackup failed"
}

# --- 1. throughput -------------------------------------------------------------------
declare -a t_plugin=() t_pgbb=()
for ((i = 0; i < repetitions; i++)); do
  for which in $( ((i % 2 == 0)) && echo "plugin pgbb" || echo "pgbb plugin"); do
    start=$(now)
    if [[ $which == plugin ]]; then
      id=$(plugin_backup)
      t_plugin+=("$(elapsed "$start")")
      rm -rf "$work/backups/bench/base/$id"
    else
      pgbasebackup "$work/pgbb"
      t_pgbb+=("$(elapsed "$start")")
      rm -rf "$work/pgbb"
    fi
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mp=$(median "${t_plugin[@]}")
mb=$(median "${t_pgbb[@]}")
printf 'base backup of %d MB, median of %d (interleaved):\n' "$pgdata_mb" "$repetitions"
printf '  plugin Backup    %7.2f s  %7.1f MB/s   (all: %s)\n' "$mp" "$(calc "$pgdata_mb / $mp")" "${t_plugin[*]}"
printf '  pg_basebackup    %7.2f s  %7.1f MB/s   (all: %s)\n' "$mb" "$(calc "$pgdata_mb / $mb")" "${t_pgbb[*]}"
printf '  plugin / pg_basebackup time: %.2f\n' "$(calc "$mp / $mb")"

# --- 2. WAL archive calls per second, with and without a backup running --------------
head -c $((16 << 20)) /dev/urandom >"$work/segments/source"
[[ ${#as_pg[@]} -eq 0 ]] || chown -R nobody "$work/segments"
segment=0
# archive_for SECONDS_OR_PID: archives distinct segments, one process each,
# until the time is up or the process has ended; prints calls per second.
archive_while() {
  local until_pid=$1 seconds=$2 calls=0 start name
  start=$(now)
  while true; do
    if [[ $until_pid -gt 0 ]]; then
      kill -0 "$until_pid" 2>/dev/null || break
    elif [[ $(calc "$(elapsed "$start") >= $seconds") == 1 ]]; then
      break
    fi
    segment=$((segment + 1))
    name=$(printf '00000001%08X%08X' $((segment / 256)) $((segment % 256)))
    ln -f "$work/segments/source" "$work/segments/$name"
    run "$client" --socket="$(socket bench-pod)" --cluster="$work/walbench.json" \
      --check-empty-wal-archive=false archive "$work/segments/$name" >/dev/null ||
      fail "archive of $name failed"
    rm -f "$work/segments/$name"
    calls=$((calls + 1))
  done
  calc "$calls / $(elapsed "$start")"
}
declare -a r_idle=() r_backup=()
for ((i = 0; i < repetitions; i++)); do
  run "$client" --socket="$(socket bench-pod)" --cluster="$work/bench.json" --timeout=3600 \
    backup --backup="$work/backup.json" >"$work/answer" &
  backup_pid=$!
  start=$(now)
  r_backup+=("$(archive_while "$backup_pid" 0)")
  duration=$(elapsed "$start")
  wait "$backup_pid" || fail "the backup during archiving failed"
  rm -rf "$work/backups/bench/base/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["backup_id"])' "$work/answer")"
  r_idle+=("$(archive_while 0 "$duration")")
  rm -rf "$work/backups/walbench"
done
mi=$(median "${r_idle[@]}")
mk=$(median "${r_backup[@]}")
printf 'WAL archive calls per second (fresh process + handshake + 16 MiB Archive), median of %d:\n' "$repetitions"
printf '  without a backup  %6.1f   (all: %s)\n' "$mi" "$(printf '%.1f ' "${r_idle[@]}")"
printf '  during a backup   %6.1f   (all: %s)\n' "$mk" "$(printf '%.1f ' "${r_backup[@]}")"
printf '  during / without: %.2f\n' "$(calc "$mk / $mi")"
