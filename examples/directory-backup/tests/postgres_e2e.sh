#!/usr/bin/env bash
# End-to-end test of the directory-backup plugin with a real PostgreSQL,
# driven the way CloudNativePG's instance manager and full-recovery Job drive
# a backup plugin:
#
#   postgres_e2e.sh PLUGIN_BINARY CLIENT_BINARY [CONFORMANCE_BINARY]
#
# PostgreSQL's archive_command runs instance-client, which does what the
# instance manager does: a fresh process per WAL file that connects to the
# plugin's Unix socket, runs the operator's handshake and calls Archive with
# the Cluster JSON. Backups go through the Backup RPC, recoveries through
# RestoreJobHooks.Restore, then PostgreSQL replays WAL with the answered
# restore_command (CloudNativePG's `/controller/manager wal-restore`, played
# here by a small shim calling instance-client restore).
#
# The story:
#  1. initdb, start with archiving through the plugin (the first segment with
#     check_empty_wal_archive=true, as for a new cluster), write data;
#  2. backup 1 through the Backup RPC, paced by maxRate so that it lasts
#     seconds, while writes and WAL switches go on: archiving keeps completing
#     during the backup, and a second Backup meanwhile is refused;
#  3. the plugin killed (SIGKILL) in the middle of another backup: nothing is
#     listed, PostgreSQL's backup ended with the session, and the next backup
#     succeeds;
#  4. batch A, a recovery target time T, batch B, backup 2, batch C;
#  5. point-in-time recovery to T into an empty PGDATA, as the full-recovery
#     Job does it (Restore picks backup 1, the newest that ended before T):
#     rows up to T present, later rows absent; the recovered cluster archives
#     its new timeline into its own store;
#  6. recovery to the end of WAL from the newest backup: every row;
#  7. faults: a WAL segment missing in the middle of recovery (NOT_FOUND,
#     PostgreSQL stops without promoting), a damaged backup file (DATA_LOSS,
#     nothing restored), a backup id that does not exist, a store in use with
#     check_empty_wal_archive, a Backup of a stopped instance;
#  and checks that each Backup answer's LSNs and WAL names are what
#  PostgreSQL wrote in the backup history file.
# With CONFORMANCE_BINARY, cnpgi-conformance also runs its backup and
# restore-job checks against the plugin.
#
# Everything listens on Unix sockets in a temporary directory only
# (listen_addresses = ''). PostgreSQL refuses to run as root: when run as
# root, the servers, the plugin and the data run as user nobody (see
# postgres_lib.sh). Environment: PG_BINDIR (default: the newest
# /usr/lib/postgresql/*/bin, or the directory of initdb on PATH);
# KEEP_E2E_WORKDIR=1 keeps the work directory. Exit code 77 (skipped) when
# PostgreSQL is not installed.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 PLUGIN_BINARY CLIENT_BINARY [CONFORMANCE_BINARY]" >&2
  exit 2
fi
plugin_src=$1
client_src=$2
conformance=${3:-}
# shellcheck source=postgres_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/postgres_lib.sh"
pg_harness_setup e2e "$plugin_src" "$client_src"
mkdir -p "$work/backups" "$work/scratch"
[[ ${#as_pg[@]} -eq 0 ]] || chown nobody "$work/backups" "$work/scratch"

# The Clusters as the operator sends them. The primary "e2e" archives to
# <backups>/e2e; recovered clusters archive to their own store and recover
# from their source "origin", the store of e2e.
cluster_json() { # cluster_json NAME [RECOVERY_TARGET_JSON]
  local recovery=""
  if [[ $# -ge 2 ]]; then
    recovery=",\"bootstrap\":{\"recovery\":{\"source\":\"origin\",\"recoveryTarget\":$2}},
     \"externalClusters\":[{\"name\":\"origin\",\"plugin\":{\"name\":\"$plugin_name\",
       \"parameters\":{\"destination\":\"$work/backups\",\"serverName\":\"e2e\"}}}]"
  fi
  cat <<EOF
{"apiVersion":"postgresql.cnpg.io/v1","kind":"Cluster",
 "metadata":{"name":"$1","namespace":"default"},
 "spec":{"instances":1,
   "plugins":[{"name":"$plugin_name","enabled":true,"isWALArchiver":true,
     "parameters":{"destination":"$work/backups","immediateCheckpoint":"true"}}]$recovery}}
EOF
}
backup_json() { # backup_json NAME [MAX_RATE]
  local parameters="{}"
  [[ $# -lt 2 ]] || parameters="{\"maxRate\":\"$2\"}"
  cat <<EOF
{"apiVersion":"postgresql.cnpg.io/v1","kind":"Backup",
 "metadata":{"name":"$1","namespace":"default"},
 "spec":{"cluster":{"name":"e2e"},"method":"plugin","target":"primary",
   "pluginConfiguration":{"name":"$plugin_name","parameters":$parameters}}}
EOF
}
cluster_json e2e >"$work/e2e.json"

checksum_query="SELECT count(*) || ' ' || md5(string_agg(id || ':' || payload, ',' ORDER BY id)) FROM items"

# --- 1. the primary ------------------------------------------------------------
init_primary primary "$work/e2e.json"
primary=$work/primary
log "primary started, archiving through the plugin"

archived_count() { sql "$work/run-primary" "SELECT archived_count FROM pg_stat_archiver"; }
# True once the segment named $1 (or a later one) is archived: PostgreSQL
# archives segments in order.
archived_up_to() {
  local last
  last=$(sql "$work/run-primary" "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
  [[ -n $last && ! $last < $1 ]]
}
switch_and_wait() {
  local segment
  segment=$(sql "$work/run-primary" "SELECT pg_walfile_name(pg_switch_wal())")
  wait_for 60 archived_up_to "$segment" || fail "segment $segment was not archived within 60 s"
}

sql "$work/run-primary" "CREATE TABLE items (id int PRIMARY KEY, payload text NOT NULL)"
switch_and_wait
# The first file went into an empty store; from now on it is not empty, so
# CloudNativePG drops the marker once archiving works.
rm -f "$primary/.check-empty-wal-archive"
# Some bulk, so that a paced backup lasts a few seconds.
sql "$work/run-primary" "CREATE TABLE filler AS SELECT g, repeat(md5(g::text), 8) AS t FROM generate_series(1, 60000) g"
sql "$work/run-primary" "INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 10000) g"
store=$work/backups/e2e
[[ -f $store/wals/00000001/000000010000000000000001 ]] ||
  fail "the first segment is not in the store's timeline directory: $(find "$store" | head)"
log "first segments archived into $store/wals/00000001 (check_empty_wal_archive=true)"

# Checks a Backup answer (JSON, proto field names) against the backup history
# file PostgreSQL archived for it.
check_backup_answer() { # check_backup_answer ANSWER_FILE BACKUP_NAME
  python3 - "$1" "$2" "$store" <<'PY' || fail "the Backup answer in $1 does not match PostgreSQL"
import base64, glob, json, os, re, sys
answer, name, store = sys.argv[1], sys.argv[2], sys.argv[3]
a = json.load(open(answer))
def need(cond, what):
    if not cond:
        sys.exit(f"{answer}: {what}: {json.dumps(a)[:400]}")
for field in ("backup_id", "backup_name", "begin_wal", "end_wal", "begin_lsn", "end_lsn",
              "backup_label_file", "started_at", "stopped_at"):
    need(a.get(field), f"{field} is empty")
need(a["backup_name"] == name, f"backup_name is {a['backup_name']}, not {name}")
started, stopped = int(a["started_at"]), int(a["stopped_at"])
need(1_600_000_000 < started <= stopped < 100_000_000_000, "started_at/stopped_at are not Unix seconds in order")
need(a.get("online") is True, "online is not true")
label = base64.b64decode(a["backup_label_file"]).decode()
m = re.search(r"START WAL LOCATION: (\S+) \(file (\w+)\)", label)
need(m and m.group(1) == a["begin_lsn"] and m.group(2) == a["begin_wal"], "backup_label disagrees with begin_lsn/begin_wal")
# The backup history file PostgreSQL archived: <begin_wal>.<offset>.backup
history = glob.glob(os.path.join(store, "wals", a["begin_wal"][:8], a["begin_wal"] + ".*.backup"))
history = [h for h in history if open(h).read().find(a["backup_id"]) >= 0]
need(len(history) == 1, "no backup history file of this backup in the archive")
text = open(history[0]).read()
start = re.search(r"START WAL LOCATION: (\S+) \(file (\w+)\)", text)
stop = re.search(r"STOP WAL LOCATION: (\S+) \(file (\w+)\)", text)
need(start.groups() == (a["begin_lsn"], a["begin_wal"]), f"begin differs from PostgreSQL's {start.groups()}")
need(stop.groups() == (a["end_lsn"], a["end_wal"]), f"end differs from PostgreSQL's {stop.groups()}")
meta = a.get("metadata", {})
need(int(meta.get("files", 0)) > 100 and int(meta.get("bytes", 0)) > 0, "metadata lacks files/bytes")
manifest = json.load(open(os.path.join(store, "base", a["backup_id"], "manifest.json")))
files = [e for e in manifest["entries"] if e["type"] == "file"]
need(len(files) == int(meta["files"]) and all(len(e["sha256"]) == 64 for e in files),
     "manifest.json does not list every file with its SHA-256")
print(f"{a['backup_id']}: {a['begin_wal']} {a['begin_lsn']} .. {a['end_wal']} {a['end_lsn']}, "
      f"{meta['files']} files, {int(meta['bytes']) >> 20} MiB, {stopped - started} s")
PY
}
backups_listed() { find "$store/base" -mindepth 1 -maxdepth 1 -name '[0-9]*' -printf '%f\n' | sort; }
# A backup is being written (its temporary directory exists).
copying() { find "$store/base" -mindepth 1 -maxdepth 1 -name '.[0-9]*.tmp.*' 2>/dev/null | grep -q .; }
# PostgreSQL sessions of the plugin (application_name directory-backup).
no_plugin_session() {
  [[ $(sql "$work/run-primary" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'directory-backup'") == 0 ]]
}

# --- 2. backup 1 while writes and archiving go on ---------------------------------
backup_json e2e-backup-1 3Mi >"$work/backup-1.json"
run "$client" --socket="$(socket primary-pod)" --cluster="$work/e2e.json" --timeout=600 \
  backup --backup="$work/backup-1.json" >"$work/backup-1.answer" 2>"$work/backup-1.err" &
backup_pid=$!
wait_for 30 copying ||
  fail "backup 1 did not start copying: $(cat "$work/backup-1.err")"
archived_before=$(archived_count)
id=10001
rounds=0
while kill -0 "$backup_pid" 2>/dev/null && ((rounds < 4)); do
  sql "$work/run-primary" "INSERT INTO items SELECT g, md5(g::text) FROM generate_series($id, $((id + 799))) g"
  id=$((id + 800))
  switch_and_wait
  rounds=$((rounds + 1))
  if ((rounds == 2)); then
    # A second Backup of the same server meanwhile: refused, saying why.
    backup_json e2e-backup-concurrent >"$work/backup-c.json"
    if run "$client" --socket="$(socket primary-pod)" --cluster="$work/e2e.json" \
      backup --backup="$work/backup-c.json" >/dev/null 2>"$work/backup-c.err"; then
      fail "a second Backup while one runs was accepted"
    fi
    grep -q "FAILED_PRECONDITION: .*another backup of this server is running (backup e2e-backup-1" \
      "$work/backup-c.err" || fail "second Backup: $(cat "$work/backup-c.err")"
  fi
done
archived_during=$(($(archived_count) - archived_before))
kill -0 "$backup_pid" 2>/dev/null ||
  fail "backup 1 ended before the test could watch archiving during it (rounds: $rounds)"
((archived_during >= 3)) || fail "only $archived_during WAL files were archived during the backup"
log "while backup 1 ran: $rounds write rounds, $archived_during WAL files archived, a second Backup refused"
wait "$backup_pid" || fail "backup 1: $(cat "$work/backup-1.err")"
sql "$work/run-primary" "INSERT INTO items SELECT g, md5(g::text) FROM generate_series($id, 20000) g"
log "backup 1: $(check_backup_answer "$work/backup-1.answer" e2e-backup-1)"
backup1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["backup_id"])' "$work/backup-1.answer")

# --- 3. the plugin killed in the middle of a backup ------------------------------
backup_json e2e-backup-killed 2Mi >"$work/backup-k.json"
run "$client" --socket="$(socket primary-pod)" --cluster="$work/e2e.json" --timeout=600 \
  backup --backup="$work/backup-k.json" >/dev/null 2>"$work/backup-k.err" &
killed_pid=$!
wait_for 30 copying || fail "the backup to kill did not start"
sleep 1
kill -KILL "${plugins[primary-pod]}"
wait "${plugins[primary-pod]}" 2>/dev/null || true
if wait "$killed_pid"; then fail "a backup whose plugin was killed answered OK"; fi
[[ $(backups_listed) == "$backup1" ]] || fail "after the kill, the store lists: $(backups_listed | tr '\n' ' ')"
# PostgreSQL ended the non-exclusive backup with the plugin's session.
wait_for 10 no_plugin_session ||
  fail "the killed plugin's backup session is still open in PostgreSQL"
start_plugin primary-pod instance PGHOST="$work/run-primary" PGUSER=postgres PGDATABASE=postgres
log "plugin killed during a backup: nothing listed, PostgreSQL's backup ended, plugin restarted"

# --- 4. batch A, target T, batch B, backup 2, batch C ---------------------------
sql "$work/run-primary" "INSERT INTO items SELECT g, md5(g::text) || 'A' FROM generate_series(20001, 30000) g"
sql "$work/run-primary" "UPDATE items SET payload = payload || '+' WHERE id % 7 = 0"
expected_at_target=$(sql "$work/run-primary" "$checksum_query")
sleep 1.1
target_time=$(sql "$work/run-primary" "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
sleep 1.1
sql "$work/run-primary" "INSERT INTO items SELECT g, md5(g::text) || 'B' FROM generate_series(30001, 40000) g"
sql "$work/run-primary" "DELETE FROM items WHERE id % 13 = 0"
switch_and_wait
backup_json e2e-backup-2 >"$work/backup-2.json"
run "$client" --socket="$(socket primary-pod)" --cluster="$work/e2e.json" --timeout=600 \
  backup --backup="$work/backup-2.json" >"$work/backup-2.answer" 2>"$work/backup-2.err" ||
  fail "backup 2 (after the kill): $(cat "$work/backup-2.err")"
log "backup 2: $(check_backup_answer "$work/backup-2.answer" e2e-backup-2)"
copying && fail "the killed backup's files are still in the store"
sql "$work/run-primary" "INSERT INTO items SELECT g, repeat(md5(g::text), 3) FROM generate_series(40001, 50000) g"
expected_at_end=$(sql "$work/run-primary" "$checksum_query")
switch_and_wait
failed=$(sql "$work/run-primary" "SELECT failed_count FROM pg_stat_archiver")
[[ $failed -eq 0 ]] || fail "PostgreSQL reported $failed failed archive attempts"
log "data written: at T ($target_time) $expected_at_target; at the end $expected_at_end"

if [[ -n $conformance ]]; then
  "$conformance" --socket "$(socket primary-pod)" --plugin-name "$plugin_name" \
    --plugin-parameters "destination=$work/backups,serverName=e2e,immediateCheckpoint=true" \
    --wal-dir "$work/scratch" --backup --timeout 300s >"$work/conformance-instance.out" 2>&1 ||
    { cat "$work/conformance-instance.out"; fail "cnpgi-conformance against the instance sidecar"; }
  grep -q '^PASS  backup.result' "$work/conformance-instance.out" ||
    { cat "$work/conformance-instance.out"; fail "the checker's backup.result did not pass"; }
  log "cnpgi-conformance (instance, --backup): $(tail -n 1 "$work/conformance-instance.out")"
fi
run "$pg/pg_ctl" -D "$primary" -m fast -w -t 60 stop >/dev/null || fail "stopping the primary"

# A Backup of a stopped instance: refused, saying PostgreSQL is not there.
backup_json e2e-backup-stopped >"$work/backup-s.json"
if run "$client" --socket="$(socket primary-pod)" --cluster="$work/e2e.json" \
  backup --backup="$work/backup-s.json" >/dev/null 2>"$work/backup-s.err"; then
  fail "a Backup of a stopped instance answered OK"
fi
grep -q "UNAVAILABLE: .*cannot connect to PostgreSQL" "$work/backup-s.err" || fail "$(cat "$work/backup-s.err")"
copying && fail "a refused Backup left files behind"

# --- recoveries -------------------------------------------------------------------
# recover NAME TARGET_JSON [POSTGRES_TARGET_LINES]: the full-recovery Job of a
# new Cluster NAME: its restore sidecar restores PGDATA, PostgreSQL recovers
# with the answered configuration plus the target, as the operator writes it.
# Leaves the server running (or stopped, if recovery failed) in $work/NAME.
recover() {
  local name=$1 target=$2 target_lines=${3:-}
  local data=$work/$name-pgdata rundir=$work/run-$name
  cluster_json "$name" "$target" >"$work/$name.json"
  mkdir -p "$rundir"
  [[ ${#as_pg[@]} -eq 0 ]] || chown nobody "$rundir"
  start_plugin "$name-job" restore PGDATA="$data"
  run "$client" --socket="$(socket "$name-job")" --cluster="$work/$name.json" --timeout=600 \
    --check-empty-wal-archive=true restore-job >"$work/$name.restore-config" 2>"$work/$name.err" ||
    fail "RestoreJobHooks.Restore for $name: $(cat "$work/$name.err")"
  grep -qx "restore_command = '/controller/manager wal-restore --log-destination /controller/log/postgres.json %f %p'" \
    "$work/$name.restore-config" || fail "unexpected restore_config: $(cat "$work/$name.restore-config")"
  [[ -f $data/backup_label && -f $data/PG_VERSION ]] || fail "Restore answered OK but $data holds no backup"
  # CloudNativePG's instance manager, as far as recovery uses it.
  cat >"$work/bin/manager-$name" <<EOF
#!/bin/sh
[ "\$1" = wal-restore ] || { echo "manager shim: only wal-restore" >&2; exit 2; }
shift
[ "\$1" = --log-destination ] && shift 2
exec $client --socket=$(socket "$name-job") --cluster=$work/$name.json --log=$work/calls-$name.log restore "\$1" "\$2"
EOF
  chmod 755 "$work/bin/manager-$name"
  {
    echo "unix_socket_directories = '$rundir'"
    echo "archive_command = 'false'"
    sed "s|/controller/manager|$work/bin/manager-$name|" "$work/$name.restore-config"
    printf '%s\n' "$target_lines"
  } | run tee -a "$data/postgresql.conf" >/dev/null
  run touch "$data/recovery.signal"
  servers+=("$data")
  run "$pg/pg_ctl" -D "$data" -l "$work/postgres-$name.log" -W start >/dev/null ||
    fail "the $name server did not start"
}
promoted() { [[ $(sql "$1" "SELECT pg_is_in_recovery()" 2>/dev/null) == f ]]; }
restored_backup() { grep -o '"msg":"restoring"[^}]*"backup":"[^"]*"' "$work/$1-job.log" | sed 's/.*"backup":"//;s/"$//'; }

# --- 5. point-in-time recovery to T ------------------------------------------------
recover pitr "{\"targetTime\":\"$target_time\"}" "recovery_target_time = '$target_time'"
wait_for 90 promoted "$work/run-pitr" || fail "point-in-time recovery did not promote within 90 s"
[[ $(restored_backup pitr) == "$backup1" ]] ||
  fail "Restore picked backup $(restored_backup pitr), not $backup1 (the newest that ended before T)"
actual=$(sql "$work/run-pitr" "$checksum_query")
[[ $actual == "$expected_at_target" ]] ||
  fail "recovered to T: expected '$expected_at_target', got '$actual'"
[[ $(sql "$work/run-pitr" "SELECT count(*) FROM items WHERE id > 30000") == 0 ]] ||
  fail "rows written after T are present"
grep -qE '^restore [0-9A-F]{24} OK$' "$work/calls-pitr.log" || fail "no WAL came through WAL Restore"
restored_pitr=$(grep -cE '^restore [0-9A-F]{24} OK$' "$work/calls-pitr.log")
log "point-in-time recovery to T from $backup1: ${actual%% *} rows, as at T; $restored_pitr segments through WAL Restore"
# As an instance Pod of the new cluster: archiving through the plugin into
# its own, empty store (the new timeline's history file first).
run "$pg/pg_ctl" -D "$work/pitr-pgdata" -m fast -w -t 60 stop >/dev/null
echo "archive_command = '$client --socket=$(socket pitr-job) --log=$work/calls-pitr.log archive --cluster=$work/pitr.json %p'" |
  run tee -a "$work/pitr-pgdata/postgresql.conf" >/dev/null
run "$pg/pg_ctl" -D "$work/pitr-pgdata" -l "$work/postgres-pitr.log" -w -t 60 start >/dev/null
wait_for 30 test -f "$work/backups/pitr/wals/00000002/00000002.history" ||
  fail "the recovered cluster did not archive 00000002.history into its own store"
run "$pg/pg_ctl" -D "$work/pitr-pgdata" -m fast -w -t 60 stop >/dev/null
log "the recovered cluster archives timeline 2 into its own store"

# --- 6. recovery to the end of WAL ------------------------------------------------
recover end "{}"
wait_for 90 promoted "$work/run-end" || fail "recovery to the end did not promote within 90 s"
actual=$(sql "$work/run-end" "$checksum_query")
[[ $actual == "$expected_at_end" ]] || fail "recovered to the end: expected '$expected_at_end', got '$actual'"
grep -qE '^restore [0-9A-F]{24} NOT_FOUND: ' "$work/calls-end.log" ||
  fail "recovery never got NOT_FOUND at the end of the archive"
run "$pg/pg_ctl" -D "$work/end-pgdata" -m fast -w -t 60 stop >/dev/null
log "recovery to the end from $(restored_backup end): ${actual%% *} rows, every one"

# --- 7. faults ---------------------------------------------------------------------
# A segment missing in the middle: recovery to T stops cleanly (PostgreSQL
# ends recovery before the target and shuts down; it does not promote).
end1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end_wal"])' "$work/backup-1.answer")
gap=$(printf '%s%08X' "${end1:0:16}" $((16#${end1:16:8} + 1)))
[[ -f $store/wals/00000001/$gap ]] || fail "no segment $gap to take away"
mv "$store/wals/00000001/$gap" "$work/scratch/"
recover gap "{\"targetTime\":\"$target_time\"}" "recovery_target_time = '$target_time'"
wait_for 90 grep -q "database system is shut down" "$work/postgres-gap.log" ||
  fail "with segment $gap missing, recovery neither stopped nor failed within 90 s"
grep -q "recovery ended before configured recovery target was reached" "$work/postgres-gap.log" ||
  fail "PostgreSQL did not stop at the gap: $(tail -n 5 "$work/postgres-gap.log")"
grep -qE "^restore $gap NOT_FOUND: " "$work/calls-gap.log" || fail "Restore of $gap did not answer NOT_FOUND"
mv "$work/scratch/$gap" "$store/wals/00000001/"
log "segment $gap missing: NOT_FOUND, PostgreSQL stopped before the target without promoting"

# Damaged backups are refused at Restore, and nothing is written.
damaged() { # damaged NAME CHANGE FILE
  local name=$1 change=$2 file=$3
  local copy=$work/scratch/original
  cp -p "$file" "$copy"
  case $change in
    truncate) truncate -s -1 "$file" ;;
    alter) printf 'X' | dd of="$file" bs=1 seek=100 conv=notrunc status=none ;;
  esac
  cluster_json "$name" "{\"backupID\":\"$backup1\"}" >"$work/$name.json"
  start_plugin "$name-job" restore PGDATA="$work/$name-pgdata"
  if run "$client" --socket="$(socket "$name-job")" --cluster="$work/$name.json" \
    restore-job >/dev/null 2>"$work/$name.err"; then
    fail "Restore of a backup with a $change file answered OK"
  fi
  grep -q "DATA_LOSS: .*backup $backup1 is damaged: ${file#"$store/base/$backup1/data/"} does not match its checksum" \
    "$work/$name.err" || fail "$(cat "$work/$name.err")"
  [[ ! -e $work/$name-pgdata ]] || fail "a refused Restore created $work/$name-pgdata"
  [[ -z $(find "$work" -maxdepth 1 -name ".$name-pgdata.tmp.*") ]] || fail "a refused Restore left files behind"
  cp -p "$copy" "$file"
}
largest=$(find "$store/base/$backup1/data/base" -type f -printf '%s %p\n' | sort -n | tail -n 1 | cut -d' ' -f2)
damaged truncated truncate "$largest"
damaged altered alter "$store/base/$backup1/data/global/pg_control"
log "a truncated and an altered backup file: DATA_LOSS naming the file, nothing restored"

cluster_json missing '{"backupID":"20000101T000000"}' >"$work/missing.json"
if run "$client" --socket="$(socket altered-job)" --cluster="$work/missing.json" restore-job \
  >/dev/null 2>"$work/missing.err"; then
  fail "Restore of a backup that does not exist answered OK"
fi
grep -q 'NOT_FOUND: .*backupID "20000101T000000" does not exist' "$work/missing.err" || fail "$(cat "$work/missing.err")"
# A new cluster whose own store is already in use (here: the store of e2e).
sed 's|"immediateCheckpoint":"true"}|"immediateCheckpoint":"true","serverName":"e2e"}|' "$work/end.json" >"$work/in-use.json"
if run "$client" --socket="$(socket altered-job)" --cluster="$work/in-use.json" \
  --check-empty-wal-archive=true restore-job >/dev/null 2>"$work/in-use.err"; then
  fail "Restore with check_empty_wal_archive into a store in use answered OK"
fi
grep -q "FAILED_PRECONDITION: .*is already in use" "$work/in-use.err" || fail "$(cat "$work/in-use.err")"
log "refused: a backup id that does not exist, a new cluster's store already in use"

if [[ -n $conformance ]]; then
  # The fixture Cluster has a WAL volume: PGDATA and the WAL directory as in
  # an instance Pod (<volume>/data/pgdata, <volume>/wal/pg_wal).
  mkdir -p "$work/conformance"
  [[ ${#as_pg[@]} -eq 0 ]] || chown nobody "$work/conformance"
  start_plugin conformance-job restore PGDATA="$work/conformance/data/pgdata"
  "$conformance" --socket "$(socket conformance-job)" --plugin-name "$plugin_name" \
    --plugin-parameters "destination=$work/backups,serverName=e2e" --restore-job \
    --timeout 300s >"$work/conformance-restore.out" 2>&1 ||
    { cat "$work/conformance-restore.out"; fail "cnpgi-conformance against the restore sidecar"; }
  grep -q '^PASS  restore-job.result' "$work/conformance-restore.out" ||
    { cat "$work/conformance-restore.out"; fail "the checker's restore-job.result did not pass"; }
  [[ -f $work/conformance/data/pgdata/backup_label ]] || fail "the checker's Restore wrote no PGDATA"
  [[ -L $work/conformance/data/pgdata/pg_wal && -d $work/conformance/wal/pg_wal/archive_status ]] ||
    fail "the checker's Restore did not put pg_wal on the WAL volume"
  log "cnpgi-conformance (restore, --restore-job): $(tail -n 1 "$work/conformance-restore.out")"
fi

log "PASSED in $(($(date +%s) - started)) s"
