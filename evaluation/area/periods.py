"""Period labels of an area panel: years, months and quarters on one ordinal scale.

A panel's time column may hold whole numbers (years, or any period number), months
(``2024-03``, or ISO dates, which are read as their month) or quarters (``2024Q1``, and
``2024K1`` as Statistics Denmark's StatBank writes them). Every label is turned into an integer
ordinal (consecutive periods differ by 1) and a season (month 1-12, quarter 1-4, or 1 for years),
which is what the estimators use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

_QUARTER = re.compile(r"^\s*(\d{4})\s*[-_ ]?[QqKk]([1-4])\s*$")
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-\d{1,2})?\s*$")
_STATBANK_MONTH = re.compile(r"^\s*(\d{4})M(\d{2})\s*$")
_NUMBER = re.compile(r"^\s*-?\d+(?:\.0+)?\s*$")


@dataclass(frozen=True)
class PeriodScale:
    """How period labels of one panel map onto ordinals: ``kind`` is year, quarter or month."""

    kind: str

    @property
    def per_year(self) -> int:
        return {"number": 1, "quarter": 4, "month": 12}[self.kind]

    def ordinal(self, label: object) -> int | None:
        """The ordinal of one label, or None when it is not a period of this kind."""
        text = str(label).strip()
        if self.kind == "number":
            return int(float(text)) if _NUMBER.match(text) else None
        if self.kind == "quarter":
            m = _QUARTER.match(text)
            return int(m.group(1)) * 4 + int(m.group(2)) - 1 if m else None
        m = _MONTH.match(text) or _STATBANK_MONTH.match(text)
        if not m or not 1 <= int(m.group(2)) <= 12:
            return None
        return int(m.group(1)) * 12 + int(m.group(2)) - 1

    def label(self, ordinal: int) -> str:
        """The canonical label of an ordinal: 2024, 2024Q1 or 2024-03."""
        if self.kind == "number":
            return str(ordinal)
        if self.kind == "quarter":
            return f"{ordinal // 4}Q{ordinal % 4 + 1}"
        return f"{ordinal // 12}-{ordinal % 12 + 1:02d}"

    def season(self, ordinal: int | np.ndarray) -> int | np.ndarray:
        """Month (1-12), quarter (1-4) or 1 for whole-number periods."""
        return ordinal % self.per_year + 1 if self.per_year > 1 else ordinal * 0 + 1


def detect_scale(values: pd.Series) -> PeriodScale:
    """The scale of a time column: the first of number, quarter, month that reads every value."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return PeriodScale("month")
    text = values.dropna().astype(str)
    sample = text.drop_duplicates().head(200)
    for kind in ("number", "quarter", "month"):
        scale = PeriodScale(kind)
        if len(sample) and all(scale.ordinal(v) is not None for v in sample):
            return scale
    return PeriodScale("month")  # the caller reports the first label that does not read


def to_ordinals(values: pd.Series, scale: PeriodScale) -> pd.Series:
    """Ordinals of a time column (nullable Int64; a label that does not read becomes <NA>)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return (values.dt.year * 12 + values.dt.month - 1).astype("Int64")
    labels = values.astype("string")
    uniques = labels.dropna().unique()
    lookup = {u: scale.ordinal(u) for u in uniques}
    return labels.map(lookup).astype("Int64")
