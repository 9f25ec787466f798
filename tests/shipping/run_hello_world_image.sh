#!/usr/bin/env bash
# hello-world's image run as its manifests run it, and checked with
# cnpgi-conformance from outside the container:
#   unix        the sidecar form: the socket in a shared volume (an emptyDir,
#               world-writable), reached from the host;
#   tcp         the Deployment form: `plugin --server-address=:9090` with
#               mutual TLS, the certificates as cert-manager's selfSigned
#               Issuer makes them (Secret volumes, read-only), reached at the
#               container's address under the Service's name;
#   unwritable  a volume the plugin's user cannot write: the start is refused,
#               naming the directory and the user.
# Always with the manifests' securityContext (image_lib.sh), and ending with
# SIGTERM: exit 0, socket removed. Prints the figures docs/examples.md
# records (FIGURE lines).
#
#   run_hello_world_image.sh CONTAINERS_DIR CONFORMANCE_BINARY IMAGE unix|tcp|unwritable
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/podman_env.sh"
source "$here/image_lib.sh"
podman_setup "$1"
conformance=$2 image=$3 mode=$4
name=cnpg-i-hello-world.cloudnative-pg.io
podman_ready || { echo "SKIPPED: $podman_problem"; exit "$shipping_skip"; }
podman image exists "$image" || { echo "no image $image: its build test has not passed"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/hello-world-image.XXXXXX")
chmod 0755 "$work"
trap 'image_lib_cleanup; rm -rf "$work"' EXIT
echo "FIGURE image_size_bytes=$(podman image inspect --format '{{.Size}}' "$image")"

cat >"$work/config.json" <<JSON
{"pluginName": "$name",
 "parameters": {"labels": "{\"team\":\"payments\",\"tier\":\"db\"}",
                "annotations": "{\"example.com/owner\":\"dba@example.com\"}"}}
JSON
check=("$conformance" --config "$work/config.json" --timeout 90s)

case $mode in
  unix)
    # An emptyDir is world-writable (0777).
    mkdir -m 0777 "$work/plugins"
    chmod 0777 "$work/plugins"
    c=$(new_container hello-unix)
    start=$(now_ms)
    podman run -d --name "$c" "${secure[@]}" --network=none -v "$work/plugins:/plugins" \
      "$image" plugin --plugin-path=/plugins >/dev/null
    wait_ready "$c" "$start" test -S "$work/plugins/$name"
    check_with "$c" "$work/check.log" "${check[@]}" --socket "$work/plugins/$name"
    stop_and_check "$c" "$work/plugins/$name"
    ;;
  tcp)
    certificates "$work" hello-world
    c=$(new_container hello-tcp)
    start=$(now_ms)
    podman run -d --name "$c" "${secure[@]}" \
      -v "$work/server:/server:ro" -v "$work/client:/client:ro" "$image" \
      plugin --server-cert=/server/tls.crt --server-key=/server/tls.key \
      --client-cert=/client/tls.crt --server-address=:9090 --log-format=json >/dev/null
    ip=$(podman inspect --format '{{.NetworkSettings.IPAddress}}' "$c")
    [[ -n $ip ]] || { show_logs "$c"; echo "FAILED: the container has no address"; exit 1; }
    # The Deployment's readinessProbe: a TCP connection to the port.
    tcp_open() { (exec 3<>"/dev/tcp/$ip/9090") 2>/dev/null; }
    wait_ready "$c" "$start" tcp_open
    check_with "$c" "$work/check.log" "${check[@]}" --address "$ip:9090" \
      --client-cert "$work/client/tls.crt" --client-key "$work/client/tls.key" \
      --server-cert "$work/server/tls.crt" --server-name hello-world
    stop_and_check "$c"
    ;;
  unwritable)
    # A volume owned by root, not writable by the plugin's user.
    mkdir -m 0755 "$work/plugins"
    c=$(new_container hello-unwritable)
    podman run -d --name "$c" "${secure[@]}" --network=none -v "$work/plugins:/plugins" \
      "$image" plugin --plugin-path=/plugins >/dev/null
    code=$(podman wait "$c")
    log=$(podman logs "$c" 2>&1)
    echo "$log" | tail -n 3
    if [[ $code -ne 1 ]] || ! grep -qE 'plugin path /plugins is not writable by .*uid 65532' <<<"$log"; then
      echo "FAILED: want exit 1 and the directory and user named (got exit $code)"
      exit 1
    fi
    echo "refused, naming the directory and the user"
    ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
