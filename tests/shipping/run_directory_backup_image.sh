#!/usr/bin/env bash
# directory-backup's image run in its two long-lived roles, as CloudNativePG
# runs them, and checked with cnpgi-conformance from outside the container:
#   instance  the injected sidecar: the socket in the shared /plugins volume,
#             the store and the WAL the checker archives in volumes (mounted
#             at the same paths as on the host, so the paths the checker
#             sends mean the same file on both sides);
#   operator  the Deployment: TCP with mutual TLS (cert-manager-like
#             certificates for the Service name), SIDECAR_IMAGE set.
# With the securityContext of image_lib.sh, ending with SIGTERM (exit 0,
# socket removed). Prints FIGURE lines for docs/examples.md.
#
#   run_directory_backup_image.sh CONTAINERS_DIR CONFORMANCE_BINARY IMAGE instance|operator
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/podman_env.sh"
source "$here/image_lib.sh"
podman_setup "$1"
conformance=$2 image=$3 role=$4
name=directory-backup.example.com
podman_ready || { echo "SKIPPED: $podman_problem"; exit "$shipping_skip"; }
podman image exists "$image" || { echo "no image $image: its build test has not passed"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/directory-backup-image.XXXXXX")
chmod 0755 "$work"
trap 'image_lib_cleanup; rm -rf "$work"' EXIT
echo "FIGURE image_size_bytes=$(podman image inspect --format '{{.Size}}' "$image")"
# Volumes writable by the plugin's user (emptyDir, a store for the pods).
mkdir -m 0777 "$work/plugins" "$work/backups" "$work/scratch"
chmod 0777 "$work/plugins" "$work/backups" "$work/scratch"

check=("$conformance" --plugin-name "$name" --timeout 90s)

case $role in
  instance)
    c=$(new_container backup-instance)
    start=$(now_ms)
    podman run -d --name "$c" "${secure[@]}" --network=none -v "$work/plugins:/plugins" \
      -v "$work/backups:$work/backups" -v "$work/scratch:$work/scratch" \
      "$image" instance --plugin-path=/plugins >/dev/null
    wait_ready "$c" "$start" test -S "$work/plugins/$name"
    # The sidecar's startup probe, inside the container.
    podman exec "$c" /usr/local/bin/directory-backup healthcheck ||
      { show_logs "$c"; echo "FAILED: the startup probe (healthcheck)"; exit 1; }
    check_with "$c" "$work/check.log" "${check[@]}" --socket "$work/plugins/$name" \
      --plugin-parameters "destination=$work/backups" \
      --wal-dir "$work/scratch"
    find "$work/backups" -path '*/wals/*' -type f -printf '%f\n' | grep -qE '^[0-9A-F]{24}$' ||
      { echo "FAILED: nothing was archived into the store volume"; exit 1; }
    stop_and_check "$c" "$work/plugins/$name"
    ;;
  operator)
    certificates "$work" directory-backup
    c=$(new_container backup-operator)
    start=$(now_ms)
    podman run -d --name "$c" "${secure[@]}" \
      -e SIDECAR_IMAGE=registry.example.com/directory-backup:test \
      -v "$work/server:/server:ro" -v "$work/client:/client:ro" "$image" \
      operator --server-cert=/server/tls.crt --server-key=/server/tls.key \
      --client-cert=/client/tls.crt --server-address=:9090 >/dev/null
    ip=$(podman inspect --format '{{.NetworkSettings.IPAddress}}' "$c")
    [[ -n $ip ]] || { show_logs "$c"; echo "FAILED: the container has no address"; exit 1; }
    tcp_open() { (exec 3<>"/dev/tcp/$ip/9090") 2>/dev/null; }
    wait_ready "$c" "$start" tcp_open
    check_with "$c" "$work/check.log" "${check[@]}" --address "$ip:9090" \
      --client-cert "$work/client/tls.crt" \
      --client-key "$work/client/tls.key" --server-cert "$work/server/tls.crt" \
      --server-name directory-backup --plugin-parameters destination=/backups
    stop_and_check "$c"
    ;;
  *) echo "unknown role $role" >&2; exit 2 ;;
esac
