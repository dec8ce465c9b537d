"""Command line: a thin layer over the Python API (``python run.py --help``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.params import CATALOGUE, parse_set

EPILOG = """examples:
  python run.py                                  the three pilots: validation table and plots in results/
  python run.py validate --replicates 1000 --json validation.json
  python run.py run fosen --replicates 200 --set reform_intensity=0
  python run.py compare vaernesregionen --variant admin_only:allow_board_host=false \\
        --variant sectors:agenda=sector_by_sector --replicates 300
  python run.py list
  python run.py show fjellregionen --set pilot_funding=0
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    p = _Parser(prog="run.py", description="Agent-based model of inter-municipal cooperation on "
                "planning, environment and agriculture (NIVI 2016 pilots).",
                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    def common(sp, replicates: int) -> None:
        sp.add_argument("--replicates", type=_positive_int, default=replicates,
                        help=f"replicates per scenario (default {replicates})")
        sp.add_argument("--seed", type=int, default=20161214, help="base seed (default 20161214)")
        sp.add_argument("--workers", type=_positive_int, default=None,
                        help="worker processes (default: all cores; 1 = in this process)")
        sp.add_argument("--scheduler", metavar="ADDRESS", help="send the runs to a Dask distributed "
                        "scheduler (tcp://host:8786) instead of local processes")
        sp.add_argument("--quiet", action="store_true", help="no progress bar")

    v = sub.add_parser("validate", help="score the report's patterns over many replicates",
                       description="Run the three pilots N times each and print, per pattern, the "
                       "share of replicates that show it with a 95 %% Wilson interval.\n"
                       "example: python run.py validate --replicates 1000 --json v.json")
    common(v, 1000)
    v.add_argument("--json", type=Path, help="also write the result as JSON to this file")
    v.add_argument("--markdown", type=Path, help="also write docs-style markdown to this file")

    r = sub.add_parser("run", help="run scenarios and write tables and plots",
                       description="Run replicates of one or more scenarios and write runs.csv, "
                       "timeline.csv, events.csv, summary.csv, metadata.json and plots.\n"
                       "example: python run.py run fosen --replicates 200 --set reform_intensity=0",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("scenario", nargs="+", help="scenario name in scenarios/ or a TOML path")
    common(r, 100)
    r.add_argument("--until", help="stop at this month, YYYY-MM (default: the scenario's horizon)")
    r.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter or "
                   "lever (see `list`); repeatable")
    r.add_argument("--out", type=Path, help="output folder (default results/<scenario>-<time>)")
    r.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    r.add_argument("--no-plots", action="store_true", help="skip the plots")

    c = sub.add_parser("compare", help="what-if: baseline against variants on the same seeds",
                       description="Run a baseline and each variant on the same replicate seeds "
                       "and report every outcome's difference with a 95 %% interval.\n"
                       "example: python run.py compare vaernesregionen "
                       "--variant admin_only:allow_board_host=false")
    c.add_argument("scenario", help="scenario name or TOML path")
    c.add_argument("--variant", action="append", required=True, metavar="NAME:KEY=VALUE[,KEY=VALUE]",
                   help="a named variant; repeatable")
    common(c, 300)
    c.add_argument("--out", type=Path, help="output folder (default results/compare-<scenario>-<time>)")
    c.add_argument("--force", action="store_true", help="replace a non-empty output folder")

    w = sub.add_parser("sweep", help="Latin hypercube or grid sweep over parameters, resumable",
                       description="Sample parameters (Latin hypercube or grid), run R replicates per "
                       "sample and stream one row per run to OUT/runs.csv; --resume after an "
                       "interruption runs only the missing jobs.\n"
                       "example: python run.py sweep vaernesregionen --param steering_value=0:1.5 "
                       "--param extra_political_involvement=0:1 --samples 200 --replicates 50 --out results/sweep",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    w.add_argument("scenario")
    w.add_argument("--param", action="append", required=True, metavar="KEY=LO:HI[:log]",
                   help="a parameter or lever to vary; repeatable")
    w.add_argument("--samples", type=_positive_int, default=100,
                   help="sample points (lhs) or points per axis (grid); default 100")
    w.add_argument("--method", choices=("lhs", "grid"), default="lhs")
    common(w, 10)
    w.add_argument("--set", action="append", metavar="KEY=VALUE", help="fixed overrides")
    w.add_argument("--out", type=Path, help="output folder (default results/sweep-<scenario>-<time>)")
    w.add_argument("--resume", action="store_true", help="finish an interrupted sweep in --out")
    w.add_argument("--force", action="store_true", help="replace a non-empty output folder")

    e = sub.add_parser("sensitivity", help="Sobol or Morris sensitivity indices (SALib)",
                       description="Global sensitivity of the outcomes (formal agreement, stall, "
                       "months to agreement, vulnerability at the horizon) to chosen parameters.\n"
                       "example: python run.py sensitivity vaernesregionen --param steering_value=0:1.5 "
                       "--param leader_weight=0:4 --method sobol --samples 256 --replicates 10")
    e.add_argument("scenario")
    e.add_argument("--param", action="append", required=True, metavar="KEY=LO:HI[:log]")
    e.add_argument("--method", choices=("sobol", "morris"), default="sobol")
    e.add_argument("--samples", type=_positive_int, default=256,
                   help="base samples N (Sobol: N*(D+2) points; Morris: N trajectories)")
    common(e, 10)
    e.add_argument("--out", type=Path, help="output folder (default results/sensitivity-<scenario>-<time>)")
    e.add_argument("--force", action="store_true")

    d = sub.add_parser("discover", help="PRIM scenario discovery on a finished sweep",
                       description="Find the parameter box where an outcome concentrates (PRIM, EMA "
                       "Workbench): coverage, density, limits, and plots.\n"
                       "example: python run.py discover results/sweep --outcome stalled")
    d.add_argument("sweep_dir", type=Path)
    d.add_argument("--outcome", required=True, help="true/false expression on runs.csv columns, e.g. "
                   "\"stalled\" or \"stall_cause == 'governance_dispute'\"")
    d.add_argument("--min-coverage", type=float, default=0.5,
                   help="choose the densest box covering at least this share of the outcome's runs (default 0.5)")

    b = sub.add_parser("dashboard", help="start the interactive dashboard (Solara) and print its address",
                       description="Start the SolaraViz dashboard on HOST:PORT (Ctrl-C stops it).\n"
                       "example: python run.py dashboard --port 8765")
    b.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    b.add_argument("--port", type=_positive_int, default=8765, help="port (default 8765)")

    sub.add_parser("list", help="scenarios, parameters and policy levers",
                   description="List scenarios and every parameter and lever with its default, "
                   "unit, range and meaning (the keys for --set).\nexample: python run.py list")
    s = sub.add_parser("show", help="print a fully resolved scenario as TOML",
                       description="Print a scenario with the shared parameters merged in.\n"
                       "example: python run.py show fosen --set pilot_funding=0")
    s.add_argument("scenario")
    s.add_argument("--set", action="append", metavar="KEY=VALUE")
    return p


def _progress(args) -> bool:
    return not getattr(args, "quiet", False)


def cmd_validate(args, out_dir: Path | None = None) -> dict[str, Any]:
    """Run validation, print the table, write JSON / markdown if asked."""
    from sim.validation import format_table, validate

    result = validate(args.replicates, args.seed, workers=args.workers, scheduler=args.scheduler,
                      progress=_progress(args))
    print(format_table(result))
    public = {k: v for k, v in result.items() if k != "rows"}
    if getattr(args, "json", None):
        args.json.write_text(json.dumps(public, indent=2) + "\n")
    if getattr(args, "markdown", None):
        args.markdown.write_text(validation_markdown(result, " ".join(["python run.py", *sys.argv[1:]])))
    return result


def validation_markdown(result: dict[str, Any], command: str) -> str:
    """docs/validation.md text."""
    from sim.validation import format_table

    return ("# Validation (generated)\n\nMade by:\n\n```\n" + command + "\n```\n\n```\n"
            + format_table(result) + "\n```\n\nPatterns and their exact tests: "
            "`scenarios/patterns.toml` and `sim/validation.py`; discussion in `docs/ODD.md`.\n")


def cmd_run(args) -> Path:
    """Run scenarios and write the result folder."""
    from sim import plots
    from sim.results import atomic_dir, prepare_out_dir, run_scenarios, write_json
    from sim.scenario import load_scenario, month_index

    overrides = parse_set(args.set)
    scenarios = [load_scenario(s, overrides) for s in args.scenario]
    until = month_index(args.until, "--until", "--until") if args.until else None
    for sc in scenarios:
        if until is not None and until < sc.start:
            raise InputError("--until", args.until, f"is before {sc.name}'s start")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or Path("results") / f"{'+'.join(Path(s).stem for s in args.scenario)}-{stamp}"
    prepare_out_dir(out, args.force)
    started = datetime.now().isoformat(timespec="seconds")
    t0 = time.perf_counter()
    res = run_scenarios(scenarios, args.replicates, args.seed, workers=args.workers, scheduler=args.scheduler,
                        progress=_progress(args), until=until, **overrides)
    made: list = []
    with atomic_dir(out, args.force) as tmp:
        res.write(tmp)
        if not args.no_plots:
            for stem, fig in res.plots().items():
                made += plots.save(fig, tmp / stem)
        write_json(tmp / "metadata.json", _metadata(args, res.scenarios, started, t0))
    print_summary(res.summary())
    print(f"wrote {out}/ (runs.csv, timeline.csv, events.csv, summary.csv, metadata.json"
          + (f", {len(made) // 2} plots as PNG and SVG)" if made else ")"))
    return out


def _metadata(args, scenarios, started: str, t0: float) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg = version("imc-sim")
    except PackageNotFoundError:
        pkg = "0.1.0 (not installed)"
    return {
        "package_version": pkg, "command_line": ["run.py", *sys.argv[1:]],
        "scenarios": [{"name": sc.name, "file": str(sc.path), "sha256": sc.sha256,
                       "parameters": sc.params} for sc in scenarios],
        "base_seed": args.seed,
        "replicate_seeds": "numpy.random.SeedSequence(base_seed, spawn_key=(replicate,)) for "
                           f"replicate in 0..{args.replicates - 1}",
        "replicates": args.replicates, "started": started,
        "finished": datetime.now().isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 2),
    }


def print_summary(summary) -> None:
    """Print outcome shares and means."""
    for name, g in summary.groupby("scenario", sort=False):
        print(f"\n{name}")
        for _, r in g.iterrows():
            print(f"  {r['label']:42s} {r['value']:7.3f}  [{r['ci_low']:.3f}, {r['ci_high']:.3f}]")


def _parse_variant(text: str) -> tuple[str, dict[str, str]]:
    name, sep, rest = text.partition(":")
    if not sep or not name.strip() or not rest.strip():
        raise InputError("--variant", text, "expected NAME:KEY=VALUE[,KEY=VALUE...]")
    return name.strip(), parse_set(rest.split(","), "--variant")


def cmd_compare(args) -> Path:
    """Baseline vs variants on common random numbers."""
    import pandas as pd

    from sim import plots
    from sim.results import atomic_dir, compare_rows, prepare_out_dir, run_scenarios, write_json
    from sim.scenario import load_scenario

    variants = [_parse_variant(v) for v in args.variant]
    base = load_scenario(args.scenario)
    for _, ov in variants:  # check every variant before running anything
        load_scenario(args.scenario, ov, "--variant")
    out = args.out or Path("results") / f"compare-{base.path.stem}-{datetime.now():%Y%m%d-%H%M%S}"
    prepare_out_dir(out, args.force)
    started, t0 = datetime.now().isoformat(timespec="seconds"), time.perf_counter()
    def rows(**ov):
        return run_scenarios([base], args.replicates, args.seed, detail=False, workers=args.workers,
                             scheduler=args.scheduler, progress=_progress(args), **ov).rows.to_dict("records")

    base_rows = rows()
    tables = [compare_rows(base_rows, rows(**ov)).assign(variant_name=name, overrides=str(ov))
              for name, ov in variants]
    table = pd.concat(tables)
    with atomic_dir(out, args.force) as tmp:
        table.to_csv(tmp / "comparison.csv", index=False)
        plots.save(plots.comparison(table, f"{base.name}: variants against baseline"), tmp / "comparison")
        meta = _metadata(args, [base], started, t0)
        meta["variants"] = {n: ov for n, ov in variants}
        write_json(tmp / "metadata.json", meta)
    for name, g in table.groupby("variant_name", sort=False):
        print(f"\n{base.name}: {name} ({g['overrides'].iloc[0]}) vs baseline, "
              f"{args.replicates} paired replicates")
        print(f"  {'outcome':42s} {'baseline':>8s} {'variant':>8s} {'diff':>8s}  95% CI")
        for _, r in g.iterrows():
            print(f"  {r['label']:42s} {r['baseline']:8.3f} {r['variant']:8.3f} "
                  f"{r['difference']:+8.3f}  [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]")
    print(f"\nwrote {out}/ (comparison.csv, comparison.png/.svg, metadata.json)")
    return out


def cmd_sweep(args) -> Path:
    """Run (or resume) a sweep."""
    from sim.experiments import Uncertainty, run_sweep

    params = [Uncertainty.parse(t) for t in args.param]
    if args.resume and not args.out:
        raise InputError("--resume", "--out", "name the folder of the sweep to resume")
    out = args.out or Path("results") / f"sweep-{Path(args.scenario).stem}-{datetime.now():%Y%m%d-%H%M%S}"
    t0 = time.perf_counter()
    final = run_sweep(out, args.scenario, params, args.samples, args.replicates, args.method, args.seed,
                      resume=args.resume, force=args.force, workers=args.workers,
                      scheduler=args.scheduler, progress=_progress(args), overrides=parse_set(args.set))
    n = sum(1 for _ in open(final, encoding="utf-8")) - 1
    print(f"wrote {final} ({n} runs, {time.perf_counter() - t0:.1f} s)")
    return final


def cmd_sensitivity(args) -> Path:
    """Sobol or Morris indices with a plot."""
    from sim import plots
    from sim.experiments import Uncertainty, sensitivity
    from sim.results import atomic_dir, prepare_out_dir

    params = [Uncertainty.parse(t) for t in args.param]
    out = args.out or Path("results") / f"sensitivity-{Path(args.scenario).stem}-{datetime.now():%Y%m%d-%H%M%S}"
    prepare_out_dir(out, args.force)
    table = sensitivity(args.scenario, params, args.method, args.samples, args.replicates, args.seed,
                        workers=args.workers, scheduler=args.scheduler, progress=_progress(args))
    with atomic_dir(out, args.force) as tmp:
        table.to_csv(tmp / "indices.csv", index=False)
        plots.save(plots.sensitivity(table, f"{args.method.capitalize()} indices, {Path(args.scenario).stem}"),
                   tmp / "indices")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"{table.attrs['runs']} runs; wrote {out}/ (indices.csv, indices.png/.svg)")
    return out


def cmd_discover(args) -> None:
    """PRIM on a sweep folder."""
    import matplotlib.pyplot as plt

    from sim import plots
    from sim.experiments import box_report, discover

    if not 0 < args.min_coverage <= 1:
        raise InputError("--min-coverage", str(args.min_coverage), "must be in (0, 1]")
    box, x, y = discover(args.sweep_dir, args.outcome, args.min_coverage)
    print(f"outcome {args.outcome!r}: true in {y.sum()} of {len(y)} runs ({y.mean():.3f})")
    print(box_report(box))
    box.show_tradeoff()
    made = plots.save(plt.gcf(), args.sweep_dir / "prim-trajectory")
    box.inspect(style="graph")
    made += plots.save(plt.gcf(), args.sweep_dir / "prim-box")
    print("wrote " + ", ".join(str(p) for p in made))


def cmd_dashboard(args) -> None:
    """Run ``solara run sim/app.py`` and print where it is."""
    import subprocess

    app = Path(__file__).with_name("app.py")
    print(f"dashboard at http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    subprocess.run([sys.executable, "-m", "solara", "run", str(app), "--host", args.host, "--port",
                    str(args.port), "--no-open", "--production"], check=False)


def cmd_list(_args) -> None:
    """Scenarios and the parameter catalogue."""
    from sim.params import load_defaults
    from sim.scenario import DEFAULTS, available_scenarios, load_scenario

    print("scenarios:")
    for name in available_scenarios():
        print(f"  {name:18s} {load_scenario(name).description}")
    defaults = load_defaults(DEFAULTS)
    for title, lever in (("policy levers", True), ("behavioural parameters (shared by all cases)", False)):
        print(f"\n{title}: KEY (default; unit; allowed) meaning")
        for p in CATALOGUE:
            if p.lever == lever:
                print(f"  {p.name:30s} ({defaults[p.name]!s}; {p.unit}; {p.range_text}) {p.meaning}")


def cmd_show(args) -> None:
    """Resolved scenario as TOML."""
    from sim.params import BY_NAME
    from sim.scenario import load_scenario, to_toml

    sc = load_scenario(args.scenario, parse_set(args.set))
    params: dict[str, dict] = {}
    for name, value in sc.params.items():
        params.setdefault(BY_NAME[name].group, {})[name] = value
    print(f"# {sc.path} (sha256 {sc.sha256[:12]}), shared parameters merged"
          + (f", overrides {sc.overrides}" if sc.overrides else ""))
    facts = {k: v for k, v in sc.facts.items() if k != "distances"}
    print(f"distances = {json.dumps(sc.facts['distances'], ensure_ascii=False)}\n")
    print(to_toml({**facts, **{f"parameters.{g}": t for g, t in params.items()}}))


def cmd_default(args) -> None:
    """No arguments: validation table for a modest count, then results and plots."""
    args.replicates, args.json, args.markdown = 200, None, None
    cmd_validate(args)
    from sim.scenario import available_scenarios

    run_args = argparse.Namespace(
        scenario=available_scenarios(), replicates=100,
        seed=args.seed, workers=args.workers, scheduler=None, quiet=args.quiet, until=None, set=None,
        out=Path("results") / f"pilots-{datetime.now():%Y%m%d-%H%M%S}", force=False, no_plots=False)
    cmd_run(run_args)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            args.seed, args.workers, args.scheduler, args.quiet = 20161214, None, None, False
            cmd_default(args)
        else:
            {"validate": cmd_validate, "run": cmd_run, "compare": cmd_compare, "list": cmd_list,
             "show": cmd_show, "sweep": cmd_sweep, "sensitivity": cmd_sensitivity,
             "discover": cmd_discover, "dashboard": cmd_dashboard}[args.command](args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    return 0
