"""The §3.2 lesson in Værnesregionen, three sectors and planning split (issue 20, Build 7).

The report (§3.2 l.2778-2783) warns against one solution for all three sectors as in
Værnesregionen and recommends integrating sector by sector, step by step. This script runs a case
with the historical agenda (``choose``) and with ``agenda=sector_by_sector``, in the three-sector
vocabulary and with a sector split of ``scenarios/directions.toml`` (``[split.planning]``: land-use
planning and building/mapping), on the same seeds, and prints per setting: a formal agriculture
office, any formal office, any arrangement for agriculture (a network included) at the end of the
pilot, the case's primary story, and the forms the councils prefer in the agriculture votes,
with 95 % Wilson intervals and the paired difference (Newcombe) of sector by sector minus choose.

    PYTHONPATH=$PWD nice -n 10 python benchmarks/split_lesson.py --replicates 200
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
from pathlib import Path
from typing import Any

from sim.analysis.stats import newcombe_paired, wilson
from sim.analysis.validation import as_run, evaluate, load_patterns
from sim.analysis.variants import load_split, read_splits, split_folder
from sim.inputs.loader import load_scenario
from sim.run.execution import Execution
from sim.run.runner import Job

MEASURES = {
    "formal agriculture office": lambda r: bool(r["formal_agriculture"]),
    "any formal office": lambda r: bool(r["formal_by_pilot_end"]),
    "agriculture: any arrangement": lambda r: r["form_agriculture"] != "none",
    "a member left": lambda r: r["exits"] != "[]",
}


def runs(scenario: Any, replicates: int, seed: int) -> list[dict[str, Any]]:
    """The case's runs with records, replicate r on the same seed in every setting."""
    jobs = [Job(r, scenario, r, seed, detail="records") for r in range(replicates)]
    return list(Execution(workers=1, progress=False).execute(jobs))


def summary(out: list[dict[str, Any]], case: str, patterns_file: Path) -> dict[str, list[bool]]:
    """Per measure, one flag per replicate; the primary story's flag from the pattern file's scoring."""
    flags = {name: [f(o["row"]) for o in out] for name, f in MEASURES.items()}
    story = [p for p in load_patterns(patterns_file) if p.case == case and p.kind == "primary"]
    for p in story:
        flags[p.id] = [bool(evaluate([p], {(case, ()): [as_run(o)]})["patterns"][0]["share"]) for o in out]
    return flags


def main() -> None:
    """Run the four settings and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default="vaernesregionen")
    ap.add_argument("--split", default="planning", help="a [split.NAME] of scenarios/directions.toml")
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20161214)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = split_folder(read_splits()[a.split], Path(tmp) / a.split)
        settings = {}
        for vocab, load, patterns in (
            ("three sectors", lambda over: load_scenario(a.case, over), Path("scenarios/patterns.toml")),
            (f"{a.split} split", lambda over: load_split(a.case, folder, over), folder / "patterns.toml"),
        ):
            for agenda in ("choose", "sector_by_sector"):
                out = runs(load({"agenda": agenda}), a.replicates, a.seed)
                prefs = collections.Counter(
                    v["preferred_form"] for o in out for v in o["votes"] if json.loads(v["sectors"]) == ["agriculture"]
                )
                settings[(vocab, agenda)] = (summary(out, a.case, patterns), prefs)
    print(f"{a.case}, {a.replicates} replicates, seed {a.seed}; share [95 % Wilson]; diff: sector_by_sector - choose")
    for vocab in dict.fromkeys(v for v, _ in settings):
        base, _ = settings[(vocab, "choose")]
        var, prefs = settings[(vocab, "sector_by_sector")]
        print(f"-- {vocab}; preferred forms in agriculture-only votes (sector by sector): {dict(prefs)}")
        for name in base:
            b, v, n = base[name], var[name], a.replicates
            pairs = list(
                zip(v, b, strict=True)
            )  # (sector by sector, choose): the difference is the first minus the second
            cells = [sum(x == f and y == g for x, y in pairs) for f, g in ((1, 1), (1, 0), (0, 1), (0, 0))]
            lo, hi = newcombe_paired(*cells)
            sb, sv = sum(b) / n, sum(v) / n
            wb, wv = wilson(sum(b), n), wilson(sum(v), n)
            print(
                f"   {name:30s} choose {sb:.3f} [{wb[0]:.3f}, {wb[1]:.3f}]  sector_by_sector {sv:.3f} "
                f"[{wv[0]:.3f}, {wv[1]:.3f}]  diff {sv - sb:+.3f} [{lo:+.3f}, {hi:+.3f}]"
            )


if __name__ == "__main__":
    main()
