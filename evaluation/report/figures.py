"""Figures drawn from bundle tables (presentation only), with disclosure control.

A curve table (``tables/<outcome>_curve.parquet``: arm, time in days, estimate = cumulative
incidence, conf_low, conf_high, at_risk, events) becomes a step plot per arm with a row of numbers
at risk underneath. Numbers at risk below the threshold are not printed and each arm's curve stops
once fewer than ``threshold`` persons are at risk (:func:`evaluation.disclosure.curve_visible`).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import disclosure
from .bundle import arm_of
from .texts import text

COLOURS = {"contacted": "#1b6ca8", "comparison": "#c8553d"}
DAYS_PER_MONTH = 30.4375


def _arms(curve: pd.DataFrame) -> pd.DataFrame:
    frame = curve.copy()
    if "arm" not in frame.columns:
        frame["arm"] = [arm_of(g) for g in frame.get("group", pd.Series([None] * len(frame)))]
    else:
        frame["arm"] = [arm_of(a) or str(a) for a in frame["arm"]]
    return frame.sort_values(["arm", "time"], kind="stable")


def visible_curve(curve: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The part of each arm's curve that may be drawn (at least ``threshold`` at risk)."""
    frame = _arms(curve)
    keep = np.zeros(len(frame), dtype=bool)
    pos = 0
    for _, part in frame.groupby("arm", sort=False):
        keep[pos:pos + len(part)] = disclosure.curve_visible(part["at_risk"].to_numpy(), threshold)
        pos += len(part)
    return frame[keep]


def at_risk_at(curve: pd.DataFrame, arm: str, day: float) -> float | None:
    """Number at risk in ``arm`` at ``day``: that of the last step at or before ``day``."""
    part = curve[(curve["arm"] == arm) & (curve["time"] <= day)]
    if part.empty:
        part = curve[curve["arm"] == arm].head(1)
        if part.empty:
            return None
    return float(part["at_risk"].iloc[-1])


def curve_figure(curve: pd.DataFrame, label: str, lang: str, threshold: int,
                 max_days: float | None = None, survival: bool = False):
    """Cumulative incidence by arm (percent) over months, with numbers at risk underneath.

    With ``survival=True`` the complement is drawn: the share still without the event
    (1 - cumulative incidence; the Kaplan-Meier survival when there are no competing events).

    Returns a matplotlib Figure (not managed by pyplot; see :func:`figure_png`).
    """
    full = _arms(curve)
    shown = visible_curve(full, threshold)
    fig = Figure(figsize=(6.4, 4.8), dpi=120)
    ax = fig.subplots()
    last_day = 0.0
    for arm in ("contacted", "comparison"):
        part = shown[shown["arm"] == arm]
        if part.empty:
            continue
        t = np.concatenate([[0.0], part["time"].to_numpy(dtype=float)]) / DAYS_PER_MONTH

        def share(column: str, part: pd.DataFrame = part) -> np.ndarray:
            values = np.concatenate([[0.0], part[column].to_numpy(dtype=float)])
            return 100 * (1 - values if survival else values)

        ax.step(t, share("estimate"), where="post", color=COLOURS[arm],
                label=text(f"arm_{arm}", lang), lw=2)
        if {"conf_low", "conf_high"} <= set(part.columns):
            ax.fill_between(t, share("conf_low"), share("conf_high"), step="post",
                            color=COLOURS[arm], alpha=0.15, lw=0)
        last_day = max(last_day, float(part["time"].max()))
    if max_days is not None:
        last_day = min(last_day, max_days)
    end_month = max(3, int(np.ceil(last_day / DAYS_PER_MONTH / 3.0) * 3))
    ticks = np.arange(0, end_month + 1, 3 if end_month <= 24 else 6)
    ax.set_xlim(0, end_month)
    ax.set_xticks(ticks)
    ax.set_xlabel(text("axis_time", lang), fontsize=11)
    ax.set_ylabel(text("axis_survival" if survival else "axis_share", lang) + " (%)", fontsize=11)
    ax.tick_params(labelsize=10)
    ax.set_title(label, fontsize=13)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left" if survival else "upper left", frameon=False, fontsize=10)
    # numbers at risk, below the axis
    ax.text(-0.09, -0.30, text("at_risk", lang), transform=ax.transAxes, ha="right", fontsize=10,
            fontweight="bold")
    for row, arm in enumerate(("contacted", "comparison")):
        y = -0.39 - 0.09 * row
        ax.text(-0.09, y, text(f"arm_{arm}", lang), transform=ax.transAxes, ha="right",
                fontsize=10, color=COLOURS[arm])
        for month in ticks:
            n = at_risk_at(full, arm, month * DAYS_PER_MONTH)
            ax.text(month / end_month, y, disclosure.at_risk_label(n, threshold),
                    transform=ax.transAxes, ha="center", fontsize=10, color=COLOURS[arm])
    fig.subplots_adjust(left=0.3, bottom=0.36, right=0.95, top=0.92)
    return fig


def figure_png(fig: Figure) -> bytes:
    """A figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def figure_svg(fig: Figure) -> str:
    """A figure as SVG (vector, for print) whose lettering stays text (DejaVu Sans, the font the
    PDF embeds), so that it can be searched and read aloud."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()
