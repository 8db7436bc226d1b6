"""Compiled loops of the bootstrap replicate engine (numba).

The replicate risks need, per replicate and per event-time bin, three weighted sums over the
rows of one arm: the change in the risk set (rows entering minus rows leaving), the events of
interest and all events. Each loop here runs over the rows once, with the replicates in the
innermost loop and the sums laid out (bins, replicates), so that no (replicates x rows) array is
ever built. Arithmetic per element is that of the dense formulation; only the order in which
the sums are added up differs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Smallest P(not contacted | period, covariates) the censoring weights divide by.
FLOOR = 1e-12


@njit(cache=True, nogil=True)
def bin_sums(factor, column, weight, enter, leave, event, primary, n_bins):
    """Binned sums of the rows weighted ``factor[column[i], b] * weight[i]`` for each
    replicate ``b`` (a column of ``factor``).

    Row ``i`` is in the risk set of bins ``enter[i] <= k < leave[i]`` and, when ``event[i] >= 0``,
    has an event in bin ``event[i]`` (of interest when ``primary[i]``). Returns ``delta``
    (n_bins + 1, B: the risk set's change at each bin), ``d1`` and ``dall`` (n_bins, B).
    """
    n_rep = factor.shape[1]
    delta = np.zeros((n_bins + 1, n_rep))
    d1 = np.zeros((n_bins, n_rep))
    dall = np.zeros((n_bins, n_rep))
    for i in range(column.shape[0]):
        f = factor[column[i]]
        wi = weight[i]
        lo, hi, e = enter[i], leave[i], event[i]
        if lo < hi:
            for b in range(n_rep):
                w = f[b] * wi
                delta[lo, b] += w
                delta[hi, b] -= w
        if e >= 0:
            for b in range(n_rep):
                dall[e, b] += f[b] * wi
            if primary[i]:
                for b in range(n_rep):
                    d1[e, b] += f[b] * wi
    return delta, d1, dall


# exp(x) = 2^k exp(r), k = round(x / ln 2), |r| <= ln(2) / 2, exp(r) by its Taylor series to
# degree 13 (truncation error below 2e-16 relative), evaluated in Estrin's order; 2^k is built
# in the exponent bits. Written out so that the compiler evaluates it for 4 replicates at once.
_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238  # ln 2 in two parts: k * _LN2_HI is exact for |k| < 2^20
_LN2_LO = 1.9082149292705877e-10
_ROUND = 6755399441055744.0  # 1.5 * 2^52: adding it rounds to an integer, kept in the low bits
_ROUND_BITS = int(np.float64(_ROUND).view(np.int64))
_C = [1.0 / math.factorial(n) for n in range(14)]
_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = _C


@njit(cache=True, nogil=True, inline="always")
def _one_plus_exp_capped(z, out, scale, scale_bits):
    """``out[b] = min(1 + exp(z[b]), 1 / FLOOR)`` for every b, within 2 units in the last
    place of the exact value. ``scale`` is a work array and ``scale_bits`` its int64 view.
    ``z`` is clamped to [-40, 40] first, which changes nothing: 1 + exp(-40) rounds to 1 and
    exp(40) > 1 / FLOOR."""
    n = z.shape[0]
    for b in range(n):
        x = min(max(z[b], -40.0), 40.0)
        t = x * _LOG2E + _ROUND
        k = t - _ROUND
        r = (x - k * _LN2_HI) - k * _LN2_LO
        r2 = r * r
        r4 = r2 * r2
        q0 = (_C0 + _C1 * r) + r2 * (_C2 + _C3 * r)
        q1 = (_C4 + _C5 * r) + r2 * (_C6 + _C7 * r)
        q2 = (_C8 + _C9 * r) + r2 * (_C10 + _C11 * r)
        q3 = _C12 + _C13 * r
        out[b] = (q0 + r4 * q1) + (r4 * r4) * (q2 + r4 * q3)
        scale[b] = t
    for b in range(n):
        scale_bits[b] = (scale_bits[b] - _ROUND_BITS + 1023) << 52  # 2^k
    cap = 1.0 / FLOOR
    for b in range(n):
        out[b] = min(1.0 + out[b] * scale[b], cap)


@njit(cache=True, nogil=True)
def one_plus_exp_capped(z):
    """:func:`_one_plus_exp_capped` of a 1-d array (for the tests)."""
    out = np.empty(z.shape[0])
    scale = np.empty(z.shape[0])
    _one_plus_exp_capped(z, out, scale, scale.view(np.int64))
    return out


@njit(cache=True, nogil=True)
def ipcw_bin_sums(draws, person, first, x, period, coef, keep_num, weight, lower, upper,
                  enter, leave, event, primary, n_bins):
    """:func:`bin_sums` of the comparison arm's period rows under replicate censoring weights.

    Comparison row ``r`` (person ``person[r]``, drawn ``draws[person[r], b]`` times in replicate
    ``b``) has the period rows ``first[r] <= i < first[r + 1]`` in period order. Replicate
    ``b``'s censoring model has linear predictor ``x[i] @ coef[:, b]`` and P(not contacted |
    period) ``keep_num[period[i], b]``, so the period's factor is ``keep_num / max(1 - p, FLOOR)``
    = ``keep_num * min(1 + exp(x @ coef), 1 / FLOOR)``; the period's weight is the product of
    the factors of the earlier periods times the square root of its own, cut to ``[lower,
    upper]``, times ``draws * weight[i]`` (0 for persons not drawn).
    """
    n_rep = draws.shape[1]
    p = x.shape[1]
    delta = np.zeros((n_bins + 1, n_rep))
    d1 = np.zeros((n_bins, n_rep))
    dall = np.zeros((n_bins, n_rep))
    z = np.empty(n_rep)
    odds = np.empty(n_rep)
    scale = np.empty(n_rep)
    scale_bits = scale.view(np.int64)
    prod = np.empty(n_rep)
    w = np.empty(n_rep)
    for r in range(first.shape[0] - 1):
        count = draws[person[r]]
        prod[:] = 1.0
        for i in range(first[r], first[r + 1]):
            z[:] = 0.0
            for j in range(p):
                xij = x[i, j]
                for b in range(n_rep):
                    z[b] += xij * coef[j, b]
            _one_plus_exp_capped(z, odds, scale, scale_bits)
            keep, wi = keep_num[period[i]], weight[i]
            for b in range(n_rep):
                ratio = keep[b] * odds[b]
                wb = prod[b] * math.sqrt(ratio)
                prod[b] *= ratio
                w[b] = (count[b] * wi) * min(max(wb, lower), upper)
            _scatter(w, enter[i], leave[i], event[i], primary[i], delta, d1, dall)
    return delta, d1, dall


@njit(cache=True, nogil=True, inline="always")
def _scatter(w, lo, hi, e, of_interest, delta, d1, dall):
    """Add one row's replicate weights ``w`` to the binned sums."""
    n_rep = w.shape[0]
    if lo < hi:
        for b in range(n_rep):
            delta[lo, b] += w[b]
        for b in range(n_rep):
            delta[hi, b] -= w[b]
    if e >= 0:
        for b in range(n_rep):
            dall[e, b] += w[b]
        if of_interest:
            for b in range(n_rep):
                d1[e, b] += w[b]
