#!/usr/bin/env python3
"""Realism test: simulated flights against OpenAP's WRAP kinematic model and public facts.

Reads the JSON Lines of `skyload simulate --sink file:...`, the run's manifest, the plans'
aircraft types (tests/tools/sky_plan_info: records do not carry the type) and the data
files, and measures, per aircraft type and flight phase, the Kolmogorov-Smirnov distance
between the simulated per-flight statistics and WRAP's published distributions (openap's
`WRAP(type)`, the same variables WRAP was fitted on: mean vertical rate of each climb and
descent segment, initial cruise altitude, mean cruise Mach, final approach speed and rate),
plus the share of time in climb / cruise / descent for a route length against trajectories
from openap's own `FlightGenerator`. Checks: no teleports, every landed flight ends within
1 nm of its arrival airport, >= 95% of flights touch their airline's home country or a hub,
no flight into a military-only field. Exit 1 when a target is missed.

usage: realism.py --records R.jsonl --manifest M.json --plans P.txt --data-dir DIR
                  [--seed S] [--no-wind] [--json OUT] [--plot-dir DIR] [--report-only]
"""
import argparse
import bisect
import csv
import gzip
import json
import math
import os
import re
import sys
from collections import Counter, defaultdict

import numpy as np
from openap import WRAP, aero
from scipy import stats

KS_TARGET = 0.10
MIN_N = 400            # fewer flights than this for a (type, statistic): reported, not judged
HOME_TARGET = 0.95
END_NM = 1.0
R_NM = 3440.065
FT_PER_M = 1 / 0.3048
KT_PER_MS = 1 / 0.514444
FPM_PER_MS = 60 / 0.3048

MILITARY_RE = re.compile(r"\b(air ?base|AFB|air force|naval air|army air|military|RAF|"
                         r"air station|fliegerhorst|base a[ée]rea|heliport)\b", re.I)

# ---- input ---------------------------------------------------------------------------


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


REC_RE = re.compile(
    r'"key":"([^"]+)".*?"latitude":([-0-9.eE+]+),"longitude":([-0-9.eE+]+)\}'
    r'(?:,"altitude":(-?\d+))?(?:,"airspeed":(\d+))?,"timestamp":"(\d+)"')


def read_records(path):
    """flight id -> arrays t (s), lat, lon, alt (ft), speed (kt), in time order."""
    flights = defaultdict(list)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            m = REC_RE.search(line)
            if not m:
                raise SystemExit(f"{path}: record not understood: {line[:200]}")
            ts = int(m.group(6))
            t = ts / 1000.0 if ts > 10**11 else float(ts)
            flights[m.group(1)].append((t, float(m.group(2)), float(m.group(3)),
                                        int(m.group(4) or 0), int(m.group(5) or 0)))
    out = {}
    for k, rows in flights.items():
        rows.sort()
        a = np.array(rows, dtype=float)
        out[k] = a
    return out


def gc_nm(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    dp = p2 - p1
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * R_NM * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


# ---- the wind the simulator applies (docs/traffic-model.md "Wind") -----------------------
# Mirrors simulator/wind.c: the field, sampled at the route's great-circle midpoint.

def wind_profile(seed, dep, arr):
    """(along-track kt, cross-track kt) per foot of altitude below the jet level -> function."""
    import wind_model  # tests/realism/wind_model.py
    return wind_model.route_wind(seed, dep, arr)


# ---- statistics ----------------------------------------------------------------------


def ks_continuous(samples, cdf):
    x = np.sort(np.asarray(samples, dtype=float))
    n = len(x)
    f = cdf(x)
    hi = np.arange(1, n + 1) / n - f
    lo = f - np.arange(0, n) / n
    return float(max(hi.max(), lo.max()))


def ks_lattice(samples, cdf, step):
    """KS distance for a quantity the world quantizes (flight levels): the reference is
    WRAP's continuous fit rounded to the same lattice, compared at every lattice point."""
    x = np.sort(np.asarray(samples, dtype=float))
    lo, hi = x[0] - 5 * step, x[-1] + 5 * step
    pts = np.arange(math.floor(lo / step) * step, hi + step, step)
    ecdf = np.searchsorted(x, pts + step * 1e-6, side="right") / len(x)
    ref = cdf(pts + step / 2)
    return float(np.max(np.abs(ecdf - ref)))


def wrap_dist(w, var):
    v = w._get_var(var)
    p = v["statmodel_params"]
    kind = v["statmodel"]
    if kind == "norm":
        return stats.norm(loc=p[0], scale=p[1])
    if kind == "beta":
        return stats.beta(p[0], p[1], loc=p[2], scale=p[3])
    if kind == "gamma":
        return stats.gamma(p[0], loc=p[1], scale=p[2])
    raise ValueError(f"{var}: statmodel {kind}")


# ---- per flight ----------------------------------------------------------------------


def runs_of(t, h):
    """Maximal runs of consecutive intervals with the same vertical rate (the simulator's
    profile is piecewise linear in time, as WRAP's segment fits are): (i0, i1, fpm)."""
    dt = np.diff(t)
    dh = np.diff(h)
    r = dh / dt * 60.0
    runs = []
    i = 0
    n = len(r)
    while i < n:
        j = i + 1
        tol = 10.0  # whole-foot altitudes over >= 15 s: within a segment rates agree to 8 fpm
        while j < n and abs(r[j] - r[i]) <= tol:
            j += 1
        runs.append((i, j, (h[j] - h[i]) / (t[j] - t[i]) * 60.0))
        i = j
    return runs


def tas_from_gs(gs, along, cross):
    return np.sqrt((gs - along) ** 2 + cross ** 2)


def level_runs(t, h, runs, floor):
    return [r for r in runs if r[1] - r[0] >= 2 and abs(r[2]) < 30 and h[r[0]] > floor]


def climb_stats(a, dep_elev):
    """WRAP's climb statistics of a flight seen from takeoff to its first level: the mean
    vertical rate of each climb segment (the simulator's altitude is piecewise linear in
    time, so a segment is a run of equal rates), and the initial cruise altitude."""
    t, h = a[:, 0], a[:, 3]
    runs = runs_of(t, h)
    hmax = h.max()
    lv = level_runs(t, h, runs, dep_elev + 0.5 * (hmax - dep_elev))
    if not lv:
        return None, None
    toc = lv[0][0]
    res = {"cr_h_init": float(h[toc])}
    climb = [r for r in runs if r[1] <= toc and r[1] - r[0] >= 2 and r[2] > 30]
    if len(climb) == 3:
        res["cl_vs_avg_pre_cas"] = climb[0][2]
        res["cl_vs_avg_cas_const"] = climb[1][2]
        res["cl_vs_avg_mach_const"] = climb[2][2]
    return res, toc


def descent_stats(a, arr_elev, wind):
    """WRAP's descent statistics of a landed flight seen level before its top of descent:
    the mean rate of each descent segment, the final approach's speed and rate."""
    t, h, gs = a[:, 0], a[:, 3], a[:, 4]
    hmax = h.max()
    runs = runs_of(t, h)
    # top of descent: the end of the last level run at the top (a slow start of the
    # descent stays near the top for a while: a threshold would cut it off)
    top = [r for r in runs if r[1] - r[0] >= 2 and abs(r[2]) < 30 and h[r[0]] >= hmax - 1]
    if not top:
        return None, None
    tod = top[-1][1]
    desc = [r for r in runs if r[0] >= tod and r[1] - r[0] >= 2 and r[2] < -30]
    res = {}
    if len(desc) == 4:
        res["de_vs_avg_mach_const"] = desc[0][2]
        res["de_vs_avg_cas_const"] = desc[1][2]
        res["de_vs_avg_after_cas"] = desc[2][2]
        res["fa_vs_avg"] = desc[3][2]
        i0, i1, _ = desc[3]
        hm = 0.5 * (h[i0] + h[i1])
        along, cross = wind(hm)
        tas = tas_from_gs(gs[i0:i1 + 1].mean(), along, cross)
        res["fa_va_avg"] = float(aero.tas2cas(tas / KT_PER_MS, hm / FT_PER_M))
    return res, tod


def cruise_mach(a, wind):
    """Mean cruise Mach of the level samples at the flight's top level above FL200 (any
    flight, also partial ones; a descent's level-off is not cruise)."""
    t, h, gs = a[:, 0], a[:, 3], a[:, 4]
    if len(h) < 3:
        return None
    level = np.zeros(len(h), dtype=bool)
    dh = np.abs(np.diff(h))
    level[1:-1] = (dh[:-1] < 1) & (dh[1:] < 1)
    level &= (h > 20000) & (h >= h.max() - 1)
    # at constant Mach and level the ground speed is constant; a flight first seen in a
    # level-off (slowing down) has no cruise here
    if level.sum() < 5 or np.ptp(gs[level]) > 1:
        return None
    machs = []
    for hh in np.unique(h[level]):
        sel = level & (h == hh)
        along, cross = wind(hh)
        tas = tas_from_gs(gs[sel], along, cross)
        machs.append((sel.sum(), float(np.mean(aero.tas2mach(tas / KT_PER_MS, hh / FT_PER_M)))))
    n = sum(k for k, _ in machs)
    return sum(k * m for k, m in machs) / n


# ---- the checks ----------------------------------------------------------------------


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--plans", required=True, help="sky_plan_info output for the run")
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-wind", action="store_true", help="the model has no wind (old builds)")
    ap.add_argument("--json", help="write every figure here")
    ap.add_argument("--plot-dir", help="write sim/reference CDFs here for plot.sh")
    ap.add_argument("--report-only", action="store_true", help="exit 0 whatever the figures")
    ap.add_argument("--min-n", type=int, default=MIN_N)
    ap.add_argument("--bbox", type=float, nargs=4, metavar=("S", "W", "N", "E"),
                    help="also report the vertical and cruise figures of the samples in it")
    args = ap.parse_args(argv[1:])
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

    airports = {r["icao"]: r for r in read_csv(os.path.join(args.data_dir, "airports.csv"))}
    airlines = {r["icao"]: r for r in read_csv(os.path.join(args.data_dir, "airlines.csv"))}
    plans = {}
    with open(args.plans) as f:
        for line in f:
            idx, typ, cat, cruise, dist = line.split()
            plans[int(idx)] = (typ, cat, float(dist))
    with open(args.manifest) as f:
        manifest = json.load(f)
    mflights = {m["id"]: m for m in manifest["flights"]}
    recs = read_records(args.records)
    failures = []
    out = {"flights": len(recs), "records": int(sum(len(a) for a in recs.values()))}

    # teleports: consecutive positions further apart than the reported speed allows
    teleports = 0
    worst = 0.0
    for k, a in recs.items():
        if len(a) < 2:
            continue
        d = gc_nm(a[:-1, 1], a[:-1, 2], a[1:, 1], a[1:, 2])
        dt = np.diff(a[:, 0]) / 3600.0
        allowed = np.maximum(a[:-1, 4], a[1:, 4]) * dt * 1.25 + 0.5
        bad = d > allowed
        teleports += int(bad.sum())
        worst = max(worst, float((d / allowed).max()))
    out["teleports"] = teleports
    if teleports:
        failures.append(f"{teleports} teleports (worst {worst:.2f}x the reported speed)")

    # ends: every landed flight's last record within END_NM of its arrival airport (at
    # cadences up to ~20 s; a slower one allows the distance flown in one interval)
    landed = far = 0
    worst_end = 0.0
    cadence = float(np.median([np.median(np.diff(a[:, 0])) for a in list(recs.values())[:200]
                               if len(a) > 1]))
    for fid, m in mflights.items():
        if not m.get("landed") or fid not in recs:
            continue
        arr = airports[m["arrival"]]
        last = recs[fid][-1]
        d = float(gc_nm(last[1], last[2], float(arr["lat"]), float(arr["lon"])))
        landed += 1
        worst_end = max(worst_end, d)
        far += d > max(END_NM, last[4] * cadence / 3600 * 1.05)
    out["landed"] = landed
    out["end_worst_nm"] = worst_end
    if landed == 0:
        failures.append("no flight landed: run longer")
    if far:
        failures.append(f"{far} of {landed} landed flights end more than {END_NM} nm out")

    # who flies where
    home = military = 0
    pairs = Counter()
    for fid, m in mflights.items():
        al = airlines.get(m["airline"], {})
        hubs = set((al.get("hubs") or "").split())
        dep, arr = airports[m["departure"]], airports[m["arrival"]]
        if al.get("country") in (dep["country"], arr["country"]) or \
                m["departure"] in hubs or m["arrival"] in hubs:
            home += 1
        for ap_ in (dep, arr):
            sched = ap_.get("scheduled", "")
            if MILITARY_RE.search(ap_.get("name", "")) and sched != "yes":
                military += 1
        pairs[(m["airline"], m["departure"], m["arrival"])] += 1
    nfl = len(mflights)
    out["home_share"] = home / nfl
    out["military_ends"] = military
    if home / nfl < HOME_TARGET:
        failures.append(f"only {home / nfl:.1%} of flights touch their airline's country or hub "
                        f"(target {HOME_TARGET:.0%})")
    if military:
        failures.append(f"{military} flight ends at military-only fields")

    # per flight: type, completeness, statistics
    wind_of = {}
    per = defaultdict(lambda: defaultdict(list))  # wrap model -> var -> values
    fracs = defaultdict(list)                     # (model, band) -> [(fcl, fcr, fde)]
    samples_vs = []
    gs_cruise = []
    alt_cruise = []
    types_seen = Counter()
    for fid, a in recs.items():
        idx = int(fid.rsplit("-", 1)[1], 16)
        typ, cat, dist = plans[idx]
        types_seen[typ] += 1
        m = mflights.get(fid)
        if m is None:
            continue
        dep, arr = airports[m["departure"]], airports[m["arrival"]]
        if args.no_wind:
            def wind(_h):
                return 0.0, 0.0
        else:
            key = (m["departure"], m["arrival"])
            if key not in wind_of:
                wind_of[key] = wind_profile(args.seed, (float(dep["lat"]), float(dep["lon"])),
                                            (float(arr["lat"]), float(arr["lon"])))
            wind = wind_of[key]
        try:
            model = WRAP(typ).ac if cat != "turboprop" else None
        except ValueError:
            model = None
        h, dt = a[:, 3], np.diff(a[:, 0])
        if len(a) > 1:
            fpm = np.diff(h) / dt * 60
            samples_vs.extend(fpm.tolist())
        lvl = (np.abs(np.diff(h)) < 1) & (h[1:] > 20000) if len(a) > 1 else []
        if len(a) > 1:
            gs_cruise.extend(a[1:, 4][lvl].tolist())
            alt_cruise.extend(h[1:][lvl].tolist())
        if model is None:
            continue
        mach = cruise_mach(a, wind)
        if mach is not None:
            per[model]["cr_v_mach_mean"].append(mach)
        d0 = float(gc_nm(a[0, 1], a[0, 2], float(dep["lat"]), float(dep["lon"])))
        from_takeoff = d0 < 2.0 and a[0, 3] < float(dep["elevation_ft"]) + 2500
        toc = tod = None
        if from_takeoff:
            r, toc = climb_stats(a, float(dep["elevation_ft"]))
            for var, v in (r or {}).items():
                if var != "cr_h_init" or dist >= 500:  # WRAP's flights: cruise of 250+ nm
                    per[model][var].append(v)
        # descents too only of flights seen from takeoff: of those the initial population
        # started mid-flight, the ones seen level before their descent are more likely the
        # faster descenders (a later top of descent), a length-biased sample
        if from_takeoff and m.get("landed"):
            r, tod = descent_stats(a, float(arr["elevation_ft"]), wind)
            for var, v in (r or {}).items():
                per[model][var].append(v)
        if from_takeoff and m.get("landed") and toc is not None and tod is not None \
                and tod >= toc:
            t = a[:, 0]
            total = t[-1] - t[0]
            band = "500-1000" if 500 <= dist < 1000 else "1000-2000" if 1000 <= dist < 2000 \
                else None
            if band:
                fracs[(model, band)].append(((t[toc] - t[0]) / total, (t[tod] - t[toc]) / total,
                                             (t[-1] - t[tod]) / total, dist))

    samples_vs = np.array(samples_vs)
    out["vertical_share"] = float(np.mean(np.abs(samples_vs) > 500)) if len(samples_vs) else 0
    if args.bbox:
        s_, w_, n_, e_ = args.bbox
        vs_in, gs_in = [], []
        for a in recs.values():
            if len(a) < 2:
                continue
            lat, lon, h = a[1:, 1], a[1:, 2], a[1:, 3]
            inside = (lat >= s_) & (lat <= n_) & (lon >= w_) & (lon <= e_)
            fpm = np.diff(a[:, 3]) / np.diff(a[:, 0]) * 60
            vs_in.extend(fpm[inside].tolist())
            gs_in.extend(a[1:, 4][inside & (np.abs(fpm) < 1) & (h > 20000)].tolist())
        vs_in = np.array(vs_in)
        out["bbox"] = {"samples": len(vs_in),
                       "vertical_share": float(np.mean(np.abs(vs_in) > 500)) if len(vs_in) else 0,
                       "cruise_gs_kt": {p: float(np.percentile(gs_in, p)) for p in (10, 50, 90)}
                       if gs_in else {}}
    if gs_cruise:
        out["cruise_gs_kt"] = {p: float(np.percentile(gs_cruise, p)) for p in (10, 50, 90)}
        out["cruise_alt_ft"] = {p: float(np.percentile(alt_cruise, p)) for p in (10, 50, 90)}
    out["types"] = dict(types_seen)

    # KS per WRAP model and statistic
    conv = {  # simulated unit -> WRAP unit
        "cl_vs_avg_pre_cas": 1 / FPM_PER_MS, "cl_vs_avg_cas_const": 1 / FPM_PER_MS,
        "cl_vs_avg_mach_const": 1 / FPM_PER_MS, "de_vs_avg_mach_const": 1 / FPM_PER_MS,
        "de_vs_avg_cas_const": 1 / FPM_PER_MS, "de_vs_avg_after_cas": 1 / FPM_PER_MS,
        "fa_vs_avg": 1 / FPM_PER_MS, "fa_va_avg": 1.0, "cr_h_init": 0.3048 / 1000,
        "cr_v_mach_mean": 1.0,
    }
    rows = []
    plot = {}
    for model in sorted(per):
        w = WRAP(model)
        for var in conv:
            vals = per[model].get(var, [])
            dist = wrap_dist(w, var)
            n = len(vals)
            if n == 0:
                continue
            x = np.asarray(vals) * conv[var]
            if var == "cr_h_init":
                ks = ks_lattice(x, dist.cdf, 0.3048)
            else:
                ks = ks_continuous(x, dist.cdf)
            judged = n >= args.min_n
            rows.append({"type": model.upper(), "stat": var, "n": n, "ks": ks,
                         "sim_median": float(np.median(x)), "ref_median": float(dist.median()),
                         "judged": judged})
            plot[(model, var)] = (np.sort(x), dist)
            if judged and ks > KS_TARGET:
                failures.append(f"{model.upper()} {var}: KS {ks:.3f} > {KS_TARGET} (n={n})")

    # share of time in each phase for a route length, against openap's FlightGenerator
    frac_rows = []
    try:
        import frac_reference
        for (model, band), vals in sorted(fracs.items()):
            if len(vals) < args.min_n:
                continue
            v = np.asarray(vals)
            ref = frac_reference.reference(model, v[:, 3])
            if ref is None:
                continue
            for k, name in enumerate(("climb", "cruise", "descent")):
                ks = stats.ks_2samp(v[:, k], ref[:, k]).statistic
                judged = len(vals) >= args.min_n
                frac_rows.append({"type": model.upper(), "band_nm": band, "phase": name,
                                  "n": len(vals), "ks": float(ks),
                                  "sim_median": float(np.median(v[:, k])),
                                  "ref_median": float(np.median(ref[:, k])), "judged": judged})
                if judged and ks > KS_TARGET:
                    failures.append(f"{model.upper()} {band} nm time in {name}: KS {ks:.3f}")
    except ImportError:
        pass

    out["ks"] = rows
    out["phase_time"] = frac_rows
    out["failures"] = failures
    print_report(out)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    if args.plot_dir:
        write_plot_data(args.plot_dir, plot)
    if failures and not args.report_only:
        print("realism: FAILED", file=sys.stderr)
        return 1
    return 0


def print_report(out):
    p = print
    p(f"flights {out['flights']}, records {out['records']}, landed {out['landed']}")
    p(f"teleports {out['teleports']}; landed flights' last record: worst "
      f"{out['end_worst_nm']:.3f} nm from the arrival airport")
    p(f"flights touching the airline's country or a hub: {out['home_share']:.1%}; "
      f"ends at military-only fields: {out['military_ends']}")
    p(f"samples climbing or descending > 500 fpm: {out['vertical_share']:.1%}")
    if "bbox" in out:
        b = out["bbox"]
        g = b["cruise_gs_kt"]
        p(f"in the bbox: {b['samples']} samples, {b['vertical_share']:.1%} climbing or "
          f"descending > 500 fpm; level above FL200 ground speed p10/p50/p90 "
          f"{g.get(10, 0):.0f}/{g.get(50, 0):.0f}/{g.get(90, 0):.0f} kt")
    if "cruise_gs_kt" in out:
        g, h = out["cruise_gs_kt"], out["cruise_alt_ft"]
        p(f"level above FL200: ground speed p10/p50/p90 {g[10]:.0f}/{g[50]:.0f}/{g[90]:.0f} kt,"
          f" altitude p10/p50/p90 {h[10]:.0f}/{h[50]:.0f}/{h[90]:.0f} ft")
    p(f"{'type':6} {'statistic':22} {'n':>5} {'KS':>6}  sim / WRAP median")
    for r in out["ks"]:
        mark = "" if r["judged"] else "  (n too small, not judged)"
        flag = " <-- over target" if r["judged"] and r["ks"] > KS_TARGET else ""
        p(f"{r['type']:6} {r['stat']:22} {r['n']:5d} {r['ks']:6.3f}  "
          f"{r['sim_median']:.4g} / {r['ref_median']:.4g}{mark}{flag}")
    for r in out["phase_time"]:
        mark = "" if r["judged"] else "  (n too small, not judged)"
        p(f"{r['type']:6} time in {r['phase']:8} {r['band_nm']:>9} nm {r['n']:5d} "
          f"{r['ks']:6.3f}  {r['sim_median']:.3f} / {r['ref_median']:.3f}{mark}")
    for f in out["failures"]:
        p(f"FAIL: {f}")


def write_plot_data(d, plot):
    os.makedirs(d, exist_ok=True)
    for (model, var), (x, dist) in plot.items():
        with open(os.path.join(d, f"{model}.{var}.dat"), "w") as f:
            n = len(x)
            for i, v in enumerate(x):
                f.write(f"{v:.6g} {(i + 1) / n:.6g} {float(dist.cdf(v)):.6g}\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
