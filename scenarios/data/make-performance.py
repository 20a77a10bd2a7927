#!/usr/bin/env python3
"""Builds scenarios/data/performance.csv: per aircraft model and flight phase, the
distributions the simulator draws each flight's performance from.

Jet rows are OpenAP's WRAP kinematic model (Sun, Ellerbroek, Hoekstra, "WRAP: An open-source
kinematic aircraft performance model", Transportation Research Part C 98, 2019), the
published per-model parameter tables `openap/data/wrap/*.txt` of the PyPI package `openap`
(taken as facts: variable, statistical model and its parameters, in WRAP's units: m/s, km,
km of range). Turboprop rows (WRAP has none) are this project's own round figures from the
manufacturers' published cruise speed, level and approach speed, with assumed spreads;
their `source` column says so.

usage: make-performance.py [WRAP_DIR] [OUTPUT_CSV]
  defaults: the installed openap package's data/wrap, performance.csv next to this script
"""
import csv
import glob
import os
import sys

# model, variable, statmodel, params (scipy order), min, max -- the turboprops
TURBOPROPS = {
    "at76": {  # ATR 72-600: ~275 KTAS at FL170-FL250, climb ~1,350 fpm, VAPP ~115 kt
        "to_v_lof": (57.0, 3.0), "cl_v_cas_const": (87.0, 4.0), "cl_v_mach_const": (0.42, 0.02),
        "cl_h_cas_const": (1.5, 0.5), "cl_h_mach_const": (5.2, 0.5),
        "cl_vs_avg_pre_cas": (7.0, 1.0), "cl_vs_avg_cas_const": (5.6, 0.9),
        "cl_vs_avg_mach_const": (3.6, 0.7), "cr_v_mach_mean": (0.44, 0.02),
        "cr_h_init": (6.3, 0.7), "cr_h_max": (6.5, 0.6), "de_v_mach_const": (0.44, 0.02),
        "de_v_cas_const": (105.0, 5.0), "de_h_mach_const": (5.2, 0.5),
        "de_h_cas_const": (3.0, 0.7), "de_vs_avg_mach_const": (-7.0, 1.4),
        "de_vs_avg_cas_const": (-7.5, 1.4), "de_vs_avg_after_cas": (-5.0, 1.0),
        "fa_va_avg": (59.0, 3.0), "fa_vs_avg": (-3.1, 0.3), "ld_v_app": (56.0, 3.0),
    },
    "dh8d": {  # Dash 8-400: ~360 KTAS at FL250, climb ~2,000 fpm, VAPP ~125 kt
        "to_v_lof": (62.0, 3.0), "cl_v_cas_const": (103.0, 4.0), "cl_v_mach_const": (0.52, 0.02),
        "cl_h_cas_const": (1.8, 0.5), "cl_h_mach_const": (6.2, 0.5),
        "cl_vs_avg_pre_cas": (10.0, 1.5), "cl_vs_avg_cas_const": (8.0, 1.3),
        "cl_vs_avg_mach_const": (5.0, 1.0), "cr_v_mach_mean": (0.58, 0.02),
        "cr_h_init": (7.3, 0.6), "cr_h_max": (7.5, 0.5), "de_v_mach_const": (0.56, 0.02),
        "de_v_cas_const": (125.0, 5.0), "de_h_mach_const": (6.2, 0.5),
        "de_h_cas_const": (3.3, 0.8), "de_vs_avg_mach_const": (-8.0, 1.5),
        "de_vs_avg_cas_const": (-9.0, 1.5), "de_vs_avg_after_cas": (-5.5, 1.0),
        "fa_va_avg": (64.0, 3.0), "fa_vs_avg": (-3.3, 0.3), "ld_v_app": (61.0, 3.0),
    },
}


def wrap_dir_default():
    try:
        import openap
    except ImportError:
        sys.exit("make-performance.py: openap is not installed; give WRAP_DIR")
    return os.path.join(os.path.dirname(openap.__file__), "data", "wrap")


def read_wrap(path):
    """WRAP's fixed-width table: variable, phase, name (spaces), opt, min, max, model, params."""
    rows = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) < 6:
                continue
            var, params, kind = parts[0], parts[-1], parts[-2]
            lo, hi = parts[-4], parts[-3]
            rows.append((var, kind, params.split("|"), lo, hi))
    return rows


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    src = argv[1] if len(argv) > 1 else wrap_dir_default()
    dst = argv[2] if len(argv) > 2 else os.path.join(here, "performance.csv")
    out = []
    for path in sorted(glob.glob(os.path.join(src, "*.txt"))):
        model = os.path.basename(path)[:-4].lower()
        for var, kind, params, lo, hi in read_wrap(path):
            p = params + [""] * (4 - len(params))
            out.append([model, var, kind] + p + [lo, hi, "openap-wrap"])
    for model, table in TURBOPROPS.items():
        for var, (mu, sd) in table.items():
            out.append([model, var, "norm", f"{mu:g}", f"{sd:g}", "", "",
                        f"{mu - 1.645 * sd:.4g}", f"{mu + 1.645 * sd:.4g}", "manufacturer"])
    with open(dst, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["model", "variable", "statmodel", "p1", "p2", "p3", "p4", "min", "max",
                    "source"])
        w.writerows(out)
    print(f"{dst}: {len(out)} rows", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
