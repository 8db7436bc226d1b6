"""Difference-in-differences and event study against the comparison units.

Estimand: the average effect on the treated unit(s) over the post-period, in the outcome's units
per period: the mean over treated post-period rows of the fitted outcome minus the outcome
without the initiative's terms (for counts on the log scale of the Poisson model; for a
continuous outcome and two periods this is the classic difference of mean changes).

Model: two-way fixed effects (unit and period), Poisson for counts or linear, and, with at least
:data:`MIN_PRE_FOR_TRENDS` pre-periods, a linear trend for every unit (one is the reference:
the period effects carry the common trend). With unit trends the treated unit(s) get a level
and a slope change from the start, so their own trend is identified by the pre-period alone
and the effect may grow or fade linearly; the counterfactual is then "each unit's own trend plus
the shocks shared with the comparison units continue". Without unit trends (short panels such as
Card and Krueger's two waves) the treated get one level change and the assumption is classic
parallel trends. Municipalities differ in their trends; a parallel-trends model on ten years
of data then mistakes the treated unit's own drift for an effect, and its errors, which do not
carry that drift, are far too narrow.

Standard errors are clustered by unit when at least :data:`MIN_TREATED_FOR_CLUSTERING` units
are treated. With fewer (one study municipality), unit-clustered errors rest on the treated
cluster's own score, which the fixed effects nearly zero, and are far too small (Conley and Taber
2011; MacKinnon and Webb 2017); the errors are then Driscoll-Kraay (the scores summed over units
per period, with Newey-West weights over periods), valid with many periods and robust to shocks
shared across units and to serial correlation; they carry the uncertainty of the treated unit's
own level and trend, not that of the period effects (their scores sum to zero in every period),
which is small with many comparison units. The effect's interval is by the delta method, with
fixed-b critical values for Driscoll-Kraay errors (:func:`.effect.hac_critical_value`).

Gates: with unit trends, an in-time placebo (the same model on the pre-period alone with a start
half way through it: an effect there means the treated unit's path is not a linear trend plus
the shared shocks); without them, the Wald test of a linear differential pre-trend on the
pre-period. The linear pre-trend test is reported in both cases. The event study replaces the
treated unit's change terms by ``treated x event time`` (periods, or years for monthly data,
relative to the start; the year before is the reference, and with unit trends also the first
year, which pins the treated unit's trend).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ._threads import single_threaded_blas
from .effect import average_effect, hac_critical_value, hac_p_value
from .panel import AreaPanel
from .results import AreaResult

#: Pre-periods needed before unit-specific trends enter the model (a trend and an in-time placebo
#: with at least five periods on each side of its start).
MIN_PRE_FOR_TRENDS = 10

#: Treated units needed before standard errors are clustered by unit (else Driscoll-Kraay).
MIN_TREATED_FOR_CLUSTERING = 5

ESTIMAND = ("average post-period effect on the treated unit(s) relative to the comparison "
            "units' change (outcome units per period)")


def _dummies(data: pd.DataFrame) -> pd.DataFrame:
    """Constant and period dummies; the unit effects are added by :func:`_fit`."""
    periods = pd.get_dummies(data["period"], prefix="p", drop_first=True, dtype=float)
    return pd.concat([pd.Series(1.0, index=data.index, name="const"), periods], axis=1)


def _years(panel: AreaPanel, data: pd.DataFrame, start: int) -> pd.Series:
    return (data["period"] - start) / max(panel.scale.per_year, 1)


def _unit_trends(panel: AreaPanel, data: pd.DataFrame, start: int) -> pd.DataFrame:
    """A linear trend (in years) for every unit but the first comparison unit."""
    years = _years(panel, data, start)
    ref = min(data.loc[data["treated"] == 0, "unit"].unique())
    units = [u for u in sorted(data["unit"].unique()) if u != ref]
    return pd.DataFrame({f"trend_{u}": years * (data["unit"] == u) for u in units},
                        index=data.index).astype(float)


def _base(panel: AreaPanel, data: pd.DataFrame, start: int, trends: bool) -> pd.DataFrame:
    x = _dummies(data)
    return pd.concat([x, _unit_trends(panel, data, start)], axis=1) if trends else x


def _change_terms(panel: AreaPanel, data: pd.DataFrame, start: int, slope: bool) -> pd.DataFrame:
    treated_post = (data["treated"] * (data["period"] >= start)).astype(float)
    terms = pd.DataFrame({"treated_post": treated_post}, index=data.index)
    if slope:
        terms["treated_post_slope"] = treated_post * _years(panel, data, start)
    return terms


def _covariance(groups, periods, n_treated: int) -> tuple[str, dict, str]:
    if n_treated >= MIN_TREATED_FOR_CLUSTERING or len(np.unique(periods)) < 10:
        return "cluster", {"groups": groups}, "clustered by unit"
    lags = max(1, int(np.floor(4 * (len(np.unique(periods)) / 100) ** (2 / 9))))
    return "hac-groupsum", {"time": periods, "maxlags": lags}, f"Driscoll-Kraay, {lags} lags"


def _fit(y, x, groups, count: bool, cov=None):
    """Poisson with unit dummies, or linear on within-unit deviations (the unit effects
    absorbed, so that, as in Stata's ``reghdfe``, they do not count in the small-sample
    correction of the clustered errors: the unit effects are nested in the clusters).

    Returns the fit and its design matrix (for the Poisson model with the unit dummies; for
    the linear model the columns of the fit, undemeaned)."""
    import statsmodels.api as sm

    cov_type, kwds, _ = cov or ("cluster", {"groups": groups}, "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if count:
            units = pd.get_dummies(pd.Series(groups, index=x.index), prefix="u", drop_first=True,
                                   dtype=float)
            design = pd.concat([x, units], axis=1)
            fit = sm.GLM(y, design, family=sm.families.Poisson()).fit(cov_type=cov_type,
                                                                       cov_kwds=kwds)
            return fit, design
        design = x.drop(columns="const")
        within = design - design.groupby(groups).transform("mean")
        yw = y - pd.Series(y, index=x.index).groupby(groups).transform("mean").to_numpy()
        return sm.OLS(yw, within).fit(cov_type=cov_type, cov_kwds=kwds), design


def _event_bins(panel: AreaPanel, data: pd.DataFrame | None = None) -> tuple[np.ndarray, int]:
    """Event time of every row (in bins of a year for monthly data) and the bin width."""
    data = panel.data if data is None else data
    width = panel.scale.per_year if panel.scale.per_year == 12 else 1
    rel = data["period"].to_numpy() - panel.start
    return np.floor_divide(rel, width), width


def _estimate(panel: AreaPanel, data: pd.DataFrame, start: int, count: bool, trends: bool):
    """The model on ``data`` with the change at ``start``: effect, SE, p, fit and context."""
    groups = pd.factorize(data["unit"])[0]
    y = data["outcome"].to_numpy(float)
    slope = trends and data.loc[data["period"] >= start, "period"].nunique() >= 2
    x = pd.concat([_base(panel, data, start, trends),
                   _change_terms(panel, data, start, bool(slope))], axis=1)
    n_treated = data.loc[data["treated"] == 1, "unit"].nunique()
    cov = _covariance(groups, pd.factorize(data["period"], sort=True)[0], n_treated)
    fit, design = _fit(y, x, groups, count, cov)
    change = [c for c in ("treated_post", "treated_post_slope") if c in design.columns]
    rows = ((data["treated"] == 1) & (data["period"] >= start)).to_numpy()
    effect, se, base = average_effect(fit.params.to_numpy(), np.asarray(fit.cov_params()),
                                      design.to_numpy()[rows], [design.columns.get_loc(c)
                                                                for c in change], count)
    if not count:
        base = float(y[rows].mean() - effect)
    lags, periods = cov[1].get("maxlags"), data["period"].nunique()
    return {"effect": effect, "se": se, "p": hac_p_value(effect, se, lags, periods), "base": base,
            "fit": fit, "cov": cov, "groups": groups, "y": y, "slope": bool(slope),
            "critical": lambda level: hac_critical_value(level, lags, periods)}


@single_threaded_blas
def fit_did(panel: AreaPanel, family: str | None = None, level: float = 0.95,
            trends: bool | None = None) -> AreaResult:
    """Two-way fixed effects difference-in-differences and event study; see the module.

    ``trends``: unit-specific linear trends (default: with at least
    :data:`MIN_PRE_FOR_TRENDS` pre-periods)."""
    panel.require("did")
    count = panel.count_outcome if family is None else family == "poisson"
    trends = len(panel.pre_periods) >= MIN_PRE_FOR_TRENDS if trends is None else bool(trends)
    m = _estimate(panel, panel.data, panel.start, count, trends)
    fit, cov, effect, se = m["fit"], m["cov"], m["effect"], m["se"]
    z = m["critical"](level)
    base_x = _base(panel, panel.data, panel.start, trends)
    event = _event_study(panel, base_x, m["y"], m["groups"], count, z, cov, trends)
    pre_trend = _pre_trend(panel, _dummies(panel.data), m["y"], m["groups"], count, cov)
    placebo = _in_time_placebo(panel, count) if trends else None
    gates = _gates(trends, pre_trend, placebo)
    diagnostics = {"family": "poisson" if count else "linear",
                   "unit_trends": trends, "slope_change": m["slope"],
                   "coefficient": float(fit.params["treated_post"]),
                   "coefficient_se": float(fit.bse["treated_post"]),
                   "coefficient_scale": "log rate ratio" if count else "outcome units",
                   "rate_ratio": float(1 + effect / m["base"]) if count and m["base"] else None,
                   "clusters": len(np.unique(m["groups"])), "standard_errors": cov[2],
                   "se_method": "cluster" if cov[0] == "cluster" else "driscoll_kraay",
                   "se_lags": cov[1].get("maxlags"), "critical_value": float(z),
                   "critical_value_kind": "normal" if cov[1].get("maxlags") is None else "fixed_b",
                   "treated_units": len(panel.treated_units),
                   "pre_trend": pre_trend, "placebo_in_time": placebo,
                   "counterfactual_mean": m["base"],
                   "event_time_unit": "years" if panel.scale.per_year == 12 else "periods"}
    row = {"estimate": effect, "std_error": se, "conf_low": effect - z * se,
           "conf_high": effect + z * se, "p_value": m["p"],
           "relative_change": float(effect / m["base"]) if m["base"] else None}
    return AreaResult("did", ESTIMAND, row, diagnostics, gates, _did_series(panel),
                      extra={"event_time": event})


def _gates(trends: bool, pre_trend: dict | None, placebo: dict | None) -> dict:
    if trends:
        ok = placebo is None or placebo["p_value"] >= 0.05
        reasons = [] if ok else [(
            f"an effect appears at a placebo start inside the pre-period (p = "
            f"{placebo['p_value']:.3f}): the treated unit's path is not its own trend plus the "
            f"shared shocks")]
        return {"placebo_in_time": ok, "passed": ok, "reasons": reasons}
    gates, reasons = {"pre_trend": None if pre_trend is None else pre_trend["p_value"] >= 0.05}, []
    if pre_trend is None:
        reasons.append("one pre-period only: parallel pre-trends cannot be checked")
    elif not gates["pre_trend"]:
        reasons.append(f"the treated and comparison units did not move in parallel before the "
                       f"start (pre-trend test p = {pre_trend['p_value']:.3f})")
    gates.update(passed=bool(gates["pre_trend"]) if pre_trend is not None else False, reasons=reasons)
    return gates


def _in_time_placebo(panel: AreaPanel, count: bool) -> dict | None:
    """The same model (with unit trends) on the pre-period alone, the start half way through."""
    pre = panel.pre_periods
    if len(pre) < MIN_PRE_FOR_TRENDS:
        return None
    fake = int(pre[len(pre) // 2])
    data = panel.data.loc[panel.data["period"] < panel.start].reset_index(drop=True)
    m = _estimate(panel, data, fake, count, trends=True)
    return {"start": panel.label(fake), "estimate": m["effect"], "std_error": m["se"],
            "p_value": m["p"] if m["p"] is not None else 1.0}


def _event_study(panel, base_x, y, groups, count, z, cov, trends: bool = False):
    bins, _ = _event_bins(panel)
    treated = panel.data["treated"].to_numpy()
    levels = sorted(set(bins))
    if -1 not in levels:
        return pd.DataFrame()
    refs = {-1, levels[0]} if trends and len([b for b in levels if b < 0]) >= 3 else {-1}
    x = base_x.copy()
    names = []
    for b in levels:
        if b in refs:
            continue
        name = f"event_{b}"
        x[name] = ((bins == b) & (treated == 1)).astype(float)
        names.append((b, name))
    fit, _ = _fit(y, x, groups, count, cov)
    rows = [{"event_time": int(b), "estimate": float(fit.params[n]), "std_error": float(fit.bse[n]),
             "conf_low": float(fit.params[n] - z * fit.bse[n]),
             "conf_high": float(fit.params[n] + z * fit.bse[n])} for b, n in names]
    rows += [{"event_time": int(r), "estimate": 0.0, "std_error": 0.0, "conf_low": 0.0,
              "conf_high": 0.0} for r in refs]
    return pd.DataFrame(rows).sort_values("event_time").reset_index(drop=True)


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
    fit, _ = _fit(y[pre], x, g, count, cov_pre)
    trend, se = float(fit.params["treated_trend"]), float(fit.bse["treated_trend"])
    p = hac_p_value(trend, se, cov_pre[1].get("maxlags"), data["period"].nunique())
    return {"trend_per_year": trend, "std_error": se, "p_value": 1.0 if p is None else p,
            "scale": "log rate ratio per year" if count else "outcome units per year"}


def _did_series(panel: AreaPanel) -> pd.DataFrame:
    """Treated unit(s) and comparison mean per period (for the figure)."""
    d = panel.data
    wide = d.groupby(["period", "treated"])["outcome"].mean().unstack("treated")
    return pd.DataFrame({"period": [panel.label(p) for p in wide.index],
                         "treated": wide[1].to_numpy(), "comparison_mean": wide[0].to_numpy()})
