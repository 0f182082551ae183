"""DIR/results.md: the sweep's table, each case's outcome and verdict before and after the fixes,
from DIR/results_before.json and DIR/results_after.json (sweep.py --tag before / --tag after).

    python tools/hostile_sweep/merge_results.py [--out DIR]   # DIR: work/hostile_sweep
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "work" / "hostile_sweep"
KINDS = ["handled well", "traceback", "silent wrong", "data loss", "hang", "unclear error",
         "wrong refusal"]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the sweep's folder")
    out = ap.parse_args().out
    before = {r["id"]: r for r in json.loads((out / "results_before.json").read_text())}
    after_path = out / "results_after.json"
    after = {r["id"]: r for r in json.loads(after_path.read_text())} if after_path.exists() else {}
    rows = ["# Issue 41: the sweep of hostile cases over every verb", "",
            f"{len(before)} cases, each run as `nice -n 19 bash -c 'ulimit -v 6000000; mgproto "
            "...'` with OMP_NUM_THREADS=1, sequentially, timeout 120 s "
            "(tools/hostile_sweep/sweep.py, cases in cases.py, inputs made by setup_world.py). "
            "`{w}` is the sweep folder's "
            "world, `{o}` the case's own folder under its out, `{s}` the tiny run's --set "
            "list. Before: the run tagged before; after: the run tagged after.",
            "", "| verdict | before | after |", "|---|---|---|"]  # fmt: skip
    cb = Counter(r["verdict"] for r in before.values())
    ca = Counter(r["verdict"] for r in after.values())
    rows += [f"| {k} | {cb.get(k, 0)} | {ca.get(k, 0) if after else '-'} |" for k in KINDS]
    rows += ["", "Verdicts: *handled well* = a zero exit with a plausible result where one was "
             "due, or exit 2 with one line naming the file / flag; *unclear error* = refused, "
             "but not in one line naming what is wrong; *wrong refusal* = a valid command "
             "refused.", "", "| case | command | outcome before | verdict before | outcome after "
             "| verdict after |", "|---|---|---|---|---|---|"]  # fmt: skip

    def cell(r: dict | None) -> tuple[str, str]:
        if r is None:
            return "not run", "-"
        why = r["why"].replace("|", "\\|").replace("\n", " ")[:220]
        return f"rc {r['rc']}, {r['wall']} s: {why}", r["verdict"]

    for cid, b in before.items():
        ob, vb = cell(b)
        oa, va = cell(after.get(cid))
        cmd = b["command"].replace("|", "\\|")
        rows.append(f"| {cid} | `{cmd}` | {ob} | {vb} | {oa} | {va} |")
    (out / "results.md").write_text("\n".join(rows) + "\n")
    print({"before": dict(cb), "after": dict(ca)})


if __name__ == "__main__":
    main()
