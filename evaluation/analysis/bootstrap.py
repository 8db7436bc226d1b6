"""Person-level cluster bootstrap of the risk difference and risk ratio between the arms.

Why: in sequential (risk-set) matching one person can be a control in several matched sets, and
a control who is contacted later appears in both arms. The delta-method variance of the
Aalen-Johansen risk difference treats every row as an independent person, so it is too small
when persons are reused. The bootstrap here resamples *persons* (all of a person's rows, in
every set and arm, together) and recomputes the weighted Aalen-Johansen cumulative incidence of
each arm at each horizon; its standard deviation over replicates is the standard error.

What it estimates: the sampling variability of ``F_1(h) - F_0(h)`` (and of ``log(F_1(h)/F_0(h))``)
where ``F_g(h)`` is the cumulative incidence of the event of interest by day ``h`` in arm ``g``,
treating death and emigration (status 2) as competing events and status 0 as censoring, with the
cohort's analysis weights. The point estimates are not changed; confidence intervals are normal
(Wald) intervals with the bootstrap standard error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..survival.nonparametric import Z95


def cumulative_incidence_matrix(time: np.ndarray, status: np.ndarray, weights: np.ndarray,
                                horizons: tuple[int, ...], entry: np.ndarray | None = None) -> np.ndarray:
    """Weighted Aalen-Johansen cumulative incidence of status 1 at ``horizons``, for many weight
    vectors at once.

    Parameters
    ----------
    time, status : arrays of length n (status 0 censored, 1 event, other competing).
    weights : array (B, n), one row of case weights per replicate.
    horizons : times at which the cumulative incidence is read off.
    entry : optional entry times (a row is at risk on ``entry < t <= time``), for
        counting-process rows such as the periods of time-varying weights.

    Returns
    -------
    array (B, len(horizons))
    """
    order = np.argsort(time, kind="mergesort")
    t, s, w = time[order], status[order], weights[:, order]
    uniq, starts = np.unique(t, return_index=True)
    at_risk = np.cumsum(w[:, ::-1], axis=1)[:, ::-1][:, starts]
    if entry is not None:  # minus the rows that enter at or after each time
        e_order = np.argsort(entry[order], kind="mergesort")
        e_sorted = entry[order][e_order]
        late = np.cumsum(w[:, e_order][:, ::-1], axis=1)[:, ::-1]
        pos = np.searchsorted(e_sorted, uniq, side="left")
        late = np.concatenate([late, np.zeros((w.shape[0], 1))], axis=1)[:, pos]
        at_risk = at_risk - late
    d1 = np.add.reduceat(w * (s == 1), starts, axis=1)
    dall = np.add.reduceat(w * (s != 0), starts, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        h1 = np.where(at_risk > 0, d1 / at_risk, 0.0)
        hall = np.where(at_risk > 0, dall / at_risk, 0.0)
    surv = np.cumprod(1.0 - hall, axis=1)
    surv_before = np.concatenate([np.ones((w.shape[0], 1)), surv[:, :-1]], axis=1)
    cif = np.cumsum(surv_before * h1, axis=1)
    out = np.zeros((w.shape[0], len(horizons)))
    for j, h in enumerate(horizons):
        k = np.searchsorted(uniq, h, side="right") - 1
        if k >= 0:
            out[:, j] = cif[:, k]
    return out


def bootstrap_contrasts(frame: pd.DataFrame, horizons: tuple[int, ...], *, weights: str | None,
                        cluster: str = "person_id", replicates: int = 300,
                        seed: int = 0) -> pd.DataFrame:
    """Bootstrap standard errors of the risk difference and log risk ratio at each horizon.

    ``frame`` has ``time``, ``status``, ``treated`` (1/0), the ``cluster`` column and optionally
    the ``weights`` column. Returns one row per horizon: ``time``, ``se_rd``, ``se_log_rr``,
    ``replicates``.
    """
    rng = np.random.default_rng(seed)
    ids, inverse = np.unique(frame[cluster].astype(str).to_numpy(), return_inverse=True)
    base = (frame[weights].to_numpy(dtype=float) if weights else np.ones(len(frame)))
    time = frame["time"].to_numpy(dtype=float)
    status = frame["status"].to_numpy(dtype=int)
    treated = frame["treated"].to_numpy(dtype=int)
    draws = rng.multinomial(len(ids), np.full(len(ids), 1.0 / len(ids)), size=replicates)
    w = draws[:, inverse] * base[None, :]
    return contrast_standard_errors(*replicate_risks(time, status, treated, w, horizons), horizons)


def replicate_risks(time: np.ndarray, status: np.ndarray, treated: np.ndarray, weights: np.ndarray,
                    horizons: tuple[int, ...], entry: np.ndarray | None = None):
    """Cumulative incidence per arm (contacted, comparison) at ``horizons`` for each row of
    replicate weights ``weights`` (B, n): two arrays (B, len(horizons))."""
    risks = {}
    for g in (1, 0):
        m = treated == g
        risks[g] = cumulative_incidence_matrix(time[m], status[m], weights[:, m], horizons,
                                               None if entry is None else entry[m])
    return risks[1], risks[0]


def contrast_standard_errors(risk1: np.ndarray, risk0: np.ndarray, horizons: tuple[int, ...]) -> pd.DataFrame:
    """Standard deviations over replicates of the risk difference and the log risk ratio."""
    replicates = risk1.shape[0]
    risks = {1: risk1, 0: risk0}
    rd = risks[1] - risks[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_rr = np.log(risks[1]) - np.log(risks[0])
    log_rr[~np.isfinite(log_rr)] = np.nan
    ok_rr = np.isfinite(log_rr).mean(axis=0) >= 0.95  # a ratio undefined in many replicates: no SE
    se_log_rr = np.full(len(horizons), np.nan)
    if replicates > 1 and ok_rr.any():
        se_log_rr[ok_rr] = np.nanstd(log_rr[:, ok_rr], axis=0, ddof=1)
    return pd.DataFrame({
        "time": list(horizons),
        "se_rd": rd.std(axis=0, ddof=1),
        "se_log_rr": np.where(ok_rr, se_log_rr, np.nan),
        "replicates": replicates,
    })


def apply_bootstrap(tidy: pd.DataFrame, boot: pd.DataFrame) -> pd.DataFrame:
    """Replace the standard error, 95% CI and p-value of the ``risk_difference`` and
    ``risk_ratio`` rows of ``tidy`` by the bootstrap ones (Wald; the ratio on the log scale)."""
    tidy = tidy.copy()
    by_time = boot.set_index("time")
    for idx, row in tidy.iterrows():
        if row["model"] not in ("risk_difference", "risk_ratio"):
            continue
        t = row["time"]
        if t not in by_time.index or not np.isfinite(row["estimate"]):
            continue
        est = float(row["estimate"])
        if row["model"] == "risk_difference":
            se = float(by_time.at[t, "se_rd"])
            lo, hi = est - Z95 * se, est + Z95 * se
            p = 2 * stats.norm.sf(abs(est) / se) if se > 0 else np.nan
        else:
            se_log = float(by_time.at[t, "se_log_rr"])
            if not (est > 0 and np.isfinite(se_log)):
                se = lo = hi = p = np.nan
            else:
                se = est * se_log  # delta method, as the engine reports the ratio's SE
                lo, hi = est * np.exp(-Z95 * se_log), est * np.exp(Z95 * se_log)
                p = 2 * stats.norm.sf(abs(np.log(est)) / se_log) if se_log > 0 else np.nan
        tidy.loc[idx, ["std_error", "conf_low", "conf_high", "p_value"]] = [se, lo, hi, p]
    return tidy
