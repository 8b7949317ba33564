#!/usr/bin/env python3
"""--verify on the real captures of pcaps/ and on tampered copies of them.

  clean     every manifest capture with its keys: every connection "verified",
            exit status 0, except the expected exceptions below (a handshake
            that stopped: "incomplete", exit status 1);
  client CV every TLS 1.2 capture whose manifest names the client CertificateVerify
            scheme (client_cv_scheme: SHA-1, SHA-384, SHA-512 with a SHA-256 PRF)
            has that signature checked and passing, with its keys and without any;
  ca        a chain check with the right CA passes, with another CA fails;
  tampered  copies made by tools/tamper (a byte flipped in an encrypted record,
            in a Finished, in a ServerKeyExchange signature; a certificate swapped
            for another capture's; a TCP segment removed; a ClientHello cipher
            list edited; a byte flipped in a client CertificateVerify signature):
            each gives exactly the expected verdict and set of
            failed checks, and exit status 1;
  text      text mode ends with the summary table.

  run_verify.py --tlsscope BIN --source-dir DIR   (ends with 'N passed, N failed')
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ENV = dict(os.environ)
ENV.pop("SSLKEYLOGFILE", None)

# Captures whose handshake does not complete: their verdict is "incomplete".
INCOMPLETE = {"tls12-alert-no-shared-cipher"}

E = "tls12-ecdhe-rsa-aes128-gcm-sha256"
T13 = "tls13-aes128-gcm-sha256"
D = "tls12-dhe-rsa-aes128-cbc-sha256"
R = "tls12-rsa-aes128-cbc-sha"
FIN = {"client_finished", "server_finished"}
# (base capture, tamper arguments, verdict, failed checks exactly, extra expectation)
TAMPERED = [
    (E, ["--flip-app-data"], "failed", {"records_s2c"}, None),
    (T13, ["--flip-app-data"], "failed", {"records_s2c"}, None),
    (E, ["--flip-finished"], "failed", {"records_c2s", "server_finished"}, None),
    (R, ["--flip-finished"], "failed", {"records_c2s", "server_finished"}, None),
    (E, ["--flip-ske-signature"], "failed", FIN | {"server_key_exchange_signature"},
     ("server_key_exchange", "bad_signature")),
    (D, ["--flip-ske-signature"], "failed", FIN | {"server_key_exchange_signature"},
     ("server_key_exchange", "bad_signature")),
    (E, ["--swap-cert", "pcaps/tls12-ecdhe-ecdsa-aes256-gcm-sha384.pcap"], "failed",
     FIN | {"server_key_exchange_signature"}, ("server_key_exchange", "scheme_does_not_match_key")),
    (E, ["--drop-data-segment"], "incomplete", set(), "tcp_evidence"),
    (T13, ["--drop-data-segment"], "incomplete", set(), "tcp_evidence"),
    (E, ["--downgrade-suites"], "failed", FIN, None),
    (T13, ["--downgrade-suites"], "failed", FIN | {"server_certificate_verify"},
     ("server_certificate_verify", "bad_signature")),
] + [
    ("tls12-client-auth-" + n, ["--flip-client-cv"], "failed",
     FIN | {"client_certificate_verify"}, ("client_certificate_verify", "bad_signature"))
    for n in ("rsa-pkcs1-sha1", "ecdsa-sha512", "rsa-pss-sha384")
]


def key_args(src, cap):
    k = cap["keys"]
    a = []
    if k.get("keylog"):
        a += ["-l", os.path.join(src, "pcaps", k["keylog"])]
    elif k.get("rsa_key"):
        a += ["-k", os.path.join(src, "pcaps", k["rsa_key"])]
    if k.get("psk"):
        a += ["--psk", k["psk"]]
    if k.get("psk_identity"):
        a += ["--psk-identity", k["psk_identity"]]
    return a


def run(binary, args, json_mode=True):
    base = [binary, "-q", "--no-env-keylog", "--verify"]
    if json_mode:
        base += ["-j", "--summary-only"]
    p = subprocess.run(base + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                       timeout=120)
    if not json_mode:
        return p.returncode, p.stdout.decode()
    objs = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
    return p.returncode, [o for o in objs if o.get("type") == "verdict"]


def failed_checks(v):
    return {c["check"] for c in v["checks"] if c["result"] == "fail"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--source-dir", required=True)
    a = ap.parse_args()
    src = a.source_dir
    manifest = json.load(open(os.path.join(src, "pcaps", "manifest.json")))
    caps = {c["name"]: c for c in manifest["captures"]}
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL:", what)

    for name, cap in caps.items():
        rc, vs = run(a.tlsscope, ["-r", os.path.join(src, "pcaps", cap["file"])] +
                     key_args(src, cap))
        want = "incomplete" if name in INCOMPLETE else "verified"
        got = [v["verdict"] for v in vs]
        check(len(vs) == len(cap["connections"]) and all(g == want for g in got) and
              rc == (0 if want == "verified" else 1),
              "clean %s: verdicts %s exit %d, want all %s" % (name, got, rc, want))
        for v in vs:
            if want == "verified":
                check(not failed_checks(v) and not v["reasons"],
                      "clean %s conn %d: %s" % (name, v["conn"], v["reasons"]))

    # TLS 1.2 client CertificateVerify: whatever its hash, checked over the kept transcript.
    n_cv = 0
    for name, cap in caps.items():
        want = [c.get("client_cv_scheme") for c in cap["connections"]]
        if not any(w is not None for w in want):
            continue
        n_cv += 1
        f = os.path.join(src, "pcaps", cap["file"])
        for args in (key_args(src, cap), []):
            rc, vs = run(a.tlsscope, ["-r", f] + args)
            for v, w in zip(vs, want):
                cv = v["signatures"]["client_certificate_verify"]
                check(cv is not None and cv["result"] == "pass" and cv["scheme"] == w and
                      cv["error"] is None,
                      "client CV %s conn %d (%s): %s, want pass with scheme 0x%04x" %
                      (name, v["conn"], "keys" if args else "keyless", cv, w))
    check(n_cv >= 3, "client CV: %d captures name their scheme, want at least 3" % n_cv)

    keys = os.path.join(src, "pcaps", "keys")
    base = ["-r", os.path.join(src, "pcaps", caps[E]["file"])] + key_args(src, caps[E])
    rc, vs = run(a.tlsscope, base + ["--ca-file", os.path.join(keys, "server-rsa.crt")])
    check(rc == 0 and vs and vs[0]["certificates"]["chain"] == "pass", "ca: right CA passes")
    rc, vs = run(a.tlsscope, base + ["--ca-file", os.path.join(keys, "server-ecdsa.crt")])
    check(rc == 1 and vs and vs[0]["certificates"]["chain"] == "fail" and
          failed_checks(vs[0]) == {"certificate_chain"}, "ca: another CA fails: %s" %
          (vs[0]["certificates"] if vs else None))

    with tempfile.TemporaryDirectory() as tmp:
        for i, (cap_name, targs, verdict, fails, extra) in enumerate(TAMPERED):
            cap = caps[cap_name]
            out = os.path.join(tmp, "t%d.pcap" % i)
            targs = [os.path.join(src, x) if x.startswith("pcaps/") else x for x in targs]
            subprocess.run([sys.executable, os.path.join(src, "tools", "tamper"),
                            os.path.join(src, "pcaps", cap["file"]), out] + targs, check=True)
            rc, vs = run(a.tlsscope, ["-r", out] + key_args(src, cap))
            what = "tampered %s %s" % (cap_name, " ".join(targs))
            if len(vs) != 1:
                check(False, "%s: %d verdicts" % (what, len(vs)))
                continue
            v = vs[0]
            check(rc == 1 and v["verdict"] == verdict and failed_checks(v) == fails,
                  "%s: exit %d verdict %s failed %s, want %s %s" %
                  (what, rc, v["verdict"], sorted(failed_checks(v)), verdict, sorted(fails)))
            if isinstance(extra, tuple):
                sig = v["signatures"][extra[0]]
                check(sig is not None and sig["error"] == extra[1],
                      "%s: %s error %s, want %s" % (what, extra[0], sig, extra[1]))
            elif extra is not None:
                res = {c["check"]: c["result"] for c in v["checks"]}
                check(res.get(extra) == "not_checked", "%s: %s is %s" % (what, extra,
                                                                         res.get(extra)))
            if "records_s2c" in fails or "records_c2s" in fails:
                d = "s2c" if "records_s2c" in fails else "c2s"
                led = v["ledger"][d]
                check(led["failed"] == 1 and led["first_failed"] is not None and
                      led["first_failed"]["reason"] == "bad_record_mac",
                      "%s: ledger %s" % (what, led))

    rc, text = run(a.tlsscope, ["-r", os.path.join(src, "pcaps", caps[E]["file"])] +
                   key_args(src, caps[E]), json_mode=False)
    check(rc == 0 and "verdict: verified" in text and
          "Verification: 1 TLS connections: 1 verified, 0 incomplete, 0 failed" in text,
          "text: verdict line and summary table")

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
