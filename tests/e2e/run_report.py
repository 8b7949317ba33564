#!/usr/bin/env python3
"""--report: the HTML evidence report, read back as a browser renders it.

One run over four inputs: two clean captures, a tampered copy of a third (a
byte of the ServerKeyExchange signature flipped, tools/tamper) and a copy of a
fourth whose SNI was rewritten to HTML markup of the same length. Checks on the file itself:
self-contained (no external URL fetched: no src/href to another origin, no
@import, no url()), escaping (the markup SNI appears only escaped). Then
headless Chromium (--dump-dom) renders it: one table row per TLS connection
with its verdict, one ladder SVG per connection, red marks (class "bad") in
the failed connection's diagram and none in the clean ones, the overview
charts. A screenshot is saved to --out-dir (report.png) for a person to look at.

  run_report.py --tlsscope BIN --source-dir DIR --out-dir DIR   (ends with 'N passed, N failed')
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ENV = dict(os.environ)
ENV.pop("SSLKEYLOGFILE", None)
MARKUP = "<b>x</b>&'1"  # as long as "server.test"


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--out-dir", required=True)
    a = ap.parse_args()
    src = a.source_dir
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL:", what)

    caps = os.path.join(src, "pcaps")
    tamper = os.path.join(src, "tools", "tamper")
    with tempfile.TemporaryDirectory() as tmp:
        ske = os.path.join(tmp, "ske.pcap")
        sni = os.path.join(tmp, "sni.pcap")
        e = "tls12-ecdhe-rsa-aes128-gcm-sha256"
        dhe = "tls12-dhe-rsa-aes128-cbc-sha256"
        ec = "tls12-ecdhe-ecdsa-aes256-gcm-sha384"
        t13 = "tls13-aes128-gcm-sha256"
        subprocess.run([sys.executable, tamper, os.path.join(caps, dhe + ".pcap"), ske,
                        "--flip-ske-signature"], check=True)
        subprocess.run([sys.executable, tamper, os.path.join(caps, ec + ".pcap"), sni,
                        "--set-sni", MARKUP], check=True)
        html = os.path.join(a.out_dir, "report.html")
        args = [a.tlsscope, "-q", "--no-env-keylog", "-j", "--summary-only", "--report", html]
        for c in (t13, e, dhe, ec):
            args += ["-l", os.path.join(caps, "keylogs", c + ".keylog")]
        args += ["-r", os.path.join(caps, t13 + ".pcap"), "-r", os.path.join(caps, e + ".pcap"),
                 "-r", ske, "-r", sni]
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                           timeout=120)
        check(p.returncode == 1, "exit status %d with a failed connection, want 1: %s" %
              (p.returncode, p.stderr.decode()[:300]))
        text = open(html, encoding="utf-8").read()

    # Self-contained: nothing to fetch.
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', text)
    check(all(r.startswith("#") for r in refs), "only in-page links: %s" %
          [r for r in refs if not r.startswith("#")][:5])
    check("@import" not in text and "url(" not in text.replace("url(#", ""),
          "no @import / url() to other resources")
    check("<script src" not in text and "<link" not in text, "no external script or style")
    # Escaping: the SNI markup only ever appears escaped.
    check(MARKUP not in text, "raw SNI markup must not appear")
    check("&lt;b&gt;x&lt;/b&gt;&amp;&#39;1" in text, "escaped SNI present")
    check("SHA-256" in text and "tlsscope " in text, "run header with hashes")

    br = chromium()
    check(br is not None, "chromium installed (tools/bootstrap installs it)")
    if br is None:
        print("%d passed, %d failed" % (passed, failed))
        return 1
    url = "file://" + os.path.abspath(html)
    base = [br, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--user-data-dir=" + os.path.join(a.out_dir, "chromium-profile")]
    d = subprocess.run(base + ["--dump-dom", url], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    dom = d.stdout.decode("utf-8", "replace")
    check(d.returncode == 0 and "</html>" in dom, "chromium rendered the page (%d)" % d.returncode)
    rows = re.findall(r'<tr class="conn (\w+)">', dom)
    check(sorted(rows) == ["failed", "failed", "verified", "verified"],
          "connection rows by verdict: %s" % rows)
    sections = re.findall(r'<div class="conn" id="c(\d+)">(.*?)</div>', dom, re.S)
    check(len(sections) == 4, "%d connection sections, want 4" % len(sections))
    svgs = [s for s in sections if s[1].count('<svg class="ladder"') == 1]
    check(len(svgs) == 4, "one ladder SVG per connection")
    for cid, body in sections:
        verdict = re.search(r'<span class="(\w+)">', body).group(1)
        ladder = body[body.find('<svg class="ladder"'):body.find("</svg>")]
        bad = ladder.count('class="bad"')
        if verdict == "failed":
            check(bad > 0, "connection %s failed: red marks in its ladder" % cid)
        else:
            check(bad == 0, "connection %s %s: no red marks (%d)" % (cid, verdict, bad))
        check(ladder.count("client_hello") == 1 and ladder.count("finished") >= 2,
              "connection %s: ladder shows the handshake" % cid)
    ske_section = [b for _, b in sections if "server_key_exchange_signature" in b and
                   'class="fail">fail' in b]
    check(len(ske_section) >= 1, "the tampered signature is reported as failed")
    for chart in ("Verdicts", "Protocol versions", "Key exchanges", "Cipher suites",
                  "Top server names", "Timeline"):
        check(chart in dom, "overview chart %s" % chart)
    shot = os.path.join(a.out_dir, "report.png")
    if os.path.exists(shot):
        os.unlink(shot)
    s = subprocess.run(base + ["--window-size=1400,2400", "--screenshot=" + shot, url],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    check(s.returncode == 0 and os.path.exists(shot) and os.path.getsize(shot) > 10000,
          "screenshot saved to %s" % shot)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
