#!/usr/bin/env python3
"""Sizes a deployment from what `skyload bench capacity` measured on this machine.

    python3 bench/capacity_plan.py DIR/capacity.json [--rate 200000] [--node-cores 8] ...

Three ways to read per-record CPU costs from capacity.json:
- marginal (the default): per process, the slope of its CPU against the stored rate over
  the steps that held (least squares): what one more record per second costs, the fixed
  cost of an idle server left out (it is printed beside);
- at the knee (--costs knee): each process's CPU over the knee step's
  hold divided by the records stored per second, the loop running in real time with
  its real batches, background work (checkpoints, autovacuum, the broker's log
  management) included; skyload's row is simulate + ingest (an upper bound for ingest);
- alone (--costs alone): the components measured one at a time before the ramp
  (bench/components.c): the broker per record produced and consumed, ingest's own CPU
  and PostgreSQL's per row while ingest drained a filled topic (COPY binary into the
  indexed flight_positions), Tile38's per record meanwhile (flights interleaved as in
  live traffic: one SET per record): the best case.
Cores for a rate are rate x cost; a server is sized to run at --utilisation of its
cores. docs/capacity.md explains the counts; the costs are per core of the measuring
machine.
"""
import argparse
import json
import math
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("capacity_json")
    ap.add_argument("--rate", type=float, default=200000, help="msgs/s (1 M aircraft every 5 s)")
    ap.add_argument("--node-cores", type=int, default=8, help="cores per server node")
    ap.add_argument("--pod-cores", type=int, default=2, help="cores per ingest replica")
    ap.add_argument("--utilisation", type=float, default=0.6,
                    help="target CPU share per node (headroom for peaks, failover)")
    ap.add_argument("--kafka-rf", type=int, default=3, help="replication factor")
    ap.add_argument("--costs", choices=("marginal", "knee", "alone"), default="marginal")
    a = ap.parse_args()
    cap = json.load(open(a.capacity_json))
    c = cap.get("components")
    knee = cap.get("knee")
    if a.costs == "alone":
        if not c:
            sys.exit("%s: no \"components\" (run bench capacity without --no-components)"
                     % a.capacity_json)
        cost = {  # microseconds of CPU per record
            "broker": c["kafka"]["server_cpu_us"],
            "ingest": c["ingest"]["client_cpu_us"],
            "postgres": c["ingest"]["server_cpu_us"],
            "tile38": c["ingest"].get("tile38_cpu_us", -1),
        }
    elif a.costs == "marginal":
        held = [st for st in cap["steps"] if st["verdict"] == "held"]
        if len(held) < 2:
            sys.exit("%s: fewer than 2 steps held: no slope (try --costs knee)" % a.capacity_json)
        cost, fixed = {}, {}
        for k, name in (("broker", "kafka"), ("ingest", "skyload"), ("postgres", "postgres"),
                        ("tile38", "tile38")):
            pts = [(st["achieved_msgs_s"], p["cpu_cores"]) for st in held for p in st["procs"]
                   if p["name"] == name and p["cpu_cores"] >= 0]
            if len(pts) < 2:
                cost[k] = -1
                continue
            mx, my = sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts)
            sxx = sum((x - mx) ** 2 for x, _ in pts)
            b = sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else 0
            cost[k], fixed[k] = max(b, 0) * 1e6, my - b * mx
        print("fixed CPU (cores, at no load): " +
              ", ".join("%s %.2f" % kv for kv in sorted(fixed.items())))
    else:
        if knee is None:
            sys.exit("%s: no knee (no step held the SLO)" % a.capacity_json)
        step = cap["steps"][knee]
        cpu = {p["name"]: p["cpu_cores"] for p in step["procs"]}
        rate = step["achieved_msgs_s"]
        cost = {k: cpu.get(name, -1) * 1e6 / rate if cpu.get(name, -1) >= 0 else -1
                for k, name in (("broker", "kafka"), ("ingest", "skyload"),
                                ("postgres", "postgres"), ("tile38", "tile38"))}
    missing = [k for k, v in cost.items() if v is None or v < 0]
    if missing:
        sys.exit("not measured in %s: %s" % (a.capacity_json, ", ".join(missing)))
    usable = a.node_cores * a.utilisation
    cores = {k: a.rate * v / 1e6 for k, v in cost.items()}
    # every replica appends each record and followers fetch it like a consumer
    cores["broker"] *= a.kafka_rf
    brokers = max(a.kafka_rf, math.ceil(cores["broker"] / usable))
    replicas = max(2, math.ceil(cores["ingest"] / (a.pod_cores * a.utilisation)))
    # room to scale ingest 4x without repartitioning; a multiple of the brokers
    partitions = max(12, replicas * 4)
    partitions = math.ceil(partitions / brokers) * brokers
    pg_cores = math.ceil(cores["postgres"] / a.utilisation)
    pg_primaries = max(1, math.ceil(cores["postgres"] / usable))
    # Tile38 applies writes one at a time (one lock): a leader's write path is one core
    t38_leaders = max(1, math.ceil(cores["tile38"] / a.utilisation))
    print("from %s, costs %s (knee %s msgs/s); per record: broker %.2f us (x%d replicas), "
          "ingest %.2f us, PostgreSQL %.2f us, Tile38 %.2f us"
          % (a.capacity_json, a.costs,
             "%.0f" % cap["steps"][knee]["achieved_msgs_s"] if knee is not None else "none",
             cost["broker"], a.kafka_rf, cost["ingest"], cost["postgres"], cost["tile38"]))
    print("at %.0f msgs/s, %d-core nodes at %.0f%%:" % (a.rate, a.node_cores, 100 * a.utilisation))
    print("  Kafka: %.1f cores -> %d brokers, %d partitions (RF %d)"
          % (cores["broker"], brokers, partitions, a.kafka_rf))
    print("  ingest: %.1f cores -> %d replicas of %d cores (each --pg-connections %d)"
          % (cores["ingest"], replicas, a.pod_cores, a.pod_cores))
    print("  PostgreSQL/TimescaleDB: %.1f cores of inserts -> %d primary(ies), %d cores for writes "
          "(+ read replicas for queries)" % (cores["postgres"], pg_primaries, pg_cores))
    print("  Tile38: %.1f cores of SETs -> %d leader(s), each with 2 followers for the map's "
          "reads and failover" % (cores["tile38"], t38_leaders))


if __name__ == "__main__":
    main()
