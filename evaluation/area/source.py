"""The ``reported_crime`` source: reported offences by municipality, period and category.

Aggregate and without identifiers: ``municipality_code``, ``period`` (a month ``YYYY-MM`` or a
quarter, ``2024Q1``; Statistics Denmark's StatBank writes ``2024K1``), ``offence_category`` (the
contract's categories), ``count`` and, optionally, ``population``. It is read like any source
(CSV, Excel, Parquet, with the study file's column mapping); :func:`normalise` turns the text of
a StatBank export into the contract's values and lists every problem by 1-based row and column:

- municipality: a code (``851``) or StatBank's code-and-text form (``851 Aalborg``);
- period: ``YYYY-MM``, ``YYYYMmm``, ``YYYYQn`` or ``YYYYKn`` (one kind per file);
- category: a contract category, or a StatBank offence group (:data:`STATBANK_CATEGORIES`);
- count and population: whole numbers >= 0 (StatBank's ``..``, not available, is an error:
  a missing count is not a zero).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .. import contract
from .periods import PeriodScale

#: StatBank offence groups (table STRAF11, Danish labels, lower case) -> contract category.
STATBANK_CATEGORIES = {
    "voldsforbrydelser": "violence", "forbrydelser mod liv og legeme": "violence",
    "vold": "violence", "våbenloven": "weapons", "lov om våben og eksplosivstoffer": "weapons",
    "knivloven": "weapons", "våben": "weapons",
    "ejendomsforbrydelser": "property", "euforiserende stoffer": "drugs",
    "lov om euforiserende stoffer": "drugs", "narkotika": "drugs", "trusler": "threats",
    "trusler om vold": "threats", "færdselslov": "traffic", "færdselsloven": "traffic",
    "andre særlove": "other", "andre forbrydelser": "other",
}

_CODE = re.compile(r"^\s*(\d{3,4})(?:\s+\S.*)?$")


def _category(text: str) -> str | None:
    t = text.strip().lower()
    if t in contract.OFFENCE_CATEGORIES:
        return t
    t = re.sub(r"^\d+\s+", "", t)  # StatBank's code-and-text form: "1200 Voldsforbrydelser"
    t = re.sub(r"\s+i alt$", "", t)
    return STATBANK_CATEGORIES.get(t)


def normalise(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[int | None, str, str]]]:
    """The table in the contract's values, and its problems as (row, column, message).

    Rows are 1-based data rows. The returned table has ``period`` as ``YYYY-MM`` or ``YYYYQn``.
    """
    problems: list[tuple[int | None, str, str]] = []
    for col in contract.source("reported_crime").column_names:
        if col not in frame.columns and not contract.source("reported_crime").column(col).nullable:
            problems.append((None, col, "required column missing"))
    if problems:
        return frame, problems
    text = frame.astype("string")
    out = pd.DataFrame(index=frame.index)

    codes = text["municipality_code"].str.extract(_CODE, expand=False)
    _flag(problems, codes.isna(), "municipality_code",
          "is not a municipality code (e.g. 851, or 851 Aalborg as StatBank writes it)")
    out["municipality_code"] = codes

    period = text["period"].fillna("")
    scale = PeriodScale("quarter" if period.str.contains(r"[QqKk]").any() else "month")
    ordinals = period.map(scale.ordinal)
    _flag(problems, ordinals.isna(), "period",
          f"is not a {scale.kind} (YYYY-MM, YYYYMmm, YYYYQn or YYYYKn; one kind per file)")
    out["period"] = ordinals.map(lambda o: None if pd.isna(o) else scale.label(int(o)))

    cats = text["offence_category"].fillna("").map(_category)
    _flag(problems, cats.isna(), "offence_category",
          f"is not an offence category ({', '.join(contract.OFFENCE_CATEGORIES)}, or a StatBank "
          "offence group)")
    out["offence_category"] = cats

    for col in ("count", "population"):
        if col not in frame.columns:
            continue
        raw = text[col].str.strip()
        values = pd.to_numeric(raw.str.replace(r"[ .](?=\d{3}\b)", "", regex=True), errors="coerce")
        bad = values.isna() | (values < 0) | (values != np.round(values))
        if col == "population":
            bad &= raw.notna() & (raw != "")
        _flag(problems, bad, col, "is not a whole number >= 0 (StatBank's '..' is not a count)")
        out[col] = values.astype("Int64") if not bad.any() else values
    key = ["municipality_code", "period", "offence_category"]
    dup = out.duplicated(key) & out[key].notna().all(axis=1)
    _flag(problems, dup, "period", "repeats a municipality, period and category already in the file")
    return out, problems


def _flag(problems: list, mask: pd.Series, column: str, message: str) -> None:
    for row in np.flatnonzero(mask.to_numpy(dtype=bool))[:50]:
        problems.append((int(row) + 1, column, message))


def area_panel_frame(table: pd.DataFrame, categories: tuple[str, ...]) -> pd.DataFrame:
    """Counts summed over ``categories`` per municipality and period (the estimators' panel)."""
    rows = table[table["offence_category"].isin(categories)]
    return (rows.groupby(["municipality_code", "period"], as_index=False)["count"].sum()
            .astype({"count": "int64"}))
