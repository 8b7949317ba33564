#!/usr/bin/env python3
"""Self-test of the e2e runner: it must pass a correct output and catch each
kind of wrong output. Uses fake_tlsscope.py, which prints what a correct
keyless tlsscope would print for the shared corpus, with one injected error
per case. Run: python3 tests/e2e/selftest.py [--shared DIR]
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import e2e_compare as cmp  # noqa: E402

# (mutation, --only filter, text that must appear in the runner's output)
CASES = [
    ("", "zeek-ssl.v3", None),
    ("version", "zeek-tls1.2", "zeek-tls1.2#0.version: expected 771, got 1"),
    ("handshake", "zeek-hrr", "zeek-hrr#0.s2c.handshake_types: expected [2, 2], got [2, 2, 20]"),
    ("records", "zeek-dhe", "zeek-dhe#0.c2s.records"),
    ("swap", "zeek-ecdhe", "client and server swapped"),
    ("drop_conn", "zeek-tls13-ech", "zeek-tls13-ech#2.present"),
    ("dup_conn", "zeek-ssl.v3", "zeek-ssl.v3.run.unique_connection_ids"),
    ("alert", "zeek-tls1_1", "zeek-tls1_1#0.s2c.alerts"),
    ("alert", "ssldump-tls1.2_aes256", "ssldump-tls1.2_aes256#0.s2c.alerts+encrypted_alerts"),
    ("bad_json", "zeek-dhe", "zeek-dhe.run.valid_json"),
    ("sha", "zeek-dhe", "zeek-dhe.run.input_sha256"),
    ("stats", "zeek-dhe", "zeek-dhe.run.stats_tls_connections"),
    ("exit", "zeek-dhe", "zeek-dhe.run.exit_status: expected 0, got 3"),
    ("no_diag", "zeek-ssl.v3", "truncated:zeek-ssl.v3@"),
    ("decrypt", "ssldump-tls1.3_aes128", "ssldump-tls1.3_aes128#0.c2s.app_data"),
]


def unit_checks():
    """Direct checks of the keyless view of decrypted handshake lists."""
    bad = 0
    split = cmp.plaintext_split
    expect = [
        (("c2s", [1, 16, 20], False), ([1, 16], [20])),
        (("s2c", [2, 11, 12, 14, 4, 20], False), ([2, 11, 12, 14, 4], [20])),
        (("s2c", [2, 20], False), ([2], [20])),  # TLS 1.2 abbreviated handshake
        (("c2s", [1, 20, 24], True), ([1], [20, 24])),
        (("c2s", [1, 1, 20], True), ([1, 1], [20])),  # after HelloRetryRequest
        (("s2c", [2, 2, 8, 11, 15, 20], True), ([2, 2], [8, 11, 15, 20])),
        (("s2c", [], True), ([], [])),
    ]
    for argv, want in expect:
        got = split(*argv)
        if got != want:
            print("selftest FAIL plaintext_split%s = %s, want %s" % (argv, got, want))
            bad += 1
    if not cmp.is_tls13(0x7f1c) or cmp.is_tls13(771) or not cmp.is_tls13(772):
        print("selftest FAIL is_tls13")
        bad += 1
    return bad


def main():
    extra = sys.argv[1:]
    fake = os.path.join(HERE, "fake_tlsscope.py")
    runner = os.path.join(HERE, "run_e2e.py")
    bad = unit_checks()
    for mutation, only, needle in CASES:
        env = dict(os.environ, FAKE_TLSSCOPE_MUTATE=mutation)
        p = subprocess.run([sys.executable, runner, "--tlsscope", fake, "--only", only] + extra,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                           universal_newlines=True)
        out = p.stdout
        if needle is None:
            ok = p.returncode == 0 and " 0 failed," in out
        else:
            ok = p.returncode == 1 and needle in out
        print("selftest %s %s/%s" % ("ok  " if ok else "FAIL", mutation or "correct", only))
        if not ok:
            bad += 1
            print(out[-3000:])
    print("selftest: %d cases, %d failed" % (len(CASES) + 1, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
