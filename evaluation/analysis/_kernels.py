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
    upper]``, times ``draws * weight[i]``. Persons drawn 0 times are skipped.
    """
    n_rep = draws.shape[1]
    p = x.shape[1]
    delta = np.zeros((n_bins + 1, n_rep))
    d1 = np.zeros((n_bins, n_rep))
    dall = np.zeros((n_bins, n_rep))
    z = np.empty(n_rep)
    prod = np.empty(n_rep)
    cap = 1.0 / FLOOR
    for r in range(first.shape[0] - 1):
        count = draws[person[r]]
        prod[:] = 1.0
        for i in range(first[r], first[r + 1]):
            z[:] = 0.0
            for j in range(p):
                xij = x[i, j]
                for b in range(n_rep):
                    z[b] += xij * coef[j, b]
            k, lo, hi, e, wi = period[i], enter[i], leave[i], event[i], weight[i]
            for b in range(n_rep):
                c = count[b]
                if c == 0.0:
                    continue
                ratio = keep_num[k, b] * min(1.0 + math.exp(z[b]), cap)
                w = prod[b] * math.sqrt(ratio)
                prod[b] *= ratio
                w = (c * wi) * min(max(w, lower), upper)
                if lo < hi:
                    delta[lo, b] += w
                    delta[hi, b] -= w
                if e >= 0:
                    dall[e, b] += w
                    if primary[i]:
                        d1[e, b] += w
    return delta, d1, dall
