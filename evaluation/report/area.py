"""Area-level sections of the reports: recorded violence and weapons offences in the study
municipality against its synthetic control and the comparison municipalities.

Presentation only: everything is read from the bundle's ``area`` entry and ``area_*`` tables
(:mod:`evaluation.analysis.area`). The council sentence follows the rule of
:mod:`evaluation.area.compare` (the bundle's ``verdict``). Monthly counts are aggregates of
public statistics; they still pass the document's disclosure checker
(:func:`.cells.area`): a count it hides is not drawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..disclosure import Checker
from . import fmt, tables
from .cells import area_key
from .texts import text

COLOURS = {"observed": "#1b6ca8", "synthetic": "#c8553d", "comparison": "#777777", "its": "#5a9e4b"}
METHOD_ORDER = ("its", "did", "synth")


def _period_axis(periods: pd.Series) -> np.ndarray:
    return np.arange(len(periods))


def _ticks(ax, periods: list[str]) -> None:
    step = max(1, len(periods) // 8)
    idx = list(range(0, len(periods), step))
    ax.set_xticks(idx)
    ax.set_xticklabels([periods[i] for i in idx], rotation=45, ha="right", fontsize=8)


def series_figure(series: pd.DataFrame, lang: str, check: Checker) -> Figure:
    """Observed counts (a count the disclosure checker hides is not drawn), synthetic control
    and the comparison mean (scaled to the study municipality's pre-period level), per period,
    with the start marked."""
    fig = Figure(figsize=(7.0, 3.8), dpi=90)
    ax = fig.subplots()
    x = _period_axis(series["period"])
    observed = series["observed"].astype(float).to_numpy()
    hidden = [check.suppressed(area_key(str(p))) for p in series["period"]]
    observed = np.where(hidden, np.nan, observed)
    ax.plot(x, observed, color=COLOURS["observed"], lw=1.6, label=text("area_line_observed", lang))
    if "synthetic" in series:
        ax.plot(x, series["synthetic"], color=COLOURS["synthetic"], lw=1.4, ls="--",
                label=text("area_line_synthetic", lang))
    pre = series["post"] == 0
    scale = np.nanmean(observed[pre.to_numpy()]) / series.loc[pre, "comparison_mean"].mean()
    ax.plot(x, series["comparison_mean"] * scale, color=COLOURS["comparison"], lw=1.0, alpha=0.8,
            label=text("area_line_comparison", lang))
    start = int(np.flatnonzero(series["post"].to_numpy() == 1)[0])
    ax.axvline(start - 0.5, color="black", lw=0.8)
    ax.text(start, ax.get_ylim()[1], " " + text("area_start", lang), va="top", fontsize=8)
    _ticks(ax, list(series["period"]))
    ax.set_ylabel(text("area_axis_count", lang))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", frameon=False, fontsize=8)
    fig.subplots_adjust(left=0.11, bottom=0.22, right=0.98, top=0.96)
    return fig


def placebo_figure(placebo: pd.DataFrame, lang: str) -> Figure:
    """Post/pre RMSPE ratios of every placebo run, the study municipality marked."""
    fig = Figure(figsize=(6.5, 3.2), dpi=90)
    ax = fig.subplots()
    frame = placebo.sort_values("ratio").reset_index(drop=True)
    colours = [COLOURS["observed"] if t else "#bbbbbb" for t in frame["treated"]]
    ax.barh(np.arange(len(frame)), frame["ratio"], color=colours)
    ax.set_yticks(np.arange(len(frame)))
    ax.set_yticklabels(frame["unit"], fontsize=6)
    ax.set_xlabel(text("area_axis_ratio", lang))
    ax.grid(alpha=0.3, axis="x")
    fig.subplots_adjust(left=0.14, bottom=0.16, right=0.98, top=0.97)
    return fig


def event_figure(event: pd.DataFrame, lang: str, unit: str) -> Figure:
    """Event-study coefficients with 95% intervals by event time."""
    fig = Figure(figsize=(6.5, 3.2), dpi=90)
    ax = fig.subplots()
    ax.errorbar(event["event_time"], event["estimate"],
                yerr=[event["estimate"] - event["conf_low"], event["conf_high"] - event["estimate"]],
                fmt="o", color=COLOURS["observed"], capsize=3)
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(-0.5, color="grey", lw=0.8, ls=":")
    ax.set_xlabel(text("area_axis_event_" + unit, lang))
    ax.set_ylabel(text("area_axis_coefficient", lang))
    ax.grid(alpha=0.3)
    fig.subplots_adjust(left=0.14, bottom=0.16, right=0.98, top=0.97)
    return fig


class AreaSections:
    """Report methods of the area-level sections (mixed into :class:`~evaluation.report.Report`)."""

    def _area(self) -> dict[str, Any] | None:
        return self.bundle.estimates.get("area")

    def _area_methods(self) -> dict[str, dict[str, Any]]:
        area = self._area() or {}
        return {m["method"]: m for m in area.get("methods", [])}

    def _pct(self, value: float | None) -> str:
        return "-" if value is None else fmt.number(abs(100 * value), self.lang, 0)

    def area_sentence(self) -> str:
        """The one council sentence, following the rule of :mod:`evaluation.area.compare`."""
        area = self._area() or {}
        verdict = area.get("verdict", "cannot_say")
        counted = [m for m in area.get("methods", []) if m.get("gates", {}).get("passed")]
        changes = [m["relative_change"] for m in counted if m.get("relative_change") is not None]
        fields: dict[str, Any] = {}
        if changes:
            low, high = self._pct(min(changes, key=abs)), self._pct(max(changes, key=abs))
            fields = {"range": low if low == high else f"{low}-{high}"}
        if verdict == "one_method" and counted:
            m = counted[0]
            fields.update(method=text(f"area_method_{m['method']}", self.lang),
                          direction=text("area_fell" if m["estimate"] < 0 else "area_rose", self.lang),
                          pct=self._pct(m.get("relative_change")))
        return text(f"area_verdict_{verdict}", self.lang, **fields)

    def area_council(self) -> None:
        """Council report: one figure and one sentence."""
        area = self._area()
        if area is None:
            return
        self.heading("h_area")
        series = self.bundle.named_table("area_series")
        if series is not None and len(series):
            self.figure(series_figure(series, self.lang, self.check), text("area_alt_series", self.lang))
            self._show(text("area_figure_caption", self.lang, start=area.get("first_post_period", "")))
        self._show(self.area_sentence())

    def area_technical(self) -> None:
        """Technical appendix: estimates, what each assumes, weights, placebo, event study,
        diagnostics."""
        area = self._area()
        if area is None:
            return
        self.heading("h_area_technical")
        if area.get("not_estimated"):
            self._show(text("area_not_estimated", self.lang))
            return
        self._show(text("area_design", self.lang, n=area.get("n_municipalities", ""),
                        n_pre=area.get("n_pre", ""), n_post=area.get("n_post", ""),
                        start=area.get("first_post_period", ""), last=area.get("last_period", "")))
        self.table(self._area_estimates_table())
        methods = self._area_methods()
        events = methods.get("its", {}).get("diagnostics", {}).get("events") or []
        if events:
            self._show(text("area_events_text", self.lang,
                            events="; ".join(self._event_text(e) for e in events)))
        conformal = methods.get("synth", {}).get("diagnostics", {}).get("conformal")
        if conformal and methods["synth"].get("gates", {}).get("passed"):
            self._show(text("area_synth_intervals", self.lang,
                            p=self._num(conformal.get("p_value_zero"), 3)))
        self._show(text("area_rule", self.lang) + " " + self.area_sentence())
        if "synth" in methods:
            self.heading("h_area_weights", level=3)
            self.table(self._area_weights_table())
            placebo = self.bundle.named_table("area_placebo")
            if placebo is not None and len(placebo):
                self.heading("h_area_placebo", level=3)
                d = methods["synth"]["diagnostics"]
                self._show(text("area_placebo_text", self.lang, rank=d.get("placebo_rank"),
                                runs=d.get("placebo_runs"),
                                p=fmt.number(methods["synth"].get("placebo_p"), self.lang, 3)))
                self.figure(placebo_figure(placebo, self.lang), text("area_alt_placebo", self.lang))
        event = self.bundle.named_table("area_event_time")
        if event is not None and len(event):
            self.heading("h_area_event", level=3)
            unit = methods.get("did", {}).get("diagnostics", {}).get("event_time_unit", "periods")
            self.figure(event_figure(event, self.lang, unit), text("area_alt_event", self.lang))
        self.heading("h_area_diagnostics", level=3)
        self.table(self._area_diagnostics_table())

    def _event_text(self, event: dict[str, Any]) -> str:
        fields = {"label": event.get("label") or "-", "first": event.get("first"),
                  "last": event.get("last")}
        if event.get("level_shift") is None:
            return text("area_event_item_none", self.lang, **fields)
        return text("area_event_item", self.lang, shift=self._num(event["level_shift"], 2), **fields)

    def _interval_text(self, d: dict[str, Any], se: str) -> str:
        kind = "normal" if d.get("critical_value_kind") == "normal" else "fixed_b"
        return text(f"area_interval_{kind}", self.lang, se=se, cv=self._num(d.get("critical_value"), 3))

    def _cells(self, rows: list[list[str]], header: list[str]) -> fmt.Markup:
        return tables.render(header, rows, self.output)

    def _num(self, value: Any, digits: int = 1) -> str:
        return "-" if value is None else fmt.number(value, self.lang, digits)

    def _area_estimates_table(self) -> str:
        rows = []
        for method in METHOD_ORDER:
            m = self._area_methods().get(method)
            if m is None:
                continue
            gates = m.get("gates", {})
            if gates.get("passed"):
                ci = ("-" if m.get("conf_low") is None
                      else f"{self._num(m['conf_low'])} {text('area_to', self.lang)} {self._num(m['conf_high'])}")
                shown = [self._num(m["estimate"]), ci, self._num(m.get("p_value"), 3),
                         self._num(None if m.get("relative_change") is None
                                   else 100 * m["relative_change"], 0) + " %"]
            else:
                shown = [text("area_gate_failed", self.lang)] + ["-"] * 3
            reasons = "; ".join(self._gate_texts(gates)) or text("area_gates_ok", self.lang)
            assumes = m.get("assumes_key", method)
            rows.append([text(f"area_method_{method}", self.lang), *shown, reasons,
                         text(f"area_assumes_{assumes}", self.lang)])
        header = [text(k, self.lang) for k in ("area_col_method", "area_col_estimate", "area_col_ci",
                                                "area_col_p", "area_col_relative", "area_col_gates",
                                                "area_col_assumes")]
        return self._cells(rows, header)

    def _gate_texts(self, gates: dict[str, Any]) -> list[str]:
        shown = []
        for name, ok in gates.items():
            if name in ("passed", "reasons"):
                continue
            if ok is None and name == "pre_trend":
                shown.append(text("area_gate_pre_trend_untestable", self.lang))
            elif ok is False:
                shown.append(text(f"area_gate_{name}", self.lang))
        return shown

    def _area_weights_table(self) -> str:
        weights = self.bundle.named_table("area_weights")
        rows = [] if weights is None else [
            [str(r.municipality_code), fmt.number(r.weight, self.lang, 3)]
            for r in weights.itertuples() if r.weight >= 0.001]
        return self._cells(rows, [text("area_col_municipality", self.lang), text("area_col_weight", self.lang)])

    def _area_diagnostics_table(self) -> str:
        m = self._area_methods()
        rows = []
        if "its" in m:
            d = m["its"]["diagnostics"]
            rows += [[text("area_method_its", self.lang), text("area_diag_ljung_box", self.lang, lag=d.get("ljung_box_lag")), self._num(d.get("ljung_box_p"), 3)],
                     [text("area_method_its", self.lang), text("area_diag_family", self.lang),
                      text(f"area_family_{d.get('family')}", self.lang)],
                     [text("area_method_its", self.lang), text("area_diag_placebo_time", self.lang),
                      self._num((d.get("placebo_in_time") or {}).get("p_value"), 3)],
                     [text("area_method_its", self.lang), text("area_diag_pre_rmse", self.lang), self._num(d.get("pre_rmse"))],
                     [text("area_method_its", self.lang), text("area_diag_interval", self.lang),
                      self._interval_text(d, text("area_se_newey_west", self.lang, lags=d.get("hac_maxlags")))]]
            comparison = d.get("comparison_placebo")
            if comparison:
                rows.append([text("area_method_its", self.lang), text("area_diag_comparison_placebo", self.lang),
                             (f"{comparison['excluding_no_change']}/{comparison['units']} "
                              f"(p = {self._num(comparison['p_value'], 3)})")])
        if "did" in m:
            d = m["did"]["diagnostics"]
            rows += [[text("area_method_did", self.lang), text("area_diag_unit_trends", self.lang),
                      text("area_yes" if d.get("unit_trends") else "area_no", self.lang)],
                     [text("area_method_did", self.lang), text("area_diag_pre_trend", self.lang),
                      self._num((d.get("pre_trend") or {}).get("p_value"), 3)],
                     [text("area_method_did", self.lang), text("area_diag_placebo_time", self.lang),
                      self._num((d.get("placebo_in_time") or {}).get("p_value"), 3)],
                     [text("area_method_did", self.lang), text("area_diag_rate_ratio", self.lang), self._num(d.get("rate_ratio"), 3)],
                     [text("area_method_did", self.lang), text("area_diag_interval", self.lang),
                      self._interval_text(d, text(f"area_se_{d.get('se_method')}", self.lang,
                                                  lags=d.get("se_lags")))]]
        if "synth" in m:
            d = m["synth"]["diagnostics"]
            loo = d.get("leave_one_out_range") or [None, None]
            rows += [[text("area_method_synth", self.lang), text("area_diag_pre_rmspe", self.lang), self._num(d.get("pre_rmspe"))],
                     [text("area_method_synth", self.lang), text("area_diag_loo", self.lang),
                      f"{self._num(loo[0])} {text('area_to', self.lang)} {self._num(loo[1])}"]]
            conformal = d.get("conformal")
            if conformal:
                rows.append([text("area_method_synth", self.lang), text("area_diag_interval", self.lang),
                             text("area_interval_conformal", self.lang, periods=conformal.get("periods"),
                                  p=self._num(conformal.get("p_value_zero"), 3))])
        return self._cells(rows, [text(k, self.lang) for k in ("area_col_method", "area_col_check", "area_col_value")])
