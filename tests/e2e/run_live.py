#!/usr/bin/env python3
"""Live capture end to end: tlsscope -i on loopback (and on a veth pair
between two network namespaces) while real TLS stacks talk.

tlsscope runs in the background with `-i IFACE -j -o FILE 'tcp port P'`
(P a free port: other traffic on lo never matters), OpenSSL s_server answers,
OpenSSL s_client and GnuTLS gnutls-cli connect, tlsscope is stopped with
SIGINT, and the connection summaries and statistics are checked against what
the clients did: version, suite, SNI, decryption, Finished verification and
the SHA-256 of the bytes each client sent. Also: an idle connection's summary
appears by --idle-timeout while the client is still connected; periodic
--stats events; SIGHUP reopens the output file (log rotation).

Every process started here is stopped by its PID. Needs root (or
CAP_NET_RAW); exits 77 (skipped) without it. The namespace part is skipped,
with a message, where namespaces cannot be created.
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
FAILS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL: " + msg)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def read_events(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    fail("%s: not JSON: %r" % (path, line[:120]))
    return out


def connections(events):
    return [e for e in events if e.get("type") == "connection"]


class Procs:
    """Processes started by the test, each stopped by its PID."""

    def __init__(self):
        self.procs = []

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=5):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for f in (p.stdin, p.stdout, p.stderr):
            if f is not None:
                f.close()

    def stop_all(self):
        for p in self.procs:
            self.stop(p)


class Client:
    """One TLS client: what it sent and how its summary should look."""

    def __init__(self, name, data, version, suite=None, sni=None, key_source=None):
        self.name = name
        self.data = data
        self.version = version
        self.suite = suite
        self.sni = sni
        self.key_source = key_source
        self.port = None  # client port, from the summary matched by SNI


def make_key(tmp):
    key = os.path.join(tmp, "server.key")
    cert = os.path.join(tmp, "server.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=live.tlsscope.test"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return key, cert


def start_server(procs, prefix, addr, port, key, cert):
    # stdin stays open (a pipe): s_server quits on end of standard input.
    srv = procs.start(prefix + ["openssl", "s_server", "-accept", "%s:%d" % (addr, port),
                                "-key", key, "-cert", cert, "-naccept", "100"],
                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                      stderr=subprocess.DEVNULL)
    for _ in range(5):  # "ACCEPT" once listening, after a notice or two
        line = srv.stdout.readline()
        if b"ACCEPT" in line:
            return srv
        if not line:
            break
    fail("s_server did not start")
    return None


def run_client(procs, prefix, argv, data, hold=0.0, env=None):
    """Connect, send data, optionally stay connected `hold` seconds, close."""
    p = procs.start(prefix + argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, env=env)
    time.sleep(0.3)  # handshake done before the data goes
    p.stdin.write(data)
    p.stdin.flush()
    if hold > 0:
        return p
    time.sleep(0.2)
    p.stdin.close()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        fail("%s did not finish" % argv[0])
    procs.stop(p)
    return None


def s_client(addr, port, sni, extra, keylog=None):
    argv = ["openssl", "s_client", "-connect", "%s:%d" % (addr, port), "-servername", sni]
    if keylog is not None:
        argv += ["-keylogfile", keylog]
    return argv + extra


def check_summary(c, conn):
    name = c.name
    check(conn.get("version_name") == c.version,
          "%s: version %s, expected %s" % (name, conn.get("version_name"), c.version))
    if c.suite is not None:
        check(conn.get("cipher_suite_name") == c.suite,
              "%s: suite %s, expected %s" % (name, conn.get("cipher_suite_name"), c.suite))
    check(conn.get("decrypted") is True, "%s: not decrypted (%s)" %
          (name, conn.get("undecrypted_reason")))
    if c.key_source is not None:
        check(conn.get("key_source") == c.key_source,
              "%s: key_source %s, expected %s" % (name, conn.get("key_source"), c.key_source))
    fin = conn.get("finished") or {}
    check(fin.get("client") == "verified" and fin.get("server") == "verified",
          "%s: finished %s" % (name, fin))
    ad = (conn.get("app_data") or {}).get("c2s") or {}
    want = hashlib.sha256(c.data).hexdigest()
    check(ad.get("sha256") == want and ad.get("bytes") == len(c.data),
          "%s: c2s app_data %s, expected %d bytes %s" % (name, ad, len(c.data), want))
    check(conn.get("bad_records") == 0, "%s: bad_records %s" % (name, conn.get("bad_records")))


def match_by_sni(clients, conns, where):
    by_sni = {}
    for conn in conns:
        by_sni.setdefault(conn.get("sni"), []).append(conn)
    for c in clients:
        got = by_sni.get(c.sni, [])
        if check(len(got) == 1, "%s: %d summaries with SNI %s in %s" %
                 (c.name, len(got), c.sni, where)):
            check_summary(c, got[0])


def tlsscope_argv(args, iface, out, port, key, keylog, extra):
    argv = [args.tlsscope, "-i", iface, "-j", "-o", out, "-k", key, "--no-env-keylog", "-q"]
    argv += args.extra.split()
    if keylog is not None:
        argv += ["-l", keylog]
    return argv + extra + ["tcp port %d" % port]


def start_tlsscope(procs, prefix, argv, out):
    err = open(out + ".stderr", "wb")
    ts = procs.start(prefix + argv, stdout=subprocess.DEVNULL, stderr=err)
    err.close()
    if not wait_for(lambda: any(e.get("type") == "run" for e in read_events(out)), 10):
        fail("tlsscope wrote no run record: %s" % open(out + ".stderr").read())
        return None
    time.sleep(0.2)  # the filter is set before the run record; let the socket settle
    return ts


def stop_tlsscope(procs, ts, out):
    ts.send_signal(signal.SIGINT)
    try:
        rc = ts.wait(10)
    except subprocess.TimeoutExpired:
        fail("tlsscope did not stop on SIGINT")
        procs.stop(ts, signal.SIGKILL)
        return
    check(rc == 0, "tlsscope exit status %d after SIGINT: %s" %
          (rc, open(out + ".stderr").read()))


def final_stats(events, where, tls_min):
    stats = [e for e in events if e.get("type") == "stats"]
    if not check(stats and stats[-1].get("final") is True,
                 "%s: no final stats event last" % where):
        return None
    st = stats[-1]
    check(st.get("tls_connections", 0) >= tls_min,
          "%s: final stats tls_connections %s < %d" % (where, st.get("tls_connections"), tls_min))
    k = st.get("kernel") or {}
    check("received" in k and "dropped" in k, "%s: final stats without kernel counters" % where)
    check(k.get("dropped") == 0, "%s: kernel dropped %s packets" % (where, k.get("dropped")))
    check(st.get("open_flows") == 0, "%s: %s flows open after the flush" %
          (where, st.get("open_flows")))
    return st


def loopback(args, tmp, procs):
    key, cert = make_key(tmp)
    port = free_port()
    out = os.path.join(tmp, "live.jsonl")
    # The clients' key log does not exist when tlsscope starts: it is waited
    # for, followed while the clients append to it, and its keys arrive after
    # the ClientHello of the connections they belong to.
    keylog = os.path.join(tmp, "client-keys.log")
    ts = start_tlsscope(procs, [], tlsscope_argv(args, "lo", out, port, key, keylog,
                                                 ["--idle-timeout", "2", "--stats", "1"]), out)
    if ts is None:
        return
    srv = start_server(procs, [], "127.0.0.1", port, key, cert)
    if srv is None:
        return
    clients = []
    # TLS 1.2 with RSA key exchange: the server key (-k) decrypts it.
    c = Client("openssl-tls12-rsa", b"GET /rsa-kex HTTP/1.0\n\n", "TLSv1.2",
               "TLS_RSA_WITH_AES_128_GCM_SHA256", "rsa.live.test", "rsa")
    run_client(procs, [], s_client("127.0.0.1", port, c.sni,
                                   ["-tls1_2", "-cipher", "AES128-GCM-SHA256"]), c.data)
    clients.append(c)
    # TLS 1.3 and TLS 1.2 ECDHE: only the key log the client writes decrypts them.
    c = Client("openssl-tls13-keylog", b"GET /tls13 HTTP/1.1\nHost: x\n\n", "TLSv1.3",
               "TLS_AES_256_GCM_SHA384", "tls13.live.test", "keylog")
    run_client(procs, [], s_client("127.0.0.1", port, c.sni, ["-tls1_3"], keylog), c.data)
    clients.append(c)
    c = Client("openssl-tls13-chacha-keylog", b"chacha20 data\n" * 50, "TLSv1.3",
               "TLS_CHACHA20_POLY1305_SHA256", "chacha.live.test", "keylog")
    run_client(procs, [], s_client("127.0.0.1", port, c.sni,
                                   ["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"],
                                   keylog), c.data)
    clients.append(c)
    c = Client("openssl-tls12-ecdhe-keylog", b"ecdhe data\n", "TLSv1.2",
               "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ecdhe.live.test", "keylog")
    run_client(procs, [], s_client("127.0.0.1", port, c.sni,
                                   ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"], keylog),
               c.data)
    clients.append(c)
    if shutil.which("gnutls-cli") is not None:
        c = Client("gnutls-tls13-keylog", b"from gnutls-cli\n", "TLSv1.3", None,
                   "gnutls.live.test", "keylog")
        env = dict(os.environ, SSLKEYLOGFILE=keylog)
        run_client(procs, [], ["gnutls-cli", "--insecure", "--sni-hostname", c.sni, "-p",
                               str(port), "127.0.0.1"], c.data, env=env)
        clients.append(c)
    else:
        print("note: gnutls-cli not installed, GnuTLS client skipped")
    # An idle connection: its summary must appear by the idle timeout, while
    # the client is still connected and no packet moves capture time.
    idle = Client("openssl-idle", b"idle connection data\n", "TLSv1.2",
                  "TLS_RSA_WITH_AES_256_CBC_SHA", "idle.live.test", "rsa")
    held = run_client(procs, [], s_client("127.0.0.1", port, idle.sni,
                                          ["-tls1_2", "-cipher", "AES256-SHA"]),
                      idle.data, hold=1)
    got = wait_for(lambda: any(x.get("sni") == idle.sni for x in connections(read_events(out))),
                   8)
    if check(got, "idle connection: no summary within the idle timeout"):
        conn = [x for x in connections(read_events(out)) if x.get("sni") == idle.sni][0]
        check(conn.get("end_reason") == "timeout", "idle connection: end_reason %s" %
              conn.get("end_reason"))
        check_summary(idle, conn)
    check(held.poll() is None, "idle client exited before its summary was checked")
    procs.stop(held)
    # Periodic statistics.
    periodic = [e for e in read_events(out) if e.get("type") == "stats" and e.get("final") is False]
    if check(len(periodic) >= 2, "only %d periodic stats events" % len(periodic)):
        p = periodic[-1]
        for k in ("packets", "bytes", "open_flows", "kernel", "memory", "evictions"):
            check(k in p, "periodic stats without %s" % k)
        check(p["memory"].get("heap_bytes", 0) > 0, "periodic stats: heap_bytes 0")
    # SIGHUP: rotate the output file, the new file starts with a run record.
    rotated = out + ".1"
    os.rename(out, rotated)
    ts.send_signal(signal.SIGHUP)
    check(wait_for(lambda: any(e.get("type") == "run" for e in read_events(out)), 5),
          "SIGHUP: no new output file with a run record")
    # The key log is replaced by a new file (new inode): tlsscope reopens it.
    fresh = keylog + ".new"
    open(fresh, "w").close()
    os.rename(fresh, keylog)
    after = Client("openssl-after-rotation", b"after the rotation\n", "TLSv1.3",
                   "TLS_AES_128_GCM_SHA256", "rotated.live.test", "keylog")
    run_client(procs, [], s_client("127.0.0.1", port, after.sni,
                                   ["-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"], keylog),
               after.data)
    # Open at SIGINT: flushed with end_reason eof.
    open_c = Client("openssl-open-at-stop", b"still open at SIGINT\n", "TLSv1.2",
                    "TLS_RSA_WITH_AES_128_CBC_SHA256", "open.live.test", "rsa")
    held = run_client(procs, [], s_client("127.0.0.1", port, open_c.sni,
                                          ["-tls1_2", "-cipher", "AES128-SHA256"]),
                      open_c.data, hold=1)
    time.sleep(0.3)
    stop_tlsscope(procs, ts, out)
    procs.stop(held)
    procs.stop(srv)
    first = read_events(rotated)
    second = read_events(out)
    check(first and first[0].get("type") == "run", "rotated file does not start with run")
    check(second and second[0].get("type") == "run", "new file does not start with run")
    match_by_sni(clients, connections(first), "the rotated file")
    match_by_sni([after, open_c], connections(second), "the new file")
    eof = [x for x in connections(second) if x.get("sni") == open_c.sni]
    if eof:
        check(eof[0].get("end_reason") == "eof", "open connection: end_reason %s" %
              eof[0].get("end_reason"))
    check(not [e for e in first if e.get("type") == "stats" and e.get("final")],
          "final stats in the rotated file")
    st = final_stats(second, "loopback", len(clients) + 3)
    if st is not None:
        kf = st.get("keylog_follow") or {}
        check(kf.get("reopens") == 1, "key log replaced once, reopens %s" % kf.get("reopens"))
        check(kf.get("released_without_keys") == 0, "records released without keys: %s" %
              kf.get("released_without_keys"))
        print("loopback: %d summaries checked; key log: %s" %
              (len(clients) + 3, json.dumps(kf, sort_keys=True)))


def memory_budget(args, tmp, procs):
    """--max-memory 16M while 250 connections each buffer a 200 KB handshake
    message in the making (about 24 MB): the heap check evicts flows, the heap
    stays within the budget. The capture buffer is given explicitly (32 MiB, on
    top of the budget) so that a slow (sanitizer) build drops nothing. One
    thread (unless --extra says otherwise): the 20 MiB bound below is one
    analyzer's; each worker adds its own slabs and caches."""
    port = free_port()
    out = os.path.join(tmp, "memory.jsonl")
    argv = [args.tlsscope, "-i", "lo", "-j", "--summary-only", "-q", "--no-env-keylog"] + \
        args.extra.split() + ([] if "--threads" in args.extra else ["--threads", "1"]) + [
            "--max-memory", "16M", "--buffer-size", str(32 << 20), "--stats", "1", "-o", out,
            "tcp port %d" % port]
    ts = start_tlsscope(procs, [], argv, out)
    if ts is None:
        return
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(512)
    # A ClientHello that claims 200000 bytes, sent as 16 KiB handshake records:
    # tlsscope buffers the message (up to --max-handshake) until it is complete.
    hs_len = 200000
    first = bytes([1, hs_len >> 16, (hs_len >> 8) & 0xff, hs_len & 0xff]) + b"\x03\x03"
    body = first + b"\0" * (16384 - len(first))
    rec = b"\x16\x03\x01" + len(body).to_bytes(2, "big") + body
    more = b"\x16\x03\x01" + (16384).to_bytes(2, "big") + b"\0" * 16384
    socks, peers = [], []
    for i in range(250):
        c = socket.create_connection(("127.0.0.1", port))
        peers.append(lsock.accept()[0])
        c.sendall(rec + more * 5)  # about 98 KiB of the message per connection
        socks.append(c)
        if i % 50 == 49:
            time.sleep(0.3)
    time.sleep(1.5)
    stop_tlsscope(procs, ts, out)
    for x in socks + peers:
        x.close()
    lsock.close()
    events = read_events(out)
    stats = [e for e in events if e.get("type") == "stats"]
    if not check(stats and stats[-1].get("final"), "memory: no final stats"):
        return
    st = stats[-1]
    ev = st.get("evictions") or {}
    check(ev.get("memory", 0) > 0, "memory: no flow evicted for the budget (%s)" % ev)
    limit = (st.get("memory") or {}).get("limit_bytes")
    check(limit == 16 << 20, "memory: limit_bytes %s" % limit)
    peak = max((e.get("memory") or {}).get("heap_bytes", 0) for e in stats)
    # Checked every 200 ms: between two checks the heap may pass the budget by
    # what arrives meanwhile; without the check it would reach about 30 MB.
    check(peak <= 20 << 20, "memory: heap reached %d bytes with --max-memory 16M" % peak)
    k = st.get("kernel") or {}
    check(k.get("dropped") == 0, "memory: kernel dropped %s packets" % k.get("dropped"))
    evicted = [e for e in events if e.get("type") == "diagnostic" and
               e.get("kind") == "tcp-flow-evicted" and "--max-memory" in e.get("message", "")]
    check(evicted, "memory: no tcp-flow-evicted diagnostic naming the budget")
    print("memory: %d flows evicted for the budget, periodic heap peak %.1f MiB of 16" %
          (ev.get("memory", 0), peak / 1048576.0))


def netns(args, tmp, procs):
    tag = "tsc%d" % os.getpid()
    ns_a, ns_b = tag + "a", tag + "b"
    if subprocess.run(["ip", "netns", "add", ns_a], stderr=subprocess.DEVNULL).returncode != 0:
        print("SKIP namespace test: cannot create a network namespace here")
        return
    try:
        subprocess.run(["ip", "netns", "add", ns_b], check=True)
        ip = lambda ns, *a: subprocess.run(["ip", "-n", ns] + list(a), check=True)
        subprocess.run(["ip", "link", "add", "veth0", "netns", ns_a, "type", "veth", "peer",
                        "name", "veth1", "netns", ns_b], check=True)
        ip(ns_a, "addr", "add", "10.231.0.1/24", "dev", "veth0")
        ip(ns_b, "addr", "add", "10.231.0.2/24", "dev", "veth1")
        for ns, dev in ((ns_a, "veth0"), (ns_b, "veth1")):
            ip(ns, "link", "set", dev, "up")
            ip(ns, "link", "set", "lo", "up")
        in_a = ["ip", "netns", "exec", ns_a]
        in_b = ["ip", "netns", "exec", ns_b]
        key, cert = make_key(tmp)
        port = free_port()
        out = os.path.join(tmp, "veth.jsonl")
        keylog = os.path.join(tmp, "veth-keys.log")
        ts = start_tlsscope(procs, in_a, tlsscope_argv(args, "veth0", out, port, key, keylog, []),
                            out)
        if ts is None:
            return
        srv = start_server(procs, in_a, "10.231.0.1", port, key, cert)
        if srv is None:
            return
        c = Client("veth-openssl-tls12-rsa", b"over the veth pair\n", "TLSv1.2",
                   "TLS_RSA_WITH_AES_256_GCM_SHA384", "veth.live.test", "rsa")
        run_client(procs, in_b, s_client("10.231.0.1", port, c.sni,
                                         ["-tls1_2", "-cipher", "AES256-GCM-SHA384"]), c.data)
        c13 = Client("veth-openssl-tls13-keylog", b"tls 1.3 over the veth pair\n", "TLSv1.3",
                     "TLS_AES_256_GCM_SHA384", "veth13.live.test", "keylog")
        run_client(procs, in_b, s_client("10.231.0.1", port, c13.sni, ["-tls1_3"], keylog),
                   c13.data)
        time.sleep(0.3)
        stop_tlsscope(procs, ts, out)
        procs.stop(srv)
        events = read_events(out)
        match_by_sni([c, c13], connections(events), "the veth capture")
        conn = [x for x in connections(events) if x.get("sni") == c.sni]
        if conn:
            check(conn[0].get("client_ip") == "10.231.0.2" and
                  conn[0].get("server_ip") == "10.231.0.1",
                  "veth: endpoints %s -> %s" % (conn[0].get("client_ip"), conn[0].get("server_ip")))
        final_stats(events, "veth", 2)
    finally:
        subprocess.run(["ip", "netns", "del", ns_a], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "netns", "del", ns_b], stderr=subprocess.DEVNULL)


def midstream_trial(args, tmp, procs):
    """A TLS 1.3 connection already open when tlsscope starts (no SYN, no
    handshake), its key log lines appended to the followed key log after the
    start: decrypted by trial. (Whether its records are held first depends on
    when s_client sends them; the held path itself is checked in
    check_crypto_tls13, test_trial_late_keys.)"""
    key, cert = make_key(tmp)
    port = free_port()
    out = os.path.join(tmp, "midstream.jsonl")
    private = os.path.join(tmp, "midstream-client.log")
    followed = os.path.join(tmp, "midstream-followed.log")
    srv = start_server(procs, [], "127.0.0.1", port, key, cert)
    if srv is None:
        return
    cl = run_client(procs, [], s_client("127.0.0.1", port, "mid.live.test", ["-tls1_3"], private),
                    b"before the capture\n", hold=1)
    time.sleep(0.3)
    ts = start_tlsscope(procs, [], tlsscope_argv(args, "lo", out, port, key, followed,
                                                 ["--idle-timeout", "10"]), out)
    if ts is None:
        return
    data = b"after the pickup, before the keys\n" * 20
    cl.stdin.write(data)
    cl.stdin.flush()
    time.sleep(1.0)
    with open(private) as f:
        lines = f.read()
    with open(followed, "a") as f:
        f.write(lines)
    time.sleep(0.8)
    cl.stdin.close()
    try:
        cl.wait(5)
    except subprocess.TimeoutExpired:
        fail("s_client did not finish")
    time.sleep(0.5)
    stop_tlsscope(procs, ts, out)
    conns = [e for e in read_events(out) if e.get("type") == "connection"]
    if not check(len(conns) == 1, "midstream: %d connection summaries" % len(conns)):
        return
    c = conns[0]
    tr = c.get("trial") or {}
    check(c.get("matched_by") == "trial" and tr.get("matched") is True,
          "midstream: matched_by %s, trial %s, reason %s" %
          (c.get("matched_by"), tr, c.get("undecrypted_reason")))
    # Roles of a connection without SYN are guessed from the ports: the client's data is
    # in the direction whose sender is not the server port.
    d = "c2s" if c.get("client_port") != port else "s2c"
    ad = (c.get("app_data") or {}).get(d) or {}
    want = hashlib.sha256(data).hexdigest()
    check(ad.get("sha256") == want and ad.get("bytes") == len(data),
          "midstream: %s app_data %s, expected %d bytes %s" % (d, ad, len(data), want))
    check(c.get("bad_records") == 0 and c.get("partial") is True,
          "midstream: bad_records %s partial %s" % (c.get("bad_records"), c.get("partial")))

    procs.stop(srv)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsscope", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--extra", default="", help="more tlsscope options for every run, e.g. "
                    "'--threads 2'")
    ap.add_argument("--no-memory", action="store_true", help="leave out the --max-memory run")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: live capture needs root (or CAP_NET_RAW)")
        return SKIP
    for tool in ("openssl", "ip"):
        if shutil.which(tool) is None:
            print("SKIP: %s not installed" % tool)
            return SKIP
    tmp = tempfile.mkdtemp(prefix="tsc-live-")
    procs = Procs()
    t0 = time.monotonic()
    try:
        loopback(args, tmp, procs)
        if not args.no_memory:
            memory_budget(args, tmp, procs)
        midstream_trial(args, tmp, procs)
        netns(args, tmp, procs)
    finally:
        procs.stop_all()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept " + tmp)
    print("live e2e: %d failures, %.1f s" % (len(FAILS), time.monotonic() - t0))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
