"""The house: six wings imported in one direction, no import loop, no place name in the code.

Every ``sim`` import counts, at module level and inside functions. Imports under ``TYPE_CHECKING``
(type hints only) are left out of the loop test: the core's agents still name the model in their
hints (agents -> model -> agents), a known remaining circle; they do count for the wing order.
"""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIM = ROOT / "sim"
#: Lower wings never import higher ones; ``cli`` and the package ``__init__`` sit on top.
ORDER = ["inputs", "core", "run", "analysis", "views", "api"]


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_only(tree: ast.Module) -> set[int]:
    """Ids of the import nodes under ``if TYPE_CHECKING:``."""
    return {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and getattr(block.test, "id", "") == "TYPE_CHECKING"
        for stmt in block.body
        for node in ast.walk(stmt)
    }


def _imports(type_hints: bool = True) -> dict[str, set[str]]:
    """Each module of ``sim`` and the ``sim`` modules it imports, wherever the import stands."""
    modules = {_module(p): p for p in SIM.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = set() if type_hints else _type_only(tree)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("sim")}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _wing(module: str) -> int:
    parts = module.split(".")
    if len(parts) > 2 and parts[1] in ORDER:
        return ORDER.index(parts[1])
    return len(ORDER)  # sim, sim.cli...: the top


def test_lower_wings_never_import_higher_ones():
    wrong = [
        f"{a} -> {b}"
        for a, targets in _imports().items()
        for b in targets
        if _wing(b) > _wing(a) or (b == "sim" and a != "sim")
    ]
    assert not wrong, wrong


def test_no_import_loop_counting_local_imports():
    graph = _imports(type_hints=False)
    state: dict[str, int] = {}
    loops: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                loops.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert not loops, loops


def test_no_municipality_or_region_name_in_the_code():
    names: set[str] = set()
    with open(ROOT / "data" / "kommuner-2016.csv", encoding="utf-8") as f:
        names |= {row[key] for row in csv.DictReader(f) for key in ("name", "name_full", "county2016")}
    with open(ROOT / "data" / "regions-trondelag-2016.csv", encoding="utf-8") as f:
        names |= {row["region"] for row in csv.DictReader(f)}
    names -= {"Time", "Marker"}  # municipalities whose names are also English words
    stems = {"Fjellregion", "Værnes", "Fosen", "Trøndelag"}  # the pilots' and the county's names, as word stems
    patterns = {n: rf"(?<!\w){re.escape(n)}(?!\w)" for n in names if len(n) > 2}
    patterns |= {n: rf"(?<!\w){re.escape(n)}" for n in stems}
    found = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in SIM.rglob("*.py")
        for name, pattern in patterns.items()
        if re.search(pattern, path.read_text(encoding="utf-8"))
    }
    assert not found, sorted(found)


def _behaviour_lines(cls: ast.ClassDef) -> int:
    """Lines of a class that are not field declarations (annotated or plain assignments, docstring)."""
    fields = (ast.AnnAssign, ast.Assign, ast.Expr)
    return sum(s.end_lineno - s.lineno + 1 for s in cls.body if not isinstance(s, fields))


def test_no_function_over_60_lines_and_no_class_over_150_lines_of_behaviour():
    long = []
    for path in sorted(SIM.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = f"{path.relative_to(ROOT)}:{getattr(node, 'name', '')}"
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if node.end_lineno - node.lineno + 1 > 60:
                    long.append(f"{name} ({node.end_lineno - node.lineno + 1} lines)")
            elif isinstance(node, ast.ClassDef) and _behaviour_lines(node) > 150:
                long.append(f"{name} (class, {_behaviour_lines(node)} lines of behaviour)")
    assert not long, long


def test_the_command_line_is_thin():
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in (SIM / "cli").glob("*.py")}
    assert max(sizes.values()) < 500, sizes
