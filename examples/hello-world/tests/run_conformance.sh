#!/usr/bin/env bash
# Runs cnpgi-conformance against the hello-world binary, started the way it
# runs for real:
#
#   run_conformance.sh unix|tcp CONFORMANCE_BINARY PLUGIN_BINARY
#
# Self-contained on purpose: an example is meant to be copied out of this
# repository as the start of a plugin project, so it shares no script with
# the other example (examples/*/tests/run_conformance.sh start alike).
#
# unix: `hello-world plugin --plugin-path=DIR`, checked through its socket.
# tcp:  `hello-world plugin --server-address=127.0.0.1:0 --server-cert=...
#       --server-key=... --client-cert=...` (the Deployment's flags) with
#       certificates made here by openssl the way cert-manager's selfSigned
#       issuer makes them: a server certificate for the Service name
#       hello-world (DNS SAN, server auth) and a client certificate (client
#       auth). The checker connects like the operator (TLS 1.3, client
#       certificate, the server certificate pinned, the Service name
#       verified); a second run with the wrong name must be refused.
# The plugin is always stopped, also when a check fails.
set -euo pipefail

if [[ $# -ne 3 || ($1 != unix && $1 != tcp) ]]; then
  echo "usage: $0 unix|tcp CONFORMANCE_BINARY PLUGIN_BINARY" >&2
  exit 2
fi
transport=$1
conformance=$2
plugin=$3
name=cnpg-i-hello-world.cloudnative-pg.io

work=$(mktemp -d "${TMPDIR:-/tmp}/hello-world-conformance.XXXXXX")
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

# Waits up to 15 s for the command after it to succeed.
wait_for() {
  local deadline=$((SECONDS + 15))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# The plugin's configuration in the checker's fixture Cluster (JSON values
# hold commas, so a config file rather than --plugin-parameters).
cat >"$work/config.json" <<JSON
{"pluginName": "$name",
 "parameters": {"labels": "{\"team\":\"payments\",\"tier\":\"db\"}",
                "annotations": "{\"example.com/owner\":\"dba@example.com\"}",
                "imagePullPolicy": "IfNotPresent"}}
JSON
check=("$conformance" --config "$work/config.json" --timeout 90s)

if [[ $transport == unix ]]; then
  mkdir "$work/plugins"
  "$plugin" plugin "--plugin-path=$work/plugins" --grace-period=1s >"$work/plugin.log" 2>&1 &
  pid=$!
  wait_for test -S "$work/plugins/$name" || { echo "no socket $work/plugins/$name"; exit 1; }
  "${check[@]}" --socket "$work/plugins/$name"
  exit 0
fi

# TCP with mutual TLS.
cert() { # cert NAME SUBJECT EXTENSIONS...
  local out=$1 subject=$2
  shift 2
  local ext=()
  for e in "$@"; do ext+=(-addext "$e"); done
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "$subject" "${ext[@]}" -keyout "$work/$out.key" -out "$work/$out.crt" 2>/dev/null
}
cert server /CN=hello-world "subjectAltName=DNS:hello-world" "extendedKeyUsage=serverAuth"
cert client /CN=hello-world-client "extendedKeyUsage=clientAuth"
"$plugin" plugin "--server-cert=$work/server.crt" "--server-key=$work/server.key" \
  "--client-cert=$work/client.crt" --server-address=127.0.0.1:0 --grace-period=1s \
  >"$work/plugin.log" 2>&1 &
pid=$!
listening() { grep -qo 'address=127\.0\.0\.1:[0-9]*' "$work/plugin.log"; }
wait_for listening || { echo "the plugin did not report its address"; exit 1; }
address=$(grep -o 'address=127\.0\.0\.1:[0-9]*' "$work/plugin.log" | head -n 1)
address=${address#address=}
tls=(--address "$address" --client-cert "$work/client.crt" --client-key "$work/client.key"
  --server-cert "$work/server.crt")
"${check[@]}" "${tls[@]}" --server-name hello-world

# The operator verifies the Service name: a certificate without it is refused
# (exit status 2: the plugin cannot be talked to), at the TLS handshake.
status=0
"$conformance" "${tls[@]}" --server-name not-the-service --check metadata --timeout 20s \
  >"$work/wrong-name.log" 2>&1 || status=$?
if [[ $status -ne 2 ]] || ! grep -qE 'not in peer certificate|TLS handshake failed' "$work/wrong-name.log"; then
  cat "$work/wrong-name.log"
  echo "FAILED: with the wrong server name the checker should not reach the plugin (exit $status)"
  exit 1
fi
echo "a certificate without the expected Service name is refused, as the operator refuses it"
