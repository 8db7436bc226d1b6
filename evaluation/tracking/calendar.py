"""Calendar quarters as the tracking series counts them ("2026Q3")."""

from __future__ import annotations

import datetime as dt
import re

_LABEL = re.compile(r"(\d{4})Q([1-4])")


def parse_quarter(label: str) -> tuple[int, int]:
    """'2026Q3' -> (2026, 3); ValueError when the label is not a quarter."""
    m = _LABEL.fullmatch(label)
    if not m:
        raise ValueError(f"a quarter looks like 2026Q3, got {label!r}")
    return int(m.group(1)), int(m.group(2))


def quarter_label(year: int, q: int) -> str:
    return f"{year}Q{q}"


def quarter_of(day: dt.date) -> str:
    """Calendar quarter of a date: 2026-09-30 -> '2026Q3'."""
    return quarter_label(day.year, (day.month - 1) // 3 + 1)


def shift_quarter(label: str, steps: int) -> str:
    """The quarter ``steps`` quarters after (negative: before) ``label``."""
    year, q = parse_quarter(label)
    index = year * 4 + (q - 1) + steps
    return quarter_label(index // 4, index % 4 + 1)


def quarter_start(label: str) -> dt.date:
    year, q = parse_quarter(label)
    return dt.date(year, 3 * (q - 1) + 1, 1)


def quarter_end(label: str) -> dt.date:
    """Last day of the quarter: '2026Q3' -> 2026-09-30."""
    return quarter_start(shift_quarter(label, 1)) - dt.timedelta(days=1)


def quarters_between(first: str, last: str) -> list[str]:
    """Every quarter from ``first`` to ``last``, both included (empty when last < first)."""
    (y0, q0), (y1, q1) = parse_quarter(first), parse_quarter(last)
    count = (y1 * 4 + q1) - (y0 * 4 + q0) + 1
    return [shift_quarter(first, k) for k in range(max(count, 0))]
