#!/usr/bin/python3
"""Development-time extractor for check_crypto_session (not run by the tests).

Reads one capture of pcaps/ (engineer A's corpus) with `tshark -z follow,tcp,raw`,
splits both directions into TLS records and plaintext handshake messages, and
writes an event script: the hello fields, certificate and ClientKeyExchange the
dissector would report, every plaintext handshake message, ChangeCipherSpec,
and every protected record in wire order; plus the key log lines of that
connection and the manifest's expected app_data length and SHA-256.

usage: extract_session.py NAME [INDEX] > tests/data/crypto/NAME[-INDEX].events
(INDEX: which connection of the capture, default 0)
"""
import json, subprocess, sys

HRR_RANDOM = bytes.fromhex('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c')


def follow(pcap, stream):
    out = subprocess.run(['tshark', '-r', pcap, '-q', '-z', 'follow,tcp,raw,%d' % stream],
                         capture_output=True, text=True, check=True).stdout
    chunks = []
    started = False
    for line in out.splitlines():
        if line.startswith('Node 1:'):
            started = True
            continue
        if not started or line.startswith('====') or not line.strip():
            continue
        d = 1 if line.startswith('\t') else 0
        chunks.append((d, bytes.fromhex(line.strip())))
    return chunks


def exts(b):
    out = {}
    i = 0
    while i + 4 <= len(b):
        t = int.from_bytes(b[i:i + 2], 'big')
        n = int.from_bytes(b[i + 2:i + 4], 'big')
        out[t] = b[i + 4:i + 4 + n]
        i += 4 + n
    return out


def main():
    name = sys.argv[1]
    index = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    raw = name.startswith('raw/')  # pcaps/raw/ (tools/mkrawcaps): one connection each
    if raw:
        man = json.load(open('pcaps/raw/expected.json'))['captures']
        cap = [c for c in man if c['name'] == name[4:]][0]
        cap = dict(cap, file='raw/' + cap['file'],
                   keys={'keylog': 'raw/' + name[4:] + '.keylog'})
        conn = cap
    else:
        man = json.load(open('pcaps/manifest.json'))['captures']
        cap = [c for c in man if c['name'] == name][0]
        conn = cap['connections'][index]
    ev = []
    ev.append('# extracted from pcaps/%s.pcap (connection %d) by '
              'tests/data/crypto/extract_session.py' % (name, index))
    for d in ('c2s', 's2c'):
        ev.append('EXPECT %s %d %s' % (d, conn['app_data'][d]['bytes'], conn['app_data'][d]['sha256']))
    cr = None
    buf = [b'', b'']
    hsbuf = [b'', b'']
    ccs = [False, False]
    tls13 = False  # version 1.3 negotiated (HelloRetryRequest included)
    sh_real = False  # the real ServerHello was seen
    ch_ems = ch_etm = False
    early = False  # the ClientHello offered 0-RTT
    first = True
    for d, data in follow('pcaps/' + cap['file'], index):
        buf[d] += data
        if first and d == 0 and len(buf[0]) >= 3 and buf[0][0] & 0x80 and buf[0][2] == 1:
            # RFC 5246 E.2: SSLv2-compatible CLIENT-HELLO, 2-byte header, no padding
            n = ((buf[0][0] & 0x7f) << 8) | buf[0][1]
            msg, buf[0] = buf[0][2:2 + n], buf[0][2 + n:]
            csl, sidl, chl = (int.from_bytes(msg[i:i + 2], 'big') for i in (3, 5, 7))
            challenge = msg[9 + csl + sidl:9 + csl + sidl + chl]
            cr = bytes(32 - len(challenge)) + challenge
            ev.append('CH2 %s %s' % (challenge.hex(), msg.hex()))
        first = False
        while len(buf[d]) >= 5:
            n = int.from_bytes(buf[d][3:5], 'big')
            if len(buf[d]) < 5 + n:
                break
            rec, buf[d] = buf[d][:5 + n], buf[d][5 + n:]
            typ, ver, frag = rec[0], int.from_bytes(rec[1:3], 'big'), rec[5:]
            if typ == 20:
                ev.append('CCS %d' % d)
                if not tls13:
                    ccs[d] = True
                continue
            # 0-RTT: the client's application_data records before the ServerHello
            protected = ((tls13 and sh_real and typ == 23) or (not tls13 and ccs[d]) or
                         (early and d == 0 and typ == 23 and not sh_real))
            if protected:
                ev.append('REC %d %d %04x %s' % (d, typ, ver, frag.hex()))
                continue
            if typ != 22:
                continue
            hsbuf[d] += frag
            while len(hsbuf[d]) >= 4:
                ml = int.from_bytes(hsbuf[d][1:4], 'big')
                if len(hsbuf[d]) < 4 + ml:
                    break
                msg, hsbuf[d] = hsbuf[d][:4 + ml], hsbuf[d][4 + ml:]
                t, body = msg[0], msg[4:]
                if t == 1:
                    cr = body[2:34]
                    sl = body[34]
                    i = 35 + sl
                    cl = int.from_bytes(body[i:i + 2], 'big')
                    i += 2 + cl
                    i += 1 + body[i]
                    e = exts(body[i + 2:])
                    ch_ems, ch_etm = 23 in e, 22 in e
                    early = 42 in e
                    ev.append('CH %s %d' % (cr.hex(), 1 if 42 in e else 0))
                elif t == 2:
                    ver2 = int.from_bytes(body[0:2], 'big')
                    sr = body[2:34]
                    sl = body[34]
                    i = 35 + sl
                    suite = int.from_bytes(body[i:i + 2], 'big')
                    comp = body[i + 2]
                    e = exts(body[i + 5:])
                    if 43 in e:
                        ver2 = int.from_bytes(e[43][:2], 'big')
                    tls13 = ver2 == 0x0304
                    hrr = sr == HRR_RANDOM
                    ev.append('SH %04x %04x %s %d %d %d %d' % (ver2, suite, sr.hex(), comp,
                              int(ch_ems and 23 in e), int(ch_etm and 22 in e), int(hrr)))
                    sh_real = not hrr
                elif t == 11 and d == 1 and not tls13:
                    i = 3
                    cl = int.from_bytes(body[i:i + 3], 'big')
                    ev.append('CERT %s' % body[i + 3:i + 3 + cl].hex())
                elif t == 16 and d == 0:
                    ev.append('CKE %s' % body.hex())
                ev.append('HS %d %s' % (d, msg.hex()))
    kl = open('pcaps/' + cap['keys']['keylog']).read().splitlines()
    for line in kl:
        if cr is not None and cr.hex() in line.lower():
            ev.append('KL ' + line)
    print('\n'.join(ev))


main()
