"""One disclosure checker per document: every published number passes through it.

Like the output checkers statistical offices use (ACRO/SACRO), a :class:`Checker` holds every
count cell, derived estimate and figure datum a report publishes, with the links between them,
decides once for the whole document what may be shown, and writes the disclosure record.

How presentation code registers a cell
--------------------------------------
Register everything first, solve once, then ask for texts::

    check = Checker(threshold=5)
    check.count("contacts/cumulative/total", 406, label="contacted since the start")
    check.count("contacts/cumulative/sex/F", 183)
    check.count("contacts/cumulative/sex/M", 223)
    check.relation("contacts/cumulative/total",
                   ["contacts/cumulative/sex/F", "contacts/cumulative/sex/M"])
    check.latent("outcome/x/excluded_at_index/contacted", 3)   # never shown, never derivable
    check.estimate("balance/after/contacted/custody_ever",
                   keys=["balance/after/contacted/custody_ever/with"])
    check.solve()
    check.count_text("contacts/cumulative/sex/F", thousands=".")   # "183", or the marker
    check.show("balance/after/contacted/custody_ever", "0,13")     # the text, or the marker

A number that appears in several places (a table and a sentence) is one cell with one key. The
report package registers a whole bundle in :mod:`evaluation.report.cells`.

Rules (each recorded per cell in :meth:`Checker.record`)
--------------------------------------------------------
``primary``
    A count ``1 <= n < threshold`` is not shown.
``floor``
    A count with its own minimum (numbers at risk under a curve: ``curve_floor``, 10 by
    default) is not shown below it.
``secondary``
    After primary suppression, the attacker's linear programme (:mod:`.audit`) bounds every
    hidden cell and every *latent* count (a number of persons never published but linked to
    published ones: cohort size minus an outcome population, this quarter's cumulative count
    minus last quarter's). While one of them with a value from 1 to threshold-1 is pinned to a
    single whole number, the smallest shown nonzero count in an equation with it is hidden too
    (then the search widens to its linked component). This is a greedy rule whose result is
    proven safe by the audit that stops it; it is not minimal, which an integer programme over
    all attacker sub-problems would be, at a cost and complexity out of proportion to documents
    of a few hundred cells. Zeros are shown and never used to protect another cell.
``tied``
    Cells that are equal by construction (the means of an exactly matched covariate in both
    arms) are shown or hidden together.
``estimate``
    A derived estimate (share, mean, risk, curve value, SMD) is shown only when every count
    behind it is known and reaches the threshold (zero allowed), every cell it rests on is
    shown, and the number at risk behind it reaches the curve floor.
``earlier release``
    Numbers published by the other releases (their kept records: other quarters, earlier or
    later, and earlier versions of the same quarter) are known to the reader; the difference
    between this release's and another release's count of the same key is a latent count and is
    protected like any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..numbers import finite_float as _num
from .audit import Unknown, movable
from .rules import (
    DEFAULT_SUPPRESSION_THRESHOLD,
    SUPPRESSED_MARK,
    check_threshold,
    is_small,
)

#: Numbers at risk under a survival curve, and the curve itself, are shown only while at least
#: this many persons are at risk (the common rule of statistical offices for survival curves).
DEFAULT_CURVE_FLOOR = 10

COUNT, LATENT, ESTIMATE, EARLIER = "count", "latent", "estimate", "earlier release"


class CheckerError(RuntimeError):
    """The checker was used out of order (a text asked before :meth:`Checker.solve`)."""


@dataclass
class Entry:
    """One registered number."""

    key: str
    kind: str
    value: float | None
    label: str = ""
    floor: int | None = None
    lower: float | None = 0.0
    suppressed: bool = False
    rule: str = "shown"
    published: bool = False
    counts: tuple[float | None, ...] = ()
    keys: tuple[str, ...] = ()
    at_risk: float | None = None




@dataclass
class Checker:
    """The disclosure check of one document (or of documents published together).

    Parameters
    ----------
    threshold
        Smallest count of persons that may be shown (5 by default; below 3 only with
        ``override``).
    curve_floor
        Smallest number at risk for which a curve is drawn and a number at risk is shown.
    override
        The reason for a threshold below 3 (logged and recorded).
    """

    threshold: int = DEFAULT_SUPPRESSION_THRESHOLD
    curve_floor: int = DEFAULT_CURVE_FLOOR
    override: str | None = None
    entries: dict[str, Entry] = field(default_factory=dict)
    equations: list[dict[str, float]] = field(default_factory=list)
    ties: list[tuple[str, ...]] = field(default_factory=list)
    solved: bool = False

    def __post_init__(self) -> None:
        self.threshold = check_threshold(self.threshold, self.override)
        self.curve_floor = max(int(self.curve_floor), self.threshold)

    # -- registering ----------------------------------------------------------------------
    def count(self, key: str, value: Any, *, label: str = "", floor: int | None = None) -> str:
        """A count of persons that the document shows (once per key; later calls return it)."""
        if key not in self.entries:
            self._add(Entry(key, COUNT, _num(value), label, floor=floor))
        return key

    def latent(self, key: str, value: Any, *, label: str = "", lower: float | None = 0.0) -> str:
        """A count never shown that must not be derivable (``lower=None`` for a difference)."""
        if key not in self.entries:
            self._add(Entry(key, LATENT, _num(value), label, lower=lower))
        return key

    def earlier(self, key: str, value: Any, quarter: str) -> None:
        """A number an earlier release showed for ``key``: the difference is protected."""
        value = _num(value)
        if value is None or key not in self.entries or self.entries[key].kind != COUNT:
            return
        old = f"{quarter}:{key}"
        self._add(Entry(old, EARLIER, value, f"published in {quarter}"))
        diff = self.latent(f"{key}~since:{quarter}", (self.entries[key].value or 0) - value,
                           label=f"change since {quarter}", lower=None)
        self.equations.append({key: 1.0, old: -1.0, diff: -1.0})

    def relation(self, total: str, parts: Sequence[str]) -> None:
        """``total == sum(parts)``. When the registered values do not add up, the difference is
        a latent count of its own (protected like the others)."""
        values = [self._value(k) for k in (total, *parts)]
        if any(self.entries[k].value is None for k in (total, *parts)):
            return  # a number the bundle does not have links nothing
        residual = values[0] - sum(values[1:])
        eq = {total: 1.0}
        for p in parts:
            eq[p] = eq.get(p, 0.0) - 1.0
        if abs(residual) > 1e-9:
            rest = self.latent(f"{total}~rest", residual, lower=None)
            eq[rest] = eq.get(rest, 0.0) - 1.0
        self.equations.append(eq)

    def same(self, first: str, second: str) -> None:
        """Two keys that count the same persons (their difference is protected if not zero)."""
        self.relation(first, [second])

    def tie(self, *keys: str) -> None:
        """Cells shown or hidden together (equal by construction)."""
        self.ties.append(tuple(k for k in keys if k in self.entries))

    def estimate(self, key: str, value: Any = None, *, counts: Iterable[Any] = (),
                 keys: Iterable[str] = (), at_risk: Any = None, label: str = "") -> str:
        """A derived estimate: shown when each of ``counts`` is 0 or reaches the threshold (a
        count that is not known, None, hides it), each cell of ``keys`` is shown, and
        ``at_risk`` (if given) reaches the curve floor."""
        if key not in self.entries:
            self._add(Entry(key, ESTIMATE, _num(value), label,
                            counts=tuple(_num(c) for c in counts), keys=tuple(keys),
                            at_risk=_num(at_risk) if at_risk is not None else None))
        return key

    def _add(self, entry: Entry) -> None:
        if self.solved:
            raise CheckerError(f"{entry.key}: registered after solve()")
        self.entries[entry.key] = entry

    def _value(self, key: str) -> float:
        if key not in self.entries:
            raise KeyError(f"unknown disclosure cell {key!r}")
        return self.entries[key].value or 0.0

    # -- solving --------------------------------------------------------------------------
    def solve(self) -> Checker:
        """Primary, floor, tied and secondary suppression, then the estimates (once)."""
        if self.solved:
            return self
        for e in self.entries.values():
            if e.kind != COUNT or e.value is None:
                continue
            if is_small(e.value, self.threshold):
                self._hide(e.key, "primary")
            elif e.floor is not None and 0 < e.value < e.floor:
                self._hide(e.key, "floor")
        self._secondary()
        for e in self.entries.values():
            if e.kind == ESTIMATE:
                self._judge(e)
        self.solved = True
        return self

    def _hide(self, key: str, rule: str) -> None:
        e = self.entries[key]
        if e.suppressed:
            return
        e.suppressed, e.rule = True, rule
        for group in self.ties:
            if key in group:
                for other in group:
                    self._hide(other, "tied")

    def _known_unknown(self) -> tuple[dict[str, float], dict[str, Unknown]]:
        known: dict[str, float] = {}
        unknown: dict[str, Unknown] = {}
        for e in self.entries.values():
            if e.kind == ESTIMATE:
                continue
            value = e.value or 0.0
            if e.kind in (COUNT, EARLIER) and not e.suppressed:
                known[e.key] = value
            elif e.kind == COUNT:
                unknown[e.key] = Unknown(e.key, value, 1.0 if value >= 1 else 0.0)
            else:
                unknown[e.key] = Unknown(e.key, value, e.lower)
        return known, unknown

    def sensitive(self, value: float | None) -> bool:
        """A number of persons that must not be derivable: 1 <= |value| < threshold."""
        return value is not None and 1 <= abs(round(value)) < self.threshold

    def disclosed(self) -> list[str]:
        """Keys of hidden or latent small counts that the published numbers pin down."""
        known, unknown = self._known_unknown()
        targets = [k for k, u in unknown.items() if self.sensitive(u.value)]
        free = movable(self.equations, known, unknown, targets)
        return [k for k in targets if k not in free]

    def _secondary(self) -> None:
        """Rounds of the greedy rule: every pinned small count gets its protector, then the
        audit runs again, until it finds nothing."""
        for _ in range(len(self.entries) + 1):
            leaks = self.disclosed()
            if not leaks:
                return
            hidden: set[str] = set()
            for target in leaks:
                near = {k for eq in self.equations if target in eq for k in eq}
                if near & hidden:
                    continue  # a cell next to it was just hidden: audit again first
                choice = self._protector(target)
                if choice is not None:
                    self._hide(choice, "secondary")
                    hidden.add(choice)
            if not hidden:
                raise CheckerError(f"{leaks[0]}: pinned by earlier releases alone; cannot protect")

    def _protector(self, target: str) -> str | None:
        """The shown nonzero count to hide next: the smallest in an equation with ``target``,
        else the smallest anywhere in its linked component."""
        def shown_counts(eqs: Iterable[Mapping[str, float]]) -> list[str]:
            return sorted({k for eq in eqs for k in eq
                           if self.entries[k].kind == COUNT and not self.entries[k].suppressed
                           and (self.entries[k].value or 0) > 0},
                          key=lambda k: (self.entries[k].value, k))

        direct = shown_counts(eq for eq in self.equations if target in eq)
        if direct:
            return direct[0]
        reach, frontier = {target}, [target]
        while frontier:
            key = frontier.pop()
            for eq in self.equations:
                if key in eq:
                    for k in eq:
                        if k not in reach:
                            reach.add(k)
                            frontier.append(k)
        wide = shown_counts(eq for eq in self.equations if set(eq) & reach)
        return wide[0] if wide else None

    def _judge(self, e: Entry) -> None:
        if any(c is None for c in e.counts):
            e.suppressed, e.rule = True, "estimate: a count behind it is not known"
        elif any(is_small(c, self.threshold) for c in e.counts):
            e.suppressed, e.rule = True, "estimate: a count behind it is small"
        elif any(self.entries[k].suppressed for k in e.keys if k in self.entries):
            e.suppressed, e.rule = True, "estimate: a count behind it is hidden"
        elif e.at_risk is not None and e.at_risk < self.curve_floor:
            e.suppressed, e.rule = True, f"estimate: fewer than {self.curve_floor} at risk"
        else:
            e.rule = "estimate: counts behind it shown"

    # -- asking ---------------------------------------------------------------------------
    def suppressed(self, key: str) -> bool:
        """True when the cell ``key`` is not shown (marks it as published in this document)."""
        if not self.solved:
            raise CheckerError(f"{key}: solve() first")
        e = self.entries[key]
        e.published = True
        return e.suppressed

    def count_text(self, key: str, *, thousands: str = "") -> str:
        """The text of a count cell: the number, or :data:`SUPPRESSED_MARK`."""
        if self.suppressed(key):
            return SUPPRESSED_MARK
        value = self.entries[key].value
        if value is None:
            return ""
        return f"{round(value):,d}".replace(",", thousands)

    def show(self, key: str, text: str) -> str:
        """``text`` (an estimate formatted by the caller), or :data:`SUPPRESSED_MARK`."""
        return SUPPRESSED_MARK if self.suppressed(key) else text

    # -- the record -----------------------------------------------------------------------
    def record(self, *, published_only: bool = True, **about: Any) -> dict[str, Any]:
        """The disclosure record: every cell (by default, those the document asked for), its
        rule and whether it was shown. Values are given only for shown cells."""
        cells = []
        for e in self.entries.values():
            if e.kind == EARLIER or (published_only and e.kind != LATENT and not e.published):
                continue
            row = {"key": e.key, "kind": e.kind, "label": e.label, "rule": e.rule,
                   "suppressed": e.suppressed}
            if e.kind == LATENT:
                row["rule"] = "derived count, protected by secondary suppression"
            elif not e.suppressed and e.value is not None:
                row["value"] = e.value
            cells.append(row)
        return {**about, "threshold": self.threshold, "curve_floor": self.curve_floor,
                "threshold_override": self.override, "marker": SUPPRESSED_MARK,
                "rules": self.rules_applied(), "cells": cells}

    def rules_applied(self) -> dict[str, int]:
        """How many cells each rule decided."""
        out: dict[str, int] = {}
        for e in self.entries.values():
            if e.kind in (COUNT, ESTIMATE):
                out[e.rule] = out.get(e.rule, 0) + 1
        return dict(sorted(out.items()))

    def load_earlier(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Protect differences against earlier releases' records (:func:`.record.read`)."""
        for rec in records:
            quarter = str(rec.get("quarter", "earlier"))
            for cell in rec.get("cells", []):
                if cell.get("kind") == COUNT and not cell.get("suppressed") and "value" in cell:
                    self.earlier(cell["key"], cell["value"], quarter)
