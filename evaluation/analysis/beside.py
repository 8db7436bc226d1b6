"""`evaluation analyse` on two cores: a second process beside the first.

The placebo index (a second cohort build on a fake initiative start, and its primary contrasts),
the area-level estimators and the contacts summary need only the warehouse, the plans and the
cohort's metadata. With ``jobs = 2`` a second process starts on them at once, while the first
analyses the outcomes; when it is done it reads the cohort and the warehouse itself and takes
outcomes from the same list as the first, one at a time, until none is left. At national scale
the placebo's cohort build is a third of the work; the shared list keeps both cores busy to the
end whatever the outcomes cost. The first process leaves the tables it has read and the naive
population it has computed for the second (:class:`Handoff`), so they are not read or computed
twice.

What is computed does not depend on where: each outcome and each check draws its random numbers
from the study's seed, and both processes use one BLAS thread (:mod:`evaluation.blas`), so no
sum is added up in an order that depends on ``jobs``: ``--jobs 1`` and ``--jobs 2`` write the same
bundle. A second process costs a few seconds of imports and holds its own copy of the tables, so
by default it is used only for cohorts of at least :data:`PARALLEL_MIN_ROWS` rows. If it dies
(killed, out of memory), its work is done again in the first process and a progress line says so.
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..blas import single_threaded_blas
from ..progress import info, step

#: Cohort rows from which ``jobs = None`` (automatic) uses a second process.
PARALLEL_MIN_ROWS = 20_000


def default_jobs(n_rows: int) -> int:
    """Processes to use when none is asked for: 2 on a machine with two cores or more and a
    cohort of at least :data:`PARALLEL_MIN_ROWS` rows, else 1."""
    return 2 if (os.cpu_count() or 1) >= 2 and n_rows >= PARALLEL_MIN_ROWS else 1


@dataclass(frozen=True)
class BesideInputs:
    """What the second process needs (all of it can be sent to another process)."""

    study: Any
    quarter: Any
    plans: tuple
    cohort_meta: dict
    start: dt.date
    design: str
    full: bool
    weighted: bool
    replicates: int


@dataclass
class BesideResults:
    """The placebo index entry, the area entry and tables (None and {} when not asked for), and
    the contacts summary table."""

    placebo: dict[str, Any]
    area: dict[str, Any] | None
    area_tables: dict[str, pd.DataFrame]
    contacts: pd.DataFrame


def side_work(inputs: BesideInputs) -> BesideResults:
    """The placebo index, the contacts summary and the area-level estimators, in this process."""
    from . import falsification as fals
    from .area import area_section
    from .run import contacts_summary

    study, end = inputs.study, inputs.quarter.last_day
    with step("placebo index"):
        placebo = fals.placebo(list(inputs.plans), study.warehouse, study.cohort, inputs.cohort_meta,
                               inputs.start, weighted=inputs.weighted, seed=study.seed,
                               replicates=inputs.replicates)
    contacts = contacts_summary(study.warehouse, inputs.start, end, inputs.quarter.label)
    area, area_tables = (area_section(study.warehouse, inputs.start, end, study.area_events, study.path)
                         if inputs.full else (None, {}))
    return BesideResults(placebo=placebo, area=area, area_tables=area_tables, contacts=contacts)


class Handoff:
    """A private folder (mode 0700, removed at the end of the run) in which the first process
    leaves what it has already computed for the second: the warehouse tables (10-25 s to read at
    1M persons, 2 s to load from here) and the naive population. A file is written
    under a temporary name and renamed, so the second process sees it whole or not at all; what
    is not there yet the second process computes itself. The files hold pseudonymised register
    rows, as the warehouse does, and never leave the machine."""

    def __init__(self, folder: str | None = None) -> None:
        import tempfile
        from pathlib import Path

        self.folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="analyse-"))

    def put(self, name: str, value: Any) -> None:
        import pickle

        tmp = self.folder / f".{name}.partial"
        with open(tmp, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.folder / f"{name}.pickle")

    def get(self, name: str) -> Any:
        import pickle

        path = self.folder / f"{name}.pickle"
        if not path.exists():
            return None
        with open(path, "rb") as fh:
            return pickle.load(fh)  # written by this run's first process (put), nothing else

    def remove(self) -> None:
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


class _Counter:
    """The next outcome to analyse, shared by the processes of a run (a plain number in one)."""

    def __init__(self, shared=None) -> None:
        self.shared = shared
        self.value = 0

    def claim(self, n: int) -> int | None:
        if self.shared is None:
            k, self.value = self.value, self.value + 1
        else:
            with self.shared.get_lock():
                k = self.shared.value
                self.shared.value = k + 1
        return k if k < n else None


_CHILD_COUNTER: _Counter | None = None


def _child_setup(quiet: bool, shared) -> None:
    from ..progress import set_quiet

    global _CHILD_COUNTER
    set_quiet(quiet)
    _CHILD_COUNTER = _Counter(shared)


@single_threaded_blas  # as the first process's analyse_study: the same sums
def _second(inputs: BesideInputs, n: int, folder: str) -> tuple[BesideResults, dict[int, Any]]:
    """The second process: the side work, then outcomes from the shared list."""
    from .run import Outcomes

    side = side_work(inputs)
    done: dict[int, Any] = {}
    outcomes = None
    while (k := _CHILD_COUNTER.claim(n)) is not None:
        if outcomes is None:
            outcomes = Outcomes.read(inputs.study, inputs.quarter, list(inputs.plans), inputs.start,
                                     inputs.design, inputs.full, handoff=Handoff(folder))
        done[k] = outcomes.analyse(k)
    return side, done


def analyse_beside(outcomes, inputs: BesideInputs, jobs: int) -> tuple[list, BesideResults]:
    """Every outcome of ``outcomes`` (a :class:`~evaluation.analysis.run.Outcomes`) and the side
    work, in ``jobs`` processes (1 or 2); the outcome results in plan order."""
    n = len(outcomes.tasks)
    second = _Second(inputs, n) if jobs > 1 else None
    counter = second.counter if second else _Counter()
    try:
        if second:
            outcomes.handoff = second.handoff
            second.handoff.put("tables", outcomes.tables)
        done = {}
        while (k := counter.claim(n)) is not None:
            done[k] = outcomes.analyse(k)
        side, theirs = second.result() if second else (side_work(inputs), {})
    finally:
        if second:
            second.close()
    done.update(theirs)
    for k in range(n):  # claimed by a second process that stopped before it finished
        if k not in done:
            done[k] = outcomes.analyse(k)
    return [done[k] for k in range(n)], side


class _Second:
    """The second process, started at once."""

    def __init__(self, inputs: BesideInputs, n: int) -> None:
        import multiprocessing

        from ..progress import is_quiet

        self.inputs = inputs
        self.handoff = Handoff()
        # spawn, not fork: the first process holds DuckDB and BLAS threads
        ctx = multiprocessing.get_context("spawn")
        self.counter = _Counter(ctx.Value("i", 0))
        self._executor: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=1, mp_context=ctx, initializer=_child_setup, initargs=(is_quiet(), self.counter.shared))
        self._future: Future = self._executor.submit(_second, inputs, n, str(self.handoff.folder))
        info("placebo index, area-level estimators and contacts summary: started in a second process, "
             "which then takes outcomes too")

    def result(self) -> tuple[BesideResults, dict[int, Any]]:
        try:
            with step("waiting for the second process"):
                return self._future.result()
        except BrokenProcessPool:
            info("the second process stopped before it finished: its work is done again here")
            return side_work(self.inputs), {}

    def close(self) -> None:
        """Stop the second process (also when the first failed)."""
        if self._executor is None:
            return
        if not self._future.done():
            for process in list(getattr(self._executor, "_processes", {}).values()):
                process.terminate()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._executor = None
        self.handoff.remove()
