"""The parts of `evaluation analyse` that do not depend on the outcome analyses, run beside them.

The placebo index (a second cohort build on a fake initiative start, and its primary contrasts),
the area-level estimators and the contacts summary need only the warehouse, the plans and the
cohort's metadata. On a machine with a second core they run in a second process while the first
analyses the outcomes; at national scale this takes the placebo's cohort build, a third of the
work, off the critical path.

What is computed does not depend on where: each part draws its random numbers from the study's
seed and both processes use one BLAS thread, so ``--jobs 1`` and ``--jobs 2`` write the same
bundle. A second process costs a few
seconds of imports, so by default it is used only for cohorts of at least
:data:`PARALLEL_MIN_ROWS` rows. If the second process dies (killed, out of memory), its work is
done again in the first and a progress line says so.
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..progress import info, step

#: Cohort rows from which ``jobs = None`` (automatic) uses a second process.
PARALLEL_MIN_ROWS = 20_000


def default_jobs(n_rows: int) -> int:
    """Processes to use when none is asked for: 2 on a machine with two cores or more and a
    cohort of at least :data:`PARALLEL_MIN_ROWS` rows, else 1."""
    return 2 if (os.cpu_count() or 1) >= 2 and n_rows >= PARALLEL_MIN_ROWS else 1


@dataclass(frozen=True)
class BesideInputs:
    """What the side work needs (all of it can be sent to another process)."""

    plans: tuple
    warehouse: Path
    definition: Path
    cohort_meta: dict
    start: dt.date
    data_end: dt.date
    quarter: str
    weighted: bool
    seed: int
    replicates: int
    area: bool
    area_events: tuple[str, ...]
    study_file: Path | None


@dataclass
class BesideResults:
    """The placebo index entry, the area entry and tables (None and {} when not asked for), and
    the contacts summary table."""

    placebo: dict[str, Any]
    area: dict[str, Any] | None
    area_tables: dict[str, pd.DataFrame]
    contacts: pd.DataFrame


def compute(inputs: BesideInputs) -> BesideResults:
    """The side work, in this process."""
    from . import falsification as fals
    from .area import area_section
    from .run import contacts_summary

    with step("placebo index"):
        placebo = fals.placebo(list(inputs.plans), inputs.warehouse, inputs.definition, inputs.cohort_meta,
                               inputs.start, weighted=inputs.weighted, seed=inputs.seed,
                               replicates=inputs.replicates)
    contacts = contacts_summary(inputs.warehouse, inputs.start, inputs.data_end, inputs.quarter)
    area, area_tables = (area_section(inputs.warehouse, inputs.start, inputs.data_end, inputs.area_events,
                                      inputs.study_file) if inputs.area else (None, {}))
    return BesideResults(placebo=placebo, area=area, area_tables=area_tables, contacts=contacts)


def _child_setup(quiet: bool) -> None:
    from threadpoolctl import threadpool_limits

    from ..progress import set_quiet

    set_quiet(quiet)
    threadpool_limits(limits=1, user_api="blas")  # as in the first process: the same sums


class Beside:
    """The side work, started at once in a second process when ``jobs`` > 1 (else run when its
    :meth:`result` is asked for)."""

    def __init__(self, inputs: BesideInputs, jobs: int) -> None:
        from ..progress import is_quiet

        self.inputs = inputs
        self._executor: ProcessPoolExecutor | None = None
        self._future: Future | None = None
        if jobs > 1:
            import multiprocessing

            # spawn, not fork: the first process holds DuckDB and BLAS threads
            self._executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_child_setup, initargs=(is_quiet(),))
            self._future = self._executor.submit(compute, inputs)
            info("placebo index, area-level estimators and contacts summary: started in a second process")

    def result(self) -> BesideResults:
        if self._future is None:
            return compute(self.inputs)
        try:
            with step("waiting for the second process"):
                return self._future.result()
        except BrokenProcessPool:
            info("the second process stopped before it finished: its work is done again here")
            return compute(self.inputs)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the second process (also when the outcome analyses failed)."""
        if self._executor is None:
            return
        for process in list(getattr(self._executor, "_processes", {}).values()):
            if process.is_alive() and self._future is not None and not self._future.done():
                process.terminate()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._executor = None
