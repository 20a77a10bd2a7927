#!/usr/bin/env python3
"""Checks a simulate JSON Lines file against its manifest (docs/manifest.md semantics):
every expected seq present once (twice for duplicates), faults where the manifest says,
reorders inverted, final = last valid record, totals consistent. Exit 1 on a mismatch."""
import json
import sys
from collections import defaultdict


def main(jsonl, manifest):
    m = json.load(open(manifest))
    sent = defaultdict(list)  # flight -> [(seq, valid, record)] in file order
    for line in open(jsonl):
        r = json.loads(line)
        seq = int(r["headers"]["skyload-seq"])
        sent[r["key"]].append((seq, "error" not in r, r["value"]))
    faults = defaultdict(lambda: defaultdict(set))
    for f in m["faults"]:
        n = f.get("count", 1) if f["kind"] == "gap" else 1
        for s in range(f["seq"], f["seq"] + n):
            faults[f["flight"]][f["kind"]].add(s)
    errors, unique = [], 0
    for fl in m["flights"]:
        fid, recs, fx = fl["id"], sent.get(fl["id"], []), faults[fl["id"]]
        missing = fx["drop"] | fx["gap"]
        expect = [s for s in range(fl["first_seq"], fl["last_seq"] + 1) if s not in missing]
        valid = sorted(s for s, ok, _ in recs if ok)
        want = sorted(expect + list(fx["duplicate"]))
        want = [s for s in want if s not in fx["malformed"]]
        if valid != want:
            errors.append(f"{fid}: valid seqs {valid} != expected {want}")
        bad = sorted(s for s, ok, _ in recs if not ok)
        if bad != sorted(fx["malformed"]):
            errors.append(f"{fid}: malformed seqs {bad} != {sorted(fx['malformed'])}")
        order = [s for s, _, _ in recs]
        for s in fx["reorder"]:
            if order.index(s) < order.index(s + 1):
                errors.append(f"{fid}: seq {s} was not sent after {s + 1}")
        unique += len(set(valid))
        if fl.get("final"):
            last = [v for s, ok, v in recs if ok and s == fl["final"]["seq"]]
            if not last or abs(last[0]["location"]["latitude"] - fl["final"]["lat"]) > 1e-6:
                errors.append(f"{fid}: final {fl['final']} is not its last valid record")
    if set(sent) - {f["id"] for f in m["flights"]}:
        errors.append("records for flights the manifest does not list")
    if unique != m["totals"]["expected_unique"]:
        errors.append(f"expected_unique {m['totals']['expected_unique']} != {unique}")
    if sum(len(v) for v in sent.values()) != m["totals"]["produced"]:
        errors.append("produced total differs from the records in the file")
    for e in errors[:20]:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
