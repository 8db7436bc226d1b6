"""The area panel: one validated data-preparation object shared by every area-level estimator.

:func:`prepare` checks a panel once (units, periods, the treated unit, the start of the
initiative, the pre- and post-periods) and returns an :class:`AreaPanel`; the estimators in
:mod:`.its`, :mod:`.did` and :mod:`.synth` take it and never re-check. A bad panel raises one
:class:`PanelError` naming the file, the row (1-based data row) and the column.

Minimum sizes (small enough for the classic published studies: Card and Krueger's two waves,
Abadie, Diamond and Hainmueller's 19 pre-treatment years and 38 donor states):

- difference-in-differences: 1 comparison unit and 1 pre-period (2 pre-periods for its
  pre-trend test);
- synthetic control: 2 donors and 5 pre-periods (placebo p-values below 0.05 need 19 donors);
- interrupted time series: 5 pre-periods, and 2 full years before the start to estimate
  seasonality (with fewer the model has no season terms and says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from .events import Event, EventError
from .periods import PeriodScale, detect_scale, to_ordinals

MIN_DONORS = {"did": 1, "synth": 2}
MIN_PRE_PERIODS = {"did": 1, "synth": 5, "its": 5}


class PanelError(InputError):
    """A panel that the area estimators cannot use (file, row and column where known)."""


@dataclass(frozen=True)
class Covariate:
    """A predictor of the synthetic control: ``column`` averaged over ``periods`` (None: all
    pre-periods). Written ``name`` or ``name@FIRST-LAST`` on the command line."""

    column: str
    first: str | None = None
    last: str | None = None

    @classmethod
    def parse(cls, text: str) -> Covariate:
        name, _, span = text.partition("@")
        if not span:
            return cls(name.strip())
        first, sep, last = span.partition("-") if "-" in span and span.count("-") == 1 else (span, "", span)
        return cls(name.strip(), first.strip(), (last if sep else first).strip())


@dataclass(frozen=True)
class AreaPanel:
    """A balanced panel of units by periods with one treated unit (or group) and a start.

    ``data`` has columns ``unit`` (text), ``period`` (ordinal), ``season``, ``outcome``,
    ``treated`` (1 for the treated unit), ``post`` (1 from the start on) and the covariates.
    """

    data: pd.DataFrame
    unit: str
    time: str
    outcome: str
    treated_unit: str
    start: int
    scale: PeriodScale
    covariates: tuple[Covariate, ...] = ()
    count_outcome: bool = False
    source: str = "panel"
    group: str | None = None
    treated_units: tuple[str, ...] = field(default=())
    outcome_lags: tuple[int, ...] = ()
    events: tuple[Event, ...] = ()

    @property
    def periods(self) -> np.ndarray:
        return np.sort(self.data["period"].unique())

    @property
    def pre_periods(self) -> np.ndarray:
        return self.periods[self.periods < self.start]

    @property
    def post_periods(self) -> np.ndarray:
        return self.periods[self.periods >= self.start]

    @property
    def units(self) -> list[str]:
        return sorted(self.data["unit"].unique())

    @property
    def donors(self) -> list[str]:
        return sorted(set(self.units) - set(self.treated_units))

    def event_indicators(self, periods: np.ndarray) -> dict[str, np.ndarray]:
        """One 0/1 column per declared event over ``periods`` (``event_1``, ``event_2``, ...)."""
        lo, hi = int(self.periods[0]), int(self.periods[-1])
        return {f"event_{i}": e.indicator(periods, self.scale, lo, hi)
                for i, e in enumerate(self.events, 1)}

    def label(self, period: int) -> str:
        return self.scale.label(int(period))

    def wide(self, column: str = "outcome") -> pd.DataFrame:
        """Periods by units (one column per unit)."""
        return self.data.pivot(index="period", columns="unit", values=column).sort_index()

    def require(self, method: str) -> None:
        """Raise a :class:`PanelError` when the panel is too small for ``method``."""
        donors = len(self.donors)
        need = MIN_DONORS.get(method, 0)
        if donors < need:
            raise PanelError(f"{method} needs at least {need} comparison units besides the treated "
                             f"one; the panel has {donors}", file=self.source, column=self.unit)
        pre = len(self.pre_periods)
        if pre < MIN_PRE_PERIODS[method]:
            raise PanelError(f"{method} needs at least {MIN_PRE_PERIODS[method]} periods before "
                             f"the start; the panel has {pre}", file=self.source, column=self.time)
        if method in ("its", "synth") and len(self.treated_units) > 1:
            raise PanelError(f"{method} needs one treated unit; the group names "
                             f"{len(self.treated_units)}", file=self.source, column=self.group)

    def without(self, units: list[str]) -> AreaPanel:
        """The same panel without some donors (for leave-one-out)."""
        keep = ~self.data["unit"].isin(units)
        return _replace(self, data=self.data.loc[keep].reset_index(drop=True))

    def with_treated(self, unit: str) -> AreaPanel:
        """The same panel with another unit as the treated one and the real one left out
        (a placebo-in-space run)."""
        data = self.data.loc[~self.data["unit"].isin(self.treated_units)].copy()
        data["treated"] = (data["unit"] == unit).astype(int)
        return _replace(self, data=data.reset_index(drop=True), treated_unit=unit,
                        treated_units=(unit,))


def _replace(panel: AreaPanel, **changes) -> AreaPanel:
    import dataclasses

    return dataclasses.replace(panel, **changes)


def _row_of(frame: pd.DataFrame, mask: pd.Series | np.ndarray) -> int:
    """1-based data row of the first True in ``mask``."""
    return int(np.flatnonzero(np.asarray(mask))[0]) + 1


def _check_columns(frame: pd.DataFrame, needed: list[str], source: str) -> None:
    for col in needed:
        if col not in frame.columns:
            raise PanelError(f"no such column (the panel has {', '.join(map(str, frame.columns))})",
                             file=source, column=col)


def _numeric(frame: pd.DataFrame, col: str, source: str) -> pd.Series:
    values = pd.to_numeric(frame[col], errors="coerce")
    bad = values.isna() & frame[col].notna()
    if bad.any():
        raise PanelError("is not a number", file=source, row=_row_of(frame, bad), column=col)
    if values.isna().any():
        raise PanelError("is empty (every unit needs a value in every period)", file=source,
                         row=_row_of(frame, values.isna()), column=col)
    return values.astype(float)


def prepare(
    frame: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    treated_unit: str,
    start: str | int,
    covariates: tuple[Covariate, ...] | tuple[str, ...] = (),
    group: str | None = None,
    source: str = "panel",
    events: tuple[Event, ...] | tuple[str, ...] = (),
) -> AreaPanel:
    """Check a long panel (one row per unit and period) and return an :class:`AreaPanel`.

    ``treated_unit`` is a value of ``unit``; with ``group``, it is a value of that column and
    every unit of the group is treated (Card and Krueger's stores in New Jersey). ``events``:
    known calendar events the interrupted time series adjusts for (:mod:`.events`).
    """
    covs = tuple(c if isinstance(c, Covariate) else Covariate.parse(c) for c in covariates)
    _check_columns(frame, [unit, time, outcome, *(c.column for c in covs), *([group] if group else [])], source)
    if frame.empty:
        raise PanelError("the panel has no rows", file=source)
    units = frame[unit]
    if units.isna().any():
        raise PanelError("is empty", file=source, row=_row_of(frame, units.isna()), column=unit)
    units = units.astype(str).str.strip()
    scale = detect_scale(frame[time])
    periods = to_ordinals(frame[time], scale)
    if periods.isna().any():
        raise PanelError("is not a period (a year or number, YYYY-MM, or a quarter like 2024Q1 "
                         "or 2024K1)", file=source, row=_row_of(frame, periods.isna()), column=time)
    dup = pd.DataFrame({"u": units, "p": periods}).duplicated()
    if dup.any():
        raise PanelError("repeats a unit and period already in the panel", file=source,
                         row=_row_of(frame, dup), column=time)
    start_ordinal = scale.ordinal(start)
    if start_ordinal is None:
        raise PanelError(f"the start '{start}' is not a period of the panel's kind ({scale.kind})",
                         file=source, column=time)
    lo, hi = int(periods.min()), int(periods.max())
    if not lo < start_ordinal <= hi:
        raise PanelError(f"the start {scale.label(start_ordinal)} is outside the data: it must be "
                         f"after the first period {scale.label(lo)} and no later than the last "
                         f"{scale.label(hi)}", file=source, column=time)
    treated = _treated_units(frame, units, group, str(treated_unit), source, unit)
    data = pd.DataFrame({"unit": units.to_numpy(), "period": periods.to_numpy(dtype=int),
                         "outcome": _numeric(frame, outcome, source).to_numpy()})
    for c in covs:
        data[c.column] = pd.to_numeric(frame[c.column], errors="coerce").to_numpy()
    _check_balanced(data, scale, source, unit, time)
    data["season"] = scale.season(data["period"].to_numpy())
    data["treated"] = data["unit"].isin(treated).astype(int)
    data["post"] = (data["period"] >= start_ordinal).astype(int)
    data = data.sort_values(["unit", "period"]).reset_index(drop=True)
    y = data["outcome"]
    count = bool((y >= 0).all() and np.allclose(y, np.round(y)))
    declared = _events(events, scale, lo, hi, source, time)
    return AreaPanel(data=data, unit=unit, time=time, outcome=outcome, treated_unit=str(treated_unit),
                     start=start_ordinal, scale=scale, covariates=covs, count_outcome=count,
                     source=source, group=group, treated_units=tuple(treated), events=declared)


def _events(events, scale: PeriodScale, lo: int, hi: int, source: str, time: str
            ) -> tuple[Event, ...]:
    """The declared events, each checked against the panel's periods."""
    out = []
    for e in events:
        try:
            event = e if isinstance(e, Event) else Event.parse(e)
            event.span(scale, lo, hi)
        except EventError as exc:
            raise PanelError(str(exc), file=source, column=time) from None
        out.append(event)
    return tuple(out)


def _treated_units(frame, units, group, treated_unit, source, unit_col) -> list[str]:
    if group is None:
        if treated_unit not in set(units):
            raise PanelError(f"the treated unit '{treated_unit}' is not in the data",
                             file=source, column=unit_col)
        return [treated_unit]
    labels = frame[group].astype(str).str.strip()
    treated = sorted(set(units[labels == treated_unit]))
    if not treated:
        raise PanelError(f"no unit has the treated value '{treated_unit}'", file=source, column=group)
    return treated


def _check_balanced(data: pd.DataFrame, scale: PeriodScale, source: str, unit: str, time: str) -> None:
    periods = np.sort(data["period"].unique())
    counts = data.groupby("unit")["period"].nunique()
    short = counts[counts < len(periods)]
    if len(short):
        name = short.index[0]
        have = set(data.loc[data["unit"] == name, "period"])
        missing = [scale.label(p) for p in periods if p not in have]
        raise PanelError(f"unit '{name}' has no row for {len(missing)} of the {len(periods)} "
                         f"periods (first missing: {missing[0]}); every unit needs every period",
                         file=source, column=time)
    gaps = np.diff(periods)
    if (gaps > 1).any():
        at = periods[int(np.flatnonzero(gaps > 1)[0])]
        raise PanelError(f"no unit has data for the period after {scale.label(at)}; the "
                         "periods must be consecutive", file=source, column=time)
