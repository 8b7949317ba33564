#!/usr/bin/env python3
"""Midstream pickup: captures of pcaps/ with their first N packets cut off
(tools/pcaprewrite --cut-first N, written to a temporary folder), for several
N from the handshake into the ciphertext.

The full capture's run is the reference. For each TCP connection and each
sender, the cut capture begins that sender's stream at offset X (the first
byte of its first retained segment, read from the capture). Checked:

* every record of the full run that starts at or after X is found, at offset
  (full offset - X), and no other record (the pickup lands on the first real
  record boundary, not inside one);
* `partial` is true exactly when some sender's retained stream does not start
  with a hello record, and each such sender's `pickup_offset` is its first
  record boundary; one `tls-midstream` diagnostic per picked-up sender;
* the hello facts (`version`, `cipher_suite`, `sni`) are those of the full
  run when the hello was kept and null when it was cut;
* nothing is malformed, and connections wholly after the cut are reported
  exactly as in the full run (same summary apart from ids and packet numbers).

  run_midstream.py --tlsscope BIN --source-dir DIR    (ends with 'N passed, N failed')
"""
import argparse
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

# capture -> packet counts to cut off (1-3: SYN, SYN-ACK, ACK; then into the
# handshake; the large ones into application data / ciphertext)
CASES = {
    "tls12-rsa-aes128-cbc-sha.pcap": [1, 3, 4, 5, 6, 8, 9, 10, 11, 13],
    "tls13-aes128-gcm-sha256.pcap": [3, 4, 5, 6, 7, 8, 9, 10],
    "tls12-resume-session-id.pcap": [4, 6, 9, 12, 17],
    "tls13-hello-retry-request.pcap": [4, 5, 6, 8],
    "tls13-bulk-3mb.pcap": [9, 17, 30, 31, 57, 80, 100],
}


def load_pcaprewrite(src):
    path = os.path.join(src, "tools", "pcaprewrite")
    loader = importlib.machinery.SourceFileLoader("pcaprewrite", path)
    spec = importlib.util.spec_from_loader("pcaprewrite", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def segments(pr, path):
    """Per packet: (src endpoint, dst endpoint, seq, flags, payload) or None."""
    _, _, linktype, pkts = pr.read_pcap(path)
    out = []
    for _, _, _, body in pkts:
        rng = pr.tcp_payload_range(linktype, body)
        ip = pr.ip_offset(linktype, body)
        if rng is None or ip is None:
            out.append(None)
            continue
        if body[ip] >> 4 == 4:
            src, dst = body[ip + 12:ip + 16], body[ip + 16:ip + 20]
            tcp = ip + (body[ip] & 15) * 4
        else:
            src, dst = body[ip + 8:ip + 24], body[ip + 24:ip + 40]
            tcp = ip + 40
        sport = int.from_bytes(body[tcp:tcp + 2], "big")
        dport = int.from_bytes(body[tcp + 2:tcp + 4], "big")
        seq = int.from_bytes(body[tcp + 4:tcp + 8], "big")
        flags = body[tcp + 13]
        out.append(((src, sport), (dst, dport), seq, flags, body[rng[0]:rng[1]]))
    return out


def streams(segs):
    """Per (sender, receiver): ISN+1, and the stream bytes by offset (in-order capture)."""
    base, data = {}, {}
    for s in segs:
        if s is None:
            continue
        src, dst, seq, flags, pl = s
        k = (src, dst)
        if flags & 0x02:
            base[k] = (seq + 1) & 0xffffffff
            data[k] = bytearray()
        elif pl and k in base:
            off = (seq - base[k]) & 0xffffffff
            buf = data[k]
            if off == len(buf):
                buf += pl
    return base, data


def run(binary, path):
    env = dict(os.environ)
    env.pop("SSLKEYLOGFILE", None)
    p = subprocess.run([binary, "-j", "-q", "-r", path], stdout=subprocess.PIPE, env=env,
                       timeout=120)
    objs = [json.loads(line) for line in p.stdout.decode().splitlines()]
    return p.returncode, objs


def endpoint_key(ip, port):
    return (ip, port)


def by_conn(objs):
    """conn id -> {"summary", "records": {(ip, port): [(offset, type, length)]}, "diags"}."""
    conns = {}
    for o in objs:
        if o.get("type") == "connection":
            conns.setdefault(o["id"], {"records": [], "diags": []})["summary"] = o
        elif o.get("type") == "record":
            conns.setdefault(o["conn"], {"records": [], "diags": []})["records"].append(o)
        elif o.get("type") == "diagnostic" and "conn" in o:
            conns.setdefault(o["conn"], {"records": [], "diags": []})["diags"].append(o)
    out = {}
    for cid, c in conns.items():
        s = c.get("summary")
        if s is None:
            continue
        ends = {"c2s": (s["client_ip"], s["client_port"]), "s2c": (s["server_ip"], s["server_port"])}
        recs = {}
        for r in c["records"]:
            recs.setdefault(ends[r["dir"]], []).append((r["offset"], r["content_type"], r["length"]))
        c["ends"] = ends
        c["by_sender"] = recs
        out[frozenset(ends.values())] = c
    return out


def ip_text(raw):
    import ipaddress
    return str(ipaddress.ip_address(bytes(raw)))


def hello_start(buf, x):
    return len(buf) >= x + 6 and buf[x] == 22 and buf[x + 5] in (1, 2)


STABLE = ("version", "cipher_suite", "sni", "alpn", "resumed", "client_handshake",
          "server_handshake", "alerts", "encrypted_alerts", "partial", "malformed")


def check_case(binary, pr, full_path, cut, tmp, full_conns, segs, base, data):
    errs = []
    cut_path = os.path.join(tmp, "cut%d-%s" % (cut, os.path.basename(full_path)))
    pr.main(["pcaprewrite", full_path, cut_path, "--cut-first", str(cut)])
    rc, objs = run(binary, cut_path)
    if rc != 0:
        errs.append("exit status %d" % rc)
    got = by_conn(objs)
    # First retained payload segment of each sender.
    first = {}
    for s in segs[cut:]:
        k = None if s is None else (s[0], s[1])
        if k is not None and s[4] and k not in first and k in base:
            first[k] = (s[2] - base[k]) & 0xffffffff
    for key, fc in full_conns.items():
        fs = fc["summary"]
        senders = {}
        ends = fc["ends"]
        for d, (ip, port) in ends.items():
            peer = ends["s2c" if d == "c2s" else "c2s"]
            raw = next((k for k in base if ip_text(k[0][0]) == ip and k[0][1] == port and
                        ip_text(k[1][0]) == peer[0] and k[1][1] == peer[1]), None)
            senders[(ip, port)] = (d, raw)
        retained = {ep: first.get(raw) for ep, (d, raw) in senders.items()}
        name = "%s#%d" % (os.path.basename(full_path), fs["id"])
        if all(x is None for x in retained.values()):
            if key in got:
                errs.append("%s: reported although wholly cut" % name)
            continue
        if key not in got:
            errs.append("%s: missing" % name)
            continue
        gc = got[key]
        gs = gc["summary"]
        if fs["first_packet"] > cut:
            # Wholly after the cut: nothing may change.
            for k in STABLE:
                if gs.get(k) != fs.get(k):
                    errs.append("%s.%s: %r, full run %r" % (name, k, gs.get(k), fs.get(k)))
            continue
        want_partial = False
        for ep, x in retained.items():
            d, raw = senders[ep]
            full_recs = fc["by_sender"].get(ep, [])
            if x is None:
                want = []
            else:
                want = [(o - x, t, n) for (o, t, n) in full_recs if o >= x]
            have = gc["by_sender"].get(ep, [])
            if have != want:
                errs.append("%s %s:%d: records %s, expected %s" %
                            (name, ep[0], ep[1], have[:6], want[:6]))
            picked = x is not None and not hello_start(data.get(raw, b""), x) and want
            want_partial = want_partial or bool(picked)
            gdir = next((dd for dd, e in gc["ends"].items() if e == ep), None)
            gd = gs.get(gdir, {})
            exp_off = want[0][0] if picked else None
            if gd.get("pickup_offset") != exp_off:
                errs.append("%s %s:%d: pickup_offset %r, expected %r" %
                            (name, ep[0], ep[1], gd.get("pickup_offset"), exp_off))
            n_diag = sum(1 for g in gc["diags"]
                         if g["kind"] == "tls-midstream" and g.get("dir") == gdir)
            if n_diag != (1 if picked else 0):
                errs.append("%s %s:%d: %d tls-midstream diagnostics" % (name, ep[0], ep[1], n_diag))
        if gs.get("partial") != want_partial:
            errs.append("%s.partial: %r, expected %r" % (name, gs.get("partial"), want_partial))
        if gs.get("malformed"):
            errs.append("%s.malformed: true" % name)
        def kept_hello(ep, msg):
            """A record of ep's retained stream starts with this hello message."""
            x = retained.get(ep)
            buf = data.get(senders[ep][1], b"")
            return x is not None and any(
                t == 22 and o >= x and len(buf) > o + 5 and buf[o + 5] == msg
                for (o, t, _) in fc["by_sender"].get(ep, []))

        kept_ch = kept_hello((fs["client_ip"], fs["client_port"]), 1)
        kept_sh = kept_hello((fs["server_ip"], fs["server_port"]), 2)
        for k, kept in (("version", kept_sh), ("cipher_suite", kept_sh), ("sni", kept_ch)):
            exp = fs.get(k) if kept else None
            if gs.get(k) != exp:
                errs.append("%s.%s: %r, expected %r" % (name, k, gs.get(k), exp))
    stats = next((o for o in objs if o.get("type") == "stats"), {})
    n_partial = sum(1 for c in got.values() if c["summary"].get("partial"))
    if stats.get("anomalies", {}).get("partial") != n_partial:
        errs.append("stats.anomalies.partial %r, %d partial connections" %
                    (stats.get("anomalies", {}).get("partial"), n_partial))
    os.unlink(cut_path)
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--source-dir", required=True)
    a = ap.parse_args()
    pr = load_pcaprewrite(a.source_dir)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for cap, cuts in CASES.items():
            path = os.path.join(a.source_dir, "pcaps", cap)
            rc, objs = run(a.tlsscope, path)
            full = by_conn(objs)
            segs = segments(pr, path)
            base, data = streams(segs)
            for cut in cuts:
                errs = check_case(a.tlsscope, pr, path, cut, tmp, full, segs, base, data)
                label = "%s cut %d" % (cap, cut)
                if errs:
                    print("FAIL %s" % label)
                    for e in errs:
                        print("    " + e)
                    failed += 1
                else:
                    print("PASS %s" % label)
                    passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
