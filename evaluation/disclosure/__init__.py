"""Disclosure control (DESIGN.md section 5): one checker over everything a report publishes.

- :mod:`.rules`: the rules for one number (threshold, primary suppression, the neutral marker);
- :mod:`.checker`: :class:`Checker`, one per document: linked cells, secondary suppression solved
  once for the whole document, derived estimates, the disclosure record (how presentation code
  registers a cell is in its docstring);
- :mod:`.audit`: the attacker's linear programme that proves a suppression pattern safe;
- :mod:`.curves`: which part of a survival curve may be drawn (curve floor, steps of at least
  ``threshold`` events);
- :mod:`.record`: the record beside each report and the records of the other releases.
"""

from __future__ import annotations

from .checker import DEFAULT_CURVE_FLOOR, Checker, CheckerError
from .rules import (
    COUNT_CLASS,
    DEFAULT_SUPPRESSION_THRESHOLD,
    MIN_THRESHOLD,
    SUPPRESSED_MARK,
    ThresholdRefused,
    at_risk_label,
    check_threshold,
    curve_visible,
    format_percent,
    is_small,
    scan_html_counts,
    show_count,
    show_percent,
    suppress_distribution,
    suppressed_mark,
)

__all__ = [
    "COUNT_CLASS", "DEFAULT_CURVE_FLOOR", "DEFAULT_SUPPRESSION_THRESHOLD", "MIN_THRESHOLD",
    "SUPPRESSED_MARK", "Checker", "CheckerError", "ThresholdRefused", "at_risk_label",
    "check_threshold", "curve_visible", "format_percent", "is_small", "scan_html_counts",
    "show_count", "show_percent", "suppress_distribution", "suppressed_mark",
]
