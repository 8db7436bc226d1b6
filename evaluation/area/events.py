"""Known calendar events that the interrupted time series adjusts for (declared, not estimated).

A single series cannot tell an initiative from another shock that happened to it at a known
time: a closure of nightlife, a change in how offences are recorded. Adjusting for known
co-interventions and exogenous events is standard practice in segmented regression (Bernal,
Cummins and Gasparrini 2017, "Interrupted time series regression for the evaluation of public
health interventions: a tutorial", Int J Epidemiol 46): each declared event is a level indicator
over its periods, so the pre-period trend is estimated around it instead of through it. The
declaration is an assumption of the study (when the event began and ended, and that it shifted
the level while it lasted); the reports state it.

An event is written ``FIRST:LAST[:LABEL]`` in the panel's period format (``2020-03:2021-05:
COVID-19``), on the command line (``evaluation area --event``, repeatable) and in the study file
(``[area] events``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .periods import PeriodScale


class EventError(ValueError):
    """An event that cannot be read or does not fit the panel (the message says why)."""


@dataclass(frozen=True)
class Event:
    """A declared calendar event: ``first`` to ``last`` (period labels, inclusive) and a label."""

    first: str
    last: str
    label: str = ""

    @classmethod
    def parse(cls, text: str) -> Event:
        """``FIRST:LAST[:LABEL]`` (the label may itself hold colons)."""
        parts = [p.strip() for p in str(text).split(":", 2)]
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise EventError(f"'{text}' is not an event: write FIRST:LAST or FIRST:LAST:LABEL "
                             "(periods as in the panel, e.g. 2020-03:2021-05:COVID-19)")
        return cls(parts[0], parts[1], parts[2] if len(parts) > 2 else "")

    @property
    def name(self) -> str:
        """The label, or the span when the event has none."""
        return self.label or f"{self.first} to {self.last}"

    def span(self, scale: PeriodScale, first_period: int, last_period: int) -> tuple[int, int]:
        """The event's first and last ordinal on ``scale``; an event whose ends are not periods
        of that kind, that ends before it begins or that has no period inside the data raises
        :class:`EventError`."""
        lo, hi = _ordinal(scale, self.first), _ordinal(scale, self.last)
        for end, value in ((self.first, lo), (self.last, hi)):
            if value is None:
                raise EventError(f"event '{self.name}': '{end}' is not a period of the panel's "
                                 f"kind ({scale.kind})")
        if hi < lo:
            raise EventError(f"event '{self.name}' ends ({self.last}) before it begins "
                             f"({self.first})")
        if hi < first_period or lo > last_period:
            raise EventError(f"event '{self.name}' ({self.first} to {self.last}) has no period "
                             f"inside the data ({scale.label(first_period)} to "
                             f"{scale.label(last_period)})")
        if lo <= first_period and hi >= last_period:
            raise EventError(f"event '{self.name}' covers every period of the data: its level "
                             "cannot be told from the series' own")
        return lo, hi

    def indicator(self, periods, scale: PeriodScale, first_period: int, last_period: int):
        """1.0 for the periods (ordinals) inside the event, else 0.0."""
        import numpy as np

        lo, hi = self.span(scale, first_period, last_period)
        periods = np.asarray(periods)
        return ((periods >= lo) & (periods <= hi)).astype(float)

    def as_dict(self, scale: PeriodScale, first_period: int, last_period: int) -> dict:
        lo, hi = self.span(scale, first_period, last_period)
        return {"label": self.label, "first": scale.label(lo), "last": scale.label(hi),
                "first_ordinal": lo, "last_ordinal": hi}


def _ordinal(scale: PeriodScale, label: str) -> int | None:
    """A label's ordinal; on a quarterly panel a month (``2020-03``) is read as its quarter."""
    value = scale.ordinal(label)
    if value is None and scale.kind == "quarter":
        month = PeriodScale("month").ordinal(label)
        return None if month is None else month // 3
    return value
