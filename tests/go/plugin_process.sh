# Sourced by tests/go's run_*.sh: a scratch directory and a plugin process
# that are always cleaned up, and the certificates of a TCP plugin.
#
#   source plugin_process.sh PREFIX      sets $work, traps EXIT/INT/TERM
#   start_plugin COMMAND...              runs it in the background, output in $work/plugin.log
#   wait_for COMMAND...                  retries it for 15 s
#   wait_for_socket PATH                 a Unix socket appears
#   wait_for_address                     $address: the host:port the plugin logged
#   make_certificates SERVICE            $work/{server,client}.{crt,key}, as cert-manager's
#                                        selfSigned issuer makes them (server: DNS SAN SERVICE)
# On failure the cleanup prints the plugin's log and any $work/*.out file.

work=$(mktemp -d "${TMPDIR:-/tmp}/${1:-cnpgi-go}.XXXXXX")
plugin_pid=
cleanup() {
  local status=$?
  if [[ -n $plugin_pid ]]; then
    kill -TERM "$plugin_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$plugin_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$plugin_pid" 2>/dev/null || true
    wait "$plugin_pid" 2>/dev/null || true
  fi
  if [[ $status -ne 0 ]]; then
    for out in "$work"/*.out; do [[ -f $out ]] && { echo "----- $(basename "$out")"; cat "$out"; }; done
    [[ -f $work/plugin.log ]] && { echo "----- plugin log"; tail -n 30 "$work/plugin.log"; }
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_plugin() {
  "$@" >"$work/plugin.log" 2>&1 &
  plugin_pid=$!
}

wait_for() {
  local deadline=$((SECONDS + 15))
  until "$@"; do ((SECONDS < deadline)) || return 1; sleep 0.1; done
}

wait_for_socket() {
  wait_for test -S "$1" || { echo "no socket $1"; exit 1; }
}

logged_address() { grep -qo 'address=127\.0\.0\.1:[0-9]*' "$work/plugin.log"; }
wait_for_address() {
  wait_for logged_address || { echo "the plugin did not report its address"; exit 1; }
  address=$(grep -o 'address=127\.0\.0\.1:[0-9]*' "$work/plugin.log" | head -n 1)
  address=${address#address=}
}

make_certificate() { # NAME SUBJECT EXTENSIONS...
  local out=$1 subject=$2
  shift 2
  local ext=()
  for e in "$@"; do ext+=(-addext "$e"); done
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "$subject" "${ext[@]}" -keyout "$work/$out.key" -out "$work/$out.crt" 2>/dev/null
}
make_certificates() {
  make_certificate server "/CN=$1" "subjectAltName=DNS:$1" "extendedKeyUsage=serverAuth"
  make_certificate client /CN=operator-client "extendedKeyUsage=clientAuth"
}
