"""The argument parser: one small builder per command over shared option groups.

Every option's type checks its value as it is read (an error names the option); nothing here
imports more than the standard library and ``sim.inputs``, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

from sim.inputs.errors import InputError
from sim.inputs.vocab import DEFAULT_SEED, NULL_MODELS

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
        # Plain digits only: int() alone would also take "1_000" and non-ASCII digits, which are more
        # likely a slip than a number.
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
    # At 1 the prior box centre/F..centre*F has no width and there is nothing to calibrate.
    if not 1 < value <= 100:  # also refuses nan
        raise InputError("--factor", text, "must be above 1 and at most 100")
    return value


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


# --- shared option groups -------------------------------------------------------------------------
def _common(sp, replicates: int | None, default_text: str = "") -> None:
    """``--replicates``, ``--seed`` and the execution settings (``--workers``, ``--scheduler``, ``--quiet``)."""
    sp.add_argument(
        "--replicates",
        type=_whole("--replicates", 1),
        default=replicates,
        help=f"replicates per scenario (default {default_text or replicates})",
    )
    sp.add_argument(
        "--seed", type=_whole("--seed", 0), default=DEFAULT_SEED, help=f"base seed, 0 or more (default {DEFAULT_SEED})"
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


def _posterior(sp) -> None:
    sp.add_argument(
        "--posterior",
        type=Path,
        metavar="FOLDER",
        help="spread the replicates over a calibration's accepted sets (replicate r uses set r mod K), so "
        "intervals carry parameter uncertainty too (e.g. docs/calibration/posterior)",
    )


def _lang(sp) -> None:
    sp.add_argument(
        "--lang", choices=["en", "nb"], default="en", help="language of the summary and figure labels (en, nb)"
    )


def _output(sp, what: str) -> None:
    sp.add_argument("--out", type=Path, help=f"output folder (default results/{what}-<time>)")
    sp.add_argument(
        "--force",
        action="store_true",
        help="replace --out if it is a previous result folder of this program (anything else is never deleted)",
    )


def _scenario(sp) -> None:
    sp.add_argument("scenario", help="scenario name or TOML path")


def _variant(sp, help_text: str) -> None:
    sp.add_argument("--variant", action="append", required=True, metavar="NAME:KEY=VALUE[,KEY=VALUE]", help=help_text)


def _params(sp) -> None:
    sp.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="KEY=LO:HI[:log]",
        help="a numeric parameter or lever to vary; repeatable, each key once",
    )


def _set(sp, help_text: str) -> None:
    sp.add_argument("--set", action="append", metavar="KEY=VALUE", help=help_text)


# --- one builder per command ----------------------------------------------------------------------
def _forecast(sub) -> None:
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
    _common(fc, 1000)
    fc.add_argument("--levers", action="store_true", help="compare the §4 levers of the README against the forecast")
    fc.add_argument(
        "--lever", action="append", default=[], metavar="NAME:KEY=VALUE,...", help="a lever to compare; repeatable"
    )
    _output(fc, "forecast-<scenario>")
    _posterior(fc)


def _validate(sub) -> None:
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
    _common(v, None, "1000; 200 per corner with --robustness")
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
        nargs="*",
        metavar="ID",
        help="instead: run the directional expectations of scenarios/directions.toml (paired, default 200 "
        "replicates); with words, only those whose id contains one (e.g. --directions sector_by_sector)",
    )
    _posterior(v)
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


def _run(sub) -> None:
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
    _common(r, 100)
    r.add_argument(
        "--until", metavar="YYYY-MM", help="stop at this month, before the scenario's horizon (default: the horizon)"
    )
    _set(r, "override a parameter or lever (see `list`); repeatable, each key once")
    r.add_argument(
        "--set-file",
        type=Path,
        metavar="FILE",
        help="a settings file (TOML with a [set] table, as the dashboard saves it); --set values win",
    )
    _output(r, "<scenario>")
    r.add_argument("--no-plots", action="store_true", help="skip the plots")
    _posterior(r)
    _lang(r)


def _compare(sub) -> None:
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
    _scenario(c)
    _variant(c, "a named variant; repeatable")
    _common(c, 300)
    _output(c, "compare-<scenario>")
    _posterior(c)
    _lang(c)


def _robust(sub) -> None:
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
    _scenario(rb)
    _variant(rb, "a named variant")
    rb.add_argument("--futures", type=_whole("--futures", 2, 10_000), default=20, help="sampled futures (default 20)")
    rb.add_argument(
        "--outcome",
        help="outcome to score by (default: municipalities served by a joint office for a county, mean "
        "vulnerability at the horizon for a pilot); vulnerability and stops count lower as better",
    )
    _common(rb, 20)
    _output(rb, "robust-<scenario>")
    _posterior(rb)
    _lang(rb)


def _sweep(sub) -> None:
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
    _scenario(w)
    _params(w)
    w.add_argument(
        "--samples",
        type=_whole("--samples", 1),
        default=100,
        help="sample points (lhs) or points per axis (grid); default 100",
    )
    w.add_argument("--method", choices=("lhs", "grid"), default="lhs", help="design (default lhs)")
    _common(w, 10)
    _set(w, "fixed overrides; each key once")
    _output(w, "sweep-<scenario>")
    w.add_argument("--resume", action="store_true", help="finish an interrupted sweep in --out")


def _sensitivity(sub) -> None:
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
    _scenario(e)
    _params(e)
    e.add_argument("--method", choices=("sobol", "morris"), default="sobol", help="method (default sobol)")
    _set(e, "fixed overrides; each key once")
    e.add_argument(
        "--samples",
        type=_whole("--samples", 1),
        default=256,
        help="base samples N (Sobol: N*(D+2) points; Morris: N trajectories)",
    )
    _common(e, 10)
    _output(e, "sensitivity-<scenario>")


def _discover(sub) -> None:
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


def _dashboard_list_show(sub) -> None:
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
    _scenario(s)
    _set(s, "override; each key once")


def _calibrate(sub) -> None:
    k = _command(
        sub,
        "calibrate",
        "ABC calibration of the shared values against the calibration facts and stories (resumable)",
        "Approximate Bayesian computation (sequential Monte Carlo with Metropolis-Hastings moves, "
        "sim.analysis.calibration) over the calibrated parameters: a log-uniform prior from value/FACTOR to "
        "value*FACTOR around --centre (within the catalogue's ranges), GENERATIONS generations of SETS "
        "parameter sets, each run REPLICATES times on each scored case and scored by a graded distance over "
        "the calibration facts (scenarios/facts.toml) and the primary stories (validation facts never "
        "enter). Writes accepted.csv (the posterior), scored.csv, generations.csv, identifiability.csv, "
        "summary.md and metadata.json into --out. After Ctrl-C or a "
        "kill, the same command with --resume scores only what is missing; the result is bit-identical.",
        "python run.py calibrate --out results/calibration",
        "python run.py calibrate --out docs/calibration/posterior --force   # remake the committed result",
        "python run.py calibrate --out results/calibration --resume",
    )
    _common(k, 40)  # sim.analysis.calibration.Budget.replicates
    k.add_argument(
        "--sets",
        type=_whole("--sets", 2, 100_000),
        default=150,
        help="parameter sets (particles) per generation (default 150)",
    )
    k.add_argument("--generations", type=_whole("--generations", 1, 100), default=12, help="generations (default 12)")
    k.add_argument(
        "--top",
        type=_whole("--top", 0, 10_000),
        default=10,
        help="distinct best sets of the last population re-scored on fresh replicates at the end (default 10)",
    )
    k.add_argument(
        "--refine",
        type=_whole("--refine", 0, 1_000_000),
        default=200,
        help="fresh replicates per case the best sets are re-scored on; they rank the point estimate (default 200)",
    )
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
    _output(k, "calibration")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand, in the order ``--help`` lists them."""
    p = _Parser(
        prog="run.py",
        description="Agent-based model of inter-municipal cooperation on planning, "
        "environment and agriculture (NIVI 2016 pilots).\nWithout a command: the validation table for "
        "200 replicates per pilot, then tables and plots in results/.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    for add in (_forecast, _validate, _run, _compare, _robust, _sweep, _sensitivity, _discover):
        add(sub)
    _dashboard_list_show(sub)
    _calibrate(sub)
    return p
