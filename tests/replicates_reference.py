"""The dense replicate engine the package used before the binned one, kept as a test oracle.

Straightforward and slow: (B x rows) weight matrices, sorted and cumulated per replicate. The
tests compare the package's engine with these functions on random data; the replicates' draws
are the package's (:func:`evaluation.analysis.bootstrap.bootstrap_counts`), so both compute the
same replicates. Nothing in the package imports this module.
"""

from __future__ import annotations

import numpy as np

from evaluation.analysis.bootstrap import bootstrap_counts, contrast_standard_errors


def cumulative_incidence_matrix(time, status, weights, horizons, entry=None):
    """Weighted Aalen-Johansen cumulative incidence of status 1 at ``horizons`` for each row of
    ``weights`` (B, n); a row is at risk on ``entry < t <= time``."""
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


def replicate_risks(time, status, treated, weights, horizons, entry=None):
    """Cumulative incidence per arm (contacted, comparison) for each row of ``weights``."""
    risks = {}
    for g in (1, 0):
        m = treated == g
        risks[g] = cumulative_incidence_matrix(time[m], status[m], weights[:, m], horizons,
                                               None if entry is None else entry[m])
    return risks[1], risks[0]


def bootstrap_contrasts(frame, horizons, *, weights, cluster="person_id", replicates=300, seed=0):
    """Bootstrap standard errors of the risk difference and log risk ratio at each horizon."""
    ids, inverse = np.unique(frame[cluster].astype(str).to_numpy(), return_inverse=True)
    base = (frame[weights].to_numpy(dtype=float) if weights else np.ones(len(frame)))
    time = frame["time"].to_numpy(dtype=float)
    status = frame["status"].to_numpy(dtype=int)
    treated = frame["treated"].to_numpy(dtype=int)
    draws = bootstrap_counts(len(ids), replicates, seed).T  # the package's draws: same seed, same draws
    w = draws[:, inverse] * base[None, :]
    return contrast_standard_errors(*replicate_risks(time, status, treated, w, horizons), horizons)


def logit(y, x):
    """Coefficients, information matrix, per-row scores and standard errors of a logistic
    regression, by statsmodels ``Logit`` (Newton)."""
    import statsmodels.api as sm

    model = sm.Logit(y, x)
    fit = model.fit(disp=0, method="newton", maxiter=35, warn_convergence=False)
    beta = np.asarray(fit.params, float)
    return beta, -model.hessian(beta), model.score_obs(beta), np.asarray(fit.bse, float)


def ratios(x_num, x_den, b_num, b_den):
    """P(not contacted | period) / P(not contacted | period, covariates) per period row (rows x B)."""
    from scipy.special import expit

    p_num = expit(x_num @ np.atleast_2d(b_num).T)
    p_den = expit(x_den @ np.atleast_2d(b_den).T)
    return (1.0 - p_num) / np.maximum(1.0 - p_den, 1e-12)


def cumulate(ratio, row):
    """Product of ``ratio`` over the earlier periods of the same row times the square root of
    its own (rows x B)."""
    log_r = np.log(ratio)
    cum = np.cumsum(log_r, axis=0)
    first = np.r_[True, row[1:] != row[:-1]]
    start_idx = np.maximum.accumulate(np.where(first, np.arange(len(row)), 0))
    before = (cum - log_r)[start_idx]
    return np.exp(cum - before - 0.5 * log_r)


def one_step(beta, information, scores, counts):
    """beta + I^-1 (counts @ scores), for each row of ``counts`` (b, rows)."""
    return beta[None, :] + np.linalg.solve(information, (counts @ scores).T).T


def bootstrap_ipcw(cw, horizons, replicates=300, seed=0, block=25):
    """Person-level bootstrap of the per-protocol contrasts, weight models refitted by one
    Newton step, on dense (block x rows) weight matrices."""
    rows = cw.rows
    ids, person = np.unique(rows["person_id"].to_numpy(), return_inverse=True)
    draws = bootstrap_counts(len(ids), replicates, seed).T
    d = cw._design
    n_c = d["n_contacted_rows"]
    period_person = person[n_c:]
    time = rows["stop"].to_numpy(float)
    status = rows["status"].to_numpy(int)
    treated = rows["treated"].to_numpy(int)
    entry = rows["start"].to_numpy(float)
    base = rows["base_weight"].to_numpy(float)
    risk1, risk0 = [], []
    for s in range(0, replicates, block):
        m = draws[s:s + block]
        if "b_den" in d:
            b_num = one_step(d["b_num"], d["i_num"], d["s_num"], m[:, period_person])
            b_den = one_step(d["b_den"], d["i_den"], d["s_den"], m[:, period_person])
            ratio = ratios(d["x_period"][d["period"]], d["x_den"], b_num, b_den)
            ipcw = np.clip(cumulate(ratio, d["row"]), *d["truncation_bounds"]).T
        else:
            ipcw = np.ones((len(m), len(rows) - n_c))
        w = m[:, person] * base[None, :]
        w[:, n_c:] *= ipcw
        a, b = replicate_risks(time, status, treated, w, horizons, entry=entry)
        risk1.append(a)
        risk0.append(b)
    r1, r0 = np.vstack(risk1), np.vstack(risk0)
    out = contrast_standard_errors(r1, r0, horizons)
    return out.assign(se_risk_contacted=r1.std(axis=0, ddof=1), se_risk_comparison=r0.std(axis=0, ddof=1))
