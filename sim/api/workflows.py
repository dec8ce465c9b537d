"""The what-if workflows: run, compare, forecast and robust, as a notebook or the command line calls them.

Each one checks every input (including where the output goes) before any run, runs through the
one runner with an :class:`~sim.run.execution.Execution`, writes its result folder whole or not at
all (:class:`~sim.run.output.OutputFolder`, with ``metadata.json``) and returns an :class:`Output`:
the folder, the result and the answer ``python run.py`` prints. The figures are drawn by
``sim.views``, imported only when a figure is made (matplotlib is slow to import).

Example:
    >>> from sim.api.workflows import compare
    >>> done = compare("fosen", {"funded": {"pilot_funding": 2}}, replicates=100)
    >>> print(done.answer); done.result  # the comparison table
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.analysis import answers, futures
from sim.analysis.forecast import LEVERS, run_forecast, save_tables
from sim.analysis.posterior import CONSTRAINED_BELOW, FLAG_CORRELATION, FLAG_MIN_SETS
from sim.analysis.results import check_until, load_unique, run_scenarios
from sim.analysis.results import compare as compare_arms
from sim.api.checks import (  # Output lives there: sim.api.validation needs it without pandas
    Output,
    base_and_variants,
    check_lever_kind,
    default_out,
    posterior_meta,
    posterior_option,
    write_metadata,
)
from sim.inputs.calendar import month_index
from sim.inputs.errors import InputError
from sim.inputs.settings import read_set_file
from sim.inputs.vocab import DEFAULT_SEED
from sim.run.execution import Execution
from sim.run.output import OutputFolder
from sim.run.runner import DETAIL_BYTES, ROW_BYTES, check_fits


def _intervals(table, label: str) -> str:
    """The line naming each kind of outcome's interval method (``share``/``mean``), from the ``method`` column."""
    methods = dict(zip(table["kind"], table["method"], strict=True))
    return f"{label}: " + "; ".join(f"{kind}s: {method}" for kind, method in methods.items())


def summary_text(summary, lang: str = "en") -> str:
    """Outcome shares and means with units and 95 % intervals, rounded to what the intervals support."""
    lines = []
    for name, g in summary.groupby("scenario", sort=False):
        lines.append(f"\n{name}")
        rows = [answers.summary_cells(r, lang) for r in g.to_dict("records")]
        width = max(len(c["label"]) for c in rows)
        unit = max(len(c["unit"]) for c in rows)
        lines += [f"  {c['label']:{width}s}  {c['unit']:{unit}s}  {c['value']:>9s}  {c['interval']}" for c in rows]
    return "\n".join([*lines, "\n" + _intervals(summary, "95 % intervals")])


def _load(scenarios: list[str], overrides, set_file: Path | None, until: str | None) -> tuple[list, int | None]:
    """The scenarios with their overrides (the settings file's, then ``overrides``) and the stop month, checked."""
    overrides = dict(overrides or {})
    if set_file is not None:
        # The command line wins over the settings file, so a saved dashboard setting can be varied
        # one value at a time.
        overrides = {**read_set_file(set_file)[0], **overrides}
    loaded = load_unique(scenarios, overrides, "--set")
    check_lever_kind(loaded, overrides, "--set")
    month = month_index(until, "--until", until) if until is not None else None
    if month is not None:
        check_until(loaded, month, "--until", until)
    return loaded, month


def run(
    scenarios: list[str],
    replicates: int = 100,
    seed: int = DEFAULT_SEED,
    overrides: Mapping[str, Any] | None = None,
    set_file: Path | None = None,
    until: str | None = None,
    out: Path | None = None,
    force: bool = False,
    plots: bool = True,
    lang: str = "en",
    posterior: Path | None = None,
    execution: Execution = Execution(),
    command: list[str] | None = None,
) -> Output:
    """Run replicates of scenarios and write ``runs.csv``, ``timeline.csv``, ``events.csv``... and plots.

    Args:
        scenarios: Scenario names or TOML paths.
        replicates: Replicates per scenario.
        seed: Base seed.
        overrides: ``--set`` values (they win over ``set_file``'s).
        set_file: A settings file (TOML with a ``[set]`` table, as the dashboard saves it).
        until: Stop at this month (``YYYY-MM``), before the scenarios' horizon.
        out: Result folder (default ``results/<scenario>-<time>``).
        force: Replace ``out`` if it is a previous result folder of this program.
        plots: Draw the plots.
        lang: Language of the summary and figure labels (``en``, ``nb``).
        posterior: A calibration result folder: replicate ``r`` runs with its set ``r mod K``.
        execution: Workers, scheduler, progress bar.
        command: The command line recorded in ``metadata.json``.
    """
    loaded, month = _load(scenarios, overrides, set_file, until)
    # Every check (memory, posterior, scheduler, output folder) comes before the first run: a
    # mistake costs seconds, not the hours of an experiment. OutputFolder checks and reserves its
    # target when it is made, outside the `with`.
    check_fits(len(loaded) * replicates, DETAIL_BYTES, "--replicates", str(replicates))
    post = posterior_option(posterior)
    execution.check()
    folder = OutputFolder(default_out(out, "+".join(sc.path.stem for sc in loaded)), force)
    # After the checks: metadata.json's times measure the runs, not the loading.
    started = datetime.now()
    with folder as tmp:
        res = run_scenarios(loaded, replicates, seed, execution=execution, until=month, posterior=post)
        names = res.save(tmp)
        if plots:
            from sim.views.figures import save_figures  # matplotlib only when plots are drawn

            names += save_figures(res, tmp, lang)
        write_metadata(tmp, res.scenarios, seed, replicates, command, started, res.execution, **posterior_meta(post))
    count = sum(n.endswith(".png") for n in names)
    answer = [
        f"\noutcomes over {replicates} replicates per scenario, base seed {seed}:",
        summary_text(res.summary(), lang),
        f"wrote {folder.path}/ (runs.csv, timeline.csv, events.csv, votes.csv, summary.csv, metadata.json"
        + (f", {count} plots as PNG and SVG)" if count else ")"),
    ]
    return Output(folder.path, res, "\n".join(answer))


def _flags(table, post) -> list[str]:
    """Name the what-if answers that depend on parameters the calibration leaves unconstrained."""
    flagged = table[table["depends_on"] != ""]
    lines = [
        f"\nunconstrained parameters (posterior 90 % interval >= {CONSTRAINED_BELOW} of the prior's): "
        f"{len(post.unconstrained)} of {len(post.keys)}"
    ]
    # A correlation over fewer posterior sets than this is mostly noise (posterior.flags); say so
    # instead of printing flags that would not replicate.
    if min(post.size, int(table["n"].iloc[0])) < FLAG_MIN_SETS:
        return [*lines, f"  (no flags: fewer than {FLAG_MIN_SETS} posterior sets in the comparison)"]
    if flagged.empty:
        lines.append(f"  no difference correlates with one of them beyond |r| = {FLAG_CORRELATION} across the sets")
    for _, r in flagged.iterrows():
        lines.append(f"  depends on unconstrained parameters: {r['variant_name']} / {r['label']}: {r['depends_on']}")
    return lines


def compare(
    scenario: str,
    variants: Mapping[str, Mapping[str, Any]],
    replicates: int = 300,
    seed: int = DEFAULT_SEED,
    out: Path | None = None,
    force: bool = False,
    lang: str = "en",
    posterior: Path | None = None,
    execution: Execution = Execution(),
    command: list[str] | None = None,
) -> Output:
    """A baseline against named variants on the same seeds: ``comparison.csv``, a figure, the answer in words.

    Arguments as :func:`run`; ``variants`` is ``{name: {--set key: value}}``.
    """
    base = base_and_variants(scenario, variants, "--variant")
    check_fits((len(variants) + 1) * replicates, ROW_BYTES, "--replicates", str(replicates))
    post = posterior_option(posterior)
    execution.check()
    folder = OutputFolder(default_out(out, f"compare-{base.path.stem}"), force)
    started = datetime.now()
    with folder as tmp:
        # Every arm runs on the same seeds (replicate r shares its stream), so a paired difference
        # measures the lever, not the luck of the draw.
        table = compare_arms(base, variants, replicates, seed, execution, source="--variant", posterior=post)
        from sim.views.figures import save_comparison  # matplotlib only when the figure is drawn

        save_comparison(table, tmp, base.name, lang)
        used = table.attrs["execution"]
        write_metadata(
            tmp, [base], seed, replicates, command, started, used, variants=dict(variants), **posterior_meta(post)
        )
    over = f", {post.size} posterior sets" if post is not None else ""
    answer = ["", answers.render(table, base.kind, base.params.vocab.sector_names, f"{base.name}{over}", lang)]
    answer.append("\n" + _intervals(table, "intervals"))
    if post is not None:
        answer += _flags(table, post)
    answer.append(f"\nwrote {folder.path}/ (comparison.csv, comparison.png/.svg, metadata.json)")
    return Output(folder.path, table, "\n".join(answer))


def forecast(
    scenario: str = "trondelag-2017",
    replicates: int = 1000,
    seed: int = DEFAULT_SEED,
    levers: Mapping[str, Mapping[str, Any]] | None = None,
    all_levers: bool = False,
    out: Path | None = None,
    force: bool = False,
    posterior: Path | None = None,
    execution: Execution = Execution(),
    command: list[str] | None = None,
) -> Output:
    """The county forecast from a forecast origin, and levers against it (``forecast.csv``, ``forecast.md``, map).

    Arguments as :func:`run`; ``levers`` are compared with the forecast after the §4 set of the
    README when ``all_levers``.
    """
    # The README's levers first, the user's after: the order of the arms is the order of the
    # tables, and a user's lever may not silently replace one of the README's.
    given = dict(LEVERS) if all_levers else {}
    for name, overrides in (levers or {}).items():
        if name in given:
            raise InputError("--lever", name, "variant name given twice")
        given[name] = overrides
    base = base_and_variants(scenario, given, "--lever")
    if execution.scheduler:
        raise InputError("--scheduler", execution.scheduler, "forecast runs on local workers only")
    post = posterior_option(posterior)
    folder = OutputFolder(default_out(out, f"forecast-{base.path.stem}"), force)
    started = datetime.now()
    with folder as tmp:
        result = run_forecast(str(base.path), replicates, seed, execution, given, post)
        from sim.views.figures import save_forecast_map  # matplotlib only when the map is drawn

        names = save_tables(result, tmp) + save_forecast_map(result, tmp)
        used = result["execution"]
        write_metadata(tmp, [base], seed, replicates, command, started, used, levers=given, **posterior_meta(post))
    answer = (folder.path / "forecast.md").read_text(encoding="utf-8")
    return Output(folder.path, result, f"{answer}\nwrote {folder.path}/ ({', '.join(names)}, metadata.json)")


def robust(
    scenario: str,
    variants: Mapping[str, Mapping[str, Any]],
    futures_count: int = 20,
    replicates: int = 20,
    seed: int = DEFAULT_SEED,
    outcome: str | None = None,
    out: Path | None = None,
    force: bool = False,
    lang: str = "en",
    posterior: Path | None = None,
    execution: Execution = Execution(),
    command: list[str] | None = None,
) -> Output:
    """Variants across sampled futures: the share of futures where each is best, its mean and worst regret.

    Arguments as :func:`run`; without ``posterior`` the committed calibration's sets are drawn.
    """
    base = base_and_variants(scenario, variants, "--variant")
    runs = (len(variants) + 1) * replicates * futures_count
    check_fits(runs, ROW_BYTES, "--futures", str(futures_count))
    post = posterior_option(posterior, committed=True)
    execution.check()
    folder = OutputFolder(default_out(out, f"robust-{base.path.stem}"), force)
    started = datetime.now()
    with folder as tmp:
        result = futures.robust(base, variants, futures_count, replicates, seed, outcome, post, execution)
        from sim.views.figures import save_robust_figure  # matplotlib only when the figure is drawn

        names = futures.save(result, tmp) + save_robust_figure(result, tmp, base.name, lang)
        extra = {"variants": dict(variants), "futures": futures_count, "outcome": result["outcome"]}
        write_metadata(
            tmp, [base], seed, replicates, command, started, result["execution"], **extra, **posterior_meta(post)
        )
    answer = futures.render(result, base.name, replicates, lang)
    return Output(folder.path, result, f"{answer}\n\nwrote {folder.path}/ ({', '.join(names)}, metadata.json)")
