"""Hazard models: Cox (cause-specific, optionally stratified) and Fine-Gray subdistribution.

- :func:`fit_cox` fits the Cox proportional hazards model with lifelines' ``CoxPHFitter``
  (Efron ties), with a cluster-robust (sandwich) variance when a cluster column or case weights
  are given, stratification by a column and left truncation (``entry``, counting-process rows).
  Competing events are censored: the coefficient is a cause-specific log hazard ratio.
- :func:`finegray_data` builds the censoring-weighted data set of R's ``survival::finegray``
  and :func:`fit_fine_gray` fits a weighted Cox model (Breslow ties, as ``cmprsk::crr``) on it
  with a robust variance clustered on the person (or on the given cluster). The coefficient is a
  log subdistribution hazard ratio (Fine and Gray 1999).

References
----------
Fine, J. P. and Gray, R. J. (1999). A proportional hazards model for the subdistribution of a
competing risk. JASA 94, 496-509.

Lin, D. Y. and Wei, L. J. (1989). The robust inference for the Cox proportional hazards model.
JASA 84, 1074-1078.

Geskus, R. B. (2011). Cause-specific cumulative incidence estimation and the Fine and Gray model
under both left truncation and right censoring. Biometrics 67, 39-49.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .nonparametric import Z95, at_risk_at


class ModelFailed(RuntimeError):
    """A model could not be fitted (no events, no variation, no convergence)."""


@dataclass(frozen=True)
class HazardFit:
    """A fitted hazard model: coefficients on the log-hazard scale.

    Attributes
    ----------
    terms : covariate names, treatment first.
    params : coefficients (log hazard ratios).
    std_error : standard errors used for inference (robust when ``robust``).
    model_std_error : model-based (inverse information) standard errors.
    robust : whether ``std_error`` is the sandwich estimate.
    n, events : rows and (weighted) events used.
    notes : warnings raised while fitting, kept for the diagnostics.
    fitter : the underlying lifelines fitter, when lifelines was used.
    """

    terms: list[str]
    params: np.ndarray
    std_error: np.ndarray
    model_std_error: np.ndarray
    robust: bool
    n: int
    events: float
    notes: list[str] = field(default_factory=list)
    fitter: object | None = None

    def table(self) -> pd.DataFrame:
        """Coefficient table: term, estimate, std_error, conf_low, conf_high, p_value, hazard_ratio."""
        z = self.params / self.std_error
        return pd.DataFrame(
            {
                "term": self.terms,
                "estimate": self.params,
                "std_error": self.std_error,
                "conf_low": self.params - Z95 * self.std_error,
                "conf_high": self.params + Z95 * self.std_error,
                "p_value": 2.0 * stats.norm.sf(np.abs(z)),
                "hazard_ratio": np.exp(self.params),
            }
        )


def fit_cox(
    data: pd.DataFrame,
    *,
    duration: str,
    event: str,
    terms: list[str],
    cluster: str | None = None,
    strata: str | None = None,
    entry: str | None = None,
    weights: str | None = None,
) -> HazardFit:
    """Cox proportional hazards model (Efron ties) with lifelines.

    Estimates the log hazard ratio of each term. ``event`` is a 0/1 column (competing events
    already coded 0, so the model is cause-specific). The variance is the cluster-robust
    sandwich when ``cluster`` or ``weights`` is given, the inverse information otherwise.

    Raises
    ------
    ModelFailed
        No events, or lifelines could not fit the model.
    """
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning, StatisticalWarning

    columns = [duration, event, *terms]
    for extra in (cluster, strata, entry, weights):
        if extra is not None and extra not in columns:
            columns.append(extra)
    # lifelines' sandwich variance depends on the row order within tied times: sort on every
    # model column so the result does not depend on how the table happens to be ordered
    frame = data[columns].sort_values(columns, kind="mergesort").reset_index(drop=True)
    events = float(frame[event].sum())
    if events == 0:
        raise ModelFailed("no events")
    robust = cluster is not None or weights is not None
    notes: list[str] = []
    fitter = CoxPHFitter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fitter.fit(
                frame,
                duration_col=duration,
                event_col=event,
                cluster_col=cluster,
                strata=[strata] if strata else None,
                entry_col=entry,
                weights_col=weights,
                robust=robust,
            )
        except (ConvergenceError, np.linalg.LinAlgError, ValueError, ZeroDivisionError) as exc:
            raise ModelFailed(f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from None
    for w in caught:
        if issubclass(w.category, StatisticalWarning) and "weights" in str(w.message).lower():
            continue  # non-integer weights: handled by the robust variance we always use then
        if issubclass(w.category, (ConvergenceWarning, StatisticalWarning, RuntimeWarning)):
            notes.append(str(w.message).splitlines()[0])
    summary = fitter.summary.loc[terms]
    params = summary["coef"].to_numpy(dtype=float)
    se = summary["se(coef)"].to_numpy(dtype=float)
    # lifelines keeps only the robust variance when robust=True
    model_se = np.full(len(terms), np.nan) if robust else se
    if not np.all(np.isfinite(se)):
        raise ModelFailed("standard errors are not finite (no variation in a term?)")
    return HazardFit(
        terms=list(terms),
        params=params,
        std_error=se,
        model_std_error=np.asarray(model_se, dtype=float),
        robust=robust,
        n=len(frame),
        events=events,
        notes=notes,
        fitter=fitter,
    )


# --- Fine-Gray -------------------------------------------------------------------------------


def finegray_data(
    time: np.ndarray,
    status: np.ndarray,
    event_of_interest: int = 1,
    weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """The censoring-weighted data set for a Fine-Gray model (as R's ``survival::finegray``).

    People with the event of interest or censored keep one row ``(0, time]``. People with a
    competing event stay in the risk set after their event time ``T_i``, in intervals cut at the
    censoring times, with weight ``G(c-) / G(T_i-)`` where ``G`` is the Kaplan-Meier estimate of
    the censoring distribution (censoring on a tie happens after the events). Rows after the
    last event of interest do not change the fit and are left out.

    Returns
    -------
    DataFrame
        ``row`` (index of the person in the input), ``start``, ``stop``, ``status`` (1 for the
        event of interest), ``weight`` (censoring weight times the case weight).
    """
    time = np.asarray(time, dtype=float)
    status = np.asarray(status)
    n = len(time)
    weights = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    is_event = status == event_of_interest
    is_cens = status == 0
    is_comp = ~is_event & ~is_cens
    base = pd.DataFrame(
        {
            "row": np.arange(n),
            "start": -np.inf,  # at risk from the start (also for events at time 0)
            "stop": time,
            "status": is_event.astype(int),
            "weight": weights,
        }
    )
    if not is_comp.any() or not is_event.any():
        return base
    last_event = time[is_event].max()
    # censoring distribution: KM with censoring as the event; events come first on ties
    ctimes, cinv = np.unique(time[is_cens], return_inverse=True)
    dc = np.bincount(cinv, weights=weights[is_cens], minlength=len(ctimes))
    # at risk for censoring at c: time >= c minus those with an event (any cause) at c
    n_ge = at_risk_at(ctimes, time, np.full(n, -np.inf), weights)
    ev_time, ev_inv = np.unique(time[~is_cens], return_inverse=True)
    ev_w = np.bincount(ev_inv, weights=weights[~is_cens], minlength=len(ev_time))
    pos = np.searchsorted(ev_time, ctimes)
    pos_ok = pos < len(ev_time)
    same = np.zeros(len(ctimes), dtype=bool)
    same[pos_ok] = ev_time[pos[pos_ok]] == ctimes[pos_ok]
    n_c = n_ge - np.where(same, ev_w[np.minimum(pos, len(ev_time) - 1)], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        g_after = np.cumprod(np.where(n_c > 0, 1.0 - dc / n_c, 1.0))
    # only censoring times before the last event of interest cut the intervals
    keep = ctimes < last_event
    ctimes, g_after = ctimes[keep], g_after[keep]
    comp_idx = np.flatnonzero(is_comp & (time < last_event))
    t_i = time[comp_idx]
    k0 = np.searchsorted(ctimes, t_i, side="left")  # first censoring time >= T_i
    g_before_ti = np.where(k0 > 0, g_after[np.maximum(k0 - 1, 0)] if len(ctimes) else 1.0, 1.0)
    n_rows = len(ctimes) - k0 + 1
    person = np.repeat(np.arange(len(comp_idx)), n_rows)
    offset = np.arange(len(person)) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    k = k0[person] + offset  # interval ends at ctimes[k] (k == len(ctimes): open end)
    cut = np.concatenate([ctimes, [last_event]])
    stop = cut[k]
    start = np.where(offset == 0, t_i[person], cut[np.maximum(k - 1, 0)])
    g_start = np.where(
        offset == 0, g_before_ti[person], g_after[np.maximum(k - 1, 0)] if len(ctimes) else 1.0
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        cw = g_start / g_before_ti[person]
    extra = pd.DataFrame(
        {
            "row": comp_idx[person],
            "start": start,
            "stop": stop,
            "status": 0,
            "weight": weights[comp_idx[person]] * cw,
        }
    )
    extra = extra[(extra["stop"] > extra["start"]) & (extra["weight"] > 0)]
    return pd.concat([base, extra], ignore_index=True)


def _breslow_cox(
    start: np.ndarray,
    stop: np.ndarray,
    status: np.ndarray,
    x: np.ndarray,
    weights: np.ndarray,
    cluster: np.ndarray,
    max_iter: int = 50,
    tol: float = 1e-9,
) -> dict[str, np.ndarray]:
    """Weighted Cox model on counting-process rows ``(start, stop]``, Breslow ties.

    Newton-Raphson on the weighted partial likelihood; returns the coefficients, the
    model-based covariance (inverse information) and the cluster-robust sandwich covariance
    ``I^-1 B I^-1`` with ``B`` the sum over clusters of outer products of the summed weighted
    score residuals (as R's ``coxph(..., weights, cluster)``). Vectorised with cumulative sums
    over the sorted event times.
    """
    p = x.shape[1]
    ev = status == 1
    utimes, uinv = np.unique(stop[ev], return_inverse=True)
    d_w = np.bincount(uinv, weights=weights[ev], minlength=len(utimes))
    order_stop = np.argsort(stop, kind="stable")
    order_start = np.argsort(start, kind="stable")
    stop_sorted, start_sorted = stop[order_stop], start[order_start]
    # index positions: rows with stop >= u are order_stop[i_stop:], start >= u order_start[i_start:]
    i_stop = np.searchsorted(stop_sorted, utimes, side="left")
    i_start = np.searchsorted(start_sorted, utimes, side="left")

    def risk_sum(values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` (n x m) over each risk set {start < u <= stop}."""
        cs_stop = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values[order_stop], axis=0)])
        cs_start = np.vstack(
            [np.zeros((1, values.shape[1])), np.cumsum(values[order_start], axis=0)]
        )
        tot = cs_stop[-1]
        return (tot - cs_stop[i_stop]) - (tot - cs_start[i_start])

    def evaluate(beta: np.ndarray):
        eta = x @ beta
        r = weights * np.exp(eta - eta.max())
        s0 = risk_sum(r[:, None])[:, 0]
        s1 = risk_sum(r[:, None] * x)
        s2 = np.zeros((len(utimes), p, p))
        for a in range(p):
            s2[:, a, :] = risk_sum(r[:, None] * x[:, a : a + 1] * x)
        xbar = s1 / s0[:, None]
        loglik = float(np.sum(weights[ev] * eta[ev]) - np.sum(d_w * (np.log(s0) + eta.max())))
        score = (weights[ev][:, None] * x[ev]).sum(axis=0) - (d_w[:, None] * xbar).sum(axis=0)
        info = np.einsum(
            "k,kab->ab", d_w, s2 / s0[:, None, None] - xbar[:, :, None] * xbar[:, None, :]
        )
        return loglik, score, info, r, s0, xbar

    beta = np.zeros(p)
    loglik, score, info, *_ = evaluate(beta)
    for _ in range(max_iter):
        step = np.linalg.solve(info, score)
        new = beta + step
        new_loglik, new_score, new_info, *_ = evaluate(new)
        halvings = 0
        while new_loglik < loglik - 1e-12 and halvings < 30:
            step /= 2.0
            new = beta + step
            new_loglik, new_score, new_info, *_ = evaluate(new)
            halvings += 1
        converged = abs(new_loglik - loglik) < tol * (abs(loglik) + tol)
        beta, loglik, score, info = new, new_loglik, new_score, new_info
        if converged:
            break
    else:
        raise ModelFailed("Fine-Gray model did not converge")
    _, _, info, r, s0, xbar = evaluate(beta)
    cov = np.linalg.inv(info)
    # score residuals L_i = d_i (x_i - xbar(stop_i)) - r_i sum_{k in (start,stop]} (x_i - xbar_k) dH_k
    # (r includes the case weight; divide it out: the weight multiplies L_i afterwards)
    r_unw = r / np.where(weights > 0, weights, 1.0)
    dh = d_w / s0
    cum_h = np.concatenate([[0.0], np.cumsum(dh)])
    cum_j = np.vstack([np.zeros((1, p)), np.cumsum(xbar * dh[:, None], axis=0)])
    hi = np.searchsorted(utimes, stop, side="right")
    lo = np.searchsorted(utimes, start, side="right")
    h_int = cum_h[hi] - cum_h[lo]
    j_int = cum_j[hi] - cum_j[lo]
    resid = -r_unw[:, None] * (x * h_int[:, None] - j_int)
    ev_idx = np.flatnonzero(ev)
    resid[ev_idx] += x[ev_idx] - xbar[uinv]
    weighted = resid * weights[:, None]
    codes, cinv = np.unique(cluster, return_inverse=True)
    by_cluster = np.zeros((len(codes), p))
    np.add.at(by_cluster, cinv, weighted)
    meat = by_cluster.T @ by_cluster
    robust_cov = cov @ meat @ cov
    schoenfeld = x[ev_idx] - xbar[uinv]
    return {
        "beta": beta,
        "cov": cov,
        "robust_cov": robust_cov,
        "event_rows": ev_idx,
        "schoenfeld": schoenfeld,
    }


def fit_fine_gray(
    time: np.ndarray,
    status: np.ndarray,
    x: pd.DataFrame,
    *,
    event_of_interest: int = 1,
    weights: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
) -> HazardFit:
    """Fine-Gray subdistribution hazard model via the ``finegray`` weighted data.

    Estimates the log subdistribution hazard ratio of each column of ``x`` for the event of
    interest, with a robust variance clustered on the person (or on ``cluster``, which must
    group the rows of the input), Breslow ties as ``cmprsk::crr``.

    Raises
    ------
    ModelFailed
        No event of interest, or the model does not converge.
    """
    status = np.asarray(status)
    if not (status == event_of_interest).any():
        raise ModelFailed("no events of interest")
    fg = finegray_data(time, status, event_of_interest, weights)
    rows = fg["row"].to_numpy()
    xm = np.asarray(x, dtype=float)[rows]
    # centre the covariates for numerical stability (coefficients are unchanged)
    xm = xm - xm.mean(axis=0)
    groups = rows if cluster is None else np.asarray(cluster)[rows]
    try:
        fit = _breslow_cox(
            fg["start"].to_numpy(float),
            fg["stop"].to_numpy(float),
            fg["status"].to_numpy(),
            xm,
            fg["weight"].to_numpy(float),
            groups,
        )
        beta, cov, robust_cov = fit["beta"], fit["cov"], fit["robust_cov"]
    except np.linalg.LinAlgError as exc:
        raise ModelFailed(f"Fine-Gray model: {exc}") from None
    se = np.sqrt(np.diag(robust_cov))
    if not np.all(np.isfinite(se)):
        raise ModelFailed("Fine-Gray standard errors are not finite")
    return HazardFit(
        terms=list(x.columns),
        params=beta,
        std_error=se,
        model_std_error=np.sqrt(np.diag(cov)),
        robust=True,
        n=len(time),
        events=float(
            np.sum(np.where(status == event_of_interest, 1.0 if weights is None else weights, 0.0))
        ),
    )
