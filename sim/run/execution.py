"""How runs are executed: one settings object instead of three arguments threaded through every experiment.

An :class:`Execution` says where the jobs run (worker processes or a Dask scheduler), in what
chunks, and whether a progress bar is shown -- never what they compute: replicate ``r`` draws from
``SeedSequence(seed, spawn_key=(r,))`` wherever it runs, so results are identical for any setting.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sim.run.runner import Job, check_scheduler, execute


@dataclass(frozen=True)
class Execution:
    """Execution settings shared by every experiment (``validate``, ``compare``, sweeps, calibration...).

    Attributes:
        workers: Worker processes (None: all cores; 1: in this process; at most one per job).
        scheduler: Address of a Dask distributed scheduler (``tcp://host:8786``); the jobs go there instead.
        progress: Show a progress bar (when stderr is a terminal, or in a Jupyter notebook).
        chunk_size: Jobs per task (None: about 16 tasks per worker, at most 50 jobs).
    """

    workers: int | None = None
    scheduler: str | None = None
    progress: bool = True
    chunk_size: int | None = None

    def check(self) -> None:
        """Refuse (one line) a scheduler address where nothing listens, before any work starts."""
        if self.scheduler:
            check_scheduler(self.scheduler)

    def execute(
        self, jobs: Iterable[Job], total: int | None = None, used: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Run jobs with these settings; yield their results in job order (:func:`sim.run.runner.execute`).

        Args:
            jobs: The jobs (a sequence, or any iterable together with ``total``).
            total: Number of jobs, when ``jobs`` is an iterator.
            used: If given, filled with the ``scheduler``, ``workers`` and ``chunk_size`` actually used.
        """
        return execute(jobs, self.workers, self.scheduler, self.progress, self.chunk_size, total, used)

    def rows(self, jobs: Iterable[Job], total: int | None = None, used: dict[str, Any] | None = None) -> list[dict]:
        """Run jobs with these settings and return only their outcome rows, in job order."""
        return [r["row"] for r in self.execute(jobs, total, used)]


#: In this process, without a progress bar: what tests and the dashboard use.
SERIAL = Execution(workers=1, progress=False)
