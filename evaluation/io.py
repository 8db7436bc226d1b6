"""Reading source tables: CSV (UTF-8 or Latin-1, comma or semicolon), Parquet, Excel, SAS7BDAT.

Readers return every column as text (``string[pyarrow]``), exactly as delivered, with the source's
own column names mapped onto ours. Typing is a separate, explicit step (:func:`coerce`) so that
validation can report the offending value as it stands in the file. Row numbers in messages are
1-based data rows: the first record after a CSV header is row 1.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa

from .contract import RAW_EXTENSIONS, WAREHOUSE_EXTENSION, Source
from .errors import InputError

TRUE_WORDS = {"1", "true", "t", "yes", "y", "ja", "j", "sand"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "nej", "falsk"}


def detect_encoding(path: Path, sample_bytes: int = 1 << 20) -> str:
    """'utf-8' if the file decodes as UTF-8 (a BOM is allowed), else 'latin-1'."""
    with open(path, "rb") as fh:
        head = fh.read(sample_bytes)
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sample's end is still UTF-8.
        if exc.start >= len(head) - 3 and len(head) == sample_bytes:
            return "utf-8"
        return "latin-1"


def detect_delimiter(header_line: str) -> str:
    """';' when the header has more semicolons than commas, else ','."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _read_csv(path: Path) -> pd.DataFrame:
    import pyarrow.csv as pacsv

    encoding = detect_encoding(path)
    with open(path, encoding=encoding, errors="replace") as fh:
        header = fh.readline().lstrip("\ufeff").rstrip("\r\n")
    if not header.strip():
        raise InputError("the file is empty or has no header row", file=str(path))
    delimiter = detect_delimiter(header)
    names = [h.strip().strip('"') for h in header.split(delimiter)]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding=encoding, column_names=names, skip_rows=1, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        # pyarrow names the CSV line ("Row #N") for ragged rows; keep its words, name the file.
        raise InputError(f"cannot be read as CSV: {exc}", file=str(path)) from None
    return table.to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow"))


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_datetime64_any_dtype(col):
            text = col.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(col):
            # 3.0 -> "3", keep 2.5 as "2.5"
            text = col.map(lambda v: None if pd.isna(v) else (f"{v:.0f}" if float(v).is_integer() else repr(float(v))))
        else:
            text = col.map(lambda v: None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))
        out[str(name)] = text.astype(pd.StringDtype("pyarrow"))
    return pd.DataFrame(out)


def read_raw_text(path: str | os.PathLike[str], mapping: dict[str, str] | None = None) -> pd.DataFrame:
    """Read one table file with every column as text, mapping its column names onto ours.

    ``mapping`` maps the file's own column names to canonical names (from the study file);
    names it does not mention are kept as they are (after stripping surrounding blanks).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = _read_csv(path)
        elif suffix == ".parquet":
            frame = _as_text(pd.read_parquet(path))
        elif suffix in (".xlsx", ".xls"):
            frame = _as_text(pd.read_excel(path, dtype=object))
        elif suffix == ".sas7bdat":
            frame = _as_text(pd.read_sas(path, format="sas7bdat", encoding="latin-1"))
        else:
            raise InputError(
                f"unknown file type '{suffix}' (expected one of {', '.join(RAW_EXTENSIONS)})",
                file=str(path),
            )
    except InputError:
        raise
    except Exception as exc:  # a reader library's own error on a damaged file
        raise InputError(f"cannot be read: {type(exc).__name__}: {exc}", file=str(path)) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if mapping:
        frame = frame.rename(columns=mapping)
    return frame


def find_table(folder: str | os.PathLike[str], name: str, extensions=RAW_EXTENSIONS) -> Path | None:
    """The file of source ``name`` in ``folder`` (``<name>.<ext>``), or None."""
    folder = Path(folder)
    for ext in extensions:
        p = folder / f"{name}{ext}"
        if p.exists():
            return p
    return None


def parse_dates(text: pd.Series) -> pd.Series:
    """ISO dates (YYYY-MM-DD) to datetime64; anything else becomes NaT (validation reports it)."""
    return pd.to_datetime(text.astype("object"), format="%Y-%m-%d", errors="coerce")


def parse_months(text: pd.Series) -> pd.Series:
    """YYYY-MM months to the first day of the month (datetime64); anything else becomes NaT."""
    return pd.to_datetime(text.astype("object"), format="%Y-%m", errors="coerce")


def parse_bools(text: pd.Series) -> pd.Series:
    """Yes/no words (Danish or English, 1/0, true/false) to a nullable boolean."""
    low = text.astype("object").str.strip().str.lower()
    out = pd.Series(pd.NA, index=text.index, dtype="boolean")
    out[low.isin(TRUE_WORDS)] = True
    out[low.isin(FALSE_WORDS)] = False
    return out


def coerce(frame: pd.DataFrame, source: Source) -> pd.DataFrame:
    """Type the contract's columns of a text frame: dates, months (kept as 'YYYY-MM' text),
    booleans, numbers, categories and text. Unparseable values become missing; run
    validation first to report them. Columns outside the contract are left out.
    """
    out = {}
    for col in source.columns:
        if col.name not in frame.columns:
            continue
        text = frame[col.name]
        if col.type == "date":
            out[col.name] = parse_dates(text)
        elif col.type == "month":
            months = parse_months(text)
            out[col.name] = months.dt.strftime("%Y-%m").astype(pd.StringDtype("pyarrow"))
        elif col.type == "bool":
            out[col.name] = parse_bools(text)
        elif col.type == "int":
            out[col.name] = pd.to_numeric(text.astype("object"), errors="coerce").astype("Int64")
        elif col.type == "float":
            out[col.name] = pd.to_numeric(text.astype("object"), errors="coerce").astype("float64")
        else:
            out[col.name] = text.astype("object").str.strip().astype(pd.StringDtype("pyarrow"))
    return pd.DataFrame(out, index=frame.index)


def read_warehouse(folder: str | os.PathLike[str], name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read warehouse table ``name`` (``<folder>/<name>.parquet``, a file or a dataset folder)."""
    path = Path(folder) / f"{name}{WAREHOUSE_EXTENSION}"
    if not path.exists():
        raise InputError(f"warehouse table '{name}' not found", file=str(path))
    return pd.read_parquet(path, columns=columns)


__all__ = [
    "coerce",
    "detect_delimiter",
    "detect_encoding",
    "find_table",
    "parse_bools",
    "parse_dates",
    "parse_months",
    "read_raw_text",
    "read_warehouse",
]
