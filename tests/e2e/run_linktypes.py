#!/usr/bin/env python3
"""Link-type and damaged-stream captures (pcaps/linktypes/): every file must
give the facts of pcaps/linktypes/expected.json (one TLS connection, its
endpoints, version, suite, handshake lists, delivered / gap / conflict bytes
per direction, and the diagnostics a damaged variant must produce).

  run_linktypes.py --tlsscope BIN --source-dir DIR
Standard library only. Ends with 'N passed, N failed'.
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
    folder = os.path.join(a.source_dir, "pcaps", "linktypes")
    with open(os.path.join(folder, "expected.json")) as f:
        spec = json.load(f)
    files = sorted(n for n in os.listdir(folder)
                   if n.endswith((".pcap", ".pcapng", ".gz")))
    env = dict(os.environ)
    env.pop("SSLKEYLOGFILE", None)
    passed = failed = 0
    for name in files:
        want = json.loads(json.dumps(spec["default"]))
        for k, v in spec["overrides"].get(name, {}).items():
            want[k] = v
        p = subprocess.run([a.tlsscope, "-j", "--summary-only", "-q", "-r",
                            os.path.join(folder, name)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, timeout=120)
        errs = []
        if p.returncode != 0:
            errs.append("exit status %d" % p.returncode)
        objs = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
        conns = [o for o in objs if o.get("type") == "connection"]
        stats = objs[-1] if objs and objs[-1].get("type") == "stats" else {}
        if len(conns) != want["connections"]:
            errs.append("connections: expected %d, got %d" % (want["connections"], len(conns)))
        if conns:
            c = conns[0]
            for k in ("client_ip", "client_port", "server_port", "version", "cipher_suite",
                      "client_handshake", "server_handshake"):
                if c.get(k) != want[k]:
                    errs.append("%s: expected %r, got %r" % (k, want[k], c.get(k)))
            for d in ("c2s", "s2c"):
                for k, v in want[d].items():
                    got = c.get(d, {}).get(k)
                    if got != v:
                        errs.append("%s.%s: expected %r, got %r" % (d, k, v, got))
        diags = stats.get("diagnostics", {})
        for kind in want["diagnostics"]:
            if not diags.get(kind):
                errs.append("diagnostic %s expected, not reported (got %r)" % (kind, diags))
        if not want["diagnostics"]:
            bad = {k: n for k, n in diags.items() if k != "time-went-backwards"}
            if bad:
                errs.append("unexpected diagnostics %r" % bad)
        if errs:
            failed += 1
            print("FAIL %s" % name)
            for e in errs:
                print("    " + e)
        else:
            passed += 1
            print("PASS %s" % name)
    if not files:
        print("FAIL: no captures in %s" % folder)
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
