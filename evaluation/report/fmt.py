"""Number and date formatting in Danish ("12,3 %", "1.530") and English ("12.3%", "1,530") style,
and labels as plain text (:func:`plain`).

Counts of persons are never formatted here: they go through :mod:`evaluation.disclosure`.
"""

from __future__ import annotations

import datetime as dt
import html
import math

from ..disclosure import format_percent
from .texts import MONTHS, check_language

MINUS = "\u2212"


def _bad(value: object) -> bool:
    """True for a missing or infinite number (None, NaN, inf, pandas NA)."""
    if value is None:
        return True
    try:
        return not math.isfinite(float(value))
    except TypeError:  # pandas NA refuses float()
        return True
    except ValueError:
        return False


def number(value: float | None, lang: str, digits: int = 2) -> str:
    """A decimal number: ``number(0.72, "da") == "0,72"``, ``number(-1.5, "en", 1) == "−1.5"``."""
    check_language(lang)
    if _bad(value):
        return "–"
    rounded = round(float(value), digits)
    text = f"{abs(rounded):,.{digits}f}"
    if lang == "da":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return (MINUS if rounded < 0 else "") + text


def percent(share: float | None, lang: str, digits: int = 1) -> str:
    """A share (0-1) as a percentage: Danish ``"12,3 %"``, English ``"12.3%"``."""
    check_language(lang)
    if _bad(share):
        return "–"
    return format_percent(float(share), lang=lang, digits=digits)


def points(share_difference: float | None, lang: str, digits: int = 1) -> str:
    """A difference of shares in percentage points (number only): 0.041 -> "4,1" / "4.1"."""
    if _bad(share_difference):
        return "–"
    return number(100.0 * float(share_difference), lang, digits)


def p_value(p: float | None, lang: str) -> str:
    """A p-value: 3 decimals, "<0,001" / "<0.001" below 0.001."""
    if _bad(p):
        return "–"
    if float(p) < 0.001:
        return "<" + number(0.001, lang, 3)
    return number(float(p), lang, 3)


def date(day: str | dt.date | None, lang: str) -> str:
    """A date in words: "30. september 2026" / "30 September 2026"."""
    check_language(lang)
    if day is None or day == "":
        return "–"
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    month = MONTHS[lang][day.month - 1]
    return f"{day.day}. {month} {day.year}" if lang == "da" else f"{day.day} {month} {day.year}"


def months(days: float) -> int:
    """Days to whole months (``round(days / 30.4375)``): 183 -> 6, 365 -> 12, 730 -> 24."""
    return round(float(days) / 30.4375)


# Characters that can open Markdown (CommonMark and pandoc) markup inside a line: emphasis, code,
# links and images, raw HTML and entities, footnotes, math, strike-through, super/subscript,
# attributes, shortcodes, tables. Each is written backslash-escaped (or as an entity), which every
# Markdown reader shows as the character itself.
_MARKDOWN_ESCAPED = frozenset("\\`*_{}[]()#+!|~^$:@=")
_MARKDOWN_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def plain(value: object, output: str = "markdown") -> str:
    """A label as plain text for a report: no link, script, style or emphasis can be injected.

    Every string that comes from a study file, an analysis plan, a cohort definition or the
    data (outcome and covariate labels, category codes, the study name, paths) passes through
    here where it enters a report. ``output="html"`` escapes for HTML (``<``, ``>``, ``&`` and
    quotes); anything else escapes for Markdown (Quarto/pandoc and nbconvert alike), so that
    ``[x](javascript:alert(3))`` is shown as those characters. Line breaks become spaces (a label
    cannot start a new block).
    """
    text = " ".join(str("" if value is None else value).splitlines())
    if output == "html":
        return html.escape(text, quote=True)
    out = []
    for i, c in enumerate(text):
        if c in _MARKDOWN_ENTITIES:
            out.append(_MARKDOWN_ENTITIES[c])
        elif c in _MARKDOWN_ESCAPED and not (c == "_" and _inside_word(text, i)):
            out.append(f"\\{c}")
        else:
            out.append(c)
    return "".join(out)


def _inside_word(text: str, i: int) -> bool:
    """An underscore between two letters or digits (``group_registered``) opens no emphasis in
    CommonMark or pandoc, so it is left as it is."""
    return 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
