"""Number and date formatting in Danish ("12,3 %", "1.530") and English ("12.3%", "1,530") style,
and labels as plain text (:func:`plain`, :func:`markup`, :func:`fill`).

Counts of persons are never formatted here: they go through :mod:`evaluation.disclosure`.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
import string

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
# citations, attributes, shortcodes, tables (and ":" before "//", see plain). Each is written
# backslash-escaped (or as an entity), which every Markdown reader shows as the character itself.
_MARKDOWN_ESCAPED = frozenset("\\`*_{}[]()#+!|~^$@=")
_MARKDOWN_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def plain(value: object, output: str = "markdown", *, line_start: bool = True) -> str:
    """A label as plain text for a report: no link, script, style or emphasis can be injected.

    ``output="html"`` escapes for HTML (``<``, ``>``, ``&`` and quotes); anything else escapes
    for Markdown (Quarto/pandoc and nbconvert alike), so that ``[x](javascript:alert(3))`` is
    shown as those characters. Line breaks become spaces (a label cannot start a new block), and
    a leading ``-`` or ``1.`` is escaped (a label cannot start a list; ``line_start=False`` for
    text that follows other text on its line). Report code does not call
    this for each label: it builds :class:`Markup` with :func:`fill` or :func:`markup`, and
    :meth:`evaluation.report.present.Report._show` escapes whatever is not Markup.
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
        elif (line_start and _opens_block(text, i)) or (c == ":" and text.startswith("//", i + 1)):
            out.append(f"\\{c}")  # "http://" would become a link in nbconvert's Markdown
        else:
            out.append(c)
    return "".join(out)


_LIST_NUMBER = re.compile(r"\d{1,9}")


def _opens_block(text: str, i: int) -> bool:
    """The character at ``i`` would start a list, a rule or a definition at the start of a line:
    a leading ``-`` or ``:`` before a blank (or ``---``), the ``.`` of a leading ``1. ``."""
    after = text[i + 1:i + 2]
    if text[i] in "-:" and i == 0:
        return after in ("", " ", "\t") or text.startswith("--", i)
    return text[i] == "." and after in ("", " ", "\t") and bool(_LIST_NUMBER.fullmatch(text[:i]))


class Markup(str):
    """Text that is already markup for one output (``"html"`` or ``"markdown"``): made by the
    report code from its own tags and escaped labels, it is shown as it is. A Markup that is
    concatenated with a ``str`` is a plain ``str`` again, so it is escaped (it cannot leak)."""

    output: str

    def __new__(cls, text: str, output: str = "markdown") -> Markup:  # noqa: PYI034
        self = super().__new__(cls, text)
        self.output = _target(output)
        return self


def _target(output: str) -> str:
    return "html" if output == "html" else "markdown"


def markup(value: object, output: str = "markdown") -> Markup:
    """``value`` as markup for ``output``: a :class:`Markup` for that output as it is, anything
    else escaped as plain text (:func:`plain`).

    This is the one place where text becomes markup: the report's output method calls it on
    everything it shows. A Markup made for the other output is refused (an HTML fragment in
    Markdown or the reverse would show its tags, or worse, be read as markup again).
    """
    if isinstance(value, Markup):
        if value.output != _target(output):
            raise ValueError(f"{value.output} markup shown in a {_target(output)} part")
        return value
    return Markup(plain(value, output), output)


def fill(template: str, output: str = "markdown", **fields: object) -> Markup:
    """A plain-text template (from :mod:`.texts`) with its ``str.format`` fields, as markup for
    ``output``: the template's own words and every field that is not :class:`Markup` are
    escaped (:func:`plain`), a Markup field (a count span) is inserted as it is."""
    formatter = string.Formatter()
    parts: list[str] = []
    for literal, name, spec, conversion in formatter.parse(template):
        parts.append(plain(literal, output, line_start=not parts) if literal else "")
        if name is None:
            continue
        value, _ = formatter.get_field(name, (), fields)
        value = formatter.convert_field(value, conversion)
        if isinstance(value, Markup):
            parts.append(markup(value, output))  # refuses markup of the other output
        else:
            parts.append(plain(format(value, spec or ""), output, line_start=not "".join(parts)))
    return Markup("".join(parts), output)


def emphasis(value: object, strong: bool = False) -> Markup:
    """Plain text in italics (``strong``: bold) as Markdown."""
    mark = "**" if strong else "*"
    return Markup(f"{mark}{plain(value)}{mark}")


def _inside_word(text: str, i: int) -> bool:
    """An underscore between two letters or digits (``group_registered``) opens no emphasis in
    CommonMark or pandoc, so it is left as it is."""
    return 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
