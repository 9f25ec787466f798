# Sourced by the image tests: runs an example's image as Kubernetes runs it
# and measures it. Needs podman_env.sh sourced and podman_setup done.

# The manifests' securityContext: a non-root user, a read-only root file
# system (no tmpfs added, as Kubernetes adds none), every capability
# dropped, no privilege escalation.
secure=(--user 65532:65532 --read-only --read-only-tmpfs=false --cap-drop=ALL
  --security-opt=no-new-privileges)

containers=()
image_lib_cleanup() {
  local c
  for c in "${containers[@]}"; do
    podman rm -f -t 0 "$c" >/dev/null 2>&1 || true
  done
}

# new_container NAME: a container name unique to this run, removed at exit.
new_container() {
  local name="cnpgi-test-$1-$$"
  containers+=("$name")
  printf '%s' "$name"
}

# show_logs CONTAINER: its output, when a step fails.
show_logs() {
  echo "----- $1 log"
  podman logs "$1" 2>&1 | tail -n 30 || true
}

# now_ms: a monotonic-enough clock for start-to-ready figures.
now_ms() { date +%s%3N; }

# wait_until SECONDS COMMAND...: polls COMMAND every 10 ms.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.01
  done
}

# memory_of CONTAINER: "cgroup_usage=<bytes> cgroup_anon=<bytes>
# process_rss=<bytes>": the container's memory cgroup (v1 or v2), which is
# charged for the pages the container touched first (not for the binary's
# pages already in the page cache), and the plugin process's resident set.
memory_of() {
  local path usage rss pid vmrss
  path=$(podman inspect --format '{{.State.CgroupPath}}' "$1")
  if [[ -f /sys/fs/cgroup/memory/$path/memory.usage_in_bytes ]]; then
    usage=$(<"/sys/fs/cgroup/memory/$path/memory.usage_in_bytes")
    rss=$(awk '$1 == "total_rss" { print $2 }' "/sys/fs/cgroup/memory/$path/memory.stat")
  elif [[ -f /sys/fs/cgroup/$path/memory.current ]]; then
    usage=$(<"/sys/fs/cgroup/$path/memory.current")
    rss=$(awk '$1 == "anon" { print $2 }' "/sys/fs/cgroup/$path/memory.stat")
  else
    usage='?' rss='?'
  fi
  pid=$(podman inspect --format '{{.State.Pid}}' "$1")
  vmrss=$(awk '$1 == "VmRSS:" { print $2 * 1024 }' "/proc/$pid/status" 2>/dev/null || echo '?')
  echo "cgroup_usage=$usage cgroup_anon=$rss process_rss=$vmrss"
}

# stop_and_check CONTAINER [SOCKET]: SIGTERM (podman stop), as the kubelet
# ends a Pod; the plugin must exit 0 within the grace period and, when it
# served a Unix socket, remove it.
stop_and_check() {
  local c=$1 socket=${2:-} start code
  start=$(now_ms)
  podman stop -t 10 "$c" >/dev/null
  code=$(podman wait "$c")
  echo "SIGTERM: exit $code after $(($(now_ms) - start)) ms"
  if [[ $code -ne 0 ]]; then
    show_logs "$c"
    echo "FAILED: the plugin exited $code on SIGTERM (want 0)"
    return 1
  fi
  if [[ -n $socket && -e $socket ]]; then
    echo "FAILED: the socket $socket is still there after the plugin stopped"
    return 1
  fi
}

# certificates DIR NAME: what cert-manager's selfSigned Issuer makes for the
# manifests' two Certificates (ECDSA P-256, CA:FALSE, each its own issuer):
# DIR/server/tls.{crt,key} for the Service name NAME (DNS SAN, server auth)
# and DIR/client/tls.{crt,key} (client auth), readable as a Secret volume is
# (mode 0644).
certificates() {
  local dir=$1 name=$2
  mkdir -p "$dir/server" "$dir/client"
  one() { # one OUT SUBJECT EXTENSIONS...
    local out=$1 subject=$2
    shift 2
    local ext=(-addext "basicConstraints=critical,CA:FALSE"
      -addext "keyUsage=critical,digitalSignature,keyEncipherment")
    for e in "$@"; do ext+=(-addext "$e"); done
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj "$subject" "${ext[@]}" -keyout "$out/tls.key" -out "$out/tls.crt" 2>/dev/null
    chmod 0644 "$out/tls.key" "$out/tls.crt"
  }
  one "$dir/server" "/CN=$name" "subjectAltName=DNS:$name" "extendedKeyUsage=serverAuth"
  one "$dir/client" "/CN=$name-client" "extendedKeyUsage=clientAuth"
}

# wait_ready CONTAINER START_MS PROBE...: waits up to 30 s for the readiness
# PROBE command, then prints start-to-ready and, once past its start-up
# work, the container's idle memory.
wait_ready() {
  local c=$1 start=$2
  shift 2
  if ! wait_until 30 "$@"; then
    show_logs "$c"
    echo "FAILED: the plugin was not ready within 30 s"
    return 1
  fi
  echo "FIGURE start_to_ready_ms=$(($(now_ms) - start))"
  sleep 2
  echo "FIGURE idle_memory $(memory_of "$c")"
}

# check_with CONTAINER LOG CONFORMANCE_COMMAND...: runs the checker; on
# failure shows its report and the plugin's log; prints its summary.
check_with() {
  local c=$1 log=$2
  shift 2
  if ! "$@" >"$log" 2>&1; then
    cat "$log"
    show_logs "$c"
    echo "FAILED: cnpgi-conformance against the image"
    return 1
  fi
  tail -n 3 "$log"
  echo "FIGURE checker $(grep -iE 'passed|failed' "$log" | tail -n 1)"
}
