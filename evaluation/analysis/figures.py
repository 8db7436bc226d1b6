"""Figures of the results bundle (matplotlib, Agg), deterministic and disclosure-safe.

Same inputs give the same bytes: the SVG hash salt and the file metadata are fixed. Numbers at
risk below the suppression threshold are never printed (shown as "<5"), and histogram bins of
the propensity overlap figure with fewer persons than the threshold are left empty.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..disclosure import at_risk_label, show_count

ARM_COLOURS = {"contacted": "#1f77b4", "comparison": "#d62728"}
ARM_LABELS = {"contacted": "Contacted", "comparison": "Comparison"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "evaluation"
    plt.rcParams["svg.fonttype"] = "path"
    plt.rcParams["path.simplify"] = True
    return plt


def save(fig, folder: Path, stem: str) -> dict[str, str]:
    """Write ``<stem>.png`` and ``<stem>.svg`` into ``folder`` with fixed metadata."""
    plt = _plt()
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / f"{stem}.png", dpi=120, metadata={"Software": None})
    fig.savefig(folder / f"{stem}.svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return {"png": f"{folder.name}/{stem}.png", "svg": f"{folder.name}/{stem}.svg"}


def risk_label(count: float, threshold: int) -> str:
    """A number at risk as printed under a curve: the count, or "<5" when small."""
    label = at_risk_label(count, threshold)
    if label == "" and count is not None and not (isinstance(count, float) and np.isnan(count)) and count > 0:
        label = show_count(count, threshold)
    return label


def curve_figure(curve: pd.DataFrame, at_risk: pd.DataFrame, title: str, threshold: int,
                 max_time: dict[str, float] | None = None):
    """Cumulative incidence by arm (step curves with 95% bands) and a numbers-at-risk table.

    ``curve``: arm, time, estimate, conf_low, conf_high. ``at_risk``: arm, time, at_risk.
    ``max_time``: per arm the last follow-up time; the curve stays flat after its last event
    up to that time. A curve stops where fewer than ``threshold`` persons are at risk.
    """
    plt = _plt()
    fig, (ax, tab) = plt.subplots(2, 1, figsize=(7, 5.2), gridspec_kw={"height_ratios": [4, 1]})
    tmax = float(at_risk["time"].max()) if len(at_risk) else float(curve["time"].max())
    for arm in ("contacted", "comparison"):
        c = curve[curve["arm"] == arm].sort_values("time")
        if c.empty:
            continue
        c = c[c["time"] <= tmax]
        end = min(tmax, (max_time or {}).get(arm, tmax))
        # disclosure: the curve stops where fewer than `threshold` persons are still followed
        if "at_risk" in c:
            small = c["at_risk"].to_numpy(float) < threshold
            if small.any():
                end = min(end, float(c["time"].to_numpy(float)[np.argmax(small)]))
                c = c[c["time"] < end]
        t = np.concatenate([[0.0], c["time"].to_numpy(float)])
        est = np.concatenate([[0.0], c["estimate"].to_numpy(float)])
        lo = np.concatenate([[0.0], c["conf_low"].to_numpy(float)])
        hi = np.concatenate([[0.0], c["conf_high"].to_numpy(float)])
        if end > t[-1]:
            t, est, lo, hi = (np.append(t, end), np.append(est, est[-1]), np.append(lo, lo[-1]),
                              np.append(hi, hi[-1]))
        ax.step(t, est, where="post", color=ARM_COLOURS[arm], label=ARM_LABELS[arm])
        ax.fill_between(t, lo, hi, step="post", color=ARM_COLOURS[arm], alpha=0.15, linewidth=0)
    ax.set_xlim(0, tmax)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("Cumulative incidence")
    ax.set_xlabel("Days since index date")
    ax.set_title(title)
    ax.legend(loc="upper left", frameon=False)
    ax.grid(alpha=0.3)
    times = sorted(at_risk["time"].unique())
    tab.set_xlim(0, tmax)
    tab.set_ylim(-0.5, 1.5)
    tab.axis("off")
    tab.text(0, 1.9, "Number at risk", fontsize=8, va="center")
    for y, arm in ((1, "contacted"), (0, "comparison")):
        tab.text(-0.02 * tmax, y, ARM_LABELS[arm], ha="right", va="center", fontsize=8,
                 color=ARM_COLOURS[arm])
        a = at_risk[at_risk["arm"] == arm].set_index("time")["at_risk"]
        for t in times:
            tab.text(t, y, risk_label(float(a.get(t, 0)), threshold), ha="center", va="center", fontsize=8)
    fig.tight_layout()
    return fig


def forest_figure(rows: pd.DataFrame):
    """Hazard ratios with 95% CIs. ``rows``: label, analysis, hazard_ratio, low, high."""
    plt = _plt()
    n = max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(7, 0.45 * n + 1.4))
    y = np.arange(len(rows))[::-1]
    colours = np.where(rows["analysis"] == "matched", "#1f77b4", "#7f7f7f")
    for yi, (_, r), col in zip(y, rows.iterrows(), colours):
        ax.plot([r["low"], r["high"]], [yi, yi], color=col)
        ax.plot([r["hazard_ratio"]], [yi], "s", color=col)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    from matplotlib.ticker import FixedLocator, NullLocator, StrMethodFormatter

    lo = float(np.nanmin(rows["low"])) if len(rows) else 0.5
    hi = float(np.nanmax(rows["high"])) if len(rows) else 2.0
    ticks = [t for t in (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0, 10.0) if lo / 1.5 <= t <= hi * 1.5]
    ax.xaxis.set_major_locator(FixedLocator(ticks or [1.0]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
    ax.set_yticks(y)
    ax.set_yticklabels([f"{lbl} ({a})" for lbl, a in zip(rows["label"], rows["analysis"])], fontsize=8)
    ax.set_xlabel("Hazard ratio, contacted vs comparison (log scale)")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def balance_figure(balance: pd.DataFrame, max_smd: float, labels: dict[str, str] | None = None):
    """Absolute standardised mean differences before and after matching, per covariate
    (named by ``labels`` where given)."""
    plt = _plt()
    b = balance.copy()
    b["covariate"] = b["covariate"].astype(str).map(lambda c: (labels or {}).get(c, c))
    b = b.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * max(len(b), 1) + 1.4))
    y = np.arange(len(b))
    if "smd_before" in b:
        ax.plot(b["smd_before"].abs(), y, "o", color="#7f7f7f", label="Before matching")
    if "smd_after" in b:
        ax.plot(b["smd_after"].abs(), y, "o", color="#1f77b4", label="After matching")
    ax.axvline(max_smd, color="black", linestyle="--", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(b["covariate"].astype(str), fontsize=8)
    ax.set_xlabel("Absolute standardised mean difference")
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def overlap_figure(propensity: pd.DataFrame, threshold: int):
    """Propensity-score distributions by arm (share of each arm per bin).

    Bins holding fewer persons than the suppression threshold are left empty.
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    bins = np.linspace(0, 1, 41)
    ps = propensity.dropna(subset=["propensity_score"])
    if len(ps):
        hi = float(ps["propensity_score"].max())
        bins = np.linspace(0, max(hi, 1e-3) * 1.0001, 41)
    for arm in ("contacted", "comparison"):
        s = ps[ps["arm"] == arm]["propensity_score"].to_numpy(float)
        if len(s) == 0:
            continue
        counts, edges = np.histogram(s, bins=bins)
        counts = np.where(counts < threshold, 0, counts)
        share = counts / len(s)
        ax.stairs(share, edges, color=ARM_COLOURS[arm], label=ARM_LABELS[arm], fill=True, alpha=0.35)
    ax.set_xlabel("Propensity score")
    ax.set_ylabel("Share of arm")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
