"""Hazard models: Cox (cause-specific, optionally stratified) and Fine-Gray subdistribution.

- :func:`fit_cox` fits the Cox proportional hazards model (Efron ties) with a vectorised
  Newton-Raphson estimator that reproduces R's ``coxph`` (lifelines' ``CoxPHFitter`` is
  available for comparison), with a cluster-robust (sandwich) variance when a cluster column or
  case weights are given, stratification by a column and left truncation (``entry``,
  counting-process rows). Competing events are censored: the coefficient is a cause-specific
  log hazard ratio.
- :func:`finegray_data` builds the censoring-weighted data set of R's ``survival::finegray``;
  :func:`fit_fine_gray` fits the weighted Cox model (Breslow ties, as ``cmprsk::crr``) of that
  data set, without expanding it, with a robust variance clustered on the person (or on the
  given cluster). The coefficient is a
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

#: Log hazard ratios beyond this (HR below 2e-9 or above 5e8) mean the likelihood has no maximum.
MAX_LOG_HR = 20.0


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
        with np.errstate(all="ignore"):
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
    engine: str = "numpy",
) -> HazardFit:
    """Cox proportional hazards model, Efron ties.

    Estimates the log hazard ratio of each term. ``event`` is a 0/1 column (competing events
    already coded 0, so the model is cause-specific). The variance is the cluster-robust
    sandwich (Lin and Wei 1989, as R's ``coxph`` with ``cluster()``) when ``cluster`` or
    ``weights`` is given, the inverse information otherwise. ``strata`` gives each stratum its
    own baseline hazard; ``entry`` makes rows counting-process rows ``(entry, duration]``.

    ``engine="numpy"`` (default) uses the vectorised estimator of this module, which
    reproduces R's ``coxph`` including its robust variance with tied times, left truncation and
    many strata. ``engine="lifelines"`` uses lifelines' ``CoxPHFitter`` (its robust variance
    ignores ties and entry times, and it is slow with many strata); it is kept for comparison.

    Raises
    ------
    ModelFailed
        No events, no variation in a term, or no convergence.
    """
    if engine == "numpy":
        return _fit_cox_numpy(data, duration, event, terms, cluster, strata, entry, weights)
    if engine != "lifelines":
        raise ValueError(f"unknown engine {engine!r}")
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning, StatisticalWarning

    columns = [duration, event, *terms]
    for extra in (cluster, strata, entry, weights):
        if extra is not None and extra not in columns:
            columns.append(extra)
    # lifelines' sandwich variance depends on the row order within tied times: sort on every
    # model column so the result does not depend on how the table happens to be ordered
    frame = data[columns].sort_values(columns, kind="mergesort").reset_index(drop=True)
    if cluster is not None and cluster == strata:  # lifelines needs two separate columns
        frame["_cluster_of_strata"] = frame[cluster]
        cluster = "_cluster_of_strata"
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


def _std_errors(cov: np.ndarray) -> np.ndarray:
    """Square roots of the variances; a variance that is not positive means no estimate."""
    variances = np.diag(cov)
    if not np.all(np.isfinite(variances)) or np.any(variances <= 0):
        raise ModelFailed("the variance is not positive (too few events or no variation in a term)")
    return np.sqrt(variances)


def _fit_cox_numpy(
    data: pd.DataFrame,
    duration: str,
    event: str,
    terms: list[str],
    cluster: str | None,
    strata: str | None,
    entry: str | None,
    weights: str | None,
) -> HazardFit:
    """:func:`fit_cox` with :func:`_cox_newton_raphson` (Efron ties).

    Strata: each stratum's time axis is shifted to its own interval, so one pass of cumulative
    sums gives every stratum's risk sets (rows of later strata enter and leave before a shifted
    event time and cancel out).
    """
    stop = data[duration].to_numpy(dtype=float)
    status = data[event].to_numpy().astype(int)
    n = len(stop)
    if status.sum() == 0:
        raise ModelFailed("no events")
    start = data[entry].to_numpy(dtype=float) if entry else np.full(n, -np.inf)
    if strata is not None:
        stratum = pd.factorize(data[strata])[0].astype(float)
        start = np.where(np.isfinite(start), start, -1.0)  # times are >= 0
        span = float(stop.max()) - min(float(start.min()), -1.0) + 1.0
        start = start + stratum * span
        stop = stop + stratum * span
    x = data[terms].to_numpy(dtype=float)
    x = x - x.mean(axis=0)  # centred for numerical stability; coefficients unchanged
    w = data[weights].to_numpy(dtype=float) if weights else np.ones(n)
    robust = cluster is not None or weights is not None
    groups = pd.factorize(data[cluster])[0] if cluster else np.arange(n)
    try:
        fit = _cox_newton_raphson(start, stop, status, x, w, groups, ties="efron")
    except np.linalg.LinAlgError as exc:
        raise ModelFailed(f"Cox model: {exc}") from None
    model_se = _std_errors(fit["cov"])
    se = _std_errors(fit["robust_cov"]) if robust else model_se
    if not (np.all(np.isfinite(se)) and np.all(np.isfinite(fit["beta"]))):
        raise ModelFailed("standard errors are not finite (no variation in a term?)")
    if np.any(se <= 0):
        raise ModelFailed("a standard error is zero (too few clusters or events)")
    if np.any(np.abs(fit["beta"]) > MAX_LOG_HR):
        raise ModelFailed(
            "no finite estimate: a hazard ratio runs to 0 or infinity (events in one group only?)"
        )
    return HazardFit(
        terms=list(terms),
        params=fit["beta"],
        std_error=se,
        model_std_error=model_se,
        robust=robust,
        n=n,
        events=float(np.sum(w * status)),
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
    g_before = censoring_survival(time, status, weights)
    # censoring times before the last event of interest cut the intervals
    ctimes = np.unique(time[is_cens & (time < last_event)])
    comp_idx = np.flatnonzero(is_comp & (time < last_event))
    t_i = time[comp_idx]
    k0 = np.searchsorted(ctimes, t_i, side="left")  # first censoring time >= T_i
    n_rows = len(ctimes) - k0 + 1
    person = np.repeat(np.arange(len(comp_idx)), n_rows)
    offset = np.arange(len(person)) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    k = k0[person] + offset  # interval ends at ctimes[k] (k == len(ctimes): the last event)
    cut = np.concatenate([ctimes, [last_event]])
    stop = cut[k]
    start = np.where(offset == 0, t_i[person], cut[np.maximum(k - 1, 0)])
    # weight on (start, stop]: G(u-) / G(T_i-), constant there (no censoring inside)
    with np.errstate(divide="ignore", invalid="ignore"):
        cw = g_before(stop) / g_before(t_i)[person]
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


class _RiskSets:
    """The structure of counting-process rows sorted by ``stop``: risk sets and tied events.

    The rows must be sorted by ``stop``. Risk-set sums are then sums of segments between event
    times accumulated from the last time backwards (``np.add.reduceat``), event sums are
    ``np.add.reduceat`` over the event rows (grouped by event time because the rows are
    sorted), so nothing loops over times or people.
    """

    def __init__(self, start, stop, status, weights, ties, tail, tail_curve) -> None:
        ev = status == 1
        self.ev_idx = np.flatnonzero(ev)  # grouped by event time: rows are sorted by stop
        self.utimes, self.uinv = np.unique(stop[ev], return_inverse=True)
        n_groups = len(self.utimes)
        self.d_w = np.bincount(self.uinv, weights=weights[ev], minlength=n_groups)
        self.d_n = np.bincount(self.uinv, minlength=n_groups).astype(float)
        # one expanded term per event row: its group and l / d_k (Efron), 0 for Breslow
        self.grp = self.uinv
        self.first = np.searchsorted(self.grp, np.arange(n_groups))
        rank = np.arange(len(self.grp)) - self.first[self.grp]
        self.frac = rank / self.d_n[self.grp] if ties == "efron" else np.zeros(len(self.grp))
        self.coef = self.d_w[self.grp] / self.d_n[self.grp]
        self.i_stop = np.searchsorted(stop, self.utimes, side="left")  # stop >= u: rows i_stop..
        self.has_start = bool(np.isfinite(start).any())
        if self.has_start:
            self.order_start = np.argsort(start, kind="stable")
            self.i_start = np.searchsorted(start[self.order_start], self.utimes, side="left")
        # event times in (start, stop] of each row: groups lo..hi-1
        self.hi = np.searchsorted(self.utimes, stop, side="right")
        self.lo = np.searchsorted(self.utimes, start, side="right")
        self.g_event = None
        if tail is not None:
            self.g_event = np.asarray(tail_curve(self.utimes), dtype=float)
            self.tail = tail

    @property
    def n_groups(self) -> int:
        return len(self.utimes)

    def risk_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` (n x m) over each risk set {start < u <= stop} (+ tails)."""
        out = _suffix_sums(values, self.i_stop)
        if self.has_start:
            out -= _suffix_sums(values[self.order_start], self.i_start)
        if self.g_event is not None:  # rows with stop < u, still at risk with a tail weight
            tail_values = values * self.tail[:, None]
            before = tail_values.sum(axis=0) - _suffix_sums(tail_values, self.i_stop)
            out += self.g_event[:, None] * before
        return out

    def event_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` (n x ...) over the tied events of each group."""
        return np.add.reduceat(values[self.ev_idx], self.first, axis=0)

    def per_group(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` (one per expanded event term) over the terms of each group."""
        return np.add.reduceat(values, self.first, axis=0)

    def over_risk_sets(self, per_time: np.ndarray) -> np.ndarray:
        """For each row, the sum of ``per_time`` (one value per event time) over the times at
        which the row is at risk (its tail weight included)."""
        cum = np.concatenate([[0.0], np.cumsum(per_time)])
        out = cum[self.hi] - cum[self.lo]
        if self.g_event is not None:
            cum_g = np.concatenate([[0.0], np.cumsum(self.g_event * per_time)])
            out = out + self.tail * (cum_g[-1] - cum_g[self.hi])
        return out


def _cox_newton_raphson(
    start: np.ndarray,
    stop: np.ndarray,
    status: np.ndarray,
    x: np.ndarray,
    weights: np.ndarray,
    cluster: np.ndarray,
    *,
    ties: str = "breslow",
    tail: np.ndarray | None = None,
    tail_curve=None,
    max_iter: int = 50,
    tol: float = 1e-9,
    group_info: bool = False,
) -> dict[str, np.ndarray]:
    """Weighted Cox model on counting-process rows ``(start, stop]``, Breslow or Efron ties.

    Newton-Raphson on the weighted partial likelihood; returns the coefficients, the
    model-based covariance (inverse information), the cluster-robust sandwich covariance
    ``I^-1 B I^-1`` with ``B`` the sum over clusters of outer products of the summed weighted
    score residuals (as R's ``coxph(..., weights, cluster)``) and the Schoenfeld residuals.
    Vectorised with cumulative sums over the sorted event times; the Efron terms of tied
    events are expanded over the event rows (no loop over people). The information's
    second-moment part ``sum_k a_k S2_k`` is computed as ``X' diag(r_i A_i) X`` with ``A_i`` the
    sum of ``a_k`` over the times row ``i`` is at risk, so no p x p array per time is formed.

    With ``tail`` (per row, 0 for most rows) a row stays in the risk set after ``stop`` with
    weight ``tail_i * tail_curve(u)`` at event time ``u`` (the Fine-Gray censoring weights
    ``G(u-) / G(T_i-)``, without expanding the data; Breslow ties only). With ``group_info``
    the result also holds the information contributed at each event time (for the
    proportional hazards test).
    """
    # sorted once by stop; residuals and event rows are mapped back at the end
    perm = np.argsort(stop, kind="stable")
    start, stop, status, weights = start[perm], stop[perm], status[perm], weights[perm]
    x = np.ascontiguousarray(x[perm])
    if tail is not None:
        tail = tail[perm]
    rs = _RiskSets(start, stop, status, weights, ties, tail, tail_curve)

    def evaluate(beta: np.ndarray):
        with np.errstate(all="ignore"):  # a diverging step gives non-finite values: halved
            return _cox_evaluate(rs, x, weights, beta)

    beta = np.zeros(x.shape[1])
    current = evaluate(beta)
    loglik, score, info = current[:3]
    if not (np.isfinite(loglik) and np.all(np.isfinite(info))):
        raise ModelFailed("the Cox likelihood cannot be evaluated (empty risk sets?)")
    for _ in range(max_iter):
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            raise ModelFailed("singular information matrix (a term without variation?)") from None
        new = beta + step
        candidate = evaluate(new)
        halvings = 0
        # a step that lowers the log-likelihood is halved; a fall within the rounding noise of
        # the sum (relative 1e-10) is no fall, so a converged fit is not moved off the root
        while not (candidate[0] >= loglik - 1e-10 * (abs(loglik) + 1.0)) and halvings < 30:
            step /= 2.0
            new = beta + step
            candidate = evaluate(new)
            halvings += 1
        if not (np.isfinite(candidate[0]) and np.all(np.isfinite(candidate[2]))):
            raise ModelFailed("the Cox model did not converge (no finite estimate)")
        converged = abs(candidate[0] - loglik) < tol * (abs(loglik) + tol)
        beta, current = new, candidate
        loglik, score, info = current[:3]
        if np.any(np.abs(beta) > 2 * MAX_LOG_HR):
            raise ModelFailed(
                "no finite estimate: a hazard ratio runs to 0 or infinity (events in one group only?)"
            )
        if converged:
            break
    else:
        raise ModelFailed("the Cox model did not converge")
    _, _, info, r_unw, denom, abar = current
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        raise ModelFailed("singular information matrix (a term without variation?)") from None
    resid, schoenfeld = _score_residuals(rs, x, r_unw, denom, abar, ties)
    weighted = resid * weights[:, None]
    cinv = pd.factorize(np.asarray(cluster)[perm])[0]
    by_cluster = np.column_stack([np.bincount(cinv, weights=weighted[:, j])
                                  for j in range(x.shape[1])])
    meat = by_cluster.T @ by_cluster
    out = {
        "beta": beta,
        "cov": cov,
        "robust_cov": cov @ meat @ cov,
        "event_rows": perm[rs.ev_idx],
        "schoenfeld": schoenfeld,
        "event_group": rs.uinv,
    }
    if group_info:  # information contributed at each event time
        out["group_info"] = _group_info(rs, x, weights * r_unw, denom, abar)
    return out


def _cox_evaluate(rs: _RiskSets, x: np.ndarray, weights: np.ndarray, beta: np.ndarray):
    """Log partial likelihood, score and information at ``beta`` (Efron or Breslow terms)."""
    ev_idx, grp, frac, coef = rs.ev_idx, rs.grp, rs.frac, rs.coef
    eta = x @ beta
    shift = eta.max()
    r_unw = np.exp(eta - shift)
    r = weights * r_unw
    rx = np.empty((len(r), x.shape[1] + 1))
    rx[:, 0] = r
    np.multiply(x, r[:, None], out=rx[:, 1:])
    sums = rs.risk_sum(rx)
    s0, s1 = sums[:, 0], sums[:, 1:]
    e = rs.event_sum(rx)
    e0, e1 = e[:, 0], e[:, 1:]
    denom = s0[grp] - frac * e0[grp]
    abar = (s1[grp] - frac[:, None] * e1[grp]) / denom[:, None]
    w_ev = weights[ev_idx]
    loglik = float(np.sum(w_ev * eta[ev_idx]) - np.sum(coef * (np.log(denom) + shift)))
    score = w_ev @ x[ev_idx] - coef @ abar
    # information: sum over terms of coef * (num2 / denom - abar abar'), with
    # num2 = S2_k - frac * E2_k; the S2 and E2 parts are weighted cross-products of x
    a_k = rs.per_group(coef / denom)
    b_k = rs.per_group(coef * frac / denom)
    info = x.T @ (rx[:, 1:] * rs.over_risk_sets(a_k)[:, None])
    if np.any(frac):
        xe = x[ev_idx]
        info -= (xe * (r[ev_idx] * b_k[rs.uinv])[:, None]).T @ xe
    info -= (abar * coef[:, None]).T @ abar
    return loglik, score, info, r_unw, denom, abar


def _suffix_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``values[starts[k]:].sum(axis=0)`` for each k (``starts`` non-decreasing, <= n).

    Accumulated in extended precision: with strata (each on its own stretch of the time axis)
    a risk set of a few rows is the difference of two sums over every later stratum, and in
    double precision their rounding (about n x 1e-16 of the total) made the log-likelihood of a
    stratified model on 140,000 rows jump by 1e-3 between neighbouring coefficients, so that
    Newton steps were halved 30 times over."""
    if len(starts) and starts[-1] < len(values) and np.all(np.diff(starts) > 0):
        segments = np.add.reduceat(values, starts, axis=0)  # rows starts[k] .. starts[k+1]-1
        return np.cumsum(segments[::-1].astype(np.longdouble), axis=0)[::-1].astype(float)
    cs = np.vstack([np.zeros((1, values.shape[1]), np.longdouble),
                    np.cumsum(values.astype(np.longdouble), axis=0)])
    return (cs[-1] - cs[starts]).astype(float)


def _score_residuals(rs: _RiskSets, x, r_unw, denom, abar, ties):
    """Score residuals of every row and Schoenfeld residuals of the event rows.

    ``L_i = d_i (x_i - abar_k) - r_i sum_{k at risk} (x_i dH_k - dJ_k)``, where a tied event is
    at risk for the Efron terms with weight ``1 - l / d_k``.
    """
    p = x.shape[1]
    ev_idx, uinv = rs.ev_idx, rs.uinv
    h = rs.coef / denom
    dh = rs.per_group(h)  # = d_k / S0_k for Breslow
    dj = rs.per_group(h[:, None] * abar)  # = xbar_k d_k / S0_k for Breslow
    mean_abar = rs.per_group(abar) / rs.d_n[:, None]
    cum_h = np.concatenate([[0.0], np.cumsum(dh)])
    cum_j = np.vstack([np.zeros((1, p)), np.cumsum(dj, axis=0)])
    hi, lo = rs.hi, rs.lo
    resid = -r_unw[:, None] * (x * (cum_h[hi] - cum_h[lo])[:, None] - (cum_j[hi] - cum_j[lo]))
    if ties == "efron":
        hf = rs.per_group(rs.frac * h)
        jf = rs.per_group((rs.frac * h)[:, None] * abar)
        resid[ev_idx] += r_unw[ev_idx, None] * (x[ev_idx] * hf[uinv][:, None] - jf[uinv])
    if rs.g_event is not None:
        cum_gh = np.concatenate([[0.0], np.cumsum(rs.g_event * dh)])
        cum_gj = np.vstack([np.zeros((1, p)), np.cumsum(rs.g_event[:, None] * dj, axis=0)])
        gh_after = cum_gh[-1] - cum_gh[hi]
        gj_after = cum_gj[-1] - cum_gj[hi]
        resid -= (r_unw * rs.tail)[:, None] * (x * gh_after[:, None] - gj_after)
    schoenfeld = x[ev_idx] - mean_abar[uinv]
    resid[ev_idx] += schoenfeld
    return resid, schoenfeld


def _group_info(rs: _RiskSets, x, r, denom, abar) -> np.ndarray:
    """Information contributed at each event time (n_groups x p x p), Efron terms summed."""
    p = x.shape[1]
    s2 = np.zeros((rs.n_groups, p, p))
    e2 = np.zeros((rs.n_groups, p, p))
    for a in range(p):
        rxa = (r * x[:, a])[:, None] * x
        s2[:, a, :] = rs.risk_sum(rxa)
        e2[:, a, :] = rs.event_sum(rxa)
    grp, frac = rs.grp, rs.frac
    num2 = s2[grp] - frac[:, None, None] * e2[grp]
    terms = rs.coef[:, None, None] * (num2 / denom[:, None, None] - abar[:, :, None] * abar[:, None, :])
    return rs.per_group(terms)


def censoring_survival(time: np.ndarray, status: np.ndarray, weights: np.ndarray):
    """Kaplan-Meier estimate ``G`` of the censoring distribution, events first on ties.

    Returns a function giving ``G(u-)``: the product over censoring times ``c < u`` of
    ``1 - (censored at c) / (at risk at c)``, where those with an event at ``c`` have left the
    risk set before the censoring (as R's ``finegray`` and ``cmprsk::crr``).
    """
    is_cens = status == 0
    ctimes, cinv = np.unique(time[is_cens], return_inverse=True)
    dc = np.bincount(cinv, weights=weights[is_cens], minlength=len(ctimes))
    n_ge = at_risk_at(ctimes, time, np.full(len(time), -np.inf), weights)
    ev_time, ev_inv = np.unique(time[~is_cens], return_inverse=True)
    ev_w = np.bincount(ev_inv, weights=weights[~is_cens], minlength=len(ev_time))
    pos = np.minimum(np.searchsorted(ev_time, ctimes), max(len(ev_time) - 1, 0))
    same = (ev_time[pos] == ctimes) if len(ev_time) else np.zeros(len(ctimes), dtype=bool)
    n_c = n_ge - np.where(same, ev_w[pos] if len(ev_time) else 0.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        g_after = np.cumprod(np.where(n_c > 0, 1.0 - dc / n_c, 1.0))

    def g_before(u: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(ctimes, np.asarray(u, dtype=float), side="left") - 1
        return np.where(idx >= 0, g_after[np.maximum(idx, 0)] if len(ctimes) else 1.0, 1.0)

    return g_before


def fit_fine_gray(
    time: np.ndarray,
    status: np.ndarray,
    x: pd.DataFrame,
    *,
    event_of_interest: int = 1,
    weights: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
) -> HazardFit:
    """Fine-Gray subdistribution hazard model.

    Estimates the log subdistribution hazard ratio of each column of ``x`` for the event of
    interest, with a robust variance clustered on the person (or on ``cluster``, which must
    group the rows of the input), Breslow ties as ``cmprsk::crr``. The fit is the weighted Cox
    model on the :func:`finegray_data` rows, computed without expanding the data: people with a
    competing event stay in the risk set with weight ``G(u-) / G(T_i-)``.

    Raises
    ------
    ModelFailed
        No event of interest, or the model does not converge.
    """
    status = np.asarray(status)
    if not (status == event_of_interest).any():
        raise ModelFailed("no events of interest")
    time = np.asarray(time, dtype=float)
    n = len(time)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    xm = np.asarray(x, dtype=float).reshape(n, -1)
    xm = xm - xm.mean(axis=0)  # centred for numerical stability; coefficients unchanged
    g_before = censoring_survival(time, status, w)
    competing = (status != 0) & (status != event_of_interest)
    g_at_event = g_before(time)
    with np.errstate(divide="ignore"):
        tail = np.where(competing & (g_at_event > 0), 1.0 / g_at_event, 0.0)
    groups = np.arange(n) if cluster is None else np.asarray(cluster)
    try:
        fit = _cox_newton_raphson(
            np.full(n, -np.inf),
            time,
            (status == event_of_interest).astype(int),
            xm,
            w,
            groups,
            tail=tail,
            tail_curve=g_before,
        )
        beta, cov, robust_cov = fit["beta"], fit["cov"], fit["robust_cov"]
    except np.linalg.LinAlgError as exc:
        raise ModelFailed(f"Fine-Gray model: {exc}") from None
    se = _std_errors(robust_cov)
    if not np.all(np.isfinite(se)) or np.any(se <= 0):
        raise ModelFailed("Fine-Gray standard errors are not finite and positive")
    if np.any(np.abs(beta) > MAX_LOG_HR):
        raise ModelFailed("no finite Fine-Gray estimate (events in one group only?)")
    return HazardFit(
        terms=list(x.columns),
        params=beta,
        std_error=se,
        model_std_error=_std_errors(cov),
        robust=True,
        n=len(time),
        events=float(
            np.sum(np.where(status == event_of_interest, 1.0 if weights is None else weights, 0.0))
        ),
    )
