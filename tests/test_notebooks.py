"""Every notebook runs top to bottom on a fresh kernel (outputs are not kept in the repository).

Each section (a ``## `` heading) asks a question; the test checks that the section answers it in
words computed by its code (a Markdown display) and that no notebook edits ``sys.path``. Their
running time is measured in ``benchmarks/bench_interactive.py`` (machine speed is not a pass/fail test).
"""

import time
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def sections(nb):
    """(heading, code cells) per ``## `` section."""
    out = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("## "):
            out.append((cell.source.splitlines()[0], []))
        elif cell.cell_type == "code" and out:
            out[-1][1].append(cell)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_answers_each_question_in_words(path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not any(c.get("outputs") for c in code), "commit notebooks without outputs"
    assert not any("sys.path" in c.source for c in code), "no sys.path hacks: the package is installed"
    start = time.perf_counter()
    nbclient.NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    seconds = time.perf_counter() - start
    print(f"{path.name}: {seconds:.1f} s")
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert sum(1 for c in nb.cells if c.cell_type == "code" and c.outputs) >= 3
    found = sections(nb)
    assert len(found) >= 2
    for heading, cells in found:
        answers = [o for c in cells for o in c.outputs if "text/markdown" in o.get("data", {})]
        assert answers, f"{path.name}: section {heading!r} has no answer in words"


def test_there_are_three_notebooks():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03"]
