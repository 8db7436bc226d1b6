"""Disclosure control: the one place that owns the small-number rule (DESIGN.md section 5).

No published count below the threshold (5 by default; one setting, ``report.suppression_threshold``
in the study file) is shown: it is shown as "<5". Rates and percentages built on a suppressed
count are suppressed too, and secondary suppression keeps a suppressed cell from being recovered
from totals. Every table, figure and sentence of a report goes through this module.
"""

from __future__ import annotations

import math

from .study import DEFAULT_SUPPRESSION_THRESHOLD

SUPPRESSED_MARK = "<{threshold}"


def is_small(count: float | int | None, threshold: int = DEFAULT_SUPPRESSION_THRESHOLD) -> bool:
    """True when a count of persons must not be published: 1 <= count < threshold.

    A count of zero is not disclosive of any person and is shown as 0.
    """
    if count is None or (isinstance(count, float) and math.isnan(count)):
        return False
    return 0 < count < threshold


def show_count(count: float | int | None, threshold: int = DEFAULT_SUPPRESSION_THRESHOLD) -> str:
    """A count as it may be published: the number, "<5" when small, "" when missing."""
    if count is None or (isinstance(count, float) and math.isnan(count)):
        return ""
    if is_small(count, threshold):
        return SUPPRESSED_MARK.format(threshold=threshold)
    return f"{int(round(count)):d}"


def at_risk_label(count: float | int | None, threshold: int = DEFAULT_SUPPRESSION_THRESHOLD) -> str:
    """Numbers at risk under a survival curve: counts below the threshold are not shown ("")."""
    if count is None or (isinstance(count, float) and math.isnan(count)):
        return ""
    return "" if count < threshold else f"{int(round(count)):d}"
