"""The one "not estimated" rule: when a fitted model has estimated nothing.

A model that ran without an error can still have estimated nothing. Its row is then kept, with
the estimate, standard error, interval, p-value and hazard ratio set to missing and the reason in
the ``not_estimated`` column, so that no table, figure, finding or E-value can show it as a
number. Everything that presents an estimate (``evaluation survival``, ``evaluation analyse``,
the results bundle, the report tables, the forest plot and the findings) reads this column.

A ratio model (``cox``, ``cox_stratified``, ``fine_gray`` on the log-hazard scale, and
``rate_ratio`` and ``risk_ratio`` on the ratio scale) is not estimated when

1. an arm has no events: the ratio is 0 or infinite and its interval has no finite limit;
2. it did not converge (the fitter said so);
3. it ran off (separation): the absolute log ratio is beyond :data:`MAX_ABS_LOG_RATIO`
   (a ratio outside 1/100 .. 100, far beyond any effect a prevention programme has; published
   matched evaluations find hazard ratios of 0.8 to 1.0), or the standard error of the log
   ratio is beyond :data:`MAX_LOG_SE` (a 95% interval wider than a factor of 130,000), or
   either is not a finite number.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

#: Beyond this absolute log ratio a model has run off (hazard ratio outside 1/100 .. 100).
MAX_ABS_LOG_RATIO = math.log(100.0)
#: Beyond this standard error of the log ratio the model's variance has exploded.
MAX_LOG_SE = 3.0
#: Models whose ``estimate`` is a log ratio (with ``hazard_ratio`` = exp(estimate)).
LOG_SCALE_MODELS = ("cox", "cox_stratified", "fine_gray")
#: Models whose ``estimate`` is the ratio itself (``std_error`` of the log ratio for rate_ratio).
RATIO_SCALE_MODELS = ("rate_ratio", "risk_ratio")
#: The columns set to missing in a row that was not estimated.
NULLED = ("estimate", "std_error", "conf_low", "conf_high", "p_value", "hazard_ratio")
#: Words a fitter uses when it did not converge.
_NOT_CONVERGED = ("converge", "separation")


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def ratio_reason(log_ratio: Any, log_se: Any, events_by_arm: dict[str, Any] | None = None,
                 notes: list[str] | tuple[str, ...] = ()) -> str | None:
    """Why a ratio estimate is not an estimate (the module's rule), or ``None`` when it is one.

    Parameters
    ----------
    log_ratio, log_se
        The log ratio and its standard error.
    events_by_arm
        Events per arm (arm name -> count); an arm with none makes the ratio not estimated.
    notes
        The fitter's warnings; one saying it did not converge makes the ratio not estimated.
    """
    empty = [str(arm) for arm, n in (events_by_arm or {}).items() if _finite(n) and float(n) == 0]
    if empty:
        return f"no events in the {' and '.join(empty)} arm"
    for note in notes:
        if any(word in str(note).lower() for word in _NOT_CONVERGED):
            return f"did not converge ({str(note).splitlines()[0][:120]})"
    if not _finite(log_ratio):
        return "separation: the log ratio is not a finite number"
    if abs(float(log_ratio)) > MAX_ABS_LOG_RATIO:
        return (f"separation: ratio {math.exp(float(log_ratio)):.3g} outside 1/100..100 "
                f"(|log ratio| {abs(float(log_ratio)):.1f} > {MAX_ABS_LOG_RATIO:.2f})")
    if not _finite(log_se):
        return "separation: the standard error is not a finite number"
    if float(log_se) > MAX_LOG_SE:
        return f"separation: standard error of the log ratio {float(log_se):.1f} > {MAX_LOG_SE:g}"
    return None


def _log_ratio(row: dict[str, Any]) -> tuple[Any, Any]:
    """(log ratio, its standard error) of a tidy row of a ratio model."""
    model = row.get("model")
    if model in LOG_SCALE_MODELS:
        return row.get("estimate"), row.get("std_error")
    est = row.get("estimate")
    log = math.log(float(est)) if _finite(est) and float(est) > 0 else float("nan")
    if model == "rate_ratio":
        return log, row.get("std_error")
    # risk_ratio: std_error is on the ratio scale (delta method); the log-scale SE is SE / ratio
    se = row.get("std_error")
    log_se = float(se) / float(est) if _finite(se) and _finite(est) and float(est) > 0 else float("nan")
    return log, log_se


def mark_not_estimated(tidy: pd.DataFrame, events_by_arm: dict[str, Any] | None = None,
                       notes_by_model: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Apply the rule to every ratio row of a tidy table (a copy is returned).

    Rows of :data:`LOG_SCALE_MODELS` and :data:`RATIO_SCALE_MODELS` that the rule rejects get
    missing :data:`NULLED` columns and their reason in ``not_estimated``; every other row gets
    (or keeps) ``not_estimated`` = None. ``events_by_arm`` applies to the hazard and rate models;
    a risk ratio is judged on its own numbers (no events in an arm by the horizon gives a ratio
    of 0 or infinity, with no finite log-scale standard error).
    """
    out = tidy.copy()
    if "not_estimated" not in out.columns:
        out["not_estimated"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    out["not_estimated"] = out["not_estimated"].astype(object)
    notes_by_model = notes_by_model or {}
    for i, row in zip(out.index, out.to_dict("records")):
        model = row.get("model")
        if model not in LOG_SCALE_MODELS and model not in RATIO_SCALE_MODELS:
            continue
        if isinstance(row.get("not_estimated"), str):
            reason = row["not_estimated"]
        elif model == "risk_ratio" and not (_finite(row.get("estimate")) and float(row["estimate"]) > 0):
            reason = "no events in an arm by this time"
        else:
            log, se = _log_ratio(row)
            arms = None if model == "risk_ratio" else events_by_arm
            reason = ratio_reason(log, se, arms, notes_by_model.get(model, ()))
        if reason is not None:
            out.loc[i, list(NULLED)] = np.nan
            out.at[i, "not_estimated"] = reason
    return out


def is_estimated(row: dict[str, Any] | None) -> bool:
    """True for an estimate row that holds an estimate (present, not marked by the rule)."""
    if row is None:
        return False
    reason = row.get("not_estimated")
    return not (isinstance(reason, str) and reason) and _finite(row.get("estimate"))
