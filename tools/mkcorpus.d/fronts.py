"""Cleartext fronts for tools/mkcorpus: STARTTLS peers and proxies on loopback.

A Front listens on the captured port and, for each accepted connection,
speaks the server side of a cleartext prelude (an SMTP/IMAP/POP3/FTP/XMPP/
LDAP/PostgreSQL STARTTLS dialogue as `openssl s_client -starttls` expects
it, or an HTTP CONNECT / SOCKS4a / SOCKS5 proxy), then relays the bytes to
`openssl s_server` on a backend port, unchanged. A Connector is the client
side of a SOCKS proxy for s_client, which cannot speak SOCKS itself: s_client
connects to it, it opens the (captured) proxy connection and relays. Bad
variants refuse the upgrade or the tunnel, or answer garbage. Threads of the
generator process, 127.0.0.1 only; standard library only.
"""

import socket
import struct
import threading

SERVER_NAME = "server.test"
IO_TIMEOUT = 20.0

# s_client's greeting/answer expectations per protocol (OpenSSL 3.0 apps/s_client.c).
XMPP_FEATURES = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                 b"xmlns:stream='http://etherx.jabber.org/streams' id='tlsscope1' "
                 b"from='server.test' version='1.0'><stream:features>"
                 b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
                 b"</stream:features>")
XMPP_PROCEED = b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"

# The banner, upgrade command and go-ahead each capture shows (also the manifest facts).
STARTTLS = {
    "smtp": {"banner": "220 mail.server.test ESMTP tlsscope-peer", "command": "STARTTLS",
             "reply": "220 2.0.0 Ready to start TLS"},
    "imap": {"banner": "* OK [CAPABILITY IMAP4rev1 STARTTLS] tlsscope-peer ready",
             "command": ". STARTTLS", "reply": ". OK Begin TLS negotiation now"},
    "pop3": {"banner": "+OK tlsscope-peer POP3 ready", "command": "STLS",
             "reply": "+OK Begin TLS negotiation"},
    "ftp": {"banner": "220 tlsscope-peer FTP server ready", "command": "AUTH TLS",
            "reply": "234 AUTH TLS successful"},
    "xmpp": {"banner": XMPP_FEATURES.decode()[XMPP_FEATURES.index(b"<stream:stream"):
                                             XMPP_FEATURES.index(b"<stream:features>")],
             "command": "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
             "reply": XMPP_PROCEED.decode()},
    "ldap": {"banner": None, "command": "ExtendedRequest 1.3.6.1.4.1.1466.20037 (messageID 1)",
             "reply": "ExtendedResponse resultCode 0"},
    "postgres": {"banner": None, "command": "SSLRequest", "reply": "S"},
}


class Closed(Exception):
    pass


class Reader:
    """Buffered reads from a socket: lines, up to a marker, exact counts."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b""

    def _more(self):
        b = self.s.recv(65536)
        if not b:
            raise Closed()
        self.buf += b

    def until(self, marker):
        while marker not in self.buf:
            self._more()
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def exact(self, n):
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def line(self):
        return self.until(b"\n")


def relay(a, b, pending_a=b""):
    """Copy a <-> b until both sides are done; FIN is passed on with shutdown."""
    def pump(src, dst, first):
        try:
            if first:
                dst.sendall(first)
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    t = threading.Thread(target=pump, args=(b, a, b""), daemon=True)
    t.start()
    pump(a, b, pending_a)
    t.join(IO_TIMEOUT * 3)


def backend(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    s.settimeout(None)
    return s


def ber_len(n):
    return bytes([n]) if n < 0x80 else bytes([0x81, n])


def ldap_extended_response(msg_id, code):
    # LDAPMessage { messageID, extendedResp [APPLICATION 24] { resultCode, matchedDN "",
    # diagnosticMessage "" } }  (RFC 4511 4.12)
    body = b"\x0a\x01" + bytes([code]) + b"\x04\x00\x04\x00"
    op = b"\x78" + ber_len(len(body)) + body
    mid = b"\x02\x01" + bytes([msg_id])
    return b"\x30" + ber_len(len(mid) + len(op)) + mid + op


def starttls_server(proto, c, refuse=False):
    """Server side of the prelude; returns bytes already read past it (normally none)."""
    r = Reader(c)
    if proto == "smtp":
        c.sendall(b"220 mail.server.test ESMTP tlsscope-peer\r\n")
        r.line()                                   # EHLO
        c.sendall(b"250-mail.server.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
        r.line()                                   # STARTTLS
        c.sendall(b"454 4.7.0 TLS not available due to temporary reason\r\n" if refuse
                  else b"220 2.0.0 Ready to start TLS\r\n")
    elif proto == "imap":
        c.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] tlsscope-peer ready\r\n")
        r.line()                                   # . CAPABILITY
        c.sendall(b"* CAPABILITY IMAP4rev1 STARTTLS\r\n. OK CAPABILITY completed\r\n")
        r.line()                                   # . STARTTLS
        c.sendall(b". NO TLS not available\r\n" if refuse
                  else b". OK Begin TLS negotiation now\r\n")
    elif proto == "pop3":
        c.sendall(b"+OK tlsscope-peer POP3 ready\r\n")
        r.line()                                   # STLS
        c.sendall(b"-ERR not now\r\n" if refuse else b"+OK Begin TLS negotiation\r\n")
    elif proto == "ftp":
        c.sendall(b"220 tlsscope-peer FTP server ready\r\n")
        r.line()                                   # AUTH TLS
        c.sendall(b"534 Policy requires no TLS\r\n" if refuse
                  else b"234 AUTH TLS successful\r\n")
    elif proto == "xmpp":
        r.until(b">")                              # <stream:stream ...>
        c.sendall(XMPP_FEATURES)
        r.until(b"/>")                             # <starttls .../>
        c.sendall(b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>"
                  if refuse else XMPP_PROCEED)
    elif proto == "ldap":
        head = r.exact(2)
        req = r.exact(head[1])
        msg_id = req[2] if req[:2] == b"\x02\x01" else 1
        c.sendall(ldap_extended_response(msg_id, 2 if refuse else 0))
    elif proto == "postgres":
        r.exact(8)                                 # SSLRequest
        c.sendall(b"N" if refuse else b"S")
    else:
        raise ValueError(proto)
    return r.buf


def smtp_plain_client(port, transcript):
    """An SMTP client that never upgrades (against the 'smtp' front in plain mode)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    r = Reader(s)

    def send(b):
        s.sendall(b)
        transcript["c2s"] += b

    def reply():
        while True:
            line = r.line()
            transcript["s2c"] += line
            if line[3:4] != b"-":
                return line
    reply()
    for cmd in (b"EHLO client.test\r\n", b"MAIL FROM:<a@client.test>\r\n",
                b"RCPT TO:<b@server.test>\r\n", b"DATA\r\n",
                b"Subject: cleartext only\r\n\r\nThis session never says STARTTLS.\r\n.\r\n",
                b"QUIT\r\n"):
        send(cmd)
        reply()
    s.close()


def smtp_plain_server(c):
    r = Reader(c)
    c.sendall(b"220 mail.server.test ESMTP tlsscope-peer\r\n")
    r.line()
    c.sendall(b"250-mail.server.test\r\n250 STARTTLS\r\n")
    for answer in (b"250 2.1.0 Ok\r\n", b"250 2.1.5 Ok\r\n", b"354 End data with .\r\n"):
        r.line()
        c.sendall(answer)
    r.until(b"\r\n.\r\n")
    c.sendall(b"250 2.0.0 Ok: queued\r\n")
    r.line()
    c.sendall(b"221 2.0.0 Bye\r\n")


def connect_proxy(c, bport, mode):
    r = Reader(c)
    head = r.until(b"\r\n\r\n")
    first = head.split(b"\r\n", 1)[0].split()
    if mode == "refuse":
        c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 13\r\n\r\nnot allowed.\n")
        return None, b""
    if mode == "garbage":
        c.sendall(b"SSH-2.0-OpenSSH_9.2 this is not an HTTP proxy\r\n\x00\x01\x02")
        return None, b""
    host, port = first[1].rsplit(b":", 1)
    if host != SERVER_NAME.encode() or int(port) != bport:
        raise ValueError("unexpected CONNECT target %r" % first[1])
    c.sendall(b"HTTP/1.1 200 Connection established\r\nProxy-Agent: tlsscope-proxy\r\n\r\n")
    return backend(bport), r.buf


def socks5_proxy(c, bport, mode):
    r = Reader(c)
    ver, n = r.exact(2)
    methods = r.exact(n)
    if mode == "auth" and 2 in methods:
        c.sendall(b"\x05\x02")
        r.exact(1)
        user = r.exact(r.exact(1)[0])
        r.exact(r.exact(1)[0])                    # password, never kept
        c.sendall(b"\x05\x01"[1:] + (b"\x00" if user == b"tlsscope" else b"\x01"))
    else:
        c.sendall(b"\x05\x00")
    hdr = r.exact(4)
    if hdr[3] == 3:
        host = r.exact(r.exact(1)[0]).decode()
    elif hdr[3] == 1:
        host = socket.inet_ntoa(r.exact(4))
    else:
        host = socket.inet_ntop(socket.AF_INET6, r.exact(16))
    port = struct.unpack(">H", r.exact(2))[0]
    if mode == "refuse":
        c.sendall(b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")   # connection refused
        return None, b""
    if host not in (SERVER_NAME, "127.0.0.1") or port != bport:
        raise ValueError("unexpected SOCKS5 target %s:%d" % (host, port))
    c.sendall(b"\x05\x00\x00\x01\x7f\x00\x00\x01" + struct.pack(">H", bport))
    return backend(bport), r.buf


def socks4_proxy(c, bport, mode):
    r = Reader(c)
    head = r.exact(8)
    r.until(b"\x00")                              # USERID
    host = None
    if head[4:7] == b"\x00\x00\x00" and head[7] != 0:
        host = r.until(b"\x00")[:-1].decode()     # SOCKS4a host name
    port = struct.unpack(">H", head[2:4])[0]
    if mode == "refuse":
        c.sendall(b"\x00\x5b" + b"\x00" * 6)
        return None, b""
    if (host or socket.inet_ntoa(head[4:8])) not in (SERVER_NAME, "127.0.0.1") or port != bport:
        raise ValueError("unexpected SOCKS4 target")
    c.sendall(b"\x00\x5a" + head[2:8])
    return backend(bport), r.buf


class Front(threading.Thread):
    """Accepts `naccept` connections on 127.0.0.1:port; prelude, then relay to bport."""

    def __init__(self, kind, proto, port, bport, naccept, mode="ok"):
        super().__init__(daemon=True)
        self.kind, self.proto, self.port, self.bport = kind, proto, port, bport
        self.naccept, self.mode = naccept, mode
        self.error = None
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", port))
        self.ls.listen(4)
        self.ls.settimeout(IO_TIMEOUT * 3)

    def run(self):
        try:
            for _ in range(self.naccept):
                c, _ = self.ls.accept()
                c.settimeout(IO_TIMEOUT)
                try:
                    self.one(c)
                finally:
                    c.close()
        except (OSError, Closed, ValueError) as e:
            self.error = "%s front (%s): %s" % (self.proto, self.mode, e)
        finally:
            self.ls.close()

    def one(self, c):
        if self.kind == "starttls":
            if self.mode == "plain":
                smtp_plain_server(c)
                return
            rest = starttls_server(self.proto, c, refuse=self.mode == "refuse")
            if self.mode == "refuse":
                c.settimeout(2.0)
                try:
                    while c.recv(65536):           # whatever the client tries next
                        pass
                except OSError:
                    pass
                return
            b = backend(self.bport)
        else:
            fn = {"connect": connect_proxy, "socks5": socks5_proxy, "socks4": socks4_proxy}
            b, rest = fn[self.proto](c, self.bport, self.mode)
            if b is None:
                c.settimeout(2.0)
                try:
                    while c.recv(65536):
                        pass
                except OSError:
                    pass
                return
        c.settimeout(None)
        try:
            relay(c, b, rest)
        finally:
            b.close()

    def finish(self, timeout=30):
        self.join(timeout)
        try:
            self.ls.close()
        except OSError:
            pass
        return self.error


class Connector(threading.Thread):
    """SOCKS client side for s_client: listens on cport, tunnels to bport via the proxy."""

    def __init__(self, proto, cport, pport, bport, mode="ok"):
        super().__init__(daemon=True)
        self.proto, self.pport, self.bport, self.mode = proto, pport, bport, mode
        self.error = None
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", cport))
        self.ls.listen(1)
        self.ls.settimeout(IO_TIMEOUT * 3)

    def handshake(self, p):
        r = Reader(p)
        host = SERVER_NAME.encode()
        if self.proto == "socks5":
            auth = self.mode == "auth"
            p.sendall(b"\x05\x02\x00\x02" if auth else b"\x05\x01\x00")
            method = r.exact(2)[1]
            if method == 2:
                p.sendall(b"\x01\x08tlsscope\x06secret")
                if r.exact(2)[1] != 0:
                    return False
            p.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host
                      + struct.pack(">H", self.bport))
            rep = r.exact(4)
            r.exact({1: 4, 4: 16}.get(rep[3], 0) + 2)
            return rep[1] == 0
        # SOCKS4a: DSTIP 0.0.0.1, USERID, host name
        p.sendall(b"\x04\x01" + struct.pack(">H", self.bport) + b"\x00\x00\x00\x01"
                  + b"tlsscope\x00" + host + b"\x00")
        return r.exact(8)[1] == 0x5a

    def run(self):
        try:
            c, _ = self.ls.accept()
            p = socket.create_connection(("127.0.0.1", self.pport), timeout=IO_TIMEOUT)
            try:
                if self.handshake(p):
                    c.settimeout(None)
                    p.settimeout(None)
                    relay(c, p)
            finally:
                p.close()
                c.close()
        except (OSError, Closed) as e:
            self.error = "%s connector: %s" % (self.proto, e)
        finally:
            self.ls.close()

    def finish(self, timeout=30):
        self.join(timeout)
        try:
            self.ls.close()
        except OSError:
            pass
        return self.error
