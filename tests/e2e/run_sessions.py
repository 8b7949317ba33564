#!/usr/bin/env python3
"""Resumption across connections on the real captures of pcaps/ (every
manifest capture whose TLS <= 1.2 connection resumes an earlier one):

  parent-keys   only the parent's secret (the RSA key, or the parent's key log
                line): the resumed connection decrypts with key_source
                "session-cache", both Finished verified, the manifest's
                app_data, resumed_from = the parent's id;
  split-files   parent and resumed connection in two -r files (split with
                tshark): the same, the cache spans the inputs;
  parent-cut    the parent filtered out: resumed_parent_missing, resumed_from
                null, no plaintext;
  poisoned      the parent's key log line with a wrong master secret: the
                parent's Finished fails, nothing is handed on, the resumed
                connection says resumed_parent_undecrypted, no plaintext;
  bounded       every parent first, then every resumed connection, with
                --session-cache 1: entries stay at 1, evictions are counted,
                the connections whose parent was evicted say
                resumed_parent_missing; with the default size all resolve.

  run_sessions.py --tlsscope BIN --source-dir DIR   (ends with 'N passed, N failed')
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ENV = dict(os.environ)
ENV.pop("SSLKEYLOGFILE", None)


def run(binary, args):
    p = subprocess.run([binary, "-j", "--summary-only", "-q"] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=ENV, timeout=120)
    objs = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
    conns = [o for o in objs if o.get("type") == "connection"]
    stats = [o for o in objs if o.get("type") == "stats"]
    return p.returncode, conns, (stats[-1] if stats else {})


def by_port(conns, port):
    for c in conns:
        if c.get("client_port") == port:
            return c
    return None


def tshark_split(src, port, out):
    subprocess.run(["tshark", "-r", src, "-Y", "tcp.port==%d" % port, "-w", out],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


class Case:
    def __init__(self, name):
        self.name = name
        self.errs = []

    def want(self, what, expected, got):
        if expected != got:
            self.errs.append("%s: expected %r, got %r" % (what, expected, got))


def check_decrypted_child(case, child, parent, want):
    if child is None or parent is None:
        case.errs.append("connection missing")
        return
    case.want("resumed_from", parent.get("id"), child.get("resumed_from"))
    case.want("key_source", "session-cache", child.get("key_source"))
    case.want("finished", {"client": "verified", "server": "verified"}, child.get("finished"))
    case.want("bad_records", 0, child.get("bad_records"))
    case.want("app_data", want["app_data"], child.get("app_data"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--source-dir", required=True)
    a = ap.parse_args()
    pcaps = os.path.join(a.source_dir, "pcaps")
    with open(os.path.join(pcaps, "manifest.json")) as f:
        manifest = json.load(f)["captures"]
    subjects = []  # (capture entry, parent manifest conn, child manifest conn)
    for cap in manifest:
        for c in cap["connections"]:
            if c.get("resumed_from") is not None and c.get("version", 0) <= 0x0303:
                subjects.append((cap, cap["connections"][c["resumed_from"]], c))
    cases = []
    tmp = tempfile.mkdtemp(prefix="tlsscope-sessions-")
    parents_files, children_files = [], []
    keyargs_all = []
    for cap, pm, cm in subjects:
        path = os.path.join(pcaps, cap["file"])
        _, plain, _ = run(a.tlsscope, ["-r", path])
        parent0 = by_port(plain, pm["client_port"])
        if parent0 is None:
            case = Case(cap["name"] + ": keyless run")
            case.errs.append("parent connection not found")
            cases.append(case)
            continue
        if cap["keys"].get("rsa_key"):
            keyargs = ["-k", os.path.join(pcaps, cap["keys"]["rsa_key"])]
        else:
            # The parent's key log line only (found by its client random).
            lines = open(os.path.join(pcaps, cap["keys"]["keylog"])).read().splitlines()
            mine = [l for l in lines if l.startswith("CLIENT_RANDOM ")
                    and l.split()[1].lower() == parent0["client_random"]]
            kl = os.path.join(tmp, cap["name"] + ".parent.keylog")
            with open(kl, "w") as f:
                f.write("\n".join(mine) + "\n")
            keyargs = ["-l", kl]
        keyargs_all += keyargs

        case = Case(cap["name"] + ": parent-keys")
        rc, conns, _ = run(a.tlsscope, keyargs + ["-r", path])
        case.want("exit status", 0, rc)
        check_decrypted_child(case, by_port(conns, cm["client_port"]),
                              by_port(conns, pm["client_port"]), cm)
        cases.append(case)

        case = Case(cap["name"] + ": split-files")
        pf = os.path.join(tmp, cap["name"] + ".parent.pcap")
        cf = os.path.join(tmp, cap["name"] + ".child.pcap")
        tshark_split(path, pm["client_port"], pf)
        tshark_split(path, cm["client_port"], cf)
        parents_files.append(pf)
        children_files.append(cf)
        rc, conns, _ = run(a.tlsscope, keyargs + ["-r", pf, "-r", cf])
        case.want("exit status", 0, rc)
        check_decrypted_child(case, by_port(conns, cm["client_port"]),
                              by_port(conns, pm["client_port"]), cm)
        cases.append(case)

        case = Case(cap["name"] + ": parent-cut")
        rc, conns, _ = run(a.tlsscope, keyargs + ["-r", cf])
        child = by_port(conns, cm["client_port"])
        case.want("exit status", 0, rc)
        case.want("connections", 1, len(conns))
        if child is not None:
            case.want("resumed", True, child.get("resumed"))
            case.want("resumed_from", None, child.get("resumed_from"))
            case.want("undecrypted_reason", "resumed_parent_missing",
                      child.get("undecrypted_reason"))
            case.want("app_data", None, child.get("app_data"))
        cases.append(case)

        case = Case(cap["name"] + ": poisoned")
        bad = os.path.join(tmp, cap["name"] + ".poisoned.keylog")
        with open(bad, "w") as f:
            f.write("CLIENT_RANDOM %s %s\n" % (parent0["client_random"], "5a" * 48))
        rc, conns, _ = run(a.tlsscope, ["-l", bad, "-r", path])
        child = by_port(conns, cm["client_port"])
        parent = by_port(conns, pm["client_port"])
        case.want("exit status", 0, rc)
        if child is not None and parent is not None:
            case.want("parent decrypted", False, parent.get("decrypted"))
            case.want("resumed_from", parent.get("id"), child.get("resumed_from"))
            case.want("decrypted", False, child.get("decrypted"))
            case.want("undecrypted_reason", "resumed_parent_undecrypted",
                      child.get("undecrypted_reason"))
            case.want("app_data", None, child.get("app_data"))
        else:
            case.errs.append("connection missing")
        cases.append(case)

    if len(parents_files) >= 2:
        inputs = []
        for f in parents_files + children_files:
            inputs += ["-r", f]
        for size, expect_missing in (("1", True), ("65536", False)):
            case = Case("all parents, then all resumed, --session-cache %s: bounded" % size)
            rc, conns, st = run(a.tlsscope, keyargs_all + ["--session-cache", size] + inputs)
            sc = st.get("session_cache") or {}
            case.want("exit status", 0, rc)
            case.want("capacity", int(size), sc.get("capacity"))
            resumed = [c for c in conns if c.get("resumed")]
            case.want("resumed connections", len(children_files), len(resumed))
            missing = [c for c in resumed if c.get("undecrypted_reason") ==
                       "resumed_parent_missing" and c.get("resumed_from") is None]
            linked = [c for c in resumed if c.get("resumed_from") is not None and
                      c.get("key_source") == "session-cache" and c.get("bad_records") == 0]
            if expect_missing:
                case.want("entries", 1, sc.get("entries"))
                if not sc.get("evictions"):
                    case.errs.append("no evictions counted: %r" % sc)
                # Only the last parent's identifiers survive: its child resolves.
                if not missing or len(missing) + len(linked) != len(resumed) or not linked:
                    case.errs.append("missing %d linked %d of %d" %
                                     (len(missing), len(linked), len(resumed)))
            else:
                case.want("evictions", 0, sc.get("evictions"))
                case.want("linked", len(resumed), len(linked))
            case.want("stats resumed_linked", len(linked), sc.get("resumed_linked"))
            cases.append(case)

    failed = 0
    for c in cases:
        print(("PASS %s" % c.name) if not c.errs else ("FAIL %s: %s" % (c.name, "; ".join(c.errs))))
        failed += bool(c.errs)
    if not subjects:
        print("FAIL: no resumed TLS <= 1.2 connection in pcaps/manifest.json")
        failed += 1
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
