"""Which part of a survival or cumulative incidence curve may be drawn.

A step curve gives counts away in two ways: the height of one step is about 1/n at risk (one
event), and a value times the number at risk is a count of events. So a curve is drawn

* only while at least ``floor`` persons are at risk (10 by default, the rule of several
  statistical offices for survival curves), and
* with steps that each hold at least ``threshold`` events: consecutive event times are merged
  until ``threshold`` events have accumulated, and the merged step is drawn at the time the last
  of them happened, at the curve's value there. Events after the last full step are not drawn
  (the curve stays flat to the end of the drawn time).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def drawable(curve: pd.DataFrame, threshold: int, floor: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """The steps of each arm's curve that may be drawn, and where each arm's drawing ends.

    Parameters
    ----------
    curve
        Columns arm, time, estimate, at_risk, events (and optionally conf_low, conf_high), one
        row per event time (the bundle's curve table, unsuppressed).
    threshold, floor
        Smallest number of events per drawn step, smallest number at risk.

    Returns
    -------
    (pandas.DataFrame, dict)
        The kept rows (same columns), and per arm the last time that may be drawn (the last
        time with at least ``floor`` at risk; arms with none are absent).
    """
    kept, ends = [], {}
    for arm, part in curve.sort_values(["arm", "time"], kind="stable").groupby("arm", sort=False):
        at_risk = part["at_risk"].to_numpy(dtype=float)
        part = part[np.logical_and.accumulate(at_risk >= floor)]
        if part.empty:
            continue
        ends[str(arm)] = float(part["time"].max())
        rows, pending = [], 0.0
        for i, n in enumerate(part["events"].fillna(0).to_numpy(dtype=float)):
            pending += n
            if pending >= threshold:
                rows.append(i)
                pending = 0.0
        kept.append(part.iloc[rows])
    steps = pd.concat(kept, ignore_index=True) if kept else curve.iloc[:0]
    return steps, ends


def events_by(curve: pd.DataFrame, arm: str, day: float) -> float:
    """Events in ``arm`` up to and including ``day`` (from the bundle's curve table)."""
    part = curve[(curve["arm"] == arm) & (curve["time"] <= day)]
    return float(part["events"].fillna(0).sum())
