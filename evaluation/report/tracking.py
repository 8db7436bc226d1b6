"""Report parts of the tracking series (``<output>/<Q>/tracking/tracking.json``).

Mixed into :class:`evaluation.report.present.Report`. Everything shown is read from the series
that ``evaluation track`` wrote beside the quarter's bundle; nothing is estimated here.

Disclosure. Counts go through the report's count cell (the suppression threshold), shares
through :func:`evaluation.disclosure.show_percent`, and a share is also hidden when the persons
*not* counted in it are fewer than the threshold (``n - k`` would be published by subtraction).
The series repeat numbers each quarter: a cumulative count published now and the same count
published a quarter earlier differ by the persons added in the quarter, so a count whose
difference from the last shown value of its series is a small nonzero number is suppressed
(:func:`series_suppressed`). Medians and quartiles of days are shown only for at least
:data:`MIN_FOR_QUANTILES` persons (an order statistic is one person's value).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .. import disclosure
from . import fmt, tables
from .texts import category_label

#: Fewest persons behind a median or quartile shown (2 x the default threshold).
MIN_FOR_QUANTILES = 10
FAMILY_ORDER = ("reoffending", "education_job", "group_recruitment")


def series_suppressed(values: list[float | None], threshold: int) -> list[bool]:
    """Which values of a repeated series to suppress so that no difference between two shown
    values is a small nonzero count (primary suppression of the values themselves included)."""
    out, last = [], None
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(False)
            continue
        hide = disclosure.is_small(v, threshold) or (
            last is not None and disclosure.is_small(abs(v - last), threshold))
        out.append(hide)
        if not hide:
            last = v
    return out


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def trajectory_figure(rows: list[dict], shown: list[dict], label: str, lang: str):
    """Risk difference (percentage points) and 95% interval per quarter, with the no-effect
    line; quarters whose estimate is not shown (gates, small numbers) stay empty."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    quarters = [r["quarter"] for r in rows]
    x = {q: i for i, q in enumerate(quarters)}
    fig = Figure(figsize=(5.2, 2.2), dpi=110)
    ax = fig.add_subplot()
    ax.axhline(0.0, color="#555555", linewidth=1.0)
    if shown:
        xs = [x[r["quarter"]] for r in shown]
        est = [100 * r["rd"] for r in shown]
        lo = [100 * (r["rd"] - r["rd_low"]) for r in shown]
        hi = [100 * (r["rd_high"] - r["rd"]) for r in shown]
        ax.errorbar(xs, est, yerr=[lo, hi], fmt="o", color="#1b6ca8", capsize=3, markersize=4)
    else:
        ax.set_ylim(-10, 10)  # nothing to show yet: the no-effect line in the middle
    ax.set_xlim(-0.5, len(quarters) - 0.5)
    step = max(1, len(quarters) // 6)
    ax.set_xticks(range(0, len(quarters), step), quarters[::step], fontsize=8)
    ax.set_ylabel("%-point" if lang == "da" else "pct. points", fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title(label, fontsize=9, loc="left")
    fig.tight_layout()
    return fig


class TrackingParts:
    """Report methods of the tracking series (see the module docstring)."""

    # -- data -------------------------------------------------------------------------------
    def _tracking(self) -> dict[str, Any] | None:
        if not hasattr(self, "_tracking_doc"):
            path = Path(self.bundle.path).parent / "tracking" / "tracking.json"
            self._tracking_doc = (json.loads(path.read_text(encoding="utf-8"))
                                  if path.is_file() else None)
        return self._tracking_doc

    def _series(self, family: str) -> list[dict[str, Any]]:
        doc = self._tracking() or {}
        rows = [r for r in doc.get("trajectory", []) if r.get("family") == family]
        return sorted(rows, key=lambda r: r["look"])

    def _families(self) -> list[str]:
        doc = self._tracking() or {}
        present = {r.get("family") for r in doc.get("trajectory", [])}
        return [f for f in FAMILY_ORDER if f in present]

    def boundary_for(self, family: str) -> float | None:
        """The boundary (z) of the current look for ``family``; None without a series.

        Infinite when the scheme allows no test at this look (a very early look, or after the
        last planned look)."""
        rows = [r for r in self._series(family) if r.get("quarter") == self.quarter]
        if not rows:
            return None
        b = _num(rows[0].get("boundary_z"))
        return b if b is not None else math.inf

    def _missing_series(self) -> bool:
        """True without a series; the first part asking says so once per document."""
        if self._tracking() is not None:
            return False
        if not getattr(self, "_tracking_noted", False):
            self._tracking_noted = True
            self._show(self.t("trk_tracking_missing"))
        return True

    def _share(self, k: Any, n: Any, suppressed: bool = False) -> str:
        k, n = _num(k), _num(n)
        if k is None or n is None or n == 0:
            return self.t("trk_not_yet_known")
        hidden = suppressed or disclosure.is_small(n - k, self.threshold)
        return disclosure.show_percent(k, n, self.threshold, lang=self.lang, digits=0,
                                       suppressed=hidden)

    # -- council report ---------------------------------------------------------------------
    def trajectory(self) -> None:
        """One small figure per outcome family: the estimate and its interval over quarters."""
        if self._missing_series():
            return
        self.heading("trk_h_trajectory")
        self.paragraph("trk_trajectory_intro")
        for family in self._families():
            rows = self._series(family)
            shown = [r for r in rows if r.get("gates_passed") and _num(r.get("rd")) is not None
                     and not self._small_arms(r)]
            label = category_label(family, self.lang)
            caption = self.t("trk_trajectory_caption", label=label, n=len(shown), total=len(rows))
            self.figure(trajectory_figure(rows, shown, label, self.lang), caption)
            self._show("*" + caption + "*")

    def _small_arms(self, row: dict[str, Any]) -> bool:
        counts = [row.get(k) for k in ("events_contacted", "events_comparison",
                                        "population_contacted", "population_comparison")]
        return any(disclosure.is_small(_num(c), self.threshold) for c in counts)

    def expected_answer(self) -> None:
        """When an answer can be expected: one sentence per outcome family."""
        if self._missing_series():
            return
        self.heading("trk_h_expected")
        doc = self._tracking()
        items = []
        for family in self._families():
            p = (doc.get("projections") or {}).get(family) or {}
            label = category_label(family, self.lang)
            target = _num(p.get("target_hr")) or 0.8
            size = fmt.percent(abs(1 - min(target, 1 / target)), self.lang, digits=0)
            if p.get("already_detectable"):
                items.append(self.t("trk_expected_now", label=label, size=size))
            elif p.get("expected_quarter"):
                items.append(self.t("trk_expected_quarter", label=label, size=size,
                                    quarter=p["expected_quarter"]))
            elif p.get("reason") == "no events yet":
                items.append(self.t("trk_expected_no_events", label=label))
            else:
                items.append(self.t("trk_expected_not_within", label=label, size=size))
        self._show("\n\n".join(items))
        self._show("*" + self.t("trk_expected_note") + "*")

    def process_indicators(self) -> None:
        """Reach, speed, activation and repeat contacts: the latest quarter known and since the
        start, each with the number of persons behind it."""
        if self._missing_series():
            return
        self.heading("trk_h_process")
        rows = (self._tracking() or {}).get("indicators", [])
        header = [self.t(k) for k in ("trk_col_indicator", "trk_col_quarter", "trk_col_value", "trk_col_persons",
                                        "trk_col_since_start", "trk_col_persons")]
        body = []
        for ind, stat in (("reach", "within_14"), ("reach", "within_30"), ("reach", "within_90"),
                          ("speed", "median"), ("activation", "contacted"),
                          ("activation", "comparison"), ("repeat", "contacts_per_person"),
                          ("repeat", "seen_again")):
            quarter, value, n = self._indicator_cells(rows, ind, stat, "quarter")
            _, total, n_total = self._indicator_cells(rows, ind, stat, "cumulative")
            body.append([self.t(f"trk_ind_{ind}_{stat}"), quarter, value, n, total, n_total])
        self.table(tables.render(header, body, self.output))
        self._show("*" + self.t("trk_process_note", threshold=self.threshold,
                                min_quantiles=MIN_FOR_QUANTILES) + "*")

    def _indicator_series(self, rows: list[dict], ind: str, stat: str, scope: str) -> list[dict]:
        """The series of one statistic (oldest first), quarters with persons only."""
        sel = [r for r in rows if r["indicator"] == ind and r["statistic"] == stat
               and r["scope"] == scope and (r.get("denominator") or 0) > 0]
        return sorted(sel, key=lambda r: r["quarter"])

    def _indicator_cells(self, rows: list[dict], ind: str, stat: str,
                         scope: str) -> tuple[str, Any, Any]:
        """(quarter, value text, persons cell) of the latest quarter of one statistic."""
        series = self._indicator_series(rows, ind, stat, scope)
        if not series:
            return "", self.t("trk_not_yet_known"), ""
        last = series[-1]
        hidden = False
        if scope == "cumulative":  # the same count, one quarter on: guard the difference
            hidden = series_suppressed([_num(r["denominator"]) for r in series],
                                       self.threshold)[-1]
            if last.get("numerator") is not None:
                hidden = hidden or series_suppressed([_num(r["numerator"]) for r in series],
                                                     self.threshold)[-1]
        n = last["denominator"]
        persons = tables.count_cell(n, self.lang, self.threshold, hidden)
        few = hidden or disclosure.is_small(n, self.threshold)
        if ind == "speed":
            q = {r["statistic"]: r["value"] for r in rows if r["indicator"] == "speed"
                 and r["scope"] == scope and r["quarter"] == last["quarter"]}
            value = (self.t("trk_suppressed_value") if few or n < MIN_FOR_QUANTILES else
                     self.t("trk_ind_days", median=fmt.number(q.get("median"), self.lang, 0),
                            q1=fmt.number(q.get("q1"), self.lang, 0),
                            q3=fmt.number(q.get("q3"), self.lang, 0)))
        elif stat == "contacts_per_person":
            value = self.t("trk_suppressed_value") if few else fmt.number(last["value"], self.lang, 1)
        elif ind == "activation" and stat == "comparison":  # a weighted share
            value = (self.t("trk_suppressed_value") if few or disclosure.is_small(
                last.get("numerator"), self.threshold) else fmt.percent(last["value"], self.lang, 0))
        else:
            value = self._share(last.get("numerator"), n, hidden)
        return last["quarter"], value, persons

    # -- technical appendix -----------------------------------------------------------------
    def trajectory_table(self) -> None:
        """The trajectory as a table: one row per quarter and primary outcome."""
        if self._missing_series():
            return
        self.heading("trk_h_trajectory_table")
        header = [self.t(k) for k in ("trk_col_quarter", "trk_col_family", "trk_col_contacted", "trk_col_matched",
                                        "trk_col_events_c", "trk_col_events_k", "trk_col_rd", "trk_col_hr",
                                        "trk_col_mde", "trk_col_gates", "trk_col_z", "trk_col_version")]
        body = []
        for family in self._families():
            rows = self._series(family)
            hide = {k: series_suppressed([_num(r.get(k)) for r in rows], self.threshold)
                    for k in ("contacted", "matched", "events_contacted", "events_comparison")}
            for i, r in enumerate(rows):
                ok = r.get("gates_passed") and not self._small_arms(r)
                body.append([
                    r["quarter"], category_label(family, self.lang),
                    *(tables.count_cell(r.get(k), self.lang, self.threshold, hide[k][i])
                      for k in ("contacted", "matched", "events_contacted",
                                "events_comparison")),
                    self._interval(r, "rd", ok, points=True), self._interval(r, "hr", ok),
                    fmt.number(r.get("min_detectable_hr"), self.lang, 2),
                    self.t("trk_yes") if r.get("gates_passed") else self.t("trk_no"),
                    self._z(r, ok), r.get("version") or "",
                ])
        self.table(tables.render(header, body, self.output))
        self._show("*" + self.t("trk_trajectory_table_note") + "*")

    def _interval(self, r: dict, key: str, ok: bool, points: bool = False) -> str:
        est, lo, hi = (_num(r.get(key)), _num(r.get(f"{key}_low")), _num(r.get(f"{key}_high")))
        if not ok or est is None or lo is None or hi is None:
            return self.t("trk_not_estimated_short")
        f = (lambda v: fmt.points(v, self.lang)) if points else (
            lambda v: fmt.number(v, self.lang, 2))
        return f"{f(est)} ({f(lo)}; {f(hi)})"

    def _z(self, r: dict, ok: bool) -> str:
        b = _num(r.get("boundary_z"))
        z = _num(r.get("z"))
        shown_b = fmt.number(b, self.lang, 2) if b is not None else "∞"
        shown_z = fmt.number(z, self.lang, 2) if ok and z is not None else "–"
        return f"{shown_z} / {shown_b}"

    def boundaries_table(self) -> None:
        """The monitoring scheme of each family and its boundaries per look."""
        from ..tracking.calendar import shift_quarter

        if self._missing_series():
            return
        self.heading("trk_h_boundaries")
        doc = self._tracking()
        start_q = doc["looks"][0]["quarter"] if doc.get("looks") else None
        schemes: dict[tuple, list[str]] = {}
        for family, m in (doc.get("monitoring") or {}).items():
            schemes.setdefault((m["planned_looks"], m["spending"], m["alpha"], family), [])
        grouped: dict[tuple, list[str]] = {}
        for looks, spending, alpha, family in schemes:
            grouped.setdefault((looks, spending, alpha), []).append(family)
        header = [self.t(k) for k in ("trk_col_look", "trk_col_quarter", "trk_col_fraction", "trk_col_boundary",
                                        "trk_col_nominal", "trk_col_spent")]
        for (looks, spending, alpha), families in grouped.items():
            self.paragraph("trk_boundaries_intro",
                           families=", ".join(category_label(f, self.lang) for f in families),
                           looks=looks, spending=self.t(f"trk_spending_{spending}"),
                           alpha=fmt.percent(alpha, self.lang, digits=0))
            body = []
            for b in doc["monitoring"][families[0]]["boundaries"]:
                z = _num(b["z"])
                body.append([str(b["look"]),
                             shift_quarter(start_q, b["look"] - 1) if start_q else "",
                             fmt.number(b["fraction"], self.lang, 2),
                             fmt.number(z, self.lang, 2) if z is not None else "∞",
                             fmt.p_value(b["nominal_alpha"], self.lang),
                             fmt.number(b["spent"], self.lang, 4)])
            self.table(tables.render(header, body, self.output))
        self._show("*" + self.t("trk_boundaries_note") + "*")
