#!/usr/bin/env bash
# Valgrind memcheck over the whole binary (ctest valgrind, normal build only; the
# sanitizer build covers the same code with ASan/UBSan): a few captures that
# together take every stage (TLS 1.2/1.3 with key logs and -d, an RSA key, SSLv2,
# a damaged stream, a pcapng with secrets, a hostile cut), any memcheck error or
# definite leak fails.
#   tests/e2e/run_valgrind.sh TLSSCOPE SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
command -v valgrind >/dev/null || { echo "run_valgrind: valgrind missing" >&2; exit 1; }
p="$src/pcaps"
runs=(
  "-j -v -d -l $p/keylogs/tls13-aes128-gcm-sha256.keylog -r $p/tls13-aes128-gcm-sha256.pcap"
  "-j -d -k $p/keys/server-rsa.key -r $p/tls12-rsa-aes128-cbc-sha.pcap"
  "-v -d -l $p/keylogs/tls12-ecdhe-rsa-chacha20-poly1305.keylog -r $p/tls12-ecdhe-rsa-chacha20-poly1305.pcap"
  "-j -r $p/linktypes/tls12-drop6.pcap"
  "-j -d -r $p/dsb/tls13-aes128-gcm-sha256-dsb.pcapng"
  "-j -v -r $src/../shared/corpus/zeek/ssl-v2.pcap"
  "--ecs -r $p/tls12-resume-session-id.pcap"
)
pass=0
fail=0
for args in "${runs[@]}"; do
  # shellcheck disable=SC2086
  if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
       "$bin" -q --no-env-keylog $args >/dev/null 2>"${TMPDIR:-/tmp}/valgrind.$$.err"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL valgrind tlsscope $args" >&2
    head -40 "${TMPDIR:-/tmp}/valgrind.$$.err" >&2
  fi
done
rm -f "${TMPDIR:-/tmp}/valgrind.$$.err"
echo "valgrind: $pass passed, $fail failed"
[ "$fail" = 0 ]
