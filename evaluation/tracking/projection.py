"""When can an answer be expected: the minimum detectable effect projected quarter by quarter.

What is projected
-----------------
For one outcome, the looks so far give, per arm of the matched cohort, the persons followed
(``n``) and the persons with an event (``events``). Going forward, each arm is assumed to keep

* its **accrual**: new matched persons per quarter, the mean increase over the last
  :data:`ACCRUAL_QUARTERS` looks (a cohort is rebuilt at each look, so ``n`` is cumulative);
* its **event rate**: events per person-quarter at risk, estimated from all looks so far, with
  the persons at risk between two looks taken as the mean of ``n - events`` at both (every
  person without an event is counted as still followed: censoring by death, emigration or a
  later contact is ignored, so the projection is somewhat optimistic where censoring is heavy).

The projected events of both arms give, for each future look, the smallest hazard ratio that
the test at that look would detect with the plan's power (Schoenfeld 1983, the formula of
:func:`evaluation.survival.diagnostics.min_detectable_hr`), at the nominal level that the
look's group-sequential boundary allows (:mod:`evaluation.tracking.spending`) rather than a
fixed 5%. The answer is expected at the first look whose detectable hazard ratio reaches the
plan's effect (default 0.8, or its inverse for an outcome where higher is better); when no look
within :data:`HORIZON_QUARTERS` quarters (three years) does, the answer is "not within three
years at the current pace". :func:`project_detectable_effect` is the one function that makes
this projection; the report reads its result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from ..survival.diagnostics import min_detectable_hr
from .calendar import shift_quarter

#: Quarters ahead that the projection looks (three years).
HORIZON_QUARTERS = 12
#: Looks whose increase in persons gives the accrual per quarter.
ACCRUAL_QUARTERS = 4


@dataclass(frozen=True)
class Look:
    """One look of one outcome: the quarter and, per arm, persons followed and with an event."""

    quarter: str
    n_contacted: float
    n_comparison: float
    events_contacted: float
    events_comparison: float


@dataclass(frozen=True)
class Projection:
    """The projected looks and the quarter in which the plan's effect becomes detectable.

    ``rows``: one dict per future quarter (``quarter``, ``look``, ``n_contacted``,
    ``n_comparison``, ``events_contacted``, ``events_comparison``, ``nominal_alpha``,
    ``detectable_hr``). ``expected_quarter`` is None when the effect is not detectable within
    the horizon; ``reason`` then says why ("no events yet", "not within three years").
    """

    target_hr: float
    power: float
    rows: tuple[dict, ...]
    expected_quarter: str | None
    already_detectable: bool
    reason: str | None

    def to_dict(self) -> dict:
        return {"target_hr": self.target_hr, "power": self.power, "rows": list(self.rows),
                "expected_quarter": self.expected_quarter,
                "already_detectable": self.already_detectable, "reason": self.reason}


def _accrual(values: Sequence[float]) -> float:
    recent = list(values)[-(ACCRUAL_QUARTERS + 1):]
    if len(recent) < 2:
        return float(recent[-1]) if recent else 0.0  # one look: the first quarter's intake
    return max((recent[-1] - recent[0]) / (len(recent) - 1), 0.0)


def _event_rate(n: Sequence[float], events: Sequence[float]) -> float:
    """Events per person-quarter at risk over all looks (at risk = n - events, trapezoid)."""
    at_risk = [max(a - b, 0.0) for a, b in zip(n, events)]
    person_quarters = at_risk[0] / 2 + sum((a + b) / 2 for a, b in pairwise(at_risk))
    return events[-1] / person_quarters if person_quarters > 0 else 0.0


def _detectable(events: float, share: float, alpha: float, power: float) -> float:
    """Detectable hazard ratio below 1 (protective) at two-sided nominal level ``alpha``."""
    if not alpha > 0:
        return 0.0
    return min_detectable_hr(events, share, alpha=alpha, power=power)[0]


def _reaches(detectable_low: float, target_hr: float) -> bool:
    """An effect of the target size (or its inverse) is detectable."""
    target = min(target_hr, 1.0 / target_hr)
    return detectable_low > 0 and detectable_low >= target - 1e-12


def project_detectable_effect(
    looks: Sequence[Look],
    nominal_alpha_at: Callable[[int], float],
    *,
    target_hr: float = 0.8,
    power: float = 0.8,
    horizon: int = HORIZON_QUARTERS,
) -> Projection:
    """Project the detectable hazard ratio forward from the looks so far (module docstring).

    Parameters
    ----------
    looks : the looks so far, oldest first (the last one is the current quarter).
    nominal_alpha_at : function of the look number (1 = first look) giving the two-sided nominal
        level of that look's boundary (0 when the monitoring scheme allows no test there).
    target_hr : the effect the plan names (hazard ratio; its inverse for increases).
    power : the power the plan asks for.
    horizon : quarters ahead.
    """
    cur = looks[-1]
    n_t = [lk.n_contacted for lk in looks]
    n_c = [lk.n_comparison for lk in looks]
    e_t = [lk.events_contacted for lk in looks]
    e_c = [lk.events_comparison for lk in looks]
    now = len(looks)
    share = cur.n_contacted / (cur.n_contacted + cur.n_comparison) if cur.n_contacted else 0.0
    already = _reaches(_detectable(e_t[-1] + e_c[-1], share, nominal_alpha_at(now), power),
                       target_hr)
    if e_t[-1] + e_c[-1] <= 0:
        return Projection(target_hr, power, (), None, False, "no events yet")
    arms = [[n_t[-1], e_t[-1], _accrual(n_t), _event_rate(n_t, e_t)],
            [n_c[-1], e_c[-1], _accrual(n_c), _event_rate(n_c, e_c)]]
    rows, expected = [], None
    for step in range(1, horizon + 1):
        for arm in arms:
            n, ev, accrual, rate = arm
            before = n - ev
            n += accrual
            ev = min(ev + rate * (before + (n - ev)) / 2, n)
            arm[0], arm[1] = n, ev
        events = arms[0][1] + arms[1][1]
        share = arms[0][0] / (arms[0][0] + arms[1][0]) if arms[0][0] else 0.0
        alpha = nominal_alpha_at(now + step)
        low = _detectable(events, share, alpha, power)
        quarter = shift_quarter(cur.quarter, step)
        rows.append({"quarter": quarter, "look": now + step,
                     "n_contacted": arms[0][0], "n_comparison": arms[1][0],
                     "events_contacted": arms[0][1], "events_comparison": arms[1][1],
                     "nominal_alpha": alpha,
                     "detectable_hr": low if low > 0 else None})
        if expected is None and _reaches(low, target_hr):
            expected = quarter
    reason = None if (expected or already) else f"not within {horizon // 4} years"
    return Projection(target_hr, power, tuple(rows), expected, already, reason)

