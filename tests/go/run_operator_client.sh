#!/usr/bin/env bash
# Starts a plugin binary the way it runs for real and drives it with
# cnpgi-go-operator-client, the operator's own stack (grpc-go, crypto/tls,
# evanphx/json-patch):
#
#   run_operator_client.sh CLIENT DATA_DIR unix|tcp NAME PARAMETERS_JSON PLUGIN [ARGS...]
#
# unix: PLUGIN ARGS --plugin-path=DIR, checked on DIR/NAME.
# tcp:  PLUGIN ARGS --server-address=127.0.0.1:0 --server-cert --server-key
#       --client-cert, with certificates made here by openssl as cert-manager's
#       selfSigned issuer makes them (server: DNS SAN = the Service name).
# "@WORK@" in PARAMETERS_JSON is replaced by a scratch directory (for plugins
# that write somewhere, e.g. a WAL archive). The plugin is always stopped.
set -euo pipefail
if [[ $# -lt 6 || ($3 != unix && $3 != tcp) ]]; then
  echo "usage: $0 CLIENT DATA_DIR unix|tcp NAME PARAMETERS_JSON PLUGIN [ARGS...]" >&2
  exit 2
fi
client=$1 data=$2 transport=$3 name=$4 parameters=$5
shift 5
[[ -x $client ]] || { echo "SKIP: $client was not built (no Go toolchain?)"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cnpgi-go-client.XXXXXX")
pid=
cleanup() {
  local status=$?
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
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
wait_for() {
  local deadline=$((SECONDS + 15))
  until "$@"; do ((SECONDS < deadline)) || return 1; sleep 0.1; done
}
mkdir "$work/scratch"
parameters=${parameters//@WORK@/$work}
go_client=("$client" -data "$data" -parameters "$parameters" -wal-dir "$work/scratch")

if [[ $transport == unix ]]; then
  mkdir "$work/plugins"
  "$@" "--plugin-path=$work/plugins" >"$work/plugin.log" 2>&1 &
  pid=$!
  wait_for test -S "$work/plugins/$name" || { echo "no socket $work/plugins/$name"; exit 1; }
  "${go_client[@]}" -socket "$work/plugins/$name"
  exit 0
fi

service=plugin-service
cert() { # cert NAME SUBJECT EXTENSIONS...
  local out=$1 subject=$2
  shift 2
  local ext=()
  for e in "$@"; do ext+=(-addext "$e"); done
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "$subject" "${ext[@]}" -keyout "$work/$out.key" -out "$work/$out.crt" 2>/dev/null
}
cert server "/CN=$service" "subjectAltName=DNS:$service" "extendedKeyUsage=serverAuth"
cert client /CN=operator-client "extendedKeyUsage=clientAuth"
"$@" "--server-cert=$work/server.crt" "--server-key=$work/server.key" \
  "--client-cert=$work/client.crt" --server-address=127.0.0.1:0 >"$work/plugin.log" 2>&1 &
pid=$!
listening() { grep -qo 'address=127\.0\.0\.1:[0-9]*' "$work/plugin.log"; }
wait_for listening || { echo "the plugin did not report its address"; exit 1; }
address=$(grep -o 'address=127\.0\.0\.1:[0-9]*' "$work/plugin.log" | head -n 1)
"${go_client[@]}" -address "${address#address=}" -server-name "$service" \
  -client-cert "$work/client.crt" -client-key "$work/client.key" -server-cert "$work/server.crt"
