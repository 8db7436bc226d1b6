"""Figures, drawn at render time from the bundle's unsuppressed data with the report's checker.

Figures are presentation: the bundle keeps the data (curve, at-risk, balance, propensity and
forest tables) and the report draws them in its language with the disclosure rules in force, so
a figure can never follow another threshold than the text around it.

- :func:`curve_figure`: cumulative incidence (or the share without the event) by arm. Only the
  steps of :func:`evaluation.disclosure.curves.drawable` are drawn (at least ``curve_floor`` at
  risk, at least ``threshold`` events per drawn step). The numbers at risk underneath are those
  of the bundle's at-risk table at each tick time (the same computation), each through the
  checker (hidden ones show the neutral marker).
- :func:`overlap_figure`: propensity score histograms; bins the checker hides are left empty, an
  arm whose size is hidden is left out.
- :func:`balance_figure`: absolute SMDs; an SMD the checker hides is not drawn.
- :func:`forest_figure`: hazard ratios; a row the checker hides is not drawn.

Every function returns a matplotlib Figure not managed by pyplot (:func:`figure_png`).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..disclosure import Checker
from ..disclosure.curves import drawable
from ..timeunits import DAYS_PER_MONTH, months_to_days
from .cells import arm_names, tick_months
from .texts import text, vocabulary_label

COLOURS = {"contacted": "#1b6ca8", "comparison": "#c8553d"}


def visible_curve(curve: pd.DataFrame, threshold: int, floor: int | None = None) -> pd.DataFrame:
    """The steps of each arm's curve that may be drawn (:func:`~evaluation.disclosure.curves.
    drawable` with ``floor`` defaulting to the threshold)."""
    steps, _ = drawable(arm_names(curve), threshold, floor if floor is not None else threshold)
    return steps


def at_risk_key(outcome_id: str, arm: str, day: float) -> str:
    """The checker key of a number at risk (as registered by :mod:`evaluation.report.cells`)."""
    return f"outcome/{outcome_id}/at_risk/{arm}/{round(day)}"


def curve_figure(curve: pd.DataFrame, risk: pd.DataFrame | None, label: str, lang: str,
                 check: Checker, outcome_id: str, survival: bool = False,
                 horizons: Iterable[float] = ()) -> Figure:
    """Cumulative incidence by arm (percent) over months, with numbers at risk underneath.

    With ``survival=True`` the complement is drawn: the share still without the event
    (1 - cumulative incidence; the Kaplan-Meier survival when there are no competing events).
    ``horizons``: the days whose curve values the report prints (checkpoints of the drawing,
    :mod:`evaluation.disclosure.curves`).
    """
    steps, ends = drawable(arm_names(curve), check.threshold, check.curve_floor, horizons)
    fig = Figure(figsize=(6.4, 4.8), dpi=120)
    ax = fig.subplots()
    for arm in ("contacted", "comparison"):
        if arm not in ends:
            continue
        part = steps[steps["arm"] == arm]
        t = np.concatenate([[0.0], part["time"].to_numpy(dtype=float), [ends[arm]]]) / DAYS_PER_MONTH

        def share(column: str, part: pd.DataFrame = part) -> np.ndarray:
            values = np.concatenate([[0.0], part[column].to_numpy(dtype=float)])
            values = np.append(values, values[-1])
            return 100 * (1 - values if survival else values)

        ax.step(t, share("estimate"), where="post", color=COLOURS[arm],
                label=text(f"arm_{arm}", lang), lw=2)
        if {"conf_low", "conf_high"} <= set(part.columns):
            ax.fill_between(t, share("conf_low"), share("conf_high"), step="post",
                            color=COLOURS[arm], alpha=0.15, lw=0)
    ticks = tick_months(max(ends.values(), default=0.0))
    end_month = float(ticks[-1])
    ax.set_xlim(0, end_month)
    ax.set_xticks(ticks)
    ax.set_xlabel(text("axis_time", lang), fontsize=11)
    ax.set_ylabel(text("axis_survival" if survival else "axis_share", lang) + " (%)", fontsize=11)
    ax.tick_params(labelsize=10)
    ax.set_title(label, fontsize=13)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left" if survival else "upper left", frameon=False, fontsize=10)
    ax.text(-0.09, -0.30, text("at_risk", lang), transform=ax.transAxes, ha="right", fontsize=10,
            fontweight="bold")
    for row, arm in enumerate(("contacted", "comparison")):
        y = -0.39 - 0.09 * row
        ax.text(-0.09, y, text(f"arm_{arm}", lang), transform=ax.transAxes, ha="right",
                fontsize=10, color=COLOURS[arm])
        for month in ticks:
            ax.text(month / end_month, y, at_risk_text(check, outcome_id, arm, month, risk),
                    transform=ax.transAxes, ha="center", fontsize=10, color=COLOURS[arm])
    fig.subplots_adjust(left=0.3, bottom=0.36, right=0.95, top=0.92)
    return fig


def at_risk_text(check: Checker, outcome_id: str, arm: str, month: float,
                 risk: pd.DataFrame | None) -> str:
    """The number at risk printed under a curve at ``month``: the bundle's at-risk table's count
    at that day, through the checker ("" when the table has no row for that day)."""
    key = at_risk_key(outcome_id, arm, months_to_days(month))
    if risk is None or key not in check.entries:
        return ""
    return check.count_text(key)


def overlap_figure(propensity: pd.DataFrame, lang: str, check: Checker) -> Figure:
    """Propensity-score distributions by arm (share of each arm per bin); hidden bins empty, and
    an arm whose size is hidden is not drawn (its bars would give the size away)."""
    from .cells import overlap_bins, overlap_shares_key

    edges, counts = overlap_bins(propensity)
    fig = Figure(figsize=(7, 4), dpi=90)
    ax = fig.subplots()
    for arm, values in counts.items():
        if values.sum() == 0 or check.suppressed(overlap_shares_key(arm)):
            continue
        shown = np.array([0 if check.suppressed(f"overlap/{arm}/bin{i}") else v
                          for i, v in enumerate(values)], dtype=float)
        ax.stairs(shown / values.sum(), edges, color=COLOURS[arm], label=text(f"arm_{arm}", lang),
                  fill=True, alpha=0.35)
    ax.set_xlabel(text("axis_propensity", lang))
    ax.set_ylabel(text("axis_share_of_arm", lang))
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def balance_figure(balance: pd.DataFrame, max_smd: float, labels: dict[str, str], lang: str,
                   check: Checker) -> Figure:
    """Absolute standardised mean differences before and after matching, per covariate."""
    b = balance.iloc[::-1].reset_index(drop=True)
    fig = Figure(figsize=(7, 0.35 * max(len(b), 1) + 1.4), dpi=90)
    ax = fig.subplots()
    y = np.arange(len(b))
    for stage, colour in (("before", "#7f7f7f"), ("after", "#1b6ca8")):
        column = f"smd_{stage}"
        if column not in b:
            continue
        values = [np.nan if check.suppressed(f"balance/{stage}/{c}/smd") else abs(float(v))
                  for c, v in zip(b["covariate"].astype(str), b[column])]
        ax.plot(values, y, "o", color=colour, label=text(f"legend_{stage}", lang))
    ax.axvline(max_smd, color="black", linestyle="--", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([labels.get(c, c) for c in b["covariate"].astype(str)], fontsize=8)
    ax.set_xlabel(text("axis_smd", lang))
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def forest_figure(rows: pd.DataFrame, lang: str) -> Figure:
    """Hazard ratios with 95% CIs. ``rows``: label, analysis, hazard_ratio, low, high (rows the
    checker hides are left out by the caller)."""
    from matplotlib.ticker import FixedLocator, NullLocator, StrMethodFormatter

    n = max(len(rows), 1)
    fig = Figure(figsize=(7, 0.45 * n + 1.4), dpi=90)
    ax = fig.subplots()
    y = np.arange(len(rows))[::-1]
    colours = np.where(rows["analysis"] == "matched", "#1b6ca8", "#7f7f7f")
    for yi, (_, r), col in zip(y, rows.iterrows(), colours):
        ax.plot([r["low"], r["high"]], [yi, yi], color=col)
        ax.plot([r["hazard_ratio"]], [yi], "s", color=col)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    lo = float(np.nanmin(rows["low"])) if len(rows) else 0.5
    hi = float(np.nanmax(rows["high"])) if len(rows) else 2.0
    ticks = [t for t in (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0, 10.0)
             if lo / 1.5 <= t <= hi * 1.5]
    ax.xaxis.set_major_locator(FixedLocator(ticks or [1.0]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
    ax.set_yticks(y)
    ax.set_yticklabels([f"{lbl}: {vocabulary_label('analysis', a, lang).lower()}"
                        for lbl, a in zip(rows["label"], rows["analysis"])],
                       fontsize=8)
    ax.set_xlabel(text("axis_hr", lang))
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def _saved(fig: Figure, buf: io.IOBase, **kwargs: Any) -> None:
    """Save ``fig`` with every text in it drawn as plain text: a ``$`` in a label (from a plan or
    the data) is a dollar sign, never the start of math text."""
    import matplotlib
    from matplotlib.text import Text

    for item in fig.findobj(Text):
        item.set_parse_math(False)
    # tick labels made while drawing take the default from here
    with matplotlib.rc_context({"text.parse_math": False, "svg.fonttype": "none"}):
        fig.savefig(buf, **kwargs)


def figure_png(fig: Figure) -> bytes:
    """A figure as PNG bytes (no timestamp: the same data give the same bytes)."""
    buf = io.BytesIO()
    _saved(fig, buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def figure_svg(fig: Figure) -> str:
    """A figure as SVG (vector, for print) whose lettering stays text (DejaVu Sans, the font the
    PDF embeds), so that it can be searched and read aloud."""
    buf = io.StringIO()
    _saved(fig, buf, format="svg", metadata={"Date": None})
    return buf.getvalue()
