"""The per-protocol censoring weights and the intention-to-treat follow-up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.analysis import estimands as est
from evaluation.analysis.bootstrap import cumulative_incidence_matrix


def _toy(n: int = 3000, informative: bool = True, seed: int = 1):
    """Comparison persons with a binary time-varying risk marker that raises both the event
    hazard and (when ``informative``) the hazard of being contacted; contacted persons with the
    same event hazard as the comparison (no effect), so the truth is a risk difference of 0."""
    rng = np.random.default_rng(seed)
    rows = []
    for treated in (1, 0):
        high = rng.random(n) < 0.3  # marker from the start
        base = np.where(high, 1 / 200, 1 / 1500)
        t_event = rng.exponential(1 / base)
        if treated or not informative:
            t_contact = np.full(n, np.inf)
        else:
            t_contact = rng.exponential(np.where(high, 250.0, 5000.0))
        end = np.minimum(730.0, t_contact)
        time = np.ceil(np.minimum(t_event, end))
        status = (t_event <= end).astype(int)
        rows.append(pd.DataFrame({
            "person_id": [f"{'c' if treated else 'k'}{i}" for i in range(n)], "treated": treated,
            "time": np.maximum(time, 1), "status": status, "high": high.astype(int),
            "censored_by_contact": (treated == 0) & (status == 0) & (t_contact < 730),
            "index_date": pd.Timestamp("2024-01-01"), "age_at_index": 18.0, "analysis_weight": 1.0,
        }))
    frame = pd.concat(rows, ignore_index=True)
    marker = dict(zip(frame["person_id"], frame["high"]))

    def covariates_at(person_id, at):
        return pd.DataFrame({"high": [marker[p] for p in person_id]})

    return frame, covariates_at


def _naive_risk(frame, arm):
    m = frame["treated"].to_numpy() == arm
    return cumulative_incidence_matrix(frame["time"].to_numpy(float)[m], frame["status"].to_numpy(int)[m],
                                       np.ones((1, m.sum())), (365,))[0, 0]


def test_ipcw_removes_the_bias_of_informative_censoring():
    frame, cov = _toy()
    unweighted = _naive_risk(frame, 1) - _naive_risk(frame, 0)
    cw = est.censoring_weights(frame, cov, interval_days=30, truncate=(0.0, 1.0))
    r1, r0 = est.weighted_risks(cw, (365,))
    assert abs(unweighted) > 0.02  # the censoring removes high-risk comparison persons
    assert abs(r1[0] - r0[0]) < 0.4 * abs(unweighted)
    assert cw.n_censored > 100
    # the denominator model finds the marker
    coef = cw.model.set_index("term")["estimate"]
    assert coef["high"] > 2


def test_no_later_contact_gives_unit_weights_and_the_plain_estimate():
    frame, _cov = _toy(informative=False)

    def never_called(*_):
        raise AssertionError("covariates are not needed without censoring")

    cw = est.censoring_weights(frame, never_called, interval_days=30)
    assert cw.n_censored == 0
    assert np.allclose(cw.rows["ipcw"], 1.0)
    r1, r0 = est.weighted_risks(cw, (365,))
    assert r0[0] == pytest.approx(_naive_risk(frame, 0), rel=1e-12)
    assert r1[0] == pytest.approx(_naive_risk(frame, 1), rel=1e-12)


def test_person_periods_split_follow_up_without_losing_time():
    comp = pd.DataFrame({"time": [1.0, 30.0, 31.0, 95.0], "status": [1, 0, 2, 0],
                         "censored_by_contact": [False, True, False, True]})
    p = est.person_periods(comp, 30)
    assert p.groupby("row").size().tolist() == [1, 1, 2, 4]
    length = (p["stop"] - p["start"].clip(lower=0)).groupby(p["row"]).sum()
    assert length.tolist() == [1.0, 30.0, 31.0, 95.0]
    last = p.groupby("row").tail(1)
    assert last["status"].tolist() == [1, 0, 2, 0]
    assert last["censored"].tolist() == [0, 1, 0, 1]
    assert p["censored"].sum() == 2


def test_truncation_caps_the_weights_at_the_stated_percentiles():
    frame, cov = _toy()
    cw = est.censoring_weights(frame, cov, interval_days=30, truncate=(0.05, 0.95))
    d = cw.distribution.set_index("quantile")
    assert d.loc[1.0, "after_truncation"] <= d.loc[1.0, "before_truncation"]
    w = cw.rows.loc[cw.rows["treated"] == 0, "ipcw"]
    assert w.max() == pytest.approx(np.quantile(w, 0.95), rel=0.05)


def test_one_step_bootstrap_is_close_to_refitting():
    """The replicate coefficients of one Newton step agree with a full refit on the resample."""
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    x = np.column_stack([np.ones(4000), rng.normal(size=4000)])
    y = (rng.random(4000) < 1 / (1 + np.exp(-(-2 + 0.8 * x[:, 1])))).astype(float)
    beta, info, scores, _ = est._logit(y, x)
    counts = rng.multinomial(4000, np.full(4000, 1 / 4000), size=5).astype(float)
    approx = est._one_step(beta, info, scores, counts)
    for b in range(5):
        exact = sm.GLM(y, x, family=sm.families.Binomial(), freq_weights=counts[b]).fit().params
        np.testing.assert_allclose(approx[b], exact, atol=0.02)


def test_bootstrap_se_is_close_to_the_spread_of_the_estimate():
    frame, cov = _toy(n=1500)
    cw = est.censoring_weights(frame, cov, interval_days=30)
    boot = est.bootstrap_ipcw(cw, (365,), replicates=200, seed=2)
    assert 0.005 < boot["se_rd"].iloc[0] < 0.05
    assert boot["se_risk_comparison"].iloc[0] > 0


def test_itt_cohort_uses_the_follow_up_not_ended_by_later_contact():
    cohort = pd.DataFrame({"end_date": pd.to_datetime(["2025-01-01", "2025-06-01"]),
                           "end_reason": ["contacted", "end_of_data"],
                           "end_date_itt": pd.to_datetime(["2026-09-30", "2025-06-01"]),
                           "end_reason_itt": ["end_of_data", "end_of_data"]})
    itt = est.itt_cohort(cohort)
    assert itt["end_reason"].tolist() == ["end_of_data", "end_of_data"]
    assert itt["end_date"].iloc[0] == pd.Timestamp("2026-09-30")
    assert est.primary_cohort(cohort, "per_protocol") is cohort


def test_itt_needs_the_itt_follow_up_when_a_later_contact_ended_follow_up():
    from evaluation.errors import InputError

    cohort = pd.DataFrame({"end_date": pd.to_datetime(["2025-01-01"]), "end_reason": ["contacted"]})
    with pytest.raises(InputError, match="end_date_itt"):
        est.itt_cohort(cohort)
    plain = cohort.assign(end_reason="death")
    assert est.itt_cohort(plain) is plain
