"""Interrupted time series on the treated unit alone (segmented regression).

Estimand: the average, over the post-period, of the difference between the treated unit's
expected outcome and the expected outcome had its pre-period level, trend and seasonality
continued (in the outcome's units per period).

Model: ``outcome_t = g^-1(a + b t + season_t + level * post_t + slope * (t - start) * post_t)``,
with ``g`` the log link and a negative-binomial family for counts (Poisson when the counts are
not over-dispersed) or the identity for a continuous outcome. Standard errors are Newey-West
(HAC) with the usual lag rule; the average effect's interval is by the delta method.
Diagnostics: Ljung-Box test of the residuals, the fit over the pre-period and an in-time placebo
(the same model on the pre-period alone with a start half way through it).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ._threads import single_threaded_blas
from .panel import AreaPanel
from .results import AreaResult

ESTIMAND = ("average post-period difference between the treated unit's outcome and its own "
            "continued pre-period trend and seasonality (outcome units per period)")


def _design(t: np.ndarray, season: np.ndarray, start: int, per_year: int, n_pre: int,
            effect: bool = True) -> pd.DataFrame:
    x = pd.DataFrame({"const": 1.0, "trend": (t - start) / max(per_year, 1)})
    if per_year > 1 and n_pre >= 2 * per_year:
        for s in range(2, per_year + 1):
            x[f"season_{s}"] = (season == s).astype(float)
    post = (t >= start).astype(float)
    x["level"] = post * effect
    x["slope"] = post * (t - start) / max(per_year, 1) * effect
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
    beta = fit.params.to_numpy()
    cov = np.asarray(fit.cov_params())
    x1 = x.to_numpy()[post]
    x0 = x1.copy()
    x0[:, [x.columns.get_loc("level"), x.columns.get_loc("slope")]] = 0.0
    if count:
        m1, m0 = np.exp(x1 @ beta), np.exp(x0 @ beta)
        grad = (m1[:, None] * x1 - m0[:, None] * x0).mean(axis=0)
    else:
        m1, m0 = x1 @ beta, x0 @ beta
        grad = (x1 - x0).mean(axis=0)
    effect = float((m1 - m0).mean())
    se = float(np.sqrt(max(grad @ cov @ grad, 0.0)))
    return effect, se, float(m0.mean())


@single_threaded_blas
def fit_its(panel: AreaPanel, family: str | None = None, level: float = 0.95) -> AreaResult:
    """Segmented regression on ``panel.treated_unit``; see the module docstring."""
    from statsmodels.stats.diagnostic import acorr_ljungbox

    panel.require("its")
    count = panel.count_outcome if family is None else family == "poisson"
    treated = panel.data.loc[panel.data["unit"] == panel.treated_unit].sort_values("period")
    t, y = treated["period"].to_numpy(), treated["outcome"].to_numpy(float)
    season = treated["season"].to_numpy()
    per_year, n_pre = panel.scale.per_year, int((t < panel.start).sum())
    x = _design(t, season, panel.start, per_year, n_pre)
    fit, fam, alpha = _fit(y, x, count)
    post = t >= panel.start
    effect, se, base = _average_effect(fit, x, post, count)
    z = stats.norm.ppf(0.5 + level / 2)
    p = float(2 * stats.norm.sf(abs(effect / se))) if se > 0 else None

    resid = np.asarray(fit.resid_pearson if hasattr(fit, "resid_pearson") else fit.resid)
    lb_lag = int(min(per_year if per_year > 1 else 4, max(1, len(y) // 5)))
    lb_p = float(acorr_ljungbox(resid, lags=[lb_lag])["lb_pvalue"].iloc[0])
    fitted = np.asarray(fit.fittedvalues)
    pre_rmse = float(np.sqrt(np.mean((y[~post] - fitted[~post]) ** 2)))
    placebo = _in_time_placebo(t[~post], y[~post], season[~post], per_year, count)

    cf = x.copy()
    cf[["level", "slope"]] = 0.0
    beta = fit.params.to_numpy()
    counterfactual = cf.to_numpy() @ beta
    series = pd.DataFrame({"period": [panel.label(v) for v in t], "observed": y,
                           "fitted": fitted,
                           "counterfactual": np.exp(counterfactual) if count else counterfactual})
    diagnostics = {
        "family": fam, "dispersion_alpha": alpha, "hac_maxlags": _hac_lags(len(y)),
        "seasonality": any(c.startswith("season_") for c in x.columns),
        "ljung_box_lag": lb_lag, "ljung_box_p": lb_p, "pre_rmse": pre_rmse,
        "pre_mean": float(y[~post].mean()), "placebo_in_time": placebo,
        "level_change": float(fit.params["level"]), "slope_change": float(fit.params["slope"]),
        "level_change_scale": "log rate ratio" if count else "outcome units",
        "n_pre": n_pre, "n_post": int(post.sum()), "counterfactual_mean": base,
    }
    gates = {"residual_autocorrelation": lb_p >= 0.01,
             "placebo_in_time": placebo is None or placebo["p_value"] >= 0.05}
    reasons = []
    if not gates["residual_autocorrelation"]:
        reasons.append(f"residuals autocorrelated beyond what the HAC errors allow for "
                       f"(Ljung-Box p = {lb_p:.3f})")
    if not gates["placebo_in_time"]:
        reasons.append(f"an effect appears at a placebo start inside the pre-period "
                       f"(p = {placebo['p_value']:.3f})")
    gates.update(passed=not reasons, reasons=reasons)
    row = {"estimate": effect, "conf_low": effect - z * se, "conf_high": effect + z * se,
           "p_value": p, "std_error": se, "relative_change": effect / base if base else None}
    return AreaResult("its", ESTIMAND, row, diagnostics, gates, series)


def _in_time_placebo(t, y, season, per_year, count) -> dict | None:
    """The same model on the pre-period alone, with a start half way through it."""
    if len(t) < 10:
        return None
    fake = int(t[len(t) // 2])
    x = _design(t, season, fake, per_year, int((t < fake).sum()))
    fit, _, _ = _fit(y, x, count)
    effect, se, _base = _average_effect(fit, x, t >= fake, count)
    p = float(2 * stats.norm.sf(abs(effect / se))) if se > 0 else 1.0
    return {"start_index": len(t) // 2, "estimate": effect, "std_error": se, "p_value": p}
