"""Packet boundaries of pcap and pcapng files, for the truncated-capture checks.

Only the framing is read (file header, per-packet record headers, pcapng block
lengths); packet contents are never interpreted. Every loop is bounded by the
file size and a packet-count cap.
"""

import struct

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<",  # microseconds, little endian
    b"\xa1\xb2\xc3\xd4": ">",  # microseconds, big endian
    b"\x4d\x3c\xb2\xa1": "<",  # nanoseconds, little endian
    b"\xa1\xb2\x3c\x4d": ">",  # nanoseconds, big endian
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
PCAPNG_PACKET_BLOCKS = (0x00000002, 0x00000003, 0x00000006)  # obsolete PB, SPB, EPB
MAX_PACKETS = 10_000_000


class Packet:
    """One packet's place in the file: [start, end) covers header and data."""

    __slots__ = ("number", "start", "data_start", "end")

    def __init__(self, number, start, data_start, end):
        self.number = number
        self.start = start
        self.data_start = data_start
        self.end = end


def packets(data):
    """Return the list of whole packets in a capture file image (bytes).

    Raises ValueError for an unknown format. A damaged tail ends the list.
    """
    magic = data[:4]
    if magic in PCAP_MAGICS:
        return _pcap_packets(data, PCAP_MAGICS[magic])
    if magic == PCAPNG_SHB:
        return _pcapng_packets(data)
    raise ValueError("not a pcap or pcapng file")


def _pcap_packets(data, endian):
    out = []
    off = 24
    hdr = struct.Struct(endian + "IIII")
    while off + 16 <= len(data) and len(out) < MAX_PACKETS:
        _, _, incl_len, _ = hdr.unpack_from(data, off)
        end = off + 16 + incl_len
        if end > len(data):
            break
        out.append(Packet(len(out) + 1, off, off + 16, end))
        off = end
    return out


def _pcapng_packets(data):
    out = []
    off = 0
    endian = "<"
    while off + 12 <= len(data) and len(out) < MAX_PACKETS:
        raw_type = data[off:off + 4]
        if raw_type == PCAPNG_SHB:
            bom = data[off + 8:off + 12]
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
        btype, blen = struct.unpack_from(endian + "II", data, off)
        if blen < 12 or blen % 4 != 0 or off + blen > len(data):
            break
        if btype in PCAPNG_PACKET_BLOCKS:
            out.append(Packet(len(out) + 1, off, off + 8, off + blen))
        off += blen
    return out


def cut_points(pkts, file_size):
    """Pick a few byte offsets that cut a packet in the middle.

    Returns [(offset, whole_packets_before_offset)]: one cut inside a record
    header about 40% into the file, one inside packet data about 70% in, and
    one a few bytes before the end (inside the last packet).
    """
    if len(pkts) < 2:
        return []
    cuts = []
    i40 = max(1, (len(pkts) * 4) // 10)
    p = pkts[i40]
    cuts.append((p.start + min(5, p.data_start - p.start - 1), i40))
    i70 = max(1, (len(pkts) * 7) // 10)
    p = pkts[i70]
    if p.end - p.data_start >= 2:
        cuts.append((p.data_start + (p.end - p.data_start) // 2, i70))
    last = pkts[-1]
    if last.end - last.data_start >= 4 and last.end == file_size:
        cuts.append((last.end - 3, len(pkts) - 1))
    seen = set()
    uniq = []
    for off, whole in cuts:
        if off not in seen:
            seen.add(off)
            uniq.append((off, whole))
    return uniq
