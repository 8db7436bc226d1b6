"""The area-level part of the results bundle: reported violence and weapons offences in the
study municipality against the comparison municipalities.

Reads ``reported_crime`` from the warehouse (cut at the analysis date: only periods that have
ended by then), sums the categories of :data:`AREA_CATEGORIES` per municipality and period, and
fits the three area-level estimators (:mod:`evaluation.area`). The first period under the
initiative is the first month (or quarter) that begins on or after the initiative start. The
bundle gets ``estimates.json["area"]`` (the tidy rows, gates, diagnostics and the verdict of
:class:`evaluation.area.AreaComparison`) and the tables the reports draw from:
``area_series`` (observed, synthetic, ITS counterfactual and comparison mean per period),
``area_weights``, ``area_placebo``, ``area_event_time`` and ``area_leave_one_out``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from .. import contract
from ..area import PanelError, fit_all, prepare
from ..area.events import Event, EventError
from ..area.periods import PeriodScale, detect_scale
from ..area.source import area_panel_frame
from ..errors import ConfigError
from ..progress import step

#: Offence categories of the area-level outcome (the initiative's violence in public space).
AREA_CATEGORIES = ("violence", "weapons")


def _first_period_from(day: dt.date, scale: PeriodScale) -> str:
    if scale.kind == "quarter":
        q = (day.month - 1) // 3
        first = dt.date(day.year, 3 * q + 1, 1)
        ordinal = day.year * 4 + q + (day > first)
    else:
        ordinal = day.year * 12 + day.month - 1 + (day.day > 1)
    return scale.label(ordinal)


def _ended_by(labels: pd.Series, scale: PeriodScale, day: dt.date) -> pd.Series:
    """True for periods whose last day is on or before ``day``."""
    last_complete = (day.year * 12 + day.month - (0 if _is_month_end(day) else 1)) - 1
    if scale.kind == "quarter":
        ordinals = labels.map(scale.ordinal)
        return (ordinals * 3 + 2) <= last_complete
    return labels.map(scale.ordinal) <= last_complete


def _is_month_end(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).month != day.month


def area_section(warehouse: Path, initiative_start: dt.date, data_end: dt.date,
                 events: tuple[str, ...] = (), study_file: Path | None = None
                 ) -> tuple[dict[str, Any] | None, dict[str, pd.DataFrame]]:
    """The ``area`` entry of estimates.json and its tables; (None, {}) without reported_crime.
    ``events``: the study file's ``[area] events`` (an event that does not fit the data is a
    :class:`~evaluation.errors.ConfigError` naming the study file)."""
    path = Path(warehouse) / f"reported_crime{contract.WAREHOUSE_EXTENSION}"
    if not path.exists():
        return None, {}
    table = pd.read_parquet(path)
    panel_frame = area_panel_frame(table, AREA_CATEGORIES)
    scale = detect_scale(panel_frame["period"])
    panel_frame = panel_frame[_ended_by(panel_frame["period"], scale, data_end)]
    start = _first_period_from(initiative_start, scale)
    entry: dict[str, Any] = {"outcome": "+".join(AREA_CATEGORIES), "categories": list(AREA_CATEGORIES),
                             "study_municipality": contract.AALBORG_MUNICIPALITY,
                             "first_post_period": start, "period_kind": scale.kind}
    declared = _check_events(events, scale, panel_frame["period"], study_file)
    try:
        panel = prepare(panel_frame, unit="municipality_code", time="period", outcome="count",
                        treated_unit=contract.AALBORG_MUNICIPALITY, start=start,
                        source=str(path), events=declared)
        with step(f"area-level estimators on {len(panel.units)} municipalities"):
            comparison = fit_all(panel)
    except PanelError as exc:
        return {**entry, "not_estimated": exc.message, "methods": [], "verdict": "cannot_say"}, {}
    entry.update(n_municipalities=len(panel.units), n_pre=len(panel.pre_periods),
                 n_post=len(panel.post_periods), last_period=panel.label(panel.periods[-1]))
    doc = comparison.to_dict()
    tables = _tables(comparison, panel)
    for m in doc["methods"]:
        for key in ("series", "placebo", "event_time", "leave_one_out"):
            m.pop(key, None)
    entry.update(doc)
    entry["tables"] = {name: f"tables/{name}.parquet" for name in tables}
    return entry, tables


def _check_events(events: tuple[str, ...], scale: PeriodScale, periods: pd.Series,
                  study_file: Path | None) -> tuple[Event, ...]:
    ordinals = periods.map(scale.ordinal).dropna()
    if ordinals.empty:
        return ()
    out = []
    for i, text in enumerate(events):
        try:
            event = Event.parse(text)
            event.span(scale, int(ordinals.min()), int(ordinals.max()))
        except EventError as exc:
            raise ConfigError(str(exc), file=str(study_file or "study file"),
                              key=f"area.events[{i}]") from None
        out.append(event)
    return tuple(out)


def _tables(comparison, panel) -> dict[str, pd.DataFrame]:
    by = {r.method: r for r in comparison.results}
    series = pd.DataFrame({"period": [panel.label(p) for p in panel.periods]})
    wide = panel.wide()
    study = panel.treated_unit
    series["observed"] = wide[study].to_numpy(float)
    series["comparison_mean"] = wide.drop(columns=study).mean(axis=1).to_numpy(float)
    series["post"] = (panel.periods >= panel.start).astype(int)
    if "synth" in by:
        series["synthetic"] = by["synth"].series["synthetic"].to_numpy(float)
    if "its" in by:
        series["its_counterfactual"] = by["its"].series["counterfactual"].to_numpy(float)
    tables = {"area_series": series}
    if "synth" in by:
        s = by["synth"]
        weights = pd.Series(s.row()["weights"]).rename_axis("municipality_code").reset_index(name="weight")
        tables["area_weights"] = weights.sort_values("weight", ascending=False).reset_index(drop=True)
        for name in ("placebo", "leave_one_out"):
            extra = s.extra(name)
            if isinstance(extra, pd.DataFrame) and len(extra):
                tables[f"area_{name}"] = extra.reset_index(drop=True)
    if "did" in by:
        event = by["did"].extra("event_time")
        if isinstance(event, pd.DataFrame) and len(event):
            tables["area_event_time"] = event
    return tables
