#!/usr/bin/env python3
"""Captures of pcaps/raw/ (tools/mkrawcaps: openssl s_server and the minimal
client tools/rawtls.py): an SSLv2-compatible ClientHello that starts a TLS 1.2
RSA session, and DHE sessions whose key log holds only PMS_CLIENT_RANDOM with
256- and 1024-byte premasters. Each must decrypt with the key the entry names
(and an SSLv2-hello capture with its key log too), key_source as expected, both
Finished verified, no bad records, the expected client random and app_data,
and with the RSA key exactly one RSA private operation (the certificate names
the key).

  run_raw.py --tlsscope BIN --source-dir DIR      (ends with 'N passed, N failed')
"""
import argparse
import json
import os
import subprocess
import sys


def run(tlsscope, args, env):
    p = subprocess.run([tlsscope, "-j", "--summary-only", "-q", "--no-env-keylog"] + args,
                       stdout=subprocess.PIPE, env=env, timeout=120)
    objs = [json.loads(l) for l in p.stdout.decode().splitlines()]
    conns = [o for o in objs if o.get("type") == "connection"]
    stats = [o for o in objs if o.get("type") == "stats" and o.get("final")]
    return p.returncode, conns, stats[-1] if stats else {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--source-dir", required=True)
    a = ap.parse_args()
    folder = os.path.join(a.source_dir, "pcaps", "raw")
    with open(os.path.join(folder, "expected.json")) as f:
        caps = json.load(f)["captures"]
    env = dict(os.environ)
    env.pop("SSLKEYLOGFILE", None)
    passed = failed = 0
    for cap in caps:
        pcap = os.path.join(folder, cap["file"])
        runs = []
        if cap["keys"]["rsa_key"]:
            runs.append(("rsa", ["-k", os.path.join(folder, cap["keys"]["rsa_key"])]))
        kl = os.path.join(folder, cap["name"] + ".keylog")
        if os.path.exists(kl):
            runs.append(("keylog", ["-l", kl]))
        for source, args in runs:
            rc, conns, stats = run(a.tlsscope, args + ["-r", pcap], env)
            errs = []
            # The certificate names the key: its premaster is decrypted exactly once.
            ops = (stats.get("decryption") or {}).get("rsa_private_ops")
            if ops != (1 if source == "rsa" else 0):
                errs.append("rsa_private_ops %r" % ops)
            if rc != 0:
                errs.append("exit status %d" % rc)
            if len(conns) != 1:
                errs.append("%d connections" % len(conns))
            for c in conns:
                for k, want in (("key_source", source), ("decrypted", True),
                                ("finished", {"client": "verified", "server": "verified"}),
                                ("bad_records", 0), ("undecrypted_reason", None),
                                ("cipher_suite", cap["cipher_suite"]),
                                ("client_random", cap["client_random"]),
                                ("app_data", cap["app_data"])):
                    if c.get(k) != want:
                        errs.append("%s %r, expected %r" % (k, c.get(k), want))
            tag = "%s (%s)" % (cap["name"], source)
            print(("PASS " + tag) if not errs else ("FAIL %s: %s" % (tag, "; ".join(errs))))
            passed += not errs
            failed += bool(errs)
    if not caps:
        print("FAIL: no captures in %s" % folder)
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
