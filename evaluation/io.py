"""Reading source tables: CSV (UTF-8, UTF-16 or Latin-1, comma or semicolon), Parquet, Excel,
SAS7BDAT.

Two ways to read a table:

- :func:`read_raw_text` returns every column as text (``string[pyarrow]``), exactly as delivered,
  with the source's own column names mapped onto ours. Typing is a separate, explicit step
  (:func:`coerce`) so that validation can report the offending value as it stands in the file.
- :func:`read_table` keeps the types a typed format carries (Parquet dates stay dates, numbers
  stay numbers; CSV is text) and never raises on a ragged CSV row: it hands the rows it could not
  read back to the caller. Validation uses it, so that a warehouse of millions of rows is checked
  without a round trip through text.

Row numbers in messages are 1-based data rows: the first record after a CSV header (or the first
row under an Excel header) is row 1. No reader puts a cell's content in an error message: a cell
may hold a CPR number.

Hostile or broken files are refused before they are read whole (:class:`ReadLimits`, set per
study in ``[limits]`` and put in force with :func:`reading_limits`): a file larger than the size
limit, a CSV line (record) longer than the line limit, or more columns than the column limit
ends in one message naming the file and the setting. CSV is parsed in blocks of a fixed size
(pyarrow's reader), so memory stays bounded by the limits, not by the file.
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import csv
import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from .contract import RAW_EXTENSIONS, WAREHOUSE_EXTENSION, Column, Source
from .errors import InputError

TRUE_WORDS = {"1", "true", "t", "yes", "y", "ja", "j", "sand"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "nej", "falsk"}

TEXT = pd.StringDtype("pyarrow")
_CHUNK = 1 << 24


def detect_encoding(path: str | os.PathLike[str], sample_bytes: int | None = None) -> str:
    """The text encoding of a CSV file: ``'utf-8'``, ``'utf-16'`` or ``'latin-1'``.

    A file that starts with a UTF-16 byte-order mark is UTF-16. Otherwise the file is UTF-8 when
    all of it decodes as UTF-8 (a BOM is allowed), and Latin-1 when it does not (Latin-1 decodes
    any byte, which is how Danish exports from older systems come: "Århus" as byte 0xC5).
    ``sample_bytes`` limits the check to the start of the file (default: the whole file).

    Raises
    ------
    InputError
        The file holds NUL bytes outside UTF-16, i.e. it is not a text file (for example an Excel
        workbook named ``.csv``).
    """
    path = Path(path)
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    read = 0
    with open(path, "rb") as fh:
        first = True
        while True:
            size = _CHUNK if sample_bytes is None else min(_CHUNK, sample_bytes - read)
            chunk = fh.read(size) if size > 0 else b""
            if first:
                first = False
                if chunk[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                    return "utf-16"
            if not chunk:
                break
            read += len(chunk)
            if b"\x00" in chunk:
                raise InputError(
                    "is not a text (CSV) file: it holds binary content; export it as CSV "
                    "(UTF-8 or Latin-1) or give it its real extension (.xlsx, .parquet, .sas7bdat)",
                    file=str(path),
                )
            if utf8:
                try:
                    decoder.decode(chunk, final=False)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8 and sample_bytes is None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    return "utf-8" if utf8 else "latin-1"


def detect_delimiter(header_line: str) -> str:
    """';' when the header has more semicolons than commas, else ','."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


@dataclass
class BadRows:
    """Rows of a CSV file that could not be read (wrong number of fields).

    ``rows`` are 1-based data rows; ``expected``/``actual`` the number of fields.
    """

    rows: list[int] = field(default_factory=list)
    expected: list[int] = field(default_factory=list)
    actual: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ReadLimits:
    """Limits on what a source file may be, with the study file's names for them (``[limits]``).

    The defaults are far above any register extract (a CSV record of the contract is well under
    1 KiB, a source has at most seven columns) and far below what would exhaust a server.
    """

    #: Largest source file (``max_file_mb``), in bytes.
    max_file_bytes: int = 20 * 1024**3
    #: Longest CSV line or record, header included (``max_line_kb``), in bytes.
    max_line_bytes: int = 1024**2
    #: Most columns in a table (``max_columns``).
    max_columns: int = 500


_LIMITS: contextvars.ContextVar[ReadLimits | None] = contextvars.ContextVar("limits", default=None)


def _limits() -> ReadLimits:
    return _LIMITS.get() or ReadLimits()


@contextlib.contextmanager
def reading_limits(limits: ReadLimits | None) -> Iterator[None]:
    """Put ``limits`` in force for every reader called in the block (None: the defaults)."""
    token = _LIMITS.set(limits)
    try:
        yield
    finally:
        _LIMITS.reset(token)


def _mb(n: int) -> str:
    return f"{n / 1024**2:,.0f} MB" if n >= 1024**2 else f"{n / 1024:,.0f} KB"


def check_file_size(path: Path) -> None:
    """Refuse a file larger than the size limit in force, before anything reads it."""
    limit = _limits().max_file_bytes
    size = path.stat().st_size if path.is_file() else sum(
        p.stat().st_size for p in path.rglob("*") if p.is_file())
    if size > limit:
        raise InputError(f"is {_mb(size)}, more than the limit of {_mb(limit)} for one source "
                         "file (setting [limits] max_file_mb of the study file)", file=str(path))


def _header_bytes(path: Path, limits: ReadLimits) -> bytes:
    """The first line of a file, read at most up to the line limit (never the whole file)."""
    with open(path, "rb") as fh:
        head = fh.read(limits.max_line_bytes + 1)
    end = head.find(b"\n")
    if end < 0 and len(head) > limits.max_line_bytes:
        fields = max(head.count(b","), head.count(b";"), head.count(b"\t")) + 1
        if fields > limits.max_columns:
            raise InputError(f"has more than {limits.max_columns} columns (setting [limits] "
                             "max_columns of the study file); is it the right file?",
                             file=str(path))
        raise InputError(f"its first line is longer than {_mb(limits.max_line_bytes)} (setting "
                         "[limits] max_line_kb of the study file); is it a CSV file?",
                         file=str(path))
    return head if end < 0 else head[:end]


def _check_line_lengths(path: Path, limits: ReadLimits) -> None:
    """Refuse a file with a line longer than the line limit, scanning it in fixed chunks."""
    longest, run = 0, 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            breaks = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            if len(breaks) == 0:
                run += len(chunk)
            else:
                gaps = np.diff(breaks) - 1
                longest = max(longest, run + int(breaks[0]), int(gaps.max()) if len(gaps) else 0)
                run = len(chunk) - int(breaks[-1]) - 1
            if max(longest, run) > limits.max_line_bytes:
                raise InputError(f"has a line (record) longer than {_mb(limits.max_line_bytes)} "
                                 "(setting [limits] max_line_kb of the study file)",
                                 file=str(path))


def _read_header(path: Path, encoding: str, delimiter: str | None = None) -> tuple[list[str], str]:
    limits = _limits()
    raw = _header_bytes(path, limits)
    if encoding == "utf-16":  # the line ends with the first byte of a two-byte newline
        raw = raw + b"\x00" if len(raw) % 2 else raw
    header = raw.decode(encoding, errors="replace").lstrip("\ufeff").rstrip("\r\n\x00")
    if not header.strip():
        raise InputError("the file is empty or has no header row", file=str(path))
    delimiter = delimiter or detect_delimiter(header)
    names = next(csv.reader([header], delimiter=delimiter))
    if len(names) > limits.max_columns:
        raise InputError(f"has {len(names)} columns, more than the limit of {limits.max_columns} "
                         "(setting [limits] max_columns of the study file)", file=str(path))
    return [h.strip() for h in names], delimiter


def _read_csv(path: Path, bad_rows: BadRows | None = None, delimiter: str | None = None) -> pd.DataFrame:
    """Read a CSV file as text (``delimiter``, default: detected from the header). Ragged rows
    raise, or are collected in ``bad_rows``."""
    import pyarrow.csv as pacsv

    limits = _limits()
    _header_bytes(path, limits)  # a hostile first line is refused before the file is scanned
    _check_line_lengths(path, limits)
    encoding = detect_encoding(path)
    names, delimiter = _read_header(path, encoding, delimiter)
    # The reader needs unique names; duplicates get a suffix here and are reported by the caller.
    unique = _unique_names(names)

    def read(use_threads: bool, handler) -> pa.Table:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding=encoding,
                column_names=unique,
                skip_rows=1,
                # a record must fit in one block (quoted line breaks can make one longer than
                # any line): longer ones fail
                block_size=max(_CHUNK, limits.max_line_bytes + 2),
                use_threads=use_threads,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=handler
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in unique},
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )

    found: list[tuple[int | None, int, int]] = []

    def collect(row) -> str:
        found.append((row.number, row.expected_columns, row.actual_columns))
        return "skip"

    try:
        table = read(True, collect)
        if found:
            # Physical row numbers are only known to a single-threaded reader: read again.
            found.clear()
            table = read(False, collect)
    except pa.ArrowInvalid as exc:
        # pyarrow's message may quote a cell: say what went wrong without it.
        if "straddl" in str(exc) or "block" in str(exc):
            raise InputError(f"has a line (record) longer than {_mb(limits.max_line_bytes)} "
                             "(setting [limits] max_line_kb of the study file)",
                             file=str(path)) from None
        kind = "invalid text in the file's encoding" if "UTF8" in str(exc) else "malformed CSV"
        raise InputError(f"cannot be read as CSV ({kind})", file=str(path)) from None
    frame = table.to_pandas(types_mapper=lambda t: TEXT if t == pa.string() else None)
    if not len(frame.columns) and len(unique):
        frame = pd.DataFrame({n: pd.Series([], dtype=TEXT) for n in unique})
    # Record numbers counted by the reader include the header (record 1): data row = number - 1.
    bad = sorted((n - 1 if n is not None else -1, e, a) for n, e, a in found)
    if bad:
        if bad_rows is None:
            row, expected, actual = bad[0]
            more = f" (and {len(bad) - 1} more such rows)" if len(bad) > 1 else ""
            raise InputError(
                f"has {actual} fields where the header has {expected}{more}",
                file=str(path),
                row=row if row > 0 else None,
            )
        bad_rows.rows.extend(r for r, _, _ in bad)
        bad_rows.expected.extend(e for _, e, _ in bad)
        bad_rows.actual.extend(a for _, _, a in bad)
        kept = np.setdiff1d(np.arange(1, len(frame) + len(bad) + 1), [r for r, _, _ in bad])
        frame.index = pd.RangeIndex(len(frame))
        frame.attrs["row_numbers"] = kept[: len(frame)]
    frame.columns = names
    return frame


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0)
        seen[n] = k + 1
        out.append(n if k == 0 else f"{n}\x00{k + 1}")
    return out


def _arrow_to_frame(table: pa.Table) -> pd.DataFrame:
    """A pyarrow table to pandas, keeping types: strings as ``string[pyarrow]``, dates as
    ``datetime64``, integers with nulls as ``Int64``."""

    def mapper(t: pa.DataType):
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return TEXT
        if pa.types.is_integer(t):
            return pd.Int64Dtype()
        if pa.types.is_boolean(t):
            return pd.BooleanDtype()
        return None

    columns = []
    for col in table.columns:
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if pa.types.is_large_string(col.type):
            col = col.cast(pa.string())
        columns.append(col)
    table = pa.table(columns, names=table.column_names)
    return table.to_pandas(types_mapper=mapper, date_as_object=False, ignore_metadata=True)


def _format_cell(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, pd.Timestamp | np.datetime64):
        v = pd.Timestamp(v)
        if pd.isna(v):
            return None
        return v.strftime("%Y-%m-%d") if v == v.normalize() else v.isoformat(sep=" ")
    if hasattr(v, "isoformat"):  # datetime.date / datetime.datetime
        import datetime as dt

        if isinstance(v, dt.datetime):
            return v.strftime("%Y-%m-%d") if v.time() == dt.time(0) else v.isoformat(sep=" ")
        return v.isoformat()
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return None
        return f"{v:.0f}" if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))
    if isinstance(v, bytes):
        return v.decode("latin-1")
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def as_text(col: pd.Series) -> pd.Series:
    """One column as text, the way a person would type it: dates as YYYY-MM-DD, 3.0 as "3"."""
    if isinstance(col.dtype, pd.StringDtype):
        return col.astype(TEXT)
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = as_text(pd.Series(col.cat.categories)).to_numpy(dtype=object, na_value=None)
        codes = col.cat.codes.to_numpy()
        text = np.append(cats, np.array([None], dtype=object))[codes]
        return pd.Series(text, index=col.index, dtype=TEXT)
    if pd.api.types.is_datetime64_any_dtype(col):
        values = pd.Series(col)
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        midnight = values.isna() | (values == values.dt.normalize())
        text = values.dt.strftime("%Y-%m-%d")
        if not bool(midnight.all()):
            text = text.where(midnight, values.astype(str))
        return text.astype(TEXT)
    if pd.api.types.is_float_dtype(col) or pd.api.types.is_integer_dtype(col) or pd.api.types.is_bool_dtype(col):
        arr = pa.array(col, from_pandas=True)
        if pa.types.is_floating(arr.type):
            arr = pa.array(np.where(np.isfinite(col.to_numpy(dtype="float64", na_value=np.nan)), col, np.nan), from_pandas=True)
        return pd.Series(arr.cast(pa.string()), index=col.index).astype(TEXT)
    kind = pd.api.types.infer_dtype(col, skipna=True)
    if kind in ("string", "empty"):
        return col.astype(TEXT)
    if kind in ("integer", "floating", "mixed-integer-float", "boolean"):
        return as_text(pd.Series(pd.array(col.tolist()), index=col.index))
    if kind in ("datetime", "datetime64", "date"):
        return as_text(pd.Series(pd.to_datetime(col), index=col.index))
    return col.map(_format_cell, na_action=None).astype(TEXT)  # mixed cells, one by one


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({str(name): as_text(frame[name]) for name in frame.columns}, index=frame.index)
    out.attrs.update(frame.attrs)
    return out


def read_table(
    path: str | os.PathLike[str],
    mapping: dict[str, str] | None = None,
    *,
    bad_rows: BadRows | None = None,
    sheet: str | None = None,
    delimiter: str | None = None,
) -> pd.DataFrame:
    """Read one table file, keeping the types its format carries.

    ``sheet`` names the Excel sheet to read (default: the first); ``delimiter`` the CSV field
    separator (default: detected from the header, comma or semicolon; a tab file needs
    ``delimiter = "\t"``).

    CSV and Excel come as text (``string[pyarrow]``); Parquet and SAS7BDAT keep their types
    (dates as ``datetime64``, numbers as numbers, text as ``string[pyarrow]``). Column names are
    stripped and mapped with ``mapping`` (their name -> our name). Duplicate column names are
    kept, with ``frame.attrs["duplicate_columns"]`` listing them (the later copies are dropped
    from the frame). When rows of a CSV file are skipped because they have the wrong number of
    fields (only when ``bad_rows`` is given; otherwise that raises),
    ``frame.attrs["row_numbers"]`` holds the 1-based data row of every row of the frame.

    Raises
    ------
    InputError
        The file is missing, of an unknown type, or cannot be read (named, without its content).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path))
    if path.is_dir() and path.suffix.lower() != ".parquet":
        raise InputError("is a folder, not a table file", file=str(path))
    suffix = path.suffix.lower()
    check_file_size(path)
    try:
        if suffix == ".csv":
            frame = _read_csv(path, bad_rows, delimiter)
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            if path.is_file() and pq.ParquetFile(path).metadata.num_columns > _limits().max_columns:
                raise InputError(f"has more than {_limits().max_columns} columns (setting "
                                 "[limits] max_columns of the study file)", file=str(path))
            frame = _arrow_to_frame(pq.read_table(path))
        elif suffix in (".xlsx", ".xls"):
            frame = _as_text(pd.read_excel(path, dtype=object, sheet_name=sheet or 0))
        elif suffix == ".sas7bdat":
            frame = pd.read_sas(path, format="sas7bdat", encoding="latin-1")
            frame = pd.DataFrame(
                {c: (frame[c].astype(TEXT) if frame[c].dtype == object else frame[c]) for c in frame.columns}
            )
        else:
            raise InputError(
                f"unknown file type '{suffix}' (expected one of {', '.join(RAW_EXTENSIONS)})",
                file=str(path),
            )
    except InputError:
        raise
    except ImportError as exc:
        raise InputError(
            f"cannot be read: a package is missing ({exc}); save the table as .xlsx or CSV",
            file=str(path),
        ) from None
    except Exception as exc:  # noqa: BLE001 - a reader library's own error on a damaged file
        raise InputError(
            f"cannot be read as {suffix.lstrip('.')} ({type(exc).__name__}); is it damaged or of "
            "another type?",
            file=str(path),
        ) from None
    names = [str(c).strip() for c in frame.columns]
    if mapping:
        names = [mapping.get(n, n) for n in names]
    frame.columns = range(len(names))
    seen: set[str] = set()
    keep, dups = [], []
    for i, n in enumerate(names):
        if n in seen:
            dups.append(n)
        else:
            seen.add(n)
            keep.append(i)
    attrs = dict(frame.attrs)
    frame = frame.iloc[:, keep]
    frame.columns = [names[i] for i in keep]
    frame.attrs.update(attrs)
    frame.attrs["duplicate_columns"] = sorted(set(dups))
    return frame


def read_raw_text(path: str | os.PathLike[str], mapping: dict[str, str] | None = None,
                  **read_options) -> pd.DataFrame:
    """Read one table file with every column as text, mapping its column names onto ours.

    ``mapping`` maps the file's own column names to canonical names (from the study file);
    names it does not mention are kept as they are (after stripping surrounding blanks).

    Raises
    ------
    InputError
        The file is missing or unreadable, a CSV row has the wrong number of fields, or a column
        name occurs twice (after mapping).
    """
    frame = read_table(path, mapping, **read_options)
    dups = frame.attrs.get("duplicate_columns") or []
    if dups:
        raise InputError("appears more than once in the header", file=str(path), column=dups[0])
    out = _as_text(frame)
    out.attrs.pop("duplicate_columns", None)
    return out


def find_table(folder: str | os.PathLike[str], name: str, extensions=RAW_EXTENSIONS) -> Path | None:
    """The file of source ``name`` in ``folder`` (``<name>.<ext>``), or None.

    The extension is matched without regard to case (``charges.CSV`` is found).
    """
    folder = Path(folder)
    for ext in extensions:
        p = folder / f"{name}{ext}"
        if p.exists():
            return p
    if folder.is_dir():
        wanted = {e.lower() for e in extensions}
        for p in sorted(folder.iterdir()):
            if p.stem == name and p.suffix.lower() in wanted:
                return p
    return None


_ISO_DATE = r"\s*\d{4}-\d{2}-\d{2}\s*"


def parse_dates(text: pd.Series) -> pd.Series:
    """ISO dates (YYYY-MM-DD) to datetime64; anything else becomes NaT (validation reports it).

    A column that is already of a date type is returned as ``datetime64`` unchanged.
    """
    if pd.api.types.is_datetime64_any_dtype(text):
        return pd.Series(text, copy=False)
    s = text.astype(TEXT) if not isinstance(text.dtype, pd.StringDtype) else text
    s = s.str.strip()
    ok = s.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).astype(bool)
    out = pd.to_datetime(s.where(ok).astype("object"), format="%Y-%m-%d", errors="coerce")
    return pd.Series(out, index=text.index)


def parse_months(text: pd.Series) -> pd.Series:
    """YYYY-MM months to the first day of the month (datetime64); anything else becomes NaT."""
    if pd.api.types.is_datetime64_any_dtype(text):
        values = pd.Series(text, copy=False)
        return values.where(values == values.dt.to_period("M").dt.start_time)
    s = text.astype(TEXT) if not isinstance(text.dtype, pd.StringDtype) else text
    s = s.str.strip()
    ok = s.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").fillna(False).astype(bool)
    out = pd.to_datetime(s.where(ok).astype("object"), format="%Y-%m", errors="coerce")
    return pd.Series(out, index=text.index)


def parse_bools(text: pd.Series) -> pd.Series:
    """Yes/no words (Danish or English, 1/0, true/false) to a nullable boolean."""
    if pd.api.types.is_bool_dtype(text):
        return text.astype("boolean")
    low = as_text(text).str.strip().str.lower()
    out = pd.Series(pd.NA, index=text.index, dtype="boolean")
    out[low.isin(TRUE_WORDS).fillna(False).astype(bool)] = True
    out[low.isin(FALSE_WORDS).fillna(False).astype(bool)] = False
    return out


def parse_numbers(text: pd.Series) -> pd.Series:
    """Numbers to float64; anything else (and infinity) becomes NaN.

    A decimal comma is accepted when the value has no point ("7,5" = 7.5), as Danish
    spreadsheets write it; thousands separators are not.
    """
    if pd.api.types.is_numeric_dtype(text) and not pd.api.types.is_bool_dtype(text):
        out = pd.Series(text, copy=False).astype("float64")
    else:
        s = as_text(text).str.strip()
        comma = s.str.fullmatch(r"[-+]?\d+,\d+").fillna(False).astype(bool)
        s = s.where(~comma, s.str.replace(",", ".", regex=False))
        out = pd.to_numeric(s.astype("object"), errors="coerce").astype("float64")
    return out.where(np.isfinite(out.to_numpy()))


def coerce_column(values: pd.Series, col: Column) -> pd.Series:
    """Type one column of the contract (see :func:`coerce`)."""
    if col.type == "date":
        return parse_dates(values)
    if col.type == "month":
        return parse_months(values).dt.strftime("%Y-%m").astype(TEXT)
    if col.type == "bool":
        return parse_bools(values)
    if col.type == "int":
        nums = parse_numbers(values)
        return nums.where(nums == np.round(nums)).astype("Int64")
    if col.type == "float":
        return parse_numbers(values)
    return as_text(values).str.strip().astype(TEXT)


def coerce(frame: pd.DataFrame, source: Source) -> pd.DataFrame:
    """Type the contract's columns of a frame: dates, months (kept as 'YYYY-MM' text),
    booleans, numbers, categories and text. Unparseable values become missing; run
    validation first to report them. Columns outside the contract are left out.

    Accepts text frames (:func:`read_raw_text`) and typed frames (:func:`read_table`) alike.
    """
    out = {col.name: coerce_column(frame[col.name], col)
           for col in source.columns if col.name in frame.columns}
    return pd.DataFrame(out, index=frame.index)


def read_warehouse(folder: str | os.PathLike[str], name: str, columns: list[str] | None = None,
                   as_of: dt.date | None = None) -> pd.DataFrame:
    """Read warehouse table ``name`` (``<folder>/<name>.parquet``, a file or a dataset folder).

    With ``as_of`` (the analysis date) nothing dated after it is read: the cut of
    :mod:`evaluation.asof`, the same the cohort builder applies.
    """
    path = Path(folder) / f"{name}{WAREHOUSE_EXTENSION}"
    if not path.exists():
        raise InputError(f"warehouse table '{name}' not found", file=str(path))
    try:
        if as_of is not None:
            from .asof import read_as_of

            return read_as_of(path, name, columns, as_of)
        return pd.read_parquet(path, columns=columns)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot be read as Parquet ({type(exc).__name__})", file=str(path)) from None
    except (KeyError, ValueError) as exc:
        raise InputError(f"cannot be read: {exc}", file=str(path)) from None


__all__ = [
    "BadRows",
    "ReadLimits",
    "as_text",
    "check_file_size",
    "coerce",
    "coerce_column",
    "detect_delimiter",
    "detect_encoding",
    "find_table",
    "parse_bools",
    "parse_dates",
    "parse_months",
    "parse_numbers",
    "read_raw_text",
    "read_table",
    "read_warehouse",
    "reading_limits",
]
