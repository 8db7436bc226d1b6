"""What a reader can work out from published numbers: the attacker's linear programme.

The published counts of a document are tied together by linear equations (a total is the sum of
its parts, an attrition step is the difference of two remaining counts, this quarter's cumulative
count is last quarter's plus the new ones). A reader who knows the equations and the published
numbers can bound every number that is not shown: its smallest and largest value over all
non-negative solutions (a hidden cell is known to be at least 1, because zeros are shown). A
number is **disclosed** when no other solution gives it another value. This is the audit that
statistical offices run on a suppression pattern (the "attacker problem" of cell suppression),
solved exactly with scipy's HiGHS linear programming solver: two programmes decide it for every
hidden number at once (:func:`movable`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: Numbers smaller than this are zero in the null-space arithmetic.
TOL = 1e-9


@dataclass(frozen=True)
class Unknown:
    """A number the reader does not see: its key, its true value and its lower bound
    (``None``: no bound, e.g. a difference that may be negative)."""

    key: str
    value: float
    lower: float | None = 0.0


def movable(equations: Sequence[Mapping[str, float]], known: Mapping[str, float],
            unknown: Mapping[str, Unknown], targets: Iterable[str]) -> set[str]:
    """The targets a reader cannot pin down: those that some other solution changes.

    Parameters
    ----------
    equations
        Each ``{key: coefficient}`` meaning ``sum(coefficient * value) == 0``.
    known
        The published numbers (key -> value); they cannot move.
    unknown
        The numbers not shown (key -> :class:`Unknown`, with the true value).
    targets
        Unknown keys to test.

    Notes
    -----
    The true values are one solution. Another solution with a different value of target ``t``
    exists exactly when there is a direction ``d`` with ``A d = 0`` (published numbers fixed),
    ``d_i >= 0`` for every unknown at its lower bound, and ``d_t != 0`` (the feasible set is
    convex, so a small step along ``d`` stays feasible). Directions are ``d = N y`` for a basis
    ``N`` of the null space of ``A``: a target whose row of ``N`` is zero is pinned by the
    equations alone; otherwise the direction ``N N_t`` is tried first and, only when it breaks
    a bound, one small linear programme over ``y`` per direction decides.
    """
    targets = [t for t in targets if t in unknown]
    keys = sorted({k for eq in equations for k in eq if k in unknown})
    col = {k: j for j, k in enumerate(keys)}
    free = {t for t in targets if t not in col}  # in no equation: nothing pins it
    wanted = [t for t in targets if t in col]
    if not wanted:
        return free
    a = np.zeros((len(equations), len(keys)))
    for r, eq in enumerate(equations):
        for k, coef in eq.items():
            if k in col:
                a[r, col[k]] += coef
    basis = null_space(a)
    if basis.shape[1] == 0:
        return free
    basis[np.abs(basis) < TOL] = 0.0
    moves = np.abs(basis).sum(axis=1) > TOL
    active = [col[k] for k in keys if moves[col[k]] and unknown[k].lower is not None
              and abs(unknown[k].value - unknown[k].lower) < 1e-9]
    bound = basis[active]
    for t in wanted:
        row = basis[col[t]]
        if not moves[col[t]]:
            continue
        if not active or any(_can_move(row, bound, sign) for sign in (1.0, -1.0)):
            free.add(t)
    return free


def null_space(a: np.ndarray) -> np.ndarray:
    """A basis of ``{d : a d = 0}`` (columns), by Gauss-Jordan elimination with partial pivoting
    (exact enough for the small integer matrices of linked counts, and free of threaded LAPACK
    calls that crawl on a busy machine)."""
    r = a.astype(float).copy()
    rows, cols = r.shape
    pivots: list[int] = []
    i = 0
    for j in range(cols):
        if i == rows:
            break
        p = i + int(np.argmax(np.abs(r[i:, j])))
        if abs(r[p, j]) < TOL:
            continue
        r[[i, p]] = r[[p, i]]
        r[i] /= r[i, j]
        others = np.abs(r[:, j]) > TOL
        others[i] = False
        r[others] -= np.outer(r[others, j], r[i])
        pivots.append(j)
        i += 1
    free = [j for j in range(cols) if j not in set(pivots)]
    basis = np.zeros((cols, len(free)))
    for k, f in enumerate(free):
        basis[f, k] = 1.0
        for row, p in enumerate(pivots):
            basis[p, k] = -r[row, f]
    return basis


def _can_move(row: np.ndarray, bound: np.ndarray, sign: float) -> bool:
    """Whether some ``y`` gives ``sign * row @ y > 0`` with ``bound @ y >= 0``."""
    from scipy.optimize import linprog

    guess = sign * row
    if np.all(bound @ guess >= -TOL):
        return True
    res = linprog(-sign * row, A_ub=-bound, b_ub=np.zeros(len(bound)),
                  bounds=[(-1.0, 1.0)] * len(row), method="highs")
    return bool(res.status == 0 and -res.fun > 1e-7)
