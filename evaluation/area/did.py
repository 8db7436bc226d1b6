"""Difference-in-differences and event study against the comparison units.

Estimand: the average effect on the treated unit(s) over the post-period, in the outcome's units
per period (for counts: the treated unit's fitted post-period mean times ``1 - exp(-beta)``, with
``beta`` the log rate ratio of the two-way fixed-effects Poisson model; for a continuous outcome
the classic difference of mean changes).

Model: two-way fixed effects (unit and period), Poisson for counts or linear. Standard errors
are clustered by unit when at least :data:`MIN_TREATED_FOR_CLUSTERING` units are treated. With
fewer (one study municipality), unit-clustered errors rest on the treated cluster's own score,
which the fixed effects nearly zero, and are far too small (Conley and Taber 2011; MacKinnon and
Webb 2017); the errors are then Driscoll-Kraay (the scores summed over units per period, with
Newey-West weights over periods), valid with many periods and robust to shocks shared across
units and to serial correlation. The event study replaces ``treated x post`` by ``treated x event
time`` (periods, or years for monthly data, relative to the start; the year before is the
reference). The pre-trend test is the joint Wald test of the pre-period event-time coefficients;
its failure is a failed gate shown beside the estimate.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ._threads import single_threaded_blas
from .panel import AreaPanel
from .results import AreaResult

#: Treated units needed before standard errors are clustered by unit (else Driscoll-Kraay).
MIN_TREATED_FOR_CLUSTERING = 5

ESTIMAND = ("average post-period effect on the treated unit(s) relative to the comparison "
            "units' change (outcome units per period)")


def _dummies(data: pd.DataFrame) -> pd.DataFrame:
    """Constant and period dummies; the unit effects are added by :func:`_fit`."""
    periods = pd.get_dummies(data["period"], prefix="p", drop_first=True, dtype=float)
    return pd.concat([pd.Series(1.0, index=data.index, name="const"), periods], axis=1)


def _covariance(groups, periods, n_treated: int) -> tuple[str, dict, str]:
    if n_treated >= MIN_TREATED_FOR_CLUSTERING or len(np.unique(periods)) < 10:
        return "cluster", {"groups": groups}, "clustered by unit"
    lags = max(1, int(np.floor(4 * (len(np.unique(periods)) / 100) ** (2 / 9))))
    return "hac-groupsum", {"time": periods, "maxlags": lags}, f"Driscoll-Kraay, {lags} lags"


def _fit(y, x, groups, count: bool, cov=None):
    """Poisson with unit dummies, or linear on within-unit deviations (the unit effects
    absorbed, so that, as in Stata's ``reghdfe``, they do not count in the small-sample
    correction of the clustered errors: the unit effects are nested in the clusters)."""
    import statsmodels.api as sm

    cov_type, kwds, _ = cov or ("cluster", {"groups": groups}, "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if count:
            units = pd.get_dummies(pd.Series(groups, index=x.index), prefix="u", drop_first=True,
                                   dtype=float)
            return sm.GLM(y, pd.concat([x, units], axis=1), family=sm.families.Poisson()).fit(
                cov_type=cov_type, cov_kwds=kwds)
        within = x.drop(columns="const")
        within = within - within.groupby(groups).transform("mean")
        yw = y - pd.Series(y, index=x.index).groupby(groups).transform("mean").to_numpy()
        return sm.OLS(yw, within).fit(cov_type=cov_type, cov_kwds=kwds)


def _event_bins(panel: AreaPanel) -> tuple[np.ndarray, int]:
    """Event time of every row (in bins of a year for monthly data) and the bin width."""
    width = panel.scale.per_year if panel.scale.per_year == 12 else 1
    rel = panel.data["period"].to_numpy() - panel.start
    return np.floor_divide(rel, width), width


@single_threaded_blas
def fit_did(panel: AreaPanel, family: str | None = None, level: float = 0.95) -> AreaResult:
    """Two-way fixed effects difference-in-differences and event study; see the module."""
    panel.require("did")
    count = panel.count_outcome if family is None else family == "poisson"
    data = panel.data
    groups = pd.factorize(data["unit"])[0]
    y = data["outcome"].to_numpy(float)
    base_x = _dummies(data)
    x = base_x.assign(treated_post=(data["treated"] * data["post"]).astype(float))
    cov = _covariance(groups, pd.factorize(data["period"], sort=True)[0], len(panel.treated_units))
    fit = _fit(y, x, groups, count, cov)
    beta, se = float(fit.params["treated_post"]), float(fit.bse["treated_post"])
    z = stats.norm.ppf(0.5 + level / 2)
    lo, hi = beta - z * se, beta + z * se
    p = float(fit.pvalues["treated_post"])
    tp = (data["treated"] == 1) & (data["post"] == 1)
    if count:
        fitted = np.asarray(fit.fittedvalues)
        m = float(fitted[tp.to_numpy()].mean())
        effect, conf = m * (1 - np.exp(-beta)), (m * (1 - np.exp(-lo)), m * (1 - np.exp(-hi)))
        base = m * np.exp(-beta)
    else:
        effect, conf = beta, (lo, hi)
        base = float(y[tp.to_numpy()].mean() - beta)
    event, pre_trend = _event_study(panel, base_x, y, groups, count, z, cov)
    gates, reasons = {"pre_trend": None if pre_trend is None else pre_trend["p_value"] >= 0.05}, []
    if pre_trend is None:
        reasons.append("one pre-period only: parallel pre-trends cannot be checked")
    elif not gates["pre_trend"]:
        reasons.append(f"the treated and comparison units did not move in parallel before the "
                       f"start (pre-trend test p = {pre_trend['p_value']:.3f})")
    gates.update(passed=bool(gates["pre_trend"]) if pre_trend is not None else False, reasons=reasons)
    diagnostics = {"family": "poisson" if count else "linear", "coefficient": beta,
                   "coefficient_se": se, "coefficient_scale": "log rate ratio" if count else
                   "outcome units", "rate_ratio": float(np.exp(beta)) if count else None,
                   "clusters": len(np.unique(groups)), "standard_errors": cov[2],
                   "se_method": "cluster" if cov[0] == "cluster" else "driscoll_kraay",
                   "se_lags": cov[1].get("maxlags"), "treated_units": len(panel.treated_units),
                   "pre_trend": pre_trend, "counterfactual_mean": base,
                   "event_time_unit": "years" if panel.scale.per_year == 12 else "periods"}
    row = {"estimate": float(effect), "std_error": float(abs(effect / beta * se)) if beta else None,
           "conf_low": float(min(conf)), "conf_high": float(max(conf)), "p_value": p,
           "relative_change": float(effect / base) if base else None}
    return AreaResult("did", ESTIMAND, row, diagnostics, gates, _did_series(panel),
                      extra={"event_time": event})


def _event_study(panel, base_x, y, groups, count, z, cov):
    bins, _ = _event_bins(panel)
    treated = panel.data["treated"].to_numpy()
    levels = sorted(set(bins))
    ref = -1 if -1 in levels else None
    if ref is None:
        return pd.DataFrame(), None
    x = base_x.copy()
    names = []
    for b in levels:
        if b == ref:
            continue
        name = f"event_{b}"
        x[name] = ((bins == b) & (treated == 1)).astype(float)
        names.append((b, name))
    fit = _fit(y, x, groups, count, cov)
    rows = [{"event_time": int(b), "estimate": float(fit.params[n]), "std_error": float(fit.bse[n]),
             "conf_low": float(fit.params[n] - z * fit.bse[n]),
             "conf_high": float(fit.params[n] + z * fit.bse[n])} for b, n in names]
    rows.append({"event_time": ref, "estimate": 0.0, "std_error": 0.0, "conf_low": 0.0, "conf_high": 0.0})
    table = pd.DataFrame(rows).sort_values("event_time").reset_index(drop=True)
    return table, _pre_trend(panel, base_x, y, groups, count, cov)


def _pre_trend(panel, base_x, y, groups, count, cov) -> dict | None:
    """Linear differential pre-trend of the treated unit(s), on the pre-period alone."""
    pre = (panel.data["post"] == 0).to_numpy()
    if len(panel.pre_periods) < 2:
        return None
    data = panel.data.loc[pre]
    x = base_x.loc[pre]
    x = x.loc[:, x.std() > 0].copy()
    x["const"] = 1.0
    years = (data["period"] - panel.start) / panel.scale.per_year
    x["treated_trend"] = (data["treated"] * years).astype(float)
    g = groups[pre]
    if cov[0] == "hac-groupsum":
        cov_pre = (cov[0], {**cov[1], "time": pd.factorize(data["period"], sort=True)[0]}, cov[2])
    else:
        cov_pre = (cov[0], {"groups": g}, cov[2])
    fit = _fit(y[pre], x, g, count, cov_pre)
    return {"trend_per_year": float(fit.params["treated_trend"]),
            "std_error": float(fit.bse["treated_trend"]),
            "p_value": float(fit.pvalues["treated_trend"]),
            "scale": "log rate ratio per year" if count else "outcome units per year"}


def _did_series(panel: AreaPanel) -> pd.DataFrame:
    """Treated unit(s) and comparison mean per period (for the figure)."""
    d = panel.data
    wide = d.groupby(["period", "treated"])["outcome"].mean().unstack("treated")
    return pd.DataFrame({"period": [panel.label(p) for p in wide.index],
                         "treated": wide[1].to_numpy(), "comparison_mean": wide[0].to_numpy()})
