#!/usr/bin/env bash
# End-to-end test: a real PostgreSQL archives its WAL through the
# wal-directory plugin, and a fresh data directory is recovered from a base
# backup plus that archive, with the same data.
#
#   postgres_e2e.sh PLUGIN_BINARY CLIENT_BINARY
#
# PostgreSQL's archive_command and restore_command run wal-client, which does
# what CloudNativePG's instance manager does: a fresh process per file that
# connects to the plugin's Unix socket, shakes hands and calls Archive or
# Restore with the Cluster JSON carrying the plugin's parameters.
#
# Steps: initdb; start with archiving on (first segment archived with
# check_empty_wal_archive=true, as for a new cluster); write data with WAL
# switches; pg_basebackup without WAL (-X none: the WAL must come from the
# archive); more writes; check every segment in the archive (valid names,
# same bytes as in pg_wal); stop; recover a new data directory from the
# backup through restore_command (as a new Cluster whose recovery source is
# the first one); check it recovered every segment since the backup, hit
# NOT_FOUND at the end of the archive, promoted, archives to its own archive,
# and holds exactly the data written. Also checks the client's refusals:
# check_empty on a non-empty archive, a different file under an archived name.
#
# Everything listens on Unix sockets in a temporary directory only
# (listen_addresses = ''). PostgreSQL refuses to run as root: when run as
# root, the servers, the plugin and the data run as user nobody.
# Environment: PG_BINDIR (default: the newest /usr/lib/postgresql/*/bin, or
# the directory of initdb on PATH); KEEP_E2E_WORKDIR=1 keeps the work
# directory. Exit code 77 (skipped) when PostgreSQL is not installed.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 PLUGIN_BINARY CLIENT_BINARY" >&2
  exit 2
fi
plugin_src=$1
client_src=$2
plugin_name=wal-directory.example.com
started=$(date +%s)

log() { echo "e2e [$(($(date +%s) - started))s]: $*"; }
fail() {
  echo "e2e: FAILED: $*" >&2
  exit 1
}

# --- PostgreSQL ------------------------------------------------------------
pg=${PG_BINDIR:-}
if [[ -z $pg ]]; then
  pg=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null |
    sort -V | tail -n 1 || true)
fi
if [[ -z $pg ]] && command -v initdb >/dev/null; then
  pg=$(dirname "$(command -v initdb)")
fi
for tool in initdb pg_ctl postgres pg_basebackup psql; do
  if [[ -z $pg || ! -x $pg/$tool ]]; then
    echo "e2e: SKIPPED: PostgreSQL's $tool not found (install Debian's postgresql or set PG_BINDIR)"
    exit 77
  fi
done
log "PostgreSQL: $("$pg/postgres" --version)"

# --- work directory, user ----------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/wal-e2e.XXXXXX")
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  command -v setpriv >/dev/null || fail "running as root needs setpriv (util-linux) to drop to nobody"
  # setpriv execs the command itself: a background server's pid is its own.
  as_pg=(setpriv "--reuid=$(id -u nobody)" "--regid=$(id -g nobody)" --clear-groups --)
  log "running as root: PostgreSQL and the plugin run as nobody"
fi
mkdir -p "$work/bin" "$work/plugins" "$work/archive" "$work/run1" "$work/run2" "$work/scratch"
cp "$plugin_src" "$work/bin/wal-directory"
cp "$client_src" "$work/bin/wal-client"
chmod 755 "$work" "$work/bin" "$work/bin/"*
if [[ ${#as_pg[@]} -gt 0 ]]; then
  chown -R nobody "$work"
fi
# PostgreSQL's tools resolve paths against the working directory: it must be
# one the server's user can enter.
cd "$work"

plugin_pid=
cleanup() {
  local status=$?
  set +e
  for data in "$work/primary" "$work/restored"; do
    if [[ -f $data/postmaster.pid ]]; then
      "${as_pg[@]}" "$pg/pg_ctl" -D "$data" -m immediate -w -t 20 stop >/dev/null 2>&1 ||
        kill -KILL "$(head -n 1 "$data/postmaster.pid")" 2>/dev/null
    fi
  done
  if [[ -n $plugin_pid ]]; then
    kill -TERM "$plugin_pid" 2>/dev/null
    for _ in $(seq 50); do
      kill -0 "$plugin_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$plugin_pid" 2>/dev/null
    wait "$plugin_pid" 2>/dev/null
  fi
  if [[ $status -ne 0 ]]; then
    for f in primary.log restored.log plugin.log calls-primary.log calls-restored.log; do
      if [[ -f $work/$f ]]; then
        echo "----- last lines of $f"
        tail -n 25 "$work/$f"
      fi
    done
  fi
  if [[ ${KEEP_E2E_WORKDIR:-0} == 1 ]]; then
    echo "e2e: work directory kept: $work"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# --- the plugin ----------------------------------------------------------------
socket=$work/plugins/$plugin_name
"${as_pg[@]}" "$work/bin/wal-directory" "--plugin-path=$work/plugins" --grace-period=2s \
  >"$work/plugin.log" 2>&1 &
plugin_pid=$!
wait_for 15 test -S "$socket" || fail "the plugin did not create $socket"
log "plugin listening on $socket"

# The Clusters as the operator would send them: the primary archives to
# <archive>/e2e; the recovered one archives to <archive>/restored and
# recovers from its source "origin", which is the first one's archive.
cat >"$work/primary-cluster.json" <<EOF
{"apiVersion":"postgresql.cnpg.io/v1","kind":"Cluster",
 "metadata":{"name":"e2e","namespace":"default"},
 "spec":{"instances":1,
   "plugins":[{"name":"$plugin_name","enabled":true,"isWALArchiver":true,
               "parameters":{"directory":"$work/archive"}}]}}
EOF
cat >"$work/restored-cluster.json" <<EOF
{"apiVersion":"postgresql.cnpg.io/v1","kind":"Cluster",
 "metadata":{"name":"restored","namespace":"default"},
 "spec":{"instances":1,
   "bootstrap":{"recovery":{"source":"origin"}},
   "plugins":[{"name":"$plugin_name","enabled":true,"isWALArchiver":true,
               "parameters":{"directory":"$work/archive"}}],
   "externalClusters":[{"name":"origin",
     "plugin":{"name":"$plugin_name","parameters":{"directory":"$work/archive","serverName":"e2e"}}}]}}
EOF
client="$work/bin/wal-client --socket=$socket"

# --- primary -----------------------------------------------------------------
primary=$work/primary
"${as_pg[@]}" "$pg/initdb" -D "$primary" -U postgres --auth=trust -E UTF8 --locale=C --no-sync \
  >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log"; fail "initdb"; }
cat >>"$primary/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$work/run1'
wal_level = replica
max_wal_senders = 4
# The server's own durability is not under test (the plugin's fsyncs are
# unaffected): skip its fsyncs to keep the test short.
fsync = off
archive_mode = on
archive_command = '$client --log=$work/calls-primary.log archive --cluster=$work/primary-cluster.json %p'
EOF
# What CloudNativePG does after initdb: the first archive must find an empty
# archive (check_empty_wal_archive=true while this marker exists).
"${as_pg[@]}" touch "$primary/.check-empty-wal-archive"

export PGCONNECT_TIMEOUT=10 PGOPTIONS="-c statement_timeout=60s"
sql() { # sql RUNDIR QUERY
  "${as_pg[@]}" "$pg/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$1" -U postgres -d postgres -c "$2"
}
"${as_pg[@]}" "$pg/pg_ctl" -D "$primary" -l "$work/primary.log" -w -t 60 start >/dev/null ||
  fail "the primary did not start"
log "primary started"

# True once the segment named $1 (or a later one) is archived: PostgreSQL
# archives segments in order.
archived_up_to() {
  local last
  last=$(sql "$work/run1" "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
  [[ -n $last && ! $last < $1 ]]
}
wait_archived() {
  wait_for 60 archived_up_to "$1" || fail "segment $1 was not archived within 60 s"
}

checksum_query="SELECT count(*) || ' ' || md5(string_agg(id || ':' || payload, ',' ORDER BY id)) FROM items"
sql "$work/run1" "CREATE TABLE items (id int PRIMARY KEY, payload text NOT NULL)"
sql "$work/run1" "INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 10000) g"
first=$(sql "$work/run1" "SELECT pg_walfile_name(pg_switch_wal())")
wait_archived "$first"
# The first file went into an empty archive; from now on the archive is not
# empty, so CloudNativePG drops the marker once archiving works.
rm -f "$primary/.check-empty-wal-archive"
log "first segment $first archived (check_empty_wal_archive=true)"

# Base backup without WAL: recovery must fetch every segment it needs from
# the archive. The server waits until the backup's last segment is archived.
"${as_pg[@]}" "$pg/pg_basebackup" -h "$work/run1" -U postgres -D "$work/restored" -X none \
  -c fast --no-sync >"$work/basebackup.log" 2>&1 || { cat "$work/basebackup.log"; fail "pg_basebackup"; }
backup_start=$(sed -n 's/^START WAL LOCATION: .*(file \([0-9A-F]\{24\}\)).*/\1/p' \
  "$work/restored/backup_label")
[[ -n $backup_start ]] || fail "no START WAL LOCATION in backup_label"
log "base backup taken, starting at segment $backup_start"

sql "$work/run1" "INSERT INTO items SELECT g, md5(g::text) FROM generate_series(10001, 20000) g"
sql "$work/run1" "UPDATE items SET payload = payload || '+' WHERE id % 7 = 0"
sql "$work/run1" "SELECT pg_switch_wal()" >/dev/null
sql "$work/run1" "DELETE FROM items WHERE id % 13 = 0"
sql "$work/run1" "INSERT INTO items SELECT g, repeat(md5(g::text), 4) FROM generate_series(20001, 30000) g"
last=$(sql "$work/run1" "SELECT pg_walfile_name(pg_switch_wal())")
expected=$(sql "$work/run1" "$checksum_query")
wait_archived "$last"
failed=$(sql "$work/run1" "SELECT failed_count FROM pg_stat_archiver")
log "data written ($expected), last segment $last archived; archiver failures: $failed"
[[ $failed -eq 0 ]] || fail "PostgreSQL reported $failed failed archive attempts"

# A clean shutdown switches to a new segment once more, so that the
# shutdown checkpoint gets archived too.
"${as_pg[@]}" "$pg/pg_ctl" -D "$primary" -m fast -w -t 60 stop >/dev/null || fail "stopping the primary"

# --- the archive ----------------------------------------------------------------
archive=$work/archive/e2e
entries() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort; }
mapfile -t segments < <(entries "$archive" | grep -E '^[0-9A-F]{24}$')
# Besides segments: the backup history file of pg_basebackup, nothing else.
wal_name='^([0-9A-F]{24}(\.partial|\.[0-9A-F]{8}\.backup)?|[0-9A-F]{8}\.history)$'
others=$(entries "$archive" | grep -vcE "$wal_name" || true)
[[ $others -eq 0 ]] || fail "unexpected files in the archive: $(entries "$archive" | tr '\n' ' ')"
entries "$archive" | grep -qE "^${backup_start}\.[0-9A-F]{8}\.backup$" ||
  fail "the backup history file of the base backup was not archived"
[[ ${#segments[@]} -ge 4 ]] || fail "only ${#segments[@]} segments archived: ${segments[*]}"
[[ ${segments[0]} == "000000010000000000000001" ]] || fail "first archived segment is ${segments[0]}"
for s in "${segments[@]}"; do
  if [[ -f $primary/pg_wal/$s ]]; then
    cmp -s "$archive/$s" "$primary/pg_wal/$s" || fail "archived $s differs from pg_wal/$s"
  fi
done
# Gaps would make recovery stop early: the names must be consecutive.
prev=
for s in "${segments[@]}"; do
  if [[ -n $prev ]]; then
    [[ $((16#${s:16:8})) -eq $((16#${prev:16:8} + 1)) ]] || fail "gap in the archive: $prev then $s"
  fi
  prev=$s
done
printf '%s\n' "${segments[@]}" | grep -qx "$last" || fail "segment $last is not in the archive"
archived=${#segments[@]}
log "archive holds $archived segments ${segments[0]}..${segments[-1]}, byte-identical to pg_wal"

# The client's refusals, as PostgreSQL would see them (non-zero exit): a new
# cluster's file into this non-empty archive, and other bytes under a name
# already archived.
printf 'a new cluster' >"$work/scratch/0000000100000000000000F0"
if $client archive --cluster="$work/primary-cluster.json" --check-empty-wal-archive=true \
  "$work/scratch/0000000100000000000000F0" 2>"$work/refusal.log"; then
  fail "check_empty_wal_archive=true on a non-empty archive was accepted"
fi
grep -q "FAILED_PRECONDITION: .*not empty" "$work/refusal.log" || fail "$(cat "$work/refusal.log")"
printf 'not the same bytes' >"$work/scratch/${segments[1]}"
if $client archive --cluster="$work/primary-cluster.json" --check-empty-wal-archive=false \
  "$work/scratch/${segments[1]}" 2>"$work/refusal.log"; then
  fail "a different file under an archived name was accepted"
fi
grep -q "ALREADY_EXISTS: .*${segments[1]}" "$work/refusal.log" || fail "$(cat "$work/refusal.log")"
log "refusals checked: non-empty archive with check_empty, different content under an archived name"

# --- recovery into a fresh data directory -----------------------------------------
restored=$work/restored
cat >>"$restored/postgresql.conf" <<EOF
unix_socket_directories = '$work/run2'
restore_command = '$client --log=$work/calls-restored.log restore --cluster=$work/restored-cluster.json %f %p'
archive_command = '$client --log=$work/calls-restored.log archive --cluster=$work/restored-cluster.json %p'
EOF
"${as_pg[@]}" touch "$restored/recovery.signal"
"${as_pg[@]}" "$pg/pg_ctl" -D "$restored" -l "$work/restored.log" -w -t 90 start >/dev/null ||
  fail "the recovered server did not start"
promoted() { [[ $(sql "$work/run2" "SELECT pg_is_in_recovery()") == f ]]; }
wait_for 60 promoted || fail "recovery did not finish within 60 s"
log "recovery finished and the server was promoted"

actual=$(sql "$work/run2" "$checksum_query")
[[ $actual == "$expected" ]] || fail "recovered data differs: expected '$expected', got '$actual'"
rows=${actual%% *}

# Every segment from the backup's start to the last one came through Restore.
mapfile -t restored_ok < <(sed -n 's/^restore \([0-9A-F]\{24\}\) OK$/\1/p' "$work/calls-restored.log" | sort -u)
needed=0
for s in "${segments[@]}"; do
  [[ $s < $backup_start ]] && continue
  needed=$((needed + 1))
  printf '%s\n' "${restored_ok[@]}" | grep -qx "$s" || fail "segment $s was not restored"
done
grep -qE '^restore [0-9A-F.a-z]+ NOT_FOUND: ' "$work/calls-restored.log" ||
  fail "recovery never got NOT_FOUND for the end of the archive"

# The recovered cluster archives to its own archive: the new timeline's
# history file is there.
wait_for 30 test -f "$work/archive/restored/00000002.history" ||
  fail "the recovered server did not archive 00000002.history to its own archive"

log "PASSED in $(($(date +%s) - started)) s: $archived segments archived, ${#restored_ok[@]} restored" \
  "($needed needed since the backup started at $backup_start), $rows rows verified"
