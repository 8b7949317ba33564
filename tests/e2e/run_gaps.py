#!/usr/bin/env python3
"""Decryption across TCP gaps: AEAD bulk captures of pcaps/ (TLS 1.3 GCM,
TLS 1.2 GCM with its explicit nonce, TLS 1.2 ChaCha20-Poly1305 without one)
with packets removed by tools/pcaprewrite --drop:

  one server packet, one client packet, two server packets far apart: the
  connection still decrypts, every whole application_data record after each
  gap decrypts (the sequence number is found by trial), no record fails its
  tag, the summary reports the bytes lost (gap_bytes), the records skipped
  and one resync per gap; the --data-dir file equals the intact plaintext up
  to the first hole (a tcp-gap of exactly gap_bytes) and, for one gap, ends
  with the intact plaintext's tail.

  run_gaps.py --tlsscope BIN --source-dir DIR   (ends with 'N passed, N failed')
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ENV = dict(os.environ)
ENV.pop("SSLKEYLOGFILE", None)
CAPTURES = ["tls13-bulk-3mb", "tls12-bulk-aes128-gcm", "tls12-bulk-chacha20"]


def run(binary, args):
    p = subprocess.run([binary, "-j", "-q", "--no-env-keylog"] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=ENV, timeout=300)
    return p.returncode, [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]


def dir_file(folder, d):
    names = [n for n in os.listdir(folder) if n.endswith("-%s.bin" % d)]
    return open(os.path.join(folder, names[0]), "rb").read() if len(names) == 1 else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--source-dir", required=True)
    a = ap.parse_args()
    pcaps = os.path.join(a.source_dir, "pcaps")
    with open(os.path.join(pcaps, "manifest.json")) as f:
        man = {c["name"]: c for c in json.load(f)["captures"]}
    tmp = tempfile.mkdtemp(prefix="tlsscope-gaps-")
    rewrite = os.path.join(a.source_dir, "tools", "pcaprewrite")
    passed = failed = 0
    for name in CAPTURES:
        cap = man.get(name)
        if cap is None:
            print("FAIL %s: not in pcaps/manifest.json" % name)
            failed += 1
            continue
        path = os.path.join(pcaps, cap["file"])
        keys = ["-l", os.path.join(pcaps, cap["keys"]["keylog"])]
        whole = os.path.join(tmp, name + ".whole")
        rc, objs = run(a.tlsscope, keys + ["--data-dir", whole, "-r", path])
        pk = {"c2s": [], "s2c": []}
        for o in objs:
            if o.get("type") == "record" and o.get("content_type") == 23 and o.get("decrypted"):
                pk[o["dir"]].append(o["pkt"])
        intact = {d: dir_file(whole, d) for d in ("c2s", "s2c")}
        s2c = sorted(set(pk["s2c"]))
        c2s = sorted(set(pk["c2s"]))
        if rc != 0 or len(s2c) < 8 or len(c2s) < 3 or None in intact.values():
            print("FAIL %s: intact run (exit %d, %d/%d data packets)" % (name, rc, len(c2s),
                                                                        len(s2c)))
            failed += 1
            continue
        variants = [("s2c", [s2c[len(s2c) // 2]]), ("c2s", [c2s[len(c2s) // 2]]),
                    ("s2c", [s2c[len(s2c) // 4], s2c[3 * len(s2c) // 4]])]
        for d, drops in variants:
            label = "%s without packet%s %s (%s)" % (name, "s" if len(drops) > 1 else "",
                                                     ",".join(map(str, drops)), d)
            errs = []
            cut = os.path.join(tmp, "%s-drop-%s.pcap" % (name, "-".join(map(str, drops))))
            args = [sys.executable, rewrite, path, cut]
            for p in drops:
                args += ["--drop", str(p)]
            subprocess.run(args, check=True, timeout=120)
            out = cut + ".data"
            rc, objs = run(a.tlsscope, keys + ["--data-dir", out, "-r", cut])
            conns = [o for o in objs if o.get("type") == "connection"]
            if rc != 0 or len(conns) != 1:
                errs.append("exit %d, %d connections" % (rc, len(conns)))
            else:
                c = conns[0]
                gaps = [o for o in objs if o.get("type") == "gap" and o.get("dir") == d]
                first_gap_pkt = min(g["pkt"] for g in gaps) if gaps else None
                later = [o for o in objs if o.get("type") == "record" and o.get("dir") == d and
                         o.get("content_type") == 23 and first_gap_pkt is not None and
                         o["pkt"] >= first_gap_pkt]
                if len(gaps) != len(drops):
                    errs.append("%d gap events for %d packets removed" % (len(gaps), len(drops)))
                if not later or not all(r.get("decrypted") for r in later):
                    errs.append("%d of %d records after the gap decrypted" %
                                (sum(1 for r in later if r.get("decrypted")), len(later)))
                sd = c.get(d) or {}
                if c.get("bad_records") != 0 or not c.get("decrypted"):
                    errs.append("decrypted %r, bad_records %r" % (c.get("decrypted"),
                                                                  c.get("bad_records")))
                if sd.get("resyncs") != len(drops) or not sd.get("records_skipped") or \
                        not sd.get("gap_bytes"):
                    errs.append("resyncs %r, records_skipped %r, gap_bytes %r" % (
                        sd.get("resyncs"), sd.get("records_skipped"), sd.get("gap_bytes")))
                data = dir_file(out, d)
                sides = [n for n in os.listdir(out) if n.endswith(".json")]
                side = json.load(open(os.path.join(out, sides[0])))[d] if len(sides) == 1 else {}
                holes = side.get("holes") or []
                if data is None or not holes or holes[0].get("kind") != "tcp-gap":
                    errs.append("data file / holes missing: %r" % holes[:1])
                else:
                    at = holes[0]["at"]
                    full = intact[d]
                    if data[:at] != full[:at]:
                        errs.append("plaintext before the first hole differs")
                    if len(drops) == 1 and (holes[0]["bytes"] != sd.get("gap_bytes") or
                                            data[at:] != full[len(full) - (len(data) - at):]):
                        errs.append("plaintext after the hole is not the intact tail")
                    if len(data) >= len(full) or len(data) != (c.get("app_data") or {}).get(
                            d, {}).get("bytes"):
                        errs.append("file %d bytes of %d, summary %r" % (
                            len(data), len(full), (c.get("app_data") or {}).get(d)))
                other = "s2c" if d == "c2s" else "c2s"
                if dir_file(out, other) != intact[other]:
                    errs.append("the other direction (%s) changed" % other)
            print(("PASS %s" % label) if not errs else ("FAIL %s: %s" % (label, "; ".join(errs))))
            passed += not errs
            failed += bool(errs)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
