#!/usr/bin/env python3
"""End-to-end test of the tlsscope binary against known connection facts.

Runs `tlsscope -j -r FILE` on every capture of the shared corpus (expected
facts from tshark) and of pcaps/manifest.json (our generated captures), checks
the JSON Lines contract of every run, compares the connection facts, and runs
truncated copies of a few captures. See tests/e2e/README.md.

Standard library only.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import e2e_compare as cmp  # noqa: E402
import e2e_pcap  # noqa: E402

RUN_TIMEOUT_S = 120
JOBS = 2
MAX_OUTPUT_LINES = 5_000_000
TRUNCATION_CAPTURES = ["zeek-ssl.v3", "zeek-tls13-ech", "sv-tls13-draft28",
                       "ssldump-tls1.2_aes256"]


class Capture:
    """One capture to run: where its facts come from and how to run it."""

    def __init__(self, name, path, origin, facts, keys=None, base=None):
        self.name = name
        self.path = path
        self.origin = origin  # "corpus", "manifest", "linktype", "truncated"
        self.facts = facts  # expected-facts dict (corpus file or manifest entry)
        self.keys = keys or []  # extra tlsscope arguments giving key material
        self.base = base  # for truncated variants: (full run output, whole packets)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

def corpus_captures(shared):
    corpus = os.path.join(shared, "corpus")
    exp_dir = os.path.join(corpus, "expected")
    if not os.path.isdir(exp_dir):
        return [], "no corpus at %s" % corpus
    manifest = load_json(os.path.join(corpus, "manifest.json"))
    roots = manifest.get("roots", {})
    by_name = {m["name"]: m for m in manifest.get("captures", [])}
    out = []
    for fn in sorted(os.listdir(exp_dir)):
        if not fn.endswith(".json"):
            continue
        exp = load_json(os.path.join(exp_dir, fn))
        name = exp.get("name", fn[:-5])
        m = by_name.get(name, {})
        root = os.path.join(corpus, roots.get(exp.get("source"), exp.get("source", "")))
        keys = []
        k = exp.get("keys") or {}
        for rsa in k.get("rsa_keys") or []:
            keys += ["-k", os.path.join(root, rsa)]
        if k.get("keylog"):
            keys += ["-l", os.path.join(root, k["keylog"])]
        if k.get("psk"):
            keys += ["--psk", k["psk"]]
        cap = Capture(name, os.path.join(root, exp.get("file", m.get("file", ""))), "corpus",
                      exp, keys)
        out.append(cap)
    return out, "%d expected-facts files in %s" % (len(out), exp_dir)


def manifest_keys(folder, keys):
    out = []
    keys = keys or {}
    if keys.get("rsa_key"):
        out += ["-k", os.path.join(folder, keys["rsa_key"])]
    if keys.get("keylog"):
        out += ["-l", os.path.join(folder, keys["keylog"])]
    if keys.get("psk"):
        out += ["--psk", keys["psk"]]
        if keys.get("psk_identity"):
            out += ["--psk-identity", keys["psk_identity"]]
    return out


def pcaps_captures(source_dir):
    folder = os.path.join(source_dir, "pcaps")
    path = os.path.join(folder, "manifest.json")
    if not os.path.exists(path):
        return [], "0 captures in pcaps/manifest.json (file absent)"
    man = load_json(path)
    out = []
    by_name = {}
    for e in man.get("captures") or []:
        cap = Capture(e["name"], os.path.join(folder, e["file"]), "manifest", e,
                      manifest_keys(folder, e.get("keys")))
        by_name[e["name"]] = cap
        out.append(cap)
    msg = "%d captures in pcaps/manifest.json" % len(out)
    # Link-type variants (engineer B): same connection facts as the capture
    # they were derived from. The manifest's exact shape is not fixed yet:
    # accept a list or {"captures": [...]}, entries with "file" and one of
    # derived_from/source/base naming the original capture.
    lt_folder = os.path.join(folder, "linktypes")
    lt_path = os.path.join(lt_folder, "manifest.json")
    if os.path.exists(lt_path):
        lt = load_json(lt_path)
        entries = lt if isinstance(lt, list) else lt.get("captures") or []
        n = 0
        for e in entries:
            if not isinstance(e, dict) or "file" not in e:
                continue
            orig = e.get("derived_from") or e.get("source") or e.get("base")
            base = by_name.get(orig)
            name = e.get("name") or "linktypes/" + e["file"]
            facts = base.facts if base else None
            keys = base.keys if base else []
            out.append(Capture(name, os.path.join(lt_folder, e["file"]), "linktype", facts, keys))
            n += 1
        msg += ", %d in pcaps/linktypes/manifest.json" % n
    return out, msg


# ---------------------------------------------------------------------------
# Running the binary and checking the JSON Lines contract
# ---------------------------------------------------------------------------

class Run:
    def __init__(self):
        self.rc = None
        self.error = None  # could not run / timeout
        self.events = []
        self.bad_lines = []  # (line number, text)
        self.stderr = ""
        self.raw = b""


def run_tlsscope(binary, path, extra):
    r = Run()
    cmd = [binary, "-j", "-r", path] + extra
    # Only the key material named by the test counts: a key log named by the
    # environment of whoever runs the tests must not change the results.
    env = dict(os.environ)
    env.pop("SSLKEYLOGFILE", None)
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=RUN_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        r.error = "timeout after %d s" % RUN_TIMEOUT_S
        return r
    except OSError as exc:
        r.error = "cannot run %s: %s" % (binary, exc)
        return r
    r.rc = p.returncode
    r.raw = p.stdout
    r.stderr = p.stderr.decode("utf-8", "replace")[-2000:]
    lines = p.stdout.decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for i, line in enumerate(lines[:MAX_OUTPUT_LINES], 1):
        try:
            ev = json.loads(line)
            if not isinstance(ev, dict):
                raise ValueError("not an object")
            r.events.append(ev)
        except ValueError:
            r.bad_lines.append((i, line[:200]))
    return r


def check_run(rep, run, path, file_sha):
    """The per-run contract (docs/json-schema.md). Returns the connection
    objects and the capabilities."""
    if run.error:
        rep.fail(".run", "exit status 0", run.error)
        return [], []
    rep.eq(".run.exit_status", 0, run.rc,
           why=("stderr: " + run.stderr.strip()[-300:]) if run.stderr.strip() else None)
    rep.ok(".run.valid_json", not run.bad_lines, "every line a JSON object",
           "%d bad lines, first %s" % (len(run.bad_lines), run.bad_lines[:1])
           if run.bad_lines else "ok")
    evs = run.events
    if not evs:
        rep.fail(".run.first_line", "run", "no output")
        return [], []
    first = evs[0]
    rep.eq(".run.first_line", "run", first.get("type"))
    caps = first.get("capabilities") if first.get("type") == "run" else None
    if not isinstance(caps, list):
        rep.fail(".run.capabilities", "array", caps)
        caps = []
    inputs = first.get("inputs") if isinstance(first.get("inputs"), list) else []
    got_sha = inputs[0].get("sha256") if inputs and isinstance(inputs[0], dict) else None
    rep.eq(".run.input_sha256", file_sha, got_sha)
    conns = [e for e in evs if e.get("type") == "connection"]
    ids = [c.get("id") for c in conns]
    dup = sorted({i for i in ids if ids.count(i) > 1}, key=str)
    rep.ok(".run.unique_connection_ids", not dup and None not in ids,
           "one connection object per id", "duplicate ids %s" % dup if dup else ids)
    last = evs[-1]
    rep.eq(".run.last_line", "stats", last.get("type"))
    if last.get("type") == "stats":
        rep.eq(".run.stats_tls_connections", len(conns), last.get("tls_connections"))
    return conns, caps


# ---------------------------------------------------------------------------
# Per-capture work
# ---------------------------------------------------------------------------

def process(cap, args, known):
    rep = cmp.Report(cap.name)
    if not os.path.exists(cap.path):
        rep.fail(".capture", cap.path, "file not found")
        return rep, None
    file_sha = sha256_file(cap.path)
    want_sha = None
    if cap.origin == "corpus":
        want_sha = cap.facts.get("file_sha256")
    elif cap.origin == "manifest":
        want_sha = cap.facts.get("sha256")
    if want_sha:
        rep.eq(".capture_sha256", want_sha, file_sha,
               why="capture differs from the one the facts were derived from")
    run = run_tlsscope(args.tlsscope, cap.path, [])
    keep(args, cap.name, "", run)
    conns, caps = check_run(rep, run, cap.path, file_sha)
    if "decrypt" in caps and cap.keys:
        # The keyless run above told us decryption exists: facts are compared
        # on the run with key material.
        krun = run_tlsscope(args.tlsscope, cap.path, cap.keys)
        keep(args, cap.name, ".keys", krun)
        krep = cmp.Report(cap.name + "(keys)")
        conns, caps = check_run(krep, krun, cap.path, file_sha)
        rep.checks += krep.checks
    if cap.origin == "corpus":
        cmp.compare_corpus(rep, cap.facts, conns, caps)
    elif cap.origin in ("manifest", "linktype"):
        if cap.facts is None:
            rep.note("no connection facts (derived_from not found in pcaps/manifest.json)")
        else:
            cmp.compare_manifest(rep, cap.facts, conns, caps)
            cmp.compare_preludes(rep, cap.facts, run.events)
    elif cap.origin == "truncated":
        check_truncated(rep, run, cap)
    rep.apply_known(known)
    return rep, run


def keep(args, name, suffix, run):
    if args.keep_output and run.raw is not None:
        os.makedirs(args.keep_output, exist_ok=True)
        fn = name.replace("/", "_") + suffix + ".jsonl"
        with open(os.path.join(args.keep_output, fn), "wb") as f:
            f.write(run.raw)


def check_truncated(rep, run, cap):
    """A capture cut inside a packet: a diagnostic, and the connections whose
    TLS started before the cut are still reported."""
    kinds = [e.get("kind") for e in run.events if e.get("type") == "diagnostic"]
    rep.ok(".diagnostic", "capture-truncated-file" in kinds,
           "diagnostic capture-truncated-file", kinds)
    full_events, whole = cap.base
    full_conns = [e for e in full_events if e.get("type") == "connection"]
    # First packet carrying a TLS record, per connection id, from the record
    # and handshake events of the full run.
    first_tls = {}
    for e in full_events:
        if e.get("type") in ("record", "handshake") and isinstance(e.get("pkt"), int):
            cid = e.get("conn")
            first_tls[cid] = min(first_tls.get(cid, e["pkt"]), e["pkt"])
    got = {cmp.conn_key(c) for c in run.events if c.get("type") == "connection"}
    n = 0
    for c in full_conns:
        start = first_tls.get(c.get("id"))
        if start is None:
            rep.note("connection %s: full run has no record events; not checked" % c.get("id"))
            continue
        if start <= whole:
            n += 1
            rep.ok(".conn%s.reported" % c.get("id"), cmp.conn_key(c) in got,
                   "reported (TLS from packet %d, cut after packet %d)" % (start, whole),
                   "missing")
    if not full_conns:
        rep.note("full run reported no TLS connection")
    elif n == 0:
        rep.note("no connection started TLS before the cut")


def truncated_variants(caps, results, tmpdir):
    out = []
    by_name = {c.name: c for c in caps}
    for name in TRUNCATION_CAPTURES:
        cap = by_name.get(name)
        res = results.get(name)
        if cap is None or res is None or res[1] is None or not os.path.exists(cap.path):
            continue
        with open(cap.path, "rb") as f:
            data = f.read()
        try:
            pkts = e2e_pcap.packets(data)
        except ValueError:
            continue
        for off, whole in e2e_pcap.cut_points(pkts, len(data)):
            path = os.path.join(tmpdir, "%s.cut%d.pcap" % (name, off))
            with open(path, "wb") as f:
                f.write(data[:off])
            out.append(Capture("truncated:%s@%d" % (name, off), path, "truncated", None,
                               base=(res[1].events, whole)))
    return out


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------

def short(v, limit=300):
    s = json.dumps(v, sort_keys=True) if not isinstance(v, str) else v
    return s if len(s) <= limit else s[:limit] + "..."


def print_report(rep, verbose):
    n = len(rep.checks)
    failed = rep.count(cmp.FAIL)
    pending = rep.count(cmp.PENDING)
    if failed:
        print("FAIL %s (%d facts: %d failed, %d pending)" % (rep.name, n, failed, pending))
    else:
        print("PASS %s (%d facts, %d pending)" % (rep.name, n, pending))
    for c in rep.checks:
        if c.status == cmp.FAIL:
            line = "    %s: expected %s, got %s" % (c.name, short(c.expected), short(c.got))
            if c.why:
                line += " (%s)" % c.why
            print(line)
        elif c.status == cmp.KNOWN:
            print("    known difference %s: expected %s, got %s (%s)"
                  % (c.name, short(c.expected), short(c.got), c.why))
        elif verbose and c.status == cmp.PASS:
            print("    ok %s = %s" % (c.name, short(c.got, 120)))
    for note in rep.notes:
        print("    note: " + note)


def print_pending(reports):
    groups = {}
    for rep in reports:
        for c in rep.checks:
            if c.status == cmp.PENDING:
                groups.setdefault((rep.name, c.kind, c.why), []).append(c.name[len(rep.name):])
    if not groups:
        return
    print("Pending (not checked by this build):")
    for (name, kind, why), facts in sorted(groups.items()):
        print("  %s: %s, %d facts (%s): %s" % (name, kind, len(facts), why, " ".join(facts)))


def load_known(path):
    if not os.path.exists(path):
        return {}
    data = load_json(path)
    out = {}
    for e in data.get("entries") or []:
        if not e.get("reason"):
            raise SystemExit("known_differences.json: entry %s has no reason" % e.get("check"))
        out[e["check"]] = e["reason"]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tlsscope", help="path to the tlsscope binary")
    ap.add_argument("--source-dir", default=os.path.join(os.path.dirname(__file__), "..", ".."),
                    help="repository root")
    ap.add_argument("--shared", help="shared material folder (default SOURCE_DIR/../shared)")
    ap.add_argument("--only", help="run only captures whose name contains this")
    ap.add_argument("--verbose", action="store_true", help="list passing facts too")
    ap.add_argument("--keep-output", metavar="DIR", help="write each run's JSON Lines here")
    ap.add_argument("--list", action="store_true", help="list the captures and exit")
    ap.add_argument("--no-truncation", action="store_true", help="skip the truncated copies")
    args = ap.parse_args(argv)
    src = os.path.abspath(args.source_dir)
    shared = os.path.abspath(args.shared or os.path.join(src, "..", "shared"))

    corpus, msg1 = corpus_captures(shared)
    local, msg2 = pcaps_captures(src)
    caps = corpus + local
    if args.only:
        caps = [c for c in caps if args.only in c.name]
    if args.list:
        for c in caps:
            print("%-50s %-8s %s%s" % (c.name, c.origin, c.path, "  (keys)" if c.keys else ""))
        print("%s; %s" % (msg1, msg2))
        return 0
    if not args.tlsscope:
        ap.error("--tlsscope is required")
    known = load_known(os.path.join(src, "tests", "e2e", "known_differences.json"))
    print("tlsscope e2e: %s; %s" % (msg1, msg2))

    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
        futs = {c.name: pool.submit(process, c, args, known) for c in caps}
        for c in caps:
            results[c.name] = futs[c.name].result()
        reports = [results[c.name][0] for c in caps]
        if not args.no_truncation:
            with tempfile.TemporaryDirectory(prefix="tlsscope-e2e-") as tmp:
                tcaps = truncated_variants(caps, results, tmp)
                if args.only:
                    tcaps = [c for c in tcaps if args.only in c.name]
                tfuts = [pool.submit(process, c, args, known) for c in tcaps]
                reports += [f.result()[0] for f in tfuts]

    for rep in reports:
        print_report(rep, args.verbose)
    print_pending(reports)
    passed = sum(r.count(cmp.PASS) for r in reports)
    failed = sum(r.count(cmp.FAIL) for r in reports)
    known_n = sum(r.count(cmp.KNOWN) for r in reports)
    skipped = sum(r.count(cmp.PENDING) for r in reports) + known_n
    if known_n:
        print("(%d known differences counted as skipped)" % known_n)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
