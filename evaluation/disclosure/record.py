"""The disclosure record beside every report, and the records of earlier quarters.

``<report>.disclosure.json`` lists every count cell and derived estimate the document published,
the rule that decided it and whether it was shown (values only for shown cells, so the record
itself discloses nothing the report does not). The next quarter's report reads the kept records
of earlier quarters so that no small count appears as the difference between two releases.
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


def earlier_records(root: Path, quarter: str) -> list[dict[str, Any]]:
    """Every kept record under ``root`` made for a quarter before ``quarter`` (any language)."""
    root = Path(root)
    if not root.is_dir():
        return []
    out = []
    for path in sorted(root.rglob("*" + SUFFIX)):
        rec = read(path)
        q = str(rec.get("quarter", ""))
        if _QUARTER.match(q) and q < quarter:
            out.append(rec)
    return out
