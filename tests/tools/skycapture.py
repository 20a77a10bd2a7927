"""Reads skyload capture files (docs/formats.md, "Capture files"): the one Python reader
the tests and bench scripts share. Plain or gzip; version 2 records are checked against
their CRC-32C.

    from skycapture import records
    for ts_ms, partition, offset, key, headers, value in records("flights.skc"):
        ...   # headers: [(name, value)], a missing key or value is None
"""
import gzip
import struct

MAGIC = b"SKYCAPT\n"

_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def records(path, check_crc=True):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    assert raw[:8] == MAGIC, "%s: not a capture file" % path
    version = struct.unpack_from("<H", raw, 8)[0]
    pos = 12
    while pos + 4 <= len(raw):
        (n,) = struct.unpack_from("<I", raw, pos)
        body = raw[pos + 4:pos + 4 + n]
        if len(body) < n or pos + 8 + n > len(raw):
            return  # a cut last record (a recorder killed mid-write) is not a record
        if check_crc and version >= 2:
            (crc,) = struct.unpack_from("<I", raw, pos + 4 + n)
            assert crc32c(body) == crc, "%s: CRC of the record at byte %d" % (path, pos)
        pos += 8 + n
        ts, part, off = struct.unpack_from("<qiq", body, 0)
        p = 20

        def take():
            nonlocal p
            (length,) = struct.unpack_from("<I", body, p)
            p += 4
            if length == 0xFFFFFFFF:
                return None
            v = body[p:p + length]
            p += length
            return v

        key = take()
        (nh,) = struct.unpack_from("<H", body, p)
        p += 2
        headers = [(take(), take()) for _ in range(nh)]
        yield ts, part, off, key, headers, take()
