#!/usr/bin/env python3
"""Check `tlsscope --ecs` output against the ECS field reference and -j output.

For every capture of pcaps/ (with its keys) and of the shared corpus, runs
`tlsscope --ecs` and `tlsscope -j --summary-only` and checks:
  * every line is a JSON object; every field (dotted path of nested objects;
    arrays of scalars count as one field) is in tests/data/ecs/fields-8.12.txt
    or under the project namespace `tlsscope.`;
  * one ECS document per connection summary, in the same order, and the ECS
    values equal the summary's: source/destination from client/server,
    tls.version and version_protocol from version, tls.cipher from the suite
    name, tls.client.server_name from sni, tls.next_protocol from alpn,
    tls.resumed, tls.client.ja3 / tls.server.ja3s when the summary has them,
    the leaf certificate's fingerprint and dates, tlsscope.id;
  * types: ports integers, IPs strings, @timestamp RFC 3339, event.duration
    integer nanoseconds, ecs.version the documented one.
Prints 'N passed, M failed'. Usage: check_ecs.py --tlsscope BIN --source-dir DIR
"""

import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_e2e  # noqa: E402  (capture lists with their keys)

ECS_VERSION = "8.12.0"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
TLS_VERSIONS = {768: ("ssl", "3.0"), 769: ("tls", "1.0"), 770: ("tls", "1.1"), 771: ("tls", "1.2"),
                772: ("tls", "1.3"), 2: ("ssl", "2.0")}


def flatten(o, prefix=""):
    for k, v in o.items():
        key = prefix + k
        if isinstance(v, dict):
            yield from flatten(v, key + ".")
        else:
            yield key, v


def captures(src, shared):
    """(name, path, key arguments) of pcaps/ and the shared corpus (run_e2e's lists)."""
    caps = run_e2e.pcaps_captures(src)[0] + run_e2e.corpus_captures(shared)[0]
    return [(c.name, c.path, c.keys) for c in caps if c.origin != "linktype"]


def get(doc, dotted):
    cur = doc
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def compare(doc, conn, problems, label):
    def want(field, value):
        got = get(doc, field)
        if got != value:
            problems.append("%s: %s is %r, summary says %r" % (label, field, got, value))

    want("source.ip", conn["client_ip"])
    want("source.port", conn["client_port"])
    want("destination.ip", conn["server_ip"])
    want("destination.port", conn["server_port"])
    want("client.ip", conn["client_ip"])
    want("server.port", conn["server_port"])
    want("tlsscope.id", conn["id"])
    want("tls.client.server_name", conn["sni"])
    want("tls.next_protocol", conn["alpn"])
    want("tls.resumed", conn["resumed"])
    want("tls.cipher", conn.get("cipher_suite_name"))
    v = TLS_VERSIONS.get(conn["version"])
    if v is not None:
        want("tls.version_protocol", v[0])
        want("tls.version", v[1])
    for src, dst in (("ja3", "tls.client.ja3"), ("ja3s", "tls.server.ja3s"),
                     ("ja4", "tlsscope.ja4")):
        if src in conn:
            want(dst, conn[src])
    certs = conn.get("certificates") or []
    if certs:
        want("tls.server.hash.sha256", certs[0]["sha256"].upper())
        if not certs[0].get("parse_error"):
            want("tls.server.x509.serial_number", certs[0]["serial"].upper())
    want("source.packets", conn["c2s"]["packets"])
    want("destination.packets", conn["s2c"]["packets"])
    want("source.bytes", conn["c2s"]["bytes"])
    want("destination.bytes", conn["s2c"]["bytes"])
    want("tlsscope.decrypted", conn["decrypted"])
    want("tlsscope.finished", conn["finished"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--shared")
    args = ap.parse_args()
    src = os.path.abspath(args.source_dir)
    shared = args.shared or os.path.join(os.path.dirname(src), "shared")
    with open(os.path.join(src, "tests", "data", "ecs", "fields-8.12.txt")) as f:
        allowed = {l.strip() for l in f if l.strip()}
    env = dict(os.environ)
    env.pop("SSLKEYLOGFILE", None)
    passed = failed = 0
    seen_fields = set()
    for name, path, keyargs in captures(src, shared):
        problems = []
        base = [args.tlsscope, "-q", "--no-env-keylog"] + keyargs + ["-r", path]
        e = subprocess.run(base[:1] + ["--ecs"] + base[1:], capture_output=True, text=True, env=env)
        j = subprocess.run(base[:1] + ["-j", "--summary-only"] + base[1:], capture_output=True,
                           text=True, env=env)
        if e.returncode != 0 or j.returncode != 0:
            problems.append("exit %d/%d: %s" % (e.returncode, j.returncode, e.stderr[-200:]))
        docs = []
        for i, line in enumerate(e.stdout.splitlines()):
            try:
                d = json.loads(line)
            except ValueError:
                problems.append("line %d is not JSON" % (i + 1))
                continue
            if not isinstance(d, dict):
                problems.append("line %d is not an object" % (i + 1))
                continue
            docs.append(d)
            for k, v in flatten(d):
                seen_fields.add(k)
                if k.startswith("tlsscope."):
                    continue
                if k not in allowed and not any(k.startswith(p + ".") for p in ("labels",)):
                    problems.append("field %s is not an ECS %s field" % (k, ECS_VERSION))
                if isinstance(v, list) and any(isinstance(x, dict) for x in v):
                    problems.append("field %s holds objects in an array" % k)
            if d.get("ecs", {}).get("version") != ECS_VERSION:
                problems.append("ecs.version %r" % d.get("ecs", {}).get("version"))
            if not RFC3339.match(str(d.get("@timestamp"))):
                problems.append("@timestamp %r" % d.get("@timestamp"))
            if not isinstance(get(d, "event.duration"), int):
                problems.append("event.duration not integer nanoseconds")
        conns = [json.loads(l) for l in j.stdout.splitlines() if '"type":"connection"' in l]
        if len(conns) != len(docs):
            problems.append("%d ECS documents for %d connections" % (len(docs), len(conns)))
        else:
            for d, c in zip(docs, conns):
                compare(d, c, problems, "%s#%d" % (name, c["id"]))
        if problems:
            failed += 1
            print("FAIL %s: %s" % (name, "; ".join(sorted(set(problems))[:4])))
        else:
            passed += 1
    # The mapping must really emit the core fields somewhere.
    for f in ("source.ip", "destination.port", "tls.version", "tls.cipher", "tls.client.server_name",
              "tls.server.x509.subject.distinguished_name", "event.category", "network.transport"):
        if f not in seen_fields:
            print("FAIL no document carried %s" % f)
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
