"""The one experiment runner: (scenario, parameters, replicate) jobs through an executor.

Every entry point (``validate``, ``run``, ``compare``, ``sweep``, the notebooks) builds
:class:`Job` objects and hands them to :func:`execute`. A job's random stream is
``SeedSequence(base_seed, spawn_key=(replicate,))`` -- the same child that
``SeedSequence(base_seed).spawn(n)[replicate]`` gives -- so results do not depend on how many
workers run them, nor where. Replicate ``r`` of every case and variant shares a seed (common
random numbers).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from sim.scenario import Scenario, load_scenario


@dataclass(frozen=True)
class Job:
    """One model run.

    Attributes:
        index: Position in the experiment (results come back in this order).
        scenario: Scenario path or name.
        replicate: Replicate number; with ``base_seed`` it fixes the random stream.
        base_seed: The experiment's base seed.
        overrides: Parameter overrides as sorted ``(key, value)`` pairs.
        tags: Extra ``(column, value)`` pairs copied into the result row (variant, sample...).
        detail: Also return the event and vote records (``"records"``), and the timeline (``True``).
        until: Last month to simulate (month index), instead of the scenario's horizon.
    """

    index: int
    scenario: str
    replicate: int
    base_seed: int
    overrides: tuple[tuple[str, Any], ...] = ()
    tags: tuple[tuple[str, Any], ...] = field(default=())
    detail: bool | str = False
    until: int | None = None


def replicate_seed(base_seed: int, replicate: int) -> np.random.SeedSequence:
    """The random stream of one replicate: child ``replicate`` of ``SeedSequence(base_seed)``."""
    return np.random.SeedSequence(base_seed, spawn_key=(replicate,))


@lru_cache(maxsize=64)
def _scenario(name: str, overrides: tuple[tuple[str, Any], ...], until: int | None = None) -> Scenario:
    sc = load_scenario(name, dict(overrides))
    return sc.with_horizon(until) if until is not None else sc


def run_job(job: Job) -> dict[str, Any]:
    """Run one job and return ``{"index", "row"}`` (plus ``"events"``, ``"timeline"``)."""
    from sim.model import CooperationModel
    from sim.outcomes import outcome_row

    model = CooperationModel(_scenario(job.scenario, job.overrides, job.until),
                             rng=replicate_seed(job.base_seed, job.replicate)).run()
    row = {**dict(job.tags), "replicate": job.replicate, "seed": job.base_seed, **outcome_row(model)}
    out: dict[str, Any] = {"index": job.index, "row": row}
    if job.detail:
        tags = dict(job.tags)
        out["events"] = [{**tags, **e} for e in model.event_rows(job.replicate)]
        out["votes"] = [{**tags, **v} for v in model.vote_rows(job.replicate)]
    if job.detail is True:
        timeline = model.timeline()
        timeline.insert(0, "replicate", job.replicate)
        for k, v in reversed(job.tags):
            timeline.insert(0, k, v)
        out["timeline"] = timeline
    return out


def run_chunk(jobs: Sequence[Job]) -> list[dict[str, Any]]:
    """Run several jobs in one task (less scheduling overhead per job)."""
    return [run_job(job) for job in jobs]


def _chunks(jobs: Sequence[Job], size: int) -> list[list[Job]]:
    return [list(jobs[i:i + size]) for i in range(0, len(jobs), size)]


@contextmanager
def make_executor(workers: int | None = None, scheduler: str | None = None) -> Iterator[Executor | None]:
    """Yield an executor: ``None`` for in-process, a process pool, or a Dask cluster's.

    Args:
        workers: Worker processes (default: all cores); 1 runs in this process.
        scheduler: Address of a Dask distributed scheduler (``tcp://host:8786``).
    """
    if scheduler:
        from distributed import Client

        with Client(scheduler) as client:
            yield client.get_executor()
        return
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        yield None
        return
    # Mesa's batchrunner sets the global start method to "spawn" on import; fork (where the
    # platform has it) starts workers without re-importing the caller's main module.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield pool


def execute(
    jobs: Sequence[Job],
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    chunk_size: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Run jobs and yield their results in job order, as they complete.

    Args:
        jobs: The jobs.
        workers: Worker processes (default: all cores; 1 = in this process).
        scheduler: Dask scheduler address; sends the jobs to that cluster instead.
        progress: Show a progress bar (only when stderr is a terminal).
        chunk_size: Jobs per task (default: a few tasks per worker, at most 200 jobs).

    Yields:
        One result dict per job (see :func:`run_job`), in the order of ``jobs``.
    """
    from tqdm import tqdm

    jobs = list(jobs)
    bar = tqdm(total=len(jobs), unit="run", disable=not (progress and sys.stderr.isatty()),
               dynamic_ncols=True, leave=False)
    try:
        with make_executor(workers, scheduler) as ex:
            if ex is None:
                for job in jobs:
                    yield run_job(job)
                    bar.update(1)
                return
            n_workers = workers or os.cpu_count() or 1
            size = chunk_size or max(1, min(200, len(jobs) // (n_workers * 8) or 1))
            for results in ex.map(run_chunk, _chunks(jobs, size)):
                yield from results
                bar.update(len(results))
    finally:
        bar.close()


def run_rows(jobs: Sequence[Job], **kwargs: Any) -> list[dict[str, Any]]:
    """Run jobs and return only their outcome rows, in job order."""
    return [r["row"] for r in execute(jobs, **kwargs)]
