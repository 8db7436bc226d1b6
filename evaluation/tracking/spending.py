"""Honest repeated looks: group-sequential boundaries from an alpha-spending function.

Publishing the estimate every quarter is repeated testing: with a fixed 95% interval at each of
twelve looks, a programme without any effect would be declared to "work" or to "harm" far more
often than one time in twenty. The analysis plan therefore declares a monitoring scheme (the
number of planned looks and an alpha-spending function), and a finding at look ``k`` needs
``|z| >= c_k``, the boundary of that look.

What is computed
----------------
For looks at information fractions ``0 < t_1 < ... < t_K <= 1`` the standardised statistics
``Z_k`` of a test of "no effect" behave, under the null hypothesis, like ``B(t_k) / sqrt(t_k)``
for a standard Brownian motion ``B`` (independent increments; Jennison & Turnbull 2000, ch. 3).
A spending function ``alpha(t)`` (increasing, ``alpha(0) = 0``, ``alpha(1) = alpha``) says how
much of the type I error may be used up to information ``t``; the boundary ``c_k`` solves

    P(|Z_1| < c_1, ..., |Z_{k-1}| < c_{k-1}, |Z_k| >= c_k) = alpha(t_k) - alpha(t_{k-1})

(two-sided, symmetric; one-sided uses ``Z_k >= c_k`` only). The probabilities are computed by
recursive numerical integration of the sub-density of ``B(t_k)`` on the continuation region
(Armitage, McPherson & Rowe 1969; the method of the ``ld98`` program of Reboussin et al. 2000
and of R's ldbounds), with Simpson's rule on a fine grid.

Spending functions (Lan & DeMets 1983):

* ``"obrien_fleming"``: each side spends ``2 - 2 Phi(z_{1-a/2} / sqrt(t))`` with
  ``a = alpha / sides`` (the convention of R's ldbounds and gsDesign ``sfLDOF``);
* ``"pocock"``: each side spends ``a log(1 + (e - 1) t)``.

:func:`classic_boundaries` gives the original O'Brien-Fleming (1979) and Pocock (1977)
boundaries for comparison (constant ``C`` with ``c_k = C / sqrt(t_k)`` or ``c_k = C``).

References
----------
Lan KKG, DeMets DL. Discrete sequential boundaries for clinical trials. Biometrika 1983;70:659-663.
O'Brien PC, Fleming TR. A multiple testing procedure for clinical trials. Biometrics 1979;35:549-556.
Pocock SJ. Group sequential methods in the design and analysis of clinical trials.
Biometrika 1977;64:191-199.
Jennison C, Turnbull BW. Group Sequential Methods with Applications to Clinical Trials. 2000.
Reboussin DM, DeMets DL, Kim K, Lan KKG. Computations for group sequential boundaries using the
Lan-DeMets spending function method. Controlled Clinical Trials 2000;21:190-207.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

SPENDING_FUNCTIONS = ("obrien_fleming", "pocock")
#: Grid points per unit of the score scale in the numerical integration.
_GRID_PER_UNIT = 60
#: Where the one-sided design's lower region ends (no boundary: far below any real value).
_FAR = 12.0


def spent_alpha(t: np.ndarray | float, alpha: float, spending: str, sides: int = 2) -> np.ndarray:
    """Cumulative type I error the spending function allows up to information fraction ``t``.

    Both sides together; each side spends the same (``alpha / sides`` in all), as in R's
    ldbounds and gsDesign: O'Brien-Fleming type ``2 - 2 Phi(z_{1 - a/2} / sqrt(t))`` per side
    with ``a = alpha / sides``.
    """
    t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    a = alpha / sides
    if spending == "obrien_fleming":
        z = stats.norm.ppf(1.0 - a / 2.0)
        with np.errstate(divide="ignore"):
            out = 2.0 - 2.0 * stats.norm.cdf(z / np.sqrt(t))
        return sides * np.where(t > 0, out, 0.0)
    if spending == "pocock":
        return sides * a * np.log1p((math.e - 1.0) * t)
    raise ValueError(f"unknown spending function {spending!r}; use one of {SPENDING_FUNCTIONS}")


def _simpson_grid(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Points and Simpson weights on [lo, hi] (an odd number of points)."""
    n = max(int((hi - lo) * _GRID_PER_UNIT) // 2 * 2 + 1, 101)
    x = np.linspace(lo, hi, n)
    w = np.ones(n)
    w[1:-1:2] = 4.0
    w[2:-1:2] = 2.0
    return x, w * (x[1] - x[0]) / 3.0


class _Recursion:
    """Sub-density of B(t_k) on the continuation region, look after look."""

    def __init__(self) -> None:
        self.t = 0.0
        self.x: np.ndarray | None = None  # grid (score scale), None before the first look
        self.fw: np.ndarray | None = None  # density times quadrature weight on the grid

    def exit_probability(self, t: float, c: float, sides: int) -> float:
        """P(continue until now, then cross at information t with boundary c on the z scale)."""
        s = math.sqrt(t - self.t)
        b = c * math.sqrt(t)
        if self.x is None:
            upper = stats.norm.sf(b / s)
            return float(upper * (2 if sides == 2 else 1))
        upper = stats.norm.sf((b - self.x) / s)
        lower = stats.norm.cdf((-b - self.x) / s) if sides == 2 else 0.0
        return float(np.sum(self.fw * (upper + lower)))

    def advance(self, t: float, c: float, sides: int) -> None:
        """Move to the look at information t, keeping only paths inside the boundary."""
        s = math.sqrt(t - self.t)
        b = c * math.sqrt(t)
        lo = -b if sides == 2 else -_FAR * math.sqrt(t)
        x, w = _simpson_grid(lo, b)
        if self.x is None:
            f = stats.norm.pdf(x / s) / s
        else:
            d = (x[:, None] - self.x[None, :]) / s
            f = np.exp(-0.5 * d * d) @ self.fw / (s * math.sqrt(2.0 * math.pi))
        self.t, self.x, self.fw = t, x, f * w


@dataclass(frozen=True)
class Boundaries:
    """Boundaries of a group-sequential design (read-only).

    Attributes
    ----------
    fractions : information fraction of each look.
    z : boundary on the z scale at each look (a finding needs ``|z| >= z_k``).
    nominal_alpha : the two-sided (or one-sided) p-value threshold equivalent to ``z_k``.
    spent : cumulative type I error spent up to each look.
    spending, alpha, sides : the scheme.
    """

    fractions: tuple[float, ...]
    z: tuple[float, ...]
    nominal_alpha: tuple[float, ...]
    spent: tuple[float, ...]
    spending: str
    alpha: float
    sides: int

    def nominal_alpha_at(self, look: int) -> float:
        """Nominal two-sided level of look ``look`` (1-based); 0 after the last planned look
        (the scheme has spent all its type I error: no further test is allowed)."""
        return self.nominal_alpha[look - 1] if 1 <= look <= len(self.z) else 0.0

    def z_at(self, look: int) -> float:
        """Boundary of look ``look`` (1-based); infinite after the last planned look."""
        return self.z[look - 1] if 1 <= look <= len(self.z) else math.inf

    def tidy(self) -> list[dict]:
        """One row per look: ``look``, ``fraction``, ``z``, ``nominal_alpha``, ``spent``."""
        return [
            {"look": k + 1, "fraction": f, "z": z if math.isfinite(z) else None,
             "nominal_alpha": p, "spent": s}
            for k, (f, z, p, s) in enumerate(
                zip(self.fractions, self.z, self.nominal_alpha, self.spent))
        ]


def _check(fractions: Sequence[float], alpha: float, sides: int) -> np.ndarray:
    t = np.asarray(fractions, dtype=float)
    if t.ndim != 1 or len(t) == 0 or np.any(t <= 0) or np.any(t > 1) or np.any(np.diff(t) <= 0):
        raise ValueError("information fractions must increase strictly within (0, 1]")
    if not 0 < alpha < 1 or sides not in (1, 2):
        raise ValueError("alpha must lie in (0, 1) and sides be 1 or 2")
    return t


def _nominal(z: float, sides: int) -> float:
    return float(stats.norm.sf(z) * sides)


def spending_boundaries(
    fractions: Sequence[float], alpha: float = 0.05, spending: str = "obrien_fleming",
    sides: int = 2,
) -> Boundaries:
    """Lan-DeMets boundaries for looks at ``fractions`` (see the module docstring).

    Parameters
    ----------
    fractions : information fractions of the looks, increasing in (0, 1].
    alpha : overall type I error (two-sided when ``sides=2``).
    spending : ``"obrien_fleming"`` or ``"pocock"`` (Lan-DeMets spending functions).
    sides : 2 (symmetric: "works" or "harms") or 1.

    Returns
    -------
    Boundaries
    """
    t = _check(fractions, alpha, sides)
    cum = spent_alpha(t, alpha, spending, sides)
    rec = _Recursion()
    z: list[float] = []
    prev = 0.0
    for tk, ck in zip(t, cum):
        target = float(ck - prev)
        prev = float(ck)
        if target <= 1e-15:  # nothing to spend at this look
            c = math.inf
        else:
            c = optimize.brentq(lambda c, tk=tk, target=target:
                                rec.exit_probability(tk, c, sides) - target,
                                0.0, 40.0, xtol=1e-10)
        z.append(c)
        rec.advance(tk, min(c, 40.0), sides)
    return Boundaries(tuple(map(float, t)), tuple(z), tuple(_nominal(c, sides) for c in z),
                      tuple(map(float, cum)), spending, alpha, sides)


def _total_alpha(t: np.ndarray, z: np.ndarray, sides: int) -> float:
    rec = _Recursion()
    total = 0.0
    for tk, ck in zip(t, z):
        total += rec.exit_probability(tk, ck, sides)
        rec.advance(tk, ck, sides)
    return total


def classic_boundaries(
    looks: int, alpha: float = 0.05, kind: str = "obrien_fleming", sides: int = 2
) -> Boundaries:
    """The original O'Brien-Fleming or Pocock boundaries for ``looks`` equally spaced looks.

    O'Brien-Fleming: ``c_k = C sqrt(K / k)``; Pocock: ``c_k = C``; ``C`` such that the overall
    type I error is ``alpha``. Not spending-function boundaries: shown for comparison with the
    published tables (Jennison & Turnbull 2000, tables 2.1 and 2.3).
    """
    t = np.arange(1, looks + 1) / looks
    shape = 1.0 / np.sqrt(t) if kind == "obrien_fleming" else np.ones(looks)
    if kind not in SPENDING_FUNCTIONS:
        raise ValueError(f"unknown boundary kind {kind!r}")
    big_c = optimize.brentq(lambda c: _total_alpha(t, c * shape, sides) - alpha, 1.0, 6.0,
                            xtol=1e-10)
    z = big_c * shape
    spent, rec, total = [], _Recursion(), 0.0
    for tk, ck in zip(t, z):
        total += rec.exit_probability(tk, ck, sides)
        rec.advance(tk, ck, sides)
        spent.append(total)
    return Boundaries(tuple(map(float, t)), tuple(map(float, z)),
                      tuple(_nominal(c, sides) for c in z), tuple(spent), kind, alpha, sides)


def planned_boundaries(planned_looks: int, alpha: float = 0.05,
                       spending: str = "obrien_fleming") -> Boundaries:
    """Boundaries of ``planned_looks`` equally spaced quarterly looks (calendar-time spending,
    :class:`evaluation.analysis.plan.Monitoring`): look k at information fraction k / K."""
    return spending_boundaries(np.arange(1, planned_looks + 1) / planned_looks, alpha, spending)

