"""Faults injected into the raw CSV extracts, for testing validation and pseudonymisation.

Every fault is recorded as ``{"kind", "file", "row", "column"}`` with ``row`` the 1-based data
row of the CSV file (the first record after the header is row 1). No two faults share a row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import contract
from ..cpr import parse

KINDS = ("bad_date", "malformed_cpr", "duplicate", "end_before_start", "unknown_category",
         "event_before_birth")

BAD_DATES = ("2021-13-45", "31/02/2020", "2019-02-30", "not a date", "20200230")
BAD_MONTHS = ("2020-13", "13/2020", "2021-00")
BAD_CPRS = ("12345", "12AB56-7890", "3201991234", "0013991234", "12345678901")
UNKNOWN_CODES = {
    "contact_type": "phone_call", "referred_to": "sports", "offence_category": "arson",
    "sanction": "probation", "custody_type": "house_arrest", "level": "university",
    "status": "paused",
}
#: (file, earlier column, later column) where an end before its start is injected.
ORDER_PAIRS = (
    ("custody", "start_date", "end_date"),
    ("education", "start_date", "end_date"),
    ("residence", "from_date", "to_date"),
    ("group_registrations", "registered_date", "deregistered_date"),
    ("charges", "offence_date", "charge_date"),
)


class _Rows:
    """Rows already used by a fault (no two faults in one row), per file."""

    def __init__(self) -> None:
        self.used: dict[str, set[int]] = {}

    def pick(self, rng: np.random.Generator, name: str, candidates: np.ndarray) -> int | None:
        used = self.used.setdefault(name, set())
        free = candidates[~np.isin(candidates, list(used))] if used else candidates
        if len(free) == 0:
            return None
        row = int(free[rng.integers(0, len(free))])
        used.add(row)
        return row

    def mark(self, name: str, row: int) -> None:
        self.used.setdefault(name, set()).add(row)


def _shift(value: str, days: int) -> str:
    return str(np.datetime64(value, "D") + np.timedelta64(int(days), "D"))


def inject_faults(texts: dict[str, pd.DataFrame], world, k: int,
                  rng: np.random.Generator) -> list[dict]:
    """Inject ``k`` faults of each kind into the text tables in place; return the fault list."""
    rows = _Rows()
    faults: list[dict] = []
    sources = [n for n in contract.SOURCE_NAMES if n in texts]  # tables given faults
    date_cols = [(name, c.name) for name in sources
                 for c in contract.source(name, "raw").columns if c.type in ("date", "month")]
    cat_cols = [(name, c.name) for name in sources
                for c in contract.source(name, "raw").columns if c.type == "category"]
    names = [n for n in sources if len(texts[n]) >= 2]

    def add(kind: str, name: str, row: int, column: str | None) -> None:
        faults.append({"kind": kind, "file": f"{name}.csv", "row": row + 1, "column": column})

    for _ in range(k):
        # bad_date
        name, col = date_cols[rng.integers(0, len(date_cols))]
        vals = texts[name][col]
        row = rows.pick(rng, name, np.flatnonzero(vals.notna().to_numpy()))
        if row is not None:
            bad = BAD_MONTHS if col == "month" else BAD_DATES
            texts[name].iat[row, texts[name].columns.get_loc(col)] = bad[rng.integers(0, len(bad))]
            add("bad_date", name, row, col)
        # malformed_cpr
        name = names[rng.integers(0, len(names))]
        row = rows.pick(rng, name, np.arange(len(texts[name])))
        if row is not None:
            texts[name].iat[row, 0] = BAD_CPRS[rng.integers(0, len(BAD_CPRS))]
            add("malformed_cpr", name, row, "cpr")
        # duplicate: a later row repeats the previous row exactly
        name = names[rng.integers(0, len(names))]
        frame = texts[name]
        cand = np.arange(1, len(frame))
        free = rows.used.get(name, set())
        cand = cand[~np.isin(cand, list(free)) & ~np.isin(cand - 1, list(free))]
        if len(cand):
            row = int(cand[rng.integers(0, len(cand))])
            rows.mark(name, row)
            rows.mark(name, row - 1)
            frame.iloc[row] = frame.iloc[row - 1].to_numpy()
            key = contract.source(name, "raw").key
            add("duplicate", name, row, key[1] if len(key) > 1 else key[0])
        # end_before_start
        name, early, late = ORDER_PAIRS[rng.integers(0, len(ORDER_PAIRS))]
        frame = texts[name]
        row = rows.pick(rng, name, np.flatnonzero(frame[early].notna().to_numpy()))
        if row is not None:
            start = frame.iat[row, frame.columns.get_loc(early)]
            frame.iat[row, frame.columns.get_loc(late)] = _shift(start, -int(rng.integers(1, 200)))
            add("end_before_start", name, row, late)
        # unknown_category
        name, col = cat_cols[rng.integers(0, len(cat_cols))]
        frame = texts[name]
        row = rows.pick(rng, name, np.flatnonzero(frame[col].notna().to_numpy()))
        if row is not None:
            frame.iat[row, frame.columns.get_loc(col)] = UNKNOWN_CODES[col]
            add("unknown_category", name, row, col)
        # event_before_birth: a charge's offence date before the birth date in its CPR number
        frame = texts["charges"]
        row = rows.pick(rng, "charges", np.arange(len(frame)))
        if row is not None:
            birth = parse([frame.iat[row, 0]])["birth_date"].iloc[0]
            day = np.datetime64(birth.date(), "D") - np.timedelta64(int(rng.integers(30, 3000)), "D")
            frame.iat[row, frame.columns.get_loc("offence_date")] = str(day)
            add("event_before_birth", "charges", row, "offence_date")
    faults.sort(key=lambda f: (f["file"], f["row"], f["kind"]))
    return faults
