#!/usr/bin/env python3
"""run_threads.py - `--threads N` against one thread, on every capture.

For every capture of pcaps/ (manifest, link-type variants, raw, DSB) and of
the shared corpus, with its key material, `tlsscope -j` runs with
--threads 1 and with --threads 2 and 3. Connection ids differ by design
(worker w numbers w + 1, w + 1 + N, ...) and so does the order of lines of
different connections; everything else must not:

  * the first line is the run record, the last the final stats;
  * each connection, named by its addresses, ports and first packet, has
    the same events in the same order (records, handshake messages, alerts,
    decrypted data, its summary), ids replaced by that name, resumed_from
    by the name of the parent connection;
  * the events of no connection (diagnostics) are the same multiset;
  * the final stats agree on the counters a split cannot change.

Standard library only. Exit 0 when everything agrees, 1 otherwise.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_e2e  # noqa: E402  (capture lists and their keys)

# Final stats that do not depend on how flows were split among workers.
SAME_STATS = ["packets", "bytes", "wire_bytes", "frames", "tcp_connections", "tls_connections",
              "timed_out_flows", "gap_bytes", "conflict_bytes", "ooo_dropped_bytes", "versions",
              "cipher_suites", "anomalies", "discovery", "decryption", "diagnostics",
              "session_cache.inserts", "session_cache.entries", "session_cache.resumed_connections",
              "session_cache.resumed_linked", "certificate_cache.lookups"]


def stat(o, path):
    for k in path.split("."):
        if not isinstance(o, dict) or k not in o:
            return "(absent)"
        o = o[k]
    if path == "decryption" and isinstance(o, dict) and isinstance(o.get("trial"), dict):
        # Trial cost counters depend on when another worker's connection marked a
        # secret as bound (then skipped); what was matched does not.
        o = dict(o, trial={"connections": o["trial"].get("connections"),
                           "matched": o["trial"].get("matched")})
    return o


def run(exe, cap, threads, extra):
    paths = cap.path if isinstance(cap.path, list) else [cap.path]
    argv = [exe, "-j", "-q", "--no-env-keylog", "--threads", str(threads)] + extra + cap.keys
    for path in paths:
        argv += ["-r", path]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    lines = [json.loads(l) for l in p.stdout.decode("utf-8", "replace").splitlines() if l]
    return p.returncode, lines, p.stderr.decode("utf-8", "replace")


def conn_name(s):
    return "%s:%s>%s:%s#%s" % (s.get("client_ip"), s.get("client_port"), s.get("server_ip"),
                               s.get("server_port"), s.get("first_packet"))


def normalise(lines):
    """(per-connection event lists by name, multiset of connection-less events, stats)."""
    names = {}
    for o in lines:
        if o.get("type") == "connection":
            names[o["id"]] = conn_name(o)
    per = collections.defaultdict(list)
    other = collections.Counter()
    for o in lines[1:-1]:
        o = dict(o)
        cid = o.pop("id", None) if o.get("type") == "connection" else o.pop("conn", None)
        if o.get("type") == "connection" and o.get("resumed_from") is not None:
            o["resumed_from"] = names.get(o["resumed_from"], "outside the run")
        if cid is None:
            other[json.dumps(o, sort_keys=True)] += 1
        else:
            per[names.get(cid, "unnamed-%s" % cid)].append(json.dumps(o, sort_keys=True))
    # Connections that never became TLS have no summary to name them: keep
    # their events by count (their ids are the only difference).
    unnamed = collections.Counter()
    for k in [k for k in per if k.startswith("unnamed-")]:
        unnamed[tuple(per.pop(k))] += 1
    return per, other, unnamed


def compare(cap, base, got, threads):
    problems = []
    for label, lines in (("1", base), (str(threads), got)):
        if not lines or lines[0].get("type") != "run":
            problems.append("--threads %s: first line is not the run record" % label)
        if not lines or lines[-1].get("type") != "stats" or not lines[-1].get("final"):
            problems.append("--threads %s: last line is not the final stats" % label)
    if problems:
        return problems
    bp, bo, bu = normalise(base)
    gp, go, gu = normalise(got)
    for name in sorted(set(bp) | set(gp)):
        if name not in gp:
            problems.append("connection %s missing" % name)
        elif name not in bp:
            problems.append("connection %s not in the single-thread run" % name)
        elif bp[name] != gp[name]:
            for i, (x, y) in enumerate(zip(bp[name], gp[name])):
                if x != y:
                    problems.append("connection %s, event %d differs:\n   1: %s\n   %d: %s" %
                                    (name, i, x[:400], threads, y[:400]))
                    break
            else:
                problems.append("connection %s: %d events, %d with --threads %d" %
                                (name, len(bp[name]), len(gp[name]), threads))
    if bo != go:
        diff = (bo - go) + (go - bo)
        problems.append("connection-less events differ: %s" % list(diff)[:3])
    if bu != gu:
        problems.append("events of connections without a summary differ")
    bs, gs = base[-1], got[-1]
    for k in SAME_STATS:
        if stat(bs, k) != stat(gs, k):
            problems.append("stats %s: %r, %r with --threads %d" % (k, stat(bs, k), stat(gs, k),
                                                                   threads))
        elif stat(bs, k) == "(absent)" and k in ("tls_connections", "decryption"):
            problems.append("stats %s missing" % k)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--shared", default=None)
    ap.add_argument("--threads", default="2,3")
    ap.add_argument("--only", default=None)
    args = ap.parse_args()
    shared = args.shared or os.path.join(args.source_dir, "..", "shared")
    caps, _ = run_e2e.pcaps_captures(args.source_dir)
    corpus, _ = run_e2e.corpus_captures(shared)
    caps = [c for c in caps + corpus if os.path.exists(c.path)]
    if args.only:
        caps = [c for c in caps if args.only in c.name]
    threads = [int(t) for t in args.threads.split(",")]
    # Every generated capture in one run (one time line, packet numbers running on):
    # hundreds of connections at once, resumptions among them, all their keys.
    tmp = tempfile.TemporaryDirectory()
    mine = [c for c in caps if c.origin == "manifest"]
    if len(mine) > 1 and not args.only:
        keylog = os.path.join(tmp.name, "all.keylog")
        rsa = []
        with open(keylog, "w") as out:
            for c in mine:
                for flag, val in zip(c.keys, c.keys[1:]):
                    if flag == "-l":
                        with open(val) as f:
                            out.write(f.read().rstrip("\n") + "\n")
                    elif flag == "-k" and val not in rsa:
                        rsa.append(val)
        keys = ["-l", keylog]
        for k in rsa:
            keys += ["-k", k]
        caps.append(run_e2e.Capture("all-of-pcaps", [c.path for c in mine], "all", {}, keys))
    failed = 0
    conns = 0
    resumed = 0
    for cap in caps:
        rc, base, err = run(args.tlsscope, cap, 1, [])
        if rc not in (0, 3):
            print("FAIL %s: --threads 1 exit %d: %s" % (cap.name, rc, err.strip()[:300]))
            failed += 1
            continue
        summaries = [o for o in base if o.get("type") == "connection"]
        conns += len(summaries)
        resumed += sum(1 for o in summaries if o.get("resumed_from") is not None)
        for n in threads:
            rc2, got, err2 = run(args.tlsscope, cap, n, [])
            problems = [] if rc2 == rc else ["exit %d, %d with --threads %d" % (rc, rc2, n)]
            if "AddressSanitizer" in err2 or "runtime error" in err2 or "ThreadSanitizer" in err2:
                problems.append("sanitizer: " + err2.strip()[:600])
            problems += compare(cap, base, got, n)
            if problems:
                failed += 1
                print("FAIL %s --threads %d:" % (cap.name, n))
                for p in problems[:8]:
                    print("  " + p)
    print("%d captures, %d connections (%d resumed) x --threads %s: %s" %
          (len(caps), conns, resumed, args.threads, "all agree" if not failed else
           "%d disagreements" % failed))
    if len(caps) < 10 or resumed == 0:
        print("FAIL: too few captures (%d) or no resumed connection to check" % len(caps))
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
