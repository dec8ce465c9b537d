"""The validation workflow: the report's stories, the null models and knock-outs, face validity, robustness.

:func:`validate` checks every option and output file first, then runs and reports each table
through ``say`` as soon as it is scored (a run with every null model takes a while), and writes
the JSON, the markdown and the robustness folder at the end. The scoring itself is
:mod:`sim.analysis.validation`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.analysis import directions as face
from sim.analysis import robustness as corners
from sim.analysis import validation as stories
from sim.api.checks import Output, posterior_option, write_metadata
from sim.inputs.errors import InputError
from sim.inputs.loader import load_scenario
from sim.inputs.vocab import DEFAULT_SEED, NULL_MODELS
from sim.run.execution import Execution
from sim.run.output import PROGRAM, OutputFolder, check_output_file, write_text_atomic
from sim.run.runner import DETAIL_BYTES, ROW_BYTES, check_fits


def _refuse(option: str, value: str, null: str, **given: Any) -> None:
    """Refuse (one line) the options that cannot be combined with ``option``: any of ``given`` set, a null model."""
    for name, other in given.items():
        if other:
            raise InputError(option, value, f"cannot be combined with --{name}")
    if null != "none":
        raise InputError(option, value, "cannot be combined with --null")


def validate_county(
    county: str,
    replicates: int | None = None,
    seed: int = DEFAULT_SEED,
    clauses: bool = False,
    execution: Execution = Execution(),
    say: Callable[[str], None] = print,
) -> Output:
    """The pilots' primary stories inside a county scenario (each at least 0.6; default 200 replicates)."""
    from sim.analysis.results import load_unique  # pandas: only here, not in every validation (issue 19)

    loaded = load_unique([county])[0]
    if loaded.kind != "county" or not loaded.pilot_files:
        raise InputError("--county", county, "is not a county scenario with pilots inside")
    execution.check()
    result = stories.validate_county(str(loaded.path), replicates or 200, seed, execution=execution)
    say(f"pilot stories inside {loaded.name} (bar 0.6)")
    say(stories.format_table(result, clauses=clauses))
    return Output(None, result)


def validate_directions(
    replicates: int | None = None,
    seed: int = DEFAULT_SEED,
    markdown: Path | None = None,
    force: bool = False,
    execution: Execution = Execution(),
    command: list[str] | None = None,
    say: Callable[[str], None] = print,
    only: Sequence[str] | None = None,
) -> Output:
    """The face-validity expectations of ``scenarios/directions.toml`` (paired runs; default 200 replicates).

    ``only``: run the expectations whose id contains one of these words (all when empty).
    """
    target = None
    if markdown:
        target = check_output_file(markdown, "--markdown", "## Face validity", force)
    execution.check()
    result = face.directions(replicates or 200, seed, execution, only)
    say(face.format_directions(result))
    if target is not None:
        write_text_atomic(target, face.markdown(result, "python " + shlex.join(command or ["run.py"])))
    return Output(target, result)


def _output_files(json_file: Path | None, markdown: Path | None, out: Path | None, force: bool) -> dict[str, Path]:
    """The ``--json`` and ``--markdown`` files, checked: never a user's own file, never the same, never in ``out``."""
    markers = {"--json": f'"program": "{PROGRAM}"', "--markdown": "# Validation (generated)"}
    given = {"--json": json_file, "--markdown": markdown}
    files = {opt: check_output_file(path, opt, markers[opt], force) for opt, path in given.items() if path}
    # Both are written at the end: the second write would replace the first without a word.
    if len(set(files.values())) < len(files):
        raise InputError("--markdown", str(files["--markdown"]), "is the same file as --json")
    if out is not None:
        target = Path(os.path.realpath(out))
        for opt, path in files.items():
            if path == target or target in path.parents:
                raise InputError(opt, str(path), "is --out or inside it; write it elsewhere")
    return files


def _robustness(replicates: int, seed: int, execution: Execution, post, say) -> tuple[corners.Robustness, dict]:
    """The robustness corners around the posterior's 5 % and 95 % quantiles (the committed one by default)."""
    # The corners sit at the posterior's 5 % and 95 % quantiles, so they need a posterior even when
    # none was given: the committed calibration's.
    post = post if post is not None else posterior_option(None, committed=True)
    used: dict[str, Any] = {}
    result = corners.robustness(replicates, seed, execution, used=used, posterior=post)
    say("")
    say(corners.format_table(result))
    return result, used


def _check(replicates: int, null: str, posterior, json_file, markdown, robustness: bool, out, force: bool):
    """Check the options of :func:`validate` before any work; return the output files and the posterior."""
    if out is not None and not robustness:
        raise InputError("--out", str(out), "only with --robustness")
    # The corners move inputs of the full model; scoring them under one null model would test
    # nothing the report claims.
    if robustness and null not in ("none", "all"):
        raise InputError("--null", null, "--robustness moves inputs of the full model; use --null none or all")
    files = _output_files(json_file, markdown, out, force)
    cases = len(stories.pattern_cases(stories.load_patterns()))
    check_fits(replicates * cases, ROW_BYTES, "--replicates", str(replicates))
    post = posterior_option(posterior)
    if robustness:
        check_fits(replicates, DETAIL_BYTES, "--replicates", str(replicates))
    return files, post


def validate(
    replicates: int | None = None,
    seed: int = DEFAULT_SEED,
    null: str = "none",
    clauses: bool = False,
    posterior: Path | None = None,
    json_file: Path | None = None,
    markdown: Path | None = None,
    robustness: bool = False,
    out: Path | None = None,
    force: bool = False,
    county: str | None = None,
    directions: bool | Sequence[str] | None = False,
    execution: Execution = Execution(),
    command: list[str] | None = None,
    say: Callable[[str], None] = print,
) -> Output:
    """Score the report's stories and facts over many replicates; report each table through ``say``.

    Args:
        replicates: Replicates per case (default 1000; 200 per corner with ``robustness``).
        seed: Base seed.
        null: ``none``, one null model (every primary story must then fail), or ``all`` after the full model
            (with the knock-outs).
        clauses: Also report each story clause's share.
        posterior: A calibration result folder: replicate ``r`` runs with its set ``r mod K``.
        json_file: Also write the result as JSON here.
        markdown: Also write docs-style markdown here.
        robustness: Also move each estimated input and calibrated parameter one at a time.
        out: With ``robustness``: write ``robustness.csv`` and the tornado plots into this folder.
        force: Replace ``out``, and ``json_file``/``markdown`` files that this program did not write.
        county: Instead, the pilots' stories inside this county scenario (:func:`validate_county`).
        directions: Instead, the face-validity expectations (:func:`validate_directions`); words: those matching.
        execution: Workers, scheduler, progress bar.
        command: The command line recorded in the files written.
        say: Where each table goes as soon as it is scored.
    """
    given = {"robustness": robustness, "json": json_file, "markdown": markdown, "out": out, "posterior": posterior}
    if county:
        _refuse("--county", county, null, **given)
        return validate_county(county, replicates, seed, clauses, execution, say)
    if directions is not False and directions is not None:
        _refuse("--directions", "", null, **{k: v for k, v in given.items() if k != "markdown"})
        only = None if directions is True else list(directions)
        return validate_directions(replicates, seed, markdown, force, execution, command, say, only)
    # Fewer per run with --robustness: every moved input adds two corners, each a validation of its own.
    replicates = replicates or (200 if robustness else 1000)
    files, post = _check(replicates, null, posterior, json_file, markdown, robustness, out, force)
    execution.check()
    folder = OutputFolder(out, force) if out is not None else None  # checked before any work
    started = datetime.now()
    with folder if folder is not None else contextlib.nullcontext() as tmp:
        result = _stories(replicates, seed, null, clauses, post, execution, say)
        robust = _robustness(replicates, seed, execution, post, say) if robustness else None
        if robust is not None and tmp is not None:
            _save_robustness(tmp, *robust, seed, replicates, command, started)
    if folder is not None:
        say(f"wrote {folder.path}/ (robustness.csv, tornado plots as PNG and SVG, metadata.json)")
    _write_files(result, files, command or ["run.py"], robust[0] if robust else None)
    return Output(folder.path if folder else None, result)


def _stories(replicates: int, seed: int, null: str, clauses: bool, post, execution: Execution, say) -> dict:
    """The full model's (or one null model's) stories and facts; with ``null="all"`` every null model and knock-out."""
    # With --null all the full model is scored first: a story is evidence only if the full model
    # reproduces it and every null model (each without one mechanism) fails it.
    result = stories.validate(replicates, seed, execution, null="none" if null == "all" else null, posterior=post)
    say(stories.format_table(result, clauses=clauses))
    say(stories.format_facts(result))
    result["nulls"] = []
    for n in NULL_MODELS if null == "all" else ():
        result["nulls"].append(stories.validate(replicates, seed, execution, null=n, posterior=post))
        say("")
        say(stories.format_table(result["nulls"][-1], clauses=clauses))
    if null == "all":
        result["knockouts"] = stories.knockouts(replicates, seed, execution)
        say("")
        say(stories.format_knockouts(result["knockouts"]))
    return result


def _save_robustness(folder: Path, result, used, seed: int, replicates: int, command, started) -> None:
    """``robustness.csv``, the tornado plots and ``metadata.json`` in ``folder``."""
    from sim.views.figures import save_robustness_figures  # matplotlib only when the plots are drawn

    corners.save(result, folder)
    save_robustness_figures(result, folder)
    scenarios = [load_scenario(c) for c in dict.fromkeys(p.case for p in corners.primary_patterns())]
    extra = {"robustness": {"step": result.step, "basis": result.corners_text}}
    write_metadata(folder, scenarios, seed, replicates, command, started, used, **extra)


def _write_files(result: dict[str, Any], files: dict[str, Path], command: list[str], robust: Any = None) -> None:
    """The ``--json`` and ``--markdown`` files (with the robustness corners, if run)."""
    if "--json" in files:
        # "program" marks the file as ours, so a later --json may overwrite it without --force
        # (_output_files); the raw rows stay out, the shares are the result.
        data = {"program": PROGRAM, **{k: v for k, v in result.items() if k != "rows"}}
        if robust is not None:
            data["robustness"] = robust.to_dict()
        write_text_atomic(files["--json"], json.dumps(data, indent=2) + "\n")
    if "--markdown" in files:
        text = stories.markdown(result, "python " + shlex.join(command), result.get("nulls"))
        if robust is not None:
            text += corners.markdown(robust)
        write_text_atomic(files["--markdown"], text)
