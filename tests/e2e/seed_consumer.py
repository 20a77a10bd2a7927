#!/usr/bin/env python3
"""The seed document's consumer (seed/system-design.md, "Kafka Consumer
Example Using kafka-python"), made finite so a test can run it.

It generates flight_data_pb2 from proto/flight_data.proto with protoc, as the
seed says, then consumes with exactly the seed's KafkaConsumer settings
(auto_offset_reset='earliest', enable_auto_commit=True and
value_deserializer=lambda x: FlightData().FromString(x)) until --count
messages arrived or --timeout seconds passed.

Prints one JSON line:
  {"count": N, "flights": distinct flight_ids, "first": {...first message...},
   "last": {...}, "partitions": {...}, "elapsed_s": ...}
Exit status: 0 when --count messages were read, 1 otherwise, 2 on usage or
setup errors (no protoc, no kafka-python).

Run it with the stack's venv: .stack/venv/bin/python tests/e2e/seed_consumer.py
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def generate_pb2(proto_path, outdir):
    """protoc --python_out=<outdir> -I <dir> flight_data.proto"""
    protoc = shutil.which("protoc")
    if protoc is None:
        sys.exit("seed_consumer: protoc not found (apt-get install protobuf-compiler)")
    proto_dir, proto_file = os.path.split(os.path.abspath(proto_path))
    subprocess.run(
        [protoc, "--python_out=" + outdir, "-I", proto_dir, proto_file],
        check=True,
    )
    sys.path.insert(0, outdir)


def message_dict(msg):
    fd = msg.value
    return {
        "flight_id": fd.flight_id,
        "latitude": fd.location.latitude,
        "longitude": fd.location.longitude,
        "altitude": fd.altitude,
        "airspeed": fd.airspeed,
        "timestamp": fd.timestamp,
        "airline": fd.metadata.airline,
        "flight_number": fd.metadata.flight_number,
        "departure_airport": fd.metadata.departure_airport,
        "arrival_airport": fd.metadata.arrival_airport,
        "key": msg.key.decode("utf-8", "replace") if msg.key is not None else None,
        "partition": msg.partition,
        "offset": msg.offset,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brokers", default=os.environ.get("SKY_BROKERS", "127.0.0.1:9092"),
                    help="bootstrap servers, comma separated (default: $SKY_BROKERS or 127.0.0.1:9092)")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", default="seed-consumer",
                    help="consumer group id (default: seed-consumer)")
    ap.add_argument("--count", type=int, default=1,
                    help="stop after this many messages (default: 1)")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="give up after this many seconds (default: 30)")
    ap.add_argument("--proto", default=os.path.join(REPO, "proto", "flight_data.proto"),
                    help="schema to compile (default: proto/flight_data.proto)")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args()
    if args.count < 1 or args.timeout <= 0:
        ap.error("--count must be >= 1 and --timeout > 0")

    tmpdir = tempfile.mkdtemp(prefix="seed_consumer_")
    try:
        try:
            generate_pb2(args.proto, tmpdir)
        except subprocess.CalledProcessError as e:
            print("seed_consumer: protoc failed: %s" % e, file=sys.stderr)
            return 2
        # The seed's imports, verbatim.
        try:
            from kafka import KafkaConsumer
        except ImportError:
            print("seed_consumer: kafka-python missing (run .ci/install-deps, "
                  "then use .stack/venv/bin/python)", file=sys.stderr)
            return 2
        from flight_data_pb2 import FlightData

        t0 = time.monotonic()
        # The seed's consumer settings; consumer_timeout_ms only bounds the wait
        # for the next message so the loop can check the deadline.
        consumer = KafkaConsumer(
            args.topic,
            bootstrap_servers=args.brokers.split(","),
            group_id=args.group,
            auto_offset_reset="earliest",
            enable_auto_commit=True,
            value_deserializer=lambda x: FlightData().FromString(x),
            consumer_timeout_ms=500,
        )
        count = 0
        flights = set()
        partitions = {}
        first = last = None
        deadline = t0 + args.timeout
        try:
            if not args.quiet:
                print("Consuming messages from Kafka...", file=sys.stderr)
            while count < args.count and time.monotonic() < deadline:
                for message in consumer:
                    # process_flight_data(message.value)
                    count += 1
                    flights.add(message.value.flight_id)
                    partitions[message.partition] = partitions.get(message.partition, 0) + 1
                    if first is None:
                        first = message_dict(message)
                    last = message
                    if count >= args.count or time.monotonic() >= deadline:
                        break
        except KeyboardInterrupt:
            print("Stopping consumer...", file=sys.stderr)
        finally:
            consumer.close()

        summary = {
            "count": count,
            "flights": len(flights),
            "first": first,
            "last": message_dict(last) if last is not None else None,
            "partitions": {str(k): v for k, v in sorted(partitions.items())},
            "elapsed_s": round(time.monotonic() - t0, 3),
        }
        print(json.dumps(summary, sort_keys=True))
        return 0 if count >= args.count else 1
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
