#!/usr/bin/env bash
# cnpgi-conformance against cnpgi-go-plugin, a plugin written the way
# upstream Go plugins are:
#
#   run_go_plugin_conformance.sh CHECKER GO_PLUGIN unix|tcp
#       the plugin as it is: every check passes or warns (exit 0), the
#       lenient decoding shows as a WARN, and --strict fails the run;
#   run_go_plugin_conformance.sh CHECKER GO_PLUGIN unix|tcp DEFECT CHECK
#       with one deliberate defect: the run fails (exit 1) on CHECK, and on
#       no check outside CHECK's group (a patch that does not apply fails
#       every lifecycle.* check); CHECK "connection": the checker cannot talk
#       to the plugin (exit 2) and says why, with SEARCH in its message.
set -euo pipefail
if [[ $# -ne 3 && $# -ne 5 ]]; then
  echo "usage: $0 CHECKER GO_PLUGIN unix|tcp [DEFECT CHECK]" >&2
  exit 2
fi
checker=$1 plugin=$2 transport=$3 defect=${4:-} expected=${5:-}
[[ -x $plugin ]] || { echo "SKIP: $plugin was not built (no Go toolchain?)"; exit 77; }
name=go-plugin.cnpgi.example

source "$(dirname "$0")/plugin_process.sh" cnpgi-go-plugin

if [[ $transport == unix ]]; then
  mkdir "$work/plugins"
  start_plugin "$plugin" -defect "$defect" -plugin-path "$work/plugins"
  wait_for_socket "$work/plugins/$name"
  where=(--socket "$work/plugins/$name")
else
  make_certificates go-plugin
  start_plugin "$plugin" -defect "$defect" -server-address 127.0.0.1:0 \
    -server-cert "$work/server.crt" -server-key "$work/server.key" -client-cert "$work/client.crt"
  wait_for_address
  where=(--address "$address" --server-name go-plugin --client-cert "$work/client.crt"
    --client-key "$work/client.key" --server-cert "$work/server.crt")
fi
check=("$checker" "${where[@]}" --plugin-name "$name" --timeout 90s)

status=0
"${check[@]}" --junit "$work/report.xml" >"$work/checker.out" 2>&1 || status=$?
if [[ -z $defect ]]; then
  # Correct for the operator: no failure; the lenient decoding is a warning.
  [[ $status -eq 0 ]] || { echo "FAILED: the checker exited $status on a correct Go plugin"; exit 1; }
  grep -q '^WARN  bad-input.wrong-kind ' "$work/checker.out" ||
    { echo "FAILED: no warning for the lenient decoding"; exit 1; }
  grep -q ' 0 failed' "$work/checker.out" || { echo "FAILED: a check failed"; exit 1; }
  grep -q '<property name="outcome" value="WARN"/>' "$work/report.xml" ||
    { echo "FAILED: the warning is not in the JUnit report"; exit 1; }
  cat "$work/checker.out"
  strict=0
  "${check[@]}" --strict --check bad-input >"$work/strict.out" 2>&1 || strict=$?
  [[ $strict -eq 1 ]] || { echo "FAILED: --strict exited $strict, not 1"; exit 1; }
  echo "--strict: the warning fails the run (exit 1)"
  exit 0
fi

if [[ $expected == connection:* ]]; then
  [[ $status -eq 2 ]] || { echo "FAILED: the checker exited $status, not 2, on defect $defect"; exit 1; }
  grep -qF "${expected#connection:}" "$work/checker.out" ||
    { echo "FAILED: the message does not say \"${expected#connection:}\""; exit 1; }
  cat "$work/checker.out"
  exit 0
fi
[[ $status -eq 1 ]] || { echo "FAILED: the checker exited $status, not 1, on defect $defect"; exit 1; }
grep -q "^FAIL  $expected " "$work/checker.out" || { echo "FAILED: $expected did not fail"; exit 1; }
group=${expected%%.*}
others=$(grep -oE '^FAIL  [a-z.-]+' "$work/checker.out" | cut -c7- | grep -v "^$group\(\.\|$\)" | tr '\n' ' ' || true)
if [[ -n $others ]]; then
  echo "FAILED: defect $defect should fail $expected, not also: $others"
  exit 1
fi
grep "^FAIL  " "$work/checker.out"
echo "defect $defect fails $expected (and nothing outside $group.*)"
