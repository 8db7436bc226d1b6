"""Diagnostics that decide whether a hazard ratio can be trusted.

- :func:`ph_test`: test of proportional hazards from Schoenfeld residuals (Grambsch and
  Therneau 1994), per term and global, with the Kaplan-Meier time transform: the score test of
  R's ``cox.zph`` (survival 3).
- :func:`min_detectable_hr`: the smallest hazard ratio the study can detect (Schoenfeld 1983).
- :func:`e_value`: how strong unmeasured confounding would have to be to explain the estimate
  away (VanderWeele and Ding 2017).

References
----------
Grambsch, P. M. and Therneau, T. M. (1994). Proportional hazards tests and diagnostics based on
weighted residuals. Biometrika 81, 515-526.

Schoenfeld, D. (1983). Sample-size formula for the proportional-hazards regression model.
Biometrics 39, 499-503.

VanderWeele, T. J. and Ding, P. (2017). Sensitivity analysis in observational research:
introducing the E-value. Ann. Intern. Med. 167, 268-274.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .cox import ModelFailed, _cox_newton_raphson
from .nonparametric import kaplan_meier

#: Share of people with the event by the end of follow-up below which a hazard ratio is
#: treated as a risk ratio in the E-value (VanderWeele and Ding 2017).
RARE_OUTCOME_LIMIT = 0.15


def ph_test(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    terms: list[str],
    *,
    entry: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> dict:
    """Test of proportional hazards from Schoenfeld residuals (as R's ``cox.zph``, survival 3).

    Fits the Cox model (Efron ties, case weights and left truncation allowed) and tests, with a
    score test at the fitted coefficients, whether adding ``x * g(t)`` improves it, where
    ``g(t) = 1 - KM(t-)`` (the Kaplan-Meier time transform) centred on its mean over the
    events. The score for the interaction is the sum of ``g`` times the Schoenfeld residuals;
    its variance comes from the full information matrix of the augmented model (Grambsch and
    Therneau 1994). A small p-value says the hazard ratio of that term changes over follow-up.

    Parameters
    ----------
    time, event : follow-up time and 0/1 event of interest (competing events coded 0).
    x : covariate matrix (n x p), columns named by ``terms``.

    Returns
    -------
    dict
        ``{"terms": {term: p_value}, "global": p_value, "chi2": {...}, "method": str}``.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(int)
    n = len(time)
    x = np.asarray(x, dtype=float).reshape(n, -1)
    x = x - x.mean(axis=0)
    p = x.shape[1]
    start = np.full(n, -np.inf) if entry is None else np.asarray(entry, dtype=float)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if event.sum() < 2:
        raise ModelFailed("too few events for a proportional hazards test")
    fit = _cox_newton_raphson(start, time, event, x, w, np.arange(n), ties="efron",
                              group_info=True)
    # g(t) = 1 - KM(t-) (unweighted, as cox.zph), centred on its mean over the events
    km = kaplan_meier(time, event, 1, entry, None)
    idx = np.searchsorted(km["time"].to_numpy(), time, side="left") - 1
    surv_before = np.where(idx >= 0, km["estimate"].to_numpy()[np.maximum(idx, 0)], 1.0)
    g_rows = 1.0 - surv_before
    g_rows = g_rows - g_rows[event == 1].mean()
    rows = fit["event_rows"]
    u = (w[rows] * g_rows[rows]) @ fit["schoenfeld"]
    g_group = np.zeros(len(fit["group_info"]))
    g_group[fit["event_group"]] = g_rows[rows]
    v = fit["group_info"]
    imat = np.zeros((2 * p, 2 * p))
    imat[:p, :p] = v.sum(axis=0)
    imat[:p, p:] = imat[p:, :p] = np.einsum("k,kab->ab", g_group, v)
    imat[p:, p:] = np.einsum("k,kab->ab", g_group**2, v)
    score = np.concatenate([np.zeros(p), u])
    try:
        chi2_terms = []
        for j in range(p):
            keep = np.r_[np.arange(p), p + j]
            sub = score[keep]
            chi2_terms.append(float(sub @ np.linalg.solve(imat[np.ix_(keep, keep)], sub)))
        chi2_global = float(score @ np.linalg.solve(imat, score))
    except np.linalg.LinAlgError:
        raise ModelFailed("no proportional hazards test: singular information") from None
    p_terms = stats.chi2.sf(chi2_terms, 1)
    return {
        "terms": {t: float(pv) for t, pv in zip(terms, p_terms)},
        "global": float(stats.chi2.sf(chi2_global, p)),
        "chi2": {**dict(zip(terms, chi2_terms)), "global": chi2_global},
        "method": "score test of x * (1 - KM(t-)) from Schoenfeld residuals (cox.zph)",
    }


def min_detectable_hr(
    events: float, share_treated: float, alpha: float = 0.05, power: float = 0.8
) -> tuple[float, float]:
    """Smallest hazard ratio detectable with ``power`` at two-sided level ``alpha``.

    Schoenfeld (1983): ``MDHR = exp(sqrt((z_power + z_{1-alpha/2})^2 / (events p_t p_c)))``
    with ``events`` the number of events in both arms and ``p_t`` the share treated.

    Returns
    -------
    (reduction, increase)
        The detectable hazard ratio below 1 (a protective effect) and its inverse above 1.
        Infinite / zero when there are no events or only one arm.
    """
    p_c = 1.0 - share_treated
    if events <= 0 or share_treated <= 0 or p_c <= 0:
        return 0.0, math.inf
    z = stats.norm.ppf(power) + stats.norm.ppf(1.0 - alpha / 2.0)
    log_hr = math.sqrt(z**2 / (events * share_treated * p_c))
    return math.exp(-log_hr), math.exp(log_hr)


def _risk_ratio_from_hr(hr: float, rare: bool) -> float:
    if rare:
        return hr
    # common outcome: RR ~ (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))
    return (1.0 - 0.5 ** math.sqrt(hr)) / (1.0 - 0.5 ** math.sqrt(1.0 / hr))


def _e_value_rr(rr: float) -> float:
    if rr < 1.0:
        rr = 1.0 / rr
    return rr + math.sqrt(rr * (rr - 1.0))


def e_value(hazard_ratio: float, conf_low: float, conf_high: float, outcome_risk: float) -> dict:
    """E-value for a hazard ratio and for the confidence limit closest to 1.

    The minimum strength of association (risk ratio scale) an unmeasured confounder would need
    with both treatment and outcome to explain the estimate away. With a rare outcome
    (``outcome_risk`` below :data:`RARE_OUTCOME_LIMIT` by the end of follow-up) the hazard ratio
    is used as a risk ratio; otherwise VanderWeele's common-outcome approximation. The E-value of
    the confidence interval is 1 when the interval contains 1.

    Returns
    -------
    dict
        ``{"point": float, "ci": float, "rare_outcome": bool, "outcome_risk": float}``.
    """
    if not all(np.isfinite([hazard_ratio, conf_low, conf_high])) or hazard_ratio <= 0:
        return {"point": None, "ci": None, "rare_outcome": None, "outcome_risk": outcome_risk}
    rare = bool(outcome_risk < RARE_OUTCOME_LIMIT)
    point = _e_value_rr(_risk_ratio_from_hr(hazard_ratio, rare))
    if conf_low <= 1.0 <= conf_high:
        ci = 1.0
    else:
        limit = conf_high if hazard_ratio < 1.0 else conf_low
        ci = _e_value_rr(_risk_ratio_from_hr(limit, rare))
    return {"point": point, "ci": ci, "rare_outcome": rare, "outcome_risk": outcome_risk}
