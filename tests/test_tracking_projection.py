"""The projection of the minimum detectable effect (evaluation.tracking.projection)."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from evaluation.survival.diagnostics import min_detectable_hr
from evaluation.tracking.calendar import quarter_end, quarters_between, shift_quarter
from evaluation.tracking.projection import Look, project_detectable_effect
from evaluation.tracking.spending import planned_boundaries


def _looks(quarters: int, n_t: float, n_c: float, p_event: float) -> list[Look]:
    """Accrual n_t / n_c per quarter; each quarter a share p_event of those at risk has an event."""
    looks, nt, nc, et, ec = [], 0.0, 0.0, 0.0, 0.0
    for k, q in enumerate(quarters_between("2023Q3", shift_quarter("2023Q3", quarters - 1))):
        et += p_event * (nt - et + n_t / 2)
        ec += p_event * (nc - ec + n_c / 2)
        nt, nc = nt + n_t, nc + n_c
        looks.append(Look(q, nt, nc, et, ec))
    return looks


def _needed_events(share: float, target: float, alpha: float, power: float = 0.8) -> float:
    z = stats.norm.ppf(power) + stats.norm.ppf(1 - alpha / 2)
    return z**2 / (share * (1 - share) * math.log(target) ** 2)


def test_expected_quarter_is_the_first_with_enough_events():
    looks = _looks(6, 40, 160, 0.05)
    proj = project_detectable_effect(looks, lambda look: 0.05)
    assert proj.expected_quarter is not None and not proj.already_detectable
    rows = {r["quarter"]: r for r in proj.rows}
    hit = rows[proj.expected_quarter]
    share = hit["n_contacted"] / (hit["n_contacted"] + hit["n_comparison"])
    need = _needed_events(share, 0.8, 0.05)
    assert hit["events_contacted"] + hit["events_comparison"] >= need
    before = rows.get(shift_quarter(proj.expected_quarter, -1))
    if before is not None:
        assert before["events_contacted"] + before["events_comparison"] < need
    # the accrual continues at 40 + 160 a quarter
    first = proj.rows[0]
    assert first["n_contacted"] == pytest.approx(looks[-1].n_contacted + 40)
    assert first["n_comparison"] == pytest.approx(looks[-1].n_comparison + 160)
    assert hit["detectable_hr"] == pytest.approx(min_detectable_hr(
        hit["events_contacted"] + hit["events_comparison"], share)[0])


def test_boundaries_of_repeated_looks_delay_the_answer():
    looks = _looks(6, 40, 160, 0.05)
    fixed = project_detectable_effect(looks, lambda look: 0.05)
    b = planned_boundaries(20)
    honest = project_detectable_effect(looks, b.nominal_alpha_at)
    assert honest.expected_quarter > fixed.expected_quarter
    assert all(r["nominal_alpha"] < 0.05 for r in honest.rows)


def test_not_within_three_years_and_no_events():
    slow = project_detectable_effect(_looks(4, 3, 6, 0.01), lambda look: 0.05)
    assert slow.expected_quarter is None and slow.reason == "not within 3 years"
    assert len(slow.rows) == 12
    none = project_detectable_effect([Look("2024Q1", 10, 20, 0, 0)], lambda look: 0.05)
    assert none.expected_quarter is None and none.reason == "no events yet"


def test_higher_is_better_uses_the_inverse_target():
    looks = _looks(6, 40, 160, 0.05)
    a = project_detectable_effect(looks, lambda look: 0.05, target_hr=0.8)
    b = project_detectable_effect(looks, lambda look: 0.05, target_hr=1.25)
    assert a.expected_quarter == b.expected_quarter


def test_quarter_calendar():
    assert quarter_end("2026Q3").isoformat() == "2026-09-30"
    assert quarter_end("2024Q1").isoformat() == "2024-03-31"
    assert shift_quarter("2026Q4", 1) == "2027Q1" and shift_quarter("2027Q1", -1) == "2026Q4"
    assert quarters_between("2023Q3", "2024Q2") == ["2023Q3", "2023Q4", "2024Q1", "2024Q2"]
