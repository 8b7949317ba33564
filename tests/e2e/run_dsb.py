#!/usr/bin/env python3
"""Captures with embedded secrets (pcaps/dsb/*.pcapng, pcapng Decryption
Secrets Blocks made by editcap --inject-secrets from pcaps/ captures): with no
key option at all, each connection must decrypt with key_source "dsb", both
Finished verified, no bad records, and the app_data of pcaps/manifest.json for
the capture it was made from.

  run_dsb.py --tlsscope BIN --source-dir DIR      (ends with 'N passed, N failed')
"""
import argparse
import json
import os
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--source-dir", required=True)
    a = ap.parse_args()
    pcaps = os.path.join(a.source_dir, "pcaps")
    with open(os.path.join(pcaps, "manifest.json")) as f:
        man = {c["name"]: c for c in json.load(f)["captures"]}
    folder = os.path.join(pcaps, "dsb")
    files = sorted(n for n in os.listdir(folder) if n.endswith("-dsb.pcapng"))
    env = dict(os.environ)
    env.pop("SSLKEYLOGFILE", None)
    passed = failed = 0
    for name in files:
        base = man[name[: -len("-dsb.pcapng")]]
        p = subprocess.run([a.tlsscope, "-j", "--summary-only", "-q", "-r",
                            os.path.join(folder, name)], stdout=subprocess.PIPE, env=env,
                           timeout=120)
        conns = [o for o in (json.loads(l) for l in p.stdout.decode().splitlines())
                 if o.get("type") == "connection"]
        errs = []
        if p.returncode != 0:
            errs.append("exit status %d" % p.returncode)
        if len(conns) != len(base["connections"]):
            errs.append("%d connections, expected %d" % (len(conns), len(base["connections"])))
        for c, want in zip(conns, base["connections"]):
            if c.get("key_source") != "dsb":
                errs.append("key_source %r" % c.get("key_source"))
            if c.get("finished") != {"client": "verified", "server": "verified"}:
                errs.append("finished %r" % c.get("finished"))
            if c.get("bad_records") != 0:
                errs.append("bad_records %r" % c.get("bad_records"))
            if c.get("app_data") != want["app_data"]:
                errs.append("app_data %r, expected %r" % (c.get("app_data"), want["app_data"]))
        print(("PASS %s" % name) if not errs else ("FAIL %s: %s" % (name, "; ".join(errs))))
        passed += not errs
        failed += bool(errs)
    if not files:
        print("FAIL: no captures in %s" % folder)
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
