"""Generated documentation stays in step with the code."""

import os
from pathlib import Path

from sim.inputs.params import parameter_table

ROOT = Path(__file__).resolve().parents[1]


def test_odd_parameter_table_is_the_catalogue():
    """docs/ODD.md III.viii is ``parameter_table()``; ``UPDATE_DOCS=1 pytest tests/test_docs.py`` rewrites it."""
    odd = ROOT / "docs" / "ODD.md"
    text = odd.read_text(encoding="utf-8")
    start = text.index("| key | group | value")
    end = text.index("\n\n", start)
    if os.environ.get("UPDATE_DOCS"):
        odd.write_text(text[:start] + parameter_table() + text[end:], encoding="utf-8")
        text = odd.read_text(encoding="utf-8")
        end = text.index("\n\n", start)
    assert text[start:end] == parameter_table(), (
        "the ODD's parameter table drifted: UPDATE_DOCS=1 pytest tests/test_docs.py"
    )
