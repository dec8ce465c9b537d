"""Command line: parses arguments, calls the Python API, prints (``python run.py --help``).

Every input is checked -- including where the output goes -- before any work starts. Bad input
gives one line ``error: SOURCE: KEY: PROBLEM`` on stderr and exit code 2. Heavy libraries
(Mesa, pandas, matplotlib, SALib, Dask) are imported only by the command that needs them, so
``--help`` and ``list`` answer at once.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import re
import shlex
import signal
import sys
import textwrap
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.inputs.errors import InputError
from sim.inputs.vocab import NullModel

NULL_MODELS = tuple(n.value for n in NullModel if n != NullModel.NONE)

DEFAULT_SEED = 20161214

EPILOG = """examples:
  python run.py                          the three pilots: validation table, then tables and plots in results/
  python run.py list                     scenarios, parameters and policy levers (the --set keys)
  python run.py validate --replicates 1000 --json validation.json
  python run.py run fosen --replicates 200 --set reform_intensity=0
  python run.py compare vaernesregionen --variant admin_only:allow.board_host=false \\
        --variant sectors:agenda=sector_by_sector --replicates 300
  python run.py show fjellregionen --set pilot_funding=0
  python run.py COMMAND --help           the options of one command
"""


# --- argument types: each error names its option ---------------------------------------------------
def _whole(option: str, low: int, high: int | None = None):
    def parse(text: str) -> int:
        if not re.fullmatch(r"\s*[+-]?[0-9]+\s*", text):
            raise InputError(option, text, "expected a whole number")
        value = int(text)
        if value < low or (high is not None and value > high):
            raise InputError(option, text, f"must be {low} or more" if high is None else f"must be {low} to {high}")
        return value

    return parse


def _share(option: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise InputError(option, text, "expected a number") from None
        if not 0 < value <= 1:  # also refuses nan
            raise InputError(option, text, "must be above 0 and at most 1")
        return value

    return parse


def _factor(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError("--factor", text, "expected a number") from None
    if not 1 < value <= 100:  # also refuses nan
        raise InputError("--factor", text, "must be above 1 and at most 100")
    return value


def parse_set(items: list[str] | None, source: str = "--set") -> dict[str, str]:
    """Parse ``KEY=VALUE`` strings into a dict (values stay strings until the catalogue checks them).

    Raises:
        InputError: an item without ``=``, an empty key or value, or a key given twice.
    """
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise InputError(source, item, "expected KEY=VALUE")
        if key in out:
            raise InputError(source, key, "given twice")
        out[key] = value
    return out


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    """Parse ``NAME:KEY=VALUE[,KEY=VALUE...]``."""
    name, sep, rest = text.partition(":")
    if not sep or not name.strip() or not rest.strip():
        raise InputError("--variant", text, "expected NAME:KEY=VALUE[,KEY=VALUE...]")
    return name.strip(), parse_set(rest.split(","), "--variant")


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:  # no abbreviations: --replicate is not --replicates
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # one line, exit code 2
        print(f"error: {self.prog}: {message}", file=sys.stderr)
        raise SystemExit(2)


def _command(sub, name: str, summary: str, description: str, *examples: str) -> argparse.ArgumentParser:
    text = "\n\n".join(textwrap.fill(p, 78) for p in description.split("\n\n"))
    return sub.add_parser(
        name,
        help=summary,
        description=text,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example" + ("s" if len(examples) > 1 else "") + ":\n" + "\n".join(f"  {e}" for e in examples),
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    p = _Parser(
        prog="run.py",
        description="Agent-based model of inter-municipal cooperation on planning, "
        "environment and agriculture (NIVI 2016 pilots).\nWithout a command: the validation table for "
        "200 replicates per pilot, then tables and plots in results/.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    def common(sp, replicates: int | None, default_text: str = "") -> None:
        sp.add_argument(
            "--replicates",
            type=_whole("--replicates", 1),
            default=replicates,
            help=f"replicates per scenario (default {default_text or replicates})",
        )
        sp.add_argument(
            "--seed",
            type=_whole("--seed", 0),
            default=DEFAULT_SEED,
            help=f"base seed, 0 or more (default {DEFAULT_SEED})",
        )
        sp.add_argument(
            "--workers",
            type=_whole("--workers", 1),
            default=None,
            help="worker processes (default: all cores; 1 = in this process; at most one per run)",
        )
        sp.add_argument(
            "--scheduler",
            metavar="ADDRESS",
            help="send the runs to a Dask distributed scheduler (tcp://HOST:8786) instead of local processes",
        )
        sp.add_argument("--quiet", action="store_true", help="no progress bar")

    def posterior_option(sp) -> None:
        sp.add_argument(
            "--posterior",
            type=Path,
            metavar="FOLDER",
            help="spread the replicates over a calibration's accepted sets (replicate r uses set r mod K), so "
            "intervals carry parameter uncertainty too (e.g. docs/calibration/posterior)",
        )

    def lang_option(sp) -> None:
        sp.add_argument(
            "--lang", choices=["en", "nb"], default="en", help="language of the summary and figure labels (en, nb)"
        )

    def output(sp, what: str) -> None:
        sp.add_argument("--out", type=Path, help=f"output folder (default results/{what}-<time>)")
        sp.add_argument(
            "--force",
            action="store_true",
            help="replace --out if it is a previous result folder of this program (anything else is never deleted)",
        )

    fc = _command(
        sub,
        "forecast",
        "the county forecast from a forecast origin, and the §4 levers against it",
        "Run a forecast scenario (a county file with [self_start], e.g. trondelag-2017) and write, per "
        "cooperation area and sector, the probability of a formal joint office by 2020 and 2022 (and of a "
        "new one), the most likely host and members, the probability that nothing happens and why, with "
        "Wilson intervals (forecast.csv, forecast.md, groups.csv), and the county map. With --levers (the "
        "§4 set) or --lever, each lever runs on the same seeds and is compared with paired intervals.",
        "python run.py forecast trondelag-2017 --replicates 1000 --workers 2",
        "python run.py forecast trondelag-2017 --replicates 200 --levers --posterior docs/calibration/posterior",
        "python run.py forecast --lever initiative:county_initiative=true",
    )
    fc.add_argument("scenario", nargs="?", default="trondelag-2017", help="forecast scenario (default trondelag-2017)")
    common(fc, 1000)
    fc.add_argument("--levers", action="store_true", help="compare the §4 levers of the README against the forecast")
    fc.add_argument(
        "--lever", action="append", default=[], metavar="NAME:KEY=VALUE,...", help="a lever to compare; repeatable"
    )
    output(fc, "forecast-<scenario>")
    posterior_option(fc)

    v = _command(
        sub,
        "validate",
        "score the report's patterns over many replicates",
        "Run the three pilots N times each and print, per pattern, the share of replicates that "
        "show it with a 95 % Wilson interval. With --posterior, replicate r runs with the calibration's "
        "accepted set r mod K, so the shares carry parameter uncertainty.\n\nWith --robustness, also run "
        "each primary story with one input moved at a time (every estimated scenario input at its low and "
        "high value, every calibrated parameter at its posterior 5 % and 95 % quantiles -- of --posterior, "
        "else of the committed docs/calibration/posterior, else +-25 %) and print the corners that move a "
        "story by more than 0.1 or below 0.5, then the knife-edges (below 0.5).",
        "python run.py validate --replicates 1000 --json validation.json",
        "python run.py validate --replicates 600 --posterior docs/calibration/posterior",
        "python run.py validate --robustness --replicates 200 --out results/robustness --markdown validation.md",
        "python run.py validate --county trondelag --replicates 200",
    )
    common(v, None, "1000; 200 per corner with --robustness")
    v.add_argument(
        "--null",
        choices=["none", "all", *NULL_MODELS],
        default="none",
        help="remove one mechanism (every primary story must then fail), or 'all' null models after the baseline",
    )
    v.add_argument("--clauses", action="store_true", help="also print each story clause's share")
    v.add_argument(
        "--county",
        metavar="SCENARIO",
        help="instead: score the pilots' primary stories inside a county scenario (bar 0.6; default 200 replicates)",
    )
    v.add_argument(
        "--directions",
        action="store_true",
        help="instead: run the directional expectations of scenarios/directions.toml (paired, default 200 replicates)",
    )
    posterior_option(v)
    v.add_argument("--json", type=Path, help="also write the result as JSON to this file")
    v.add_argument("--markdown", type=Path, help="also write docs-style markdown to this file")
    v.add_argument(
        "--robustness",
        action="store_true",
        help="also move each estimated input (low/high) and calibrated parameter (posterior 5 %%/95 %% "
        "quantiles, or +-25 %% without a posterior) one at a time",
    )
    v.add_argument("--out", type=Path, help="with --robustness: write robustness.csv and tornado plots to this folder")
    v.add_argument(
        "--force",
        action="store_true",
        help="replace --out if it is a previous result folder of this program, and --json/--markdown files "
        "that this program did not write",
    )

    r = _command(
        sub,
        "run",
        "run scenarios and write tables and plots",
        "Run replicates of one or more scenarios and write runs.csv, timeline.csv, events.csv, "
        "summary.csv, metadata.json and plots into a new folder.",
        "python run.py run fosen --replicates 200 --set reform_intensity=0",
        "python run.py run fosen --until 2015-06 --no-plots --out results/fosen-2015",
    )
    r.add_argument("scenario", nargs="+", help="scenario name in scenarios/ or a TOML path")
    common(r, 100)
    r.add_argument(
        "--until", metavar="YYYY-MM", help="stop at this month, before the scenario's horizon (default: the horizon)"
    )
    r.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a parameter or lever (see `list`); repeatable, each key once",
    )
    r.add_argument(
        "--set-file",
        type=Path,
        metavar="FILE",
        help="a settings file (TOML with a [set] table, as the dashboard saves it); --set values win",
    )
    output(r, "<scenario>")
    r.add_argument("--no-plots", action="store_true", help="skip the plots")
    posterior_option(r)
    lang_option(r)

    c = _command(
        sub,
        "compare",
        "what-if: baseline against variants on the same seeds",
        "Run a baseline and each variant on the same replicate seeds (common random numbers) and "
        "print, per variant, the outcomes that differ (chosen by the scenario's kind) with units and "
        "95 % intervals and one sentence; every outcome goes to comparison.csv.",
        "python run.py compare vaernesregionen --variant admin_only:allow.board_host=false",
        "python run.py compare fosen --variant funded:pilot_funding=2 --variant none:pilot_funding=0",
    )
    c.add_argument("scenario", help="scenario name or TOML path")
    c.add_argument(
        "--variant",
        action="append",
        required=True,
        metavar="NAME:KEY=VALUE[,KEY=VALUE]",
        help="a named variant; repeatable",
    )
    common(c, 300)
    output(c, "compare-<scenario>")
    posterior_option(c)
    lang_option(c)

    rb = _command(
        sub,
        "robust",
        "policies across sampled futures: best share, mean and worst regret",
        "Run the baseline and each variant in N sampled futures (every estimated scenario input uniform "
        "within its range, and one accepted calibration set each; docs/calibration/posterior unless "
        "--posterior names another) on the same replicate seeds, score them by one outcome and report per "
        "variant the share of futures in which it is best, its mean and its worst regret. Writes "
        "futures.csv (the sampled futures), robust_values.csv, robust_summary.csv and robust.png/.svg.",
        "python run.py robust fosen --variant funded:pilot_funding=2 --variant none:pilot_funding=0 --futures 20",
        "python run.py robust trondelag --variant initiative:county_initiative=true "
        "--variant mandatory_host:mandatory_host.agriculture=true --futures 10 --replicates 10",
    )
    rb.add_argument("scenario", help="scenario name or TOML path")
    rb.add_argument(
        "--variant", action="append", required=True, metavar="NAME:KEY=VALUE[,KEY=VALUE]", help="a named variant"
    )
    rb.add_argument("--futures", type=_whole("--futures", 2, 10_000), default=20, help="sampled futures (default 20)")
    rb.add_argument(
        "--outcome",
        help="outcome to score by (default: municipalities served by a joint office for a county, mean "
        "vulnerability at the horizon for a pilot); vulnerability and stops count lower as better",
    )
    common(rb, 20)
    output(rb, "robust-<scenario>")
    posterior_option(rb)
    lang_option(rb)

    w = _command(
        sub,
        "sweep",
        "Latin hypercube or grid sweep over parameters, resumable",
        "Sample parameters (Latin hypercube or grid), run R replicates per sample and stream one "
        "row per run to OUT/runs.partial.csv, renamed OUT/runs.csv when complete. After Ctrl-C or "
        "a kill, the same command with --resume checks the rows kept and runs only what is missing "
        "or damaged.",
        "python run.py sweep vaernesregionen --param steering_value=0:1.5 "
        "--param extra_political_involvement=0:1 --samples 200 --replicates 50 --out results/sweep",
        "python run.py sweep vaernesregionen ... --out results/sweep --resume",
    )
    w.add_argument("scenario", help="scenario name or TOML path")
    w.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="KEY=LO:HI[:log]",
        help="a numeric parameter or lever to vary; repeatable, each key once",
    )
    w.add_argument(
        "--samples",
        type=_whole("--samples", 1),
        default=100,
        help="sample points (lhs) or points per axis (grid); default 100",
    )
    w.add_argument("--method", choices=("lhs", "grid"), default="lhs", help="design (default lhs)")
    common(w, 10)
    w.add_argument("--set", action="append", metavar="KEY=VALUE", help="fixed overrides; each key once")
    output(w, "sweep-<scenario>")
    w.add_argument("--resume", action="store_true", help="finish an interrupted sweep in --out")

    e = _command(
        sub,
        "sensitivity",
        "Sobol or Morris sensitivity indices (SALib)",
        "Global sensitivity of the outcomes (formal agreement, stall, months to agreement, "
        "vulnerability at the horizon) to chosen parameters: Sobol S1 and ST or Morris mu* with "
        "95 % intervals, and a plot.",
        "python run.py sensitivity vaernesregionen --param steering_value=0:1.5 "
        "--param leader_weight=0:4 --method sobol --samples 256 --replicates 10",
    )
    e.add_argument("scenario", help="scenario name or TOML path")
    e.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="KEY=LO:HI[:log]",
        help="a numeric parameter or lever to vary; repeatable, each key once",
    )
    e.add_argument("--method", choices=("sobol", "morris"), default="sobol", help="method (default sobol)")
    e.add_argument("--set", action="append", metavar="KEY=VALUE", help="fixed overrides; each key once")
    e.add_argument(
        "--samples",
        type=_whole("--samples", 1),
        default=256,
        help="base samples N (Sobol: N*(D+2) points; Morris: N trajectories)",
    )
    common(e, 10)
    output(e, "sensitivity-<scenario>")

    d = _command(
        sub,
        "discover",
        "PRIM scenario discovery on a finished sweep",
        "Find the parameter box where an outcome concentrates (PRIM, EMA Workbench): coverage, "
        "density, limits, and plots written into the sweep folder. The outcome is a small "
        "expression over runs.csv columns: comparisons (== != < <= > >=), and/or/not, parentheses, "
        "numbers, 'quoted text', and the names stalled and formal.",
        "python run.py discover results/sweep --outcome stalled",
        "python run.py discover results/sweep --outcome \"stall_cause == 'governance_dispute'\"",
    )
    d.add_argument("sweep_dir", type=Path, help="folder of a finished sweep")
    d.add_argument("--outcome", required=True, help="true/false expression on runs.csv columns")
    d.add_argument(
        "--min-coverage",
        type=_share("--min-coverage"),
        default=0.5,
        help="choose the densest box covering at least this share of the outcome's runs (default 0.5)",
    )

    b = _command(
        sub,
        "dashboard",
        "start the interactive dashboard (Solara) and print its address",
        "Start the SolaraViz dashboard on HOST:PORT and print its address once it answers; Ctrl-C or SIGTERM stops it.",
        "python run.py dashboard --port 8765",
    )
    b.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    b.add_argument("--port", type=_whole("--port", 1, 65535), default=8765, help="port (default 8765)")

    _command(
        sub,
        "list",
        "scenarios, parameters and policy levers",
        "List scenarios and every parameter and lever with its default, unit, range and meaning (the keys for --set).",
        "python run.py list",
    )
    s = _command(
        sub,
        "show",
        "print a fully resolved scenario as TOML",
        "Print a scenario with the shared parameters merged in.",
        "python run.py show fosen --set pilot_funding=0",
    )
    s.add_argument("scenario", help="scenario name or TOML path")
    s.add_argument("--set", action="append", metavar="KEY=VALUE", help="override; each key once")

    k = _command(
        sub,
        "calibrate",
        "ABC calibration of the shared values against the primary stories (resumable)",
        "Approximate Bayesian computation (sequential Monte Carlo with Metropolis-Hastings moves, "
        "sim.analysis.calibration) over the calibrated parameters: a log-uniform prior from value/FACTOR to "
        "value*FACTOR around --centre (within the catalogue's ranges), GENERATIONS generations of SETS "
        "parameter sets, each run REPLICATES times on each primary story's case and scored by the primary "
        "stories only (hold-out checks never enter). Writes accepted.csv (the posterior), scored.csv, "
        "generations.csv, identifiability.csv, summary.md and metadata.json into --out. After Ctrl-C or a "
        "kill, the same command with --resume scores only what is missing; the result is bit-identical.",
        "python run.py calibrate --out results/calibration",
        "python run.py calibrate --out docs/calibration/posterior --force   # remake the committed result",
        "python run.py calibrate --out results/calibration --resume",
    )
    common(k, 12)  # sim.analysis.calibration.Budget.replicates
    k.add_argument(
        "--sets",
        type=_whole("--sets", 2, 100_000),
        default=200,
        help="parameter sets (particles) per generation (default 200)",
    )
    k.add_argument("--generations", type=_whole("--generations", 1, 100), default=15, help="generations (default 15)")
    k.add_argument(
        "--keep",
        type=_share("--keep"),
        default=0.5,
        help="share of each population that survives a generation and sets the tolerance (default 0.5)",
    )
    k.add_argument(
        "--factor",
        type=_factor,
        default=1.25,
        help="prior box: centre/FACTOR to centre*FACTOR, log-uniform, within the catalogue (default 1.25)",
    )
    k.add_argument(
        "--centre", type=Path, help="JSON object of every calibrated parameter (default docs/calibration/centre.json)"
    )
    k.add_argument("--resume", action="store_true", help="finish an interrupted calibration in --out")
    output(k, "calibration")
    return p


# --- helpers --------------------------------------------------------------------------------------
def _progress(args) -> bool:
    return not getattr(args, "quiet", False)


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def _check_scheduler(args) -> None:
    if getattr(args, "scheduler", None):
        from sim.run.runner import check_scheduler

        check_scheduler(args.scheduler)


def _months(text: str) -> int:
    from sim.inputs.calendar import month_index

    return month_index(text, "--until", text)


def _methods(table) -> dict[str, str]:
    """Interval method per kind of outcome (``share``/``mean``), as named in the table's ``method`` column."""
    return dict(zip(table["kind"], table["method"], strict=True))


def print_summary(summary, lang: str = "en") -> None:
    """Print outcome shares and means with units and 95 % intervals, rounded to what the intervals support."""
    from sim.analysis.answers import summary_cells

    for name, g in summary.groupby("scenario", sort=False):
        print(f"\n{name}")
        rows = [summary_cells(r, lang) for r in g.to_dict("records")]
        width = max(len(c["label"]) for c in rows)
        unit = max(len(c["unit"]) for c in rows)
        for c in rows:
            print(f"  {c['label']:{width}s}  {c['unit']:{unit}s}  {c['value']:>9s}  {c['interval']}")
    print("\n95 % intervals: " + "; ".join(f"{kind}s: {method}" for kind, method in _methods(summary).items()))


def _posterior(args):
    """The ``--posterior`` calibration result, loaded and checked before any work (or None)."""
    if getattr(args, "posterior", None) is None:
        return None
    from sim.analysis.posterior import load_posterior

    return load_posterior(args.posterior)


def _posterior_meta(post) -> dict[str, Any]:
    if post is None:
        return {}
    return {"posterior": {"folder": str(post.folder), "sets": post.size, "note": post.note}}


def _print_flags(table, post) -> None:
    """Name the what-if answers that depend on parameters the calibration leaves unconstrained."""
    from sim.analysis.posterior import CONSTRAINED_BELOW, FLAG_CORRELATION, FLAG_MIN_SETS

    flagged = table[table["depends_on"] != ""]
    print(
        f"\nunconstrained parameters (posterior 90 % interval >= {CONSTRAINED_BELOW} of the prior's): "
        f"{len(post.unconstrained)} of {len(post.keys)}"
    )
    if min(post.size, int(table["n"].iloc[0])) < FLAG_MIN_SETS:
        print(f"  (no flags: fewer than {FLAG_MIN_SETS} posterior sets in the comparison)")
        return
    if flagged.empty:
        print(f"  no difference correlates with one of them beyond |r| = {FLAG_CORRELATION} across the sets")
    for _, r in flagged.iterrows():
        print(f"  depends on unconstrained parameters: {r['variant_name']} / {r['label']}: {r['depends_on']}")


def _write_metadata(folder: Path, scenarios, args, started: datetime, execution, **extra: Any) -> None:
    from sim.run.output import metadata, write_json

    write_json(
        folder / "metadata.json",
        metadata(
            scenarios,
            seed=args.seed,
            replicates=args.replicates,
            started=started,
            execution=execution,
            command=["run.py", *args.argv],
            **extra,
        ),
    )


#: Levers that act only through a county scenario's initiative (``[initiative]``, §4): on a pilot
#: (region) scenario they would be accepted and change nothing.
COUNTY_ONLY_LEVERS = ("county_initiative", "initiative_office_size")


def check_lever_kind(scenarios, keys, source: str) -> None:
    """Refuse (one line) a lever that does not apply to a scenario's kind.

    Args:
        scenarios: The loaded scenarios the keys will be set on.
        keys: The ``--set`` / ``--variant`` / ``--param`` keys (aliases allowed).
        source: The option named in the error.

    Raises:
        InputError: a county-only lever (:data:`COUNTY_ONLY_LEVERS`) on a region scenario.
    """
    from sim.inputs.params import ALIASES

    for key in keys:
        if ALIASES.get(key, key) not in COUNTY_ONLY_LEVERS:
            continue
        for sc in scenarios:
            if sc.kind != "county":
                raise InputError(
                    source,
                    key,
                    f"acts only through a county scenario's initiative; {sc.path.stem} is a {sc.kind} scenario "
                    "(see `python run.py list`)",
                )


# --- commands -------------------------------------------------------------------------------------
def _validate_county(args) -> dict[str, Any]:
    """``validate --county``: the pilots' primary stories inside a county scenario (each at least 0.6)."""
    from sim.analysis.results import load_unique
    from sim.analysis.validation import format_table, validate_county

    for option in ("robustness", "json", "markdown", "out", "posterior"):
        if getattr(args, option, None):
            raise InputError("--county", args.county, f"cannot be combined with --{option}")
    if args.null != "none":
        raise InputError("--county", args.county, "cannot be combined with --null")
    county = load_unique([args.county])[0]
    if county.kind != "county" or not county.pilot_files:
        raise InputError("--county", args.county, "is not a county scenario with pilots inside")
    _check_scheduler(args)
    result = validate_county(
        str(county.path),
        args.replicates or 200,
        args.seed,
        workers=args.workers,
        progress=_progress(args),
        scheduler=args.scheduler,
    )
    print(f"pilot stories inside {county.name} (bar 0.6)")
    print(format_table(result, clauses=args.clauses))
    return result


def _validate_directions(args) -> dict[str, Any]:
    """``validate --directions``: the face-validity expectations (paired runs, shared seeds)."""
    from sim.analysis.directions import directions, format_directions, markdown
    from sim.run.output import check_output_file, write_text_atomic

    for option in ("robustness", "json", "out", "posterior"):
        if getattr(args, option, None):
            raise InputError("--directions", "", f"cannot be combined with --{option}")
    if args.null != "none":
        raise InputError("--directions", "", "cannot be combined with --null")
    target = None
    if args.markdown:
        target = check_output_file(args.markdown, "--markdown", "## Face validity", getattr(args, "force", False))
    _check_scheduler(args)
    result = directions(args.replicates or 200, args.seed, args.workers, args.scheduler, _progress(args))
    print(format_directions(result))
    if target is not None:
        write_text_atomic(target, markdown(result, "python " + shlex.join(["run.py", *args.argv])))
    return result


def cmd_validate(args) -> dict[str, Any]:
    """Run validation, print the table, write JSON / markdown if asked (and the robustness corners)."""
    from sim.analysis.validation import format_facts, format_table, load_patterns, pattern_cases, validate
    from sim.run.output import PROGRAM, OutputFolder, check_output_file
    from sim.run.runner import DETAIL_BYTES, ROW_BYTES, check_fits

    robust, out_dir = getattr(args, "robustness", False), getattr(args, "out", None)
    if getattr(args, "county", None):
        return _validate_county(args)
    if getattr(args, "directions", False):
        return _validate_directions(args)
    if args.replicates is None:
        args.replicates = 200 if robust else 1000
    if out_dir is not None and not robust:
        raise InputError("--out", str(out_dir), "only with --robustness")
    if robust and args.null not in ("none", "all"):
        raise InputError("--null", args.null, "--robustness moves inputs of the full model; use --null none or all")

    markers = {"--json": f'"program": "{PROGRAM}"', "--markdown": "# Validation (generated)"}
    files = {
        opt: check_output_file(getattr(args, name), opt, markers[opt], getattr(args, "force", False))
        for opt, name in (("--json", "json"), ("--markdown", "markdown"))
        if getattr(args, name, None)
    }
    if len(set(files.values())) < len(files):
        raise InputError("--markdown", str(files["--markdown"]), "is the same file as --json")
    if out_dir is not None:
        target = Path(os.path.realpath(out_dir))
        for opt, path in files.items():
            if path == target or target in path.parents:
                raise InputError(opt, str(path), "is --out or inside it; write it elsewhere")
    check_fits(args.replicates * len(pattern_cases(load_patterns())), ROW_BYTES, "--replicates", str(args.replicates))
    post = _posterior(args)
    if robust:
        check_fits(args.replicates, DETAIL_BYTES, "--replicates", str(args.replicates))
    _check_scheduler(args)
    out = OutputFolder(out_dir, args.force) if out_dir is not None else None  # checked before any work
    started = datetime.now()
    with out if out is not None else contextlib.nullcontext() as tmp:
        run = {"workers": args.workers, "scheduler": args.scheduler, "progress": _progress(args), "posterior": post}
        nulls = list(NULL_MODELS) if args.null == "all" else [] if args.null == "none" else [args.null]
        result = validate(args.replicates, args.seed, null="none" if args.null == "all" else args.null, **run)
        print(format_table(result, clauses=args.clauses))
        print(format_facts(result))
        null_results = (
            [] if args.null != "all" else [validate(args.replicates, args.seed, null=n, **run) for n in nulls]
        )
        for n in null_results:
            print()
            print(format_table(n, clauses=args.clauses))
        result["nulls"] = null_results
        if args.null == "all":
            from sim.analysis.validation import format_knockouts, knockouts

            result["knockouts"] = knockouts(args.replicates, args.seed, args.workers, args.scheduler, _progress(args))
            print()
            print(format_knockouts(result["knockouts"]))
        robust_result = _robustness(args, tmp, started, post) if robust else None
    if out is not None:
        print(f"wrote {out.path}/ (robustness.csv, tornado plots as PNG and SVG, metadata.json)")
    _write_validation_files(result, files, ["run.py", *args.argv], robust_result)
    return result


def _robustness(args, folder: Path | None, started: datetime, post=None):
    """Run the robustness corners, print them, and write them into ``folder`` if given.

    The calibrated parameters' corners are the 5 % and 95 % quantiles of ``--posterior``, else of the
    committed posterior (``docs/calibration/posterior``) when it exists, else ±25 %.
    """
    from sim.analysis.posterior import COMMITTED, load_posterior
    from sim.analysis.robustness import format_table, primary_patterns, robustness, save
    from sim.inputs.loader import load_scenario
    from sim.views.figures import save_robustness_figures

    if post is None and (COMMITTED / "accepted.csv").is_file():
        post = load_posterior(COMMITTED, str(COMMITTED))
    execution: dict[str, Any] = {}
    result = robustness(
        args.replicates, args.seed, args.workers, args.scheduler, _progress(args), execution=execution, posterior=post
    )
    print()
    print(format_table(result))
    if folder is not None:
        save(result, folder)
        save_robustness_figures(result, folder)
        scenarios = [load_scenario(c) for c in dict.fromkeys(p.case for p in primary_patterns())]
        _write_metadata(
            folder, scenarios, args, started, execution, robustness={"step": result.step, "basis": result.corners_text}
        )
    return result


def _write_validation_files(
    result: dict[str, Any], files: dict[str, Path], command: list[str], robust: Any = None
) -> None:
    import json

    from sim.run.output import PROGRAM, write_text_atomic

    if "--json" in files:
        data = {"program": PROGRAM, **{k: v for k, v in result.items() if k != "rows"}}
        if robust is not None:
            data["robustness"] = robust.to_dict()
        write_text_atomic(files["--json"], json.dumps(data, indent=2) + "\n")
    if "--markdown" in files:
        text = validation_markdown(result, "python " + shlex.join(command))
        if robust is not None:
            from sim.analysis.robustness import markdown

            text += markdown(robust)
        write_text_atomic(files["--markdown"], text)


def validation_markdown(result: dict[str, Any], command: str) -> str:
    """docs/validation.md text."""
    from sim.analysis.validation import markdown

    return markdown(result, command, result.get("nulls"))


def cmd_run(args) -> Path:
    """Run scenarios and write the result folder."""
    from sim.analysis.results import check_until, load_unique, run_scenarios
    from sim.run.output import OutputFolder
    from sim.run.runner import DETAIL_BYTES, check_fits

    overrides = parse_set(args.set)
    if args.set_file is not None:
        from sim.inputs.settings import read_set_file

        overrides = {**read_set_file(args.set_file)[0], **overrides}
    scenarios = load_unique(args.scenario, overrides, "--set")
    check_lever_kind(scenarios, overrides, "--set")
    until = _months(args.until) if args.until is not None else None
    if until is not None:
        check_until(scenarios, until, "--until", args.until)
    check_fits(len(scenarios) * args.replicates, DETAIL_BYTES, "--replicates", str(args.replicates))
    post = _posterior(args)
    _check_scheduler(args)
    out = OutputFolder(
        args.out or Path("results") / f"{'+'.join(sc.path.stem for sc in scenarios)}-{_stamp()}", args.force
    )
    started = datetime.now()
    with out as tmp:
        res = run_scenarios(
            scenarios,
            args.replicates,
            args.seed,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=_progress(args),
            until=until,
            posterior=post,
        )
        names = res.save(tmp)
        if not args.no_plots:
            from sim.views.figures import save_figures

            names += save_figures(res, tmp, args.lang)
        _write_metadata(tmp, res.scenarios, args, started, res.execution, **_posterior_meta(post))
    print(f"\noutcomes over {args.replicates} replicates per scenario, base seed {args.seed}:")
    print_summary(res.summary(), args.lang)
    plots = sum(n.endswith(".png") for n in names)
    print(
        f"wrote {out.path}/ (runs.csv, timeline.csv, events.csv, votes.csv, summary.csv, metadata.json"
        + (f", {plots} plots as PNG and SVG)" if plots else ")")
    )
    return out.path


def _base_and_variants(scenario: str, texts: list[str], option: str, given: dict | None = None) -> tuple[Any, dict]:
    """The scenario and its ``NAME:KEY=V,...`` variants, every one checked before anything runs.

    Raises:
        InputError: a name given twice, or an override the scenario refuses (unknown key, bad
            value, a county-only lever on a pilot).
    """
    from sim.analysis.results import load_unique

    variants = dict(given or {})
    for text in texts:
        name, overrides = parse_variant(text)
        if name in variants:
            raise InputError(option, name, "variant name given twice")
        variants[name] = overrides
    base = load_unique([scenario])[0]
    for overrides in variants.values():
        base.with_overrides(overrides, option)
        check_lever_kind([base], overrides, option)
    return base, variants


def cmd_compare(args) -> Path:
    """Baseline vs variants on common random numbers."""
    from sim.analysis import answers
    from sim.analysis.results import compare
    from sim.run.output import OutputFolder
    from sim.run.runner import ROW_BYTES, check_fits
    from sim.views.figures import save_comparison

    base, variants = _base_and_variants(args.scenario, args.variant, "--variant")
    check_fits((len(variants) + 1) * args.replicates, ROW_BYTES, "--replicates", str(args.replicates))
    post = _posterior(args)
    _check_scheduler(args)
    out = OutputFolder(args.out or Path("results") / f"compare-{base.path.stem}-{_stamp()}", args.force)
    started = datetime.now()
    with out as tmp:
        table = compare(
            base,
            variants,
            args.replicates,
            args.seed,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=_progress(args),
            source="--variant",
            posterior=post,
        )
        save_comparison(table, tmp, base.name, args.lang)
        _write_metadata(
            tmp, [base], args, started, table.attrs["execution"], variants=variants, **_posterior_meta(post)
        )
    over = f", {post.size} posterior sets" if post is not None else ""
    print()
    print(answers.render(table, base.kind, base.params.vocab.sector_names, f"{base.name}{over}", args.lang))
    print("\nintervals: " + "; ".join(f"{kind}s: {method}" for kind, method in _methods(table).items()))
    if post is not None:
        _print_flags(table, post)
    print(f"\nwrote {out.path}/ (comparison.csv, comparison.png/.svg, metadata.json)")
    return out.path


def cmd_forecast(args) -> Path:
    """The county forecast (``sim.analysis.forecast``): tables, map and the levers against it."""
    from sim.analysis.forecast import LEVERS, run_forecast, save_tables
    from sim.run.output import OutputFolder
    from sim.views.figures import save_forecast_map

    base, levers = _base_and_variants(args.scenario, args.lever, "--lever", dict(LEVERS) if args.levers else {})
    if args.scheduler:
        raise InputError("--scheduler", args.scheduler, "forecast runs on local workers only")
    post = _posterior(args)
    out = OutputFolder(args.out or Path("results") / f"forecast-{base.path.stem}-{_stamp()}", args.force)
    started = datetime.now()
    with out as tmp:
        result = run_forecast(
            str(base.path), args.replicates, args.seed, args.workers, levers, post, progress=_progress(args)
        )
        names = save_tables(result, tmp) + save_forecast_map(result, tmp)
        _write_metadata(tmp, [base], args, started, result["execution"], levers=levers, **_posterior_meta(post))
    print((out.path / "forecast.md").read_text(encoding="utf-8"))
    print(f"wrote {out.path}/ ({', '.join(names)}, metadata.json)")


def cmd_robust(args) -> Path:
    """Variants across sampled futures: share of futures where best, mean and worst regret."""
    from sim.analysis import futures
    from sim.analysis.posterior import COMMITTED, load_posterior
    from sim.run.output import OutputFolder
    from sim.run.runner import ROW_BYTES, check_fits
    from sim.views.figures import save_robust_figure

    base, variants = _base_and_variants(args.scenario, args.variant, "--variant")
    check_fits((len(variants) + 1) * args.replicates * args.futures, ROW_BYTES, "--futures", str(args.futures))
    post = _posterior(args)
    if post is None and (COMMITTED / "accepted.csv").is_file():
        post = load_posterior(COMMITTED, str(COMMITTED))
    _check_scheduler(args)
    out = OutputFolder(args.out or Path("results") / f"robust-{base.path.stem}-{_stamp()}", args.force)
    started = datetime.now()
    with out as tmp:
        result = futures.robust(
            base,
            variants,
            args.futures,
            args.replicates,
            args.seed,
            outcome=args.outcome,
            posterior=post,
            workers=args.workers,
            progress=_progress(args),
            scheduler=args.scheduler,
        )
        names = futures.save(result, tmp) + save_robust_figure(result, tmp, base.name, args.lang)
        _write_metadata(
            tmp,
            [base],
            args,
            started,
            result["execution"],
            variants=variants,
            futures=args.futures,
            outcome=result["outcome"],
            **_posterior_meta(post),
        )
    print(futures.render(result, base.name, args.replicates, args.lang))
    print(f"\nwrote {out.path}/ ({', '.join(names)}, metadata.json)")
    return out.path


def _resume_command(argv: list[str], out: Path) -> str:
    """The command line that resumes this sweep (same arguments, --out named, --resume, no --force)."""
    args = [a for a in argv if a != "--force"]
    if not any(a == "--out" or a.startswith("--out=") for a in args):
        args += ["--out", str(out)]
    if "--resume" not in args:
        args.append("--resume")
    return "python run.py " + shlex.join(args)


def cmd_sweep(args) -> Path:
    """Run (or resume) a sweep."""
    import time

    from sim.analysis.experiments import parse_params, partial_rows, run_sweep

    overrides = parse_set(args.set)
    params = parse_params(args.param, overrides)
    from sim.analysis.results import load_unique

    base = load_unique([args.scenario], overrides, "--set")
    check_lever_kind(base, overrides, "--set")
    check_lever_kind(base, [p.name for p in params], "--param")
    if args.resume and not args.out:
        raise InputError("--resume", "--out", "name the folder of the sweep to resume")
    _check_scheduler(args)
    out = Path(os.path.abspath(args.out or Path("results") / f"sweep-{Path(args.scenario).stem}-{_stamp()}"))
    t0 = time.perf_counter()
    try:
        final = run_sweep(
            out,
            args.scenario,
            params,
            args.samples,
            args.replicates,
            args.method,
            args.seed,
            resume=args.resume,
            force=args.force,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=_progress(args),
            overrides=overrides,
        )
    except KeyboardInterrupt:
        kept = partial_rows(out)
        if not kept:
            raise KeyboardInterrupt("interrupted; no run was finished, nothing was kept") from None
        raise KeyboardInterrupt(
            f"interrupted; kept {kept} finished runs in {out / 'runs.partial.csv'}; "
            f"resume with: {_resume_command(args.argv, out)}"
        ) from None
    with open(final, "rb") as fh:
        n = sum(1 for _ in fh) - 1
    print(f"wrote {final} ({n} runs, {time.perf_counter() - t0:.1f} s)")
    return final


def cmd_sensitivity(args) -> Path:
    """Sobol or Morris indices with a plot."""
    from sim.analysis.experiments import parse_params, sensitivity
    from sim.analysis.results import load_unique
    from sim.run.output import OutputFolder
    from sim.run.runner import ROW_BYTES, check_fits

    params = parse_params(args.param)
    fixed = parse_set(args.set)
    base = load_unique([args.scenario], fixed, "--set")[0]
    check_lever_kind([base], fixed, "--set")
    check_lever_kind([base], [p.name for p in params], "--param")
    clash = sorted(set(fixed) & {p.name for p in params})
    if clash:
        raise InputError("--set", clash[0], "also given as --param")
    per_sample = len(params) + 2 if args.method == "sobol" else len(params) + 1
    check_fits(args.samples * per_sample * args.replicates, ROW_BYTES, "--samples", str(args.samples))
    _check_scheduler(args)
    out = OutputFolder(args.out or Path("results") / f"sensitivity-{base.path.stem}-{_stamp()}", args.force)
    started = datetime.now()
    with out as tmp:
        from sim.views import plots

        table = sensitivity(
            str(base.path),
            params,
            args.method,
            args.samples,
            args.replicates,
            args.seed,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=_progress(args),
            overrides=base.overrides,
        )
        table.to_csv(tmp / "indices.csv", index=False)
        plots.save(plots.sensitivity(table, f"{args.method.capitalize()} indices, {base.path.stem}"), tmp / "indices")
        _write_metadata(
            tmp,
            [base],
            args,
            started,
            table.attrs["execution"],
            method=args.method,
            samples=args.samples,
            params=[vars(p) for p in params],
            runs=table.attrs["runs"],
        )
    print(table.drop(columns="warning").to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for note in table.attrs["warnings"]:
        print(f"warning: {note}")
    for _, r in table[(table["warning"] != "") & ~table["warning"].str.startswith("constant")].iterrows():
        print(f"  {r['outcome']} / {r['parameter']}: {r['warning']}")
    print(f"{table.attrs['runs']} runs; wrote {out.path}/ (indices.csv, indices.png/.svg, metadata.json)")
    return out.path


def cmd_discover(args) -> None:
    """PRIM on a sweep folder: the box report (with resampling) and two figures."""
    from sim.analysis.experiments import box_report, box_summary, discover
    from sim.run.output import check_output_file
    from sim.views import plots

    if not args.sweep_dir.is_dir():
        raise InputError(args.sweep_dir, "-", "not a finished sweep folder (needs sweep.json and runs.csv)")
    for name in ("prim-trajectory.png", "prim-box.png"):
        check_output_file(args.sweep_dir / name, "sweep_dir")
    box, x, y = discover(args.sweep_dir, args.outcome, args.min_coverage)
    print(f"outcome {args.outcome!r}: true in {y.sum()} of {len(y)} runs ({y.mean():.3f})")
    print(box_report(box, resample=10))
    stats, limits = box_summary(box)
    title = f"PRIM for {args.outcome!r}"
    made = plots.save(plots.prim_tradeoff(box, f"{title}: peeling trajectory"), args.sweep_dir / "prim-trajectory")
    made += plots.save(plots.prim_box(stats, limits, title), args.sweep_dir / "prim-box")
    print("wrote " + ", ".join(str(p) for p in made))


def _check_port(host: str, port: int) -> None:
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InputError("--host", host, f"unknown address ({exc})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            probe.bind(address)
        except PermissionError:
            raise InputError("--port", str(port), "needs privileges to listen on (use 1024 or more)") from None
        except OSError as exc:
            key, value = ("--port", str(port)) if exc.errno == errno.EADDRINUSE else ("--host", host)
            raise InputError(key, value, f"cannot listen there: {exc.strerror}") from None


def _listening(host: str, port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1" if host in ("0.0.0.0", "") else host, port), timeout=1).close()
    except OSError:
        return False
    return True


def cmd_dashboard(args) -> None:
    """Start ``solara run sim/views/app.py`` and print its address once it answers; stop it on Ctrl-C or SIGTERM."""
    import subprocess

    _check_port(args.host, args.port)
    app = Path(__file__).parent / "views" / "app.py"
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(app),
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--no-open",
        "--production",
    ]
    server = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    where = f"{args.host}:{args.port}"
    started = threading.Event()
    try:
        _wait_until_listening(server, args.host, args.port, started)
        print(f"dashboard at http://{where} (Ctrl-C to stop)", flush=True)
        server.wait()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop the server (below) and say so
        if not started.is_set():
            raise
        print("dashboard stopped", file=sys.stderr)
        return
    finally:
        _stop(server)
    if server.returncode:
        raise InputError("dashboard", where, f"the server stopped (exit {server.returncode})")


def _wait_until_listening(server, host: str, port: int, started: threading.Event, seconds: float = 180) -> None:
    """Wait for the server to answer on its port; then relay its output to stderr and set ``started``.

    Raises:
        InputError: the server ended, or did not answer in time (with its last line of output).
    """
    import time
    from collections import deque

    last: deque[str] = deque(maxlen=5)

    def relay() -> None:  # keep the pipe drained; show the server's own lines once it runs
        for line in server.stdout:
            last.append(line.rstrip())
            if started.is_set():
                print(line, end="", file=sys.stderr, flush=True)

    threading.Thread(target=relay, daemon=True).start()
    deadline = time.monotonic() + seconds
    while not _listening(host, port):
        if server.poll() is not None:
            time.sleep(0.2)  # let the relay read the last lines
            reason = next((x for x in reversed(last) if x.strip()), "no output")
            raise InputError(
                "dashboard",
                f"{host}:{port}",
                f"the server stopped before answering (exit {server.returncode}): {reason[-200:]}",
            )
        if time.monotonic() > deadline:
            raise InputError("dashboard", f"{host}:{port}", f"the server did not answer within {seconds:.0f} s")
        time.sleep(0.2)
    started.set()


def _die_with_parent() -> None:
    """In the server process (Linux): receive SIGTERM if this command is killed, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _stop(server) -> None:
    """Stop the server process and everything it started (its own process group)."""
    import subprocess

    if server.poll() is None:
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(server.pid, sig)
            except ProcessLookupError:
                break
            try:
                server.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
    try:  # children left in the group after the server itself ended
        os.killpg(server.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def cmd_list(_args) -> None:
    """Scenarios and the parameter catalogue."""
    from sim.inputs.loader import load_scenario
    from sim.inputs.params import ALIASES, by_name, load_defaults
    from sim.inputs.scenario import available_scenarios

    print("scenarios:")
    for name in available_scenarios():
        print(f"  {name:18s} {load_scenario(name).description}")
    defaults = load_defaults().as_dict()
    for title, lever in (("policy levers", True), ("behavioural parameters (shared by all cases)", False)):
        print(f"\n{title}: KEY (default; unit; allowed) meaning [report section]")
        for key, p in by_name().items():
            if p.lever == lever:
                print(f"  {key:34s} ({defaults[key]!s}; {p.unit}; {p.range_text}) {p.meaning} [{p.section}]")
        if lever:
            print("  other names (§4.3): " + "; ".join(f"{a} = {k}" for a, k in ALIASES.items()))


def cmd_show(args) -> None:
    """Resolved scenario as TOML."""
    from sim.inputs.calendar import month_label
    from sim.inputs.loader import load_scenario
    from sim.inputs.params import by_name
    from sim.inputs.scenario import to_toml
    from sim.run.output import scenario_parameters

    sc = load_scenario(args.scenario, parse_set(args.set))
    check_lever_kind([sc], parse_set(args.set), "--set")
    params: dict[str, dict] = {}
    for name, value in scenario_parameters(sc).items():
        params.setdefault(by_name()[name].group, {})[name] = value
    print(
        f"# {sc.path} (sha256 {sc.sha256[:12]}), shared parameters merged"
        + (f", overrides {sc.overrides}" if sc.overrides else "")
    )
    munis = [
        {
            "name": m.name,
            "county": m.county,
            "population": m.population,
            "staff": dict(zip(sc.params.vocab.sector_names, (round(x, 3) for x in m.staff), strict=True)),
        }
        for m in sc.municipalities
    ]
    top = "county" if sc.kind == "county" else "region"
    header = {k: v for k, v in sc.facts[top].items()}
    header.update(start=month_label(sc.start), pilot_end=month_label(sc.pilot_end), horizon=month_label(sc.horizon))
    if sc.kind == "county":  # distances are computed from the data: the areas say more
        where = {
            "area": [
                {"name": a.name, "members": list(a.members), "assumed": a.assumed, "source": a.source} for a in sc.areas
            ]
        }
    else:
        pairs = [(a, b) for i, a in enumerate(sc.names) for b in sc.names[i + 1 :]]
        where = {"distances": [[a, b, round(sc.distance(a, b), 1)] for a, b in pairs]}
    facts = {k: v for k, v in sc.facts.items() if k not in ("distances", "municipality", "region", "county", "area")}
    print(
        to_toml(
            {
                **where,
                top: header,
                "municipality": munis,
                **facts,
                **{f"parameters.{g}": t for g, t in params.items()},
            }
        )
    )
    if sc.estimates:
        print("# estimated inputs (value, low, high):")
        for key, est in sc.estimates.items():
            print(f"#   {key} = {est.value:g} ({est.low:g}-{est.high:g}): {est.source}")


#: Memory one scored set takes in a calibration's history (point, unit, story and clause shares),
#: measured at a few kB and about doubled; every scored set is kept until the result is written.
SCORED_SET_BYTES = 20_000


def _check_calibration_size(budget) -> None:
    """Refuse up front (one line) a calibration whose scores or runs cannot fit in memory.

    Every scored set is kept (``SCORED_SET_BYTES`` each), and one set's runs with their records are
    held while it is scored (``DETAIL_BYTES`` per run and case), as ``run`` and ``compare`` check theirs.
    """
    from sim.analysis.calibration import primary_patterns
    from sim.run.runner import DETAIL_BYTES, available_memory, check_fits

    cases = len({p.case for p in primary_patterns()})
    scored = budget.sets * budget.generations
    need, have = scored * SCORED_SET_BYTES, available_memory() // 2
    if need > have:
        raise InputError(
            "--sets",
            str(budget.sets),
            f"{budget.sets:,} sets x {budget.generations} generations = {scored:,} scored sets would need about "
            f"{need / 1e9:,.1f} GB of memory, {have / 1e9:,.1f} GB can be used; use fewer sets or generations",
        )
    check_fits(budget.replicates * cases, DETAIL_BYTES, "--replicates", str(budget.replicates))


def cmd_calibrate(args) -> None:
    """Run or resume the ABC calibration (``sim.analysis.calibration``) and print its summary and elapsed time."""
    from sim.analysis.calibration import Budget, calibrate, load_centre

    centre = load_centre(args.centre) if args.centre else None
    if args.resume and not args.out:
        raise InputError("--resume", "--out", "name the folder of the calibration to resume")
    _check_scheduler(args)
    out = Path(os.path.abspath(args.out or Path("results") / f"calibration-{_stamp()}"))
    budget = Budget(args.sets, args.generations, args.replicates, args.keep)
    _check_calibration_size(budget)
    try:
        result = calibrate(
            out,
            budget,
            args.seed,
            centre,
            args.factor,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=_progress(args),
            resume=args.resume,
            force=args.force,
            command=["run.py", *args.argv],
        )
    except KeyboardInterrupt:
        raise KeyboardInterrupt(
            f"interrupted; the scored sets are kept in {out / 'progress.jsonl'}; "
            f"resume with: {_resume_command(args.argv, out)}"
        ) from None
    if result["complete"]:
        return
    best = result["best"]
    print("point estimate (best accepted set): " + ", ".join(f"{s} {best[s]:.3f}" for s in result["stories"]))
    ident = result["identifiability"]
    print(
        f"constrained (90 % interval < 0.7 of the prior's): {int(ident['constrained'].sum())} of {len(ident)} "
        f"parameters; posterior: {result['accepted']} particles, {result['distinct']} distinct sets"
    )
    print(
        f"wrote {out}/ (accepted.csv, scored.csv, generations.csv, identifiability.csv, summary.md, metadata.json); "
        f"{budget.sets} sets x {budget.generations} generations x {budget.replicates} replicates x "
        f"{len(result['stories'])} cases = {result['runs']:,} runs; elapsed {result['seconds']:.1f} s"
    )


def cmd_default(args) -> None:
    """No arguments: validation table for a modest count, then results and plots."""
    from sim.inputs.loader import load_scenario
    from sim.inputs.scenario import available_scenarios

    validate_args = build_parser().parse_args(["validate", "--replicates", "200"])
    vars(args).update({k: v for k, v in vars(validate_args).items() if k not in ("seed", "workers", "quiet")})
    pilots = [s for s in available_scenarios() if load_scenario(s).kind == "region"]
    out = Path("results") / f"pilots-{_stamp()}"
    # parsed like a typed command, so every option of `run` has its default
    run_args = build_parser().parse_args(["run", *pilots, "--replicates", "100", "--out", str(out)])
    run_args.seed, run_args.workers, run_args.quiet, run_args.argv = args.seed, args.workers, args.quiet, args.argv
    cmd_validate(args)
    cmd_run(run_args)


COMMANDS = {
    "validate": cmd_validate,
    "run": cmd_run,
    "compare": cmd_compare,
    "forecast": cmd_forecast,
    "robust": cmd_robust,
    "list": cmd_list,
    "show": cmd_show,
    "sweep": cmd_sweep,
    "sensitivity": cmd_sensitivity,
    "discover": cmd_discover,
    "dashboard": cmd_dashboard,
    "calibrate": cmd_calibrate,
}


def _one_line_warnings() -> None:
    """Doubtful inputs (``ScenarioWarning``) are reported as one line on stderr; the run goes on."""
    import warnings

    from sim.inputs.errors import ScenarioWarning

    shown, seen = warnings.showwarning, set()

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, ScenarioWarning):
            if str(message) not in seen:
                seen.add(str(message))
                print(f"warning: {message}", file=sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt("terminated; nothing was written")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (2 for bad input, 130 when interrupted)."""
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    os.environ.setdefault("MPLBACKEND", "Agg")  # the command line only writes figures to files
    _one_line_warnings()
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        args = build_parser().parse_args(argv)
        args.argv = argv
        if args.command is None:
            args.seed, args.workers, args.scheduler, args.quiet = DEFAULT_SEED, None, None, False
            cmd_default(args)
        else:
            COMMANDS[args.command](args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(str(exc) or "interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    return 0
