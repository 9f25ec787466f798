#!/usr/bin/env bash
# Makes the base image debian:12 in the build tree's podman storage, since
# no registry is reachable: debootstrap --variant=minbase bookworm from the
# Debian mirror apt already uses here (read from apt's sources), imported
# with podman import. `FROM debian:12` then resolves locally without a pull.
# Kept between runs of the same build tree (a few minutes to make).
#
#   base_image.sh CONTAINERS_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/podman_env.sh"
podman_setup "$1"
podman_ready || { echo "SKIPPED: $podman_problem"; exit "$shipping_skip"; }

if podman image exists debian:12; then
  echo "debian:12 is already in $podman_root"
  exit 0
fi
command -v debootstrap >/dev/null ||
  { echo "debootstrap is not installed (scripts/install-deps.sh installs it)"; exit 1; }

# The mirror of the main bookworm archive in apt's sources (deb822 files or
# one-line sources.list), never a host written here.
mirror=$(
  {
    cat /etc/apt/sources.list.d/*.sources 2>/dev/null
    echo
  } | awk '
    /^[[:space:]]*$/ { if (uri != "" && suites ~ /(^| )bookworm( |$)/ && uri !~ /security/) { print uri; exit }
                       uri = ""; suites = ""; next }
    /^URIs:/ { uri = $2 }
    /^Suites:/ { $1 = ""; suites = $0 " " }'
)
if [[ -z $mirror ]]; then
  mirror=$(awk '$1 == "deb" && $3 == "bookworm" && $2 !~ /security/ { print $2; exit }' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
fi
[[ -n $mirror ]] || { echo "no Debian bookworm mirror found in apt's sources"; exit 1; }

work=$(mktemp -d "$podman_root/tmp/debootstrap.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$SECONDS
echo "debootstrap --variant=minbase bookworm from $mirror"
if ! debootstrap --variant=minbase bookworm "$work/root" "$mirror" >"$work/log" 2>&1; then
  tail -n 30 "$work/log"
  echo "debootstrap failed"
  exit 1
fi
# As Debian's own images: apt's lists and caches emptied, the same sources.
rm -rf "$work/root"/var/lib/apt/lists/* "$work/root"/var/cache/apt/*.bin
tar -C "$work/root" -c . | podman import -q --change 'CMD ["/bin/bash"]' - debian:12 >/dev/null
podman_ready || { echo "SKIPPED: $podman_problem"; exit "$shipping_skip"; }
echo "debian:12 imported ($((SECONDS - start)) s): $(podman image ls --format '{{.Size}}' debian:12)"
