"""The short answer of ``compare``: headline outcomes that differ, rounded to their intervals, in words."""

from __future__ import annotations

import pandas as pd

from sim.analysis import answers


def _row(outcome, diff, lo, hi, variant="v", base=1.0, kind="mean"):
    return {
        "outcome": outcome,
        "label": outcome,
        "kind": kind,
        "baseline": base,
        "variant": base + diff,
        "difference": diff,
        "ci_low": lo,
        "ci_high": hi,
        "n": 200,
        "method": "paired Student t",
        "variant_name": variant,
        "overrides": "{'county_initiative': 'true'}",
    }


def test_decimals_follow_the_interval_width():
    assert answers.decimals(0.224, 0.356, 2) == 1  # +0.290 [0.224, 0.356] -> +0.3 (0.2 to 0.4)
    assert answers.decimals(-2569.0, 3280.0, 0) == -3  # residents: thousands
    assert answers.decimals(0.462, 0.462, 3) == 3  # no width: the outcome's own decimals


def test_number_in_both_languages():
    assert answers.number(436161.4, -3, "en", sign=True) == "+436,000"
    assert answers.number(-0.351, 3, "nb", sign=True) == "−0,351"
    assert answers.number(436161.4, -3, "nb") == "436\u00a0000"


def test_short_table_keeps_headline_outcomes_that_differ():
    table = pd.DataFrame(
        [
            _row("offices_agriculture", 0.29, 0.224, 0.356),
            _row("offices_planning", 0.0, 0.0, 0.0),  # no change: left out
            _row("network_members_agriculture", 1.0, 0.5, 1.5),  # differs but not a headline outcome
            _row("stalls", -0.1, -0.3, 0.1),  # within chance
        ]
    )
    short = answers.short_table(table, "county", ["planning", "agriculture"])
    assert list(short["outcome"]) == ["offices_agriculture"]
    text = answers.sentence("initiative", short, 200)
    assert text.startswith("initiative changes: joint agriculture offices (formal) +0.3 (+0.2 to +0.4)")
    nb = answers.sentence("initiative", short, 200, "nb")
    assert "felles kontorer for landbruk (formelle) +0,3 (+0,2 til +0,4)" in nb


def test_a_variant_that_changes_nothing_says_so():
    table = pd.DataFrame([_row("offices_agriculture", 0.0, -0.1, 0.1)])
    text = answers.render(table, "county", ["agriculture"], "Trøndelag")
    assert "v: no outcome differs from the baseline in 200 paired replicates." in text
