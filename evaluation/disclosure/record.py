"""The disclosure record beside every report, and the records of the other releases.

``<report>.disclosure.json`` lists every count cell and derived estimate the document published,
the rule that decided it and whether it was shown (values only for shown cells, so the record
itself discloses nothing the report does not). The next quarter's report reads the kept records
of the other releases (other quarters, and earlier versions of the same quarter) so that no small
count appears as the difference between two releases.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SUFFIX = ".disclosure.json"
_QUARTER = re.compile(r"^\d{4}Q[1-4]$")


def record_path(report: Path) -> Path:
    """``.../quarterly.html`` -> ``.../quarterly.html.disclosure.json``."""
    return report.with_name(report.name + SUFFIX)


def write(path: Path, record: dict[str, Any]) -> Path:
    """Write a record atomically."""
    from ..atomic import write_json

    write_json(path, record)
    return path


def read(path: Path) -> dict[str, Any]:
    """Read one record (an unreadable record is an error: it would weaken the check)."""
    from ..errors import InputError

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the disclosure record: {exc}", file=str(path)) from None


def published_records(root: Path, quarter: str, bundle: str | None = None) -> list[dict[str, Any]]:
    """Every kept record under ``root`` that another release published: a record of another
    quarter (earlier or later: a quarter may be rendered again after the next one), or of
    ``quarter`` made from another results bundle than ``bundle`` (a corrected release replaces
    the report, but the reader may have kept the first one; see :func:`archive_path`)."""
    root = Path(root)
    if not root.is_dir():
        return []
    out = []
    for path in sorted(root.rglob("*" + SUFFIX)):
        rec = read(path)
        q = str(rec.get("quarter", ""))
        other_bundle = bundle is not None and rec.get("bundle") not in (None, bundle)
        if _QUARTER.match(q) and (q != quarter or other_bundle):
            out.append(rec)
    return out


def archive_path(root: Path, record: dict[str, Any], beside: Path) -> Path:
    """Where a copy of the record written at ``beside`` (``.../quarterly.html.disclosure.json``)
    is kept under the study's output folder, one per quarter, results bundle, language and
    document, so that a release replaced later is still known to the check:
    ``<root>/disclosure/<quarter>/<bundle>-<lang>-quarterly.html.disclosure.json``."""
    name = f"{record.get('bundle') or 'unversioned'}-{record.get('lang', '')}-{Path(beside).name}"
    return Path(root) / "disclosure" / str(record.get("quarter", "")) / name
