"""The read-only results of :func:`evaluation.survival.fit_all`."""

from __future__ import annotations

import math
from copy import deepcopy
from typing import Any

import numpy as np
import pandas as pd

#: Columns of :meth:`SurvivalResults.tidy`, in order.
TIDY_COLUMNS = (
    "model",
    "term",
    "group",
    "time",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "p_value",
    "hazard_ratio",
    "not_estimated",
)

#: The estimates each model row holds (for the summary and the documentation).
MODEL_DESCRIPTIONS = {
    "kaplan_meier": "probability of no event by `time` (competing events censored)",
    "cumulative_incidence": "share with the event by `time` (Aalen-Johansen)",
    "risk_difference": "cumulative incidence, treated minus untreated",
    "risk_ratio": "cumulative incidence, treated over untreated",
    "cox": "log hazard ratio (cause-specific Cox, Efron ties)",
    "cox_stratified": "log hazard ratio, Cox stratified by the strata column",
    "fine_gray": "log subdistribution hazard ratio (Fine-Gray)",
    "rmst": "restricted mean event-free time up to `time`",
    "rmst_difference": "restricted mean event-free time, treated minus untreated",
}


class SurvivalResults:
    """Estimates and diagnostics of one survival analysis (read-only).

    Attributes
    ----------
    spec : the :class:`~evaluation.survival.SurvivalSpec` that was fitted.
    diagnostics : dict with ``n``, ``n_by_group``, ``n_events_by_group``,
        ``n_competing_by_group``, ``at_risk`` (per group and horizon), ``ph_test``,
        ``min_detectable_hr``, ``min_detectable_hr_increase``, ``e_value``, ``failures``
        (model -> reason it could not be fitted), ``not_estimated`` (model -> reason a fitted
        model estimated nothing) and ``notes`` (warnings from fitting).
    """

    def __init__(self, estimates: pd.DataFrame, diagnostics: dict[str, Any], spec: Any) -> None:
        self._estimates = estimates.loc[:, list(TIDY_COLUMNS)].reset_index(drop=True)
        self._diagnostics = diagnostics
        self.spec = spec

    @property
    def diagnostics(self) -> dict[str, Any]:
        """A copy of the diagnostics dictionary."""
        return deepcopy(self._diagnostics)

    def tidy(self) -> pd.DataFrame:
        """One row per estimate (a copy), columns :data:`TIDY_COLUMNS`.

        Hazard models give coefficients on the log-hazard scale in ``estimate``, ``conf_low``
        and ``conf_high`` and ``exp(estimate)`` in ``hazard_ratio``; ``std_error`` is the robust
        one when a cluster or weights were given. Confidence intervals are 95%.
        ``not_estimated`` holds the reason a ratio model estimated nothing (its numbers are
        then missing; :mod:`evaluation.survival.estimability`), else None.
        """
        return self._estimates.copy()

    def records(self) -> list[dict[str, Any]]:
        """The tidy rows as JSON-ready dictionaries (NaN as None, numpy scalars as Python)."""
        return [
            {k: _plain(v) for k, v in row.items()} for row in self._estimates.to_dict("records")
        ]

    def to_dict(self) -> dict[str, Any]:
        """``{"estimates": records(), "diagnostics": ...}`` with NaN as None."""
        return {"estimates": self.records(), "diagnostics": _plain(self._diagnostics)}

    def summary(self) -> str:
        """A readable text summary of estimates and diagnostics."""
        d = self._diagnostics
        lines = [
            f"Survival analysis: {d['n']} rows; event of interest {self.spec.event_of_interest}",
            "Events by group: "
            + ", ".join(f"{g}: {n:g}" for g, n in d["n_events_by_group"].items()),
            "Hazard-model standard errors: "
            + (
                f"robust, clustered on '{d['cluster']}'"
                if d.get("cluster")
                else ("robust (weights)" if d.get("robust_se") else "model-based")
            ),
            "",
        ]
        est = self._estimates
        for model, rows in est.groupby("model", sort=False):
            lines.append(f"{model}: {MODEL_DESCRIPTIONS.get(model, '')}")
            for r in rows.itertuples(index=False):
                label = r.term
                if r.group is not None and not _isnan(r.group):
                    label += f" group={r.group}"
                if r.time is not None and not _isnan(r.time):
                    label += f" t={r.time:g}"
                text = (
                    f"  {label:<34} {_fmt(r.estimate):>10}  SE {_fmt(r.std_error):>9}  "
                    f"95% CI [{_fmt(r.conf_low)}, {_fmt(r.conf_high)}]"
                )
                if not _isnan(r.p_value):
                    text += f"  p={_fmt(r.p_value)}"
                if not _isnan(r.hazard_ratio):
                    text += f"  HR={_fmt(r.hazard_ratio)}"
                if isinstance(r.not_estimated, str):
                    text = f"  {label:<34} not estimated: {r.not_estimated}"
                lines.append(text)
        lines.append("")
        ph = d.get("ph_test")
        if ph:
            lines.append(
                f"Proportional hazards (Schoenfeld): global p={_fmt(ph['global'])}; "
                + ", ".join(f"{t} p={_fmt(p)}" for t, p in ph["terms"].items())
            )
        lines.append(
            "Minimum detectable HR (80% power, 5% two-sided): "
            f"{_fmt(d['min_detectable_hr'])} (or {_fmt(d['min_detectable_hr_increase'])})"
        )
        ev = d.get("e_value") or {}
        if ev.get("point") is not None:
            lines.append(f"E-value: point {_fmt(ev['point'])}, CI limit {_fmt(ev['ci'])}")
        for model, reason in d.get("failures", {}).items():
            lines.append(f"Not estimated: {model}: {reason}")
        for note in d.get("notes", []):
            lines.append(f"Note: {note}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<SurvivalResults: {len(self._estimates)} estimates, n={self._diagnostics['n']}>"


def _isnan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _fmt(value: Any) -> str:
    if _isnan(value):
        return "NA"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4g}"


def _plain(value: Any) -> Any:
    """Recursively turn numpy scalars into Python ones and NaN/inf into None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value
