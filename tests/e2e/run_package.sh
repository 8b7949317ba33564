#!/usr/bin/env bash
# Debian package test (ctest package_deb): build the .deb with CPack from BUILD_DIR,
# check its metadata and contents, run the packaged binary on a capture, compile and
# run a program against the packaged library through its pkg-config file, and (as
# root in CI, or with TSC_TEST_INSTALL=1) install it with dpkg, use it from /usr, and
# remove it again.
#
#   tests/e2e/run_package.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
capture="$src/pcaps/tls12-resume-session-id.pcap"
work=$(mktemp -d)
installed_here=0
cleanup() {
  if [ "$installed_here" = 1 ]; then
    dpkg --purge tlsscope >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
pass=0
fail=0
check() { # name, then a command; counts and reports
  local name=$1
  shift
  if "$@" >"$work/out" 2>&1; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $name" >&2
    sed 's/^/    /' "$work/out" >&2
  fi
}

for tool in cpack dpkg-deb gcc pkg-config; do
  command -v "$tool" >/dev/null || { echo "run_package: $tool missing" >&2; exit 1; }
done

# 1. Build the package (its own output folder, so the build tree is not cluttered).
(cd "$build" && cpack -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1) || {
  cat "$work/cpack.log" >&2
  exit 1
}
deb=$(ls "$work"/pkg/tlsscope_*.deb)
version=$("$build/tlsscope" --version | awk '{print $2}')

# 2. Metadata and contents.
info=$(dpkg-deb -f "$deb" Package Version Architecture Depends)
check "package name" grep -qx "Package: tlsscope" <<<"$info"
check "package version" grep -qx "Version: $version" <<<"$info"
check "depends on libpcap, libssl3, zlib" \
  bash -c 'grep "^Depends:" <<<"$1" | grep -q libpcap && grep "^Depends:" <<<"$1" | grep -q libssl3 && grep "^Depends:" <<<"$1" | grep -q zlib1g' _ "$info"
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/tlsscope ./usr/include/tlsscope/tlsscope.h ./usr/include/tlsscope/types.h \
         ./usr/lib/libtlsscope.a ./usr/lib/libtlsscope.so ./usr/lib/pkgconfig/tlsscope.pc \
         ./usr/share/man/man1/tlsscope.1; do
  check "contains $f" grep -qx -- "$f" <<<"$contents"
done

# 3. The packaged binary, extracted, on a real capture.
dpkg-deb -x "$deb" "$work/root"
check "packaged binary --version" grep -q "$version" <("$work/root/usr/bin/tlsscope" --version)
"$work/root/usr/bin/tlsscope" -j --summary-only -q --no-env-keylog -r "$capture" >"$work/run.jsonl"
check "packaged binary reports 2 TLS connections" \
  test "$(grep -c '"type":"connection"' "$work/run.jsonl")" = 2

# 4. A program built against the packaged library through the relocatable .pc file.
cat >"$work/consumer.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <tlsscope/tlsscope.h>
int main(int argc, char **argv)
{
    struct tsc_config cfg;
    tsc_config_default(&cfg);
    cfg.format = TSC_FORMAT_JSONL;
    cfg.summary_only = true;
    cfg.quiet = true;
    cfg.env_keylog = false;
    struct tsc_analyzer *a = NULL;
    char err[256];
    if (argc < 2 || tsc_analyzer_new(&a, &cfg, err, sizeof(err)) != 0) {
        return 1;
    }
    const char *paths[1] = {argv[1]};
    int rc = tsc_analyzer_run_files(a, paths, 1);
    tsc_analyzer_free(a);
    fprintf(stderr, "libtlsscope %s\n", tsc_version());
    return rc;
}
EOF
export PKG_CONFIG_PATH="$work/root/usr/lib/pkgconfig"
check "pkg-config finds the packaged library" \
  test "$(pkg-config --modversion tlsscope)" = "$version"
incdir=$(pkg-config --cflags-only-I tlsscope | awk '{sub(/^-I/, "", $1); print $1}')
check "pkg-config include path is the package's" \
  test "$(realpath "$incdir")" = "$(realpath "$work/root/usr/include")"
# shellcheck disable=SC2046
check "consumer compiles against the shared library" \
  gcc -std=c11 -Wall -Werror -o "$work/consumer" "$work/consumer.c" $(pkg-config --cflags --libs tlsscope)
LD_LIBRARY_PATH="$work/root/usr/lib" "$work/consumer" "$capture" >"$work/consumer.jsonl" 2>"$work/consumer.err" || true
check "consumer output matches the CLI's connections" \
  test "$(grep -c '"type":"connection"' "$work/consumer.jsonl")" = 2
check "consumer uses the packaged shared library" \
  grep -q "libtlsscope $version" "$work/consumer.err"

# 5. Install for real (root in CI, or when asked), use it from /usr, remove it.
if [ "$(id -u)" = 0 ] && { [ -n "${CI:-}" ] || [ -n "${TSC_TEST_INSTALL:-}" ]; }; then
  if dpkg-query -W -f='${Status}' tlsscope 2>/dev/null | grep -q "install ok installed"; then
    echo "run_package: a tlsscope package is already installed; not touching it" >&2
  else
    check "dpkg -i installs the package" dpkg -i "$deb"
    installed_here=1
    check "installed binary runs on a capture" \
      bash -c '/usr/bin/tlsscope -j --summary-only -q --no-env-keylog -r "$1" | grep -c "\"type\":\"connection\"" | grep -qx 2' _ "$capture"
    check "installed man page" test -f /usr/share/man/man1/tlsscope.1
    unset PKG_CONFIG_PATH
    check "installed pkg-config file" test "$(pkg-config --modversion tlsscope)" = "$version"
    check "dpkg --purge removes the package" dpkg --purge tlsscope
    installed_here=0
    check "removed binary is gone" test ! -e /usr/bin/tlsscope
  fi
else
  echo "run_package: not installing (needs root and CI=true or TSC_TEST_INSTALL=1)"
fi

echo "package: $pass passed, $fail failed"
[ "$fail" = 0 ]
