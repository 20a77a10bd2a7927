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

tile38-check, stale-count, doc-queries: the Tile38 sink against a run manifest
(test_ingest_tile38_sink.sh): every flight's object field for field, the records
the topic holds out of order (what ingest must count as stale), and the Tile38
examples of docs/queries.md, each answer compared with the manifest's prediction.
"""
import argparse
import math
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


class Tile38:
    """A RESP connection in JSON output mode (one reply per command, in order)."""

    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=10)
        self.f = self.s.makefile("rb")
        self.cmd("OUTPUT", "json")

    def send(self, *args):
        args = [str(x).encode() for x in args]
        self.s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in args))

    def reply(self):
        line = self.f.readline()
        if line[:1] == b"-":
            return {"ok": False, "err": line[1:].decode().strip()}
        assert line[:1] == b"$", line
        n = int(line[1:])
        return json.loads(self.f.read(n + 2)[:n])

    def cmd(self, *args):
        self.send(*args)
        return self.reply()

    def pipeline(self, cmds):
        for c in cmds:
            self.send(*c)
        return [self.reply() for _ in cmds]


def manifest_flights(path):
    """Every flight with a final position, as Tile38 holds it (7 decimals)."""
    m = json.load(open(path))
    out = {}
    for f in m["flights"]:
        fin = f.get("final")
        if fin:
            out[f["id"]] = dict(fin, lat=round(fin["lat"], 7), lon=round(fin["lon"], 7))
    return m, out


def tile38_check(a):
    m, flights = manifest_flights(a.manifest)
    ttl = m.get("ttl_s") or a.ttl
    t = Tile38(a.tile38)
    ids = sorted(flights)
    cmds = []
    for fid in ids:
        cmds += [("GET", a.collection, fid, "WITHFIELDS"), ("TTL", a.collection, fid)]
    replies = t.pipeline(cmds)
    problems = []
    for k, fid in enumerate(ids):
        got, ttl_reply, fin = replies[2 * k], replies[2 * k + 1], flights[fid]
        problems += compare_object(fid, got, ttl_reply, fin, ttl)
    print(json.dumps({"flights": len(ids), "problems": len(problems)}))
    for p in problems[:20]:
        print("  " + p, file=sys.stderr)
    return 1 if problems or not ids else 0


def compare_object(fid, got, ttl_reply, fin, ttl):
    """Field for field: position, seq, altitude, airspeed (absent = 0; no ts, which only
    records without seq carry), a TTL."""
    if not got.get("ok"):
        return ["%s: GET: %s" % (fid, got.get("err"))]
    coords = got.get("object", {}).get("coordinates", [None, None])
    fields = got.get("fields", {})
    want = {"seq": fin["seq"], "altitude": fin["alt"], "airspeed": fin["speed"], "ts": 0}
    out = []
    if coords[1] is None or abs(coords[1] - fin["lat"]) > 1e-9 or abs(coords[0] - fin["lon"]) > 1e-9:
        out.append("%s: at %s, the manifest's last position is (%s, %s)"
                   % (fid, coords[::-1], fin["lat"], fin["lon"]))
    for k, v in want.items():
        if fields.get(k, 0) != v:
            out.append("%s: field %s = %s, expected %s" % (fid, k, fields.get(k, 0), v))
    left = ttl_reply.get("ttl")
    if not isinstance(left, (int, float)) or not 0 < left <= ttl:
        out.append("%s: TTL %s, expected (0, %s]" % (fid, left, ttl))
    return out


def stale_count(a):
    """Records a correct sink must not apply: per flight, in partition order, a seq not
    above every seq before it (reordered or duplicated), malformed records left out."""
    from kafka import KafkaConsumer, TopicPartition

    m = json.load(open(a.manifest))
    bad = {(f["flight"], f["seq"]) for f in m["faults"] if f["kind"] == "malformed"}
    c = KafkaConsumer(bootstrap_servers=a.brokers, enable_auto_commit=False)
    parts = [TopicPartition(a.topic, p) for p in c.partitions_for_topic(a.topic)]
    c.assign(parts)
    c.seek_to_beginning()
    end, begin = c.end_offsets(parts), c.beginning_offsets(parts)
    top, stale, records = {}, 0, 0
    done = {tp: begin[tp] >= end[tp] for tp in parts}
    deadline = time.time() + 120
    while not all(done.values()) and time.time() < deadline:
        for tp, msgs in c.poll(timeout_ms=1000).items():
            for r in msgs:
                if r.offset >= end[tp]:
                    done[tp] = True
                    continue
                fid, seq = r.key.decode(), int(dict(r.headers)["skyload-seq"])
                if r.offset + 1 >= end[tp]:
                    done[tp] = True
                if (fid, seq) in bad:
                    continue
                records += 1
                if fid in top and seq <= top[fid]:
                    stale += 1
                else:
                    top[fid] = seq
    c.close()
    if not all(done.values()):
        print("topic %s not read to its end in 120 s" % a.topic, file=sys.stderr)
        return 1
    kinds = {}
    for f in m["faults"]:
        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
    print(json.dumps({"records": records, "stale": stale, "duplicates_injected": kinds.get("duplicate", 0),
                      "reorders_injected": kinds.get("reorder", 0)}))
    return 0


def haversine(lat1, lon1, lat2, lon2):
    """Tile38's distance (geojson/geo: haversine, earth radius 6371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 6371e3 * 2 * math.asin(math.sqrt(min(1.0, h)))


def in_polygon(lat, lon, ring):
    """Even-odd rule on the plane (lon = x, lat = y) as Tile38 tests a point; None
    when the point is within 1e-6 degrees of an edge (either answer is right)."""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        dx, dy = x2 - x1, y2 - y1
        t = max(0.0, min(1.0, ((lon - x1) * dx + (lat - y1) * dy) / (dx * dx + dy * dy or 1)))
        if math.hypot(lon - (x1 + t * dx), lat - (y1 + t * dy)) < 1e-6:
            return None
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * dx / dy:
            inside = not inside
    return inside


def predict(words, flights):
    """(sure, maybe, ordered) for one WITHIN / NEARBY / INTERSECTS command: the ids it
    must return, those it may return (on an edge), and for NEARBY LIMIT the order."""
    i, limit, where, area = 2, None, [], None
    while i < len(words):
        w = words[i].upper()
        if w == "LIMIT":
            limit, i = int(words[i + 1]), i + 2
        elif w == "WHERE":
            where.append((words[i + 1], float(words[i + 2]), float(words[i + 3])))
            i += 4
        elif w in ("IDS", "COUNT"):
            i += 1
        elif w in ("BOUNDS", "POINT", "OBJECT"):
            area = (w, words[i + 1:])
            break
        else:
            raise ValueError("predict: option %s not understood" % words[i])
    fieldname = {"altitude": "alt", "airspeed": "speed", "seq": "seq", "ts": "ts_ms"}
    sure, maybe, dist = set(), set(), {}
    for fid, f in flights.items():
        if not all(lo <= f[fieldname[n]] <= hi for n, lo, hi in where):
            continue
        lat, lon = f["lat"], f["lon"]
        kind, args = area
        if kind == "BOUNDS":
            a, b, c, d = (float(x) for x in args[:4])
            edge = min(abs(lat - a), abs(lat - c), abs(lon - b), abs(lon - d)) < 1e-6
            hit = a <= lat <= c and b <= lon <= d
        elif kind == "POINT":
            dist[fid] = haversine(float(args[0]), float(args[1]), lat, lon)
            if len(args) < 3:
                continue
            edge, hit = abs(dist[fid] - float(args[2])) < 1.0, dist[fid] <= float(args[2])
        else:
            ring = json.loads(args[0])["coordinates"][0]
            r = in_polygon(lat, lon, ring)
            edge, hit = r is None, bool(r)
        if edge:
            maybe.add(fid)
        elif hit:
            sure.add(fid)
    ordered = None
    if area[0] == "POINT" and len(area[1]) < 3:
        ordered = sorted(dist, key=dist.get)[:limit or 100]
        near = sorted(dist.values())
        if limit and len(near) > limit and near[limit] - near[limit - 1] < 1.0:
            raise ValueError("predict: two flights equally near: the doc's NEARBY LIMIT is ambiguous")
        sure = set(ordered)
    return sure, maybe, ordered


def doc_queries(a):
    """Runs every line of the ```tile38 block of docs/queries.md (collection renamed,
    <flight_id> filled with each flight) and compares with the manifest."""
    text = open(a.doc).read()
    block = re.search(r"```tile38\n(.*?)```", text, re.S)
    if not block:
        print("%s: no ```tile38 block" % a.doc, file=sys.stderr)
        return 1
    m, flights = manifest_flights(a.manifest)
    t = Tile38(a.tile38)
    problems, ran, hits = [], 0, 0
    for line in block.group(1).splitlines():
        words = line.split()
        if not words:
            continue
        if words[1] != "flights":
            problems.append("doc line %r: the collection is not 'flights'" % line)
            continue
        words[1] = a.collection
        cmd = words[0].upper()
        if "<flight_id>" in words:
            k = words.index("<flight_id>")
            replies = t.pipeline([words[:k] + [fid] + words[k + 1:] for fid in sorted(flights)])
            for fid, r in zip(sorted(flights), replies):
                if cmd == "GET":
                    problems += compare_object(fid, r, {"ttl": 1}, flights[fid], 1)
                elif cmd == "TTL":
                    ttl = m.get("ttl_s") or 120
                    if not (r.get("ok") and 0 < r.get("ttl", -1) <= ttl):
                        problems.append("%s: %s -> %s" % (fid, line, r))
            ran += len(replies)
            continue
        sure, maybe, ordered = predict(words, flights)
        r = t.cmd(*words)
        ran += 1
        if not r.get("ok"):
            problems.append("%s -> %s" % (line, r.get("err")))
            continue
        if "COUNT" in (w.upper() for w in words):
            got_n = r.get("count", -1)
            if not len(sure) <= got_n <= len(sure) + len(maybe):
                problems.append("%s: count %d, the manifest predicts %d (+%d on an edge)"
                                % (line, got_n, len(sure), len(maybe)))
        else:
            got = r.get("ids", [])
            got_n = len(got)
            if r.get("cursor") and "LIMIT" not in (w.upper() for w in words):
                problems.append("%s: more than one page of results: narrow the example" % line)
            if not (sure <= set(got) <= sure | maybe and (ordered is None or got == ordered)):
                problems.append("%s: got %s; the manifest predicts %s (order %s), maybe %s"
                                % (line, sorted(got), sorted(sure), ordered, sorted(maybe)))
        print("  %-72.72s %d (manifest: %d, %d on an edge)" % (line, got_n, len(sure), len(maybe)),
              file=sys.stderr)
        hits += got_n
    print(json.dumps({"commands": ran, "area_hits": hits, "problems": len(problems)}))
    for p in problems[:20]:
        print("  " + p, file=sys.stderr)
    if hits == 0:
        print("no area example of %s matches a flight of this run: pick areas with traffic" % a.doc, file=sys.stderr)
        return 1
    return 1 if problems else 0


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
        if fid in getattr(a, "absent", ()):
            if r.get("ok"):
                problems.append("%s: in Tile38 although Tile38 refused its every SET: %s" % (fid, r))
            continue
        if not r.get("ok"):
            problems.append("%s: not in Tile38 (%s)" % (fid, r.get("err")))
            continue
        pt, fields = r["point"], r.get("fields", {})
        # seq orders a flight; a record without one carries its timestamp instead
        # (Tile38 keeps no zero field: seq 0 shows as absent)
        if abs(pt["lat"] - fin["lat"]) > 1e-6 or abs(pt["lon"] - fin["lon"]) > 1e-6 or \
                (fin["seq"] is not None and fields.get("seq", 0) != fin["seq"]) or \
                fields.get("ts", 0) != (fin["ts"] if fin["seq"] is None else 0):
            problems.append("%s: Tile38 has %s %s, latest is %s" % (fid, pt, fields, fin))
    summary = {"pg_rows": total, "expected_rows": exp["rows"], "flights": len(exp["flights"]),
               "problems": len(problems)}
    print(json.dumps(summary))
    for p in problems[:20]:
        print("  " + p, file=sys.stderr)
    return 0 if not problems and total == exp["rows"] else 1


class Ingest:
    """One `skyload ingest` process of the scenario."""

    def __init__(self, a, log_path, tile38=None):
        self.a, self.log_path = a, log_path
        cmd = [a.skyload, "ingest", "-b", a.brokers, "-t", a.name, "-g", a.name,
               "--tile38", tile38 or a.tile38, "--pg", a.pg, "--schema", a.name, "--collection", a.name,
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

    def metric(self, name):
        """One value of /metrics (0 when the endpoint does not answer)."""
        try:
            text = self.metrics()
        except OSError:
            return 0.0
        m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
        return float(m.group(1)) if m else 0.0

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
    cmd = [os.path.join(os.environ["SKY_SOURCE_DIR"], "deploy/local/stack")] + list(args)
    # `stack start` can take a server still exec'ing for one that exited (its pid's
    # command line is checked a few ms after the fork): a second start sees it running
    for attempt in range(3):
        if subprocess.run(cmd, stdout=sys.stderr, timeout=300).returncode == 0:
            return
        if args[0] != "start":
            break
        time.sleep(1)
    fail("stack %s failed" % " ".join(args))


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


def committed(brokers, group, topic):
    """The group's committed offsets on topic, summed (0 when nothing is committed)."""
    from kafka import KafkaAdminClient

    ad = KafkaAdminClient(bootstrap_servers=brokers)
    try:
        offs = ad.list_consumer_group_offsets(group)
    finally:
        ad.close()
    return sum(v.offset for tp, v in offs.items() if tp.topic == topic and v.offset >= 0)


def topic_end(brokers, topic):
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=brokers)
    try:
        parts = [TopicPartition(topic, p) for p in c.partitions_for_topic(topic)]
        return sum(c.end_offsets(parts).values())
    finally:
        c.close()


def read_topic(brokers, topic):
    """Every record of topic as (key, headers dict); stops at the end offsets."""
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=brokers, enable_auto_commit=False)
    parts = [TopicPartition(topic, p) for p in c.partitions_for_topic(topic)]
    c.assign(parts)
    c.seek_to_beginning()
    end, begin = c.end_offsets(parts), c.beginning_offsets(parts)
    left = sum(end[tp] - begin[tp] for tp in parts)
    out, deadline = [], time.time() + 60
    while left > 0 and time.time() < deadline:
        for tp, msgs in c.poll(timeout_ms=1000).items():
            for r in msgs:
                if r.offset < end[tp]:
                    out.append((r.key.decode() if r.key else None, dict(r.headers)))
                    left -= 1
    c.close()
    return out


class CorruptingProxy:
    """A TCP proxy in front of Tile38 that makes every SET of one flight a command
    Tile38 refuses (POINT's latitude becomes "bad"), so the error ingest gets is the
    real server's ("invalid argument 'bad'"), in order within its pipeline."""

    def __init__(self, upstream, marker):
        self.upstream, self.marker, self.corrupted = upstream.rsplit(":", 1), marker.encode(), 0
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.addr = "127.0.0.1:%d" % self.ls.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            c, _ = self.ls.accept()
            u = socket.create_connection((self.upstream[0], int(self.upstream[1])))
            threading.Thread(target=self.replies, args=(u, c), daemon=True).start()
            threading.Thread(target=self.commands, args=(c, u), daemon=True).start()

    @staticmethod
    def replies(u, c):
        while True:
            data = u.recv(65536)
            if not data:
                c.close()
                return
            c.sendall(data)

    def commands(self, c, u):
        buf = b""
        while True:
            data = c.recv(65536)
            if not data:
                u.close()
                return
            buf += data
            out, i = [], 0
            while True:
                cmd, j = self.parse(buf, i)
                if cmd is None:
                    break
                if len(cmd) > 2 and cmd[0].upper() == b"SET" and self.marker in cmd[2]:
                    k = [x.upper() for x in cmd].index(b"POINT")
                    cmd[k + 1] = b"bad"
                    self.corrupted += 1
                out.append(b"*%d\r\n" % len(cmd) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in cmd))
                i = j
            buf = buf[i:]
            u.sendall(b"".join(out))

    @staticmethod
    def parse(buf, i):
        """One RESP array of bulk strings at buf[i:]: (args, next index) or (None, i)."""
        end = buf.find(b"\r\n", i)
        if end < 0:
            return None, i
        n, j, args = int(buf[i + 1:end]), end + 2, []
        for _ in range(n):
            end = buf.find(b"\r\n", j)
            if end < 0:
                return None, i
            size = int(buf[j + 1:end])
            if len(buf) < end + 2 + size + 2:
                return None, i
            args.append(buf[end + 2:end + 2 + size])
            j = end + 2 + size + 2
        return args, j


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
    proxy = None
    if a.fault in ("tile38", "tile38_start"):
        # the AOF keeps every earlier test's writes: rewritten to the live data, the
        # restart below loads in about the same time however many tests ran before
        Tile38(a.tile38).cmd("AOFSHRINK")
    if a.fault == "tile38_refuses":
        proxy = CorruptingProxy(a.tile38, "%s_F0007" % a.name)
        a.absent = {"%s_F0007" % a.name}
    if a.fault == "tile38_start":
        stack("kill", "tile38")
        try:
            procs = [Ingest(a, logs[0])]
            wait_for("ingest's message about Tile38", lambda: "starting anyway" in open(logs[0]).read(),
                     30, logs)
            phase(1, 0, 10)
            wait_for("partitions paused while Tile38 is down",
                     lambda: procs[0].metric("skyload_ingest_paused") == 1, 30, logs)
            time.sleep(3)  # a few backoff rounds
            if procs[0].p.poll() is not None:
                fail("ingest exited while Tile38 was down at its start", logs)
            held = committed(a.brokers, a.name, a.name)
            if held != 0:
                fail("%d offsets committed before Tile38 ever answered" % held, logs)
            line = [x for x in open(logs[0]) if "starting anyway" in x][0].strip()
            log("Tile38 down at the start: ingest alive, nothing committed, %d retries; it said: %s"
                % (procs[0].metric("skyload_ingest_sink_retries_total"), line))
        finally:
            stack("start", "tile38")
    else:
        procs = [Ingest(a, logs[0], proxy.addr if proxy else None)]
        phase(1, 0, 10)
    wait_for("phase 1 stored", lambda: pg_rows(a.name) == expected_rows(), 60, logs)
    rss_before = procs[0].rss_kb()

    if a.fault in ("pg", "tile38"):
        down = "kill" if a.fault == "tile38" else "stop"
        t_down = time.time()
        stack(down, a.fault)
        try:
            phase(2, 10, 110)
            wait_for("partitions paused while %s is down" % a.fault,
                     lambda: procs[0].metric("skyload_ingest_paused") == 1, 30, logs)
            held, rows_held = committed(a.brokers, a.name, a.name), pg_rows(a.name)
            time.sleep(3)  # a few backoff rounds
            if procs[0].p.poll() is not None:
                fail("ingest exited while %s was down" % a.fault, logs)
            rss = procs[0].rss_kb()
            if rss - rss_before > 64 * 1024:
                fail("memory grew by %d kB while %s was down" % (rss - rss_before, a.fault))
            now_committed, end = committed(a.brokers, a.name, a.name), topic_end(a.brokers, a.name)
            if now_committed != held or now_committed >= end:
                fail("offsets moved while %s was down: %d then %d committed of %d"
                     % (a.fault, held, now_committed, end), logs)
        finally:
            t_up = time.time()
            stack("start", a.fault)
        t_back = time.time()
        if a.fault == "tile38":  # PING answers while the AOF loads; other commands say LOADING
            wait_for("Tile38 loaded its AOF", lambda: Tile38(a.tile38).cmd("SERVER").get("ok"), 120, logs)
        t_ready = time.time()
        wait_for("partitions resumed", lambda: procs[0].metric("skyload_ingest_paused") == 0,
                 60, logs)
        t_resumed = time.time()
        figures = "%s %s: down %.1f s (+%.1f s loading its data), ingest paused %.1f s in %d " \
                  "pause(s), %d retries, resumed %.1f s after %s answered again; committed offsets " \
                  "held at %d of %d records while down (PostgreSQL rows %s, no offset past them)" % (
                      a.fault, "kill -9" if down == "kill" else "stop", t_up - t_down,
                      t_ready - t_back, procs[0].metric("skyload_ingest_paused_seconds_total"),
                      procs[0].metric("skyload_ingest_pauses_total"),
                      procs[0].metric("skyload_ingest_sink_retries_total"),
                      t_resumed - t_ready, a.fault, held, end,
                      rows_held if rows_held >= 0 else "unreadable")
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
    if a.fault in ("pg", "tile38"):
        log(figures)
    if proxy:
        refused_checks(a, logs, expected_rows(), merge(phases)["dlq"])
    log("fault %s: %d rows, 0 lost, 0 duplicate rows, Tile38 latest for every flight%s"
        % (a.fault, expected_rows(), " but the refused one" if proxy else ""))
    return 0


def refused_checks(a, logs, rows, bad_records):
    """Tile38 refused every SET of one flight: those records are in the DLQ with
    Tile38's reason, no batch was retried or paused, the flight's rows are in PostgreSQL."""
    st = json.load(open(logs[0] + ".stats.json"))
    fid = next(iter(a.absent))
    dlq = read_topic(a.brokers, a.name + ".dlq")
    mine = [h for k, h in dlq if k == fid]
    reasons = {h.get("skyload-error", b"").decode() for h in mine}
    if not mine or st["tile38_refused"] != len(mine) or len(dlq) != bad_records + len(mine):
        fail("DLQ: %d records of %s (ingest says %d refused), %d in all, expected %d + those"
             % (len(mine), fid, st["tile38_refused"], len(dlq), bad_records), logs)
    if reasons != {"Tile38 refused the SET: invalid argument 'bad'"}:
        fail("DLQ reasons for %s: %s" % (fid, reasons), logs)
    if st["sink_retries"] or st["pauses"]:
        fail("a refused command made ingest retry (%d) or pause (%d)"
             % (st["sink_retries"], st["pauses"]), logs)
    log("Tile38 refused %d SETs of %s: all in the DLQ with its reason, 0 retries, 0 pauses, "
        "its %d rows in PostgreSQL with the others (%d)" % (len(mine), fid,
                                                            len(merge_flight(a.expected, fid)), rows))


def merge_flight(files, fid):
    fl = merge(files)["flights"][fid]
    return fl["seqs"] + fl["ts"]


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
    tc = sub.add_parser("tile38-check")
    tc.add_argument("--manifest", required=True)
    tc.add_argument("--collection", required=True)
    tc.add_argument("--tile38", required=True)
    tc.add_argument("--ttl", type=int, default=120)
    st = sub.add_parser("stale-count")
    st.add_argument("--manifest", required=True)
    st.add_argument("--brokers", required=True)
    st.add_argument("--topic", required=True)
    dq = sub.add_parser("doc-queries")
    dq.add_argument("--doc", required=True)
    dq.add_argument("--manifest", required=True)
    dq.add_argument("--collection", required=True)
    dq.add_argument("--tile38", required=True)
    sc = sub.add_parser("scenario")
    sc.add_argument("--fault", required=True,
                    choices=["none", "pg", "tile38", "tile38_start", "tile38_refuses", "kafka",
                             "kill9", "sigterm", "rebalance"])
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
    if a.cmd == "tile38-check":
        return tile38_check(a)
    if a.cmd == "stale-count":
        return stale_count(a)
    if a.cmd == "doc-queries":
        return doc_queries(a)
    return check(a)


if __name__ == "__main__":
    sys.exit(main())
