"""Interrupted time series on the treated unit alone (segmented regression).

Estimand: the average, over the post-period, of the difference between the treated unit's
expected outcome and the expected outcome had its pre-period level, trend and seasonality
continued (in the outcome's units per period).

Model: ``outcome_t = g^-1(a + b t + season_t + level * post_t + slope * (t - start) * post_t)``,
with ``g`` the log link and a negative-binomial family for counts (Poisson when the counts are
not over-dispersed) or the identity for a continuous outcome. Standard errors are Newey-West
(HAC) with the usual lag rule; the average effect's interval is by the delta method with fixed-b
critical values (:func:`.effect.hac_critical_value`).
Diagnostics, each a gate: Ljung-Box test of the residuals; an in-time placebo (the same model on
the pre-period alone with a start half way through it); and a comparison placebo (the same model
and start on every comparison unit, none of which had the initiative: when more of their
intervals exclude no change than a correct 95% interval allows, shocks shared with them, such
as the spring-2020 closures inside the pre-period, bias the single-series extrapolation and
the ITS is not shown). The pre-period fit is reported.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ._threads import single_threaded_blas
from .effect import average_effect, hac_critical_value, hac_p_value
from .panel import AreaPanel
from .results import AreaResult

#: Comparison units needed for the comparison placebo (fewer: not checked).
MIN_COMPARISON_UNITS = 5

ESTIMAND = ("average post-period difference between the treated unit's outcome and its own "
            "continued pre-period trend and seasonality (outcome units per period)")


def _design(t: np.ndarray, season: np.ndarray, start: int, per_year: int, n_pre: int,
            events: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    x = pd.DataFrame({"const": 1.0, "trend": (t - start) / max(per_year, 1)})
    if per_year > 1 and n_pre >= 2 * per_year:
        for s in range(2, per_year + 1):
            x[f"season_{s}"] = (season == s).astype(float)
    post = (t >= start).astype(float)
    x["level"] = post
    x["slope"] = post * (t - start) / max(per_year, 1)
    for name, values in (events or {}).items():
        x[name] = values
        if values.min() == values.max() or np.linalg.matrix_rank(x.to_numpy()) < x.shape[1]:
            x = x.drop(columns=name)  # no period outside it in this series, or not identified
    return x


def _hac_lags(n: int) -> int:
    return max(1, int(np.floor(4 * (n / 100) ** (2 / 9))))


def _fit(y: np.ndarray, x: pd.DataFrame, count: bool):
    import statsmodels.api as sm

    lags = _hac_lags(len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not count:
            return sm.OLS(y, x).fit(cov_type="HAC", cov_kwds={"maxlags": lags}), "linear", None
        pois = sm.GLM(y, x, family=sm.families.Poisson()).fit()
        mu = pois.fittedvalues
        alpha = float(max(0.0, ((y - mu) ** 2 - mu).sum() / (mu ** 2).sum()))
        family = sm.families.NegativeBinomial(alpha=alpha) if alpha > 1e-8 else sm.families.Poisson()
        fit = sm.GLM(y, x, family=family).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    return fit, ("negative_binomial" if alpha > 1e-8 else "poisson"), alpha


def _average_effect(fit, x: pd.DataFrame, post: np.ndarray, count: bool):
    """Mean over post periods of fitted minus counterfactual, its delta-method SE and the mean
    counterfactual."""
    change = [x.columns.get_loc("level"), x.columns.get_loc("slope")]
    return average_effect(fit.params.to_numpy(), np.asarray(fit.cov_params()), x.to_numpy()[post],
                          change, count)


def _segmented(t, y, season, start, per_year, count, events=None):
    """The segmented model with its start at ``start`` (and a level indicator per declared
    event): fit, design, effect, SE, counterfactual mean."""
    x = _design(t, season, start, per_year, int((t < start).sum()), events)
    fit, fam, alpha = _fit(y, x, count)
    effect, se, base = _average_effect(fit, x, t >= start, count)
    return {"fit": fit, "x": x, "family": fam, "alpha": alpha, "effect": effect, "se": se,
            "base": base, "p": hac_p_value(effect, se, _hac_lags(len(y)), len(y))}


@single_threaded_blas
def fit_its(panel: AreaPanel, family: str | None = None, level: float = 0.95) -> AreaResult:
    """Segmented regression on ``panel.treated_unit``; see the module docstring."""
    from statsmodels.stats.diagnostic import acorr_ljungbox

    panel.require("its")
    count = panel.count_outcome if family is None else family == "poisson"
    t, y, season = _series(panel, panel.treated_unit)
    per_year, post = panel.scale.per_year, t >= panel.start
    m = _segmented(t, y, season, panel.start, per_year, count, panel.event_indicators(t))
    fit, x, effect, se, base = m["fit"], m["x"], m["effect"], m["se"], m["base"]
    z = hac_critical_value(level, _hac_lags(len(y)), len(y))
    p = m["p"]

    resid = np.asarray(fit.resid_pearson if hasattr(fit, "resid_pearson") else fit.resid)
    lb_lag = int(min(per_year if per_year > 1 else 4, max(1, len(y) // 5)))
    lb_p = float(acorr_ljungbox(resid, lags=[lb_lag])["lb_pvalue"].iloc[0])
    fitted = np.asarray(fit.fittedvalues)
    placebo = _in_time_placebo(t[~post], y[~post], season[~post], per_year, count,
                               panel.event_indicators(t[~post]))
    comparison = _comparison_placebo(panel, count)
    cf = x.copy()
    cf[["level", "slope"]] = 0.0
    counterfactual = cf.to_numpy() @ fit.params.to_numpy()
    series = pd.DataFrame({"period": [panel.label(v) for v in t], "observed": y,
                           "fitted": fitted,
                           "counterfactual": np.exp(counterfactual) if count else counterfactual})
    diagnostics = {
        "family": m["family"], "dispersion_alpha": m["alpha"], "hac_maxlags": _hac_lags(len(y)),
        "critical_value": float(z), "critical_value_kind": "fixed_b",
        "seasonality": any(c.startswith("season_") for c in x.columns),
        "ljung_box_lag": lb_lag, "ljung_box_p": lb_p,
        "pre_rmse": float(np.sqrt(np.mean((y[~post] - fitted[~post]) ** 2))),
        "pre_mean": float(y[~post].mean()), "placebo_in_time": placebo,
        "comparison_placebo": comparison, "events": _event_rows(panel, fit, count),
        "level_change": float(fit.params["level"]), "slope_change": float(fit.params["slope"]),
        "level_change_scale": "log rate ratio" if count else "outcome units",
        "n_pre": int((~post).sum()), "n_post": int(post.sum()), "counterfactual_mean": base,
    }
    row = {"estimate": effect, "conf_low": effect - z * se, "conf_high": effect + z * se,
           "p_value": p, "std_error": se, "relative_change": effect / base if base else None}
    return AreaResult("its", ESTIMAND, row, diagnostics, _gates(lb_p, placebo, comparison), series)


def _series(panel: AreaPanel, unit: str):
    one = panel.data.loc[panel.data["unit"] == unit].sort_values("period")
    return one["period"].to_numpy(), one["outcome"].to_numpy(float), one["season"].to_numpy()


def _gates(lb_p: float, placebo: dict | None, comparison: dict | None) -> dict:
    gates = {"residual_autocorrelation": lb_p >= 0.01,
             "placebo_in_time": placebo is None or placebo["p_value"] >= 0.05,
             "comparison_placebo": None if comparison is None else comparison["p_value"] >= 0.05}
    reasons = []
    if not gates["residual_autocorrelation"]:
        reasons.append(f"residuals autocorrelated beyond what the HAC errors allow for "
                       f"(Ljung-Box p = {lb_p:.3f})")
    if not gates["placebo_in_time"]:
        reasons.append(f"an effect appears at a placebo start inside the pre-period "
                       f"(p = {placebo['p_value']:.3f})")
    if gates["comparison_placebo"] is False:
        reasons.append(f"the same model finds an effect in {comparison['excluding_no_change']} of "
                       f"{comparison['units']} comparison units, which had no initiative "
                       f"(binomial p = {comparison['p_value']:.3f}): shocks shared with them "
                       f"bias a single series")
    gates.update(passed=not reasons, reasons=reasons)
    return gates


def _event_rows(panel: AreaPanel, fit, count: bool) -> list[dict]:
    """Each declared event with its estimated level shift (a rate ratio for counts; None when
    the series could not estimate it)."""
    lo, hi = int(panel.periods[0]), int(panel.periods[-1])
    rows = []
    for i, event in enumerate(panel.events, 1):
        coef = fit.params.get(f"event_{i}")
        shift = None if coef is None else float(np.exp(coef) if count else coef)
        rows.append({**event.as_dict(panel.scale, lo, hi), "level_shift": shift,
                     "level_shift_scale": "rate ratio" if count else "outcome units"})
    return rows


def _in_time_placebo(t, y, season, per_year, count, events=None) -> dict | None:
    """The same model on the pre-period alone, with a start half way through it."""
    if len(t) < 10:
        return None
    m = _segmented(t, y, season, int(t[len(t) // 2]), per_year, count, events)
    return {"start_index": len(t) // 2, "estimate": m["effect"], "std_error": m["se"],
            "p_value": 1.0 if m["p"] is None else m["p"]}


def _comparison_placebo(panel: AreaPanel, count: bool) -> dict | None:
    """The same model, same start, on every comparison unit (none had the initiative).

    A correct model's 95% interval excludes no change for about 5% of them; the p-value is the
    binomial probability of at least as many exclusions. Needs
    :data:`MIN_COMPARISON_UNITS` comparison units (else None: not checked).
    """
    donors = panel.donors
    if len(donors) < MIN_COMPARISON_UNITS:
        return None
    relative, excluding = [], 0
    for unit in donors:
        t, y, season = _series(panel, unit)
        m = _segmented(t, y, season, panel.start, panel.scale.per_year, count,
                       panel.event_indicators(t))
        excluding += int(m["p"] is None or m["p"] < 0.05)
        relative.append(m["effect"] / m["base"] if m["base"] else np.nan)
    p = float(stats.binom.sf(excluding - 1, len(donors), 0.05))
    return {"units": len(donors), "excluding_no_change": excluding, "p_value": p,
            "median_relative_effect": float(np.nanmedian(relative))}
