"""The small-number rules for single cells (DESIGN.md section 5).

The whole-document check (linked cells, secondary suppression across tables, derived estimates,
curves) is :class:`evaluation.disclosure.checker.Checker`; the functions here are the rules it
applies to one number.

Rules, applied to every table, figure and sentence of a report:

* **Threshold.** 5 by default; one setting, ``report.suppression_threshold`` in the study file.
  Below 3 (Statistics Denmark's own minimum for results leaving its research machines) it is
  refused unless the study gives an explicit reason (``report.threshold_override``), which is
  logged and written into every disclosure record (:func:`check_threshold`).
* **Primary suppression.** A count of persons ``n`` with ``1 <= n < threshold`` is never shown.
* **One neutral marker.** Every cell not shown, whatever the reason (small, hidden to protect
  another cell, an estimate resting on small counts), shows :data:`SUPPRESSED_MARK`, explained by
  one footnote in the report language; a hidden cell never claims a value (e.g. "<5") it may not
  have.
* **Zeros.** A true zero is shown as ``0``. It discloses no person's record; Statistics Denmark's
  concern is with small *nonzero* cells. A zero is never used as the secondary cell (suppressing
  it would hide nothing).
* **Secondary suppression.** In a distribution whose total is shown (a table of counts by
  category with a total row), a single suppressed cell could be recovered as total minus the
  others. When exactly one cell is suppressed, the next smallest nonzero cell is suppressed too;
  when the total itself is small, every nonzero cell is suppressed. See
  :func:`suppress_distribution`.
* **Derived numbers.** A rate or percentage whose numerator or denominator is suppressed is
  suppressed too (:func:`show_percent`).
* **Numbers at risk** under survival curves below the threshold are not shown at all
  (:func:`at_risk_label`), and curves are drawn only while every group still has at least
  ``threshold`` persons at risk (:func:`curve_visible`).

HTML tables produced by :mod:`evaluation.report` mark count cells with ``class="count"`` so that a
scanner can check every shown count (:func:`scan_html_counts`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from ..errors import EvaluationError
from ..progress import info

#: Smallest count of persons that may be published (the study's report.suppression_threshold
#: overrides it). Statistics Denmark's own rule is 3; 5 is the safer default.
DEFAULT_SUPPRESSION_THRESHOLD = 5

#: Lowest threshold accepted without an explicit, logged override.
MIN_THRESHOLD = 3

#: The one marker of every cell that is not shown, whatever the reason.
SUPPRESSED_MARK = "\u2022"

#: CSS class of an HTML element that shows a count of persons.
COUNT_CLASS = "count"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


class ThresholdRefused(EvaluationError):
    """A disclosure threshold below :data:`MIN_THRESHOLD` without an explicit override."""


def check_threshold(threshold: int, override: str | None = None) -> int:
    """The threshold in force; below :data:`MIN_THRESHOLD` only with a stated reason (logged).

    Raises
    ------
    ThresholdRefused
        When ``threshold < 1``, or ``threshold < 3`` and ``override`` is empty.
    """
    threshold = int(threshold)
    if threshold < 1:
        raise ThresholdRefused(f"the suppression threshold must be at least 1, got {threshold}")
    if threshold < MIN_THRESHOLD:
        if not (override and str(override).strip()):
            raise ThresholdRefused(
                f"a suppression threshold of {threshold} is refused: the minimum is {MIN_THRESHOLD} "
                "(Statistics Denmark's rule for results leaving its research machines); set "
                "report.threshold_override to the reason to publish with a lower one")
        info(f"warning: suppression threshold {threshold} is below {MIN_THRESHOLD} "
             f"(override: {str(override).strip()})")
    return threshold


def suppressed_mark(threshold: int = DEFAULT_SUPPRESSION_THRESHOLD) -> str:
    """The text shown in place of any suppressed cell (:data:`SUPPRESSED_MARK`, whatever the
    threshold and the reason)."""
    return SUPPRESSED_MARK


def is_small(count: float | None, threshold: int = DEFAULT_SUPPRESSION_THRESHOLD) -> bool:
    """True when a count of persons must not be published: 1 <= count < threshold.

    A count of zero is not disclosive of any person and is shown as 0.
    """
    if _missing(count):
        return False
    return 0 < float(count) < threshold


def show_count(
    count: float | None,
    threshold: int = DEFAULT_SUPPRESSION_THRESHOLD,
    *,
    suppressed: bool = False,
    thousands: str = "",
) -> str:
    """A count as it may be published.

    Parameters
    ----------
    count
        Number of persons (unsuppressed).
    threshold
        Smallest count that may be shown.
    suppressed
        Force suppression (secondary suppression decided elsewhere).
    thousands
        Thousands separator ("." in Danish, "," in English; "" for none).

    Returns
    -------
    str
        The number, :data:`SUPPRESSED_MARK` when small or force-suppressed, ``""`` when missing.
    """
    if _missing(count):
        return ""
    if suppressed or is_small(count, threshold):
        return suppressed_mark(threshold)
    text = f"{round(float(count)):,d}"
    return text.replace(",", thousands)


def at_risk_label(count: float | None, threshold: int = DEFAULT_SUPPRESSION_THRESHOLD) -> str:
    """Numbers at risk under a survival curve: counts below the threshold are not shown ("")."""
    if _missing(count):
        return ""
    return "" if float(count) < threshold else f"{round(float(count)):d}"


def suppress_distribution(
    counts: Sequence[float | int] | np.ndarray,
    threshold: int = DEFAULT_SUPPRESSION_THRESHOLD,
    *,
    total: float | None = None,
) -> np.ndarray:
    """Which cells of a distribution must be suppressed (primary and secondary).

    Parameters
    ----------
    counts
        The counts of the categories of one distribution (one grouping), unsuppressed.
    threshold
        Smallest count that may be shown.
    total
        The total shown with the distribution; defaults to the sum of ``counts``. When the total
        is small (``1 <= total < threshold``), every nonzero cell is suppressed.

    Returns
    -------
    numpy.ndarray
        Boolean mask, True where the cell must be shown as ``"<threshold"``.

    Notes
    -----
    Primary: ``1 <= n < threshold``. Secondary: when exactly one cell is suppressed, the smallest
    of the remaining nonzero cells is suppressed as well, so that total minus the shown cells
    gives only the sum of two hidden cells. Zeros are shown and never used as secondary cells.
    """
    values = np.asarray(counts, dtype=float)
    values = np.where(np.isnan(values), 0.0, values)
    mask = (values > 0) & (values < threshold)
    tot = float(values.sum()) if total is None or _missing(total) else float(total)
    if 0 < tot < threshold:
        return values > 0
    if mask.sum() == 1:
        candidates = np.where(~mask & (values > 0), values, np.inf)
        if np.isfinite(candidates).any():
            mask[int(np.argmin(candidates))] = True
    return mask


def show_percent(
    numerator: float | None,
    denominator: float | None,
    threshold: int = DEFAULT_SUPPRESSION_THRESHOLD,
    *,
    lang: str = "da",
    digits: int = 1,
    suppressed: bool = False,
) -> str:
    """A percentage ``numerator / denominator`` as it may be published.

    Shown as :data:`SUPPRESSED_MARK` when the numerator or the denominator is small or when
    ``suppressed`` is given (a count behind it was hidden); ``""`` when missing.
    Danish style ``"12,3 %"``, English ``"12.3%"``.
    """
    if _missing(numerator) or _missing(denominator) or float(denominator) == 0:
        return ""
    if suppressed or is_small(numerator, threshold) or is_small(denominator, threshold):
        return SUPPRESSED_MARK
    return format_percent(float(numerator) / float(denominator), lang=lang, digits=digits)


def format_percent(share: float, *, lang: str = "da", digits: int = 1) -> str:
    """A share (0-1) as a percentage: Danish ``"12,3 %"``, English ``"12.3%"``."""
    if _missing(share):
        return ""
    text = f"{100.0 * share:.{digits}f}"
    if lang == "da":
        return text.replace(".", ",") + " %"
    return text + "%"


def curve_visible(at_risk: Sequence[float] | np.ndarray, threshold: int = DEFAULT_SUPPRESSION_THRESHOLD) -> np.ndarray:
    """Which points of a step curve may be drawn: only while at least ``threshold`` are at risk.

    Once the number at risk in a group falls below the threshold the rest of that group's curve
    is cut off (each later step would describe fewer than ``threshold`` persons).
    """
    values = np.asarray(at_risk, dtype=float)
    ok = values >= threshold
    return np.logical_and.accumulate(ok) if len(ok) else ok


_CELL_RE = re.compile(
    r"<(?P<tag>td|th|span|div)\b(?P<attrs>[^>]*\bclass=\"[^\"]*\b" + COUNT_CLASS + r"\b[^\"]*\"[^>]*)>"
    r"(?P<body>.*?)</(?P=tag)>",
    re.DOTALL,
)


def scan_html_counts(html: str, threshold: int = DEFAULT_SUPPRESSION_THRESHOLD) -> tuple[int, list[str]]:
    """Check every element marked as a count in an HTML document.

    Returns
    -------
    (int, list of str)
        The number of count elements found and the texts of those that show a count below the
        threshold (1 <= n < threshold) - an empty list means the document passes.
    """
    found = 0
    bad: list[str] = []
    for match in _CELL_RE.finditer(html):
        found += 1
        text = re.sub(r"<[^>]+>", "", match.group("body")).strip()
        digits = text.replace(".", "").replace(",", "").replace("\u00a0", "").replace(" ", "")
        if digits.isdigit() and 0 < int(digits) < threshold:
            bad.append(text)
    return found, bad
