#!/usr/bin/env python3
"""JA3 / JA3S of every hello against tshark 4.0 (the differential oracle).

The expected values are tshark's, precomputed into tests/e2e/fingerprints.json
(tshark takes about a minute for all captures, too slow for every ctest run):

  run_fingerprints.py --regen --tlsscope BIN --source-dir DIR

runs, for every capture of pcaps/ (and pcaps/linktypes/, pcaps/dsb/) and of
../shared/corpus (with the tshark options of its manifest; for pcaps/,
"-d tcp.port==P,tls" for each server port tlsscope saw that is not 443):
  tshark -n -r F -Y "tls.handshake.type==1 || tls.handshake.type==2" -T fields
         -e frame.number -e tls.handshake.ja3_full -e tls.handshake.ja3
         -e tls.handshake.ja3s_full -e tls.handshake.ja3s
and records, per capture, each packet's hello fingerprints (raw string and
MD5, in order) and the tshark version. The check (no --regen) runs
`tlsscope -j -r F` keyless on the same captures: per packet, the ClientHello /
ServerHello events' ja3_full/ja3 and ja3s_full/ja3s must be tshark's list.
Hellos tshark did not dissect (lost or reordered segments it does not
reassemble) are counted as unverified; at least 90 % of tlsscope's hellos must
be compared. Each connection summary's ja3 / ja3s / ja4 must be those of its
first ClientHello / ServerHello event; SSLv2-format hellos have none (tshark
computes no JA3 for them either). A capture missing from the expected file
fails (run --regen and review the diff).

  run_fingerprints.py --tlsscope BIN --source-dir DIR  (ends with 'N passed, N failed')
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict


def captures(src):
    """(label, path, extra tshark options)."""
    out = []
    pcaps = os.path.join(src, "pcaps")
    for sub in ("", "linktypes", "dsb"):
        d = os.path.join(pcaps, sub)
        for n in sorted(os.listdir(d)):
            if n.endswith((".pcap", ".pcapng")):
                out.append((os.path.join("pcaps", sub, n), os.path.join(d, n), []))
    shared = os.path.join(os.path.dirname(os.path.abspath(src)), "shared", "corpus")
    man_path = os.path.join(shared, "manifest.json")
    if os.path.exists(man_path):
        with open(man_path) as f:
            man = json.load(f)
        seen = set()
        for c in man["captures"]:
            path = os.path.join(shared, man["roots"][c["source"]], c["file"])
            if path in seen:
                continue
            seen.add(path)
            out.append((c["name"], path, list(c.get("tshark_options", []))))
    return out


def tshark_hellos(path, opts):
    cmd = ["tshark", "-n", "-r", path] + opts + [
        "-Y", "tls.handshake.type==1 || tls.handshake.type==2", "-T", "fields",
        "-E", "separator=\t", "-E", "aggregator=|", "-e", "frame.number",
        "-e", "tls.handshake.ja3_full", "-e", "tls.handshake.ja3",
        "-e", "tls.handshake.ja3s_full", "-e", "tls.handshake.ja3s"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=300)
    got = defaultdict(list)
    for line in p.stdout.decode().splitlines():
        f = line.split("\t")
        f += [""] * (5 - len(f))
        pkt = int(f[0])
        for full, md5 in zip(f[1].split("|"), f[2].split("|")):
            if md5:
                got[pkt].append(["ja3", full, md5])
        for full, md5 in zip(f[3].split("|"), f[4].split("|")):
            if md5:
                got[pkt].append(["ja3s", full, md5])
    return p.returncode, got


def tlsscope_run(exe, path):
    env = dict(os.environ)
    env.pop("SSLKEYLOGFILE", None)
    p = subprocess.run([exe, "-j", "-q", "-r", path], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, env=env, timeout=300)
    hellos = defaultdict(list)
    first = {}  # conn -> {"ja3": .., "ja4": .., "ja3s": ..} of its first hellos
    conns = []
    ports = set()
    sslv2_conns = set()
    for line in p.stdout.decode().splitlines():
        o = json.loads(line)
        if o.get("type") == "handshake" and o.get("msg_type") in (1, 2):
            fp = first.setdefault(o["conn"], {})
            if o.get("sslv2"):
                if o["msg_type"] == 1:
                    sslv2_conns.add(o["conn"])
                    fp.setdefault("client", None)
                for k in ("ja3", "ja3s", "ja4", "ja3_full", "ja3s_full"):
                    if k in o:
                        return p.returncode, None, 0, "SSLv2 hello event has %s" % k, ports
                continue
            if "parse_error" in o or o.get("skipped"):
                continue
            if o["msg_type"] == 1:
                hellos[o["pkt"]].append(["ja3", o.get("ja3_full"), o.get("ja3")])
                fp.setdefault("client", (o.get("ja3"), o.get("ja4")))
            else:
                hellos[o["pkt"]].append(["ja3s", o.get("ja3s_full"), o.get("ja3s")])
                fp.setdefault("server", o.get("ja3s"))
        elif o.get("type") == "connection":
            conns.append(o)
            ports.add(o["server_port"])
    errs = []
    for c in conns:
        fp = first.get(c["id"], {})
        want_ja3, want_ja4 = fp.get("client") or (None, None)
        if (c.get("ja3"), c.get("ja4")) != (want_ja3, want_ja4):
            errs.append("conn %d: summary ja3/ja4 %r/%r, first ClientHello %r/%r" % (
                c["id"], c.get("ja3"), c.get("ja4"), want_ja3, want_ja4))
        if c.get("ja3s") != fp.get("server"):
            errs.append("conn %d: summary ja3s %r, first ServerHello %r" % (
                c["id"], c.get("ja3s"), fp.get("server")))
        for k in ("ja3", "ja3s", "ja4"):
            if k not in c:
                errs.append("conn %d: no %s field" % (c["id"], k))
    return p.returncode, hellos, len(sslv2_conns), "; ".join(errs), ports


EXPECTED = os.path.join("tests", "e2e", "fingerprints.json")


def regen(a):
    out = {"comment": "Expected JA3/JA3S per packet, from tshark; regenerate with "
                      "tests/e2e/run_fingerprints.py --regen (see its docstring)",
           "tshark": subprocess.run(["tshark", "-v"], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL).stdout.decode().splitlines()[0],
           "captures": {}}
    for label, path, opts in captures(a.source_dir):
        _, _, _, _, ports = tlsscope_run(a.tlsscope, path)
        extra = []
        # Our captures use high ports; the shared corpus has its own options.
        for port in sorted(ports - {443}) if label.startswith("pcaps/") else []:
            extra += ["-d", "tcp.port==%d,tls" % port]
        rc, want = tshark_hellos(path, opts + extra)
        if rc != 0:
            print("tshark failed on %s" % path, file=sys.stderr)
            return 1
        out["captures"][label] = {
            "tshark_options": opts + extra,
            "hellos": {str(k): v for k, v in sorted(want.items())}}
    with open(os.path.join(a.source_dir, EXPECTED), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %s (%d captures)" % (EXPECTED, len(out["captures"])))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--regen", action="store_true", help="rewrite the expected file with tshark")
    a = ap.parse_args()
    if a.regen:
        if shutil.which("tshark") is None:
            print("tshark is not installed", file=sys.stderr)
            return 1
        return regen(a)
    with open(os.path.join(a.source_dir, EXPECTED)) as f:
        expected = json.load(f)["captures"]
    passed = failed = 0
    compared = unverified = sslv2 = 0
    for label, path, opts in captures(a.source_dir):
        errs = []
        if label not in expected:
            print("FAIL %s: not in %s (run --regen)" % (label, EXPECTED))
            failed += 1
            continue
        want = {int(k): v for k, v in expected[label]["hellos"].items()}
        rc, got, n_v2, err, _ = tlsscope_run(a.tlsscope, path)
        if rc != 0:
            errs.append("tlsscope exit status %d" % rc)
        if err:
            errs.append(err)
        if got is not None:
            sslv2 += n_v2
            for pkt in sorted(set(want) | set(got)):
                if pkt not in want:
                    unverified += len(got[pkt])
                    if a.verbose:
                        print("  %s pkt %d: not dissected by tshark" % (label, pkt))
                    continue
                if got.get(pkt, []) != want[pkt]:
                    errs.append("pkt %d: tlsscope %r, tshark %r" % (pkt, got.get(pkt), want[pkt]))
                else:
                    compared += len(want[pkt])
        print(("PASS %s" % label) if not errs else ("FAIL %s: %s" % (label, "; ".join(errs))))
        passed += not errs
        failed += bool(errs)
    total = compared + unverified
    print("hellos compared with tshark: %d; not dissected by tshark: %d; "
          "SSLv2-format client hellos without fingerprints: %d" % (compared, unverified, sslv2))
    if total == 0 or compared < 0.9 * total:
        print("FAIL: fewer than 90 %% of the hellos could be compared (%d of %d)" % (compared, total))
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
