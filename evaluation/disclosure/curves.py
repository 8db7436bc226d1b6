"""Which part of a survival or cumulative incidence curve may be drawn.

A step curve gives counts away in two ways: the height of one step is about 1/n at risk (one
event), and a value times the number at risk is a count of events. So a curve is drawn

* only while at least ``floor`` persons are at risk (10 by default, the rule of several
  statistical offices for survival curves), and
* with steps that each hold at least ``threshold`` events: consecutive event times are merged
  until ``threshold`` events have accumulated, and the merged step is drawn at the time the last
  of them happened, at the curve's value there. Events after the last full step are not drawn
  (the curve stays flat to the end of the drawn time).

The report also prints each arm's curve value at fixed horizons (6, 12, 24 months). Such a value
and the drawn step before it are two readings of one curve: if 1 to ``threshold - 1`` events lay
between them, their difference times the number at risk gives those events away. So a horizon is
a checkpoint of the same merging: when events are pending there, the last drawn step since the
previous checkpoint is moved to the last event at or before the horizon (it then holds its own
events and the pending ones, at least ``threshold``), and the horizon's value is the drawn
curve's value. When no drawn step since the previous checkpoint can take them, the horizon's
value is not published (:func:`drawable` says which horizons may be).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def drawable(curve: pd.DataFrame, threshold: int, floor: int,
             horizons: Iterable[float] = ()) -> tuple[pd.DataFrame, dict[str, float]]:
    """The steps of each arm's curve that may be drawn, and where each arm's drawing ends.

    Parameters
    ----------
    curve
        Columns arm, time, estimate, at_risk, events (and optionally conf_low, conf_high), one
        row per event time (the bundle's curve table, unsuppressed).
    threshold, floor
        Smallest number of events per drawn step, smallest number at risk.
    horizons
        Days at which the report prints the curve's value (checkpoints, see the module text).

    Returns
    -------
    (pandas.DataFrame, dict)
        The kept rows (same columns), and per arm the last time that may be drawn (the last
        time with at least ``floor`` at risk; arms with none are absent).
    """
    return _drawable(curve, threshold, floor, horizons)[:2]


def undrawn_events(curve: pd.DataFrame, threshold: int, floor: int,
                   horizons: Iterable[float]) -> dict[tuple[str, float], float]:
    """Per (arm, horizon): the events between the curve's value at the horizon and the drawn
    curve (0 when the value is the drawn one, see the module text). A horizon after the drawn
    time, or an arm that is not drawn, is absent (its number at risk is below the floor)."""
    return _drawable(curve, threshold, floor, horizons)[2]


def _drawable(curve: pd.DataFrame, threshold: int, floor: int, horizons: Iterable[float]
              ) -> tuple[pd.DataFrame, dict[str, float], dict[tuple[str, float], float]]:
    checkpoints = sorted({float(h) for h in horizons})
    kept, ends, published = [], {}, {}
    for arm, part in curve.sort_values(["arm", "time"], kind="stable").groupby("arm", sort=False):
        at_risk = part["at_risk"].to_numpy(dtype=float)
        whole = len(part)
        part = part[np.logical_and.accumulate(at_risk >= floor)]
        if part.empty:
            continue
        ends[str(arm)] = end = float(part["time"].max())
        times = part["time"].to_numpy(dtype=float)
        rows, ok = _merge(times, part["events"].fillna(0).to_numpy(dtype=float), threshold,
                          checkpoints)
        published.update({(str(arm), h): ok[h] for h in checkpoints
                          if h <= end or len(part) == whole})
        kept.append(part.iloc[rows])
    steps = pd.concat(kept, ignore_index=True) if kept else curve.iloc[:0]
    return steps, ends, published


def _merge(times: np.ndarray, events: np.ndarray, threshold: int,
           checkpoints: list[float]) -> tuple[list[int], dict[float, float]]:
    """Indices of the drawn steps, and per checkpoint the events between its value and the
    drawn curve (0: the value is the drawn one)."""
    rows: list[int] = []
    ok: dict[float, float] = {}
    pending, movable_from = 0.0, 0  # rows[movable_from:] were drawn after the last checkpoint
    todo = list(checkpoints)

    def checkpoint(h: float, last: int) -> None:
        nonlocal pending, movable_from
        if pending and len(rows) > movable_from:
            rows[-1] = last  # the last step since the checkpoint takes the pending events
            pending = 0.0
        ok[h] = pending  # events still pending stay so: this horizon's value is not published
        movable_from = len(rows)

    for i, (t, n) in enumerate(zip(times, events)):
        while todo and todo[0] < t:
            checkpoint(todo.pop(0), i - 1)
        pending += n
        if pending >= threshold:
            rows.append(i)
            pending = 0.0
    for h in todo:
        checkpoint(h, len(times) - 1)
    return rows, ok


def events_by(curve: pd.DataFrame, arm: str, day: float) -> float:
    """Events in ``arm`` up to and including ``day`` (from the bundle's curve table)."""
    part = curve[(curve["arm"] == arm) & (curve["time"] <= day)]
    return float(part["events"].fillna(0).sum())
