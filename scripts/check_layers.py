#!/usr/bin/env python3
"""Checks that every module of skyload only uses the floors below it.

The house, from the ground up (docs/architecture.md):

    lib                               the ground: codec, time, clients, manifest, ...
    simulator  replay  ingest  verify one floor each, on lib only
    run                               the whole loop: ingest + simulate + drain + verify
    bench  map                        above run
    src                               the CLI, on everything

Two checks, each naming the file and line (or object) that reaches up:
  1. includes: a module's sources include only headers of the modules it may use;
  2. calls (with --build DIR): the undefined symbols of each module's object
     files are defined only in modules it may use (catches a call through a
     hand-written declaration that no include shows).

Usage: scripts/check_layers.py [--root DIR] [--build DIR]
Exit status: 0 clean, 1 a violation, 2 usage error.
"""
import argparse
import os
import re
import subprocess
import sys

# module -> the modules it may use (itself implied)
ALLOWED = {
    "lib": set(),
    "simulator": {"lib"},
    "replay": {"lib"},
    "ingest": {"lib"},
    "verify": {"lib"},
    "run": {"lib", "simulator", "replay", "ingest", "verify"},
    "bench": {"lib", "simulator", "replay", "ingest", "verify", "run"},
    "map": {"lib"},
    "src": {"lib", "simulator", "replay", "ingest", "verify", "run", "bench", "map"},
}
GENERATED = {"flight_data.pb-c.h": "lib"}  # made by protoc-c into the build tree
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def modules_present(root):
    return [m for m in ALLOWED if os.path.isdir(os.path.join(root, m))]


def header_owners(root, mods):
    owners = dict(GENERATED)
    for m in mods:
        for name in os.listdir(os.path.join(root, m)):
            if name.endswith(".h"):
                owners.setdefault(name, m)
    return owners


def check_unique_headers(root, mods):
    """Every module's folder is on the include path: two headers of one name would
    make an include resolve to whichever folder comes first."""
    seen, bad = {}, []
    for m in mods:
        for name in sorted(os.listdir(os.path.join(root, m))):
            if name.endswith(".h"):
                if name in seen:
                    bad.append("%s/%s: a header of that name is in %s/ too: "
                               "#include \"%s\" is ambiguous" % (m, name, seen[name], name))
                seen.setdefault(name, m)
    return bad


def sources(root, m):
    d = os.path.join(root, m)
    for dirpath, _, files in os.walk(d):
        for name in sorted(files):
            if name.endswith((".c", ".h")):
                yield os.path.join(dirpath, name)


def check_includes(root, mods):
    owners = header_owners(root, mods)
    bad = []
    for m in mods:
        for path in sources(root, m):
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    hit = INCLUDE.match(line)
                    if not hit:
                        continue
                    owner = owners.get(os.path.basename(hit.group(1)))
                    if owner and owner != m and owner not in ALLOWED[m]:
                        bad.append("%s:%d: %s includes %s/%s (%s may use: %s)" % (
                            os.path.relpath(path, root), lineno, m, owner, hit.group(1), m,
                            ", ".join(sorted(ALLOWED[m])) or "nothing but itself"))
    return bad


def nm_symbols(obj):
    # gcc-nm reads LTO objects too (plain nm only sees their placeholder symbols)
    out = subprocess.run(["gcc-nm", "-P", obj],
                         capture_output=True, text=True, check=False).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(name)
        elif kind in "TDBRCVW":  # global definitions only
            defined.add(name)
    return defined, undefined


def check_calls(root, build, mods):
    objdir = os.path.join(build, "CMakeFiles", "skyload.dir")
    if not os.path.isdir(objdir):
        return ["%s: no object files (build the skyload library first)" % objdir]
    where = {}  # symbol -> module
    needs = []  # (module, object, undefined symbols)
    for m in mods:
        d = os.path.join(objdir, m)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            # objects whose source is gone (a moved file) are stale, not the tree
            if not name.endswith(".c.o") or not os.path.exists(os.path.join(root, m, name[:-2])):
                continue
            obj = os.path.join(d, name)
            defined, undefined = nm_symbols(obj)
            for s in defined:
                where.setdefault(s, m)
            needs.append((m, obj, undefined))
    bad = []
    for m, obj, undefined in needs:
        for s in sorted(undefined):
            owner = where.get(s)
            if owner and owner != m and owner not in ALLOWED[m]:
                bad.append("%s: %s calls %s, defined in %s (%s may use: %s)" % (
                    os.path.relpath(obj, build), m, s, owner, m,
                    ", ".join(sorted(ALLOWED[m])) or "nothing but itself"))
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    ap.add_argument("--build", help="build directory: also check calls between object files")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    mods = modules_present(root)
    if "lib" not in mods:
        print("check_layers: %s has no lib/: not a skyload tree" % root, file=sys.stderr)
        return 2
    bad = check_unique_headers(root, mods) + check_includes(root, mods)
    if a.build:
        bad += check_calls(root, os.path.abspath(a.build), mods)
    for b in bad:
        print(b, file=sys.stderr)
    if bad:
        print("check_layers: %d problem(s) (see docs/architecture.md)" % len(bad),
              file=sys.stderr)
        return 1
    print("check_layers: %d modules, every include%s goes down or sideways within a module" % (
        len(mods), " and call" if a.build else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
