#!/usr/bin/env python3
"""A stand-in for `tlsscope -j -r FILE`, for testing the e2e runner itself.

It recognises a shared-corpus capture by its SHA-256 (or a truncated copy of
one by prefix) and prints the JSON Lines a correct keyless tlsscope would
print, built from the expected facts. FAKE_TLSSCOPE_MUTATE (comma-separated)
injects one kind of error, so tests/e2e/selftest.py can prove the runner
detects it. Standard library only; never used for real results.
"""

import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import e2e_compare as cmp  # noqa: E402

SHARED = os.environ.get("FAKE_TLSSCOPE_SHARED",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "..", "..", "..", "shared"))


def find_expected(data):
    corpus = os.path.join(SHARED, "corpus")
    man = json.load(open(os.path.join(corpus, "manifest.json"), encoding="utf-8"))
    sha = hashlib.sha256(data).hexdigest()
    for fn in sorted(os.listdir(os.path.join(corpus, "expected"))):
        exp = json.load(open(os.path.join(corpus, "expected", fn), encoding="utf-8"))
        if exp.get("file_sha256") == sha:
            return exp, False
        root = man["roots"].get(exp["source"], exp["source"])
        path = os.path.join(corpus, root, exp["file"])
        if len(data) < os.path.getsize(path):
            with open(path, "rb") as f:
                if f.read(len(data)) == data:
                    return exp, True
    return None, False


def connection(e, cid, name):
    pure2 = cmp.is_pure_sslv2(e)
    tls13 = cmp.is_tls13(e.get("negotiated_version"))
    keyless = bool(e.get("decrypted"))
    version = e.get("negotiated_version")
    if pure2 and version is None and 4 in e["s2c"]["sslv2_message_types"]:
        version = 2
    c = {"type": "connection", "id": cid,
         "client_ip": e["client"]["ip"], "client_port": e["client"]["port"],
         "server_ip": e["server"]["ip"], "server_port": e["server"]["port"],
         "version": version, "alerts": [], "encrypted_alerts": {}}
    for f in ("cipher_suite", "sni", "alpn", "hello_retry_request", "client_random",
              "server_random", "client_hello_version", "client_hello_record_version",
              "server_hello_version", "server_hello_record_version", "sslv2_client_hello",
              "extended_master_secret", "encrypt_then_mac"):
        c[f] = e.get(f)
    c["resumed"] = bool(e.get("resumed"))
    c.update(cmp.corpus_discovery(name, e.get("stream", 0)))
    for d in cmp.DIRS:
        ed = e[d]
        if pure2:
            full = list(ed["sslv2_message_types"])
        else:
            full = ([1] if d == "c2s" and e.get("sslv2_client_hello") else []) + ed["handshake_types"]
        eh, ea = ed["encrypted_handshake_records"], ed["encrypted_alerts"]
        alerts = ed["alerts"]
        if keyless:
            full, hidden = cmp.plaintext_split(d, full, tls13)
            if tls13:
                eh, ea, alerts = 0, 0, []
            else:
                eh = eh + (1 if hidden else 0)
                ea, alerts = ea + len(alerts), []
        c[cmp.DIR_LIST_FIELD[d]] = full
        for a in alerts:
            c["alerts"].append({"from": cmp.DIR_FROM[d], "level": a["level"],
                                "description": a["description"]})
        c["encrypted_alerts"][d] = ea
        c[d] = {"records": ed["records"], "encrypted_handshake_records": eh,
                "encrypted_alerts": ea, "handshake_types": full,
                "sslv2_message_types": ed["sslv2_message_types"],
                "non_tls_prefix_bytes": ed["non_tls_prefix_bytes"]}
    return c


def main():
    args = sys.argv[1:]
    path = args[args.index("-r") + 1]
    mutate = set(filter(None, os.environ.get("FAKE_TLSSCOPE_MUTATE", "").split(",")))
    data = open(path, "rb").read()
    exp, truncated = find_expected(data)
    sha = hashlib.sha256(data).hexdigest()
    out = [{"type": "run", "tool": "tlsscope", "version": "fake",
            "capabilities": ["dissect", "decrypt"] if "decrypt" in mutate else ["dissect"],
            "inputs": [{"file": path, "sha256": "0" * 64 if "sha" in mutate else sha,
                        "size": len(data)}]}]
    conns = []
    if exp is not None:
        n = 0
        for i, e in enumerate(exp["connections"]):
            if not e.get("tls"):
                continue
            n += 1
            c = connection(e, i + 1, exp["name"])
            out.append({"type": "record", "conn": i + 1, "dir": "c2s", "pkt": e["first_frame"]})
            conns.append(c)
        if truncated:
            out.append({"type": "diagnostic", "kind": "capture-truncated-file",
                        "severity": "warning", "message": "cut"})
    if conns and "version" in mutate:
        conns[0]["version"] = 1
    if conns and "handshake" in mutate:
        conns[-1]["server_handshake"] = conns[-1]["server_handshake"] + [20]
    if conns and "records" in mutate:
        conns[0]["c2s"]["records"] = dict(conns[0]["c2s"]["records"], **{"22": 99})
    if conns and "swap" in mutate:
        c = conns[0]
        c["client_ip"], c["server_ip"] = c["server_ip"], c["client_ip"]
        c["client_port"], c["server_port"] = c["server_port"], c["client_port"]
    if conns and "drop_conn" in mutate:
        conns.pop()
    if conns and "dup_conn" in mutate:
        conns.append(dict(conns[0]))
    if conns and "alert" in mutate:
        conns[0]["alerts"].append({"from": "server", "level": 2, "description": 40})
    out += conns
    out.append({"type": "stats", "tls_connections": len(conns) + (1 if "stats" in mutate else 0)})
    lines = [json.dumps(o) for o in out]
    if "bad_json" in mutate:
        lines.insert(1, '{"type": "record", ')
    if "no_diag" in mutate:
        lines = [x for x in lines if "capture-truncated-file" not in x]
    sys.stdout.write("\n".join(lines) + "\n")
    return 3 if "exit" in mutate else 0


if __name__ == "__main__":
    sys.exit(main())
