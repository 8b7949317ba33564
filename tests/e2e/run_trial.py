#!/usr/bin/env python3
"""Midstream trial decryption: TLS 1.3 captures of pcaps/ cut after their
handshake (tools/pcaprewrite --cut-first N, in a temporary folder) decrypt
from the key log alone, by trying its application secrets on the first
records (docs/decryption.md, "Midstream: keys by trial").

The full capture's run with its key log is the reference. For each cut and
each sender, the cut capture begins that sender's stream at offset X (first
byte of its first retained segment); the expected plaintext of a direction is
the full run's application_data records that start at or after X, in order.
Checked for every cut:

* the connection is decrypted by trial (`matched_by` "trial", `trial.matched`,
  `client_random` the full run's), no bad record, no undecrypted_reason;
* `app_data` per direction (bytes and SHA-256) is the expected plaintext;
* `version` 0x0304 and `cipher_suite` as in the full run;
* after a KeyUpdate both directions decrypt at generation 1; a cut a few
  records in finds a sequence number above 0;
* tshark 4.0 with the same key log decrypts nothing of the cut capture (it
  needs the handshake), where it decrypts the full one.

And the failures: a key log of another connection gives
`midstream_no_matching_secret` and a `tls-trial-failed` diagnostic; decoy
secrets ahead of the right ones with `--trial-max 1` give
`midstream_trial_cap`, without it the match after the decoys; a connection
whose handshake is in the run binds its secrets, so a trial in the same run
skips them; TLS 1.2 captures cut the same way give `midstream_tls12`.

  run_trial.py --tlsscope BIN --source-dir DIR    (ends with 'N passed, N failed')
"""
import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_midstream as rm  # noqa: E402  (pcaprewrite loader, segment and stream helpers)

# capture -> cuts: "appN" drops the packets before the one that completes the
# N-th application_data record of the capture (0-based); "appN@C" counts only
# connection C's; "keyupdate" drops everything up to the last KeyUpdate.
CASES = {
    "tls13-aes128-gcm-sha256": ["app0", "app1"],
    "tls13-aes256-gcm-sha384": ["app0", "app1"],
    "tls13-chacha20-poly1305-sha256": ["app0", "app1"],
    "tls13-aes128-ccm-sha256": ["app0"],
    "tls13-aes128-ccm8-sha256": ["app0"],
    "tls13-gnutls-cli-openssl-aes256-gcm": ["app0", "app1"],
    "tls13-openssl-gnutls-serv-chacha20": ["app0", "app1"],
    "tls13-key-update": ["keyupdate"],
    "tls13-resume-psk": ["app0@2", "app1@2"],
    "tls13-bulk-3mb": ["app3", "app60"],
}
TLS12 = {
    "tls12-ecdhe-rsa-aes128-gcm-sha256": 10,
    "tls12-gnutls-both-ecdhe-aes128-ccm": 10,
    "tls12-bulk-chacha20": 12,
    "tls12-rsa-aes128-cbc-sha": 10,
}
ENV = {k: v for k, v in os.environ.items() if k != "SSLKEYLOGFILE"}


def run(binary, args):
    p = subprocess.run([binary, "-j", "-q"] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=ENV, timeout=120)
    return p.returncode, [json.loads(line) for line in p.stdout.decode().splitlines()]


def conns_of(objs):
    """Endpoints -> {"summary", "app": {sender: [(offset, plaintext)]}, "diags", "ends"}."""
    by_id = {}
    last_rec = {}
    for o in objs:
        t = o.get("type")
        if t == "connection":
            by_id.setdefault(o["id"], {"app": {}, "diags": [], "hs": []})["summary"] = o
        elif t == "record":
            if o.get("decrypted") and o.get("inner_content_type") == 23:
                last_rec[(o["conn"], o["dir"])] = (o["offset"], o["pkt"])
        elif t == "app_data":
            c = by_id.setdefault(o["conn"], {"app": {}, "diags": [], "hs": []})
            off, pkt = last_rec[(o["conn"], o["dir"])]
            c["app"].setdefault(o["dir"], []).append(
                (off, pkt, base64.b64decode(o["data_base64"])))
        elif t == "handshake":
            by_id.setdefault(o["conn"], {"app": {}, "diags": [], "hs": []})["hs"].append(o)
        elif t == "diagnostic" and "conn" in o:
            by_id.setdefault(o["conn"], {"app": {}, "diags": [], "hs": []})["diags"].append(o)
    out = {}
    for cid, c in by_id.items():
        s = c.get("summary")
        if s is None:
            continue
        c["ends"] = {"c2s": (s["client_ip"], s["client_port"]),
                     "s2c": (s["server_ip"], s["server_port"])}
        out[frozenset(c["ends"].values())] = c
    return out


def cut_packets(full, spec):
    """Packets to drop for a cut spec (see CASES)."""
    ordered = sorted(full.values(), key=lambda c: c["summary"]["id"])
    if spec == "keyupdate":
        return max(h["pkt"] for c in ordered for h in c["hs"] if h.get("msg_type") == 24)
    n, _, conn = spec[3:].partition("@")
    pool = ordered if not conn else [ordered[int(conn) - 1]]
    pkts = sorted(p for c in pool for recs in c["app"].values() for (_, p, _) in recs)
    return pkts[int(n)] - 1


def first_retained(segs, cut, base):
    first = {}
    for s in segs[cut:]:
        k = None if s is None else (s[0], s[1])
        if k is not None and s[4] and k not in first and k in base:
            first[k] = (s[2] - base[k]) & 0xffffffff
    return first


def sender_raw(base, ep, peer):
    return next((k for k in base if rm.ip_text(k[0][0]) == ep[0] and k[0][1] == ep[1] and
                 rm.ip_text(k[1][0]) == peer[0] and k[1][1] == peer[1]), None)


def digest(data):
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()} if data else None


def tshark_plaintext(path, keylog, tmp):
    """Bytes of TLS plaintext tshark shows for stream 0 with the key log, or None without tshark."""
    if shutil.which("tshark") is None:
        return None
    env = dict(ENV)
    env["WIRESHARK_CONFIG_DIR"] = tmp
    env["LC_ALL"] = "C"
    p = subprocess.run(["tshark", "-r", path, "-2", "-n", "-q", "-o", "tls.keylog_file:" + keylog,
                        "-z", "follow,tls,raw,0"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=120)
    n = 0
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        hx = line.strip()
        if hx and all(ch in "0123456789abcdefABCDEF" for ch in hx) and len(hx) % 2 == 0:
            n += len(hx) // 2
    return n


def check_cut(binary, pr, name, spec, tmp, ctx):
    full, segs, base, keylog, path = ctx
    errs = []
    cut = cut_packets(full, spec)
    cut_path = os.path.join(tmp, "%s-%s.pcap" % (name, spec.replace("@", "-")))
    pr.main(["pcaprewrite", path, cut_path, "--cut-first", str(cut)])
    rc, objs = run(binary, ["-d", "-r", cut_path, "-l", keylog])
    if rc != 0:
        errs.append("exit status %d" % rc)
    got = conns_of(objs)
    first = first_retained(segs, cut, base)
    checked = 0
    seq_above0 = False
    for key, fc in full.items():
        fs = fc["summary"]
        if fs["first_packet"] > cut or key not in got:
            continue  # wholly after the cut (a full handshake) or wholly before it
        gc = got[key]
        gs = gc["summary"]
        cname = "%s#%d" % (name, fs["id"])
        want = {}
        for d, ep in fc["ends"].items():
            peer = fc["ends"]["s2c" if d == "c2s" else "c2s"]
            x = first.get(sender_raw(base, ep, peer))
            data = b"" if x is None else b"".join(
                pt for (off, _, pt) in fc["app"].get(d, []) if off >= x)
            gdir = next(dd for dd, e in gc["ends"].items() if e == ep)
            want[gdir] = digest(data)
        if want["c2s"] is None and want["s2c"] is None:
            continue
        checked += 1
        tr = gs.get("trial") or {}
        for k, exp in (("matched_by", "trial"), ("undecrypted_reason", None), ("bad_records", 0),
                       ("version", 0x0304), ("cipher_suite", fs["cipher_suite"])):
            if gs.get(k) != exp:
                errs.append("%s.%s: %r, expected %r" % (cname, k, gs.get(k), exp))
        client_random = fs["handshakes"][0]["client_random"] if fs.get("handshakes") else None
        if not tr.get("matched") or tr.get("client_random") != client_random:
            errs.append("%s.trial: %r, expected the client random %s" % (cname, tr, client_random))
        ad = gs.get("app_data") or {}
        for d in ("c2s", "s2c"):
            if ad.get(d) != want[d]:
                errs.append("%s app_data.%s: %r, expected %r (full run from the cut)" %
                            (cname, d, ad.get(d), want[d]))
        fseq = tr.get("first_sequence") or {}
        seq_above0 = seq_above0 or any((v or 0) > 0 for v in fseq.values())
        if spec == "keyupdate" and tr.get("generation") != {"c2s": 1, "s2c": 1}:
            errs.append("%s.trial.generation: %r, expected 1 both ways" %
                        (cname, tr.get("generation")))
    if checked == 0:
        errs.append("no connection with application data after the cut")
    if spec not in ("app0", "app0@2", "app1") and not seq_above0:
        errs.append("no direction picked up at a sequence number above 0")
    tsh = tshark_plaintext(cut_path, keylog, tmp)
    if tsh:
        errs.append("tshark decrypted %d bytes of the cut capture (expected none)" % tsh)
    return errs, cut


def expect_reason(binary, args, reason, diag=True, extra=None):
    rc, objs = run(binary, args)
    errs = [] if rc == 0 else ["exit status %d" % rc]
    conns = [o for o in objs if o.get("type") == "connection"]
    if not conns:
        return errs + ["no connection"]
    for c in conns:
        if c.get("undecrypted_reason") != reason or c.get("decrypted"):
            errs.append("#%d: undecrypted_reason %r decrypted %r, expected %r" %
                        (c["id"], c.get("undecrypted_reason"), c.get("decrypted"), reason))
    kinds = [o["kind"] for o in objs if o.get("type") == "diagnostic"]
    if diag and "tls-trial-failed" not in kinds:
        errs.append("no tls-trial-failed diagnostic")
    if extra is not None:
        errs += extra(conns, objs)
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--source-dir", required=True)
    a = ap.parse_args()
    pr = rm.load_pcaprewrite(a.source_dir)
    pcaps = os.path.join(a.source_dir, "pcaps")
    passed = failed = 0

    def report(label, errs):
        nonlocal passed, failed
        if errs:
            print("FAIL %s" % label)
            for e in errs:
                print("    " + e)
            failed += 1
        else:
            print("PASS %s" % label)
            passed += 1

    with tempfile.TemporaryDirectory() as tmp:
        tsh_full = None
        for name, cuts in CASES.items():
            path = os.path.join(pcaps, name + ".pcap")
            keylog = os.path.join(pcaps, "keylogs", name + ".keylog")
            rc, objs = run(a.tlsscope, ["-d", "-r", path, "-l", keylog])
            full = conns_of(objs)
            segs = rm.segments(pr, path)
            base, _ = rm.streams(segs)
            if tsh_full is None and name == "tls13-aes128-gcm-sha256":
                tsh_full = tshark_plaintext(path, keylog, tmp)
            for spec in cuts:
                errs, cut = check_cut(a.tlsscope, pr, name, spec, tmp,
                                      (full, segs, base, keylog, path))
                report("%s cut %s (first %d packets dropped)" % (name, spec, cut), errs)
        if tsh_full is not None:
            # The comparison above means something only if tshark decrypts the full capture.
            report("tshark decrypts the uncut tls13-aes128-gcm-sha256 (%d bytes)" % tsh_full,
                   [] if tsh_full > 0 else ["tshark decrypted nothing of the full capture"])

        cut_path = os.path.join(tmp, "neg.pcap")
        pr.main(["pcaprewrite", os.path.join(pcaps, "tls13-aes128-gcm-sha256.pcap"), cut_path,
                 "--cut-first", "9"])
        right = os.path.join(pcaps, "keylogs", "tls13-aes128-gcm-sha256.keylog")
        wrong = os.path.join(pcaps, "keylogs", "tls13-chacha20-poly1305-sha256.keylog")
        report("wrong key log: midstream_no_matching_secret",
               expect_reason(a.tlsscope, ["-r", cut_path, "-l", wrong],
                             "midstream_no_matching_secret"))
        # Decoys ahead of the right secrets: the cap stops the scan, the default finds them.
        decoys = os.path.join(tmp, "decoys.keylog")
        with open(decoys, "w") as f:
            for i in range(3):
                cr = hashlib.sha256(b"cr%d" % i).hexdigest()
                for label in ("CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"):
                    f.write("%s %s %s\n" % (label, cr, hashlib.sha256(b"s%d" % i + label.encode())
                                            .hexdigest()))
            with open(right) as r:
                f.write(r.read())
        report("decoys and --trial-max 1: midstream_trial_cap",
               expect_reason(a.tlsscope, ["-r", cut_path, "-l", decoys, "--trial-max", "1"],
                             "midstream_trial_cap"))
        rc, objs = run(a.tlsscope, ["-r", cut_path, "-l", decoys])
        c = next((o for o in objs if o.get("type") == "connection"), {})
        st = next((o for o in objs if o.get("type") == "stats"), {})
        tr = c.get("trial") or {}
        trial_st = st.get("decryption", {}).get("trial", {})
        errs = []
        if c.get("matched_by") != "trial" or tr.get("secrets_tried") != 4:
            errs.append("matched_by %r after %r secrets, expected trial after 4 (3 decoys)" %
                        (c.get("matched_by"), tr.get("secrets_tried")))
        if trial_st.get("connections") != 1 or trial_st.get("matched") != 1 or \
                trial_st.get("secrets_tried") != 4 or not trial_st.get("probes"):
            errs.append("stats.decryption.trial %r" % trial_st)
        report("decoys without a cap: found after them, cost in stats", errs)
        # A connection with its handshake in the run binds its secrets: the trial skips them.
        both = os.path.join(tmp, "both.keylog")
        other = os.path.join(pcaps, "tls13-chacha20-poly1305-sha256.pcap")
        with open(both, "w") as f:
            for k in (wrong, right):
                with open(k) as r:
                    f.write(r.read())
        rc, objs = run(a.tlsscope, ["-r", other, "-r", cut_path, "-l", both])
        conns = [o for o in objs if o.get("type") == "connection"]
        mid = [o for o in conns if o.get("trial")]
        errs = []
        if len(conns) != 2 or len(mid) != 1 or mid[0].get("matched_by") != "trial" or \
                mid[0]["trial"].get("secrets_tried") != 1:
            errs.append("connections %r" % [(o.get("matched_by"), o.get("trial")) for o in conns])
        report("secrets of a connection with its handshake are skipped", errs)
        for name, cut in TLS12.items():
            path = os.path.join(tmp, name + "-cut.pcap")
            pr.main(["pcaprewrite", os.path.join(pcaps, name + ".pcap"), path,
                     "--cut-first", str(cut)])
            report("%s cut %d: midstream_tls12" % (name, cut),
                   expect_reason(a.tlsscope,
                                 ["-r", path, "-l", os.path.join(pcaps, "keylogs", name + ".keylog")],
                                 "midstream_tls12"))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
