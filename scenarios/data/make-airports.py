#!/usr/bin/env python3
"""Builds scenarios/data/airports.csv from the OurAirports export (public domain).

Keeps large and medium airports that have both a 4-letter ICAO code (gps_code,
else ident) and a 3-letter IATA code; one row per ICAO code, sorted by ICAO so
the file (and every flight the simulator derives from it) is reproducible.
`scheduled` is OurAirports' scheduled_service (yes/no): airliners only use "yes" fields.
`military` is 1 for a military-only field: its name or keywords say air base, air force,
naval air station, RAF, army airfield... and it has no scheduled service.

usage: make-airports.py [SOURCE_JSON] [OUTPUT_CSV]
  defaults: /work/shared/data/ourairports/airports-large-medium.json
            airports.csv next to this script
"""
import csv
import json
import os
import re
import sys

ICAO_RE = re.compile(r"^[A-Z]{4}$")
IATA_RE = re.compile(r"^[A-Z]{3}$")
TYPES = {"large_airport": "large", "medium_airport": "medium"}
MILITARY_RE = re.compile(r"\b(air ?base|AFB|air force|naval air|army air|military|RAF|"
                         r"air station|fliegerhorst|base a[ée]rea|marine corps)\b", re.I)


def icao_code(row):
    for field in ("gps_code", "ident"):
        code = (row.get(field) or "").strip().upper()
        if ICAO_RE.match(code):
            return code
    return None


def to_row(row):
    kind = TYPES.get(row.get("type"))
    icao = icao_code(row)
    iata = (row.get("iata_code") or "").strip().upper()
    if not kind or not icao or not IATA_RE.match(iata):
        return None
    try:
        lat = float(row["latitude_deg"])
        lon = float(row["longitude_deg"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    try:
        elev = int(round(float(row.get("elevation_ft") or 0)))
    except ValueError:
        elev = 0
    name = " ".join((row.get("name") or "").split())
    scheduled = "yes" if row.get("scheduled_service") == "yes" else "no"
    military = int(scheduled == "no" and bool(
        MILITARY_RE.search(name + " " + (row.get("keywords") or ""))))
    return [icao, iata, name, kind, f"{lat:.6f}", f"{lon:.6f}", elev,
            row.get("iso_country") or "", row.get("continent") or "", scheduled, military]


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    src = argv[1] if len(argv) > 1 else "/work/shared/data/ourairports/airports-large-medium.json"
    dst = argv[2] if len(argv) > 2 else os.path.join(here, "airports.csv")
    with open(src, encoding="utf-8") as f:
        airports = json.load(f)
    rows = {}
    for a in airports:
        r = to_row(a)
        # a code used twice: keep the large airport, then the first seen
        if r and (r[0] not in rows or (r[3] == "large" and rows[r[0]][3] != "large")):
            rows[r[0]] = r
    with open(dst, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["icao", "iata", "name", "type", "lat", "lon", "elevation_ft", "country",
                    "continent", "scheduled", "military"])
        for icao in sorted(rows):
            w.writerow(rows[icao])
    large = sum(1 for r in rows.values() if r[3] == "large")
    print(f"{dst}: {len(rows)} airports ({large} large, {len(rows) - large} medium)",
          file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
