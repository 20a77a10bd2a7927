#!/usr/bin/env python3
"""What each part of ingest's SET costs Tile38: one connection, the same 20,000 ids
updated round after round, each round one pipeline, every shape in turn:

    python3 bench/tile38_set_shapes.py [HOST:PORT] [ROUNDS]

Prints SETs per second per shape (the median round): a bare SET POINT (what
tile38-benchmark sends), + EX, + FIELDs, ingest's own (3 FIELDs + EX, RESP replies),
and the same with JSON replies (OUTPUT json). The client is Python: its share is the
same for every shape, so compare shapes with each other, not with tile38-benchmark.
"""
import socket
import statistics
import sys
import time

N = 20000


def cmd(*args):
    args = [str(x).encode() for x in args]
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in args)


def point(i, r):
    return ["POINT", "%.7f" % (-60 + (i % 12000) * 0.01 + r * 0.001),
            "%.7f" % (-170 + (i // 12000) * 3 + r * 0.002)]


SHAPES = [
    ("SET POINT", False, lambda i, r: point(i, r)),
    ("SET EX POINT", False, lambda i, r: ["EX", 120] + point(i, r)),
    ("SET 1 FIELD POINT", False, lambda i, r: ["FIELD", "seq", r + 1] + point(i, r)),
    ("SET 3 FIELDs POINT", False,
     lambda i, r: ["FIELD", "seq", r + 1, "FIELD", "altitude", 30000 + (r * 100 + i) % 9000,
                   "FIELD", "airspeed", 400 + (r + i) % 100] + point(i, r)),
    ("ingest's SET (3 FIELDs, EX)", False,
     lambda i, r: ["FIELD", "seq", r + 1, "FIELD", "altitude", 30000 + (r * 100 + i) % 9000,
                   "FIELD", "airspeed", 400 + (r + i) % 100, "EX", 120] + point(i, r)),
    ("the same, OUTPUT json", True,
     lambda i, r: ["FIELD", "seq", r + 1, "FIELD", "altitude", 30000 + (r * 100 + i) % 9000,
                   "FIELD", "airspeed", 400 + (r + i) % 100, "EX", 120] + point(i, r)),
]


def run(addr, name, json_out, shape, rounds):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=60)
    f = s.makefile("rb")
    s.sendall(cmd("OUTPUT", "json" if json_out else "resp"))
    f.readline()
    if json_out:
        f.readline()
    key = "tile38_set_shapes"
    rates = []
    for r in range(rounds + 1):
        buf = b"".join(cmd("SET", key, "id%06d" % i, *shape(i, r)) for i in range(N))
        t = time.time()
        s.sendall(buf)
        for _ in range(N):
            line = f.readline()
            if line[:1] == b"$":
                f.readline()
            elif line[:1] == b"-":
                sys.exit("%s: %s" % (name, line.decode().strip()))
        if r:  # round 0 creates the objects
            rates.append(N / (time.time() - t))
    s.sendall(cmd("DROP", key))
    f.readline()
    if json_out:
        f.readline()
    return statistics.median(rates)


def main():
    addr = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9851"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    base = None
    for name, json_out, shape in SHAPES:
        rate = run(addr, name, json_out, shape, rounds)
        base = base or rate
        print("%-30s %9.0f SETs/s  %.2fx the bare SET" % (name, rate, rate / base))


if __name__ == "__main__":
    main()
