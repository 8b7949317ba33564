#!/usr/bin/env python3
"""Key and packet export round trips (--export-keylog, -w) on the captures of pcaps/.

For every capture of pcaps/manifest.json with key material, and every pcapng
with embedded secrets in pcaps/dsb/:
  1. tlsscope with ONE original source (the RSA key if the manifest has one,
     else the PSK, else the key log; the dsb captures with none),
     --export-keylog OUT and -w OUT.pcapng;
  2. tlsscope with only -l OUT (on the capture without its embedded secrets
     for the dsb ones): every connection decrypted in 1. decrypts
     again (key_source "keylog"), with the same app_data, equal to the
     manifest's; nothing else is exported (one CLIENT_RANDOM per TLS <= 1.2
     handshake, the TLS 1.3 labels of each 1.3 connection, only client
     randoms of this capture);
  3. tlsscope on OUT.pcapng with no key option: every packet is there, and
     every connection decrypted in 1. decrypts from its Decryption Secrets
     Block (key_source "dsb") with the same app_data; the block holds as many
     lines as the key log export;
  4. for a sample of captures (each key source, TLS 1.2 and 1.3, resumption,
     0-RTT, renegotiation, KeyUpdate; not the PSK captures: tshark 4.0
     decrypts them with neither the original key log nor the PSK), tshark with only
     tls.keylog_file:OUT, and tshark on OUT.pcapng with no key option: its
     decrypted streams (follow,tls,raw) have the manifest's length and
     SHA-256 per direction.

  run_export.py --tlsscope BIN --source-dir DIR   (ends with 'N passed, N failed')
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

TSHARK_SAMPLE = {
    "tls12-rsa-aes128-gcm-sha256", "tls12-rsa-resume-session-id", "tls12-rsa-resume-ticket",
    "tls12-ecdhe-rsa-chacha20-poly1305", "tls12-renegotiation", "tls13-early-data",
    "tls13-key-update",
}


def run(binary, args):
    p = subprocess.run([binary, "-j", "--summary-only", "-q", "--no-env-keylog"] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, timeout=120)
    objs = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
    stats = [o for o in objs if o.get("type") == "stats"]
    return p.returncode, [o for o in objs if o.get("type") == "connection"], \
        (stats[-1] if stats else {})


def load_oracle(source_dir):
    tools = os.path.join(source_dir, "..", "shared", "corpus", "tools")
    sys.path.insert(0, os.path.abspath(tools))
    import oracle  # noqa: E402  (shared tshark helpers: follow output parser)
    return oracle


def tshark_streams(oracle, path, keylog, nconn, confdir):
    args = ["tshark", "-r", path, "-2", "-n", "-o", "tcp.reassemble_out_of_order:TRUE", "-q"]
    if keylog is not None:
        args += ["-o", "tls.keylog_file:" + keylog]
    for i in range(nconn):
        args += ["-z", "follow,tls,raw,%d" % i]
    env = dict(ENV)
    env["WIRESHARK_CONFIG_DIR"] = confdir
    env["LC_ALL"] = "C"
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                       timeout=120)
    return oracle.parse_follow(p.stdout.decode("utf-8", "replace"))


def digest(chunks, d):
    data = b"".join(b for dd, b in chunks if dd == d)
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--source-dir", required=True)
    a = ap.parse_args()
    pcaps = os.path.join(a.source_dir, "pcaps")
    with open(os.path.join(pcaps, "manifest.json")) as f:
        manifest = json.load(f)["captures"]
    man = {c["name"]: c for c in manifest}
    oracle = load_oracle(a.source_dir)
    tmp = tempfile.mkdtemp(prefix="tlsscope-export-")
    confdir = os.path.join(tmp, "wireshark")
    os.makedirs(confdir)

    jobs = []  # (label, capture path, source args, manifest entry, path for the second run)
    for cap in manifest:
        k = cap.get("keys") or {}
        if k.get("rsa_key"):
            src = ["-k", os.path.join(pcaps, k["rsa_key"])]
        elif k.get("psk"):
            src = ["--psk", k["psk"]] + (["--psk-identity", k["psk_identity"]]
                                         if k.get("psk_identity") else [])
        elif k.get("keylog"):
            src = ["-l", os.path.join(pcaps, k["keylog"])]
        else:
            continue
        p = os.path.join(pcaps, cap["file"])
        jobs.append((cap["name"], p, src, cap, p))
    dsb = os.path.join(pcaps, "dsb")
    for name in sorted(os.listdir(dsb)) if os.path.isdir(dsb) else []:
        if name.endswith("-dsb.pcapng") and name[: -len("-dsb.pcapng")] in man:
            # The export from the embedded secrets, checked on the capture without them.
            base = man[name[: -len("-dsb.pcapng")]]
            jobs.append((name, os.path.join(dsb, name), [], base,
                         os.path.join(pcaps, base["file"])))

    passed = failed = 0
    for label, path, src, cap, path2 in jobs:
        errs = []
        out = os.path.join(tmp, label + ".keylog")
        pcapng = os.path.join(tmp, label + ".out.pcapng")
        rc1, first, st1 = run(a.tlsscope, src + ["--export-keylog", out, "-w", pcapng,
                                                  "-r", path])
        rc2, second, _ = run(a.tlsscope, ["-l", out, "-r", path2])
        rc3, third, st3 = run(a.tlsscope, ["-r", pcapng])
        if rc1 != 0 or rc2 != 0 or rc3 != 0:
            errs.append("exit status %d / %d / %d" % (rc1, rc2, rc3))
        ex = st1.get("export") or {}
        if ex.get("pcapng_packets") != st1.get("packets") or st3.get("packets") != st1.get("packets"):
            errs.append("-w: %r packets written, %r read, %r in the input" % (
                ex.get("pcapng_packets"), st3.get("packets"), st1.get("packets")))
        if ex.get("pcapng_secret_lines") != (st1.get("decryption") or {}).get("keylog_lines_exported"):
            errs.append("-w secrets %r lines, key log export %r" % (
                ex.get("pcapng_secret_lines"), st1.get("decryption")))
        by_port3 = {c.get("client_port"): c for c in third}
        lines = [l.split() for l in open(out).read().splitlines()] if os.path.exists(out) else []
        if os.path.exists(out) and (os.stat(out).st_mode & 0o077) != 0:
            errs.append("exported key log readable by others")
        randoms = {c.get("client_random") for c in first}
        for h in (h for c in first for h in c.get("handshakes") or []):
            randoms.add(h.get("client_random"))
        if any(len(l) != 3 or l[1] not in randoms for l in lines):
            errs.append("a line that is not LABEL <client random of this capture> SECRET")
        n12 = sum(1 for l in lines if l[0] == "CLIENT_RANDOM")
        want12 = sum(len([h for h in c.get("handshakes") or [] if h.get("negotiated_version") in
                          (0x0300, 0x0301, 0x0302, 0x0303)])
                     for c in first if c.get("decrypted") and c.get("version", 0) <= 0x0303)
        if n12 != want12:
            errs.append("%d CLIENT_RANDOM lines for %d decrypted TLS <= 1.2 handshakes" %
                        (n12, want12))
        by_port = {c.get("client_port"): c for c in second}
        want_by_port = {m.get("client_port"): m for m in cap["connections"]}
        for c in first:
            c2 = by_port.get(c.get("client_port"))
            if c2 is None:
                errs.append("conn %s missing in the second run" % c.get("id"))
                continue
            if c.get("app_data") != c2.get("app_data") or c.get("decrypted") != c2.get("decrypted"):
                errs.append("conn %s: %s/%s, from the export %s/%s" % (
                    c.get("id"), c.get("decrypted"), c.get("app_data"), c2.get("decrypted"),
                    c2.get("app_data")))
            if c2.get("decrypted") and c2.get("key_source") != "keylog":
                errs.append("conn %s key_source %r" % (c.get("id"), c2.get("key_source")))
            c3 = by_port3.get(c.get("client_port"))
            if c3 is None or c3.get("app_data") != c.get("app_data") or \
                    c3.get("decrypted") != c.get("decrypted") or \
                    (c3.get("decrypted") and c3.get("key_source") != "dsb"):
                errs.append("conn %s from -w: %s" % (c.get("id"), None if c3 is None else
                            (c3.get("decrypted"), c3.get("key_source"), c3.get("app_data"))))
            m = want_by_port.get(c.get("client_port"))
            if c.get("decrypted") and m is not None and c.get("app_data") != m.get("app_data"):
                errs.append("conn %s app_data differs from the manifest" % c.get("id"))
        if label in TSHARK_SAMPLE:
            # tshark with the exported key log, then on the -w file with no keys at all.
            for what, tpath, kl in (("key log", path, out), ("-w", pcapng, None)):
                streams = tshark_streams(oracle, tpath, kl, len(cap["connections"]), confdir)
                for i, m in enumerate(cap["connections"]):
                    node0, chunks = streams.get(i, (None, []))
                    if not (m.get("app_data") or {}).get("c2s", {}).get("bytes"):
                        continue
                    client0 = node0 is not None and node0.endswith(":%d" % m["client_port"])
                    got = {"c2s": digest(chunks, 0 if client0 else 1),
                           "s2c": digest(chunks, 1 if client0 else 0)}
                    if got != m["app_data"]:
                        errs.append("tshark (%s) stream %d: %s, expected %s" %
                                    (what, i, got, m["app_data"]))
            label += " (+tshark)"
        print(("PASS %s" % label) if not errs else ("FAIL %s: %s" % (label, "; ".join(errs))))
        passed += not errs
        failed += bool(errs)
    if not jobs:
        print("FAIL: no capture with key material")
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
