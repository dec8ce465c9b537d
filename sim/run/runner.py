"""The one experiment runner: (scenario, parameters, replicate) jobs through an executor.

Every entry point (``validate``, ``run``, ``compare``, ``sweep``, the notebooks) builds
:class:`Job` objects and hands them to :func:`execute`. A job's random stream is
``SeedSequence(base_seed, spawn_key=(replicate,))`` -- the same child that
``SeedSequence(base_seed).spawn(n)[replicate]`` gives -- so results do not depend on how many
workers run them, nor where. Replicate ``r`` of every case and variant shares a seed (common
random numbers).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import islice
from typing import Any

import numpy as np

from sim.inputs.errors import InputError
from sim.inputs.loader import load_scenario
from sim.inputs.scenario import Scenario


@dataclass(frozen=True)
class Job:
    """One model run.

    A job is made with a scenario name or path and its changes (``overrides``, ``estimates``,
    ``until``); :func:`prepare` turns it, in the process that builds the jobs, into a job that
    carries the loaded, checked :class:`Scenario` with every change applied. Only prepared jobs
    go to the workers, so no worker reads a file or parses an override (the scenario pickles
    small: a few kB for a pilot, 40 kB for a county, 1.5 MB for the country).

    Attributes:
        index: Position in the experiment (results come back in this order).
        scenario: Scenario path or name, or a loaded :class:`Scenario`.
        replicate: Replicate number; with ``base_seed`` it fixes the random stream.
        base_seed: The experiment's base seed.
        overrides: Parameter overrides as sorted ``(key, value)`` pairs (values typed or ``--set`` strings).
        tags: Extra ``(column, value)`` pairs copied into the result row (variant, sample...).
        detail: Also return the event and vote records (``"records"``), and the timeline (``True``).
        until: Last month to simulate (month index), instead of the scenario's horizon.
        estimates: Estimated scenario inputs moved away from their value, as sorted ``(key, value)``
            pairs (robustness corners, ``load_scenario(..., estimates=...)``); needs a scenario name or path.
        reduce: Applied to the result in the worker, so that only what it returns is sent back and
            kept (validation scores a run's records there and returns the scores; issue 19). A
            picklable callable; the result does not depend on where it runs.
    """

    index: int
    scenario: str | Scenario
    replicate: int
    base_seed: int
    overrides: tuple[tuple[str, Any], ...] = ()
    tags: tuple[tuple[str, Any], ...] = field(default=())
    detail: bool | str = False
    until: int | None = None
    estimates: tuple[tuple[str, float], ...] = ()
    reduce: Callable[[dict[str, Any]], dict[str, Any]] | None = field(default=None, compare=False)

    @property
    def prepared(self) -> bool:
        """True when the job carries its scenario with every change applied (what a worker runs)."""
        return isinstance(self.scenario, Scenario) and not (self.overrides or self.estimates or self.until is not None)


def replicate_seed(base_seed: int, replicate: int) -> np.random.SeedSequence:
    """The random stream of one replicate: child ``replicate`` of ``SeedSequence(base_seed)``."""
    # spawn_key=(replicate,) rather than spawn(n)[replicate]: the same stream, without creating the
    # n-1 siblings, so a worker can build replicate r's stream alone and any split over workers agrees.
    return np.random.SeedSequence(base_seed, spawn_key=(replicate,))


# The caches are safe because a Scenario is frozen and with_overrides returns a new one: a cached
# scenario is never changed by the jobs that share it. maxsize bounds memory for a country scenario.
@lru_cache(maxsize=16)
def _file(name: str, estimates: tuple[tuple[str, float], ...]) -> Scenario:
    """A scenario file read and checked once per experiment and set of moved estimates.

    :func:`execute` empties the cache when it starts, so an experiment reads the files as they are then.
    """
    return load_scenario(name, {}, "Job.overrides", dict(estimates))


@lru_cache(maxsize=256)
def _scenario(
    name: str,
    overrides: tuple[tuple[str, Any], ...],
    until: int | None = None,
    estimates: tuple[tuple[str, float], ...] = (),
) -> Scenario:
    """The scenario of a job: its file read once (:func:`_file`), then the overrides and horizon applied.

    The overrides change parameters only, never facts (:meth:`Scenario.with_overrides`), so this is
    the scenario ``load_scenario(name, overrides)`` gives, without reading the file again.
    """
    sc = _file(name, estimates).with_overrides(dict(overrides), "Job.overrides")
    return sc.with_horizon(until) if until is not None else sc


def prepare(job: Job) -> Job:
    """The job carrying its loaded, checked scenario with every change applied (see :class:`Job`).

    Raises:
        InputError: a bad scenario file or override (one line naming file, key and problem).
        ValueError: moved estimates on an already loaded scenario (they need the file).
    """
    if job.prepared:
        return job
    if isinstance(job.scenario, Scenario):
        if job.estimates:
            raise ValueError("Job.estimates needs a scenario name or path, not a loaded Scenario")
        sc = job.scenario.with_overrides(dict(job.overrides), "Job.overrides") if job.overrides else job.scenario
        sc = sc.with_horizon(job.until) if job.until is not None else sc
    else:
        sc = _scenario(str(job.scenario), job.overrides, job.until, job.estimates)
    return replace(job, scenario=sc, overrides=(), until=None, estimates=())


def run_job(job: Job) -> dict[str, Any]:
    """Run one job and return ``{"index", "row"}`` (plus ``"events"``, ``"timeline"``).

    The model and its outcomes are imported here, in the worker: a process that only sends jobs
    (the CLI's main process) never loads Mesa, pandas and scipy (about 80 MB; issue 19).
    """
    from sim.core.model import CooperationModel
    from sim.core.outcomes import area_rows, county_row, forecast_rows, municipality_rows, outcome_row

    scenario = prepare(job).scenario
    assert isinstance(scenario, Scenario)  # for the type checker: prepare loaded it
    model = CooperationModel(scenario, rng=replicate_seed(job.base_seed, job.replicate)).run()
    county = model.scenario.kind == "county"
    tags = dict(job.tags)
    # Tags first, so that a tag can never overwrite the model's own outcome columns.
    row = {**tags, "replicate": job.replicate, "seed": job.base_seed, **(county_row if county else outcome_row)(model)}
    out: dict[str, Any] = {"index": job.index, "row": row}
    if county:
        name = model.scenario.name
        out["areas"] = [{**tags, "scenario": name, "replicate": job.replicate, **a} for a in area_rows(model)]
        if model.scenario.self_start is not None:  # a forecast scenario (sim.analysis.forecast)
            out["forecast"] = forecast_rows(model)
        if job.detail:
            out["municipalities"] = [
                {**tags, "scenario": name, "replicate": job.replicate, **m} for m in municipality_rows(model)
            ]
    if job.detail:
        out["events"] = [{**tags, **e} for e in model.event_rows(job.replicate)]
        out["votes"] = [{**tags, **v} for v in model.vote_rows(job.replicate)]
    if job.detail == "pilots":
        out["pilots"] = pilot_runs(model, job.replicate)
    if job.detail is True and not county:
        timeline = model.timeline()
        timeline.insert(0, "replicate", job.replicate)
        for k, v in reversed(job.tags):
            timeline.insert(0, k, v)
        out["timeline"] = timeline
    return job.reduce(out) if job.reduce is not None else out


def pilot_runs(model, replicate: int) -> dict[str, dict[str, Any]]:
    """Each pilot negotiation of a county run as a validation run, by its file's stem.

    ``{stem: {"row", "votes", "events"}}``: the outcome row of the pilot's negotiation alone
    (:func:`sim.core.outcomes.outcome_row` with ``project``) and its own vote and event records, so the
    pilot's story patterns can be scored inside the county (``sim.analysis.validation.validate_county``).
    """
    from sim.core.outcomes import outcome_row

    sc = model.scenario
    out = {}
    for stem, facts in zip(sc.pilot_files, sc.regions, strict=True):
        project = next((n for n in model.negotiations if n.region.name == facts.name), None)
        if project is None:  # the run ended before the pilot started
            continue
        out[stem] = {
            "row": outcome_row(model, project),
            "votes": [v for v in model.vote_rows(replicate) if v["region"] == facts.name],
            "events": [e for e in model.event_rows(replicate) if e["region"] == facts.name],
        }
    return out


def run_chunk(jobs: Sequence[Job]) -> list[dict[str, Any]]:
    """Run several jobs in one task (less scheduling overhead per job)."""
    return [run_job(job) for job in jobs]


# --- resources: refuse up front what cannot fit -------------------------------------------------
#: Memory one finished run takes when kept in memory: its outcome row only, or with its
#: timeline and event log (``detail``). Measured on the pilots (a few kB and 150 kB), about doubled.
ROW_BYTES = 10_000
DETAIL_BYTES = 300_000


def available_memory() -> int:
    """Bytes of memory available to this process now."""
    import psutil

    return int(psutil.virtual_memory().available)


def check_fits(runs: int, bytes_per_run: int, source: str, key: str) -> None:
    """Refuse (one line) an experiment whose results would not fit in half the available memory.

    Args:
        runs: Number of runs whose results are kept in memory.
        bytes_per_run: ``ROW_BYTES`` or ``DETAIL_BYTES``.
        source: The argument to name (``--replicates``, ``--samples``).
        key: The value given.
    """
    # Half of what is free: the runs themselves, pandas' copies while the tables are built and the
    # rest of the machine need the other half.
    need, have = runs * bytes_per_run, available_memory() // 2
    if need > have:
        raise InputError(
            source,
            key,
            f"{runs:,} runs would need about {need / 1e9:,.1f} GB of memory, "
            f"{have / 1e9:,.1f} GB can be used; use fewer, or a sweep (streamed to disk)",
        )


# --- executors ------------------------------------------------------------------------------------
_ADDRESS = re.compile(r"^(?:(tcp|tls)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$")


def parse_scheduler(address: str, source: str = "--scheduler") -> tuple[str, int]:
    """Check a Dask scheduler address (``tcp://host:port``, ``tls://...`` or ``host:port``).

    Returns:
        ``(host, port)``.

    Raises:
        InputError: for any other form (``http://``, no port, garbage).
    """
    m = _ADDRESS.match(address.strip())
    if not m or not 0 < int(m.group(3)) < 65536:
        raise InputError(
            source, address, "expected a Dask scheduler address tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786)"
        )
    return m.group(2).strip("[]"), int(m.group(3))


def check_scheduler(address: str, source: str = "--scheduler", timeout: float = 3.0) -> None:
    """Check that something listens at a scheduler address, within ``timeout`` seconds.

    Raises:
        InputError: bad address form, unknown host, or nothing listening.
    """
    host, port = parse_scheduler(address, source)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:  # refused, unreachable, unknown host, timed out
        problem = exc.strerror or str(exc) or type(exc).__name__
        raise InputError(source, address, f"cannot reach a scheduler there ({problem})") from None


#: How often a worker checks that its parent is still there (seconds).
WATCHDOG_SECONDS = 1.0


def _worker_init(parent: int | None = None) -> None:
    """Set up a pool worker: it leaves Ctrl-C and SIGTERM to the parent, and dies with the parent.

    Whatever ends the parent (even SIGKILL, which gives it no chance to shut the pool down), the
    worker ends too: on Linux the kernel sends it SIGKILL when the parent dies
    (``prctl(PR_SET_PDEATHSIG)``), and everywhere a daemon thread ends it once its parent process is
    no longer ``parent`` (it was re-parented to init or a subreaper).

    Args:
        parent: Process id of the process that started the pool.
    """
    # Ctrl-C reaches the whole process group: the parent alone decides and shuts the pool down in
    # order, instead of every worker printing its own traceback. SIGTERM goes back to the default,
    # because a forked worker inherits the command line's handler, which would turn it into a
    # KeyboardInterrupt inside a task.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if parent is None:
        return
    if sys.platform.startswith("linux"):
        import ctypes

        # No libc prctl (musl, unusual builds): the watchdog thread below still ends the worker.
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="imc-sim-watchdog").start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCHDOG_SECONDS)
    os._exit(1)


def _pool_context() -> multiprocessing.context.BaseContext:
    """Start method of the local pool.

    Inside a Jupyter kernel workers are spawned (a forked copy of the kernel shares its ZeroMQ
    sockets and can kill it); elsewhere they are forked where the platform allows (Mesa's
    batchrunner sets the global start method to "spawn" on import; fork starts workers without
    re-importing the caller's main module).
    """
    methods = multiprocessing.get_all_start_methods()
    if "ipykernel" in sys.modules or "fork" not in methods:
        # Results do not depend on the start method: every stream comes from the job's seed, never from
        # state inherited from the parent.
        return multiprocessing.get_context("spawn")
    return multiprocessing.get_context("fork")


@contextmanager
def make_executor(
    workers: int | None = None, scheduler: str | None = None, jobs: int | None = None
) -> Iterator[tuple[Executor | None, int]]:
    """Yield ``(executor, worker count)``: ``None`` for in-process, a process pool, or a Dask cluster's.

    Args:
        workers: Worker processes (default: all cores); 1 runs in this process. Capped at ``jobs``.
        scheduler: Address of a Dask distributed scheduler (``tcp://host:8786``); the worker count
            is then the cluster's number of worker threads.
        jobs: Number of jobs to run (caps the worker count).
    """
    if scheduler:
        check_scheduler(scheduler)
        from distributed import Client

        try:
            # Not the default client: a notebook's other Dask work keeps its own scheduler.
            client = Client(scheduler, timeout=10, set_as_default=False)
        except OSError as exc:  # includes the connection TimeoutError
            raise InputError("--scheduler", scheduler, f"cannot connect ({exc})") from None
        with client:
            threads = sum(client.nthreads().values())
            if not threads:
                try:
                    client.wait_for_workers(1, timeout=10)
                except TimeoutError:
                    raise InputError("--scheduler", scheduler, "the scheduler has no workers") from None
                threads = sum(client.nthreads().values())
            yield client.get_executor(), threads
        return
    workers = workers or os.cpu_count() or 1
    # More workers than jobs would only cost start-up time and memory.
    if jobs is not None:
        workers = max(1, min(workers, jobs))
    if workers == 1:
        yield None, 1
        return
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=_pool_context(), initializer=_worker_init, initargs=(os.getpid(),)
    )
    try:
        yield pool, workers
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _chunks(jobs: Iterable[Job], size: int) -> Iterator[list[Job]]:
    it = iter(jobs)
    while chunk := list(islice(it, size)):
        yield chunk


def execute(
    jobs: Iterable[Job],
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    chunk_size: int | None = None,
    total: int | None = None,
    execution: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """Run jobs and yield their results in job order, as they complete.

    Jobs are taken lazily from ``jobs`` and only a few chunks per worker are in flight, so memory
    stays bounded however many jobs there are.

    Args:
        jobs: The jobs (a sequence, or any iterable together with ``total``).
        workers: Worker processes (default: all cores; 1 = in this process; at most one per job).
        scheduler: Dask scheduler address; sends the jobs to that cluster instead.
        progress: Show a progress bar (when stderr is a terminal, or in a Jupyter notebook).
        chunk_size: Jobs per task (default: about 16 tasks per worker, at most 50 jobs).
        total: Number of jobs, when ``jobs`` is an iterator.
        execution: If given, filled with ``scheduler``, ``workers`` and ``chunk_size`` as used.

    Yields:
        One result dict per job (see :func:`run_job`), in the order of ``jobs``.
    """
    from tqdm.auto import tqdm  # a notebook progress bar in Jupyter, a text bar in a terminal

    if total is None:
        jobs = jobs if isinstance(jobs, Sequence) else list(jobs)
        total = len(jobs)
    _file.cache_clear()  # read the files as they are now (a notebook or the dashboard may have changed one)
    _scenario.cache_clear()
    jobs = map(prepare, jobs)  # files read and overrides checked here, once, never in a worker
    shown = progress and (sys.stderr.isatty() or "ipykernel" in sys.modules)
    bar = tqdm(total=total, unit="run", disable=not shown, dynamic_ncols=True, leave=False)
    try:
        with make_executor(workers, scheduler, total) as (ex, n_workers):
            # About 16 chunks per worker, at most 50 (0.1-0.3 s of pilot runs): a short tail where the last chunks
            # run while other workers idle, one chunk's results small, the progress bar moving (issue 19).
            size = chunk_size or max(1, min(50, total // (n_workers * 16) or 1))
            if execution is not None:
                execution.update(scheduler=scheduler, workers=n_workers, chunk_size=size if ex else 1)
            if ex is None:
                for job in jobs:
                    yield run_job(job)
                    bar.update(1)
                return
            chunks = _chunks(jobs, size)
            # A sliding window, not as_completed: futures are awaited in submission order, so results come
            # back in job order (streamed files need it) while at most 2 x workers chunks are in memory.
            window = deque(ex.submit(run_chunk, c) for c in islice(chunks, 2 * n_workers))
            while window:
                results = window.popleft().result()
                for chunk in islice(chunks, 1):
                    window.append(ex.submit(run_chunk, chunk))
                yield from results
                bar.update(len(results))
    finally:
        bar.close()


def run_rows(jobs: Iterable[Job], **kwargs: Any) -> list[dict[str, Any]]:
    """Run jobs and return only their outcome rows, in job order."""
    return [r["row"] for r in execute(jobs, **kwargs)]
