"""Read-only results of the area-level estimators, with one tidy row each.

``tidy()`` is the single source the command line (``evaluation area --json``), the results
bundle and the reports read: ``method``, ``estimand``, ``estimate`` (the average post-period
effect in the outcome's units), ``conf_low``, ``conf_high``, ``p_value``, the gates and, for the
synthetic control, ``weights``, ``pre_rmspe`` and ``placebo_p``.
"""

from __future__ import annotations

import math
from copy import deepcopy
from typing import Any

import pandas as pd

#: Columns of :meth:`AreaResult.tidy`, in order.
TIDY_COLUMNS = ("method", "estimand", "estimate", "std_error", "conf_low", "conf_high", "p_value",
                "relative_change", "gates_passed", "weights", "pre_rmspe", "placebo_p")

#: What each method estimates and what it assumes (shown beside the estimates).
ASSUMPTIONS = {
    "its": "the study municipality's own pre-period trend and seasonality would have continued",
    "its_events": "the study municipality's own pre-period trend and seasonality would have "
                  "continued, and the declared calendar events shifted its level while they "
                  "lasted and at no other time",
    "did": "the study and comparison municipalities would have moved in parallel (checked on "
           "the pre-period by the pre-trend test)",
    "did_trends": "each municipality's own linear trend and the shocks the study municipality "
                  "shares with the comparison municipalities would have continued (checked by "
                  "an in-time placebo)",
    "synth": "a weighted mix of comparison municipalities that tracked the study municipality "
             "before the start would have kept tracking it",
}


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (dict, list)):
        return _clean(value.item())
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class AreaResult:
    """One fitted area-level estimator (read-only).

    Attributes
    ----------
    method : ``its``, ``did`` or ``synth``.
    estimand : the estimand in words.
    diagnostics : a copy of the diagnostics (pre-period fit, residual autocorrelation, pre-trend
        test, placebo distribution, leave-one-out, ...).
    gates : a copy of the gates: ``{name: bool, ..., "passed": bool, "reasons": [...]}``.
    series : a copy of the observed and counterfactual series per period (for figures).
    """

    def __init__(self, method: str, estimand: str, row: dict[str, Any],
                 diagnostics: dict[str, Any], gates: dict[str, Any],
                 series: pd.DataFrame | None = None, extra: dict[str, Any] | None = None) -> None:
        self.method = method
        self.estimand = estimand
        self._row = {"method": method, "estimand": estimand, **row,
                     "gates_passed": bool(gates.get("passed", True))}
        self._diagnostics = diagnostics
        self._gates = gates
        self._series = series if series is not None else pd.DataFrame()
        self._extra = extra or {}

    @property
    def estimate(self) -> float:
        return float(self._row["estimate"])

    @property
    def conf_int(self) -> tuple[float | None, float | None]:
        return self._row.get("conf_low"), self._row.get("conf_high")

    @property
    def diagnostics(self) -> dict[str, Any]:
        return deepcopy(self._diagnostics)

    @property
    def gates(self) -> dict[str, Any]:
        return deepcopy(self._gates)

    @property
    def series(self) -> pd.DataFrame:
        return self._series.copy()

    def extra(self, name: str) -> Any:
        """A further table of the fit (``event_time``, ``placebo``, ``leave_one_out``)."""
        return deepcopy(self._extra.get(name))

    @property
    def assumption_key(self) -> str:
        """The key of :data:`ASSUMPTIONS` (the DiD with unit trends assumes less; the ITS with
        declared events assumes them)."""
        if self._diagnostics.get("unit_trends"):
            return "did_trends"
        return "its_events" if self._diagnostics.get("events") else self.method

    def row(self) -> dict[str, Any]:
        """The tidy row as a JSON-ready dictionary."""
        return _clean({c: self._row.get(c) for c in TIDY_COLUMNS})

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame([self.row()], columns=list(TIDY_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """Row, diagnostics, gates and series, JSON-ready (what the results bundle stores)."""
        extra = {k: (v.to_dict(orient="records") if isinstance(v, pd.DataFrame) else v)
                 for k, v in self._extra.items()}
        return _clean({**self.row(), "assumes": ASSUMPTIONS[self.assumption_key],
                       "assumes_key": self.assumption_key,
                       "diagnostics": self._diagnostics, "gates": self._gates,
                       "series": self._series.to_dict(orient="records"), **extra})

    def __repr__(self) -> str:
        r = self._row
        ci = "" if r.get("conf_low") is None else f" [{r['conf_low']:.3g}, {r['conf_high']:.3g}]"
        return f"<AreaResult {self.method}: {r['estimate']:.4g}{ci}>"
