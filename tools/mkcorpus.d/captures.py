"""Capture definitions for tools/mkcorpus.

Each capture: name, description, client/server stack ('openssl' | 'gnutls'),
extra arguments, and its connections.  A connection is a list of steps:
  ("send", bytes)   client sends these bytes (via its stdin)
  ("cmd", b"k\\n")   an s_client command letter (consumed, not sent)
  ("reply", bytes)  once the server has all client bytes so far, it sends these
                    (gnutls-serv --echo sends the client's bytes back instead)
"""

import fronts

SECLEVEL0 = "@SECLEVEL=0"

# GnuTLS priority helpers
G12 = "NORMAL:-VERS-ALL:+VERS-TLS1.2"


def captures(payload, psk_hex):
    caps = []

    def conn(name, i=0, c2s=1200, s2c=2100, **kw):
        c = {"steps": [("send", payload("%s/c2s/%d" % (name, i), c2s)),
                       ("reply", payload("%s/s2c/%d" % (name, i), s2c))]}
        c.update(kw)
        return c

    def add(name, description, client="openssl", server="openssl", nconn=1, **kw):
        cap = {"name": name, "description": description, "client": client, "server": server,
               "alpn": "http/1.1"}
        cap.update(kw)
        if "connections" not in cap:
            cap["connections"] = [conn(name, i) for i in range(nconn)]
        caps.append(cap)

    def ossl12(name, desc, cipher, version="-tls1_2", **kw):
        legacy = kw.pop("legacy", False)
        args = [version, "-cipher", cipher + ":" + SECLEVEL0]
        add(name, desc, client_args=list(args), server_args=list(args), legacy=legacy, **kw)

    # ---- RSA key exchange, CBC / AEAD / other bulk ciphers (OpenSSL <-> OpenSSL)
    ossl12("tls10-rsa-aes128-cbc-sha", "TLS 1.0, RSA key exchange, AES-128-CBC, HMAC-SHA1 "
           "(MAC-then-encrypt forced with -no_etm; 1.0 uses an implicit IV)", "AES128-SHA",
           version="-tls1", rsa_kx=True, expect={"version": 0x0301, "encrypt_then_mac": False})
    caps[-1]["client_args"].append("-no_etm")
    ossl12("tls11-rsa-aes256-cbc-sha", "TLS 1.1, RSA key exchange, AES-256-CBC, HMAC-SHA1 "
           "(explicit IV, encrypt-then-MAC negotiated)", "AES256-SHA", version="-tls1_1",
           rsa_kx=True, expect={"version": 0x0302, "encrypt_then_mac": True})
    ossl12("tls12-rsa-aes128-cbc-sha", "TLS 1.2, RSA key exchange, AES-128-CBC, HMAC-SHA1, "
           "encrypt-then-MAC and extended master secret on (OpenSSL defaults)", "AES128-SHA",
           rsa_kx=True, expect={"encrypt_then_mac": True, "extended_master_secret": True})
    ossl12("tls12-rsa-aes128-cbc-sha-no-etm", "TLS 1.2, RSA, AES-128-CBC-SHA with "
           "encrypt-then-MAC off (client -no_etm): classic MAC-then-encrypt", "AES128-SHA",
           rsa_kx=True, expect={"encrypt_then_mac": False})
    caps[-1]["client_args"].append("-no_etm")
    ossl12("tls12-rsa-aes128-cbc-sha256", "TLS 1.2, RSA, AES-128-CBC with HMAC-SHA256",
           "AES128-SHA256", rsa_kx=True)
    ossl12("tls12-rsa-aes256-cbc-sha256", "TLS 1.2, RSA, AES-256-CBC with HMAC-SHA256",
           "AES256-SHA256", rsa_kx=True)
    ossl12("tls12-rsa-aes128-gcm-sha256", "TLS 1.2, RSA, AES-128-GCM", "AES128-GCM-SHA256",
           rsa_kx=True)
    ossl12("tls12-rsa-aes256-gcm-sha384", "TLS 1.2, RSA, AES-256-GCM (SHA-384 PRF)",
           "AES256-GCM-SHA384", rsa_kx=True)
    ossl12("tls12-rsa-aes128-ccm", "TLS 1.2, RSA, AES-128-CCM (16-byte tag)", "AES128-CCM",
           rsa_kx=True)
    ossl12("tls12-rsa-aes128-ccm8", "TLS 1.2, RSA, AES-128-CCM-8 (8-byte tag)", "AES128-CCM8",
           rsa_kx=True)
    ossl12("tls12-rsa-camellia128-cbc-sha", "TLS 1.2, RSA, Camellia-128-CBC, HMAC-SHA1",
           "CAMELLIA128-SHA", rsa_kx=True)
    ossl12("tls12-rsa-camellia256-cbc-sha256", "TLS 1.2, RSA, Camellia-256-CBC, HMAC-SHA256",
           "CAMELLIA256-SHA256", rsa_kx=True)
    ossl12("tls12-rsa-aria128-gcm-sha256", "TLS 1.2, RSA, ARIA-128-GCM", "ARIA128-GCM-SHA256",
           rsa_kx=True, tshark_cannot_decrypt="tshark 4.0.17 cannot decrypt ARIA (no ARIA in "
           "its libgcrypt); facts from the OpenSSL trace, application bytes verified by the "
           "stacks (server stdout and client stdout compared with what was sent)")
    ossl12("tls12-rsa-null-sha256", "TLS 1.2, RSA, NULL cipher with HMAC-SHA256 (application "
           "data in clear, needs @SECLEVEL=0)", "NULL-SHA256", rsa_kx=True,
           null_cipher=True)
    # 3DES and RC4 are not available in Debian's OpenSSL 3.0 build: GnuTLS on both sides
    add("tls12-rsa-3des-ede-cbc-sha", "TLS 1.2, RSA, 3DES-EDE-CBC, HMAC-SHA1 (GnuTLS both "
        "sides: Debian's OpenSSL 3.0 has no 3DES suites)", client="gnutls", server="gnutls",
        client_priority=G12 + ":-KX-ALL:+RSA:-CIPHER-ALL:+3DES-CBC:-MAC-ALL:+SHA1",
        server_priority=G12 + ":-KX-ALL:+RSA:-CIPHER-ALL:+3DES-CBC:-MAC-ALL:+SHA1",
        rsa_kx=True)
    add("tls12-rsa-rc4-128-sha", "TLS 1.2, RSA, RC4-128, HMAC-SHA1 (GnuTLS both sides: no RC4 "
        "in Debian's OpenSSL 3.0)", client="gnutls", server="gnutls",
        client_priority=G12 + ":-KX-ALL:+RSA:-CIPHER-ALL:+ARCFOUR-128:-MAC-ALL:+SHA1",
        server_priority=G12 + ":-KX-ALL:+RSA:-CIPHER-ALL:+ARCFOUR-128:-MAC-ALL:+SHA1",
        rsa_kx=True)
    add("tls10-rsa-rc4-128-md5", "TLS 1.0, RSA, RC4-128, HMAC-MD5 (GnuTLS both sides)",
        client="gnutls", server="gnutls",
        client_priority="NORMAL:-VERS-ALL:+VERS-TLS1.0:-KX-ALL:+RSA:-CIPHER-ALL:+ARCFOUR-128:"
        "-MAC-ALL:+MD5", server_priority="NORMAL:-VERS-ALL:+VERS-TLS1.0:-KX-ALL:+RSA:"
        "-CIPHER-ALL:+ARCFOUR-128:-MAC-ALL:+MD5", rsa_kx=True)

    # ---- forward-secret key exchanges (key log needed)
    ossl12("tls12-ecdhe-rsa-aes128-gcm-sha256", "TLS 1.2, ECDHE-RSA, AES-128-GCM",
           "ECDHE-RSA-AES128-GCM-SHA256")
    ossl12("tls12-ecdhe-ecdsa-aes256-gcm-sha384", "TLS 1.2, ECDHE-ECDSA (P-256 certificate), "
           "AES-256-GCM", "ECDHE-ECDSA-AES256-GCM-SHA384", cert="ecdsa")
    ossl12("tls12-dhe-rsa-aes128-cbc-sha256", "TLS 1.2, finite-field DHE-RSA, AES-128-CBC-SHA256",
           "DHE-RSA-AES128-SHA256")
    ossl12("tls12-ecdhe-rsa-chacha20-poly1305", "TLS 1.2, ECDHE-RSA, ChaCha20-Poly1305",
           "ECDHE-RSA-CHACHA20-POLY1305")
    ossl12("tls12-dhe-rsa-aes256-ccm", "TLS 1.2, DHE-RSA, AES-256-CCM", "DHE-RSA-AES256-CCM")

    # ---- PSK
    ossl12("tls12-psk-aes128-cbc-sha256", "TLS 1.2 plain PSK (no certificate), AES-128-CBC-"
           "SHA256; PSK in the manifest", "PSK-AES128-CBC-SHA256", psk=True)
    ossl12("tls12-psk-aes256-gcm-sha384", "TLS 1.2 plain PSK, AES-256-GCM", "PSK-AES256-GCM-SHA384",
           psk=True)

    # ---- TLS 1.3, all five suites
    for suite, nm in (("TLS_AES_128_GCM_SHA256", "aes128-gcm-sha256"),
                      ("TLS_AES_256_GCM_SHA384", "aes256-gcm-sha384"),
                      ("TLS_CHACHA20_POLY1305_SHA256", "chacha20-poly1305-sha256"),
                      ("TLS_AES_128_CCM_SHA256", "aes128-ccm-sha256"),
                      ("TLS_AES_128_CCM_8_SHA256", "aes128-ccm8-sha256")):
        args = ["-tls1_3", "-ciphersuites", suite]
        add("tls13-" + nm, "TLS 1.3, %s, X25519, RSA certificate" % suite,
            client_args=list(args), server_args=list(args) + ["-num_tickets", "1"])

    # ---- mixed stacks
    add("tls12-gnutls-cli-openssl-ecdhe-ecdsa-chacha20", "TLS 1.2 gnutls-cli -> openssl "
        "s_server, ECDHE-ECDSA-CHACHA20-POLY1305", client="gnutls", cert="ecdsa",
        client_priority=G12 + ":-CIPHER-ALL:+CHACHA20-POLY1305",
        server_args=["-tls1_2"])
    add("tls12-gnutls-cli-openssl-cbc-no-etm", "TLS 1.2 gnutls-cli (%NO_ETM) -> openssl "
        "s_server, ECDHE-RSA-AES128-CBC-SHA1 without encrypt-then-MAC", client="gnutls",
        client_priority=G12 + ":-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA1:%NO_ETM",
        server_args=["-tls1_2"], expect={"encrypt_then_mac": False})
    add("tls12-gnutls-cli-openssl-no-ems", "TLS 1.2 gnutls-cli (%NO_SESSION_HASH) -> openssl "
        "s_server: extended master secret off, ECDHE-RSA-AES128-GCM", client="gnutls",
        client_priority=G12 + ":-CIPHER-ALL:+AES-128-GCM:%NO_SESSION_HASH",
        server_args=["-tls1_2"], expect={"extended_master_secret": False})
    add("tls13-gnutls-cli-openssl-aes256-gcm", "TLS 1.3 gnutls-cli -> openssl s_server, "
        "TLS_AES_256_GCM_SHA384", client="gnutls",
        client_priority="NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM",
        server_args=["-tls1_3", "-num_tickets", "1"])
    add("tls12-openssl-gnutls-serv-ecdhe-cbc-etm", "TLS 1.2 openssl s_client -> gnutls-serv "
        "(echo), ECDHE-RSA-AES256-CBC-SHA with encrypt-then-MAC", server="gnutls",
        server_priority=G12, client_args=["-tls1_2", "-cipher", "ECDHE-RSA-AES256-SHA"],
        expect={"encrypt_then_mac": True})
    add("tls12-openssl-gnutls-serv-camellia128-cbc", "TLS 1.2 openssl s_client -> gnutls-serv "
        "(echo), ECDHE-RSA-CAMELLIA128-SHA256 (CBC; OpenSSL has no Camellia-GCM)",
        server="gnutls", server_priority=G12 + ":+CAMELLIA-128-CBC:+SHA256",
        client_args=["-tls1_2", "-cipher", "ECDHE-RSA-CAMELLIA128-SHA256:" + SECLEVEL0])
    add("tls13-openssl-gnutls-serv-chacha20", "TLS 1.3 openssl s_client -> gnutls-serv (echo), "
        "TLS_CHACHA20_POLY1305_SHA256", server="gnutls",
        server_priority="NORMAL:-VERS-ALL:+VERS-TLS1.3",
        client_args=["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"])
    add("tls12-gnutls-both-ecdhe-aes128-ccm", "TLS 1.2 gnutls-cli -> gnutls-serv, "
        "ECDHE-ECDSA-AES128-CCM", client="gnutls", server="gnutls", cert="ecdsa",
        client_priority=G12 + ":-CIPHER-ALL:+AES-128-CCM", server_priority=G12 + ":+AES-128-CCM")

    # ---- resumption, 0-RTT, HRR
    n = "tls12-resume-session-id"
    add(n, "TLS 1.2 full handshake then session-ID resumption (tickets off) in a second "
        "connection", client_args=["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
        server_args=["-tls1_2", "-no_ticket"],
        connections=[conn(n, 0, client_args=["-no_ticket", "-sess_out", "sess.pem"]),
                     conn(n, 1, client_args=["-no_ticket", "-sess_in", "sess.pem"],
                          resumes=0)])
    n = "tls12-resume-ticket"
    add(n, "TLS 1.2 full handshake (server issues a ticket) then ticket resumption",
        client_args=["-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"],
        server_args=["-tls1_2"],
        connections=[conn(n, 0, client_args=["-sess_out", "sess.pem"]),
                     conn(n, 1, client_args=["-sess_in", "sess.pem"], resumes=0)])
    # RSA key exchange: the server key decrypts the full handshake; the resumed
    # connection has no key exchange and needs the master secret of the first.
    n = "tls12-rsa-resume-session-id"
    ossl12(n, "TLS 1.2, RSA key exchange, AES-128-GCM: full handshake then session-ID "
           "resumption (tickets off); the server key alone decrypts both through the session "
           "cache", "AES128-GCM-SHA256", rsa_kx=True,
           connections=[conn(n, 0, client_args=["-no_ticket", "-sess_out", "sess.pem"]),
                        conn(n, 1, client_args=["-no_ticket", "-sess_in", "sess.pem"],
                             resumes=0)])
    caps[-1]["server_args"].append("-no_ticket")
    n = "tls12-rsa-resume-ticket"
    ossl12(n, "TLS 1.2, RSA key exchange, AES-256-CBC-SHA256 (encrypt-then-MAC): full "
           "handshake (server issues a ticket) then ticket resumption; the server key alone "
           "decrypts both through the session cache", "AES256-SHA256", rsa_kx=True,
           connections=[conn(n, 0, client_args=["-sess_out", "sess.pem"]),
                        conn(n, 1, client_args=["-sess_in", "sess.pem"], resumes=0)])
    n = "tls13-resume-psk"
    add(n, "TLS 1.3 full handshake then PSK (ticket) resumption with psk_dhe_ke",
        client_args=["-tls1_3"], server_args=["-tls1_3", "-num_tickets", "1"],
        connections=[conn(n, 0, client_args=["-sess_out", "sess.pem"]),
                     conn(n, 1, client_args=["-sess_in", "sess.pem"], resumes=0)])
    n = "tls13-early-data"
    early = payload(n + "/early", 300)
    add(n, "TLS 1.3 full handshake, then resumption with 0-RTT early data (300 bytes) "
        "accepted by the server; c2s of connection 1 = early data + normal data",
        client_args=["-tls1_3"],
        server_args=["-tls1_3", "-early_data", "-num_tickets", "1"],
        connections=[conn(n, 0, client_args=["-sess_out", "sess.pem"]),
                     conn(n, 1, client_args=["-sess_in", "sess.pem", "-early_data", "early.bin"],
                          resumes=0, early_data=early, early_file="early.bin")])
    n = "tls13-early-data-rejected"
    early = payload(n + "/early", 300)
    add(n, "TLS 1.3: connection 1 resumes with 0-RTT early data (300 bytes) that the server "
        "accepts; connection 2 replays the same ticket with early data, which the server's "
        "anti-replay protection rejects (full handshake, no early_data in EncryptedExtensions): "
        "its c2s is the normal data only",
        client_args=["-tls1_3"],
        server_args=["-tls1_3", "-early_data", "-num_tickets", "1"],
        connections=[conn(n, 0, client_args=["-sess_out", "sess.pem"]),
                     conn(n, 1, client_args=["-sess_in", "sess.pem", "-early_data", "early.bin"],
                          resumes=0, early_data=early, early_file="early.bin"),
                     conn(n, 2, client_args=["-sess_in", "sess.pem", "-early_data", "early.bin"],
                          early_data=early, early_file="early.bin", early_rejected=True)])
    add("tls13-hello-retry-request", "TLS 1.3: client offers an X25519 key share, server only "
        "accepts P-256, so the server sends a HelloRetryRequest",
        client_args=["-tls1_3", "-groups", "X25519:P-256"],
        server_args=["-tls1_3", "-groups", "P-256", "-num_tickets", "1"],
        expect={"hello_retry_request": True})

    # ---- client auth, renegotiation, key update
    add("tls12-client-auth", "TLS 1.2 ECDHE-RSA with client certificate authentication "
        "(server -Verify 1)", client_auth=True,
        client_args=["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
        server_args=["-tls1_2"], expect={"client_auth": True})
    # TLS 1.2 client CertificateVerify with a hash other than the PRF's (SHA-256 here): the
    # server's CertificateRequest offers only the one scheme (-client_sigalgs).
    for n, desc, scheme, cc, val in (
            ("tls12-client-auth-rsa-pkcs1-sha1", "rsa_pkcs1_sha1", "RSA+SHA1", "rsa", 0x0201),
            ("tls12-client-auth-ecdsa-sha512", "ecdsa_secp521r1_sha512 (a P-256 key)",
             "ECDSA+SHA512", "ecdsa", 0x0603),
            ("tls12-client-auth-rsa-pss-sha384", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha384",
             "rsa", 0x0805)):
        args = ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256:" + SECLEVEL0]
        add(n, "TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256 (SHA-256 PRF) with a client certificate "
            "whose CertificateVerify is signed with %s" % desc, client_auth=True, client_cert=cc,
            client_args=args + ["-client_sigalgs", scheme],
            server_args=args + ["-client_sigalgs", scheme],
            expect={"client_auth": True, "client_cv_scheme": val})
    add("tls13-client-auth", "TLS 1.3 with client certificate authentication", client_auth=True,
        client_args=["-tls1_3"], server_args=["-tls1_3", "-num_tickets", "1"],
        expect={"client_auth": True})
    n = "tls12-renegotiation"
    add(n, "TLS 1.2 client-initiated secure renegotiation (s_client 'R' command) in the middle "
        "of the data; the second handshake is encrypted under the first",
        client_args=["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
        server_args=["-tls1_2", "-client_renegotiation"], expect={"renegotiated": True},
        connections=[{"commands": True, "steps": [
            ("send", payload(n + "/c2s/0a", 700)), ("reply", payload(n + "/s2c/0a", 900)),
            ("cmd", b"R\n"),
            ("send", payload(n + "/c2s/0b", 800)), ("reply", payload(n + "/s2c/0b", 1000))]}])
    n = "tls13-key-update"
    add(n, "TLS 1.3 KeyUpdate: the client sends update_requested (s_client 'K'), the server "
        "answers with its own KeyUpdate; data before and after",
        client_args=["-tls1_3"], server_args=["-tls1_3", "-num_tickets", "1"],
        expect={"key_update": True}, connections=[{"commands": True, "steps": [
            ("send", payload(n + "/c2s/0a", 700)), ("reply", payload(n + "/s2c/0a", 900)),
            ("cmd", b"K\n"),
            ("send", payload(n + "/c2s/0b", 800)), ("reply", payload(n + "/s2c/0b", 1000))]}])

    # ---- failures, size, IPv6
    add("tls12-alert-no-shared-cipher", "TLS 1.2: client offers only AES128-SHA, server only "
        "AES256-SHA: server answers the ClientHello with a fatal handshake_failure alert",
        client_args=["-tls1_2", "-cipher", "AES128-SHA"],
        server_args=["-tls1_2", "-cipher", "AES256-SHA"], expect_fail=True,
        connections=[{"expect_fail": True, "steps": [], "expect_fatal_alert": 40}])
    n = "tls13-bulk-3mb"
    add(n, "TLS 1.3 AES-128-GCM bulk transfer: 64 KiB up, 3 MiB down (many full records, "
        "TCP segments larger than a record)",
        client_args=["-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"],
        server_args=["-tls1_3", "-num_tickets", "1"],
        connections=[conn(n, 0, c2s=65536, s2c=3 * 1024 * 1024)])
    # Bulk TLS 1.2 AEAD: many records per direction, for removing segments
    # (tests/e2e/run_gaps.py): GCM with its explicit nonce, ChaCha20 without one.
    n = "tls12-bulk-aes128-gcm"
    ossl12(n, "TLS 1.2 ECDHE-RSA-AES128-GCM bulk transfer: 64 KiB up, 512 KiB down (many "
           "records; explicit nonce = sequence number)", "ECDHE-RSA-AES128-GCM-SHA256",
           connections=[conn(n, 0, c2s=65536, s2c=512 * 1024)])
    n = "tls12-bulk-chacha20"
    ossl12(n, "TLS 1.2 ECDHE-RSA-CHACHA20-POLY1305 bulk transfer: 64 KiB up, 512 KiB down "
           "(many records; nonce from the sequence number only)", "ECDHE-RSA-CHACHA20-POLY1305",
           connections=[conn(n, 0, c2s=65536, s2c=512 * 1024)])
    add("tls13-ipv6", "TLS 1.3 over IPv6 loopback (::1)", ipv6=True, expect={"ip_version": 6},
        client_args=["-tls1_3"], server_args=["-tls1_3", "-num_tickets", "1"])
    add("tls12-ipv6-no-sni-no-alpn", "TLS 1.2 ECDHE-RSA-AES128-GCM over IPv6 without SNI or "
        "ALPN", ipv6=True, sni=False, alpn=None,
        expect={"ip_version": 6, "sni": None, "alpn": None},
        client_args=["-tls1_2"], server_args=["-tls1_2"])

    # ---- discovery: STARTTLS dialogues and proxy tunnels in front of s_server
    # (tools/mkcorpus.d/fronts.py speaks the cleartext part and relays to s_server on a
    # backend port that is not captured; "backend" below is replaced by that port).
    tshark_decode = {"smtp": "smtp", "imap": "imap", "pop3": "pop", "ftp": "ftp",
                     "xmpp": "xmpp", "ldap": "ldap", "postgres": "pgsql"}
    tls_args = {"smtp": ["-tls1_2"], "imap": ["-tls1_3"], "pop3": ["-tls1_2"],
                "ftp": ["-tls1_3"], "xmpp": ["-tls1_2"], "ldap": ["-tls1_3"],
                "postgres": ["-tls1_2"]}
    for proto in ("smtp", "imap", "pop3", "ftp", "xmpp", "ldap", "postgres"):
        f = fronts.STARTTLS[proto]
        srv = tls_args[proto] + (["-num_tickets", "1"] if "-tls1_3" in tls_args[proto] else [])
        add("starttls-%s" % proto, "%s STARTTLS (s_client -starttls %s against a scripted "
            "peer), then %s" % (proto.upper(), proto,
                                "TLS 1.3" if "-tls1_3" in tls_args[proto] else "TLS 1.2"),
            client_args=list(tls_args[proto]), server_args=srv,
            front={"kind": "starttls", "proto": proto}, decode_as=tshark_decode[proto],
            discovery={"starttls": proto, "tunnel": None, "partial": False},
            preludes=[{"type": "starttls", "protocol": proto, "outcome": "upgraded",
                       "banner": f["banner"], "command": f["command"], "reply": f["reply"]}])
    tunnels = [
        ("tunnel-connect", "connect", "ok", "http", "TLS 1.3 through an HTTP CONNECT proxy "
         "(s_client -proxy)", "CONNECT server.test:backend HTTP/1.0"),
        ("tunnel-socks5", "socks5", "ok", "tls", "TLS 1.3 through a SOCKS5 proxy, no "
         "authentication, target by host name", "CONNECT"),
        ("tunnel-socks5-auth", "socks5", "auth", "tls", "TLS 1.2 through a SOCKS5 proxy with "
         "username/password authentication (RFC 1929)", "CONNECT"),
        ("tunnel-socks4a", "socks4", "ok", "tls", "TLS 1.3 through a SOCKS4a proxy (host name "
         "after DSTIP 0.0.0.1)", "CONNECT (4a)"),
    ]
    # tshark's SOCKS dissector hands the tunnel to TLS without the key log; its TLS
    # dissector on the port skips the SOCKS bytes and decrypts.
    for name, proto, mode, decode, desc, request in tunnels:
        v = ["-tls1_2"] if mode == "auth" else ["-tls1_3"]
        pre = {"type": "tunnel", "tunnel_type": proto, "outcome": "upgraded",
               "host": "server.test", "port": "backend", "request": request}
        if proto == "socks5":
            pre["auth"] = "username" if mode == "auth" else "none"
        add(name, desc, client_args=list(v), server_args=v + (["-num_tickets", "1"]
                                                              if v == ["-tls1_3"] else []),
            front={"kind": "proxy", "proto": proto, "mode": mode}, decode_as=decode,
            discovery={"starttls": None, "partial": False,
                       "tunnel": {"type": proto, "host": "server.test", "port": "backend"}},
            preludes=[pre])

    # ---- discovery, bad input: no TLS follows (no_tls: no TLS connection, the prelude
    # summaries are the facts)
    def no_tls(name, desc, kind, proto, mode, prelude, script=None):
        c = {"expect_fail": True, "steps": []}
        if script:
            c["script"] = script
        add(name, desc, front={"kind": kind, "proto": proto, "mode": mode}, no_tls=True,
            expect_fail=True, connections=[c], preludes=[prelude])
    no_tls("starttls-smtp-no-upgrade", "SMTP session that never says STARTTLS (python client: "
           "EHLO, MAIL, RCPT, DATA, QUIT): cleartext only", "starttls", "smtp", "plain",
           {"type": "starttls", "protocol": "smtp", "outcome": "not_requested",
            "banner": fronts.STARTTLS["smtp"]["banner"], "command": None, "reply": None},
           script="smtp-plain")
    no_tls("starttls-postgres-refused", "PostgreSQL SSLRequest answered 'N' (s_client gives up)",
           "starttls", "postgres", "refuse",
           {"type": "starttls", "protocol": "postgres", "outcome": "refused",
            "command": "SSLRequest", "reply": "N"})
    no_tls("starttls-xmpp-refused", "XMPP <starttls/> answered with <failure/>",
           "starttls", "xmpp", "refuse",
           {"type": "starttls", "protocol": "xmpp", "outcome": "refused",
            "command": fronts.STARTTLS["xmpp"]["command"],
            "reply": "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"})
    no_tls("starttls-ldap-refused", "LDAP StartTLS extended operation answered with "
           "resultCode 2 (protocolError)", "starttls", "ldap", "refuse",
           {"type": "starttls", "protocol": "ldap", "outcome": "refused",
            "command": fronts.STARTTLS["ldap"]["command"],
            "reply": "ExtendedResponse resultCode 2"})
    no_tls("tunnel-connect-refused", "HTTP CONNECT answered 403 Forbidden with a body",
           "proxy", "connect", "refuse",
           {"type": "tunnel", "tunnel_type": "connect", "outcome": "refused",
            "host": "server.test", "port": "backend", "reply": "HTTP/1.1 403 Forbidden"})
    no_tls("tunnel-connect-garbage", "HTTP CONNECT answered with garbage (an SSH banner and "
           "binary bytes)", "proxy", "connect", "garbage",
           {"type": "tunnel", "tunnel_type": "connect", "outcome": "malformed",
            "host": "server.test", "port": "backend", "reply": None})
    no_tls("tunnel-socks5-refused", "SOCKS5 CONNECT answered REP=5 (connection refused)",
           "proxy", "socks5", "refuse",
           {"type": "tunnel", "tunnel_type": "socks5", "outcome": "refused",
            "host": "server.test", "port": "backend", "auth": "none",
            "reply": "connection refused (5)"})
    return caps
