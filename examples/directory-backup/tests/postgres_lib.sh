# shellcheck shell=bash
# Shared by postgres_e2e.sh and bench/backup_bench.sh: a work directory with
# the plugin and instance-client, PostgreSQL found and run as an unprivileged
# user, plugin processes by role, and cleanup of all of it on exit.
#
#   source postgres_lib.sh
#   pg_harness_setup TAG PLUGIN_BINARY CLIENT_BINARY
#
# Then: $pg (PostgreSQL's bin directory), $work, $client, run CMD (as the
# PostgreSQL user), sql RUNDIR QUERY, wait_for SECONDS CMD, start_plugin
# NAME ROLE [ENV=VALUE...], socket NAME, log, fail; servers+=(PGDATA) for the
# servers to stop at the end. Exit code 77 (skipped) without PostgreSQL.
# KEEP_E2E_WORKDIR=1 keeps the work directory.

plugin_name=directory-backup.example.com
started=$(date +%s)
tag=pg

log() { echo "$tag [$(($(date +%s) - started))s]: $*"; }
fail() {
  echo "$tag: FAILED: $*" >&2
  exit 1
}

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

run() { "${as_pg[@]}" "$@"; }
sql() { # sql RUNDIR QUERY
  run "$pg/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$1" -U postgres -d postgres -c "$2"
}

# start_plugin NAME ROLE [ENV=VALUE...]: a plugin process of ROLE with its
# own socket directory $work/NAME (one per Pod in a cluster).
declare -A plugins=()
start_plugin() {
  local name=$1 role=$2
  shift 2
  mkdir -p "$work/$name"
  [[ ${#as_pg[@]} -eq 0 ]] || chown nobody "$work/$name"
  rm -f "$work/$name/$plugin_name" # a killed plugin's socket
  env "$@" "${as_pg[@]}" "$work/bin/directory-backup" "$role" "--plugin-path=$work/$name" \
    --grace-period=2s --log-format=json >>"$work/$name.log" 2>&1 &
  plugins[$name]=$!
  wait_for 15 test -S "$work/$name/$plugin_name" || fail "plugin $name ($role) did not start"
}
socket() { echo "$work/$1/$plugin_name"; }

servers=()
pg_harness_cleanup() {
  local status=$?
  set +e
  for data in "${servers[@]}"; do
    if [[ -f $data/postmaster.pid ]]; then
      run "$pg/pg_ctl" -D "$data" -m immediate -w -t 20 stop >/dev/null 2>&1 ||
        kill -KILL "$(head -n 1 "$data/postmaster.pid")" 2>/dev/null
    fi
  done
  for name in "${!plugins[@]}"; do
    kill -TERM "${plugins[$name]}" 2>/dev/null
  done
  for name in "${!plugins[@]}"; do
    for _ in $(seq 50); do
      kill -0 "${plugins[$name]}" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "${plugins[$name]}" 2>/dev/null
    wait "${plugins[$name]}" 2>/dev/null
  done
  if [[ $status -ne 0 ]]; then
    for f in "$work"/*.log; do
      [[ -f $f ]] || continue
      echo "----- last lines of $(basename "$f")"
      tail -n 20 "$f"
    done
  fi
  if [[ ${KEEP_E2E_WORKDIR:-0} == 1 ]]; then
    echo "$tag: work directory kept: $work"
  else
    rm -rf "$work"
  fi
  exit "$status"
}

pg_harness_setup() { # TAG PLUGIN_BINARY CLIENT_BINARY
  tag=$1
  local plugin_src=$2 client_src=$3
  pg=${PG_BINDIR:-}
  if [[ -z $pg ]]; then
    pg=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null |
      sort -V | tail -n 1 || true)
  fi
  if [[ -z $pg ]] && command -v initdb >/dev/null; then
    pg=$(dirname "$(command -v initdb)")
  fi
  local tool
  for tool in initdb pg_ctl postgres psql pg_basebackup; do
    if [[ -z $pg || ! -x $pg/$tool ]]; then
      echo "$tag: SKIPPED: PostgreSQL's $tool not found (install Debian's postgresql or set PG_BINDIR)"
      exit 77
    fi
  done
  log "PostgreSQL: $("$pg/postgres" --version)"

  work=$(mktemp -d "${TMPDIR:-/tmp}/directory-backup-$tag.XXXXXX")
  as_pg=()
  if [[ $(id -u) -eq 0 ]]; then
    command -v setpriv >/dev/null || fail "running as root needs setpriv (util-linux) to drop to nobody"
    # setpriv execs the command itself: a background process's pid is its own.
    as_pg=(setpriv "--reuid=$(id -u nobody)" "--regid=$(id -g nobody)" --clear-groups --)
    log "running as root: PostgreSQL and the plugin run as nobody"
  fi
  mkdir -p "$work/bin"
  cp "$plugin_src" "$work/bin/directory-backup"
  cp "$client_src" "$work/bin/instance-client"
  chmod 755 "$work" "$work/bin" "$work/bin/"*
  [[ ${#as_pg[@]} -eq 0 ]] || chown -R nobody "$work"
  client="$work/bin/instance-client"
  trap pg_harness_cleanup EXIT
  trap 'exit 130' INT TERM
  # PostgreSQL's tools resolve paths against the working directory: it must
  # be one the server's user can enter.
  cd "$work" || fail "cannot enter $work"
}

# init_primary NAME CLUSTER_JSON: initdb and start a server in $work/NAME
# (socket in $work/run-NAME) archiving through the instance plugin
# $work/NAME-pod, which backs it up too.
init_primary() {
  local name=$1 cluster=$2
  local data=$work/$name rundir=$work/run-$name
  mkdir -p "$rundir"
  [[ ${#as_pg[@]} -eq 0 ]] || chown nobody "$rundir"
  start_plugin "$name-pod" instance PGHOST="$rundir" PGUSER=postgres PGDATABASE=postgres
  servers+=("$data")
  run "$pg/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync \
    >"$work/initdb-$name.log" 2>&1 || { cat "$work/initdb-$name.log"; fail "initdb"; }
  cat >>"$data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$rundir'
wal_level = replica
# The server's own durability is not under test (the plugin's fsyncs are
# unaffected): skip its fsyncs to keep the test short.
fsync = off
archive_mode = on
archive_command = '$client --socket=$(socket "$name-pod") --log=$work/calls-$name.log archive --cluster=$cluster %p'
CONF
  # What CloudNativePG does after initdb: the first archive must find an
  # empty store (check_empty_wal_archive=true while this marker exists).
  run touch "$data/.check-empty-wal-archive"
  run "$pg/pg_ctl" -D "$data" -l "$work/postgres-$name.log" -w -t 60 start >/dev/null ||
    fail "the $name server did not start"
}

export PGCONNECT_TIMEOUT=10 PGOPTIONS="-c statement_timeout=300s"
