"""Validation of source tables against the data contract (:mod:`evaluation.contract`).

:func:`validate_folder` checks every table it finds in a folder, in raw form (``cpr``; CSV,
Parquet, Excel or SAS files named ``<source>.<ext>`` or named in the study file) or in warehouse
form (``<source>.parquet`` with ``person_id``, plus ``persons.parquet``). The form is detected per
table from its columns. Validation reads; it never changes, drops or writes data.

Checks, each reported per offending row with its file, 1-based data row, column and value:

==========================  ========  ==========================================================
check                       severity  what
==========================  ========  ==========================================================
``unreadable_row``          error     a CSV row with the wrong number of fields
``missing_column``          error     a column of the contract is not in the table
``duplicate_column``        error     a column name occurs twice (after mapping)
``unknown_column``          warning   a column that is not in the contract (ignored downstream)
``wrong_form``              error     a table in the other form than ``--form`` asks for
``cpr_in_warehouse``        error     a warehouse table holds a ``cpr`` column
``wrong_type``              error     a warehouse column stored with the wrong Parquet type
``missing_value``           error     empty cell in a column that may not be empty
``missing_cpr``             error     empty CPR number (raw form)
``malformed_cpr``           error     not 10 digits after removing a hyphen (raw form)
``invalid_cpr_birth_date``  error     digits 1-6 with the century digit are not a date
``bad_person_id``           error     not 32 lowercase hexadecimal characters (warehouse)
``bad_date``                error     not an ISO date YYYY-MM-DD
``bad_month``               error     not a month YYYY-MM
``bad_number``              error     not a (finite) number, or not whole where whole is needed
``below_minimum``           error     a number below the contract's minimum (negative hours)
``above_maximum``           error     a number above the plausible maximum (hours in a month)
``cpr_number``              error     a free column (case, group, offence, municipality code)
                                      holds a CPR number, in any spelling the parser accepts
``bad_bool``                error     not a yes/no value
``unknown_category``        error     a code outside the contract's list
``end_before_start``        error     the later date of a pair comes first (reported on it)
``before_birth``            error     a date before the person's birth date
``after_death``             error     a date after the person's death date (vital table)
``duplicate_key``           error     the contract key repeats; the later row is reported with
                                      the row of its first occurrence
``unknown_person``          warning   a person_id that is not in ``persons.parquet``
``several_files``           error     more than one file for one source
``quarantine_share``        error     (with a maximum share) more of a table's rows would be
                                      quarantined than the study's max_quarantine_share allows
``missing_source``          error     no file for a source the cohort needs (contacts, residence,
                                      vital); a warning for the other sources
``not_a_source``            warning   a table file whose name is not a source (not checked)
==========================  ========  ==========================================================

The CPR modulus-11 check is never applied: the CPR Office has issued numbers without it since
2007. No CPR number is ever shown: a CPR problem is described by the value's shape ("value of 9
characters, 9 digits"), and any other shown value that looks like a CPR number is masked.

Births and deaths: the birth date comes from the row's CPR number (raw form) or from
``persons.parquet`` (warehouse form); the death date from the vital table of the same folder.
Every date column of a person-level table is compared with them, except the end date of a
spell (the ``date_order`` pairs whose end may be open), which is only compared through its
start. A month counts as before birth when its last day is, and as after death when its first
day is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import contract
from .contract import Column, Source
from .cpr import contains_cpr, mask
from .errors import InputError
from .io import (
    TEXT,
    BadRows,
    as_text,
    parse_bools,
    parse_dates,
    parse_months,
    parse_numbers,
    read_table,
    reading_limits,
)
from .sources import read_source, source_path

Severity = Literal["error", "warning"]
Form = Literal["raw", "warehouse"]

#: Files a warehouse folder holds besides the sources; not tables to check.
AUXILIARY_TABLES = ("quarantine",)

_PERSON_ID = r"[0-9a-f]{32}"


@dataclass
class Finding:
    """One kind of problem in one column (or one file) of one table.

    ``rows`` are 1-based data rows (None for a problem of the whole file or column), ``values``
    the offending values as they stand (quoted; a CPR number is described, never shown; other
    values are masked where they look like one) and ``details`` an optional second text per row
    (e.g. "first seen in row 17" for a duplicate).
    """

    check: str
    severity: Severity
    message: str
    column: str | None = None
    rows: np.ndarray | None = None
    values: Any = None  # indexable like rows: shown value per row (formatted when asked for)
    details: Any = None

    @property
    def count(self) -> int:
        return 1 if self.rows is None else len(self.rows)

    def lines(self, file: str, limit: int | None) -> Iterator[dict[str, Any]]:
        """The first ``limit`` problems of this finding as dicts (row, column, value, detail)."""
        if self.rows is None:
            if limit is not None and limit <= 0:
                return
            yield {"file": file, "row": None, "column": self.column, "value": None, "detail": None,
                   "check": self.check, "severity": self.severity, "message": self.message}
            return
        n = len(self.rows) if limit is None else min(limit, len(self.rows))
        for i in range(n):
            yield {
                "file": file,
                "row": int(self.rows[i]),
                "column": self.column,
                "value": None if self.values is None else self.values[i],
                "detail": None if self.details is None else self.details[i],
                "check": self.check,
                "severity": self.severity,
                "message": self.message,
            }


@dataclass
class TableReport:
    """The findings of one table file."""

    file: str
    source: str | None
    form: Form | None = None
    rows: int | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(f.count for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(f.count for f in self.findings if f.severity == "warning")


@dataclass
class Report:
    """Everything :func:`validate_folder` found, per table file."""

    folder: Path
    tables: list[TableReport] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(t.errors for t in self.tables)

    @property
    def warnings(self) -> int:
        return sum(t.warnings for t in self.tables)

    @property
    def ok(self) -> bool:
        """True when nothing fatal was found (warnings allowed)."""
        return self.errors == 0

    def problems(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every problem as a dict (file, row, column, value, detail, check, severity, message),
        at most ``limit`` per check and file (None: all)."""
        for t in self.tables:
            for group in _by_check(t.findings):
                left = limit
                for f in group:
                    yield from f.lines(t.file, left)
                    if left is not None:
                        left = max(0, left - f.count)

    def render(self, limit: int | None = 20) -> Iterator[str]:
        """Text lines: each problem on its own line, then a summary per file and overall."""
        for t in self.tables:
            for group in _by_check(t.findings):
                total = sum(f.count for f in group)
                shown = 0
                for f in group:
                    left = None if limit is None else limit - shown
                    for line in f.lines(t.file, left):
                        yield _format_line(line)
                        shown += 1
                if limit is not None and total > shown:
                    yield (f"{'':8}{t.file}: ... and {total - shown} more '{group[0].check}' "
                           "problems")
            if t.rows is None:
                continue  # a note about the folder, not a table that was read
            verdict = "OK" if t.errors == 0 else "FAILED"
            counts = ", ".join(f"{g[0].check} {sum(f.count for f in g)}" for g in _by_check(t.findings))
            yield (f"-- {t.file}: {t.rows} rows, {t.form} form: {t.errors} errors, "
                   f"{t.warnings} warnings: {verdict}" + (f" ({counts})" if counts else ""))
        checked = sum(1 for t in self.tables if t.rows is not None)
        if self.ok:
            yield (f"Validation passed: {checked} tables checked in {self.folder}: no errors, "
                   f"{self.warnings} warnings.")
        else:
            n_files = len({t.file for t in self.tables if t.errors})
            yield (f"Validation failed: {self.errors} errors in {n_files} files, {checked} tables "
                   f"checked in {self.folder} ({self.warnings} warnings).")

    def to_dict(self, limit: int | None = 20) -> dict[str, Any]:
        """The report as a JSON-ready dict: counts per file and check, and the problems
        (at most ``limit`` per check and file)."""
        files = []
        for t in self.tables:
            checks = []
            for group in _by_check(t.findings):
                checks.append({"check": group[0].check, "severity": group[0].severity,
                               "count": sum(f.count for f in group)})
            files.append({"file": t.file, "source": t.source, "form": t.form, "rows": t.rows,
                          "errors": t.errors, "warnings": t.warnings, "checks": checks})
        return {
            "folder": str(self.folder),
            "ok": self.ok,
            "errors": self.errors,
            "warnings": self.warnings,
            "max_per_check": limit,
            "files": files,
            "problems": [_unquoted(p) for p in self.problems(limit)],
        }


def _unquoted(problem: dict[str, Any]) -> dict[str, Any]:
    """A problem for JSON: the value as it stands, without the quotes the text report adds."""
    value = problem["value"]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        import ast

        problem = {**problem, "value": ast.literal_eval(value)}
    return problem


def _by_check(findings: list[Finding]) -> list[list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.check, []).append(f)
    return list(groups.values())


def _format_line(p: dict[str, Any]) -> str:
    where = [p["file"]]
    if p["row"] is not None:
        where.append(f"row {p['row']}")
    if p["column"] is not None:
        where.append(f"column '{p['column']}'")
    text = p["message"]
    if p["value"] is not None:
        text += f": {p['value']}"
    if p["detail"] is not None:
        text += f" ({p['detail']})"
    return f"{p['severity'].upper():8}{', '.join(where)}: {text} [{p['check']}]"


# --------------------------------------------------------------------------------------------
# Showing values


def _show(values: pd.Series, limit: int = 60) -> np.ndarray:
    """Offending values as quoted text, CPR-like numbers masked, long values cut."""
    text = as_text(values).astype("object")
    out = np.empty(len(text), dtype=object)
    holds_cpr = contains_cpr(text.to_numpy(dtype=object))
    for i, v in enumerate(text.tolist()):
        if v is None or v is pd.NA:
            out[i] = "(empty)"
            continue
        if holds_cpr[i]:
            out[i] = "(value hidden: it holds a CPR number)"
            continue
        v = mask(str(v))
        if len(v) > limit:
            v = v[: limit - 3] + "..."
        out[i] = repr(v)
    return out


def _shape(values: pd.Series) -> np.ndarray:
    """Describe values without showing them: 'value of 9 characters, 9 digits'."""
    text = as_text(values).astype("object")
    out = np.empty(len(text), dtype=object)
    for i, v in enumerate(text.tolist()):
        if v is None or v is pd.NA or not str(v).strip():
            out[i] = "(empty)"
        else:
            v = str(v)
            digits = sum(ch.isdigit() for ch in v)
            out[i] = f"value of {len(v)} characters, {digits} digits"
            if digits == 9 and len(v.strip()) == 9:
                out[i] += ": a leading zero lost (saved from a spreadsheet?); export the CPR column as text"
    return out


class _Lazy:
    """Values of the offending rows, formatted only for the rows that are printed."""

    def __init__(self, values: pd.Series, fmt) -> None:
        self.values = values.reset_index(drop=True)
        self.fmt = fmt
        self._cache: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, i: int):
        if i not in self._cache:
            start = i - i % 64
            chunk = self.fmt(self.values.iloc[start : start + 64])
            for j, v in enumerate(chunk):
                self._cache[start + j] = v
        return self._cache[i]


# --------------------------------------------------------------------------------------------
# Finding files


@dataclass
class _TableFile:
    path: Path
    display: str
    source: str | None  # None: not a source of the contract
    mapping: dict[str, str] = field(default_factory=dict)
    settings: Any = None  # the study's SourceSettings of the source, if any


def _discover(folder: Path, study) -> tuple[list[_TableFile], list[TableReport]]:
    """Table files of the folder, by source; and reports for folder-level problems."""
    by_source: dict[str, list[_TableFile]] = {}
    notes: list[TableReport] = []
    extensions = {e.lower() for e in contract.RAW_EXTENSIONS}
    named: set[Path] = set()
    settings = getattr(study, "sources", {}) if study is not None else {}
    for name, s in settings.items():
        if s.file is None:
            continue
        path = source_path(folder, name, s)  # as pseudonymise finds it; not found is an error
        named.add(path.resolve())
        display = os.path.relpath(path, folder) if path.resolve().is_relative_to(folder.resolve()) else str(path)
        by_source.setdefault(name, []).append(_TableFile(path, display, name, dict(s.columns), s))
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or p.suffix.lower() not in extensions or p.resolve() in named:
            continue
        stem = p.stem
        if stem in contract.SOURCE_NAMES or stem in contract.AGGREGATE_SOURCE_NAMES or stem == "persons":
            mapping = dict(settings[stem].columns) if stem in settings else {}
            own = settings.get(stem)
            if stem == "persons" and p.suffix.lower() != ".parquet":
                notes.append(TableReport(p.name, None, findings=[Finding(
                    "not_a_source", "warning",
                    "the persons table exists in the warehouse only (persons.parquet); not checked")]))
                continue
            by_source.setdefault(stem, []).append(_TableFile(p, p.name, stem, mapping, own))
        elif stem in AUXILIARY_TABLES:
            continue
        else:
            notes.append(TableReport(p.name, None, findings=[Finding(
                "not_a_source", "warning",
                f"not a source of the data contract (expected one of {', '.join(contract.SOURCE_NAMES)}); not checked")]))
    files: list[_TableFile] = []
    # persons and vital first: their birth and death dates are needed to check the others.
    order = ("persons", "vital", *(n for n in contract.SOURCE_NAMES if n != "vital"),
             *contract.AGGREGATE_SOURCE_NAMES)
    for name in order:
        files.extend(by_source.get(name, []))
    if not files:
        raise InputError(
            "no tables found: expected files named <source>.csv (or .parquet, .xlsx, .sas7bdat) "
            f"for the sources {', '.join(contract.SOURCE_NAMES)}",
            file=str(folder),
        )
    missing = []
    for name in contract.SOURCE_NAMES:
        several = by_source.get(name, [])
        if len(several) > 1:
            notes.append(TableReport(f"{name}.*", name, findings=[Finding(
                "several_files", "error",
                f"more than one file for source '{name}': {', '.join(t.display for t in several)}; keep one")]))
        elif not several:
            missing.append(name)
    needed = [n for n in missing if n in contract.COHORT_SOURCES]
    if needed:
        notes.append(TableReport(f"{folder.name}/", None, findings=[Finding(
            "missing_source", "error",
            f"no file for the sources {', '.join(needed)}, which the cohort needs "
            f"(expected {needed[0]}.csv or another of {', '.join(contract.RAW_EXTENSIONS)}, or "
            f"[sources.{needed[0]}] file in the study file)")]))
    others = [n for n in missing if n not in contract.COHORT_SOURCES]
    if others:
        notes.append(TableReport(f"{folder.name}/", None, findings=[Finding(
            "missing_source", "warning", f"no file for the sources {', '.join(others)}; not checked")]))
    return files, notes


def _peek_columns(tf: _TableFile) -> list[str]:
    """Column names of a table file without reading its rows (where the format allows)."""
    suffix = tf.path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            names = list(pq.read_schema(tf.path).names)
        elif suffix == ".csv":
            from .io import _read_header, detect_encoding

            names = _read_header(tf.path, detect_encoding(tf.path, 1 << 16))[0]
        else:
            return []
    except Exception:  # noqa: BLE001 - the full read reports the file's problem
        return []
    return [tf.mapping.get(n.strip(), n.strip()) for n in names]


def _form_of(columns: list[str] | pd.Index, file_name: str) -> Form | None:
    if file_name == "persons":
        return "warehouse"
    if "person_id" in columns:
        return "warehouse"
    if "cpr" in columns:
        return "raw"
    return None


# --------------------------------------------------------------------------------------------
# Checking one table


@dataclass
class _People:
    """Birth and death dates by person key (normalised CPR or person_id), with hash indexes
    built once and used for every table."""

    birth_index: pd.Index | None = None
    birth: np.ndarray | None = None
    death_index: pd.Index | None = None
    death: np.ndarray | None = None
    death_form: str | None = None  # the vital table's form: its keys only match that form's


def _lookup(keys: pd.Series, index: pd.Index, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` at the position of each key in ``index`` (NaT where absent), and whether found."""
    pos = index.get_indexer(keys.to_numpy(dtype=object))
    found = pos >= 0
    out = np.full(len(keys), np.datetime64("NaT"), dtype="datetime64[ns]")
    out[found] = values[pos[found]]
    return out, found


@dataclass
class _Encoded:
    """A column as codes into its distinct values (-1 where missing), so that each check runs
    once per distinct value instead of once per row. Typed columns are not encoded
    (``codes`` None): their checks run on the rows."""

    values: pd.Series
    codes: np.ndarray | None

    @classmethod
    def of(cls, column: pd.Series) -> _Encoded:
        if isinstance(column.dtype, pd.CategoricalDtype):
            cats = column.cat.categories
            return cls(as_text(pd.Series(cats)).reset_index(drop=True),
                       column.cat.codes.to_numpy(dtype=np.int64))
        if isinstance(column.dtype, pd.StringDtype) or column.dtype == object:
            codes, uniques = pd.factorize(as_text(column), use_na_sentinel=True)
            return cls(pd.Series(uniques, dtype=TEXT), np.asarray(codes, dtype=np.int64))
        return cls(column.reset_index(drop=True), None)

    def expand(self, per_value, fill) -> np.ndarray:
        """Per-row values from per-distinct-value ones (``fill`` where the cell is missing)."""
        arr = np.asarray(per_value)
        if self.codes is None:
            return arr
        return np.append(arr, np.array([fill], dtype=arr.dtype))[self.codes]

    def blank(self) -> np.ndarray:
        """Rows that are empty (missing, or only blanks)."""
        v = self.values
        if isinstance(v.dtype, pd.StringDtype) or v.dtype == object:
            text = as_text(v)
            per = (text.isna() | (text.str.strip() == "")).to_numpy(dtype=bool, na_value=True)
        else:
            per = v.isna().to_numpy(dtype=bool)
        return self.expand(per, True)


class _TableCheck:
    """The checks of one table (see the module docstring)."""

    def __init__(self, frame: pd.DataFrame, schema: Source, form: Form, people: _People) -> None:
        self.frame = frame
        self.schema = schema
        self.form = form
        self.people = people
        n = len(frame)
        rn = frame.attrs.get("row_numbers")
        self.rownum = np.asarray(rn, dtype=np.int64) if rn is not None else np.arange(1, n + 1, dtype=np.int64)
        self.findings: list[Finding] = []
        self.parsed: dict[str, np.ndarray] = {}  # date and month columns as datetime64[ns]
        self.encoded: dict[str, _Encoded] = {}
        # The person of each row: a code into id_keys (normalised CPR or person_id), -1 unusable.
        self.id_codes: np.ndarray | None = None
        self.id_keys: pd.Series | None = None
        self.birth: np.ndarray | None = None

    def add(self, check: str, column: str | None, mask: np.ndarray, message: str, *,
            values: pd.Series | None = None, fmt=None, details: np.ndarray | None = None,
            severity: Severity = "error") -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        shown = None
        if values is not None:
            shown = _Lazy(values.iloc[idx], fmt or _show)
        if isinstance(details, _Lazy):
            details = _Lazy(details.values.iloc[idx], details.fmt)
        elif details is not None:
            details = np.asarray(details)[idx]
        self.findings.append(Finding(check, severity, message, column, self.rownum[idx], shown, details))

    def run(self) -> list[Finding]:
        frame, schema = self.frame, self.schema
        present = [c for c in schema.columns if c.name in frame.columns]
        for col in schema.columns:
            if col.name not in frame.columns:
                self.findings.append(Finding("missing_column", "error", "required column is missing", col.name))
        for name in frame.attrs.get("duplicate_columns") or []:
            self.findings.append(Finding("duplicate_column", "error",
                                         "occurs more than once in the header (only the first is checked)", name))
        known = set(schema.column_names)
        for position, name in enumerate(frame.columns, start=1):
            if name not in known:
                if self.form == "warehouse" and name == "cpr":
                    self.findings.append(Finding("cpr_in_warehouse", "error",
                                                 "a warehouse table may not hold CPR numbers", name))
                else:  # named by position: a header is never shown (it could be anything)
                    self.findings.append(Finding("unknown_column", "warning",
                                                 "not in the data contract (ignored)", f"#{position}"))
        for col in present:
            self._column(col)
        self._date_order()
        self._birth_death()
        self._duplicates()
        return self.findings

    # -- one column ------------------------------------------------------------------------
    def _wrong_type(self, col: Column, values: pd.Series) -> bool:
        """Check the stored type of a column: a warehouse column must carry its Parquet type
        (dates as dates, months as YYYY-MM text, numbers as numbers, booleans as booleans);
        a raw column may also be text. Returns True when the values cannot be checked one by
        one (neither text nor a type that can hold the column's values)."""
        dtype = values.dtype
        is_text = isinstance(dtype, pd.StringDtype | pd.CategoricalDtype) or dtype == object
        is_date = pd.api.types.is_datetime64_any_dtype(dtype)
        is_number = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        is_bool = pd.api.types.is_bool_dtype(dtype)
        if col.type == "date":
            ok, usable, expected = is_date, is_date or is_text, "a date (date32 or timestamp)"
        elif col.type == "month":
            ok, usable, expected = is_text, is_text or is_date, "text (YYYY-MM)"
        elif col.type in ("float", "int"):
            ok, usable, expected = is_number, is_number or is_text, "a number"
        elif col.type == "bool":
            ok, usable, expected = is_bool, is_bool or is_text, "boolean"
        else:
            ok, usable, expected = is_text, is_text, "text"
        if ok or (self.form == "raw" and usable):
            return False
        self.findings.append(Finding("wrong_type", "error", f"stored as {dtype}, expected {expected}", col.name))
        return not usable

    def _column(self, col: Column) -> None:
        values = self.frame[col.name]
        if self._wrong_type(col, values):
            return
        enc = _Encoded.of(values)
        self.encoded[col.name] = enc
        u = enc.values
        blank = enc.blank()
        name = col.name
        if col.type == "id":
            self._id(col, enc, blank)
            return
        if not col.nullable:
            self.add("missing_value", name, blank, "empty, but this column may not be empty")
        if col.type in ("date", "month"):
            parsed_u = (parse_dates(u) if col.type == "date" else parse_months(u)).to_numpy(dtype="datetime64[ns]")
            parsed = enc.expand(parsed_u, np.datetime64("NaT"))
            self.parsed[name] = parsed
            what = "not a date (expected YYYY-MM-DD)" if col.type == "date" else "not a month (expected YYYY-MM)"
            self.add("bad_date" if col.type == "date" else "bad_month", name, ~blank & np.isnat(parsed), what,
                     values=values)
        elif col.type in ("float", "int"):
            nums = enc.expand(parse_numbers(u).to_numpy(dtype="float64", na_value=np.nan), np.nan)
            finite = np.isfinite(nums)
            bad = ~blank & ~finite
            if col.type == "int":
                bad |= finite & (nums != np.round(nums))
            self.add("bad_number", name, bad, "not a whole number" if col.type == "int" else "not a number",
                     values=values)
            if col.minimum is not None:
                with np.errstate(invalid="ignore"):
                    low = finite & (nums < col.minimum)
                what = "negative" if col.minimum == 0 else f"below the minimum {col.minimum:g}"
                self.add("below_minimum", name, low, what, values=values)
            if col.maximum is not None:
                with np.errstate(invalid="ignore"):
                    high = finite & (nums > col.maximum)
                self.add("above_maximum", name, high, f"above the plausible maximum {col.maximum:g}",
                         values=values)
        elif col.type == "bool":
            ok = enc.expand(parse_bools(u).notna().to_numpy(dtype=bool), False)
            self.add("bad_bool", name, ~blank & ~ok, "not a yes/no value (1/0, true/false, ja/nej)", values=values)
        elif col.type == "str" and not (col.pseudonymised and self.form == "warehouse"):
            # a free column (case, group, offence or municipality code) must not carry a CPR
            # number in any spelling; in the warehouse case and group numbers are keyed hashes
            holds = enc.expand(contains_cpr(u), False)
            self.add("cpr_number", name, holds, "holds a CPR number (pseudonymise would quarantine "
                     "the row; case and group numbers are keyed-hashed)", values=values)
        elif col.type == "category":
            known = enc.expand(as_text(u).str.strip().isin(col.categories).to_numpy(dtype=bool, na_value=False), False)
            self.add("unknown_category", name, ~blank & ~known,
                     f"unknown code (expected one of {', '.join(col.categories)})", values=values)

    def _id(self, col: Column, enc: _Encoded, blank: np.ndarray) -> None:
        from . import cpr

        name = col.name
        values = self.frame[name]
        u = as_text(enc.values)
        if name == "cpr":
            parsed = cpr.parse(u)
            reason = enc.expand(parsed["reason"].to_numpy(dtype=object), cpr.MISSING)
            reason = np.where(blank, cpr.MISSING, reason)
            self.add(cpr.MISSING, name, reason == cpr.MISSING, "CPR number is missing")
            self.add(cpr.MALFORMED, name, reason == cpr.MALFORMED,
                     "malformed CPR number (not 10 digits)", values=values, fmt=_shape)
            self.add(cpr.INVALID_DATE, name, reason == cpr.INVALID_DATE,
                     "CPR number whose first six digits are not a birth date", values=values, fmt=_shape)
            usable_u = parsed["reason"].isna().to_numpy()
            # Spellings with and without the hyphen are the same person: codes of the normalised number.
            norm_codes_u, keys = pd.factorize(pd.Series(parsed["cpr"].to_numpy(dtype=object)).where(usable_u, None))
            self.id_keys = pd.Series(np.asarray(keys, dtype=object), dtype="object")
            self.id_codes = enc.expand(np.where(usable_u, norm_codes_u, -1), -1).astype(np.int64)
            self.birth = enc.expand(parsed["birth_date"].to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT"))
        else:  # person_id
            text = u.str.strip()
            good_u = text.str.fullmatch(_PERSON_ID).to_numpy(dtype=bool, na_value=False)
            good = enc.expand(good_u, False)
            self.add("missing_value", name, blank, "person_id is missing")
            self.add("bad_person_id", name, ~blank & ~good,
                     "not a pseudonym (32 lowercase hexadecimal characters)", values=values, fmt=_shape)
            if enc.codes is not None and bool((text == u).all()):
                codes_u = np.arange(len(u), dtype=np.int64)  # the distinct values are the keys
                keys = u
            else:
                codes_u, keys = pd.factorize(text, use_na_sentinel=True)
            self.id_keys = pd.Series(np.asarray(keys, dtype=object), dtype="object")
            self.id_codes = enc.expand(np.where(good_u, np.asarray(codes_u, dtype=np.int64), -1), -1).astype(np.int64)
            if self.people.birth_index is not None:
                birth_k, known_k = _lookup(self.id_keys, self.people.birth_index, self.people.birth)
                self.birth = _take(birth_k, self.id_codes, np.datetime64("NaT"))
                if self.schema.name != "persons":
                    absent = ~_take(known_k, self.id_codes, True)
                    self.add("unknown_person", name, absent, "person_id not in persons.parquet",
                             severity="warning")

    # -- across columns ------------------------------------------------------------------------
    def _date_order(self) -> None:
        for earlier, later in self.schema.date_order:
            if earlier not in self.parsed or later not in self.parsed:
                continue
            a, b = self.parsed[earlier], self.parsed[later]
            bad = ~np.isnat(a) & ~np.isnat(b) & (b < a)
            if bad.any():
                self.add("end_before_start", later, bad, f"is before {earlier}", values=self.frame[later],
                         details=_Lazy(self.frame[earlier],
                                       lambda s, e=earlier: [f"{e} is {v}" for v in _show(s)]))

    def _compared_columns(self) -> list[str]:
        spell_ends = {later for _, later in self.schema.date_order if self.schema.column(later).nullable}
        return [c for c in self.schema.date_columns if c in self.parsed and c not in spell_ends]

    def _birth_death(self) -> None:
        if self.id_codes is None or self.schema.name == "persons":
            return
        death = None
        if (self.people.death_index is not None and len(self.people.death_index)
                and self.people.death_form == self.form):
            death_k, _ = _lookup(self.id_keys, self.people.death_index, self.people.death)
            death = _take(death_k, self.id_codes, np.datetime64("NaT"))
        for name in self._compared_columns():
            col = self.schema.column(name)
            first = self.parsed[name]
            last = first
            if col.type == "month":
                enc = self.encoded[name]
                if enc.codes is not None:  # once per distinct month
                    first_u = parse_months(enc.values)
                    last_u = (first_u + pd.offsets.MonthEnd(0)).to_numpy(dtype="datetime64[ns]")
                    last = enc.expand(last_u, np.datetime64("NaT"))
                else:
                    last = (pd.Series(first) + pd.offsets.MonthEnd(0)).to_numpy(dtype="datetime64[ns]")
            if self.birth is not None:
                bad = ~np.isnat(last) & ~np.isnat(self.birth) & (last < self.birth)
                # Neither the birth date nor the distance to it is shown: it is part of the CPR.
                self.add("before_birth", name, bad, "is before the person's birth date", values=self.frame[name])
            if death is not None and not (self.schema.name == "vital" and name == "death_date"):
                bad = ~np.isnat(first) & ~np.isnat(death) & (first > death)
                if bad.any():
                    days = (first - death).astype("timedelta64[D]").astype(np.int64)
                    self.add("after_death", name, bad, "is after the person's death date", values=self.frame[name],
                             details=_Lazy(pd.Series(days), lambda s: [f"by {d} day{'' if d == 1 else 's'}" for d in s]))

    def _key_codes(self, name: str) -> np.ndarray:
        enc = self.encoded.get(name)
        if enc is not None and enc.codes is not None:
            return np.where(enc.codes < 0, len(enc.values), enc.codes)
        if name in self.parsed:
            values = self.parsed[name].astype(np.int64)
        else:
            values = as_text(self.frame[name]).str.strip().astype("object")
        return np.asarray(pd.factorize(values, use_na_sentinel=False)[0], dtype=np.int64)

    def _duplicates(self) -> None:
        key = self.schema.key
        if not key or any(k not in self.frame.columns for k in key) or self.id_codes is None:
            return
        codes = self.id_codes.copy()
        usable = codes >= 0
        for k in key[1:]:
            c = self._key_codes(k)
            width = int(c.max()) + 1 if len(c) else 1
            if codes.max(initial=0) >= (np.iinfo(np.int64).max // width) - 1:
                codes = np.asarray(pd.factorize(codes)[0], dtype=np.int64)
            codes = codes * width + c
        idx = np.flatnonzero(usable)
        if not len(idx):
            return
        sub = codes[idx]
        # A stable sort keeps equal keys in row order, so each run starts at its first
        # occurrence. Tables sorted by person (the usual case) make this sort almost linear.
        order = np.argsort(sub, kind="stable")
        ordered = sub[order]
        same = np.zeros(len(ordered), dtype=bool)
        same[1:] = ordered[1:] == ordered[:-1]
        if not same.any():
            return
        run_start = np.maximum.accumulate(np.where(same, 0, np.arange(len(ordered))))
        later = idx[order[same]]
        first = idx[order[run_start[same]]]
        mask = np.zeros(len(codes), dtype=bool)
        mask[later] = True
        first_rows = np.zeros(len(codes), dtype=np.int64)
        first_rows[later] = self.rownum[first]
        self.add("duplicate_key", "+".join(key), mask, f"repeats the key ({', '.join(key)}) of an earlier row",
                 details=_Lazy(pd.Series(first_rows), lambda s: [f"first seen in row {r}" for r in s]))


def _take(per_key: np.ndarray, codes: np.ndarray, fill) -> np.ndarray:
    """Per-row values from per-person ones (``fill`` where the person is unknown)."""
    per_key = np.asarray(per_key)
    return np.append(per_key, np.array([fill], dtype=per_key.dtype))[codes]


# --------------------------------------------------------------------------------------------
# The folder


def validate_folder(
    folder: str | os.PathLike[str],
    *,
    study: str | os.PathLike[str] | None = None,
    form: Form | None = None,
    max_quarantine_share: float | None = None,
) -> Report:
    """Check every table in ``folder`` against the data contract.

    Parameters
    ----------
    folder
        A folder of raw extracts or a warehouse.
    study
        A study file whose ``[sources.X]`` tables name a source's own file and column names.
    form
        Expected form of every table (``"raw"`` or ``"warehouse"``); None detects it per table
        from its columns (``cpr`` or ``person_id``).
    max_quarantine_share
        When given (raw extracts about to be pseudonymised): problems whose rows
        pseudonymisation quarantines (:data:`evaluation.quality.QUARANTINED_CHECKS`) are not
        fatal while they touch at most this share of a source's rows; they are reported as
        warnings saying so. Above the share they stay errors.

    Returns
    -------
    Report
        Every problem found; ``report.ok`` is False when any is fatal.

    Raises
    ------
    InputError
        The folder does not exist, holds no tables, or a table cannot be read at all.
    """

    folder = Path(folder)
    if not folder.exists():
        raise InputError("folder not found", file=str(folder))
    if not folder.is_dir():
        raise InputError("is not a folder", file=str(folder))
    loaded_study = None
    if study is not None:
        from .study import load_study

        loaded_study = load_study(study)
    with reading_limits(loaded_study.limits if loaded_study is not None else None):
        return _validate_files(folder, loaded_study, form, max_quarantine_share)


def _validate_files(folder: Path, loaded_study: Any, form: Form | None,
                    max_quarantine_share: float | None = None) -> Report:
    from .progress import step

    files, notes = _discover(folder, loaded_study)

    forms = {tf.path: _form_of(_peek_columns(tf), tf.source or "") for tf in files}
    votes = [f for f in forms.values() if f is not None]
    default_form: Form = form or (max(set(votes), key=votes.count) if votes else "raw")

    report = Report(folder)
    people = _People()
    for tf in files:
        with step(f"validating {tf.display}"):
            bad_rows = BadRows()
            frame = read_source(tf.path, tf.source, tf.settings, bad_rows=bad_rows) \
                if tf.source in contract.SOURCE_NAMES else read_table(tf.path, tf.mapping, bad_rows=bad_rows)
            table_form = _form_of(frame.columns, tf.source or "") or default_form
            if tf.source == "persons":
                table_form = "warehouse"
            tr = TableReport(tf.display, tf.source, table_form, len(frame) + len(bad_rows.rows))
            for col in tf.mapping:
                if col not in frame.columns and tf.mapping[col] not in frame.columns:
                    tr.findings.append(Finding("unknown_column", "warning",
                                               "the study file maps this column, but the file does not have it", col))
            if bad_rows.rows:
                rows = np.asarray(bad_rows.rows, dtype=np.int64)
                details = np.array([f"{a} fields where the header has {e}"
                                    for e, a in zip(bad_rows.expected, bad_rows.actual, strict=True)], dtype=object)
                tr.findings.append(Finding("unreadable_row", "error", "row not read", None, rows, None, details))
            if form is not None and _form_of(frame.columns, tf.source or "") not in (None, form):
                tr.findings.append(Finding("wrong_form", "error",
                                           f"the table is in {table_form} form, but {form} form was asked for"))
            if tf.source in contract.AGGREGATE_SOURCE_NAMES:
                tr.findings.extend(_check_aggregate(frame))
                report.tables.append(tr)
                continue
            schema = contract.source(tf.source, table_form)
            check = _TableCheck(frame, schema, table_form, people)
            tr.findings.extend(check.run())
            if max_quarantine_share is not None and table_form == "raw":
                _tolerate_quarantined(tr, max_quarantine_share)
            _remember_people(people, check, tf.source)
            report.tables.append(tr)
    report.tables.extend(notes)
    if any(t.form == "warehouse" for t in report.tables) and people.birth_index is None:
        report.tables.append(TableReport("persons.parquet", "persons", findings=[Finding(
            "missing_source", "warning",
            "no persons table: birth dates and person references not checked")]))
    return report


def _check_aggregate(frame: pd.DataFrame) -> list[Finding]:
    """Findings of an aggregate source (``reported_crime``): one per column and problem."""
    from .area.source import normalise

    _, problems = normalise(frame)
    grouped: dict[tuple[str, str], list[int | None]] = {}
    for row, column, message in problems:
        grouped.setdefault((column, message), []).append(row)
    findings = []
    for (column, message), rows in grouped.items():
        if rows == [None]:
            findings.append(Finding("reported_crime", "error", message, column))
        else:
            findings.append(Finding("reported_crime", "error", message, column,
                                    np.asarray(rows, dtype=np.int64)))
    return findings


def _tolerate_quarantined(tr: TableReport, max_share: float) -> None:
    """Row problems that pseudonymisation quarantines become warnings while they touch at most
    ``max_share`` of the table's rows (see :func:`validate_folder`)."""
    from .quality import QUARANTINED_CHECKS, fix_hint, quarantine_reason

    found = [f for f in tr.findings if f.check in QUARANTINED_CHECKS and f.rows is not None
             and f.severity == "error"]
    if not found or not tr.rows:
        return
    rows = np.unique(np.concatenate([f.rows for f in found]))
    share = len(rows) / tr.rows
    if share > max_share:
        main = max(found, key=lambda f: f.count)
        reason = quarantine_reason(main.check, main.column)
        nine = main.check == "malformed_cpr" and main.values is not None and any(
            "leading zero" in str(main.values[i]) for i in range(min(len(main.rows), 50)))
        tr.findings.append(Finding(
            "quarantine_share", "error",
            f"{len(rows)} of {tr.rows} rows of source '{tr.source}' ({share:.1%}) would be "
            f"quarantined, more than max_quarantine_share {max_share:g} allows (most: "
            f"{main.count} x {main.check} in '{main.column}'); "
            f"{fix_hint(tr.source or '', reason, int(nine))}, or raise [study] max_quarantine_share"))
        return
    for f in found:
        f.severity = "warning"
        f.message += f" (row quarantined: {share:.1%} of the rows, within max_quarantine_share {max_share:g})"
    # a problem only of rows that are quarantined anyway (e.g. a repeated key) does not reach
    # the warehouse either
    for f in tr.findings:
        if f.severity == "error" and f.rows is not None and len(f.rows) \
                and np.isin(f.rows, rows).all():
            f.severity = "warning"
            f.message += " (only rows that are quarantined)"


def _remember_people(people: _People, check: _TableCheck, source: str | None) -> None:
    """Keep birth dates (persons) and death dates (vital) for the tables checked after them."""
    if check.id_codes is None or check.id_keys is None:
        return
    codes = check.id_codes
    ok = codes >= 0
    if source == "persons" and "birth_date" in check.parsed:
        births = check.parsed["birth_date"]
        # The first row of each person (a repeated person is reported as a duplicate key).
        first = np.full(len(check.id_keys), -1, dtype=np.int64)
        rows = np.flatnonzero(ok)[::-1]
        first[codes[rows]] = rows
        have = first >= 0
        people.birth_index = pd.Index(check.id_keys[have].to_numpy(dtype=object))
        people.birth = births[first[have]]
    elif source == "vital" and "death_date" in check.parsed:
        deaths = check.parsed["death_date"]
        has = ok & ~np.isnat(deaths)
        per = pd.Series(deaths[has]).groupby(codes[has], sort=False).min()
        people.death_index = pd.Index(check.id_keys.iloc[per.index.to_numpy()].to_numpy(dtype=object))
        people.death = per.to_numpy(dtype="datetime64[ns]")
        people.death_form = check.form


__all__ = ["Finding", "Report", "TableReport", "validate_folder"]
