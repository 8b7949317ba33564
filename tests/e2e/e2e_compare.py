"""Comparison of tlsscope's JSON Lines output with expected connection facts.

Two sources of expected facts:
  * the shared corpus (expected/NAME.json, tshark 4.0.17 as the oracle, schema
    in the corpus README), compared by compare_corpus();
  * pcaps/manifest.json (our own generated captures), compared by
    compare_manifest().

Every comparison is one named check (``capture#conn.fact``) with a status:
pass, fail, pending (needs a capability the binary does not have yet, or a
fact the output schema does not carry), known (a listed known difference), or
a note (reported, not counted).
"""

import hashlib
import ipaddress
import json
import os

PASS, FAIL, PENDING, KNOWN = "pass", "fail", "pending", "known"

DIRS = ("c2s", "s2c")
DIR_LIST_FIELD = {"c2s": "client_handshake", "s2c": "server_handshake"}
DIR_FROM = {"c2s": "client", "s2c": "server"}


class Check:
    __slots__ = ("name", "status", "expected", "got", "kind", "why")

    def __init__(self, name, status, expected=None, got=None, kind=None, why=None):
        self.name = name
        self.status = status
        self.expected = expected
        self.got = got
        self.kind = kind  # grouping key for the pending list
        self.why = why


class Report:
    """All checks and notes of one capture (or one truncated variant)."""

    def __init__(self, name):
        self.name = name
        self.checks = []
        self.notes = []

    def eq(self, fact, expected, got, why=None):
        ok = expected == got
        self.checks.append(Check(self.name + fact, PASS if ok else FAIL, expected, got, why=why))
        return ok

    def ok(self, fact, cond, expected, got, why=None):
        self.checks.append(Check(self.name + fact, PASS if cond else FAIL, expected, got, why=why))
        return cond

    def fail(self, fact, expected, got, why=None):
        self.checks.append(Check(self.name + fact, FAIL, expected, got, why=why))

    def pending(self, fact, kind, why, expected=None):
        self.checks.append(Check(self.name + fact, PENDING, expected, None, kind=kind, why=why))

    def note(self, text):
        self.notes.append(text)

    def apply_known(self, known):
        """known: {check name: reason}. A failing listed check becomes KNOWN;
        a listed check that passes is reported, so stale entries get removed."""
        for c in self.checks:
            if c.name in known:
                if c.status == FAIL:
                    c.status = KNOWN
                    c.why = known[c.name]
                elif c.status == PASS:
                    self.note("known_differences.json entry %s now passes: remove it" % c.name)

    def count(self, status):
        return sum(1 for c in self.checks if c.status == status)


def norm_ip(s):
    try:
        return str(ipaddress.ip_address(s))
    except (ValueError, TypeError):
        return s


def conn_key(c):
    return (norm_ip(c.get("client_ip")), c.get("client_port"),
            norm_ip(c.get("server_ip")), c.get("server_port"))


def is_tls13(version):
    """TLS 1.3 or one of its drafts (0x7fNN)."""
    return version == 772 or (isinstance(version, int) and 0x7f00 <= version <= 0x7fff)


# Handshake messages that can be plaintext in TLS 1.3 (RFC 8446 5.1 and 7.1:
# everything after ServerHello is protected with handshake or application
# traffic keys), per direction.
TLS13_PLAINTEXT_TYPES = {"c2s": {1}, "s2c": {2}}


def plaintext_split(direction, full, tls13):
    """Split an expected full (decrypted) handshake list of one direction into
    (plaintext part, encrypted part) as a keyless observer sees it.

    TLS <= 1.2: a direction's messages are plaintext up to its ChangeCipherSpec
    (RFC 5246 7.1); the first message after it is Finished (RFC 5246 7.4.9),
    and everything later (NewSessionTicket comes before the server's CCS,
    renegotiation messages come after Finished) is protected. So the plaintext
    list is exactly the prefix before the first Finished (20).

    TLS 1.3: only ClientHello (twice after a HelloRetryRequest) and
    ServerHello/HelloRetryRequest are plaintext (RFC 8446 4.1.2, 4.1.4, 5.1);
    they always come first in their direction, so the plaintext list is the
    longest prefix made of those types. Anything else, including a second
    ClientHello after EncryptedExtensions (impossible in 1.3), is encrypted.
    """
    if tls13:
        allowed = TLS13_PLAINTEXT_TYPES[direction]
        n = 0
        while n < len(full) and full[n] in allowed:
            n += 1
    else:
        n = full.index(20) if 20 in full else len(full)
    return full[:n], full[n:]


def is_prefix(short, long_):
    return len(short) <= len(long_) and long_[:len(short)] == short


def our_dir(conn, d):
    v = conn.get(d)
    return v if isinstance(v, dict) else {}


def our_encrypted_alerts(conn, d):
    v = our_dir(conn, d).get("encrypted_alerts")
    if v is None and isinstance(conn.get("encrypted_alerts"), dict):
        v = conn["encrypted_alerts"].get(d)
    return v


def our_alerts(conn, d):
    """Visible alerts of one direction as [{level, description}]."""
    out = []
    for a in conn.get("alerts") or []:
        if isinstance(a, dict) and a.get("from") == DIR_FROM[d]:
            out.append({"level": a.get("level"), "description": a.get("description")})
    return out


def our_app_data(conn, d):
    """Decrypted application data summary {bytes, sha256} of one direction, or
    the string "missing" when the output carries no such field at all. The
    JSON schema does not pin its place yet: accept c2s.app_data or
    app_data.c2s."""
    dd = our_dir(conn, d)
    if "app_data" in dd:
        v = dd["app_data"]
    elif isinstance(conn.get("app_data"), dict) and d in conn["app_data"]:
        v = conn["app_data"][d]
    else:
        return "missing"
    if v is None:
        return None
    return {"bytes": v.get("bytes"), "sha256": v.get("sha256")}


def records_view(r):
    """Record counts without zero entries, keys as strings."""
    return {str(k): v for k, v in (r or {}).items() if v}


# ---------------------------------------------------------------------------
# Shared corpus (tshark oracle)
# ---------------------------------------------------------------------------

def is_pure_sslv2(e):
    """A whole SSLv2 session: SSLv2 hello and no SSLv3/TLS record either way."""
    if not e.get("sslv2_client_hello"):
        return False
    for d in DIRS:
        if any(k != "sslv2" for k in (e.get(d, {}).get("records") or {})):
            return False
    return True


def match_corpus(rep, exp_conns, ours, known):
    """Pair expected connections with ours by endpoint 4-tuple (in order for a
    reused 4-tuple). Returns [(expected, ours or None)] for expected TLS
    connections; checks the non-TLS ones and the extra ones."""
    by_key = {}
    for c in ours:
        by_key.setdefault(conn_key(c), []).append(c)
    used = set()
    pairs = []
    for e in exp_conns:
        key = (norm_ip(e["client"]["ip"]), e["client"]["port"],
               norm_ip(e["server"]["ip"]), e["server"]["port"])
        cand = [c for c in by_key.get(key, []) if id(c) not in used]
        tag = "#%d" % e.get("stream", 0)
        if not e.get("tls"):
            if cand:
                used.add(id(cand[0]))
                rep.fail(tag + ".tls", False, True,
                         why="connection reported as TLS; tshark saw no TLS record")
            continue
        if cand:
            used.add(id(cand[0]))
            pairs.append((e, cand[0]))
            continue
        rkey = (key[2], key[3], key[0], key[1])
        swapped = [c for c in by_key.get(rkey, []) if id(c) not in used]
        if swapped:
            used.add(id(swapped[0]))
            rep.fail(tag + ".client", "%s:%s" % (key[0], key[1]),
                     "%s:%s" % (key[2], key[3]), why="client and server swapped")
            pairs.append((e, None))
            continue
        rep.fail(tag + ".present", "TLS connection %s:%s -> %s:%s" % key, "missing")
        pairs.append((e, None))
    for c in ours:
        if id(c) not in used:
            rep.fail(".extra", None, "connection id %s %s:%s -> %s:%s" % ((c.get("id"),) + conn_key(c)),
                     why="TLS connection not in the expected facts")
    return pairs


_DISCOVERY = None


def corpus_discovery(name, stream):
    """Discovery facts (starttls, tunnel, partial) of a corpus connection
    (tests/e2e/corpus_discovery.json): starttls and tunnel default to null."""
    global _DISCOVERY
    if _DISCOVERY is None:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus_discovery.json")
        with open(path, encoding="utf-8") as f:
            _DISCOVERY = json.load(f)["entries"]
    facts = {"starttls": None, "tunnel": None}
    facts.update(_DISCOVERY.get(name, {}).get(str(stream), {}))
    return facts


def compare_corpus(rep, exp, ours, caps):
    """Compare one corpus expected-facts file with our connection objects."""
    have_decrypt = "decrypt" in caps
    for e, c in match_corpus(rep, exp.get("connections", []), ours, None):
        if c is None:
            continue
        tag = "#%d" % e.get("stream", 0)
        compare_corpus_conn(rep, tag, e, c, have_decrypt)
        for f, v in corpus_discovery(exp.get("name"), e.get("stream", 0)).items():
            rep.eq(tag + "." + f, v, c.get(f, "missing"))


SCALAR_FACTS = [
    # (our field, expected field, compare when expected is null)
    ("cipher_suite", "cipher_suite", True),
    ("sni", "sni", True),
    ("alpn", "alpn", True),
    ("resumed", "resumed", False),  # null = unknown (no ServerHello); ours is a bool
    ("hello_retry_request", "hello_retry_request", True),
    ("extended_master_secret", "extended_master_secret", False),
    ("encrypt_then_mac", "encrypt_then_mac", False),
    ("client_random", "client_random", True),
    ("server_random", "server_random", True),
    ("client_hello_version", "client_hello_version", True),
    ("client_hello_record_version", "client_hello_record_version", True),
    ("server_hello_version", "server_hello_version", True),
    ("server_hello_record_version", "server_hello_record_version", True),
    ("sslv2_client_hello", "sslv2_client_hello", True),
]


def compare_corpus_conn(rep, tag, e, c, have_decrypt):
    pure2 = is_pure_sslv2(e)
    # A connection picked up midstream has no hello facts at all in the
    # expected file (the keys are absent, not null): only the per-direction
    # facts apply.
    if "negotiated_version" in e:
        exp_version = e["negotiated_version"]
        if pure2 and exp_version is None and 4 in (e["s2c"].get("sslv2_message_types") or []):
            # docs/json-schema.md: version is 2 for an SSLv2 session; the oracle
            # has no negotiated version for SSLv2 (SERVER-HELLO seen = negotiated).
            exp_version = 2
        rep.eq(tag + ".version", exp_version, c.get("version"))
    tls13 = is_tls13(e.get("negotiated_version"))
    keyless = bool(e.get("decrypted")) and not have_decrypt
    for ours_f, exp_f, when_null in SCALAR_FACTS:
        if exp_f not in e:
            continue
        if ours_f == "alpn" and tls13 and keyless:
            # TLS 1.3 carries the selected ALPN in EncryptedExtensions
            # (RFC 8446 4.3.1): invisible without keys.
            rep.pending(tag + ".alpn", "alpn", "needs decrypt (TLS 1.3)", e[exp_f])
            continue
        if e[exp_f] is None and not when_null:
            continue
        rep.eq(tag + "." + ours_f, e[exp_f], c.get(ours_f))
    if e.get("certificates") is not None:
        exp_certs = [x.get("sha256") for x in e["certificates"]]
        got_certs = [x.get("sha256") for x in (c.get("certificates") or [])]
        rep.eq(tag + ".certificates", exp_certs, got_certs)

    for d in DIRS:
        compare_corpus_dir(rep, tag, d, e, c, pure2, tls13, keyless, have_decrypt)
    if e.get("master_secret") is not None:
        if have_decrypt:
            rep.eq(tag + ".master_secret", e["master_secret"], c.get("master_secret", "missing"))
        else:
            rep.pending(tag + ".master_secret", "master_secret", "needs decrypt")


def compare_corpus_dir(rep, tag, d, e, c, pure2, tls13, keyless, have_decrypt):
    ed = e.get(d) or {}
    od = our_dir(c, d)
    t = "%s.%s." % (tag, d)

    # Handshake types. Our list names an SSLv2-format ClientHello 1; in a
    # whole SSLv2 session it holds the SSLv2 message numbers.
    if pure2:
        full = list(ed.get("sslv2_message_types") or [])
    else:
        full = list(ed.get("handshake_types") or [])
        if d == "c2s" and e.get("sslv2_client_hello"):
            full = [1] + full
    got = c.get(DIR_LIST_FIELD[d])
    if keyless:
        plain, hidden = plaintext_split(d, full, tls13)
        rep.eq(t + "handshake_types", plain, got,
               why="plaintext part of the decrypted list (no decrypt capability)")
        if hidden:
            rep.pending(t + "handshake_types(encrypted)", "handshake_types", "needs decrypt",
                        expected=hidden)
    else:
        rep.eq(t + "handshake_types", full, got)
    if "sslv2_message_types" in ed:
        rep.eq(t + "sslv2_message_types", ed["sslv2_message_types"],
               od.get("sslv2_message_types"))

    # Record counts: the oracle counts wire content types from its own parse
    # of the byte stream (TLS 1.3 protected records count as 23), so they do
    # not depend on decryption and are always compared.
    if ed.get("records") is not None:
        rep.eq(t + "records", records_view(ed["records"]), records_view(od.get("records")))
    if "non_tls_prefix_bytes" in ed:
        rep.eq(t + "non_tls_prefix_bytes", ed["non_tls_prefix_bytes"],
               od.get("non_tls_prefix_bytes"))

    exp_alerts = [{"level": a["level"], "description": a["description"]}
                  for a in ed.get("alerts") or []]
    got_alerts = our_alerts(c, d)
    got_ea = our_encrypted_alerts(c, d)
    got_eh = od.get("encrypted_handshake_records")
    exp_ea = ed.get("encrypted_alerts", 0)
    exp_eh = ed.get("encrypted_handshake_records", 0)
    if not keyless:
        rep.eq(t + "alerts", exp_alerts, got_alerts)
        rep.eq(t + "encrypted_alerts", exp_ea, got_ea)
        rep.eq(t + "encrypted_handshake_records", exp_eh, got_eh)
    else:
        # The expected alert list and encrypted_* counts are tshark's view
        # after decryption. Without keys we see the plaintext alerts, which
        # come first in a direction (once protection starts it never stops),
        # so ours must be a prefix of the expected list.
        rep.ok(t + "alerts(plaintext prefix)", is_prefix(got_alerts, exp_alerts),
               "prefix of %s" % exp_alerts, got_alerts)
        if len(got_alerts) < len(exp_alerts):
            rep.pending(t + "alerts(encrypted)", "alerts", "needs decrypt",
                        expected=exp_alerts[len(got_alerts):])
        plain, hidden = plaintext_split(d, full, tls13)
        if tls13:
            # Without keys a TLS 1.3 protected record's real type is unknown
            # (RFC 8446 5.2: the wire type is always 23), so nothing can be
            # counted as an encrypted alert or handshake record.
            rep.eq(t + "encrypted_alerts", 0, got_ea, why="TLS 1.3 without keys")
            rep.eq(t + "encrypted_handshake_records", 0, got_eh, why="TLS 1.3 without keys")
        else:
            # TLS <= 1.2: alerts keep wire type 21 when encrypted, so the total
            # is invariant; each encrypted handshake record holds at least one
            # of the hidden messages.
            rep.eq(t + "alerts+encrypted_alerts", len(exp_alerts) + exp_ea,
                   len(got_alerts) + (got_ea if isinstance(got_ea, int) else 0))
            if hidden:
                rep.ok(t + "encrypted_handshake_records",
                       isinstance(got_eh, int) and 1 <= got_eh <= len(hidden) + exp_eh,
                       "1..%d" % (len(hidden) + exp_eh), got_eh)
            else:
                rep.eq(t + "encrypted_handshake_records", exp_eh, got_eh)

    exp_app = ed.get("app_data")
    if exp_app is not None or e.get("decrypted"):
        want = None if exp_app is None else {"bytes": exp_app["bytes"],
                                             "sha256": exp_app["sha256"]}
        if have_decrypt:
            rep.eq(t + "app_data", want, our_app_data(c, d))
        elif want is not None:
            rep.pending(t + "app_data", "app_data", "needs decrypt", expected=want)


# ---------------------------------------------------------------------------
# pcaps/manifest.json (our own captures)
# ---------------------------------------------------------------------------

def match_manifest(rep, exp_conns, ours):
    """Match manifest connections by (client_port, server_port); a null
    client_port takes the first unmatched connection on that server port, in
    output (connection id) order."""
    ordered = sorted(ours, key=lambda c: (c.get("id") is None, c.get("id") or 0))
    used = set()
    pairs = []
    for i, e in enumerate(exp_conns):
        idx = e.get("index", i)
        tag = "#%s" % idx
        cand = None
        for c in ordered:
            if id(c) in used or c.get("server_port") != e.get("server_port"):
                continue
            if e.get("client_port") is not None and c.get("client_port") != e["client_port"]:
                continue
            cand = c
            break
        if cand is None:
            rep.fail(tag + ".present", "connection client_port %s server_port %s"
                     % (e.get("client_port"), e.get("server_port")), "missing")
            continue
        used.add(id(cand))
        pairs.append((tag, e, cand))
    for c in ordered:
        if id(c) not in used:
            rep.fail(".extra", None, "connection id %s %s:%s -> %s:%s" % ((c.get("id"),) + conn_key(c)),
                     why="TLS connection not in pcaps/manifest.json")
    return pairs


MANIFEST_SCALARS = ["version", "cipher_suite", "sni", "alpn", "resumed", "hello_retry_request",
                    "extended_master_secret", "encrypt_then_mac", "starttls", "tunnel", "partial"]
# Manifest facts that docs/json-schema.md does not define (yet): compared when
# the output carries the field, else pending.
MANIFEST_UNSCHEMED = ["early_data"]


def compare_resumed_from(rep, pairs, have_decrypt):
    """The manifest names the parent by its manifest index; the output by its
    connection id. TLS 1.3 tickets travel encrypted: keyless, pending."""
    id_of = {e.get("index", i): c.get("id") for i, (_, e, c) in enumerate(pairs)}
    for tag, e, c in pairs:
        if "resumed_from" not in e:
            continue
        want = e["resumed_from"]
        if want is not None and is_tls13(e.get("version")) and not have_decrypt:
            rep.pending(tag + ".resumed_from", "resumed_from", "needs decrypt (TLS 1.3 ticket)",
                        want)
            continue
        if "resumed_from" not in c:
            rep.fail(tag + ".resumed_from", want, "field missing")
            continue
        exp = None if want is None else id_of.get(want, "manifest index %s unmatched" % want)
        rep.eq(tag + ".resumed_from", exp, c["resumed_from"])


def compare_manifest(rep, entry, ours, caps):
    have_decrypt = "decrypt" in caps
    pairs = match_manifest(rep, entry.get("connections") or [], ours)
    compare_resumed_from(rep, pairs, have_decrypt)
    for tag, e, c in pairs:
        if e.get("ip_version") in (4, 6):
            ip = c.get("server_ip") or ""
            rep.eq(tag + ".ip_version", e["ip_version"], 6 if ":" in ip else 4)
        tls13 = is_tls13(e.get("version"))
        for f in MANIFEST_SCALARS:
            if f not in e:
                continue
            if f == "alpn" and tls13 and not have_decrypt and e[f] is not None:
                # Selected ALPN is in EncryptedExtensions (RFC 8446 4.3.1).
                rep.pending(tag + ".alpn", "alpn", "needs decrypt (TLS 1.3)", e[f])
                continue
            if e[f] is None and f in ("extended_master_secret", "encrypt_then_mac", "resumed"):
                continue
            rep.eq(tag + "." + f, e[f], c.get(f))
        for f in MANIFEST_UNSCHEMED:
            if f in e and e[f] is not None:
                if f in c:
                    rep.eq(tag + "." + f, e[f], c[f])
                else:
                    rep.pending(tag + "." + f, f, "not in docs/json-schema.md output", e[f])
        # 0-RTT bytes: accepted ones are in app_data.c2s, rejected ones are not.
        for f in ("early_data_bytes", "early_data_rejected_bytes"):
            if f in e and have_decrypt:
                rep.eq(tag + "." + f, e[f], c.get(f))
        tls13 = is_tls13(e.get("version"))
        for d, side in (("c2s", "client"), ("s2c", "server")):
            lf = DIR_LIST_FIELD[d]
            got = c.get(lf)
            plain = e.get(lf + "_plaintext")
            full = e.get(lf)
            if plain is not None:
                if lf + "_plaintext" in c:
                    rep.eq(tag + "." + lf + "_plaintext", plain, c[lf + "_plaintext"])
                elif have_decrypt:
                    rep.ok(tag + "." + lf + "_plaintext", isinstance(got, list)
                           and is_prefix(plain, got), "prefix of output list: %s" % plain, got)
                else:
                    rep.eq(tag + "." + lf + "_plaintext", plain, got)
            if full is not None:
                if have_decrypt:
                    rep.eq(tag + "." + lf, full, got)
                elif plain is None or full != plain:
                    rep.pending(tag + "." + lf, "handshake_types", "needs decrypt", full)
            exp_al = [a for a in e.get("alerts") or [] if a.get("from") == side]
            if "alerts" in e:
                vis = [{"level": a["level"], "description": a["description"]}
                       for a in exp_al if have_decrypt or not a.get("encrypted")]
                got_al = our_alerts(c, d)
                # The generator records an alert whose contents no tool could show it
                # (level/description null, e.g. a server close_notify under a cipher
                # tshark cannot decrypt): any level/description matches there.
                if len(vis) == len(got_al):
                    got_al = [{"level": None if w["level"] is None else g["level"],
                               "description": None if w["description"] is None
                               else g["description"]} for w, g in zip(vis, got_al)]
                rep.eq(tag + "." + d + ".alerts", vis, got_al)
                n_enc = sum(1 for a in exp_al if a.get("encrypted"))
                if not have_decrypt:
                    if tls13:
                        rep.eq(tag + "." + d + ".encrypted_alerts", 0, our_encrypted_alerts(c, d),
                               why="TLS 1.3 without keys")
                        if n_enc:
                            rep.pending(tag + "." + d + ".alerts(encrypted)", "alerts",
                                        "needs decrypt", n_enc)
                    else:
                        rep.eq(tag + "." + d + ".encrypted_alerts", n_enc,
                               our_encrypted_alerts(c, d))
            app = (e.get("app_data") or {}).get(d)
            if app is not None:
                want = {"bytes": app.get("bytes"), "sha256": app.get("sha256")}
                if have_decrypt:
                    got_app = our_app_data(c, d)
                    if got_app is None and want["bytes"] == 0:
                        # Nothing was sent (e.g. a failed handshake): "no application
                        # data decrypted" (null) is the same fact as zero bytes.
                        got_app = {"bytes": 0, "sha256": hashlib.sha256(b"").hexdigest()}
                    rep.eq(tag + "." + d + ".app_data", want, got_app)
                else:
                    rep.pending(tag + "." + d + ".app_data", "app_data", "needs decrypt", want)


def compare_preludes(rep, entry, events):
    """The `starttls` / `tunnel` events (docs/json-schema.md) against the manifest's
    `preludes`: one per expected dialogue, in order, every expected field equal
    (null = the event's field must be null)."""
    want = entry.get("preludes")
    if want is None:
        return
    got = [e for e in events if e.get("type") in ("starttls", "tunnel")]
    rep.eq(".preludes.count", len(want), len(got))
    for i, (w, g) in enumerate(zip(want, got)):
        for k, v in w.items():
            rep.eq(".prelude%d.%s" % (i, k), v, g.get(k, "missing"))
