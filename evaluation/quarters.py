"""Report quarters: which quarter a run is for, and the analysis date it implies.

A run for quarter Q uses the data as they stood on the last day of Q (the *analysis date*):
nothing dated after it is read by any stage (:mod:`evaluation.asof`). A quarter is possible when
it ends on or after the initiative start (the cohort definition's ``index.start``) and on or
before the end of data (the study's ``data_end``, else the latest date in the warehouse).

Each quarter's outputs are kept in their own folder, ``<output>/<Q>/`` (see
:meth:`evaluation.study.Study.quarter_dir`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import EvaluationError

if TYPE_CHECKING:
    from .study import Study

_PATTERN = re.compile(r"(\d{4})Q([1-4])")


class QuarterError(EvaluationError):
    """A quarter that is malformed or outside the possible range (exit code 2)."""


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """``"2026Q3"`` -> Quarter(2026, 3); anything else is a :class:`QuarterError`."""
        m = _PATTERN.fullmatch(str(text).strip())
        if m is None:
            raise QuarterError(f"a quarter must look like 2026Q3, got {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        """The calendar quarter holding ``day``."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    def __str__(self) -> str:
        return self.label

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> dt.date:
        """The analysis date of this quarter."""
        nxt = Quarter(self.year + self.number // 4, self.number % 4 + 1)
        return nxt.first_day - dt.timedelta(days=1)

    def previous(self) -> Quarter:
        return Quarter(self.year - (self.number == 1), (self.number - 2) % 4 + 1)


def possible_quarters(start: dt.date, data_end: dt.date) -> list[Quarter]:
    """Quarters ending on or after ``start`` and on or before ``data_end``, oldest first."""
    out = []
    q = Quarter.of(start)
    while q.last_day <= data_end:
        out.append(q)
        q = Quarter(q.year + q.number // 4, q.number % 4 + 1)
    return out


def _span(quarters: list[Quarter]) -> str:
    if not quarters:
        return "none"
    return quarters[0].label if len(quarters) == 1 else f"{quarters[0]}..{quarters[-1]}"


def choose_quarter(requested: str | None, start: dt.date, data_end: dt.date,
                   data_end_note: str = "") -> Quarter:
    """The quarter of a run: ``requested`` if possible, else the latest possible one.

    Raises
    ------
    QuarterError
        ``requested`` is malformed, ends before ``start`` or after ``data_end`` (one line saying
        why and which quarters are possible), or no quarter is possible at all.
    """
    possible = possible_quarters(start, data_end)
    if requested is None:
        if not possible:
            raise QuarterError(f"no complete quarter between the initiative start {start} and the "
                               f"end of data {data_end}")
        return possible[-1]
    q = Quarter.parse(requested)
    if q.last_day < start:
        why = f"ends before the initiative start {start}"
    elif q.last_day > data_end:
        why = f"ends after the end of data {data_end}{data_end_note}"
    else:
        return q
    raise QuarterError(f"quarter {q} {why}; possible quarters: {_span(possible)}")


def study_bounds(study: Study) -> tuple[dt.date, dt.date]:
    """(initiative start, end of data) of a study: the cohort definition's ``index.start`` and
    the study's ``data_end``, else the latest dated event in the warehouse."""
    from .cohort.definition import load_definition

    start = load_definition(study.cohort).start
    data_end = study.data_end
    if data_end is None:
        from .cohort.warehouse import EVENT_DATES, latest_date, open_warehouse

        tables = {t for t in EVENT_DATES if (study.warehouse / f"{t}.parquet").exists()}
        con = open_warehouse(study.warehouse, tables)
        try:
            data_end = latest_date(con, tables)
        finally:
            con.close()
    return start, data_end


def study_quarter(study: Study, requested: str | None) -> Quarter:
    """The quarter a stage of ``study`` runs for: ``requested`` (``--quarter``), else the study's
    ``[report] quarter``, else the latest possible quarter; checked against :func:`study_bounds`."""
    start, data_end = study_bounds(study)
    note = "" if study.data_end else " (the latest date in the warehouse; set study.data_end)"
    return choose_quarter(requested or study.report.quarter, start, data_end, note)


def kept_quarters(study: Study) -> list[Quarter]:
    """Quarters with a results bundle under the study's output folder, oldest first."""
    out = []
    if study.output.is_dir():
        for child in study.output.iterdir():
            if _PATTERN.fullmatch(child.name) and (child / "results" / "estimates.json").exists():
                out.append(Quarter.parse(child.name))
    return sorted(out)


def report_quarter(study: Study, requested: str | None) -> Quarter:
    """The quarter `evaluation report` renders; its results bundle must exist.

    Checked against the study's possible quarters where they can be known (the cohort definition
    and the end of data are readable); a quarter without a kept bundle is refused either way,
    naming the quarters that have one.
    """
    try:
        bounds = study_bounds(study)
    except EvaluationError:
        bounds = None
    kept = kept_quarters(study)
    wanted = requested or study.report.quarter
    if bounds is not None:
        note = "" if study.data_end else " (the latest date in the warehouse; set study.data_end)"
        q = choose_quarter(wanted, *bounds, note)
    elif wanted is not None:
        q = Quarter.parse(wanted)
    elif kept:
        q = kept[-1]
    else:
        raise QuarterError(f"{study.output}: no results bundle of any quarter; run `evaluation analyse`")
    if q not in kept:
        raise QuarterError(f"{study.results_dir(q)}: no results bundle for {q}; run `evaluation "
                           f"analyse --quarter {q}` (quarters with a bundle: {', '.join(map(str, kept)) or 'none'})")
    return q
