"""Report parts of the tracking series (``<output>/<Q>/tracking/tracking.json``).

Mixed into :class:`evaluation.report.present.Report`. Everything shown is read from the series
that ``evaluation track`` wrote beside the quarter's bundle; nothing is estimated here.

Disclosure. Every count and estimate shown here is a cell of the document's checker, registered
with its links in :func:`evaluation.report.cells.tracking`: the same count a quarter earlier
(the difference of two published numbers must not be a small count), the latest quarter's
counts as part of the cumulative ones, the current quarter's as the bundle's; a share is hidden
when the persons with or without are few. Medians and quartiles of days are shown only for at
least :data:`MIN_FOR_QUANTILES` persons (an order statistic is one person's value). A quarter
whose model was not estimated, or whose gates failed, shows no estimate.
"""

from __future__ import annotations

import math
from typing import Any

from ..disclosure import SUPPRESSED_MARK
from ..numbers import finite_float as _num
from . import fmt, tables
from .cells import PROCESS_CELLS, TRAJECTORY_COUNTS, process_key, process_rows, trajectory_key
from .texts import category_label

#: Fewest persons behind a median or quartile shown (2 x the default threshold).
MIN_FOR_QUANTILES = 10
FAMILY_ORDER = ("reoffending", "education_job", "group_recruitment")




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
        return self.bundle.tracking()

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

    def _not_built_note(self) -> None:
        """Which quarters of the series have no results bundle (none could be built)."""
        left_out = [lk["quarter"] for lk in (self._tracking() or {}).get("looks", [])
                    if lk.get("not_built")]
        if left_out:
            self._show(fmt.emphasis(self.t("trk_not_built", quarters=", ".join(left_out))))

    def _missing_series(self) -> bool:
        """True without a series; the first part asking says so once per document."""
        if self._tracking() is not None:
            return False
        if not getattr(self, "_tracking_noted", False):
            self._tracking_noted = True
            self._show(self.t("trk_tracking_missing"))
        return True

    def _shown(self, r: dict[str, Any], name: str) -> bool:
        """True when the estimate ``name`` (rd, hr) of a trajectory row may be shown: gates
        passed, the model estimated (an interval), the checker allows it."""
        values = [_num(r.get(k)) for k in (name, f"{name}_low", f"{name}_high")]
        if not r.get("gates_passed") or any(v is None for v in values):
            return False
        return not self.check.suppressed(trajectory_key(r["quarter"], r, name))

    # -- council report ---------------------------------------------------------------------
    def trajectory(self) -> None:
        """One small figure per outcome family: the estimate and its interval over quarters."""
        if self._missing_series():
            return
        self.heading("trk_h_trajectory")
        self.paragraph("trk_trajectory_intro")
        for family in self._families():
            rows = self._series(family)
            shown = [r for r in rows if self._shown(r, "rd")]
            label = category_label(family, self.lang)
            caption = self.t("trk_trajectory_caption", label=label, n=len(shown), total=len(rows))
            self.figure(trajectory_figure(rows, shown, label, self.lang), caption)
            self._show(fmt.emphasis(caption))
        self._not_built_note()

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
        for item in items:  # one paragraph each, plain text
            self._show(item)
        self._show(fmt.emphasis(self.t("trk_expected_note")))

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
        for ind, stat, group, share in PROCESS_CELLS:
            quarter, value, n = self._indicator_cells(rows, ind, stat, group, share, "quarter")
            _, total, n_total = self._indicator_cells(rows, ind, stat, group, share, "cumulative")
            body.append([self.t(f"trk_ind_{ind}_{stat}"), quarter, value, n, total, n_total])
        self.table(tables.render(header, body, self.output))
        self._show(fmt.emphasis(self.t("trk_process_note", threshold=self.threshold,
                                min_quantiles=MIN_FOR_QUANTILES)))

    def _indicator_cells(self, rows: list[dict], ind: str, stat: str, group: str, share: bool,
                         scope: str) -> tuple[str, Any, Any]:
        """(quarter, value text, persons cell) of the latest quarter of one statistic."""
        series = process_rows(rows, ind, stat, scope)
        if not series:
            return "", self.t("trk_not_yet_known"), ""
        last = series[-1]
        q = str(last["quarter"])
        persons_key = process_key(group, scope, q, "persons")
        persons = tables.checked(self.check, persons_key, self.lang)
        key = process_key(group, scope, q, stat)
        if share:  # the share publishes those with and without: both are cells of the record
            for part in ("with", "without"):
                self.check.suppressed(process_key(group, scope, q, f"{stat}/{part}"))
        if self.check.suppressed(key) or _num(last.get("value")) is None:
            return q, SUPPRESSED_MARK, persons
        if ind == "speed":
            if (_num(last.get("denominator")) or 0) < MIN_FOR_QUANTILES:
                return q, SUPPRESSED_MARK, persons
            d = {r["statistic"]: r["value"] for r in rows if r["indicator"] == "speed"
                 and r["scope"] == scope and r["quarter"] == last["quarter"]}
            value = self.t("trk_ind_days", median=fmt.number(d.get("median"), self.lang, 0),
                           q1=fmt.number(d.get("q1"), self.lang, 0),
                           q3=fmt.number(d.get("q3"), self.lang, 0))
        elif stat == "contacts_per_person":
            value = fmt.number(last["value"], self.lang, 1)
        else:
            value = fmt.percent(last["value"], self.lang, 0)
        return q, value, persons

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
            for r in self._series(family):
                q = r["quarter"]
                rd_ok = self._shown(r, "rd")
                body.append([
                    q, category_label(family, self.lang),
                    *(tables.checked(self.check, trajectory_key(q, r, k), self.lang)
                      for k in TRAJECTORY_COUNTS),
                    self._interval(r, "rd", rd_ok, points=True),
                    self._interval(r, "hr", self._shown(r, "hr")),
                    self._mde(r), self.t("trk_yes") if r.get("gates_passed") else self.t("trk_no"),
                    self._z(r, rd_ok), r.get("version") or "",
                ])
        self.table(tables.render(header, body, self.output))
        self._show(fmt.emphasis(self.t("trk_trajectory_table_note")))
        self._not_built_note()

    def _interval(self, r: dict, key: str, ok: bool, points: bool = False) -> str:
        est, lo, hi = (_num(r.get(key)), _num(r.get(f"{key}_low")), _num(r.get(f"{key}_high")))
        if not ok or est is None or lo is None or hi is None:
            return self.t("trk_not_estimated_short")
        f = (lambda v: fmt.points(v, self.lang)) if points else (
            lambda v: fmt.number(v, self.lang, 2))
        return f"{f(est)} ({f(lo)}; {f(hi)})"

    def _mde(self, r: dict) -> str:
        value = _num(r.get("min_detectable_hr"))
        if value is None:
            return self.t("trk_not_estimated_short")
        return self.check.show(trajectory_key(r["quarter"], r, "mde"),
                               fmt.number(value, self.lang, 2))

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
        self._show(fmt.emphasis(self.t("trk_boundaries_note")))
