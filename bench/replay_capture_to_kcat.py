"""Rewrites a skyload capture file (docs/formats.md) as kcat -P input: key, "\t|K|\t",
value, "\n|D|\n" per record (multi-byte delimiters, since values are binary)."""
import struct
import sys

raw = open(sys.argv[1], "rb").read()
assert raw[:8] == b"SKYCAPT\n"
out, pos = sys.stdout.buffer, 12
while pos + 4 <= len(raw):
    (n,) = struct.unpack_from("<I", raw, pos)
    body = raw[pos + 4:pos + 4 + n]
    pos += 8 + n
    p = 20

    def take():
        global p
        (l,) = struct.unpack_from("<I", body, p)
        p += 4
        if l == 0xFFFFFFFF:
            return b""
        v = body[p:p + l]
        p += l
        return v

    key = take()
    (nh,) = struct.unpack_from("<H", body, p)
    p += 2
    for _ in range(2 * nh):
        take()
    value = take()
    assert b"\t|K|\t" not in key + value and b"\n|D|\n" not in value
    out.write(key + b"\t|K|\t" + value + b"\n|D|\n")
