#!/usr/bin/env bash
# Starts a plugin binary the way it runs for real and drives it with
# cnpgi-go-operator-client, the operator's own stack (grpc-go, crypto/tls,
# evanphx/json-patch):
#
#   run_operator_client.sh CLIENT DATA_DIR unix|tcp NAME PARAMETERS_JSON PLUGIN [ARGS...]
#
# unix: PLUGIN ARGS --plugin-path=DIR, checked on DIR/NAME.
# tcp:  PLUGIN ARGS --server-address=127.0.0.1:0 --server-cert --server-key
#       --client-cert, with self-signed certificates for the Service name.
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
source "$(dirname "$0")/plugin_process.sh" cnpgi-go-client

mkdir "$work/scratch"
parameters=${parameters//@WORK@/$work}
go_client=("$client" -data "$data" -parameters "$parameters" -wal-dir "$work/scratch")

if [[ $transport == unix ]]; then
  mkdir "$work/plugins"
  start_plugin "$@" "--plugin-path=$work/plugins"
  wait_for_socket "$work/plugins/$name"
  "${go_client[@]}" -socket "$work/plugins/$name"
  exit 0
fi

service=plugin-service
make_certificates "$service"
start_plugin "$@" "--server-cert=$work/server.crt" "--server-key=$work/server.key" \
  "--client-cert=$work/client.crt" --server-address=127.0.0.1:0
wait_for_address
"${go_client[@]}" -address "$address" -server-name "$service" \
  -client-cert "$work/client.crt" -client-key "$work/client.key" -server-cert "$work/server.crt"
