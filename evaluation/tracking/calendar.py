"""Quarter arithmetic for the tracking series, on :class:`evaluation.quarters.Quarter` labels."""

from __future__ import annotations

import datetime as dt

from ..quarters import Quarter


def _index(q: Quarter) -> int:
    return q.year * 4 + q.number - 1


def shift_quarter(label: str, steps: int) -> str:
    """The quarter ``steps`` quarters after (negative: before) ``label``: '2026Q4', 1 -> '2027Q1'."""
    k = _index(Quarter.parse(label)) + steps
    return Quarter(k // 4, k % 4 + 1).label


def quarter_end(label: str) -> dt.date:
    """Last day of the quarter (its analysis date): '2026Q3' -> 2026-09-30."""
    return Quarter.parse(label).last_day


def quarter_of(day: dt.date) -> str:
    return Quarter.of(day).label


def quarters_between(first: str, last: str) -> list[str]:
    """Every quarter from ``first`` to ``last``, both included (empty when last < first)."""
    count = _index(Quarter.parse(last)) - _index(Quarter.parse(first)) + 1
    return [shift_quarter(first, k) for k in range(max(count, 0))]
