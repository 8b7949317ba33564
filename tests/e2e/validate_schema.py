#!/usr/bin/env python3
"""Validate real tlsscope JSON Lines output against docs/tlsscope.schema.json.

Runs the binary (-j -v, and with the capture's keys and -d, and with the keys
and --verify, where the manifest names any) on every capture of pcaps/ and of the shared corpus, and validates
every run, connection, stats and diagnostic object and up to --max-events
per-record/per-message events per run. Event types the schema does not list
must at least be documented in docs/json-schema.md. A self-check first makes
sure the schema rejects broken objects (a pinned field missing, a wrong type,
an unknown Finished state), so this test can fail.

Usage: validate_schema.py --tlsscope BIN --source-dir DIR [--shared DIR]
Needs python3-jsonschema (Debian package; tools/bootstrap installs it).
"""

import argparse
import copy
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_e2e  # noqa: E402  (capture lists with their keys)

try:
    import jsonschema
except ImportError:
    print("validate_schema: python3-jsonschema is missing (apt-get install python3-jsonschema)",
          file=sys.stderr)
    sys.exit(1)

SUMMARY_TYPES = {"run", "connection", "stats", "diagnostic", "verdict", "verify_summary"}


def captures(src, shared):
    """(name, path, key arguments) of every capture the end-to-end runner knows:
    pcaps/ (with link-type variants), pcaps/dsb/, and the shared corpus."""
    out = []
    caps, _ = run_e2e.pcaps_captures(src)
    out += [(c.name, c.path, c.keys) for c in caps]
    d = os.path.join(src, "pcaps", "dsb")
    if os.path.isdir(d):
        out += [("dsb/" + f, os.path.join(d, f), []) for f in sorted(os.listdir(d))
                if f.endswith((".pcap", ".pcapng"))]
    caps, _ = run_e2e.corpus_captures(shared)
    out += [("shared/" + c.name, c.path, c.keys) for c in caps]
    return out


def self_check(validator, sample_conn):
    """The schema must reject these; returns the names of mutations it accepted."""
    bad = []
    muts = {
        "connection without version": lambda o: o.pop("version"),
        "connection version as string": lambda o: o.__setitem__("version", "771"),
        "finished state unknown": lambda o: o["finished"].__setitem__("client", "ok"),
        "client_handshake of strings": lambda o: o.__setitem__("client_handshake", ["1"]),
        "key_source unknown": lambda o: o.__setitem__("key_source", "magic"),
        "app_data sha256 short": lambda o: o.__setitem__(
            "app_data", {"c2s": {"bytes": 1, "sha256": "ab"}, "s2c": None}),
        "alert from nobody": lambda o: o.__setitem__(
            "alerts", [{"from": "proxy", "level": 1, "description": 0}]),
    }
    for name, f in muts.items():
        o = copy.deepcopy(sample_conn)
        f(o)
        if validator.is_valid(o):
            bad.append(name)
    if validator.is_valid({"type": "run"}):
        bad.append("empty run object")
    if validator.is_valid({"type": "stats", "packets": -1}):
        bad.append("stats with negative packets")
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--shared")
    ap.add_argument("--max-events", type=int, default=300)
    args = ap.parse_args()
    src = os.path.abspath(args.source_dir)
    shared = args.shared or os.path.join(os.path.dirname(src), "shared")
    with open(os.path.join(src, "docs", "tlsscope.schema.json")) as f:
        schema = json.load(f)
    with open(os.path.join(src, "docs", "json-schema.md")) as f:
        doc = f.read()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    known = set(schema["$defs"]["other"]["properties"]["type"]["not"]["enum"])

    passed = failed = 0
    sample = None
    undocumented = set()
    env = dict(os.environ)
    env.pop("SSLKEYLOGFILE", None)
    for name, path, keyargs in captures(src, shared):
        runs = [["-j", "-v", "-q", "--no-env-keylog", "-r", path]]
        if keyargs:
            runs.append(["-j", "-q", "-d", "--no-env-keylog"] + keyargs + ["-r", path])
            # --verify: verdict and verify_summary events (exit 1: not all verified).
            runs.append(["-j", "-q", "--summary-only", "--verify", "--no-env-keylog"] + keyargs +
                        ["-r", path])
        for argv in runs:
            r = subprocess.run([args.tlsscope] + argv, capture_output=True, text=True, env=env)
            errors = []
            if r.returncode not in ((0, 1) if "--verify" in argv else (0,)):
                errors.append("exit %d: %s" % (r.returncode, r.stderr.strip()[-200:]))
            per_event = 0
            for i, line in enumerate(r.stdout.splitlines()):
                try:
                    o = json.loads(line)
                except ValueError:
                    errors.append("line %d is not JSON" % (i + 1))
                    continue
                t = o.get("type")
                if t not in SUMMARY_TYPES:
                    per_event += 1
                    if per_event > args.max_events:
                        continue
                if t not in known and not re.search(r"`%s`" % re.escape(str(t)), doc):
                    undocumented.add(str(t))
                err = jsonschema.exceptions.best_match(validator.iter_errors(o))
                if err is not None:
                    errors.append("line %d (%s): %s at /%s" % (
                        i + 1, t, err.message[:160], "/".join(str(p) for p in err.absolute_path)))
                if t == "connection" and sample is None and o.get("app_data"):
                    sample = o
            label = "%s [%s]" % (name, "verify" if "--verify" in argv else
                                 "keys" if "-d" in argv else "plain")
            if errors:
                failed += 1
                print("FAIL %s: %s" % (label, "; ".join(errors[:3])))
            else:
                passed += 1
    if sample is None:
        print("FAIL self-check: no decrypted connection to mutate")
        failed += 1
    else:
        accepted = self_check(validator, sample)
        if accepted:
            print("FAIL self-check: schema accepted: %s" % ", ".join(accepted))
            failed += 1
        else:
            passed += 1
    if undocumented:
        print("FAIL event types neither in the schema nor in docs/json-schema.md: %s"
              % ", ".join(sorted(undocumented)))
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
