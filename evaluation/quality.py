"""No row leaves silently: the share of a source's rows that could not be used, and its gate.

Pseudonymisation quarantines a raw row it cannot use (a missing, malformed or impossible CPR
number, a value that cannot be typed) and counts it by reason in ``linkage_report.json``. A
source with more than ``[study] max_quarantine_share`` of its rows quarantined (default 0.01)
stops the run with exit code 1 (:func:`check_quarantine_share`): so many unusable rows mean a
format problem that a setting fixes, not a few bad records. Below that share the run goes on,
and every report says how many records could not be used (:func:`data_quality`, the
``data_quality`` entry of ``estimates.json``).

Validation before pseudonymisation (:data:`QUARANTINED_CHECKS`) reports the same rows one by one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import EvaluationError

#: Validation checks whose rows pseudonymisation quarantines (instead of writing them).
QUARANTINED_CHECKS = ("missing_cpr", "malformed_cpr", "invalid_cpr_birth_date", "bad_date",
                      "bad_month", "bad_number", "bad_bool", "cpr_number", "unknown_category",
                      "above_maximum", "below_minimum")


def quarantine_reason(check: str, column: str | None) -> str:
    """The quarantine reason pseudonymisation gives the rows of a validation check."""
    if check in ("missing_cpr", "malformed_cpr", "invalid_cpr_birth_date"):
        return check
    if check in ("cpr_number", "unknown_category"):
        return f"{check} {column}"
    if check in ("above_maximum", "below_minimum"):
        return f"out_of_range {column}"
    return f"unparseable {column}"


class QuarantineExceeded(EvaluationError):
    """A source has more of its rows quarantined than ``max_quarantine_share`` allows."""

    exit_code = 1


def fix_hint(source: str, reason: str, nine_digit_rows: int = 0) -> str:
    """The setting or mapping that would fix rows quarantined for ``reason``."""
    if reason.startswith("unparseable ") and reason.endswith(("_date", "date")):
        return (f"its dates are not ISO dates (YYYY-MM-DD): set [sources.{source}] date_format, "
                'e.g. "%d.%m.%Y" or "%d-%m-%Y"')
    if reason.startswith("unparseable "):
        return f"correct the column '{reason.split(' ', 1)[1]}' (or its [sources.{source}] columns mapping)"
    if reason.startswith("cpr_number "):
        return (f"the column '{reason.split(' ', 1)[1]}' holds CPR numbers: check the "
                f"[sources.{source}] columns mapping (a CPR number may sit only in 'cpr')")
    if reason.startswith("unknown_category "):
        column = reason.split(" ", 1)[1]
        return (f"the column '{column}' has codes outside the data contract's list: map the "
                f"source's own labels in [sources.{source}] values.{column}")
    if reason.startswith("out_of_range "):
        return f"correct the column '{reason.split(' ', 1)[1]}' (a number outside the plausible range)"
    if reason == "missing_cpr":
        return f"map the file's CPR column onto 'cpr' in [sources.{source}] columns"
    if reason == "malformed_cpr" and nine_digit_rows:
        return ("CPR numbers with nine digits: a leading zero lost where the file was saved from a "
                "spreadsheet; export the CPR column as text")
    return f"check that the column mapped onto 'cpr' in [sources.{source}] columns holds CPR numbers"


def check_quarantine_share(sources: dict[str, dict[str, Any]], max_share: float) -> None:
    """Stop when a source's quarantined share exceeds ``max_share`` (linkage-report entries).

    Raises
    ------
    QuarantineExceeded
        Naming the source and file, the count and share, the main reason and the fix.
    """
    for name, e in sources.items():
        read, bad = int(e["rows_read"]), int(e["rows_quarantined"])
        if read == 0 or bad / read <= max_share:
            continue
        reasons = sorted(e["quarantined_by_reason"].items(), key=lambda kv: -kv[1])
        main = reasons[0][0]
        listed = ", ".join(f"{n} x {r}" for r, n in reasons)
        raise QuarantineExceeded(
            f"{e.get('file', name)}: {bad} of {read} rows of source '{name}' ({bad / read:.1%}) "
            f"could not be used, more than max_quarantine_share {max_share:g} allows ({listed}); "
            f"{fix_hint(name, main, int(e.get('malformed_cpr_with_nine_digits') or 0))}, or raise "
            "[study] max_quarantine_share")


def data_quality(warehouse: str | Path, max_share: float | None = None) -> dict[str, Any]:
    """The ``data_quality`` entry of ``estimates.json`` from the warehouse's linkage report.

    Per source: ``rows_read``, ``rows_written``, ``rows_quarantined`` and
    ``quarantined_by_reason`` (and ``cpr_nine_digits``: quarantined CPR numbers that lost a
    leading zero); ``totals`` over the sources; ``available`` False when the warehouse has no
    linkage report (it was not made by ``evaluation pseudonymise``, e.g. simulated directly).
    Counts are unsuppressed here: the reports suppress.
    """
    path = Path(warehouse) / "linkage_report.json"
    if not path.is_file():
        return {"available": False, "max_quarantine_share": max_share, "sources": {}, "totals": None}
    report = json.loads(path.read_text(encoding="utf-8"))
    sources = {}
    for name, e in (report.get("sources") or {}).items():
        sources[name] = {
            "rows_read": int(e["rows_read"]), "rows_written": int(e["rows_written"]),
            "rows_quarantined": int(e["rows_quarantined"]),
            "quarantined_by_reason": {str(k): int(v) for k, v in (e.get("quarantined_by_reason") or {}).items()},
            "cpr_nine_digits": int(e.get("malformed_cpr_with_nine_digits") or 0),
        }
    totals = {k: sum(s[k] for s in sources.values()) for k in ("rows_read", "rows_written", "rows_quarantined")}
    return {"available": True, "max_quarantine_share": max_share, "sources": sources, "totals": totals}
