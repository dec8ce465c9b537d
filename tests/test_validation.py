"""Pattern-oriented validation: the seeded baseline, the stories, and the null models."""

import json
from pathlib import Path

import pytest

from sim.analysis.stats import wilson
from sim.analysis.validation import load_patterns, validate
from sim.inputs.vocab import NullModel
from sim.run.execution import SERIAL, Execution
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
    result = validate(replicates=300, seed=99, execution=Execution(progress=False))
    failed = [p for p in result["patterns"] if p["kind"] == "primary" and not p["passed"]]
    assert not failed, failed
    assert {p["id"] for p in result["patterns"]} == {p.id for p in load_patterns()}


@pytest.mark.slow
@pytest.mark.parametrize("null", [n for n in NullModel if n != NullModel.NONE])
def test_every_primary_story_fails_under_every_null_model(null):
    result = validate(replicates=400, seed=5, execution=Execution(progress=False), null=null)
    shares = {p["id"]: p["share"] for p in result["patterns"] if p["kind"] == "primary"}
    assert all(share < 0.2 for share in shares.values()), shares


if __name__ == "__main__":
    BASELINE.parent.mkdir(exist_ok=True)
    BASELINE.write_text(json.dumps(baseline_rows(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {BASELINE}")


# --- the fact table (issue 20) -------------------------------------------------------------------
def _run(votes=(), events=(), row=None):
    return {"row": row or {}, "votes": list(votes), "events": list(events)}


def _vote_rows(vote_id, form, host, stage, month, said):
    """Vote rows: ``said`` maps council -> (vote, preferred_form, named_host)."""
    return [
        {
            "vote_id": vote_id,
            "month": month,
            "stage": stage,
            "sectors": '["agriculture"]',
            "form": form,
            "host": host,
            "municipality": m,
            "vote": v,
            "preferred_form": pf,
            "preferred_host": "",
            "named_host": nh,
        }
        for m, (v, pf, nh) in said.items()
    ]


def test_fact_table_cites_the_report_and_holds_out_a_third_on_every_pilot():
    from sim.analysis.validation import load_facts

    facts = load_facts()
    assert len({f.id for f in facts}) == len(facts) >= 20
    held = [f for f in facts if f.role == "validation"]
    assert 0.25 <= len(held) / len(facts) <= 0.45
    assert {f.case for f in held} == {"fjellregionen", "vaernesregionen", "fosen"}
    assert all(f.source.startswith("§") and " l." in f.source for f in facts)


def test_stated_clause_reads_positions_of_partners_only_and_every_vote():
    from sim.analysis.validation import stated

    rows = _vote_rows(
        1, "board_host", "A", "first", "2016-05", {"A": ("yes", "board_host", "A"), "B": ("no", "admin_host", "A")}
    )
    run = _run(rows)
    assert stated(run, "preferred_form", equals="admin_host", partners=True)
    assert not stated(run, "preferred_form", equals="admin_host")
    assert stated(run, "named_host", equals="A")
    later = _vote_rows(
        2, "admin_host", "A", "final", "2016-09", {"A": ("yes", "admin_host", "A"), "B": ("yes", "network", "B")}
    )
    both = _run(rows + later)
    assert stated(both, "named_host", equals="A") and not stated(both, "named_host", equals="A", every=True)
    assert not stated(both, "preferred_form", differs="board_host", every=True)
    assert not stated(_run(), "preferred_form", equals="network", every=True)  # no vote: nothing stated


def test_vote_min_no_event_filters_no_vote_no_event_and_change():
    from sim.analysis.validation import change, event, no_event, no_vote, vote

    rows = _vote_rows(
        1,
        "board_host",
        "A",
        "first",
        "2016-05",
        {"A": ("yes", "board_host", "A"), "B": ("no", "admin_host", "A"), "C": ("yes", "network", "A")},
    )
    run = _run(
        rows,
        [{"kind": "proposal", "month": "2015-01", "sectors": '["agriculture"]', "form": "board_host", "host": "A"}],
    )
    assert vote(run, min_against=2) and not vote(run, min_no=2) and vote(run, min_no=1)
    assert event(
        run, "proposal", ["2014-12", "2015-02"], sectors=["agriculture"], exact=True, form="board_host", host="A"
    )
    assert not event(run, "proposal", ["2014-12", "2015-02"], form="admin_host")
    assert not event(run, "proposal", ["2015-02", "2015-03"])
    assert no_event(run, "proposal", ["2015-02", "2016-12"]) and not no_event(run, "proposal", ["2015-01", "2015-01"])
    assert no_vote(run, ["admin_host", "merger"]) and not no_vote(run, ["board_host"])
    row = {"main_project_start": "2014-10", "vulnerability_main_start": 0.5, "vulnerability_pilot_end": 0.4}
    assert not change(_run(row=row), "vulnerability", min_rel=-0.10)  # a fall of 20 % is not "i liten grad"
    assert change(_run(row=row), "vulnerability", min_rel=-0.25, max_rel=0.0)
    assert not change(_run(row={**row, "main_project_start": ""}), "vulnerability", min_rel=-1.0)


def test_fact_table_rejects_an_unknown_role(tmp_path):
    from sim.analysis.validation import load_facts
    from sim.inputs.errors import InputError

    bad = tmp_path / "facts.toml"
    bad.write_text(
        '[[fact]]\nid = "x"\ncase = "fosen"\nrole = "both"\nsource = "§2.3 l.1"\nstatement = "s"\nclauses = []\n'
    )
    with pytest.raises(InputError, match="role"):
        load_facts(bad)


def test_recorded_preference_is_the_best_option_among_all_open_by_the_vote_valuation():
    """Build 2: preferred_form/host is the best open option (own service = 0) by the valuation that decides the vote."""
    from sim.core.ballot import open_preferences
    from sim.core.model import CooperationModel
    from sim.inputs.loader import load_scenario
    from sim.inputs.vocab import NONE

    model = CooperationModel(load_scenario("vaernesregionen"), rng=3)
    while not any(n.votes for n in model.negotiations):
        model.step()
    neg = next(n for n in model.negotiations if n.votes)
    region, option, p = neg.region, neg.votes[0].option, model.p

    def vote_value(muni, v):
        loss = muni.disappointment(v, region, muni.preferred_host(v, region, region.willing_hosts(v)))
        return (muni.own_value(v, region) if loss > 0 else muni.value(v, region)) - loss

    open_options = [
        option._replace(form=f, host=h)
        for f in p.forms
        if p.allowed(f) and (not f.merges or len(option.sectors) == len(p.sectors))
        for h in (region.willing_hosts(option._replace(form=f)) if f.needs_host else [None])
    ]
    assert {o.form.name for o in open_options} >= {"network", "admin_host", "board_host"}
    forms, hosts = open_preferences(model, region, option)
    for m in option.members:
        muni = region.agents[m]
        best = max([0.0, *(vote_value(muni, o) for o in open_options)])
        chosen = (
            0.0 if forms[m] == NONE else vote_value(muni, option._replace(form=p.vocab.form(forms[m]), host=hosts[m]))
        )
        assert chosen == pytest.approx(best)


def test_directions_table_has_reasons_and_paired_statistics_judge_it():
    from sim.analysis.directions import holds, load_directions, measure, paired

    items = load_directions()
    assert len(items) >= 15 and len({d.id for d in items}) == len(items)
    assert all(("§" in d.reason and " l." in d.reason) or d.reason.startswith("domain logic") for d in items)
    scaled = next(d for d in items if d.id == "valuable_host_role_not_less_formal")
    from sim.inputs.params import load_defaults

    assert dict(scaled.overrides)["hosting_value"] == pytest.approx(1.2 * load_defaults().hosting_value)
    assert measure({"exits": '["A", "B"]'}, "exits") == 2.0
    assert measure({"first_vote": "2016-03"}, "first_vote") == 2016 * 12 + 2
    assert measure({"first_vote": ""}, "first_vote") is None
    assert measure({"stall_cause": "governance_dispute"}, "stall_cause", "governance_dispute") == 1.0
    stats = paired([1.0, 1.0, 0.0, None], [0.0, 0.0, 0.0, 1.0])  # the unpaired replicate is left out
    assert stats["n"] == 3 and stats["diff"] == pytest.approx(-2 / 3) and stats["ci95"][1] < 0.5
    assert holds("lower", [-0.3, -0.1]) and not holds("lower", [-0.3, 0.1])
    assert holds("not_lower", [-0.3, 0.1]) and not holds("not_lower", [-0.3, -0.1])
    assert holds("higher", [0.1, 0.3]) and not holds("not_higher", [0.1, 0.3])


def test_a_direction_runs_in_a_split_vocabulary_and_directions_can_be_chosen():
    """Issue 20, Build 7: the §3.2 experiment with planning split is a direction of its own."""
    from sim.analysis.directions import directions, load_directions
    from sim.analysis.variants import read_splits
    from sim.run.execution import SERIAL

    split = [d for d in load_directions() if d.split]
    assert split and all(d.split in read_splits() for d in split)
    out = directions(replicates=3, execution=SERIAL, only=["split_sector_by_sector_gives"])
    (row,) = out["directions"]
    assert row["case"] == "vaernesregionen (planning split)" and row["n"] == 3
    assert row["base"] == 1.0  # at the historical agenda nothing forms for agriculture in the split case either


def test_a_direction_naming_an_unknown_split_is_one_clear_error(tmp_path):
    from sim.analysis.directions import load_directions
    from sim.inputs.errors import InputError

    path = tmp_path / "directions.toml"
    path.write_text(
        '[[direction]]\nid = "x"\ncase = "fosen"\nsplit = "nope"\nset = { agenda = "bundle" }\n'
        'measure = "exits"\nexpect = "higher"\nreason = "domain logic"\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"direction\[0\]\.split: no \[split.nope\] table"):
        load_directions(path)


def test_knockouts_name_a_story_and_switch_a_mechanism_off():
    from sim.analysis.validation import load_knockouts
    from sim.inputs.params import load_defaults

    kos = load_knockouts()
    assert {k.pattern for k in kos} == {"fjellregionen.story", "vaernesregionen.story", "fosen.story"}
    defaults = load_defaults().as_dict()
    for k in kos:
        assert "§" in k.mechanism and k.overrides
        assert all(defaults[key] != value for key, value in k.overrides)  # each override changes something


@pytest.mark.slow
def test_every_story_fails_when_a_mechanism_the_report_names_is_knocked_out():
    from sim.analysis.validation import knockouts

    results = knockouts(replicates=100, seed=5, execution=SERIAL)
    assert [k["id"] for k in results if not k["fails"]] == []


def test_directions_flag_refuses_other_modes_with_one_line():
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    res = subprocess.run(
        [sys.executable, "run.py", "validate", "--directions", "--null", "all"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "--directions" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_the_validation_table_speaks_plain_words_and_explains_its_columns():
    """No "story / primary / thr": kinds and columns in words, with the key under the table (issue 22)."""
    from sim.analysis.validation import KIND_WORDS, format_table, markdown

    pattern = {"id": "a.story", "kind": "primary", "share": 0.8, "ci95": [0.5, 0.9], "threshold": 0.75}
    result = {
        "replicates": 10, "seed": 1, "seconds": 1.0, "null": "none", "joint": {"share": 0.8, "ci95": [0.5, 0.9]},
        "patterns": [{**pattern, "passed": True, "clauses": {"first vote": 0.9}}],
    }  # fmt: skip
    for text in (format_table(result, clauses=True), markdown(result, "cmd", [result])):
        assert "thr" not in text.split() and "| primary |" not in text
        assert KIND_WORDS["primary"] in text and "Held in: share of the replicates" in text
        assert "Needed: the share a pattern must reach to pass" in text


def test_scored_in_the_worker_as_on_the_records():
    """A run scored in its worker (``Scorer`` as ``Job.reduce``) keeps every clause's hit and no records (issue 19)."""
    from sim.analysis.validation import CLAUSES, as_run, clause_key, holds, load_facts, scorer
    from sim.run.runner import run_job

    patterns, facts = load_patterns(), load_facts()
    for case in dict.fromkeys(p.case for p in patterns):
        score = scorer(patterns, facts, case)
        assert score.clauses and all(c.test != "contrast" for c in score.clauses)
        for r in range(6):
            full = run_job(Job(r, case, r, 2016, detail="records"))
            small = run_job(Job(r, case, r, 2016, detail="records", reduce=score))
            assert set(small) == {"index", "row", "hits"} and small == score(full)
            assert set(small["row"]) <= set(full["row"]) and len(small["row"]) <= 3
            for c in score.clauses:
                assert holds(c, clause_key(c), small) == CLAUSES[c.test](as_run(full), **c.args)
