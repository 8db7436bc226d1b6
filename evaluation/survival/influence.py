"""Robust (infinitesimal-jackknife, cluster-aware) variances of weighted non-parametric estimates.

With case weights (inverse probability weights, ATT weights of matched sets) the Greenwood and
Gray formulas, evaluated on weighted counts, understate the variance. The robust variance is the
one R's ``survfit(..., weights =, robust = TRUE, cluster = id)`` reports: for each row ``i`` the
derivative ``D_i(t)`` of the estimate at ``t`` with respect to its weight ``w_i`` (the
infinitesimal jackknife), summed within clusters, ``V(t) = sum_g (sum_{i in g} w_i D_i(t))^2``.
Without a cluster every row is its own cluster.

The derivatives are exact for the weighted estimators of :mod:`.nonparametric` (distinct event
times ``u_j``, weighted at risk ``n_j`` with ``entry < u_j <= time``, weighted events ``d_j``,
hazard ``h_j = d_j / n_j``):

- Kaplan-Meier ``S_k = prod_{j<=k} (1 - h_j)``:
  ``D_i(k) = -S_k sum_{j<=k} (dN_ij - Y_ij h_j) / (n_j (1 - h_j))``;
- Aalen-Johansen ``F_k = sum_{j<=k} S_{j-1} h1_j`` (``S`` all-cause):
  ``D_i(k) = -sum_{l<=k} c_il (F_k - F_l) + sum_{j<=k} S_{j-1} (dN1_ij - Y_ij h1_j) / n_j`` with
  ``c_il = (dN_il - Y_il h_l) / (n_l (1 - h_l))``;
- restricted mean ``mu = integral_0^tau S``: ``D_i = -sum_{j: u_j <= tau} c_ij A_j`` with
  ``A_j`` the area under ``S`` from ``u_j`` to ``tau``.

Each derivative is, within a cluster, a sum of step functions of ``k`` times a few curves
(``S_k``, ``F_k`` and cumulative sums over event times); the variance at every event time is then
one sweep over the rows' entry, event and exit indices (O(n log n), no rows x times matrix).

References
----------
Therneau, T. M. (2024). The survival package: survfit with case weights and the robust variance
(vignette "Multi-state models and competing risks", section on the influence matrix).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class _Rows:
    """Where each row sits on the grid of distinct event times ``u``."""

    first: np.ndarray  # index of the first event time with entry < u_j
    end: np.ndarray  # number of event times u_j <= time: at risk for first <= j < end
    at_risk: np.ndarray  # at risk at some event time (first < end)


def _rows(u: np.ndarray, time: np.ndarray, entry: np.ndarray) -> _Rows:
    end = np.searchsorted(u, time, side="right")
    first = np.searchsorted(u, entry, side="right")
    return _Rows(first, end, first < end)


def _prefix(x: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(x)])


def _hazard_parts(n: np.ndarray, d: np.ndarray):
    """h, a = 1 / (n (1 - h)) and b = h a, with a = 0 where everyone at risk has the event."""
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(n > 0, d / n, 0.0)
        a = np.where((n > 0) & (h < 1), 1.0 / (n * (1.0 - h)), 0.0)
    return h, a, h * a


def _sweep_variance(n_times: int, cluster: np.ndarray, index: np.ndarray, delta: np.ndarray,
                    basis: np.ndarray) -> np.ndarray:
    """sum over clusters of X_g(k)^2 at every k, where X_g(k) = c_g(k) . basis[k] and the
    coefficient vector c_g(k) of cluster g changes by ``delta`` at each ``index`` (from that k on).

    cluster, index : (E,); delta : (E, M); basis : (n_times, M).
    """
    keep = index < n_times
    cluster, index, delta = cluster[keep], index[keep], delta[keep]
    m = basis.shape[1]
    cross = np.zeros((n_times + 1, m, m))
    if len(index):
        order = np.lexsort((index, cluster))
        g, k, dl = cluster[order], index[order], delta[order]
        new = np.r_[True, (g[1:] != g[:-1]) | (k[1:] != k[:-1])]
        starts = np.flatnonzero(new)
        g, k, dl = g[starts], k[starts], np.add.reduceat(dl, starts, axis=0)
        # running sum of the changes within each cluster: the coefficients after each change
        total = np.cumsum(dl, axis=0)
        first_of_cluster = np.r_[True, g[1:] != g[:-1]]
        cluster_start = np.maximum.accumulate(np.where(first_of_cluster, np.arange(len(g)), 0))
        after = total - (total - dl)[cluster_start]
        before = after - dl
        for p in range(m):
            for q in range(m):
                change = after[:, p] * after[:, q] - before[:, p] * before[:, q]
                cross[:, p, q] = np.bincount(k, weights=change, minlength=n_times + 1)
    cross = np.cumsum(cross[:-1], axis=0)
    return np.maximum(np.einsum("km,kmn,kn->k", basis, cross, basis), 0.0)


def _transitions(rows: _Rows, weights: np.ndarray, cluster: np.ndarray | None,
                 at_first: np.ndarray, at_end: np.ndarray, event_rows: list[tuple[np.ndarray, np.ndarray]]):
    """The (cluster, index, delta) lists of :func:`_sweep_variance`: each row at risk adds
    ``w * at_first`` at its first index, ``w * at_end`` at its end, and for each
    (mask, delta) of ``event_rows`` ``w * delta`` at its own event index (end - 1)."""
    r = rows.at_risk
    cl = (np.arange(len(weights)) if cluster is None else np.asarray(cluster))
    w = weights[:, None]
    parts_c, parts_i, parts_d = [cl[r], cl[r]], [rows.first[r], rows.end[r]], [(w * at_first)[r], (w * at_end)[r]]
    for mask, delta in event_rows:
        sel = r & mask
        parts_c.append(cl[sel])
        parts_i.append(rows.end[sel] - 1)
        parts_d.append((w * delta)[sel])
    return np.concatenate(parts_c), np.concatenate(parts_i), np.concatenate(parts_d)


def km_robust_variance(u, n, d, survival, time, event, entry, weights, cluster=None) -> np.ndarray:
    """Robust variance of the weighted Kaplan-Meier survival at every event time ``u``.

    ``u, n, d, survival``: the risk table and the estimate (see :func:`.kaplan_meier`);
    ``time, event (bool), entry, weights, cluster``: per row.
    """
    _, a, b = _hazard_parts(n, d)
    rows = _rows(u, time, entry)
    cum_b = _prefix(b)
    zeros = np.zeros(len(time))
    jt = np.clip(rows.end - 1, 0, max(len(u) - 1, 0))
    # q_i(k) = a_{own event} [k >= end - 1] - (B[min(end, k + 1)] - B[first]); basis (1, B[k + 1])
    at_first = np.column_stack([cum_b[rows.first], -np.ones(len(time))])
    at_end = np.column_stack([-cum_b[rows.end], np.ones(len(time))])
    own = np.column_stack([a[jt] if len(u) else zeros, zeros])
    c, i, dl = _transitions(rows, weights, cluster, at_first, at_end, [(event, own)])
    basis = np.column_stack([survival, survival * cum_b[1:]])
    return _sweep_variance(len(u), c, i, dl, basis)


def cif_robust_variance(u, n, d1, d_all, cif, time, status, event_of_interest, entry, weights,
                        cluster=None) -> np.ndarray:
    """Robust variance of the weighted Aalen-Johansen cumulative incidence at every event time.

    ``u, n, d1, d_all``: distinct times of any event, weighted at risk, events of interest and
    events of any cause; ``cif``: the estimate; the rest per row.
    """
    h, a, b = _hazard_parts(n, d_all)
    with np.errstate(divide="ignore", invalid="ignore"):
        h1 = np.where(n > 0, d1 / n, 0.0)
        inv_n = np.where(n > 0, 1.0 / n, 0.0)
    s_before = np.concatenate([[1.0], np.cumprod(1.0 - h)[:-1]])
    rows = _rows(u, time, entry)
    cum_b, cum_bf, cum_g = _prefix(b), _prefix(b * cif), _prefix(s_before * h1 * inv_n)
    cum_rp = cum_bf + cum_g
    ones, zeros = np.ones(len(time)), np.zeros(len(time))
    jt = np.clip(rows.end - 1, 0, max(len(u) - 1, 0))
    # D_i(k) = -F_k Q_i(k) + (R_i + P_i)(k), coefficients (alpha_Q, alpha_RP, beta) on the basis
    # (-F_k, 1, -F_k B[k+1] + BF[k+1] + G[k+1]); beta = -1 while at risk
    at_first = np.column_stack([cum_b[rows.first], cum_rp[rows.first], -ones])
    at_end = np.column_stack([-cum_b[rows.end], -cum_rp[rows.end], ones])
    any_event = np.column_stack([a[jt], a[jt] * cif[jt], zeros])
    own_event = np.column_stack([zeros, s_before[jt] * inv_n[jt], zeros])
    c, i, dl = _transitions(rows, weights, cluster, at_first, at_end,
                            [(status != 0, any_event), (status == event_of_interest, own_event)])
    basis = np.column_stack([-cif, np.ones(len(u)), -cif * cum_b[1:] + cum_rp[1:]])
    return _sweep_variance(len(u), c, i, dl, basis)


def rmst_robust_variance(u, n, d, survival, horizon, time, event, entry, weights,
                         cluster=None) -> float:
    """Robust variance of the area under the weighted Kaplan-Meier curve up to ``horizon``."""
    inside = u <= horizon
    if not inside.any():
        return 0.0
    _, a, b = _hazard_parts(n, d)
    knots = np.concatenate([u[inside], [float(horizon)]])
    tail = np.cumsum((survival[inside] * np.diff(knots))[::-1])[::-1]  # area from u_j to horizon
    area = np.zeros(len(u))
    area[inside] = tail
    rows = _rows(u, time, entry)
    last = int(inside.sum())  # event times up to the horizon: j < last
    cum = _prefix(b * area)
    hi = np.minimum(rows.end, last)
    risk = np.where(hi > rows.first, cum[hi] - cum[np.minimum(rows.first, hi)], 0.0)
    own = np.where(event & (rows.end - 1 < last) & rows.at_risk, (a * area)[np.clip(rows.end - 1, 0, None)], 0.0)
    contribution = weights * (own - risk)
    if cluster is not None:
        contribution = np.bincount(np.asarray(cluster), weights=contribution)
    return float(np.sum(contribution**2))
