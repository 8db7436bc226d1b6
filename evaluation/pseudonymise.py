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
  persons, and the share of them found in the population tables (``residence`` or ``vital``);
- ``simulation.json`` and ``truth.json``, copied unchanged, when the raw folder holds simulated
  extracts (``evaluation simulate``), as ``evaluation simulate --form warehouse`` writes them.

Work is vectorised: each column is factorised once, distinct values are checked (and distinct
normalised CPR numbers hashed) once, and results are mapped back to rows by their codes.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from . import __version__, contract, cpr
from .atomic import check_replaceable, lock
from .contract import Column
from .errors import EvaluationError, InputError
from .io import coerce_column, reading_limits
from .keys import (
    KeyMismatch,
    identifier_key,
    key_fingerprint,
    load_key,
    pseudonyms,
    warehouse_fingerprint,
)
from .progress import info, step
from .quality import check_quarantine_share
from .sources import read_source_text, source_path

#: Files this stage writes into the warehouse folder (besides ``<source>.parquet``).
PERSONS_FILE = "persons.parquet"
QUARANTINE_FILE = "quarantine.parquet"
REPORT_FILE = "linkage_report.json"
#: Sources whose persons make up the population (the CPR register extracts).
POPULATION_SOURCES = ("residence", "vital")
#: Metadata of simulated extracts (no person-level data), carried into the warehouse unchanged.
CARRIED_FILES = ("simulation.json", "truth.json")
#: Schema version of ``linkage_report.json``.
REPORT_SCHEMA_VERSION = 1

_TYPED = ("date", "month", "bool", "int", "float")
def _found_columns(names: Iterable[str], source: contract.Source) -> str:
    """Which of the contract's columns a file has, and how many others: never a header as it
    stands in the file (a header can be a CPR number, or the key in a file named by mistake)."""
    names = [str(n) for n in names]
    ours = [n for n in source.column_names if n in names]
    others = len(names) - len(ours)
    return (f"columns of the contract found: {', '.join(ours) if ours else 'none'}; "
            f"{others} other column(s)")


@dataclass
class SourceResult:
    """One source after pseudonymisation.

    ``table`` is the warehouse-form Arrow table (rows that passed), ``quarantine`` the rows that
    did not (``source``, ``file``, ``row`` 1-based, ``reason``, ``column``), ``persons``
    (``person_id``, ``birth_date``, ``sex``) one row per person in ``table``.
    """

    name: str
    file: str
    table: pa.Table
    quarantine: pa.Table
    persons: pa.Table
    rows_read: int
    dropped_columns: int = 0
    nine_digit_rows: int = 0

    @property
    def rows_written(self) -> int:
        return self.table.num_rows

    @property
    def rows_quarantined(self) -> int:
        return self.quarantine.num_rows


@dataclass
class CprPseudonyms:
    """Pseudonyms of a column of CPR numbers (see :func:`pseudonymise_cprs`).

    ``person_id`` and ``reason`` have one entry per input row; ``person_code`` is each row's
    index into ``persons`` (-1 where the CPR number is unusable); ``persons`` holds
    ``person_id``, ``birth_date`` (date32) and ``sex`` once per distinct normalised CPR number.
    """

    person_id: pa.Array
    reason: np.ndarray
    person_code: np.ndarray
    persons: pa.Table
    #: Rows whose CPR number has nine digits: typically a leading zero lost in a spreadsheet.
    nine_digit_rows: int = 0


def _arrow_text(values: pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    """A text column as one Arrow string array (zero-copy for Arrow-backed pandas columns)."""
    if isinstance(values, pd.Series):
        values = pa.array(values.array) if hasattr(values.array, "__arrow_array__") else \
            pa.array(values.astype(object).where(values.notna(), None).to_numpy(dtype=object),
                     type=pa.string(), from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type == pa.null():
        values = values.cast(pa.string())
    return values if values.type == pa.string() else values.cast(pa.string())


def _encode(values: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Codes (-1 for null) and distinct values of an Arrow array."""
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(values)
    codes = np.asarray(enc.indices.fill_null(-1), dtype=np.int64) if len(enc) else \
        np.zeros(0, dtype=np.int64)
    return codes, enc.dictionary


def _take(values: pa.Array, codes: np.ndarray) -> pa.Array:
    """``values[codes]`` with code -1 giving null."""
    if len(codes) == 0:
        return pa.array([], type=values.type)
    idx = pa.array(codes, type=pa.int64(), mask=codes < 0)
    return values.take(idx)


def pseudonymise_cprs(key: bytes, text: pd.Series | pa.Array) -> CprPseudonyms:
    """Pseudonyms for a column of raw CPR text, with the reason where none can be given.

    Distinct spellings are checked once (:func:`evaluation.cpr.parse`) and distinct normalised numbers
    hashed once (:func:`evaluation.keys.pseudonyms`); results are mapped back to rows by code.

    Parameters
    ----------
    key
        Key material (:func:`evaluation.keys.load_key`).
    text
        CPR numbers as delivered (with or without hyphen or blanks; missing allowed).

    Returns
    -------
    CprPseudonyms
        Per row the pseudonym (null where unusable) and the reason (None, or
        :data:`evaluation.cpr.MISSING`, ``MALFORMED`` or ``INVALID_DATE``); per person the
        birth date and sex.
    """
    import pyarrow.compute as pc

    codes, spellings = _encode(_arrow_text(text))
    parsed = cpr.parse(spellings)
    norm = pa.array(parsed["cpr"].to_numpy(), type=pa.string())
    reason_spelling = parsed["reason"].to_numpy()
    ok = np.equal(reason_spelling, None)
    # Several spellings (hyphen or not) of one number: hash each normalised number once.
    usable = pc.if_else(pa.array(ok, type=pa.bool_()), norm, pa.scalar(None, pa.string()))
    norm_codes, numbers = _encode(usable)
    ids = pseudonyms(key, numbers)
    person_code = np.append(norm_codes, -1)[codes]  # code -1 (missing) picks the appended -1
    reason = np.append(reason_spelling, cpr.MISSING)[codes]
    first = pd.Series(norm_codes).drop_duplicates()
    first = first[first >= 0]
    order = np.empty(len(numbers), dtype=np.int64)
    order[first.to_numpy()] = first.index.to_numpy()  # a spelling of each normalised number
    persons = pa.table({
        "person_id": ids,
        "birth_date": pa.array(parsed["birth_date"].to_numpy()[order].astype("datetime64[D]"),
                               type=pa.date32()),
        "sex": pa.array(parsed["sex"].to_numpy()[order], type=pa.string()),
    })
    nine = np.asarray(pc.fill_null(pc.match_substring_regex(norm, r"^[0-9]{9}$"), False), dtype=bool)
    nine_rows = int(np.append(nine, False)[codes].sum())
    return CprPseudonyms(_take(ids, person_code), reason, person_code, persons, nine_rows)


def _arrow_type(col: Column) -> pa.DataType:
    return {
        "date": pa.date32(),
        "bool": pa.bool_(),
        "int": pa.int64(),
        "float": pa.float64(),
    }.get(col.type, pa.string())


def type_column(text: pd.Series | pa.Array, col: Column) -> tuple[pa.Array, np.ndarray]:
    """Type one text column as :func:`evaluation.io.coerce` does.

    Surrounding blanks are removed first and an empty value counts as missing. Dates, months,
    booleans and numbers are typed by :func:`evaluation.io.coerce_column` once per distinct
    value and mapped back; text and category columns stay text.

    Returns
    -------
    values : pyarrow.Array
        The typed column (``date32`` for dates, ``YYYY-MM`` text for months).
    unparseable : numpy.ndarray
        Boolean per row: a value was given but cannot be typed (only for date, month, bool,
        int and float columns).
    """
    import pyarrow.compute as pc

    arr = pc.utf8_trim_whitespace(_arrow_text(text))
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    if col.type not in _TYPED:
        return arr, np.zeros(len(arr), dtype=bool)
    codes, distinct = _encode(arr)
    given = pd.Series(pd.arrays.ArrowStringArray(distinct)) if len(distinct) else \
        pd.Series([], dtype=pd.StringDtype("pyarrow"))
    typed = coerce_column(given, col)
    bad_distinct = typed.isna().to_numpy(dtype=bool)
    unparseable = np.append(bad_distinct, False)[codes]
    if col.type == "date":
        days = typed.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        typed_arr = pa.array(days, type=pa.date32(), mask=np.isnat(days))
    else:
        typed_arr = pa.array(typed.astype(object).where(typed.notna(), None).to_numpy(dtype=object),
                             type=_arrow_type(col), from_pandas=True)
    return _take(typed_arr, codes), unparseable


def identifier_pseudonyms(key: bytes, column: str, values: pa.Array) -> pa.Array:
    """Case or group numbers replaced by their keyed hash (32 hex characters; null stays null).

    The key is derived for the column (:func:`evaluation.keys.identifier_key`), so equal values
    link within and across sources (``case_id`` of charges and convictions) and nothing of the
    value itself reaches the warehouse, whatever it holds (a CPR number typed as a case number).
    """
    codes, distinct = _encode(values)
    return _take(pseudonyms(identifier_key(key, column), distinct), codes)


def column_checks(col: Column, values: pa.Array) -> list[tuple[str, np.ndarray]]:
    """Per row, the contract's rules one typed column breaks, as (reason, mask) pairs.

    - a free text column (``str``, not keyed-hashed) holding anything :func:`evaluation.cpr.parse`
      would accept as a CPR number, in any spelling, anywhere in the value: ``cpr_number <column>``;
    - a category column with a code outside the contract's list: ``unknown_category <column>``;
    - a number outside the contract's plausible range: ``out_of_range <column>``.
    """
    import pyarrow.compute as pc

    checks: list[tuple[str, np.ndarray]] = []
    if col.type == "str" and not col.pseudonymised:
        codes, distinct = _encode(values)
        checks.append((f"cpr_number {col.name}", np.append(cpr.contains_cpr(distinct), False)[codes]))
    if col.type == "category" and col.categories:
        known = pc.is_in(values, value_set=pa.array(col.categories, type=pa.string()))
        checks.append((f"unknown_category {col.name}", np.asarray(
            pc.and_(pc.is_valid(values), pc.invert(known)).fill_null(False), dtype=bool)))
    if col.type in ("int", "float") and (col.minimum is not None or col.maximum is not None):
        nums = np.asarray(values.to_numpy(zero_copy_only=False), dtype="float64")
        with np.errstate(invalid="ignore"):
            outside = np.zeros(len(nums), dtype=bool)
            if col.minimum is not None:
                outside |= nums < col.minimum
            if col.maximum is not None:
                outside |= nums > col.maximum
        checks.append((f"out_of_range {col.name}", outside))
    return checks


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
            f"required column missing ({_found_columns(frame.columns, src)}; map the file's own "
            f"names in the study file under [sources.{name}] columns)",
            file=file, column=missing[0],
        )
    wh = contract.source(name, "warehouse")
    dropped = sum(1 for c in frame.columns if c not in src.column_names)
    n = len(frame)
    ids = pseudonymise_cprs(key, frame["cpr"])

    reasons: list[str] = []
    columns: list[str] = []
    code = np.zeros(n, dtype=np.int16)
    for label in (cpr.MISSING, cpr.MALFORMED, cpr.INVALID_DATE):
        reasons.append(label)
        columns.append("cpr")
        code[(code == 0) & (ids.reason == label)] = len(reasons)
    arrays = {"person_id": ids.person_id}
    for col in wh.columns[1:]:
        arr, bad = type_column(frame[col.name], col)
        arrays[col.name] = identifier_pseudonyms(key, col.name, arr) if col.pseudonymised else arr
        for reason, mask in [(f"unparseable {col.name}", bad), *column_checks(col, arr)]:
            if mask.any():
                reasons.append(reason)
                columns.append(col.name)
                code[(code == 0) & mask] = len(reasons)
    keep = code == 0
    table = pa.table(arrays)
    if not keep.all():
        table = table.filter(pa.array(keep))
    quarantined = np.flatnonzero(~keep)
    qcode = (code[quarantined] - 1).astype(np.int64)
    # 1-based data rows; a reader that skipped rows says which file row each frame row is
    row_numbers = frame.attrs.get("row_numbers")
    rows = (np.asarray(row_numbers, dtype=np.int64)[quarantined] if row_numbers is not None
            else quarantined + 1)
    quarantine = pa.table({
        "source": pa.array(np.full(len(quarantined), name, dtype=object), type=pa.string()),
        "file": pa.array(np.full(len(quarantined), file, dtype=object), type=pa.string()),
        "row": pa.array(rows, type=pa.int64()),
        "reason": pa.array(np.asarray(reasons, dtype=object)[qcode], type=pa.string()),
        "column": pa.array(np.asarray(columns, dtype=object)[qcode], type=pa.string()),
    })
    # Persons of the written rows only: every person in the warehouse has a persons row, and
    # every persons row belongs to someone in a warehouse table.
    present = np.zeros(ids.persons.num_rows, dtype=bool)
    present[ids.person_code[keep]] = True
    persons = ids.persons.filter(pa.array(present))
    result = SourceResult(name, file, table, quarantine, persons, n, dropped, ids.nine_digit_rows)
    if result.rows_written + result.rows_quarantined != result.rows_read:  # pragma: no cover
        raise AssertionError(f"{name}: rows read != rows written + rows quarantined")
    return result


def refuse_key_copy(path: Path, key: bytes, source: str) -> None:
    """Refuse a source file that is the key or a copy of it (a study file naming the wrong file):
    reading it as a table would put the key into headers and messages."""
    try:
        small = path.is_file() and path.stat().st_size <= 4 * len(key) + 64
        if small and key in path.read_bytes():
            raise InputError(f"the file of source '{source}' holds the pseudonymisation key; name "
                             "the source's extract in the study file, never the key",
                             file=str(path))
    except OSError:
        return  # the reader says what is wrong with the file


def _check_out_folder(out: Path, raw: Path, key_file: Path, key: bytes, new_key: bool) -> None:
    """Refuse a warehouse folder that would lose or mix something, before any work is done."""
    if out.resolve() == raw.resolve() or raw.resolve() in out.resolve().parents:
        raise InputError("the output folder must not be the raw folder or inside it", file=str(out))
    check_replaceable(out, protected=[raw, key_file.absolute().parent])
    before = warehouse_fingerprint(out) if out.is_dir() else None
    now = key_fingerprint(key)
    if before is not None and before != now and not new_key:
        raise KeyMismatch(
            f"the warehouse {out} was made with another key (key fingerprint {before}; this key: "
            f"{now}). A new key gives new pseudonyms, so cohorts and results built on the "
            "warehouse would no longer link: use the study's key, or give --new-key to replace "
            "the warehouse (and then build the cohort and analyse again)")


def _locate(raw: Path, study: Any | None) -> list[tuple[str, Path, Any]]:
    """(source, file, study settings or None) of every source found, as validate finds them."""
    found = []
    for name in contract.SOURCE_NAMES:
        settings = study.sources.get(name) if study is not None else None
        path = source_path(raw, name, settings)
        if settings is not None and settings.file is not None:
            found.append((name, path, settings))
            continue
        if path is not None:
            candidates = [raw / f"{name}{ext}" for ext in contract.RAW_EXTENSIONS]
            several = [p.name for p in candidates if p.exists()]
            if len(several) > 1:
                raise InputError(
                    f"source '{name}' is there more than once ({', '.join(several)}); keep one, "
                    f"or name it in the study file under [sources.{name}] file",
                    file=str(raw),
                )
            found.append((name, path, settings))
    return found


def _aggregate_sources(raw: Path, study: Any | None) -> dict[str, tuple[str, pd.DataFrame]]:
    """Aggregate sources (no person: ``reported_crime``) found in ``raw``, in the contract's
    values; they pass into the warehouse without a pseudonym. A problem stops with file, row and
    column (the first of them, and how many there are)."""
    from .area.source import normalise

    found = {}
    for name in contract.AGGREGATE_SOURCE_NAMES:
        settings = study.sources.get(name) if study is not None else None
        path = source_path(raw, name, settings)  # as every other source is found
        if path is None:
            continue
        frame = read_source_text(path, name, settings)
        table, problems = normalise(frame)
        if problems:
            row, column, message = problems[0]
            more = f" ({len(problems) - 1} more problem(s); run `evaluation validate`)" if len(problems) > 1 else ""
            raise InputError(message + more, file=str(path), row=row, column=column)
        found[name] = (Path(path).name, table)
    return found


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 6)


def pseudonymise(
    raw_dir: str | os.PathLike[str],
    key_file: str | os.PathLike[str] | None,
    out: str | os.PathLike[str],
    study: Any | None = None,
    max_quarantine_share: float | None = None,
    *,
    new_key: bool = False,
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
        An :class:`evaluation.study.Study` whose ``[sources.X]`` give file names, column
        mappings and formats (:mod:`evaluation.sources`), or None.
    max_quarantine_share
        When given, a source with a larger share of its rows quarantined stops here, before
        anything is written (:func:`evaluation.quality.check_quarantine_share`, exit code 1).
    new_key
        Allow replacing a warehouse that was made with another key (its key fingerprint
        differs); refused otherwise, since a new key unlinks everything built on the old one.

    Returns
    -------
    dict
        The linkage report, as written to ``linkage_report.json``.
    """
    raw = Path(raw_dir)
    out = Path(out).absolute()
    with lock(out), reading_limits(getattr(study, "limits", None)):
        return _pseudonymise(raw, key_file, out, study, new_key, max_quarantine_share)


def _pseudonymise(raw: Path, key_file: Any, out: Path, study: Any | None,
                  new_key: bool, max_quarantine_share: float | None) -> dict[str, Any]:
    from .atomic import atomic_dir, write_json, write_parquet

    key = load_key(key_file, forbidden_dirs=[out])
    if not raw.is_dir():
        raise InputError("the raw folder does not exist or is not a folder", file=str(raw))
    _check_out_folder(out, raw, Path(key_file), key, new_key)
    located = _locate(raw, study)
    aggregates = _aggregate_sources(raw, study)
    if not located:
        raise InputError(
            "no source table found (expected files such as charges.csv or residence.parquet; "
            f"sources: {', '.join(contract.SOURCE_NAMES)})",
            file=str(raw),
        )

    results: list[SourceResult] = []
    for name, path, settings in located:
        with step(f"pseudonymise {name} ({path.name})"):
            refuse_key_copy(path, key, name)
            try:
                frame = read_source_text(path, name, settings)
                # the file's name as outputs show it (a name can hold a CPR number)
                results.append(pseudonymise_frame(frame, name, key, cpr.mask(path.name)))
            except EvaluationError:
                raise  # its message is masked when it is made
            except (MemoryError, KeyboardInterrupt):
                raise
            except Exception as exc:  # noqa: BLE001 - any library error, said without its text
                # a library's message may quote a value or a header: name the kind of error only
                raise EvaluationError(f"{path}: could not be pseudonymised ({type(exc).__name__}) "
                                      "while reading and typing the table") from None
            del frame

    import pyarrow.compute as pc

    # One row per person: sources overlap, and a person's birth date and sex must agree
    # everywhere (they do by construction, the pseudonym being a function of the CPR number).
    all_persons = pa.concat_tables([r.persons for r in results]).combine_chunks()
    person_codes, _ = _encode(all_persons["person_id"].combine_chunks())
    _, first = np.unique(person_codes, return_index=True)
    persons_table = all_persons.take(pa.array(first))
    back = pa.array(first[person_codes])
    for column in ("birth_date", "sex"):
        if not all_persons[column].equals(all_persons[column].take(back)):  # pragma: no cover
            raise EvaluationError(f"two different values of {column} for one pseudonym")
    persons_table = persons_table.sort_by("person_id")

    pop_sources = [r for r in results if r.name in POPULATION_SOURCES]
    population = (pa.concat_arrays([r.persons["person_id"].combine_chunks() for r in pop_sources])
                  if pop_sources else None)

    sources_report: dict[str, Any] = {}
    for r in results:
        ids = r.persons["person_id"]
        in_pop = (int(pc.sum(pc.is_in(ids, value_set=population)).as_py() or 0)
                  if population is not None else None)
        reasons = r.quarantine["reason"].to_pandas().value_counts().sort_index()
        entry = {
            "file": r.file,
            "rows_read": r.rows_read,
            "rows_written": r.rows_written,
            "rows_quarantined": r.rows_quarantined,
            "quarantined_by_reason": {str(k): int(v) for k, v in reasons.items()},
            "persons": len(ids),
            "persons_in_population": in_pop,
            "share_in_population": _share(in_pop, len(ids)) if in_pop is not None else None,
            "columns_not_carried": r.dropped_columns,
            "malformed_cpr_with_nine_digits": r.nine_digit_rows,
        }
        assert entry["rows_read"] == entry["rows_written"] + entry["rows_quarantined"]
        sources_report[r.name] = entry

    q_table = pa.concat_tables([r.quarantine for r in results])
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
        "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "pseudonym": "HMAC-SHA256(key, normalised CPR), first 16 bytes, 32 lowercase hex characters",
        "key_fingerprint": key_fingerprint(key),
        "population_sources": [r.name for r in pop_sources],
        "sources_missing": [n for n in contract.SOURCE_NAMES if n not in sources_report],
        "totals": totals,
        "sources": sources_report,
        "max_quarantine_share": max_quarantine_share,
    }
    if max_quarantine_share is not None:
        check_quarantine_share(sources_report, max_quarantine_share)

    # simulated extracts (marked by simulation.json) keep their parameters and true effects
    carried = ([n for n in CARRIED_FILES if (raw / n).is_file()]
               if (raw / CARRIED_FILES[0]).is_file() else [])
    report["carried_files"] = carried
    report["aggregate_sources"] = {name: {"file": file, "rows": len(table)}
                                   for name, (file, table) in aggregates.items()}

    with step(f"write warehouse {out}"), \
            atomic_dir(out, kind="warehouse", protected=[raw, Path(key_file).absolute().parent]) as tmp:
        for r in results:
            write_parquet(tmp / f"{r.name}{contract.WAREHOUSE_EXTENSION}", r.table)
        write_parquet(tmp / PERSONS_FILE, persons_table)
        write_parquet(tmp / QUARANTINE_FILE, q_table)
        write_json(tmp / REPORT_FILE, report)
        for name in carried:
            shutil.copyfile(raw / name, tmp / name)
        for name, (_, table) in aggregates.items():
            write_parquet(tmp / f"{name}{contract.WAREHOUSE_EXTENSION}", table)
    if totals["rows_quarantined"]:
        info(f"{totals['rows_quarantined']} row(s) quarantined: see {out / QUARANTINE_FILE}")
    return report


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The linkage report as a short plain-text table (what the command prints)."""
    header = (f"{'source':20s} {'read':>10s} {'written':>10s} {'quarant.':>9s} {'persons':>9s} "
              f"{'in pop.':>8s}")
    lines = [header]
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
        if e.get("malformed_cpr_with_nine_digits"):
            lines.append(f"  {name}: {e['malformed_cpr_with_nine_digits']} CPR number(s) with nine "
                         "digits: a leading zero lost where the file was saved from a spreadsheet? "
                         "Export the column as text")
    if report["sources_missing"]:
        lines.append(f"sources not found: {', '.join(report['sources_missing'])}")
    return lines


__all__ = [
    "SourceResult",
    "column_checks",
    "identifier_pseudonyms",
    "pseudonymise",
    "pseudonymise_cprs",
    "pseudonymise_frame",
    "summary_lines",
    "type_column",
]
