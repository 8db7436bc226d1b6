"""The as-of cut: the warehouse as the registers stood on the analysis date.

A quarterly run for quarter Q uses nothing dated after the last day of Q (the analysis date).
This module is the one place that says what that means for each warehouse table; every reader
of the warehouse (the cohort builder's DuckDB views, the outcome and analysis readers) applies
the same SQL, so no stage can see a later record than another.

The rule, per table:

* an event dated after the analysis date did not happen yet: its row is left out (a contact,
  a charge, a conviction decision, the start of a residence, custody, education or group spell,
  an employment month);
* an end dated after the analysis date was not known yet: it is read as open (null), e.g. a
  residence spell ending later is still running on the analysis date, a death or emigration
  after it has not happened, an education spell ending later is ``ongoing``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

#: Per table: the dates whose row is left out when after the analysis date.
DROP_AFTER: dict[str, tuple[str, ...]] = {
    "contacts": ("contact_date",),
    "residence": ("from_date",),
    "charges": ("charge_date", "offence_date"),
    "convictions": ("decision_date", "offence_date"),
    "custody": ("start_date",),
    "education": ("start_date",),
    "group_registrations": ("registered_date",),
}

#: Per table: the dates read as open (null) when after the analysis date.
OPEN_AFTER: dict[str, tuple[str, ...]] = {
    "residence": ("to_date",),
    "vital": ("death_date", "emigration_date"),
    "custody": ("end_date",),
    "education": ("end_date",),
    "group_registrations": ("deregistered_date",),
}

#: Month columns (``YYYY-MM`` text or a date): months after the analysis date's month are left out.
MONTH_AFTER: dict[str, str] = {"employment": "month"}


def _after(col: str, as_of: dt.date) -> str:
    return f"CAST({col} AS DATE) > DATE '{as_of.isoformat()}'"


def as_of_select(table: str, relation: str, columns: list[str] | tuple[str, ...],
                 as_of: dt.date | None, select: list[str] | None = None) -> str:
    """DuckDB SQL reading ``relation`` (e.g. ``read_parquet('...')``) as of ``as_of``.

    Parameters
    ----------
    table
        Warehouse table name (``contacts``, ``residence``, ...); tables without a dated rule
        (``persons``) are read unchanged.
    relation
        A DuckDB relation expression.
    columns
        The columns the relation has (rules on absent columns do not apply).
    as_of
        The analysis date; ``None`` reads everything.
    select
        Columns to return (default: all ``columns``).
    """
    have = set(columns)
    out = list(select) if select is not None else list(columns)
    if as_of is None:
        return f"SELECT {', '.join(out)} FROM {relation}"
    opened = [c for c in OPEN_AFTER.get(table, ()) if c in have]
    parts = []
    for c in out:
        if c in opened:
            parts.append(f"CASE WHEN {_after(c, as_of)} THEN NULL ELSE {c} END AS {c}")
        elif table == "education" and c == "status" and "end_date" in have:
            parts.append(f"CASE WHEN {_after('end_date', as_of)} THEN 'ongoing' "
                         f"ELSE CAST(status AS VARCHAR) END AS status")
        else:
            parts.append(c)
    where = [f"({c} IS NULL OR NOT {_after(c, as_of)})" for c in DROP_AFTER.get(table, ()) if c in have]
    month = MONTH_AFTER.get(table)
    if month in have:
        where.append(f"substr(CAST({month} AS VARCHAR), 1, 7) <= '{as_of.isoformat()[:7]}'")
    sql = f"SELECT {', '.join(parts)} FROM {relation}"
    return sql + (f" WHERE {' AND '.join(where)}" if where else "")


def parquet_relation(path: Path) -> str:
    """The DuckDB relation of a warehouse table (a Parquet file or a folder of Parquet files)."""
    glob = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
    return "read_parquet('{}')".format(glob.replace("'", "''"))


def read_as_of(path: Path, table: str, columns: list[str] | None, as_of: dt.date):
    """Read one warehouse table as of ``as_of`` into a pandas DataFrame (row order kept)."""
    import duckdb

    con = duckdb.connect()
    try:
        relation = parquet_relation(path)
        try:
            names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
            missing = [c for c in (columns or []) if c not in names]
            if missing:
                raise KeyError(f"column {missing[0]!r} not found")
            rel = con.sql(as_of_select(table, relation, names, as_of, columns))
            # to_arrow_table() from DuckDB 1.4 on; fetch_arrow_table() before it
            table_ = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.fetch_arrow_table()
            return table_.to_pandas()
        except duckdb.Error as exc:  # a damaged or unreadable file
            raise OSError(type(exc).__name__) from None
    finally:
        con.close()
