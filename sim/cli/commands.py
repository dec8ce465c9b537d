"""Each command: options in, one call of the Python API (``sim.api``), its answer printed.

Every input is checked -- including where the output goes -- before any work starts (by the API).
Bad input gives one line ``error: SOURCE: KEY: PROBLEM`` on stderr and exit code 2; Ctrl-C or
SIGTERM gives one line and exit code 130. The API is imported only by the command that needs it
(Mesa, pandas, matplotlib, SALib and Dask are slow to import), so ``--help`` and ``list`` answer
at once.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from sim.cli.parser import DEFAULT_SEED, build_parser
from sim.inputs.errors import InputError


def _execution(args):
    """The execution settings of ``--workers``, ``--scheduler`` and ``--quiet``."""
    from sim.run.execution import Execution  # imports the runner (Mesa)

    return Execution(args.workers, getattr(args, "scheduler", None), not getattr(args, "quiet", False))


def _command(args) -> list[str]:
    """The command line recorded in ``metadata.json`` and in the markdown written."""
    return ["run.py", *args.argv]


def _say(done) -> None:
    if done.answer:
        print(done.answer)


def cmd_validate(args):
    """Run validation, print each table, write JSON / markdown if asked (and the robustness corners)."""
    from sim.api.validation import validate  # lazy: --help stays fast

    return validate(
        args.replicates,
        args.seed,
        args.null,
        args.clauses,
        args.posterior,
        args.json,
        args.markdown,
        args.robustness,
        args.out,
        args.force,
        args.county,
        args.directions,
        _execution(args),
        _command(args),
    ).result


def cmd_run(args) -> Path:
    """Run scenarios and write the result folder."""
    from sim.api.checks import parse_set  # lazy: --help stays fast
    from sim.api.workflows import run  # lazy: --help stays fast

    overrides = parse_set(args.set)
    given = (args.replicates, args.seed, overrides, args.set_file, args.until, args.out, args.force)
    done = run(args.scenario, *given, not args.no_plots, args.lang, args.posterior, _execution(args), _command(args))
    _say(done)
    return done.path


def cmd_compare(args) -> Path:
    """Baseline vs variants on common random numbers."""
    from sim.api.checks import parse_variants  # lazy: --help stays fast
    from sim.api.workflows import compare  # lazy: --help stays fast

    variants = parse_variants(args.variant, "--variant")
    given = (args.replicates, args.seed, args.out, args.force, args.lang, args.posterior)
    done = compare(args.scenario, variants, *given, _execution(args), _command(args))
    _say(done)
    return done.path


def cmd_forecast(args) -> Path:
    """The county forecast (``sim.analysis.forecast``): tables, map and the levers against it."""
    from sim.api.checks import parse_variants  # lazy: --help stays fast
    from sim.api.workflows import forecast  # lazy: --help stays fast

    levers = parse_variants(args.lever, "--lever")
    given = (args.replicates, args.seed, levers, args.levers, args.out, args.force, args.posterior)
    done = forecast(args.scenario, *given, _execution(args), _command(args))
    _say(done)
    return done.path


def cmd_robust(args) -> Path:
    """Variants across sampled futures: share of futures where best, mean and worst regret."""
    from sim.api.checks import parse_variants  # lazy: --help stays fast
    from sim.api.workflows import robust  # lazy: --help stays fast

    variants = parse_variants(args.variant, "--variant")
    given = (args.futures, args.replicates, args.seed, args.outcome, args.out, args.force, args.lang, args.posterior)
    done = robust(args.scenario, variants, *given, _execution(args), _command(args))
    _say(done)
    return done.path


def cmd_sweep(args) -> Path:
    """Run (or resume) a sweep."""
    from sim.api.checks import parse_set  # lazy: --help stays fast
    from sim.api.studies import sweep  # lazy: --help stays fast

    overrides = parse_set(args.set)
    given = (args.samples, args.replicates, args.method, args.seed, overrides, args.out, args.resume, args.force)
    done = sweep(args.scenario, args.param, *given, _execution(args), _command(args))
    _say(done)
    return done.path


def cmd_sensitivity(args) -> Path:
    """Sobol or Morris indices with a plot."""
    from sim.api.checks import parse_set  # lazy: --help stays fast
    from sim.api.studies import sensitivity, uncertainties  # lazy: --help stays fast

    params = uncertainties(args.param)
    given = (args.method, args.samples, args.replicates, args.seed, parse_set(args.set), args.out, args.force)
    done = sensitivity(args.scenario, params, *given, _execution(args), _command(args))
    _say(done)
    return done.path


def cmd_discover(args) -> None:
    """PRIM on a sweep folder: the box report (with resampling) and two figures."""
    from sim.api.studies import discover  # lazy: --help stays fast

    _say(discover(args.sweep_dir, args.outcome, args.min_coverage))


def cmd_calibrate(args) -> None:
    """Run or resume the ABC calibration (``sim.analysis.calibration``) and print its summary and elapsed time."""
    from sim.analysis.calibration import Budget  # lazy: --help stays fast
    from sim.api.studies import calibrate  # lazy: --help stays fast

    budget = Budget(args.sets, args.generations, args.replicates, args.keep, args.top, args.refine)
    given = (args.seed, args.centre, args.factor, args.out, args.resume, args.force)
    _say(calibrate(budget, *given, _execution(args), _command(args)))


def cmd_dashboard(args) -> None:
    """Start the dashboard server, print its address once it answers; stop it on Ctrl-C or SIGTERM."""
    from sim.api.dashboard import serve  # lazy: --help stays fast

    serve(args.host, args.port)


def cmd_list(_args) -> None:
    """Scenarios and the parameter catalogue."""
    from sim.api.catalogue import catalogue  # lazy: --help stays fast

    print(catalogue())


def cmd_show(args) -> None:
    """Resolved scenario as TOML."""
    from sim.api.catalogue import show  # lazy: --help stays fast
    from sim.api.checks import parse_set  # lazy: --help stays fast

    print(show(args.scenario, parse_set(args.set)))


def cmd_default(args) -> None:
    """No arguments: validation table for a modest count, then results and plots."""
    from sim.api.checks import stamp  # lazy: --help stays fast
    from sim.inputs.loader import load_scenario
    from sim.inputs.scenario import available_scenarios

    validate_args = build_parser().parse_args(["validate", "--replicates", "200"])
    # Both parts keep the seed and execution settings main() gave the bare command, so validation
    # and runs share one seed; every other option is the subcommand's default, as if typed.
    vars(args).update({k: v for k, v in vars(validate_args).items() if k not in ("seed", "workers", "quiet")})
    pilots = [s for s in available_scenarios() if load_scenario(s).kind == "region"]
    out = Path("results") / f"pilots-{stamp()}"
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
    # SIGTERM becomes a KeyboardInterrupt, so a killed job unwinds like Ctrl-C: output folders
    # discard their temporary files and the pool stops. Python sets handlers only in the main
    # thread; called from another thread, main() keeps the default.
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
