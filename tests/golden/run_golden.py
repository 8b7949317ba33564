#!/usr/bin/env python3
"""Golden text-output tests: run tlsscope's text mode on a few captures and
compare with tests/golden/<name>.txt byte for byte.

  run_golden.py --tlsscope BIN --source-dir DIR [--regen]

--regen rewrites the golden files (a deliberate act: review the diff). Cases
whose capture is missing (e.g. ../shared not beside the project) fail.
Standard library only.
"""
import argparse
import difflib
import os
import shlex
import subprocess
import sys


def cases(src):
    with open(os.path.join(src, "tests", "golden", "cases.txt")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, cap, opts = (p.strip() for p in line.split("|"))
            yield name, cap, shlex.split(opts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--regen", action="store_true")
    a = ap.parse_args()
    src = os.path.abspath(a.source_dir)
    env = dict(os.environ)
    env.pop("SSLKEYLOGFILE", None)
    passed = failed = 0
    for name, cap, opts in cases(src):
        gold = os.path.join(src, "tests", "golden", name + ".txt")
        # Paths are given relative to the source dir so the output is the same
        # wherever the tree is checked out.
        cmd = [os.path.abspath(a.tlsscope), "-q"] + opts + ["-r", cap]
        p = subprocess.run(cmd, cwd=src, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        out = p.stdout.decode("utf-8", "replace")
        # The statistics block carries the run time: drop its timing field.
        out = "\n".join(l if not l.startswith("packets ") else l.rsplit(",", 1)[0]
                        for l in out.split("\n"))
        if p.returncode != 0:
            print("FAIL %s: exit status %d: %s" % (name, p.returncode, p.stderr.decode()[:300]))
            failed += 1
            continue
        if a.regen:
            with open(gold, "w") as f:
                f.write(out)
            print("wrote %s" % gold)
            passed += 1
            continue
        try:
            with open(gold) as f:
                want = f.read()
        except OSError:
            print("FAIL %s: no golden file %s (run with --regen)" % (name, gold))
            failed += 1
            continue
        if want == out:
            print("PASS %s" % name)
            passed += 1
        else:
            failed += 1
            print("FAIL %s: output differs from %s" % (name, gold))
            diff = difflib.unified_diff(want.splitlines(), out.splitlines(), "golden", "output",
                                        lineterm="", n=2)
            for i, l in enumerate(diff):
                if i >= 60:
                    print("  ...")
                    break
                print("  " + l)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
