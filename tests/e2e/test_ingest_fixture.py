#!/usr/bin/env python3
"""Fixture for the ingest e2e tests (tests/e2e/test_ingest_*.sh).

produce: publish known FlightData records (skyload headers; optionally a
duplicate, a reordered pair, a malformed record, garbage bytes and records
without skyload headers) and print what a correct pipeline must store (JSON).
check: compare PostgreSQL and Tile38 with one or more of those JSON files:
0 lost, 0 duplicate rows, every flight's Tile38 position its latest.
The FlightData encoding is written by hand (proto3 wire format) so the
fixture needs nothing but kafka-python.

scenario: the fault tests' whole run (phases of records around a fault, the
ingest processes, the checks); each tests/e2e/test_ingest_<fault>.sh calls it.
"""
import argparse
import os
import re
import signal
import urllib.request
import json
import socket
import struct
import subprocess
import sys
import threading
import time


def varint(n):
    n &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def fbytes(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b


def encode(fid, lat, lon, alt, spd, ts, meta=True):
    loc = varint(1 << 3 | 1) + struct.pack("<d", lat) + varint(2 << 3 | 1) + struct.pack("<d", lon)
    out = fbytes(1, fid.encode()) + fbytes(2, loc)
    out += varint(3 << 3) + varint(alt) + varint(4 << 3) + varint(spd)
    out += fbytes(5, ts.encode())
    if meta:
        md = fbytes(1, b"TST") + fbytes(2, b"TS1") + fbytes(3, b"EGLL") + fbytes(4, b"KJFK")
        out += fbytes(6, md)
    return out


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def position(f, seq):
    lat = -60 + ((f * 7 + seq) % 120) + 0.1234567
    lon = -170 + ((f * 13 + seq) % 340) + 0.7654321
    return lat, lon, 1000 + seq * 10, 100 + f % 400


def produce(a, out=sys.stdout):
    from kafka import KafkaProducer

    p = KafkaProducer(bootstrap_servers=a.brokers, acks="all", linger_ms=5,
                      max_in_flight_requests_per_connection=1, retries=10)
    exp = {"rows": 0, "dlq": 0, "flights": {}}
    sends = []  # (key, value, headers, expected entry or None)

    def rec(f, seq, lat=None):
        fid = "%s%04d" % (a.prefix, f)
        la, lo, alt, spd = position(f, seq)
        if lat is not None:
            la = lat
        ts = a.base_ms + seq * 5000
        hdrs = [("skyload-run", b"e2e"), ("skyload-seq", str(seq).encode()),
                ("skyload-intended", str(ts * 1000000).encode())]
        return fid, encode(fid, la, lo, alt, spd, iso(ts)), hdrs, (fid, seq, la, lo, ts)

    for f in range(a.flights):
        order = list(range(a.from_seq, a.to_seq))
        if a.faults and f == 1:  # reorder: seq+3 before seq+2
            order[2], order[3] = order[3], order[2]
        for seq in order:
            if a.faults and f == 2 and seq == a.from_seq + 4:
                fid, val, hdrs, _ = rec(f, seq, lat=123.4)
                sends.append((fid, val, hdrs, None))
                continue
            sends.append(rec(f, seq))
            if a.faults and f == 0 and seq == a.from_seq + 1:  # duplicate
                sends.append(rec(f, seq))
    if a.faults:
        sends.append(("GARBAGE", b"\xff\xff\xff\x01", [("skyload-seq", b"0")], None))
        for x in range(a.headerless):
            fid = "%sX%02d" % (a.prefix, x)
            for k in range(3):
                ts = a.base_ms + k * 5000 + a.from_seq * 5000
                la, lo = 10.5 + x + k / 10, 20.25 + x
                sends.append((fid, encode(fid, la, lo, 500, 200, iso(ts), meta=False), [],
                              (fid, None, la, lo, ts)))
    seen = set()
    for key, val, hdrs, e in sends:
        p.send(a.topic, key=key.encode(), value=val, headers=hdrs)
        if e is None:
            exp["dlq"] += 1
            continue
        fid, seq, la, lo, ts = e
        fl = exp["flights"].setdefault(fid, {"seqs": [], "ts": []})
        if (fid, ts) not in seen:
            seen.add((fid, ts))
            exp["rows"] += 1
            (fl["seqs"] if seq is not None else fl["ts"]).append(seq if seq is not None else ts)
        last = fl.get("final")
        if last is None or (seq if seq is not None else ts) > last["order"]:
            fl["final"] = {"order": seq if seq is not None else ts, "seq": seq, "lat": la,
                           "lon": lo, "ts": ts}
    p.flush(60)
    p.close()
    json.dump(exp, out)


def merge(files):
    tot = {"rows": 0, "dlq": 0, "flights": {}}
    for path in files:
        e = json.load(open(path))
        tot["dlq"] += e["dlq"]
        for fid, fl in e["flights"].items():
            t = tot["flights"].setdefault(fid, {"seqs": [], "ts": [], "final": None})
            t["seqs"] = sorted(set(t["seqs"]) | set(fl["seqs"]))
            t["ts"] = sorted(set(t["ts"]) | set(fl["ts"]))
            if t["final"] is None or fl["final"]["order"] > t["final"]["order"]:
                t["final"] = fl["final"]
    tot["rows"] = sum(len(t["seqs"]) + len(t["ts"]) for t in tot["flights"].values())
    return tot


def psql(sql):
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1",
                          "-c", sql], check=True, capture_output=True, text=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


def tile38_get(addr, collection, fid):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=5)

    def cmd(*args):
        req = "*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(x.encode()), x) for x in args)
        s.sendall(req.encode())
        f = s.makefile("rb")
        line = f.readline()
        assert line[:1] == b"$", line
        n = int(line[1:])
        return json.loads(f.read(n + 2)[:n])

    cmd("OUTPUT", "json")
    r = cmd("GET", collection, fid, "WITHFIELDS", "POINT")
    s.close()
    return r


def check(a):
    exp = merge(a.expected)
    problems = []
    rows = {}
    for fid, seq, ms in psql("SELECT flight_id, coalesce(seq::text, ''), "
                             "(extract(epoch from time) * 1000)::bigint FROM \"%s\".flight_positions"
                             % a.schema):
        rows.setdefault(fid, []).append((int(seq) if seq else None, int(ms)))
    total = sum(len(v) for v in rows.values())
    for fid, fl in exp["flights"].items():
        got = rows.get(fid, [])
        seqs = sorted(s for s, _ in got if s is not None)
        if seqs != fl["seqs"]:
            lost = sorted(set(fl["seqs"]) - set(seqs))
            dup = sorted({s for s in seqs if seqs.count(s) > 1})
            problems.append("%s: PostgreSQL seqs lost %s duplicated %s" % (fid, lost[:10], dup[:10]))
        ts = sorted(t for s, t in got if s is None)
        if ts != fl["ts"]:
            problems.append("%s: header-less rows %s, expected %s" % (fid, ts, fl["ts"]))
        if a.tile38 == "none":  # a PostgreSQL-only run (ingest --tile38 none)
            continue
        r = tile38_get(a.tile38, a.collection, fid)
        fin = fl["final"]
        if not r.get("ok"):
            problems.append("%s: not in Tile38 (%s)" % (fid, r.get("err")))
            continue
        pt, fields = r["point"], r.get("fields", {})
        if abs(pt["lat"] - fin["lat"]) > 1e-6 or abs(pt["lon"] - fin["lon"]) > 1e-6 or \
                (fin["seq"] is not None and fields.get("seq") != fin["seq"]) or \
                fields.get("ts") != fin["ts"]:
            problems.append("%s: Tile38 has %s %s, latest is %s" % (fid, pt, fields, fin))
    summary = {"pg_rows": total, "expected_rows": exp["rows"], "flights": len(exp["flights"]),
               "problems": len(problems)}
    print(json.dumps(summary))
    for p in problems[:20]:
        print("  " + p, file=sys.stderr)
    return 0 if not problems and total == exp["rows"] else 1


class Ingest:
    """One `skyload ingest` process of the scenario."""

    def __init__(self, a, log_path):
        self.a, self.log_path = a, log_path
        cmd = [a.skyload, "ingest", "-b", a.brokers, "-t", a.name, "-g", a.name,
               "--tile38", a.tile38, "--pg", a.pg, "--schema", a.name, "--collection", a.name,
               "--init-schema", "--batch-rows", "50", "--batch-ms", "100",
               "--metrics", "127.0.0.1:0", "--stats", log_path + ".stats.json",
               "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]
        self.log = open(log_path, "ab")
        self.p = subprocess.Popen(cmd, stderr=self.log, stdout=self.log)

    def metrics(self):
        m = None
        for _ in range(50):
            m = re.search(r"metrics on http://127.0.0.1:(\d+)/metrics", open(self.log_path).read())
            if m:
                break
            time.sleep(0.1)
        if not m:
            return ""
        return urllib.request.urlopen("http://127.0.0.1:%s/metrics" % m.group(1), timeout=5).read().decode()

    def rss_kb(self):
        for line in open("/proc/%d/status" % self.p.pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        rc = self.p.wait(timeout)
        self.log.close()
        return rc


def log(msg):
    print("[scenario] " + msg, file=sys.stderr, flush=True)


def fail(msg, logs=()):
    for path in logs:
        print("---- %s" % path, file=sys.stderr)
        print(open(path).read()[-4000:], file=sys.stderr)
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def pg_rows(schema):
    try:
        return int(psql('SELECT count(*) FROM "%s".flight_positions' % schema)[0][0])
    except (subprocess.CalledProcessError, IndexError, ValueError):
        return -1


def stack(*args):
    log("stack " + " ".join(args))
    subprocess.run([os.path.join(os.environ["SKY_SOURCE_DIR"], "deploy/local/stack")] + list(args),
                   check=True, stdout=sys.stderr, timeout=300)


def wait_for(what, cond, timeout, logs=()):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.25)
    fail("timed out after %ds waiting for %s" % (timeout, what), logs)


def mid_stream(schema, stored_before):
    """Returns as soon as ingest has stored part of the phase being produced."""
    end = time.time() + 30
    while time.time() < end and pg_rows(schema) <= stored_before:
        time.sleep(0.02)


def scenario(a):
    work = a.work
    phases = []
    base_ms = int(time.time()) * 1000 - 3600 * 1000

    def phase(n, lo, hi):
        path = os.path.join(work, "exp%d.json" % n)
        args = argparse.Namespace(brokers=a.brokers, topic=a.name, prefix=a.name + "_F",
                                  flights=a.flights, from_seq=lo, to_seq=hi, base_ms=base_ms,
                                  faults=True, headerless=2)
        with open(path, "w") as out:
            produce(args, out)
        phases.append(path)
        log("phase %d: seq %d..%d produced" % (n, lo, hi - 1))

    def expected_rows():
        return merge(phases)["rows"]

    logs = [os.path.join(work, "ingest1.log")]
    procs = [Ingest(a, logs[0])]
    phase(1, 0, 10)
    wait_for("phase 1 stored", lambda: pg_rows(a.name) == expected_rows(), 60, logs)
    rss_before = procs[0].rss_kb()

    if a.fault in ("pg", "tile38"):
        stack("kill" if a.fault == "tile38" else "stop", a.fault)
        try:
            phase(2, 10, 110)
            wait_for("partitions paused while %s is down" % a.fault,
                     lambda: "skyload_ingest_paused 1" in procs[0].metrics(), 30, logs)
            time.sleep(3)  # a few backoff rounds
            if procs[0].p.poll() is not None:
                fail("ingest exited while %s was down" % a.fault, logs)
            rss = procs[0].rss_kb()
            if rss - rss_before > 64 * 1024:
                fail("memory grew by %d kB while %s was down" % (rss - rss_before, a.fault))
        finally:
            stack("start", a.fault)
        wait_for("partitions resumed", lambda: "skyload_ingest_paused 0" in procs[0].metrics(),
                 60, logs)
    elif a.fault == "kafka":
        stack("stop", "kafka")
        try:
            time.sleep(3)
            if procs[0].p.poll() is not None:
                fail("ingest exited while Kafka was down", logs)
        finally:
            stack("start", "kafka")
        phase(2, 10, 110)
    elif a.fault == "kill9":
        t = threading.Thread(target=phase, args=(2, 10, 110))
        t.start()
        mid_stream(a.name, expected_rows())  # some batches stored, some not committed
        procs[0].stop(signal.SIGKILL)
        log("ingest killed with SIGKILL at %d rows" % pg_rows(a.name))
        t.join()
        logs.append(os.path.join(work, "ingest2.log"))
        procs[0] = Ingest(a, logs[-1])
    elif a.fault == "sigterm":
        t = threading.Thread(target=phase, args=(2, 10, 110))
        t.start()
        mid_stream(a.name, expected_rows())
        rc = procs[0].stop(signal.SIGTERM, 60)
        log("SIGTERM at %d rows" % pg_rows(a.name))
        t.join()
        if rc != 0:
            fail("ingest exited %d after SIGTERM" % rc, logs)
        st = json.load(open(logs[0] + ".stats.json"))
        if st["consumed"] != st["stored_pg"] + st["duplicates_ignored"] + st["dlq"]:
            fail("SIGTERM left consumed records unstored: %s" % st)
        log("SIGTERM: exit 0, %d consumed, all stored" % st["consumed"])
        logs.append(os.path.join(work, "ingest2.log"))
        procs[0] = Ingest(a, logs[-1])
    elif a.fault == "rebalance":
        logs.append(os.path.join(work, "ingest2.log"))
        procs.append(Ingest(a, logs[-1]))
        time.sleep(2)
        t = threading.Thread(target=phase, args=(2, 10, 110))
        t.start()
        mid_stream(a.name, expected_rows())
        rc = procs[1].stop(signal.SIGTERM, 60)  # revokes: flush + commit before giving up
        log("second ingest stopped at %d rows" % pg_rows(a.name))
        t.join()
        if rc != 0:
            fail("second ingest exited %d after SIGTERM" % rc, logs)
        logs.append(os.path.join(work, "ingest3.log"))
        procs[1] = Ingest(a, logs[-1])
        time.sleep(2)
    phase(3, 110, 120)
    wait_for("every row stored (%d)" % expected_rows(),
             lambda: pg_rows(a.name) == expected_rows(), 120, logs)
    time.sleep(1)  # the batch's Tile38 writes precede its PostgreSQL commit; margin for the last
    for p in procs:
        rc = p.stop()
        if rc != 0:
            fail("ingest exited %d after SIGTERM" % rc, logs)
    a.schema, a.collection, a.expected = a.name, a.name, phases
    if check(a) != 0:
        fail("stored data differs after fault %s" % a.fault, logs)
    log("fault %s: 0 lost, 0 duplicate rows, Tile38 latest for every flight" % a.fault)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("produce")
    p.add_argument("--brokers", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--flights", type=int, default=20)
    p.add_argument("--from-seq", type=int, default=0)
    p.add_argument("--to-seq", type=int, default=10)
    p.add_argument("--base-ms", type=int, required=True)
    p.add_argument("--faults", action="store_true")
    p.add_argument("--headerless", type=int, default=2)
    c = sub.add_parser("check")
    c.add_argument("--schema", required=True)
    c.add_argument("--collection", required=True)
    c.add_argument("--tile38", required=True)
    c.add_argument("expected", nargs="+")
    sc = sub.add_parser("scenario")
    sc.add_argument("--fault", required=True,
                    choices=["none", "pg", "tile38", "kafka", "kill9", "sigterm", "rebalance"])
    sc.add_argument("--skyload", required=True)
    sc.add_argument("--brokers", required=True)
    sc.add_argument("--tile38", required=True)
    sc.add_argument("--pg", required=True)
    sc.add_argument("--name", required=True)
    sc.add_argument("--work", required=True)
    sc.add_argument("--flights", type=int, default=30)
    a = ap.parse_args()
    if a.cmd == "scenario":
        return scenario(a)
    if a.cmd == "produce":
        produce(a)
        return 0
    return check(a)


if __name__ == "__main__":
    sys.exit(main())
