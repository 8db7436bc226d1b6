"""Non-parametric estimators: Kaplan-Meier, Aalen-Johansen cumulative incidence and RMST.

All estimators are vectorised over the distinct event times (no loop over people) and
deterministic: tied times are handled exactly, never by jittering. They accept left-truncated
data (``entry``: a person is at risk on ``entry < t <= time``) and case weights (for example
inverse probability of treatment weights). With weights the standard errors are the robust
(infinitesimal-jackknife) ones of :mod:`.influence`, summed within ``cluster`` when given (R's
``survfit(..., weights =, robust = TRUE, cluster =)``); without weights they are Greenwood's
(Kaplan-Meier, RMST) and Gray's (cumulative incidence).

References
----------
Kaplan, E. L. and Meier, P. (1958). Nonparametric estimation from incomplete observations.
JASA 53, 457-481.

Aalen, O. O. and Johansen, S. (1978). An empirical transition matrix for non-homogeneous Markov
chains based on censored observations. Scand. J. Statist. 5, 141-150.

Gray, R. J. (1988). A class of K-sample tests for comparing the cumulative incidence of a
competing risk. Ann. Statist. 16, 1141-1154 (the variance used by ``cmprsk::cuminc``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .influence import cif_robust_variance, km_robust_variance, rmst_robust_variance

#: Two-sided normal quantile for 95% confidence intervals.
Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class RiskTable:
    """Counts at each distinct time at which any event happened.

    Attributes
    ----------
    time : distinct event times, increasing.
    at_risk : (weighted) number at risk just before each time (``entry < t <= time``).
    events : (weighted) number of events of interest at each time.
    competing : (weighted) number of other (competing) events at each time.
    """

    time: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    competing: np.ndarray


def _as_arrays(time, status, entry=None, weights=None):
    time = np.asarray(time, dtype=float)
    status = np.asarray(status)
    # no entry: at risk from the start, including for events at time 0
    entry = np.full_like(time, -np.inf) if entry is None else np.asarray(entry, dtype=float)
    weights = np.ones_like(time) if weights is None else np.asarray(weights, dtype=float)
    return time, status, entry, weights


def at_risk_at(
    query: np.ndarray, time: np.ndarray, entry: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """(Weighted) number at risk at each query time ``t``: rows with ``entry < t <= time``."""
    query = np.asarray(query, dtype=float)
    order_t = np.argsort(time, kind="stable")
    order_e = np.argsort(entry, kind="stable")
    cw_t = np.concatenate([[0.0], np.cumsum(weights[order_t])])
    cw_e = np.concatenate([[0.0], np.cumsum(weights[order_e])])
    total = cw_t[-1]
    # rows with time >= t: total minus those with time < t
    time_ge = total - cw_t[np.searchsorted(time[order_t], query, side="left")]
    # rows with entry >= t are not yet at risk
    entry_ge = total - cw_e[np.searchsorted(entry[order_e], query, side="left")]
    return time_ge - entry_ge


def risk_table(
    time: np.ndarray,
    status: np.ndarray,
    event_of_interest: int = 1,
    entry: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> RiskTable:
    """Number at risk, events of interest and competing events at each distinct event time.

    ``status`` 0 is censoring, ``event_of_interest`` the event, any other non-zero code a
    competing event.
    """
    time, status, entry, weights = _as_arrays(time, status, entry, weights)
    is_event = status == event_of_interest
    is_other = (status != 0) & ~is_event
    any_event = is_event | is_other
    if not any_event.any():
        empty = np.array([], dtype=float)
        return RiskTable(empty, empty, empty, empty)
    utime, inverse = np.unique(time[any_event], return_inverse=True)
    w = weights[any_event]
    events = np.bincount(inverse, weights=w * is_event[any_event], minlength=len(utime))
    competing = np.bincount(inverse, weights=w * is_other[any_event], minlength=len(utime))
    n = at_risk_at(utime, time, entry, weights)
    return RiskTable(utime, n, events, competing)


def _loglog_ci(estimate: np.ndarray, se_log: np.ndarray, z: float = Z95):
    """CI for a probability ``p`` on the log(-log p) scale; ``se_log`` is SE of log(p)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_p = np.log(estimate)
        se_theta = se_log / np.abs(log_p)
        low = estimate ** np.exp(z * se_theta)
        high = estimate ** np.exp(-z * se_theta)
    degenerate = (estimate <= 0) | (estimate >= 1) | ~np.isfinite(se_theta)
    low = np.where(degenerate, estimate, low)
    high = np.where(degenerate, estimate, high)
    return low, high


def kaplan_meier(
    time,
    status,
    event_of_interest: int = 1,
    entry=None,
    weights=None,
    cluster=None,
) -> pd.DataFrame:
    """Kaplan-Meier estimate of the probability of being free of the event of interest.

    Competing events are treated as censoring (the estimate is then the survival of a
    hypothetical world without the competing event; use :func:`aalen_johansen` for the
    real-world risk).

    Returns
    -------
    DataFrame
        One row per distinct event time: ``time``, ``at_risk``, ``events``, ``estimate``
        (survival just after the time), ``std_error`` (Greenwood; robust with weights),
        ``conf_low``, ``conf_high`` (95%, log(-log) scale), ``greenwood`` (the variance of
        log survival: the cumulative Greenwood sum, or the robust variance over survival^2).
    """
    weighted = weights is not None
    t, s, e, w = _as_arrays(time, status, entry, weights)
    km_status = np.where(s == event_of_interest, 1, 0)
    table, survival = _km_steps(t, km_status, e, w)
    n, d = table.at_risk, table.events
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where((n - d) > 0, d / (n * (n - d)), 0.0)
    greenwood = np.cumsum(term)
    if weighted:
        var = km_robust_variance(table.time, n, d, survival, t, km_status == 1, e, w,
                                 _cluster_codes(cluster))
        with np.errstate(divide="ignore", invalid="ignore"):
            greenwood = np.where(survival > 0, var / survival**2, np.inf)
    std_error = survival * np.sqrt(greenwood) if not weighted else np.sqrt(var)
    low, high = _loglog_ci(survival, np.sqrt(greenwood))
    return pd.DataFrame(
        {
            "time": table.time,
            "at_risk": n,
            "events": d,
            "estimate": survival,
            "std_error": std_error,
            "conf_low": low,
            "conf_high": high,
            "greenwood": greenwood,
        }
    )


def aalen_johansen(
    time,
    status,
    event_of_interest: int = 1,
    entry=None,
    weights=None,
    cluster=None,
) -> pd.DataFrame:
    """Aalen-Johansen estimate of the cumulative incidence of the event of interest.

    Estimates ``P(T <= t, cause = event_of_interest)`` in the presence of competing events:
    ``F(t) = sum_{t_j <= t} S(t_j-) d1_j / n_j`` with ``S`` the all-cause Kaplan-Meier survival.
    The variance is the one ``cmprsk::cuminc`` reports (Gray 1988, the delta-method variance
    with the correction for tied events ``1 - (d - 1)/(n - 1)``), accumulated over every time
    with any event; with weights, the robust variance (:mod:`.influence`, as R's
    ``survfit(..., robust = TRUE)`` for the multi-state curve).

    Returns
    -------
    DataFrame
        One row per distinct event time (any cause): ``time``, ``at_risk``, ``events`` (of
        interest), ``competing``, ``estimate`` (cumulative incidence just after the time),
        ``variance``, ``std_error``, ``conf_low``, ``conf_high`` (95%, log(-log) scale of the
        cumulative incidence), ``jump`` (True where the event of interest occurred).
    """
    weighted = weights is not None
    t, s, e, w = _as_arrays(time, status, entry, weights)
    table = risk_table(t, s, event_of_interest, e, w)
    n, d1, d2 = table.at_risk, table.events, table.competing
    d = d1 + d2
    with np.errstate(divide="ignore", invalid="ignore"):
        s_after = np.cumprod(np.where(n > 0, 1.0 - d / n, 1.0))
        s_before = np.concatenate([[1.0], s_after[:-1]])
        cif = np.cumsum(np.where(n > 0, s_before * d1 / n, 0.0))
        inv_s = np.where(s_after > 0, 1.0 / s_after, 0.0)

        def tie_factor(k):
            return np.where(k > 1, 1.0 - (k - 1.0) / (n - 1.0), 1.0)

        # competing events (only where the all-cause survival stays positive)
        t6_other = np.where((d2 > 0) & (s_after > 0), s_before**2 * tie_factor(d2) * d2 / n**2, 0.0)
        a_other = cif * inv_s
        b_other = inv_s
        # events of interest
        t6_event = np.where(d1 > 0, s_before**2 * tie_factor(d1) * d1 / n**2, 0.0)
        a_event = 1.0 + inv_s * cif
        b_event = inv_s
        v1 = np.cumsum(a_other**2 * t6_other + a_event**2 * t6_event)
        v2 = np.cumsum(b_other * a_other * t6_other + b_event * a_event * t6_event)
        v3 = np.cumsum(b_other**2 * t6_other + b_event**2 * t6_event)
    variance_all = v1 + cif**2 * v3 - 2.0 * cif * v2
    # cmprsk updates the reported variance only at times of the event of interest; between
    # them it carries the last value forward (so does the estimate).
    jump = d1 > 0
    last_jump = np.maximum.accumulate(np.where(jump, np.arange(len(jump)), -1))
    variance = np.where(last_jump >= 0, variance_all[np.maximum(last_jump, 0)], 0.0)
    variance = np.maximum(variance, 0.0)
    if weighted and len(table.time):
        variance = cif_robust_variance(table.time, n, d1, d, cif, t, s, event_of_interest, e, w,
                                       _cluster_codes(cluster))
    std_error = np.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        se_log = np.where(cif > 0, std_error / cif, np.nan)
    low, high = _loglog_ci(cif, se_log)
    return pd.DataFrame(
        {
            "time": table.time,
            "at_risk": n,
            "events": d1,
            "competing": d2,
            "estimate": cif,
            "variance": variance,
            "std_error": std_error,
            "conf_low": low,
            "conf_high": high,
            "jump": jump,
        }
    )


def value_at(curve: pd.DataFrame, horizons, max_time: float) -> pd.DataFrame:
    """The step function ``curve`` evaluated at each horizon (right-continuous).

    Before the first event time the value is the start value (survival 1, incidence 0, SE 0).
    Horizons after the last follow-up time ``max_time`` give NaN (not estimable).
    """
    horizons = np.asarray(horizons, dtype=float)
    idx = np.searchsorted(curve["time"].to_numpy(), horizons, side="right") - 1
    out = {}
    for col in ("estimate", "std_error", "conf_low", "conf_high"):
        values = curve[col].to_numpy(dtype=float)
        start = 1.0 if (col != "std_error" and "greenwood" in curve) else 0.0
        if len(values) == 0:  # no events at all: the curve stays at its start
            out[col] = np.full(len(horizons), start)
        else:
            out[col] = np.where(idx >= 0, values[np.maximum(idx, 0)], start)
    frame = pd.DataFrame(out)
    frame.loc[horizons > max_time, :] = np.nan
    frame.insert(0, "time", horizons)
    return frame


def _km_steps(t, km_status, e, w):
    """The risk table at the event times (status 1 = event) and the survival just after each."""
    table = risk_table(t, km_status, 1, e, w)
    n, d = table.at_risk, table.events
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(np.where(n > 0, 1.0 - d / n, 1.0))
    return table, survival


def rmst(
    time,
    status,
    horizon: float,
    event_of_interest: int = 1,
    entry=None,
    weights=None,
    cluster=None,
) -> tuple[float, float]:
    """Restricted mean time free of the event of interest up to ``horizon``, with its SE.

    The area under the Kaplan-Meier curve (competing events censored) from 0 to ``horizon``.
    The variance is ``sum_j A_j^2 d_j / (n_j (n_j - d_j))`` over event times ``t_j < horizon``,
    with ``A_j`` the area under the curve from ``t_j`` to ``horizon`` (as R's
    ``survival:::survmean``); with weights, the robust variance of :mod:`.influence`.

    Returns
    -------
    (rmst, std_error)
    """
    t, s, e, w = _as_arrays(time, status, entry, weights)
    table, survival = _km_steps(t, np.where(s == event_of_interest, 1, 0), e, w)
    inside = np.asarray(table.time) <= horizon
    times = np.asarray(table.time)[inside]
    surv = survival[inside]
    n = np.asarray(table.at_risk)[inside]
    d = np.asarray(table.events)[inside]
    knots = np.concatenate([[0.0], times, [float(horizon)]])
    heights = np.concatenate([[1.0], surv])
    pieces = heights * np.diff(knots)
    area = float(pieces.sum())
    # area from each event time to the horizon
    tail = np.cumsum(pieces[::-1])[::-1][1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where((n - d) > 0, d / (n * (n - d)), 0.0)
    variance = float(np.sum(tail**2 * h))
    if weights is not None:
        variance = rmst_robust_variance(np.asarray(table.time), np.asarray(table.at_risk),
                                        np.asarray(table.events), survival,
                                        float(horizon), t, s == event_of_interest, e, w,
                                        _cluster_codes(cluster))
    return area, float(np.sqrt(variance))


def _cluster_codes(cluster) -> np.ndarray | None:
    """Integer codes of a cluster column (None: every row its own cluster)."""
    return None if cluster is None else pd.factorize(np.asarray(cluster))[0]
