"""Pattern-oriented validation: the seeded baseline, the stories, and the null models."""

import json
from pathlib import Path

import pytest

from sim.analysis.stats import wilson
from sim.analysis.validation import load_patterns, validate
from sim.inputs.vocab import NullModel
from sim.run.runner import Job, run_rows

BASELINE = Path(__file__).parent / "data" / "baseline.json"
KEYS = [
    "scenario",
    "form_planning",
    "form_environment",
    "form_agriculture",
    "members_agriculture",
    "host_agriculture",
    "decided_agriculture",
    "first_vote",
    "stall_cause",
    "exits",
    "main_project_start",
    "competence_pilot_end",
    "vulnerability_agriculture_horizon",
]


def baseline_rows():
    jobs = [
        Job(i * 5 + r, case, r, 2016, ())
        for i, case in enumerate(["fjellregionen", "vaernesregionen", "fosen"])
        for r in range(5)
    ]
    rows = run_rows(jobs, workers=1, progress=False)
    return [{k: (round(v, 9) if isinstance(v, float) else v) for k, v in r.items() if k in KEYS} for r in rows]


def test_seeded_baseline_has_not_drifted():
    """Fails on any change of behaviour; regenerate with `python tests/test_validation.py`."""
    assert baseline_rows() == json.loads(BASELINE.read_text(encoding="utf-8"))


def test_wilson_interval():
    lo, hi = wilson(80, 100)
    assert lo < 0.8 < hi and round(lo, 3) == 0.711 and round(hi, 3) == 0.867


def test_patterns_are_stories_with_clauses():
    patterns = load_patterns()
    primary = [p for p in patterns if p.kind == "primary"]
    assert {p.case for p in primary} == {"fjellregionen", "vaernesregionen", "fosen"}
    assert all(len(p.clauses) >= 2 for p in primary if p.case != "fosen")


@pytest.mark.slow
def test_primary_stories_hold_with_the_shared_parameters():
    result = validate(replicates=300, seed=99, progress=False)
    failed = [p for p in result["patterns"] if p["kind"] == "primary" and not p["passed"]]
    assert not failed, failed
    assert {p["id"] for p in result["patterns"]} == {p.id for p in load_patterns()}


@pytest.mark.slow
@pytest.mark.parametrize("null", [n for n in NullModel if n != NullModel.NONE])
def test_every_primary_story_fails_under_every_null_model(null):
    result = validate(replicates=400, seed=5, progress=False, null=null)
    shares = {p["id"]: p["share"] for p in result["patterns"] if p["kind"] == "primary"}
    assert all(share < 0.2 for share in shares.values()), shares


if __name__ == "__main__":
    BASELINE.parent.mkdir(exist_ok=True)
    BASELINE.write_text(json.dumps(baseline_rows(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {BASELINE}")
