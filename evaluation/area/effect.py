"""The average post-period effect of a fitted segmented model, in the outcome's units.

One place for the conversion shared by the interrupted time series and the
difference-in-differences: both put a level change and (optionally) a slope change on the
treated unit's post-period rows; the effect is the mean over those rows of the fitted outcome
minus the outcome with the change columns set to zero, its standard error by the delta method
from the model's (robust) covariance.
"""

from __future__ import annotations

import numpy as np


def average_effect(params: np.ndarray, cov: np.ndarray, rows: np.ndarray, change: list[int],
                   count: bool) -> tuple[float, float, float]:
    """Mean effect over ``rows`` (the treated post-period design rows), its delta-method SE and
    the mean counterfactual (log link when ``count``; for a linear model the counterfactual
    mean is only meaningful when ``rows`` carry the full linear predictor)."""
    x1 = np.asarray(rows, dtype=float)
    x0 = x1.copy()
    x0[:, change] = 0.0
    if count:
        m1, m0 = np.exp(x1 @ params), np.exp(x0 @ params)
        grad = (m1[:, None] * x1 - m0[:, None] * x0).mean(axis=0)
    else:
        m1, m0 = x1 @ params, x0 @ params
        grad = (x1 - x0).mean(axis=0)
    se = float(np.sqrt(max(float(grad @ cov @ grad), 0.0)))
    return float((m1 - m0).mean()), se, float(m0.mean())


#: Fixed-b critical values of HAC t-statistics with the Bartlett kernel (Kiefer and Vogelsang
#: 2005, "A new asymptotic theory for heteroskedasticity-autocorrelation robust tests",
#: Econometric Theory 21): the quantile ``c0 + c1 b + c2 b^2 + c3 b^3`` with ``b`` the bandwidth
#: (lags + 1) over the number of periods, by two-sided confidence level. Normal critical values
#: treat the HAC variance as known and under-cover in finite samples.
_FIXED_B_BARTLETT = {0.80: (1.2816, 1.3040, 0.5135, -0.3386),
                     0.90: (1.6449, 2.1859, 0.3142, -0.3427),
                     0.95: (1.9600, 2.9694, 0.4160, -0.5324),
                     0.98: (2.3263, 4.1618, 0.5368, -0.9060)}


def hac_critical_value(level: float, maxlags: int | None, periods: int) -> float:
    """Two-sided critical value at ``level``: fixed-b for Newey-West / Driscoll-Kraay errors
    with ``maxlags`` lags over ``periods`` periods, the normal one when ``maxlags`` is None."""
    from scipy import stats

    if maxlags is None:
        return float(stats.norm.ppf(0.5 + level / 2))
    key = min(_FIXED_B_BARTLETT, key=lambda k: abs(k - level))
    if abs(key - level) > 1e-9:
        raise ValueError(f"HAC intervals are available at the levels {sorted(_FIXED_B_BARTLETT)}")
    b = (maxlags + 1) / max(periods, 1)
    c0, c1, c2, c3 = _FIXED_B_BARTLETT[key]
    return c0 + c1 * b + c2 * b ** 2 + c3 * b ** 3


def hac_p_value(estimate: float, se: float, maxlags: int | None, periods: int) -> float | None:
    """Two-sided p-value matching :func:`hac_critical_value`: the t-statistic scaled by the
    ratio of the normal to the fixed-b 95% critical value, so that p < 0.05 exactly when the
    95% interval excludes zero."""
    from scipy import stats

    if not se > 0:
        return None
    scale = 1.959964 / hac_critical_value(0.95, maxlags, periods)
    return float(2 * stats.norm.sf(abs(estimate / se) * scale))
