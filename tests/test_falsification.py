"""Empirical calibration, Rosenbaum bounds, subgroups and the gates per estimate."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evaluation.analysis import falsification as F
from evaluation.analysis.run import gates_per_estimate


def test_fit_null_recovers_mean_and_spread_of_systematic_error():
    rng = np.random.default_rng(1)
    se = np.full(400, 0.05)
    b = rng.normal(0.2, 0.1, 400) + rng.normal(0, 0.05, 400)
    null = F.fit_null(b, se)
    assert null["n"] == 400
    assert null["mean"] == pytest.approx(0.2, abs=0.02)
    assert null["sd"] == pytest.approx(0.1, abs=0.02)
    # EASE of N(0.2, 0.1): sigma sqrt(2/pi) exp(-mu^2/2sigma^2) + mu (1 - 2 Phi(-mu/sigma))
    assert null["ease"] == pytest.approx(F.expected_absolute_error(null["mean"], null["sd"]))
    assert F.expected_absolute_error(0.2, 0.1) == pytest.approx(0.2 * (1 - 2 * 0.02275) + 0.1 * math.sqrt(2 / math.pi) * math.exp(-2), rel=1e-3)


def test_fit_null_without_spread_is_the_mean_and_empty_gives_none():
    null = F.fit_null(np.array([0.1, 0.1]), np.array([0.2, 0.2]))
    assert null["sd"] == 0.0 and null["ease"] == pytest.approx(0.1, abs=1e-4)
    assert F.fit_null(np.array([]), np.array([]))["ease"] is None


def _sets(n_sets, k, p_treated, p_control, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sets):
        rows.append({"set_id": s, "treated": 1, "event": int(rng.random() < p_treated)})
        rows += [{"set_id": s, "treated": 0, "event": int(rng.random() < p_control)} for _ in range(k)]
    return pd.DataFrame(rows)


def test_rosenbaum_gamma_grows_with_the_strength_of_the_effect():
    weak = F.rosenbaum_gamma(_sets(400, 3, 0.25, 0.35))
    strong = F.rosenbaum_gamma(_sets(400, 3, 0.10, 0.40))
    assert weak["direction"] == strong["direction"] == "fewer"
    assert strong["gamma"] > weak["gamma"] > 1
    assert strong["p_value"] < 0.05


def test_rosenbaum_without_an_effect_gives_no_gamma():
    r = F.rosenbaum_gamma(_sets(300, 3, 0.3, 0.3, seed=4))
    assert r["p_value"] > 0.05 and r["gamma"] is None


def test_rosenbaum_bound_at_gamma_one_is_the_exact_permutation_mean():
    b = _sets(50, 2, 0.5, 0.5, seed=2)
    r = F.rosenbaum_gamma(b)
    g = b.groupby("set_id")["event"]
    inf = (g.sum() > 0) & (g.sum() < 3)
    assert r["sets"] == int(inf.sum())
    assert r["expected"] == pytest.approx(float((g.sum()[inf] / 3).sum()))


def test_interaction_test_is_cochran_q():
    q, df, p = F.interaction_test(np.array([0.0, 0.1]), np.array([0.05, 0.05]))
    assert df == 1 and q == pytest.approx(2.0)  # (0.05/0.05)^2 * 2
    assert p == pytest.approx(0.1573, abs=1e-3)


def test_subgroups_hidden_below_the_events_gate():
    frame = pd.DataFrame({"set_id": [0, 0, 1, 1], "treated": [1, 0, 1, 0], "time": [10.0, 20, 30, 40],
                          "status": [1, 0, 1, 1], "person_id": list("abcd"), "sex": ["F", "F", "M", "M"]})
    out = F.subgroup_effects(frame, F.subgroup_of_sets(frame, "sex"), 365, weights=None, min_events=20,
                             replicates=10, seed=1)
    assert out["shown"] is False and out["groups"] == [] and out["reason"] == "too_few_events"


def test_subgroup_of_a_set_is_its_contacted_persons():
    rows = pd.DataFrame({"set_id": [0, 0, 1, 1], "treated": [1, 0, 1, 0], "age_band": ["14-17", "18-21", "22-25", "14-17"]})
    assert F.subgroup_of_sets(rows, "age_band").tolist() == ["14-17", "14-17", "22-25", "22-25"]


def test_proportional_hazards_gates_only_the_hazard_ratio():
    g = gates_per_estimate(True, {"balance": True, "overlap": True, "proportional_hazards": False,
                                  "enough_events": True}, [])
    assert g["passed"] is True and g["by_estimate"]["risk_difference"] is True
    assert g["by_estimate"]["rmst_difference"] is True and g["by_estimate"]["hazard_ratio"] is False
    g = gates_per_estimate(True, {"balance": False, "proportional_hazards": True}, [])
    assert not any(g["by_estimate"].values())
    assert g["protects"]["proportional_hazards"] == ["hazard_ratio"]


def test_failed_negative_controls_block_every_estimate_and_none_does_not():
    from evaluation.analysis.run import add_gate

    g = gates_per_estimate(True, {"balance": True}, [])
    add_gate(g, "negative_controls", False, "negative controls: too much systematic error")
    assert g["passed"] is False and g["reasons"] == ["negative controls: too much systematic error"]
    g = gates_per_estimate(True, {"balance": True}, [])
    add_gate(g, "negative_controls", None, None)
    assert g["passed"] is True


def test_findings_ignore_the_ph_gate_for_the_risk_difference():
    from evaluation.report.findings import failed_gates

    g = gates_per_estimate(True, {"balance": True, "overlap": True, "proportional_hazards": False,
                                  "enough_events": True}, [])
    assert failed_gates({"gates": g}) == []
    old_style = {"balance": True, "proportional_hazards": False, "passed": False}
    assert failed_gates({"gates": old_style}) == ["proportional_hazards"]


# -- the reports' disclosure checker on the method's own checks ------------------------------
@pytest.fixture(scope="module")
def factory_checker(tmp_path_factory):
    from bundle_factory import make_bundle

    from evaluation.report.bundle import Bundle
    from evaluation.report.cells import build_checker

    bundle = Bundle.open(make_bundle(tmp_path_factory.mktemp("checks") / "results"))
    return build_checker(bundle, "2026Q3", 5)


def test_negative_control_with_few_events_is_hidden_with_its_estimates(factory_checker):
    check = factory_checker
    assert check.suppressed("negative_control/negative_control_accidental_injury/events/contacted")
    assert check.suppressed("negative_control/negative_control_accidental_injury/risk_difference")
    assert check.suppressed("negative_control/negative_control_accidental_injury/log_risk_ratio")
    assert not check.suppressed("negative_control/negative_control_traffic_fine/events/contacted")
    assert not check.suppressed("negative_control/negative_control_traffic_fine/risk_difference")
    # the null rests on the events of the controls that entered it (not the small one)
    assert not check.suppressed("negative_control/null/ease")
    assert set(check.entries["negative_control/null/ease"].keys) == {
        f"negative_control/negative_control_traffic_fine/events/{arm}" for arm in ("contacted", "comparison")}


def test_subgroup_events_are_parts_of_the_outcome_events(factory_checker):
    check = factory_checker
    # reoffending: 98 contacted events = 39 women + 59 men, one equation of the checker
    total, parts = "outcome/reoffending_any/events/contacted", [
        f"subgroup/reoffending_any/sex/{g}/events/contacted" for g in ("F", "M")]
    assert check.entries[parts[0]].value == 39
    assert any(set(eq) == {total, *parts} for eq in check.equations)
    assert not check.suppressed("subgroup/reoffending_any/sex/M/events/contacted")
    assert not check.suppressed("subgroup/reoffending_any/sex/M/risk_difference")
    for g in ("F", "M"):  # a group's estimate is shown only with both its counts
        prefix = f"subgroup/reoffending_any/sex/{g}"
        assert check.suppressed(f"{prefix}/risk_difference") == (
            check.suppressed(f"{prefix}/events/contacted") or check.suppressed(f"{prefix}/events/comparison"))
    # recruitment: 3 contacted events = 1 + 2; both small, and neither may be derived from the
    # published total and the other group
    assert check.suppressed("subgroup/group_registration/sex/F/events/contacted")
    assert check.suppressed("subgroup/group_registration/sex/M/events/contacted")
    assert check.suppressed("subgroup/group_registration/sex/M/risk_difference")
    assert check.suppressed("subgroup/group_registration/sex/interaction")


def test_weights_extremes_and_small_estimand_arms_are_hidden(factory_checker):
    check = factory_checker
    # the minimum and maximum weight are one person-period's own values
    assert check.suppressed("estimand/reoffending_any/weights/1/before")
    assert check.suppressed("estimand/reoffending_any/weights/0/after")
    assert not check.suppressed("estimand/reoffending_any/weights/0.5/before")
    from evaluation.report.cells import estimate_key

    row = {"analysis": "per_protocol", "model": "cumulative_incidence", "term": None, "arm": "comparison",
           "time": 183.0}
    # 3 per-protocol comparison events by 6 months in recruitment: hidden; 181 in reoffending: shown
    assert check.suppressed(estimate_key("group_registration", row))
    assert not check.suppressed(estimate_key("reoffending_any", row))
    assert not check.suppressed("rosenbaum/reoffending_any")
    assert check.suppressed("placebo/reoffending_any/events/contacted") is False
