"""Rewrites a skyload capture file (docs/formats.md) as kcat -P input: key, "\t|K|\t",
value, "\n|D|\n" per record (multi-byte delimiters, since values are binary)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tools"))
from skycapture import records  # noqa: E402

out = sys.stdout.buffer
for _ts, _part, _off, key, _headers, value in records(sys.argv[1], check_crc=False):
    key, value = key or b"", value or b""
    assert b"\t|K|\t" not in key + value and b"\n|D|\n" not in value
    out.write(key + b"\t|K|\t" + value + b"\n|D|\n")
