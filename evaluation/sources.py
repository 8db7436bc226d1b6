"""Finding and reading one raw source the way the study file describes it.

`evaluation validate` and `evaluation pseudonymise` both use these two functions, so a source's
file is found, and its own formats are read, in exactly one way:

* :func:`source_path`: the file named in ``[sources.X] file`` (relative to the study file), else
  a file of that name in the raw folder, else ``<raw>/<source>.<ext>``;
* :func:`read_source`: the file read as text with the study's ``sheet`` (Excel) and
  ``delimiter`` (CSV), its ``columns`` mapped onto ours, then its dates in ``date_format``
  written as ISO dates and its category labels in ``values`` replaced by the contract's codes.
  A value that does not fit stays as it is, so validation reports it and pseudonymisation
  quarantines its row: nothing is dropped in silence.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from . import contract
from .errors import InputError


def source_path(raw: Path, name: str, settings: Any | None) -> Path | None:
    """The file of source ``name``: see the module docstring; None when there is none.

    Raises
    ------
    InputError
        The study file names a file for the source that is neither where it says nor in ``raw``.
    """
    from .io import find_table

    named = getattr(settings, "file", None)
    if named is not None:
        for candidate in (Path(named), Path(raw) / Path(named).name):
            if candidate.exists():
                return candidate
        raise InputError(f"file of source '{name}' named in the study file not found (looked "
                         f"there and in {raw})", file=str(named))
    return find_table(raw, name)


def _iso_dates(text: pd.Series, date_format: str) -> pd.Series:
    """Dates written in ``date_format`` as ISO text; values that do not parse are kept."""
    stripped = text.str.strip()
    parsed = pd.to_datetime(stripped, format=date_format, errors="coerce")
    iso = parsed.dt.strftime("%Y-%m-%d").astype(text.dtype)
    return iso.where(parsed.notna(), text)


def apply_settings(frame: pd.DataFrame, name: str, settings: Any | None) -> pd.DataFrame:
    """``date_format`` and ``values`` of a source's settings applied to a text frame (a copy)."""
    date_format = getattr(settings, "date_format", None)
    values = getattr(settings, "values", None) or {}
    if not date_format and not values:
        return frame
    out = frame.copy()
    schema = contract.source(name, "raw")
    def text(column: str) -> bool:  # typed columns (Parquet, SAS) are already dates or codes
        return column in out.columns and isinstance(out[column].dtype, pd.StringDtype)

    if date_format:
        for col in schema.columns:
            if col.type == "date" and text(col.name):
                out[col.name] = _iso_dates(out[col.name], date_format)
    for column, labels in values.items():
        if text(column):
            stripped = out[column].str.strip()
            out[column] = stripped.map(lambda v, m=labels: m.get(v, v) if isinstance(v, str) else v) \
                .astype(out[column].dtype)
    return out


def read_source(path: Path, name: str, settings: Any | None, **read_options) -> pd.DataFrame:
    """Read a raw source as text with its study settings (see the module docstring).

    ``read_options`` are passed to :func:`evaluation.io.read_table` (e.g. ``bad_rows``).
    """
    from .io import read_table

    mapping = dict(getattr(settings, "columns", None) or {})
    frame = read_table(path, mapping or None, sheet=getattr(settings, "sheet", None),
                       delimiter=getattr(settings, "delimiter", None), **read_options)
    return apply_settings(frame, name, settings)


def read_source_text(path: Path, name: str, settings: Any | None) -> pd.DataFrame:
    """:func:`read_source` with every column as text and a repeated column name refused
    (:func:`evaluation.io.read_raw_text`): what pseudonymisation reads."""
    from .io import read_raw_text

    mapping = dict(getattr(settings, "columns", None) or {})
    frame = read_raw_text(path, mapping or None, sheet=getattr(settings, "sheet", None),
                          delimiter=getattr(settings, "delimiter", None))
    return apply_settings(frame, name, settings)


def check_date_format(value: str) -> str:
    """A ``date_format`` setting checked on a known date (strftime codes, e.g. ``%d.%m.%Y``)."""
    probe = dt.date(2026, 9, 30)
    text = probe.strftime(value)
    try:
        back = dt.datetime.strptime(text, value).date()
    except ValueError:
        back = None
    if back != probe:
        raise ValueError(f"{value!r} is not a date format with day, month and year "
                         "(e.g. \"%d.%m.%Y\" or \"%d-%m-%Y\")")
    return value
