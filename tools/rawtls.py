#!/usr/bin/env python3
"""rawtls.py - a minimal TLS 1.2 client for captures no Debian client makes.

tools/mkrawcaps runs it against `openssl s_server -WWW` on loopback while
tcpdump records. It speaks just enough TLS 1.2 (RFC 5246) to fetch one page:

  --hello v2    the ClientHello in SSLv2-compatible format (RFC 5246 E.2) with
                a 16-byte challenge, so the client random is that challenge
                right-aligned in 32 bytes with 16 leading zeros
  --hello tls   an ordinary ClientHello record (no extensions)
  --kex rsa     TLS_RSA_WITH_AES_128_GCM_SHA256 (0x009c): the premaster is
                encrypted to the server certificate's key (PKCS #1 v1.5)
  --kex dhe     TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 (0x009e): finite-field
                Diffie-Hellman with the server's group; the premaster is Z with
                leading zero bytes stripped (RFC 5246 8.1.2)

It checks the server's Finished and every record's GCM tag, and writes an NSS
key log (CLIENT_RANDOM, plus PMS_CLIENT_RANDOM with the premaster) and a JSON
summary (client random, suite, premaster length, the plaintext sent and
received, hex). The ServerKeyExchange signature is not checked: the peer is a
local test server. Primitives: python3-cryptography (AES-GCM, RSA, DH); the PRF
is HMAC-SHA256 from the standard library.
"""

import argparse
import hashlib
import hmac
import json
import os
import socket
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dh, padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SUITES = {"rsa": 0x009C, "dhe": 0x009E}
SCSV = 0x00FF  # TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 3.3)


def prf(secret, label, seed, n):
    """RFC 5246 5: P_SHA256(secret, label + seed)[0..n)."""
    seed = label + seed
    out, a = b"", seed
    while len(out) < n:
        a = hmac.new(secret, a, hashlib.sha256).digest()
        out += hmac.new(secret, a + seed, hashlib.sha256).digest()
    return out[:n]


class Conn:
    def __init__(self, sock):
        self.s = sock
        self.buf = b""
        self.transcript = b""
        self.hs = b""  # handshake bytes not yet split into messages
        self.rkey = None  # (aead, salt) once the server's CCS arrived
        self.rseq = 0
        self.wkey = None
        self.wseq = 0

    def recv_record(self):
        while len(self.buf) < 5 or len(self.buf) < 5 + struct.unpack(">H", self.buf[3:5])[0]:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk
        n = struct.unpack(">H", self.buf[3:5])[0]
        typ, frag, self.buf = self.buf[0], self.buf[5:5 + n], self.buf[5 + n:]
        if self.rkey is not None:
            aead, salt = self.rkey
            # RFC 5288 3: nonce = salt || explicit; aad = seq || type || version || length
            aad = struct.pack(">QBHH", self.rseq, typ, 0x0303, n - 8 - 16)
            frag = aead.decrypt(salt + frag[:8], frag[8:], aad)
            self.rseq += 1
        return typ, frag

    def send_record(self, typ, data):
        if self.wkey is not None:
            aead, salt = self.wkey
            explicit = struct.pack(">Q", self.wseq)
            aad = struct.pack(">QBHH", self.wseq, typ, 0x0303, len(data))
            data = explicit + aead.encrypt(salt + explicit, data, aad)
            self.wseq += 1
        self.s.sendall(struct.pack(">BHH", typ, 0x0303, len(data)) + data)

    def send_handshake(self, typ, body):
        msg = struct.pack(">B", typ) + len(body).to_bytes(3, "big") + body
        self.transcript += msg
        self.send_record(22, msg)

    def next_handshake(self):
        """Next handshake message (type, body); the transcript grows with it."""
        while True:
            if len(self.hs) >= 4:
                ml = int.from_bytes(self.hs[1:4], "big")
                if len(self.hs) >= 4 + ml:
                    msg, self.hs = self.hs[:4 + ml], self.hs[4 + ml:]
                    self.transcript += msg
                    return msg[0], msg[4:]
            typ, frag = self.recv_record()
            if typ == 21:
                raise RuntimeError("alert from the server: %s" % frag.hex())
            if typ != 22:
                raise RuntimeError("unexpected record type %d in the handshake" % typ)
            self.hs += frag


def client_hello_v2(challenge, suite):
    """RFC 5246 E.2: SSLv2-compatible CLIENT-HELLO; returns (record, message for the transcript)."""
    specs = b"".join(b"\x00" + struct.pack(">H", s) for s in (suite, SCSV))
    msg = struct.pack(">BHHHH", 1, 0x0303, len(specs), 0, len(challenge)) + specs + challenge
    # Two-byte header, high bit set: no padding (RFC 6101 E.1 / RFC 5246 E.2).
    return struct.pack(">H", 0x8000 | len(msg)) + msg, msg


def client_hello_tls(random, suite):
    body = struct.pack(">H", 0x0303) + random + b"\x00"  # empty session id
    body += struct.pack(">HHH", 4, suite, SCSV) + b"\x01\x00"  # suites; compression null
    return body


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--connect", required=True, help="host:port")
    ap.add_argument("--hello", choices=("v2", "tls"), default="tls")
    ap.add_argument("--kex", choices=sorted(SUITES), default="rsa")
    ap.add_argument("--path", default="/index.html", help="file to GET from s_server -WWW")
    ap.add_argument("--keylog", required=True)
    ap.add_argument("--summary", required=True, help="JSON output")
    a = ap.parse_args()
    host, port = a.connect.rsplit(":", 1)
    suite = SUITES[a.kex]
    sock = socket.create_connection((host, int(port)), timeout=10)
    c = Conn(sock)

    if a.hello == "v2":
        challenge = os.urandom(16)
        rec, msg = client_hello_v2(challenge, suite)
        c.transcript += msg  # the CLIENT-HELLO body, without the 2-byte header
        sock.sendall(rec)
        client_random = bytes(32 - len(challenge)) + challenge
    else:
        client_random = os.urandom(32)
        c.send_handshake(1, client_hello_tls(client_random, suite))

    t, body = c.next_handshake()
    if t != 2:
        raise RuntimeError("expected ServerHello, got %d" % t)
    server_random = body[2:34]
    sid_len = body[34]
    got_suite = struct.unpack(">H", body[35 + sid_len:37 + sid_len])[0]
    if got_suite != suite:
        raise RuntimeError("server chose suite %04x" % got_suite)
    t, body = c.next_handshake()
    if t != 11:
        raise RuntimeError("expected Certificate, got %d" % t)
    cert_len = int.from_bytes(body[3:6], "big")
    cert = x509.load_der_x509_certificate(body[6:6 + cert_len])
    dh_params = None
    t, body = c.next_handshake()
    if t == 12:
        # RFC 5246 7.4.3: ServerDHParams { dh_p<1..2^16-1>; dh_g<1..2^16-1>; dh_Ys<1..2^16-1> }
        vals, o = [], 0
        for _ in range(3):
            n = struct.unpack(">H", body[o:o + 2])[0]
            vals.append(int.from_bytes(body[o + 2:o + 2 + n], "big"))
            o += 2 + n
        dh_params = vals
        t, body = c.next_handshake()
    if t != 14:
        raise RuntimeError("expected ServerHelloDone, got %d" % t)

    if a.kex == "rsa":
        pms = struct.pack(">H", 0x0303) + os.urandom(46)
        enc = cert.public_key().encrypt(pms, padding.PKCS1v15())
        c.send_handshake(16, struct.pack(">H", len(enc)) + enc)
    else:
        p, g, ys = dh_params
        params = dh.DHParameterNumbers(p, g).parameters()
        priv = params.generate_private_key()
        peer = dh.DHPublicNumbers(ys, params.parameter_numbers()).public_key()
        pms = priv.exchange(peer).lstrip(b"\x00")  # RFC 5246 8.1.2
        yc = priv.public_key().public_numbers().y
        yc_b = yc.to_bytes((yc.bit_length() + 7) // 8, "big")
        c.send_handshake(16, struct.pack(">H", len(yc_b)) + yc_b)

    ms = prf(pms, b"master secret", client_random + server_random, 48)
    kb = prf(ms, b"key expansion", server_random + client_random, 40)
    ckey, skey, civ, siv = kb[0:16], kb[16:32], kb[32:36], kb[36:40]
    c.send_record(20, b"\x01")
    c.wkey = (AESGCM(ckey), civ)
    verify = prf(ms, b"client finished", hashlib.sha256(c.transcript).digest(), 12)
    c.send_handshake(20, verify)
    typ, frag = c.recv_record()
    if typ != 20:
        raise RuntimeError("expected ChangeCipherSpec, got %d" % typ)
    c.rkey = (AESGCM(skey), siv)
    want = prf(ms, b"server finished", hashlib.sha256(c.transcript).digest(), 12)
    t, body = c.next_handshake()
    if t != 20 or body != want:
        raise RuntimeError("server Finished does not verify")

    request = ("GET %s HTTP/1.0\r\nHost: server.test\r\n\r\n" % a.path).encode()
    c.send_record(23, request)
    received = b""
    while True:
        try:
            typ, frag = c.recv_record()
        except EOFError:
            break
        if typ == 23:
            received += frag
        elif typ == 21:
            break  # close_notify
    c.send_record(21, b"\x01\x00")  # close_notify
    sock.close()

    with open(a.keylog, "a") as f:
        f.write("CLIENT_RANDOM %s %s\n" % (client_random.hex(), ms.hex()))
        f.write("PMS_CLIENT_RANDOM %s %s\n" % (client_random.hex(), pms.hex()))
    with open(a.summary, "w") as f:
        json.dump({"hello": a.hello, "kex": a.kex, "cipher_suite": suite,
                   "client_random": client_random.hex(), "premaster_bytes": len(pms),
                   "c2s": request.hex(), "s2c": received.hex()}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
