#!/usr/bin/env python3
"""Plaintext export (--data-dir) on the captures of pcaps/.

  every capture with key material (one source: RSA key, else PSK, else key
  log): each direction with decrypted application data has its file
  ID-CLIENT-SERVER-DIR.bin (mode 0600) whose length and SHA-256 are the
  manifest's; the sidecar ID-CLIENT-SERVER.json names it, repeats bytes and
  sha256, and lists no hole; nothing else is written;
  a segment removed (tools/pcaprewrite --drop, a packet in the middle of the
  server's data of tls13-bulk-3mb): the sidecar's first hole is a tcp-gap
  of exactly the connection's s2c gap_bytes, at an offset before which the
  file equals the intact plaintext, and the file's size is the bytes the
  sidecar and the summary report.

  run_datadir.py --tlsscope BIN --source-dir DIR   (ends with 'N passed, N failed')
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

ENV = dict(os.environ)
ENV.pop("SSLKEYLOGFILE", None)


def run(binary, args, extra=()):
    p = subprocess.run([binary, "-j", "-q", "--no-env-keylog"] + list(extra) + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, timeout=300)
    objs = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
    return p.returncode, objs


def source_args(pcaps, cap):
    k = cap.get("keys") or {}
    if k.get("rsa_key"):
        return ["-k", os.path.join(pcaps, k["rsa_key"])]
    if k.get("psk"):
        return ["--psk", k["psk"]] + (["--psk-identity", k["psk_identity"]]
                                      if k.get("psk_identity") else [])
    if k.get("keylog"):
        return ["-l", os.path.join(pcaps, k["keylog"])]
    return None


def sha(data):
    return hashlib.sha256(data).hexdigest()


def check_capture(binary, pcaps, cap, tmp):
    errs = []
    src = source_args(pcaps, cap)
    out = os.path.join(tmp, cap["name"])
    rc, objs = run(binary, src + ["--summary-only", "--data-dir", out, "-r",
                                  os.path.join(pcaps, cap["file"])])
    if rc != 0:
        errs.append("exit status %d" % rc)
    conns = [o for o in objs if o.get("type") == "connection"]
    expected_files = set()
    want_by_port = {m.get("client_port"): m for m in cap["connections"]}
    for c in conns:
        if not c.get("app_data"):
            continue
        stem = "%d-%s.%d-%s.%d" % (c["id"], c["client_ip"].replace(":", "_"), c["client_port"],
                                   c["server_ip"].replace(":", "_"), c["server_port"])
        try:
            side = json.load(open(os.path.join(out, stem + ".json")))
        except (OSError, ValueError) as e:
            errs.append("conn %d sidecar: %s" % (c["id"], e))
            continue
        expected_files.add(stem + ".json")
        m = want_by_port.get(c["client_port"]) or {}
        for d in ("c2s", "s2c"):
            want = (c["app_data"] or {}).get(d)
            sd = side.get(d) or {}
            if want is None or want["bytes"] == 0:
                if sd.get("file") is not None:
                    errs.append("conn %d %s: a file without plaintext" % (c["id"], d))
                continue
            name = stem + "-" + d + ".bin"
            expected_files.add(name)
            path = os.path.join(out, name)
            data = open(path, "rb").read() if os.path.exists(path) else None
            got = None if data is None else {"bytes": len(data), "sha256": sha(data)}
            if got != want or got != (m.get("app_data") or {}).get(d):
                errs.append("conn %d %s file %s, summary %s" % (c["id"], d, got, want))
            if data is not None and os.stat(path).st_mode & 0o077:
                errs.append("%s readable by others" % name)
            if sd.get("file") != name or sd.get("bytes") != want["bytes"] or \
                    sd.get("sha256") != want["sha256"] or sd.get("holes") != []:
                errs.append("conn %d %s sidecar %r" % (c["id"], d, sd))
    if os.path.isdir(out):
        extra = set(os.listdir(out)) - expected_files
        if extra:
            errs.append("unexpected files %s" % sorted(extra))
    return errs


def check_gap(binary, source_dir, pcaps, man, tmp):
    """A packet of the server's bulk data removed."""
    errs = []
    cap = man["tls13-bulk-3mb"]
    path = os.path.join(pcaps, cap["file"])
    src = source_args(pcaps, cap)
    whole = os.path.join(tmp, "bulk-whole")
    rc, objs = run(binary, src + ["--data-dir", whole, "-r", path])
    recs = [o for o in objs if o.get("type") == "record" and o.get("dir") == "s2c"
            and o.get("content_type") == 23]
    pkts = sorted({r["pkt"] for r in recs})
    if rc != 0 or len(pkts) < 10:
        return ["intact run: exit %d, %d packets with server records" % (rc, len(pkts))]
    drop = pkts[len(pkts) // 2]
    cut = os.path.join(tmp, "bulk-drop%d.pcap" % drop)
    subprocess.run([sys.executable, os.path.join(source_dir, "tools", "pcaprewrite"), path, cut,
                    "--drop", str(drop)], check=True, timeout=120)
    dmg = os.path.join(tmp, "bulk-damaged")
    rc, objs = run(binary, src + ["--summary-only", "--data-dir", dmg, "-r", cut])
    conns = [o for o in objs if o.get("type") == "connection"]
    if rc != 0 or len(conns) != 1:
        return ["damaged run: exit %d, %d connections" % (rc, len(conns))]
    c = conns[0]
    names = sorted(os.listdir(dmg))
    side_name = [n for n in names if n.endswith(".json")]
    s2c_name = [n for n in names if n.endswith("-s2c.bin")]
    if len(side_name) != 1 or len(s2c_name) != 1:
        return ["damaged run wrote %s" % names]
    side = json.load(open(os.path.join(dmg, side_name[0])))["s2c"]
    data = open(os.path.join(dmg, s2c_name[0]), "rb").read()
    intact = open(os.path.join(whole, [n for n in os.listdir(whole)
                                       if n.endswith("-s2c.bin")][0]), "rb").read()
    holes = side.get("holes") or []
    gap = c["s2c"].get("gap_bytes")
    if not holes or holes[0].get("kind") != "tcp-gap" or holes[0].get("bytes") != gap or not gap:
        errs.append("first hole %r, s2c gap_bytes %r" % (holes[:1], gap))
    elif data[:holes[0]["at"]] != intact[:holes[0]["at"]] or holes[0]["at"] == 0:
        errs.append("plaintext before the hole at %d differs from the intact capture's" %
                    holes[0]["at"])
    if len(data) != side.get("bytes") or len(data) != (c.get("app_data") or {}).get(
            "s2c", {}).get("bytes"):
        errs.append("file %d bytes, sidecar %r, summary %r" % (len(data), side.get("bytes"),
                                                               c.get("app_data")))
    if len(data) >= len(intact):
        errs.append("nothing missing after removing packet %d" % drop)
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--source-dir", required=True)
    a = ap.parse_args()
    pcaps = os.path.join(a.source_dir, "pcaps")
    with open(os.path.join(pcaps, "manifest.json")) as f:
        manifest = json.load(f)["captures"]
    man = {c["name"]: c for c in manifest}
    tmp = tempfile.mkdtemp(prefix="tlsscope-datadir-")
    results = []
    for cap in manifest:
        if source_args(pcaps, cap) is None or cap["name"] == "tls13-bulk-3mb":
            continue
        results.append((cap["name"], check_capture(a.tlsscope, pcaps, cap, tmp)))
    results.append(("tls13-bulk-3mb with a server segment removed",
                    check_gap(a.tlsscope, a.source_dir, pcaps, man, tmp)))
    failed = 0
    for name, errs in results:
        print(("PASS %s" % name) if not errs else ("FAIL %s: %s" % (name, "; ".join(errs))))
        failed += bool(errs)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
