"""Warehouse tables as integer arrays: persons by an integer key, dates as day numbers.

The outcome and analysis readers join cohort rows to register rows by person many times. Joining
on the text ids (32 hex characters) hashes every register row on every join; here each table is
read once with its ids dictionary-encoded (as Parquet stores them), the dictionary mapped to one
integer key space (:class:`PersonKeys`), dates turned into days since 1970-01-01, and the joins
become binary searches in sorted integer arrays (:class:`Events`, :class:`Spells`).

The as-of cut is the SQL of :mod:`evaluation.asof`, applied by DuckDB to the keyed table (or, for
a table whose only dated rule is on one text column, such as the employment month, to that
column's distinct values).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from .asof import DROP_AFTER, MONTH_AFTER, OPEN_AFTER, as_of_select
from .contract import WAREHOUSE_EXTENSION
from .errors import InputError

#: "No such date" as days since 1970-01-01 (a missing date, an open spell): later than any day.
NEVER = 10**7
_SHIFT = np.int64(2**31)  # day offset inside a (person, day) key


def days(values) -> np.ndarray:
    """Dates (datetime-like values or a Series) as days since 1970-01-01 (int64; NaT: NEVER)."""
    d = values if isinstance(values, pd.Series) else pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(d):
        d = pd.to_datetime(d)
    out = d.to_numpy("datetime64[ns]").astype("datetime64[D]")
    return np.where(np.isnat(out), NEVER, out.astype("int64"))


def month_start(day: np.ndarray) -> np.ndarray:
    """The first day of the month of each day number."""
    return day.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype("int64")


class PersonKeys:
    """One integer key per text value (a person id), shared by the tables read with it; keys
    are positions in the order values were first seen."""

    def __init__(self) -> None:
        self._index = pd.Index([], dtype=object)

    def __len__(self) -> int:
        return len(self._index)

    @classmethod
    def of_persons(cls, folder: str | Path) -> PersonKeys:
        """Keys starting with the ids of the warehouse's ``persons`` table (when it has one),
        so that the other tables, whose persons it lists, add none."""
        import pyarrow.parquet as pq

        keys = cls()
        path = Path(folder) / f"persons{WAREHOUSE_EXTENSION}"
        if path.is_file():
            try:
                ids = pq.read_table(path, columns=["person_id"]).column("person_id")
            except (OSError, KeyError, ValueError):  # read_keyed reports an unreadable table
                return keys
            keys.add(ids.to_numpy())
        return keys

    def add(self, values) -> None:
        """Give the values not seen before (repeats allowed) new keys."""
        new = pd.Index(pd.unique(np.asarray(values, dtype=object)))
        new = new[self._index.get_indexer(new) < 0]
        if len(new):
            self._index = self._index.append(new)

    def encode(self, values) -> np.ndarray:
        """Keys of ``values`` (text, repeats allowed), new values getting new keys."""
        self.add(values)
        return self.lookup(values)

    def ids(self, keys: np.ndarray) -> np.ndarray:
        """The values (text) of ``keys``."""
        return self._index.to_numpy()[np.asarray(keys, "int64")]

    def lookup(self, values) -> np.ndarray:
        """Keys of ``values`` (any text values); -1 for a value not seen."""
        return self._index.get_indexer(pd.Index(np.asarray(values, dtype=object))).astype("int64")


def _dictionary(column) -> tuple[np.ndarray, np.ndarray]:
    """(codes: int64 positions in ``values``, -1 for null; ``values``) of a column, its
    chunks' dictionaries unified in Arrow: no per-row Python objects."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column if pa.types.is_string(column.type) or pa.types.is_date(column.type)
                                      else pc.cast(column, pa.string()))
    if isinstance(column, pa.ChunkedArray):
        column = column.unify_dictionaries()
        chunks = [c for c in column.chunks if len(c)]
    else:
        chunks = [column] if len(column) else []
    if not chunks:
        return np.zeros(0, "int64"), np.zeros(0, object)
    values = chunks[0].dictionary.to_numpy(zero_copy_only=False)
    return np.concatenate([pc.fill_null(c.indices, -1).to_numpy() for c in chunks]).astype("int64"), values


def _encode(column, keys: PersonKeys) -> np.ndarray:
    """Person keys (int32, -1 for null) of a column of ids: each distinct id looked up once."""
    idx, values = _dictionary(column)
    known = keys.lookup(values)
    if (known < 0).any():
        keys.add(values[known < 0])
        known = keys.lookup(values)
    return np.r_[known, -1].astype("int32")[idx]  # a null (-1) takes the last place


def read_keyed(folder: str | Path, name: str, keys: PersonKeys, *, dates: tuple[str, ...] = (),
               texts: tuple[str, ...] = (), numbers: tuple[str, ...] = (), month: str | None = None,
               as_of: dt.date | None = None) -> dict[str, np.ndarray]:
    """Warehouse table ``name`` as of ``as_of`` (:mod:`evaluation.asof`), as numpy arrays.

    Returns ``{"pk": person keys (-1 for a missing id), date: days (NEVER when missing), text:
    codes (-1 when missing), text + "_values": the values the codes stand for, number: float64,
    month: the month's first day}``, rows in the table's order after the cut.

    Raises
    ------
    InputError
        The table is missing, unreadable, or lacks one of the columns.
    """
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(folder) / f"{name}{WAREHOUSE_EXTENSION}"
    if not path.exists():
        raise InputError(f"warehouse table '{name}' not found", file=str(path))
    try:
        schema = pq.read_schema(path) if path.is_file() else pq.ParquetDataset(path).schema
        wanted = ["person_id", *dates, *texts, *numbers, *([month] if month else [])]
        for c in wanted:
            if c not in schema.names:
                raise InputError(f"cannot be read: 'column {c!r} not found'", file=str(path))
        rules = [c for c in (*DROP_AFTER.get(name, ()), *OPEN_AFTER.get(name, ()), MONTH_AFTER.get(name))
                 if c is not None and c in schema.names] if as_of is not None else []
        cols = list(dict.fromkeys([*wanted, *rules]))
        text_cols = [c for c in cols if c in ("person_id", *texts) or c == month]
        table = pq.read_table(path, columns=cols, read_dictionary=[c for c in text_cols
                                                                  if pa.types.is_string(schema.field(c).type)
                                                                  or pa.types.is_large_string(schema.field(c).type)])
    except (pa.ArrowInvalid, OSError, duckdb.Error) as exc:
        raise InputError(f"cannot be read as Parquet ({type(exc).__name__})", file=str(path)) from None
    n = table.num_rows
    out: dict[str, np.ndarray] = {"pk": _encode(table.column("person_id"), keys)}
    for c in texts:
        out[c], out[c + "_values"] = _dictionary(table.column(c))
    keep = np.ones(n, bool)
    con = duckdb.connect()
    try:
        if month:  # the cut and the month's first day, once per distinct month
            m_idx, m_values = _dictionary(table.column(month))
            con.register("m", pd.DataFrame({month: m_values, "_i": np.arange(len(m_values))}))
            sql = as_of_select(name, "m", [month, "_i"], as_of if month in rules else None, [month, "_i"])
            first = con.execute(f"""SELECT _i, CAST(substr(CAST({month} AS VARCHAR), 1, 7) || '-01' AS DATE)
                                           - DATE '1970-01-01' AS d FROM ({sql})""").fetchnumpy()
            start = np.full(len(m_values) + 1, NEVER, "int32")  # the last place: a missing month
            start[np.asarray(first["_i"], "int64")] = np.asarray(first["d"], "int64")
            out[month] = start[m_idx]
            keep &= out[month] != NEVER
        for c in numbers:
            out[c] = table.column(c).cast(pa.float64()).to_numpy()
        dated = [c for c in rules if c != month]
        if dated or dates:
            plain = table.select(list(dict.fromkeys([*dates, *dated]))).append_column(
                "_i", pa.array(np.arange(n, dtype="int64")))
            con.register("t", plain)
            sql = as_of_select(name, "t", plain.column_names, as_of if dated else None)
            exprs = [f"CAST(coalesce(CAST({c} AS DATE) - DATE '1970-01-01', {NEVER}) AS INTEGER) AS {c}"
                     for c in dates]
            got = con.execute(f"SELECT {', '.join(['_i', *exprs])} FROM ({sql})").fetchnumpy()
            at = np.asarray(got["_i"], "int64")
            for c in dates:
                out[c] = np.full(n, NEVER, "int32")
                out[c][at] = np.asarray(got[c], "int32")
            if len(at) < n:
                rows = np.zeros(n, bool)
                rows[at] = True
                keep &= rows
    except duckdb.Error as exc:  # a value that cannot be read as a date
        raise InputError(f"cannot be read: {type(exc).__name__}", file=str(path)) from None
    finally:
        con.close()
    if keep.all():
        return out
    return {k: v if k.endswith("_values") else v[keep] for k, v in out.items()}


def person_day_key(pk: np.ndarray, day: np.ndarray) -> np.ndarray:
    """One sortable int64 per (person key, day): the key in the high 32 bits."""
    return (np.asarray(pk, "int64") << 32) + (np.asarray(day, "int64") + _SHIFT)


class Events:
    """Dated events per person, sorted by (person key, day); a missing day or person is no event."""

    def __init__(self, pk: np.ndarray, day: np.ndarray) -> None:
        ok = (np.asarray(pk) >= 0) & (np.asarray(day) != NEVER)
        self.key = np.sort(person_day_key(pk[ok], day[ok]))

    def __len__(self) -> int:
        return len(self.key)

    def first_after(self, pk: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Day of each person's first event strictly after ``day`` (float, NaN when none)."""
        i = np.searchsorted(self.key, person_day_key(pk, day), side="right")
        found = self.key[np.minimum(i, len(self.key) - 1)] if len(self.key) else np.zeros(len(i), "int64")
        same = (i < len(self.key)) & ((found >> 32) == pk) & (pk >= 0)
        return np.where(same, ((found & 0xFFFFFFFF) - _SHIFT).astype(float), np.nan)

    def count_between(self, pk: np.ndarray, after: np.ndarray, upto: np.ndarray) -> np.ndarray:
        """Number of each person's events with ``after < day <= upto``."""
        hi = np.searchsorted(self.key, person_day_key(pk, upto), side="right")
        lo = np.searchsorted(self.key, person_day_key(pk, after), side="right")
        return np.where(pk >= 0, np.maximum(hi - lo, 0), 0)

    def on(self, pk: np.ndarray, day: np.ndarray) -> np.ndarray:
        """True where the person has an event on ``day``."""
        q = person_day_key(pk, day)
        i = np.searchsorted(self.key, q, side="left")
        return (i < len(self.key)) & (self.key[np.minimum(i, max(len(self.key) - 1, 0))] == q) & (pk >= 0) \
            if len(self.key) else np.zeros(len(q), bool)


class Spells:
    """Rows of a per-person table (spells, registrations) sorted by person key, for joining
    query rows to every row of their person."""

    def __init__(self, pk: np.ndarray, **columns: np.ndarray) -> None:
        order = np.argsort(pk, kind="stable")
        self.pk = np.asarray(pk, "int64")[order]
        self.columns = {c: np.asarray(v)[order] for c, v in columns.items()}

    def __getitem__(self, column: str) -> np.ndarray:
        return self.columns[column]

    def pairs(self, pk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query position, spell position) of every query row with every spell of its person."""
        pk = np.asarray(pk, "int64")
        lo = np.searchsorted(self.pk, pk, side="left")
        n = np.where(pk >= 0, np.searchsorted(self.pk, pk, side="right") - lo, 0)
        q = np.repeat(np.arange(len(pk)), n)
        first = np.cumsum(n) - n
        s = np.repeat(lo - first, n) + np.arange(int(n.sum()))
        return q, s

    def any_covering(self, pk: np.ndarray, covers) -> np.ndarray:
        """True where some spell of the person satisfies ``covers(query positions, spell
        positions) -> bool array``."""
        q, s = self.pairs(pk)
        out = np.zeros(len(pk), bool)
        out[q[covers(q, s)]] = True
        return out
