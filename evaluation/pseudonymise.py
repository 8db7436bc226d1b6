"""Pseudonymisation: raw extracts with CPR numbers -> the warehouse with ``person_id`` only.

For every source of the data contract found in the raw folder this stage

1. reads the table as text (:func:`evaluation.io.read_raw_text`, with the study file's column
   mapping), and requires the contract's columns (``cpr`` and the source's own);
2. normalises each CPR number (hyphen and spaces removed) and checks its structure with
   :func:`evaluation.cpr.parse` (ten digits, a real birth date with the century from digit 7; the
   modulus-11 check is not used to reject numbers), deriving birth date and sex;
3. replaces it by ``person_id`` = HMAC-SHA256(key, normalised CPR), first 16 bytes as 32 lowercase
   hexadecimal characters (:func:`evaluation.keys.pseudonyms`);
4. types the other columns exactly as :func:`evaluation.io.coerce` does (dates as ``date32``,
   months as ``YYYY-MM`` text, booleans, numbers, trimmed text); columns outside the contract are
   not carried into the warehouse (they are listed by name in the linkage report).

A record that cannot be pseudonymised (missing or malformed CPR number, impossible birth date)
or that holds a value which cannot be typed (reason ``unparseable <column>``) is not written to
the warehouse and not dropped in silence: it is listed in ``quarantine.parquet`` (source, file,
1-based data row, reason, column; never the CPR number or any other value) and counted. For every
source, rows read = rows written + rows quarantined.

Outputs (all in the warehouse folder, written into a temporary folder that replaces the target
only when complete, so a failed run leaves no half-written warehouse):

- ``<source>.parquet`` per source found, warehouse form of :mod:`evaluation.contract`;
- ``persons.parquet``: one row per ``person_id`` seen in any written row, with ``birth_date``
  (date32) and ``sex`` (``M``/``F``) derived from the CPR number (identical across sources by
  construction, since the pseudonym is a function of the CPR number);
- ``quarantine.parquet``: ``source``, ``file``, ``row``, ``reason``, ``column``;
- ``linkage_report.json``: per source rows read, written and quarantined (by reason), distinct
  persons, and the share of them found in the population tables (``residence`` or ``vital``).

Work is vectorised: each column is factorised once, distinct values are checked (and distinct
normalised CPR numbers hashed) once, and results are mapped back to rows by their codes.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from . import __version__, contract, cpr
from .contract import Column, Source
from .errors import EvaluationError, InputError
from .io import coerce, find_table, read_raw_text
from .keys import key_fingerprint, load_key, pseudonyms
from .progress import info, step

#: Files this stage writes into the warehouse folder (besides ``<source>.parquet``).
PERSONS_FILE = "persons.parquet"
QUARANTINE_FILE = "quarantine.parquet"
REPORT_FILE = "linkage_report.json"
#: Sources whose persons make up the population (the CPR register extracts).
POPULATION_SOURCES = ("residence", "vital")
#: Schema version of ``linkage_report.json``.
REPORT_SCHEMA_VERSION = 1

_TYPED = ("date", "month", "bool", "int", "float")
# Anything that could be a CPR number (6 digits, optional hyphen or blank, 4 digits), or a long
# digit run: masked in every message that carries text from a reader library.
_CPR_LIKE = re.compile(r"\d{6}[\s\-]?\d{4}|\d{7,}")


def redact(text: str) -> str:
    """``text`` with every run of digits that could be a CPR number replaced by ``<digits>``."""
    return _CPR_LIKE.sub("<digits>", text)


def _safe_names(names: Iterable[str], limit: int = 20) -> str:
    names = [redact(str(n)) for n in names]
    more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(repr(n) for n in names[:limit]) + more


@dataclass
class SourceResult:
    """One source after pseudonymisation.

    ``table`` is the warehouse-form Arrow table (rows that passed), ``quarantine`` the rows that
    did not (``row`` 1-based, ``reason``, ``column``), ``persons`` one row per person in ``table``.
    """

    name: str
    file: str
    table: pa.Table
    quarantine: pd.DataFrame
    persons: pd.DataFrame
    rows_read: int
    dropped_columns: list[str] = field(default_factory=list)

    @property
    def rows_written(self) -> int:
        return self.table.num_rows

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)


def _factorize(text: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes (-1 for missing) and distinct values of a text column."""
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), pd.Series(np.asarray(uniques, dtype=object), dtype=object)


def _take(values: pa.Array, codes: np.ndarray) -> pa.Array:
    """``values[codes]`` with code -1 giving null."""
    if len(codes) == 0:
        return pa.array([], type=values.type)
    idx = pa.array(codes, type=pa.int64(), mask=codes < 0)
    return values.take(idx)


def pseudonymise_cprs(key: bytes, text: pd.Series) -> tuple[pa.Array, np.ndarray, pd.DataFrame]:
    """Pseudonyms for a column of raw CPR text, with the reason where none can be given.

    Parameters
    ----------
    key
        Key material (:func:`evaluation.keys.load_key`).
    text
        CPR numbers as delivered (with or without hyphen or blanks; missing allowed).

    Returns
    -------
    person_id : pyarrow.Array
        32-character pseudonym per row, null where the CPR number is unusable.
    reason : numpy.ndarray
        Object array per row: None, or :data:`evaluation.cpr.MISSING`, ``MALFORMED`` or
        ``INVALID_DATE``.
    persons : pandas.DataFrame
        ``person_id``, ``birth_date``, ``sex`` for every distinct usable CPR number in ``text``.
    """
    codes, uniques = _factorize(text)
    parsed = cpr.parse(uniques.to_numpy(dtype=object))
    ok = parsed["reason"].isna().to_numpy()
    # Several spellings (hyphen or not) of one number: hash each normalised number once.
    norm_codes, norm_uniques = _factorize(parsed["cpr"].where(ok, None))
    ids_norm = pseudonyms(key, norm_uniques.to_numpy(dtype=object))
    ids_unique = _take(ids_norm, norm_codes)
    person_id = _take(ids_unique, codes)
    reason_unique = np.append(parsed["reason"].to_numpy(dtype=object), cpr.MISSING)
    reason = reason_unique[codes]  # code -1 picks the appended MISSING
    first = pd.Series(norm_codes).drop_duplicates()
    first = first[first >= 0]
    persons = pd.DataFrame({
        "person_id": ids_norm.to_pandas().to_numpy(dtype=object)[first.to_numpy()],
        "birth_date": parsed["birth_date"].to_numpy()[first.index.to_numpy()],
        "sex": parsed["sex"].to_numpy(dtype=object)[first.index.to_numpy()],
    })
    return person_id, reason, persons


def _arrow_type(col: Column) -> pa.DataType:
    return {
        "date": pa.date32(),
        "bool": pa.bool_(),
        "int": pa.int64(),
        "float": pa.float64(),
    }.get(col.type, pa.string())


def type_column(text: pd.Series, col: Column) -> tuple[pa.Array, np.ndarray]:
    """Type one text column as :func:`evaluation.io.coerce` does, value by distinct value.

    Surrounding blanks are removed first and an empty value counts as missing.

    Returns
    -------
    values : pyarrow.Array
        The typed column (``date32`` for dates, ``YYYY-MM`` text for months).
    unparseable : numpy.ndarray
        Boolean per row: a value was given but cannot be typed (only for date, month, bool,
        int and float columns).
    """
    codes, uniques = _factorize(text)
    stripped = uniques.astype(object).map(lambda v: v.strip() if isinstance(v, str) else v)
    stripped = stripped.where(stripped.astype(bool), None)  # '' -> missing
    one = Source("one", "", (col,), key=())
    typed = coerce(pd.DataFrame({col.name: stripped.astype(pd.StringDtype("pyarrow"))}), one)[col.name]
    if col.type in _TYPED:
        bad_unique = (stripped.notna() & typed.isna()).to_numpy(dtype=bool)
        unparseable = np.append(bad_unique, False)[codes]
    else:
        unparseable = np.zeros(len(codes), dtype=bool)
    if col.type == "date":
        arr = pa.array(typed.dt.date.where(typed.notna(), None).to_numpy(dtype=object), type=pa.date32())
    else:
        arr = pa.array(typed.astype(object).where(typed.notna(), None).to_numpy(dtype=object),
                       type=_arrow_type(col), from_pandas=True)
    return _take(arr, codes), unparseable


def pseudonymise_frame(frame: pd.DataFrame, name: str, key: bytes, file: str) -> SourceResult:
    """Pseudonymise one source's text frame (raw form, canonical column names).

    Parameters
    ----------
    frame
        All-text frame as read by :func:`evaluation.io.read_raw_text` (column mapping applied).
    name
        Source name in :mod:`evaluation.contract`.
    key
        Key material.
    file
        The file name, for messages and the quarantine listing.

    Raises
    ------
    InputError
        A column of the contract is missing (naming the file and the column).
    """
    src = contract.source(name, "raw")
    missing = [c for c in src.column_names if c not in frame.columns]
    if missing:
        raise InputError(
            f"required column missing (columns found: {_safe_names(frame.columns)}; map the file's "
            f"own names in the study file under [sources.{name}] columns)",
            file=file, column=missing[0],
        )
    wh = contract.source(name, "warehouse")
    dropped = [redact(str(c)) for c in frame.columns if c not in src.column_names]
    n = len(frame)
    person_id, cpr_reason, persons = pseudonymise_cprs(key, frame["cpr"])

    reasons: list[str] = []
    columns: list[str] = []
    code = np.zeros(n, dtype=np.int16)
    for label in (cpr.MISSING, cpr.MALFORMED, cpr.INVALID_DATE):
        reasons.append(label)
        columns.append("cpr")
        code[(code == 0) & (cpr_reason == label)] = len(reasons)
    arrays = {"person_id": person_id}
    for col in wh.columns[1:]:
        arr, bad = type_column(frame[col.name], col)
        arrays[col.name] = arr
        if bad.any():
            reasons.append(f"unparseable {col.name}")
            columns.append(col.name)
            code[(code == 0) & bad] = len(reasons)
    keep = code == 0
    table = pa.table(arrays)
    if not keep.all():
        table = table.filter(pa.array(keep))
    quarantined = np.flatnonzero(~keep)
    qcode = code[quarantined] - 1
    quarantine = pd.DataFrame({
        "source": pd.Series([name] * len(quarantined), dtype=object),
        "file": pd.Series([file] * len(quarantined), dtype=object),
        "row": (quarantined + 1).astype(np.int64),
        "reason": np.asarray(reasons, dtype=object)[qcode] if len(qcode) else np.array([], dtype=object),
        "column": np.asarray(columns, dtype=object)[qcode] if len(qcode) else np.array([], dtype=object),
    })
    # Persons of the written rows only: every person in the warehouse has a persons row, and
    # every persons row belongs to someone in a warehouse table.
    written_ids = pd.unique(table.column("person_id").to_pandas())
    persons = persons[persons["person_id"].isin(written_ids)].reset_index(drop=True)
    result = SourceResult(name, file, table, quarantine, persons, n, dropped)
    if result.rows_written + result.rows_quarantined != result.rows_read:  # pragma: no cover
        raise AssertionError(f"{name}: rows read != rows written + rows quarantined")
    return result


def _check_out_folder(out: Path, raw: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError("the output folder exists and is not a folder", file=str(out))
    if out.resolve() == raw.resolve() or raw.resolve() in out.resolve().parents:
        raise InputError("the output folder must not be the raw folder or inside it", file=str(out))
    if out.resolve() in raw.resolve().parents:
        raise InputError("the output folder must not contain the raw folder", file=str(out))
    if out.is_dir():
        ours = {f"{n}{contract.WAREHOUSE_EXTENSION}" for n in contract.SOURCE_NAMES}
        ours |= {PERSONS_FILE, QUARANTINE_FILE, REPORT_FILE}
        foreign = [p.name for p in out.iterdir() if p.name not in ours]
        if foreign:
            raise InputError(
                f"the output folder exists and holds files that are not part of a warehouse "
                f"({_safe_names(sorted(foreign), 5)}); it is replaced whole, so give a new or "
                "warehouse-only folder",
                file=str(out),
            )


def _locate(raw: Path, study: Any | None) -> list[tuple[str, Path, dict[str, str]]]:
    found = []
    for name in contract.SOURCE_NAMES:
        settings = study.sources.get(name) if study is not None else None
        mapping = dict(settings.columns) if settings is not None else {}
        if settings is not None and settings.file is not None:
            if not settings.file.exists():
                raise InputError(f"file of source '{name}' named in the study file not found",
                                 file=str(settings.file))
            found.append((name, settings.file, mapping))
            continue
        path = find_table(raw, name)
        if path is not None:
            found.append((name, path, mapping))
    return found


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 6)


def pseudonymise(
    raw_dir: str | os.PathLike[str],
    key_file: str | os.PathLike[str] | None,
    out: str | os.PathLike[str],
    study: Any | None = None,
) -> dict[str, Any]:
    """Pseudonymise every source found in ``raw_dir`` and write the warehouse to ``out``.

    Parameters
    ----------
    raw_dir
        Folder of raw extracts (``<source>.<ext>``, or the files named in the study file).
    key_file
        The key file (checked by :func:`evaluation.keys.load_key`; refused inside ``out``).
    out
        The warehouse folder. Replaced whole, only once the new warehouse is complete; refused
        when it holds files that are not warehouse files.
    study
        An :class:`evaluation.study.Study` whose ``[sources.X]`` give file names and column
        mappings, or None.

    Returns
    -------
    dict
        The linkage report, as written to ``linkage_report.json``.
    """
    from .atomic import atomic_dir, write_json, write_parquet

    raw = Path(raw_dir)
    out = Path(out).absolute()
    key = load_key(key_file, forbidden_dirs=[out])
    if not raw.is_dir():
        raise InputError("the raw folder does not exist or is not a folder", file=str(raw))
    _check_out_folder(out, raw)
    located = _locate(raw, study)
    if not located:
        raise InputError(
            "no source table found (expected files such as charges.csv or residence.parquet; "
            f"sources: {', '.join(contract.SOURCE_NAMES)})",
            file=str(raw),
        )

    results: list[SourceResult] = []
    for name, path, mapping in located:
        with step(f"pseudonymise {name} ({path.name})"):
            try:
                frame = read_raw_text(path, mapping or None)
            except InputError as exc:
                raise InputError(redact(exc.message)) from None
            results.append(pseudonymise_frame(frame, name, key, path.name))
            del frame

    persons = pd.concat([r.persons for r in results], ignore_index=True)
    persons = persons.drop_duplicates(ignore_index=True)
    if persons["person_id"].duplicated().any():  # pragma: no cover - an HMAC collision
        raise EvaluationError("two different birth dates or sexes for one pseudonym")
    persons = persons.sort_values("person_id", ignore_index=True)
    persons_table = pa.table({
        "person_id": pa.array(persons["person_id"].to_numpy(dtype=object), type=pa.string()),
        "birth_date": pa.array(pd.to_datetime(persons["birth_date"]).dt.date.to_numpy(dtype=object),
                               type=pa.date32()),
        "sex": pa.array(persons["sex"].to_numpy(dtype=object), type=pa.string()),
    })

    population: pd.Index | None = None
    pop_sources = [r for r in results if r.name in POPULATION_SOURCES]
    if pop_sources:
        population = pd.Index(pd.unique(pd.concat(
            [r.table.column("person_id").to_pandas() for r in pop_sources], ignore_index=True)))

    sources_report: dict[str, Any] = {}
    for r in results:
        ids = pd.Index(pd.unique(r.table.column("person_id").to_pandas()))
        in_pop = int(ids.isin(population).sum()) if population is not None else None
        by_reason = {str(k): int(v) for k, v in r.quarantine["reason"].value_counts().sort_index().items()}
        entry = {
            "file": r.file,
            "rows_read": r.rows_read,
            "rows_written": r.rows_written,
            "rows_quarantined": r.rows_quarantined,
            "quarantined_by_reason": by_reason,
            "persons": int(len(ids)),
            "persons_in_population": in_pop,
            "share_in_population": _share(in_pop, len(ids)) if in_pop is not None else None,
            "columns_not_carried": r.dropped_columns,
        }
        assert entry["rows_read"] == entry["rows_written"] + entry["rows_quarantined"]
        sources_report[r.name] = entry

    quarantine = pd.concat([r.quarantine for r in results], ignore_index=True)
    q_table = pa.table({
        "source": pa.array(quarantine["source"].to_numpy(dtype=object), type=pa.string()),
        "file": pa.array(quarantine["file"].to_numpy(dtype=object), type=pa.string()),
        "row": pa.array(quarantine["row"].to_numpy(dtype=np.int64), type=pa.int64()),
        "reason": pa.array(quarantine["reason"].to_numpy(dtype=object), type=pa.string()),
        "column": pa.array(quarantine["column"].to_numpy(dtype=object), type=pa.string()),
    })
    totals = {
        "rows_read": sum(e["rows_read"] for e in sources_report.values()),
        "rows_written": sum(e["rows_written"] for e in sources_report.values()),
        "rows_quarantined": sum(e["rows_quarantined"] for e in sources_report.values()),
        "persons": int(persons_table.num_rows),
    }
    assert totals["rows_read"] == totals["rows_written"] + totals["rows_quarantined"]
    report = {
        "schema_version": REPORT_SCHEMA_VERSION,
        "created_by": f"evaluation {__version__}",
        "created_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "pseudonym": "HMAC-SHA256(key, normalised CPR), first 16 bytes, 32 lowercase hex characters",
        "key_fingerprint": key_fingerprint(key),
        "population_sources": [r.name for r in pop_sources],
        "sources_missing": [n for n in contract.SOURCE_NAMES if n not in sources_report],
        "totals": totals,
        "sources": sources_report,
    }

    with step(f"write warehouse {out}"), atomic_dir(out) as tmp:
        for r in results:
            write_parquet(tmp / f"{r.name}{contract.WAREHOUSE_EXTENSION}", r.table)
        write_parquet(tmp / PERSONS_FILE, persons_table)
        write_parquet(tmp / QUARANTINE_FILE, q_table)
        write_json(tmp / REPORT_FILE, report)
    if totals["rows_quarantined"]:
        info(f"{totals['rows_quarantined']} row(s) quarantined: see {out / QUARANTINE_FILE}")
    return report


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The linkage report as a short plain-text table (what the command prints)."""
    lines = [f"{'source':20s} {'read':>10s} {'written':>10s} {'quarant.':>9s} {'persons':>9s} "
             f"{'in pop.':>8s}"]
    for name, e in report["sources"].items():
        share = "-" if e["share_in_population"] is None else f"{100 * e['share_in_population']:.1f}%"
        lines.append(f"{name:20s} {e['rows_read']:>10d} {e['rows_written']:>10d} "
                     f"{e['rows_quarantined']:>9d} {e['persons']:>9d} {share:>8s}")
    t = report["totals"]
    lines.append(f"{'total':20s} {t['rows_read']:>10d} {t['rows_written']:>10d} "
                 f"{t['rows_quarantined']:>9d} {t['persons']:>9d}")
    for name, e in report["sources"].items():
        for reason, count in e["quarantined_by_reason"].items():
            lines.append(f"  quarantined in {name}: {count} x {reason}")
    if report["sources_missing"]:
        lines.append(f"sources not found: {', '.join(report['sources_missing'])}")
    return lines


__all__ = [
    "SourceResult",
    "pseudonymise",
    "pseudonymise_cprs",
    "pseudonymise_frame",
    "redact",
    "summary_lines",
    "type_column",
]
