#!/usr/bin/env bash
# Makes the .deb packages with CPack from the build tree, and checks what
# they hold and depend on before any container sees them.
#
#   make_debs.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=$1 out=$2
rm -rf "$out"
mkdir -p "$out"
if ! cpack --config "$build/CPackConfig.cmake" -B "$out/cpack" >"$out/cpack.log" 2>&1; then
  cat "$out/cpack.log"
  echo "FAILED: cpack"
  exit 1
fi
mv "$out"/cpack/*.deb "$out/"
rm -rf "$out/cpack"
ls -l "$out"/*.deb

failed=0
expect() { # expect PACKAGE WHAT PATTERN: a line of `dpkg-deb` output matches
  if ! grep -qE "$3" <<<"$2"; then
    echo "FAILED: $1 lacks $3"
    failed=1
  fi
}
dev=$(ls "$out"/libcnpgi-dev_*.deb)
checker=$(ls "$out"/cnpgi-conformance_*.deb)
dev_files=$(dpkg-deb -c "$dev")
for f in include/cnpgi/cnpgi.h include/cnpgi/testing/plugin_kit.h \
  'include/cnpgi/identity/v1/identity.pb.h' lib/libcnpgi.a lib/libcnpgi_protocol.a \
  lib/libcnpgi_testing.a lib/cmake/cnpgi/cnpgiConfig.cmake lib/cmake/cnpgi/CnpgiStaticLink.cmake \
  lib/pkgconfig/cnpgi.pc lib/pkgconfig/cnpgi-testing.pc share/cnpgi/proto/; do
  expect libcnpgi-dev "$dev_files" "\./usr/$f"
done
if grep -q 'bin/cnpgi-conformance' <<<"$dev_files"; then
  echo "FAILED: libcnpgi-dev holds the checker (it belongs to cnpgi-conformance)"
  failed=1
fi
expect cnpgi-conformance "$(dpkg-deb -c "$checker")" '\./usr/bin/cnpgi-conformance$'
dev_depends=$(dpkg-deb -f "$dev" Depends)
checker_depends=$(dpkg-deb -f "$checker" Depends)
echo "libcnpgi-dev depends on: $dev_depends"
echo "cnpgi-conformance depends on: $checker_depends"
for p in libgrpc++-dev libprotobuf-dev libabsl-dev libspdlog-dev nlohmann-json3-dev libssl-dev \
  cnpgi-conformance; do
  expect libcnpgi-dev "$dev_depends" "(^|, )${p//+/\\+}( |,|$)"
done
# From dpkg-shlibdeps: the runtime libraries the checker loads.
for p in libc6 libgrpc\\+\\+1 libprotobuf32; do
  expect cnpgi-conformance "$checker_depends" "(^|, )$p"
done
exit "$failed"
