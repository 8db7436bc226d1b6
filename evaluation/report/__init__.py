"""Quarterly reports: reading the results bundle and presenting it (no estimation here).

- :mod:`.bundle` reads ``estimates.json``, tables and figures of a results bundle;
- :mod:`.texts` holds every text in Danish and English; :mod:`.fmt` formats numbers and dates;
- :mod:`.findings` turns an estimate and its gates into a finding sentence, by rules;
- :mod:`.tables` and :mod:`.figures` build tables and figures (counts through
  :mod:`evaluation.disclosure`); :mod:`.present` is what the templates in ``reports/`` call;
- :mod:`.render` renders the templates with Quarto, or without it to self-contained HTML.
"""

from __future__ import annotations

__all__ = ["Report"]


def __getattr__(name: str):
    if name == "Report":
        from .present import Report

        return Report
    raise AttributeError(name)
