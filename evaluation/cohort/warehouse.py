"""Reading the warehouse for the cohort builder: DuckDB views over the Parquet tables.

Dates are handled as whole days since 1970-01-01 (``int64``) in the numpy parts of the builder;
:data:`NEVER` stands for "no such date" (no death, no contact, an open spell).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from ..asof import as_of_select, parquet_relation
from ..errors import InputError

EPOCH = dt.date(1970, 1, 1)
#: "No such date": later than any real date, as days since 1970-01-01.
NEVER = np.int64(10**7)

#: Columns the builder reads from each table.
NEEDED: dict[str, tuple[str, ...]] = {
    "persons": ("person_id", "birth_date", "sex"),
    "contacts": ("person_id", "contact_date", "contact_type", "referred_to"),
    "residence": ("person_id", "municipality_code", "from_date", "to_date"),
    "vital": ("person_id", "death_date", "emigration_date"),
    "custody": ("person_id", "start_date", "end_date"),
    "charges": ("person_id", "case_id", "offence_date", "charge_date", "offence_category"),
    "education": ("person_id", "start_date", "end_date"),
    "employment": ("person_id", "month", "hours"),
    "group_registrations": ("person_id", "registered_date", "deregistered_date"),
}

#: Event dates whose maximum is the default end of data.
EVENT_DATES: dict[str, tuple[str, ...]] = {
    "contacts": ("contact_date",),
    "charges": ("charge_date",),
    "custody": ("start_date",),
    "education": ("start_date",),
    "residence": ("from_date",),
    "group_registrations": ("registered_date",),
    "vital": ("death_date", "emigration_date"),
}


def to_days(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return (day - EPOCH).days


def from_days(days: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(days))


def open_warehouse(folder: str | Path, tables: set[str], as_of: dt.date | None = None):
    """A DuckDB connection with one view per table in ``tables`` (columns checked).

    With ``as_of`` (the analysis date) each view shows the table as it stood on that date: the
    cut of :mod:`evaluation.asof`, so the builder never sees a later record.

    Raises
    ------
    InputError
        A table file is missing, unreadable, or lacks a column the builder needs.
    """
    import duckdb
    import pyarrow.parquet as pq

    folder = Path(folder)
    con = duckdb.connect()
    con.execute("SET memory_limit = '3GB'")
    con.execute("SET preserve_insertion_order = false")
    for name in sorted(tables):
        path = folder / f"{name}.parquet"
        if not path.exists():
            raise InputError(f"warehouse table '{name}' not found", file=str(path))
        relation = parquet_relation(path)
        try:
            if path.is_file():
                names = pq.read_schema(path).names
            else:
                names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
        except (OSError, ValueError, duckdb.Error) as exc:  # errors on a damaged file
            raise InputError(f"cannot be read as Parquet ({type(exc).__name__})", file=str(path)) from None
        for col in NEEDED[name]:
            if col not in names:
                raise InputError("required column is missing", file=str(path), column=col)
        con.execute(f"CREATE VIEW {name} AS {as_of_select(name, relation, names, as_of)}")
    return con


def latest_date(con, tables: set[str]) -> dt.date:
    """The latest event date in the warehouse (the default end of data)."""
    parts = []
    for table, cols in EVENT_DATES.items():
        if table in tables:
            parts += [f"(SELECT max(CAST({c} AS DATE)) FROM {table})" for c in cols]
    value = con.execute(f"SELECT greatest({', '.join(parts)})").fetchone()[0]
    if value is None:
        raise InputError("the warehouse holds no dated events; give study.data_end")
    return value
