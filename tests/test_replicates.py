"""The binned replicate engine (evaluation.analysis.bootstrap, evaluation.analysis._kernels and
the per-protocol bootstrap in evaluation.analysis.estimands) against the dense formulation it
replaced (tests/replicates_reference.py) and against statsmodels' logistic regression.

The data have tied times, late entries, competing events, zero and non-integer weights and
persons drawn 0 times; the engine adds the same terms in another order, so the tolerances are
those of floating-point rounding (1e-10 relative unless stated).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import replicates_reference as dense
from test_estimands import _toy

from evaluation.analysis import bootstrap as bs
from evaluation.analysis import estimands as est

HORIZONS = (30, 183, 365, 730)


def _rows(n: int, seed: int, entries: bool = True):
    rng = np.random.default_rng(seed)
    time = rng.integers(1, 900, n).astype(float)  # daily times: many ties
    status = rng.choice([0, 1, 2], n, p=[0.5, 0.35, 0.15])
    entry = None
    if entries:
        entry = np.where(rng.random(n) < 0.4, rng.integers(-1, 600, n), -1).astype(float)
        entry = np.minimum(entry, time - 1)
    return time, status, entry


@pytest.mark.parametrize("entries", [False, True])
def test_cumulative_incidence_matrix_equals_the_dense_estimator(entries):
    time, status, entry = _rows(2500, 1, entries)
    rng = np.random.default_rng(2)
    weights = rng.uniform(0.0, 3.0, (9, len(time)))
    weights[:, rng.random(len(time)) < 0.2] = 0.0  # rows drawn 0 times
    weights[3] = 0.0  # a replicate with no weight at all
    horizons = (0, 1, *HORIZONS, 2000)  # before the first event and after the last time
    new = bs.cumulative_incidence_matrix(time, status, weights, horizons, entry)
    old = dense.cumulative_incidence_matrix(time, status, weights, horizons, entry)
    np.testing.assert_allclose(new, old, rtol=1e-10, atol=1e-15)
    assert (new[:, -1] > 0.2).all() or (new[3] == 0).all()


def test_an_arm_without_events_by_the_horizons_has_zero_incidence():
    time = np.array([5.0, 40.0, 40.0, 800.0])
    status = np.array([0, 0, 2, 1])
    out = bs.cumulative_incidence_matrix(time, status, np.ones((2, 4)), (30, 365))
    np.testing.assert_array_equal(out, dense.cumulative_incidence_matrix(time, status, np.ones((2, 4)), (30, 365)))
    assert (out == 0).all()


def test_resampled_incidence_equals_the_dense_weight_matrix():
    time, status, entry = _rows(3000, 3)
    rng = np.random.default_rng(4)
    person = rng.integers(0, 1200, len(time))  # persons with several rows
    base = rng.uniform(0.2, 4.0, len(time))
    draws = rng.multinomial(1200, np.full(1200, 1 / 1200), size=40)
    assert (draws == 0).mean() > 0.3
    new = bs.resampled_cumulative_incidence(bs.counts_by_person(draws), person, base, time, status, HORIZONS, entry)
    old = dense.cumulative_incidence_matrix(time, status, draws[:, person] * base[None, :], HORIZONS, entry)
    np.testing.assert_allclose(new, old, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("weights", [None, "w"])
def test_bootstrap_contrasts_equal_the_dense_bootstrap(weights):
    time, status, _ = _rows(2000, 5, entries=False)
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"person_id": [f"p{i}" for i in rng.integers(0, 900, len(time))],
                          "treated": rng.integers(0, 2, len(time)), "time": time, "status": status,
                          "w": rng.uniform(0.3, 3.0, len(time))})
    new = bs.bootstrap_contrasts(frame, HORIZONS, weights=weights, replicates=120, seed=11)
    old = dense.bootstrap_contrasts(frame, HORIZONS, weights=weights, replicates=120, seed=11)
    pd.testing.assert_frame_equal(new, old, rtol=1e-10, atol=0)


def test_logit_equals_statsmodels_coefficients_information_scores_and_errors():
    rng = np.random.default_rng(7)
    x = np.column_stack([np.ones(5000), rng.normal(size=(5000, 3)), rng.integers(0, 2, 5000)])
    y = (rng.random(5000) < 1 / (1 + np.exp(-(-2.5 + x[:, 1:] @ [0.5, -0.3, 0.1, 1.0])))).astype(float)
    mine, ref = est._logit(y, x), dense.logit(y, x)
    for a, b in zip(mine, ref):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_period_logit_on_counts_equals_the_fit_on_person_periods():
    rng = np.random.default_rng(8)
    period = rng.integers(0, 24, 20000)
    years = np.arange(24) * 30 / 365.25
    x_period = np.column_stack([np.ones(24), years, years**2])
    y = (rng.random(20000) < 0.02 + 0.01 * years[period]).astype(float)
    beta, info, scores = est._period_logit(y, period, x_period)
    ref = dense.logit(y, x_period[period])
    np.testing.assert_allclose(beta, ref[0], rtol=1e-9)
    np.testing.assert_allclose(info, ref[1], rtol=1e-9)
    np.testing.assert_allclose(scores, ref[2], rtol=1e-9, atol=1e-12)


def test_censoring_weights_equal_the_dense_computation():
    frame, cov = _toy(n=2500, seed=4)
    frame["age_at_index"] = np.random.default_rng(1).uniform(14, 25, len(frame))
    cw = est.censoring_weights(frame, cov, interval_days=30, truncate=(0.0, 1.0))
    d = cw._design
    comp = frame[frame["treated"] == 0].reset_index(drop=True)
    y = est.person_periods(comp, 30)["censored"].to_numpy(float)
    x_num = d["x_period"][d["period"]]
    b_num = dense.logit(y, x_num)[0]
    b_den, _, s_den, se_den = dense.logit(y, d["x_den"])
    np.testing.assert_allclose(d["b_num"], b_num, rtol=1e-9)
    np.testing.assert_allclose(d["b_den"], b_den, rtol=1e-9)
    np.testing.assert_allclose(d["s_den"], s_den, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(cw.model["std_error"], se_den, rtol=1e-9)
    raw = dense.cumulate(dense.ratios(x_num, d["x_den"], b_num, b_den), d["row"])[:, 0]
    np.testing.assert_allclose(cw.rows.loc[cw.rows["treated"] == 0, "ipcw"], raw, rtol=1e-9)
    assert raw.std() > 0.05  # the weights vary: the comparison is not trivial


@pytest.mark.parametrize("informative", [True, False])
def test_ipcw_bootstrap_equals_the_dense_bootstrap(informative):
    frame, cov = _toy(n=1200, informative=informative, seed=5)
    rng = np.random.default_rng(9)
    frame["analysis_weight"] = rng.uniform(0.5, 2.0, len(frame))
    frame["age_at_index"] = rng.uniform(14, 25, len(frame))
    cw = est.censoring_weights(frame, cov, interval_days=30)
    horizons = (90, 365, 500)  # 500: periods from day 510 on are left out of the replicates
    new = est.bootstrap_ipcw(cw, horizons, replicates=60, seed=3)
    old = dense.bootstrap_ipcw(cw, horizons, replicates=60, seed=3)
    pd.testing.assert_frame_equal(new, old, rtol=1e-9, atol=0)
    assert (new["se_rd"] > 0).all()


def test_the_kernels_exp_is_within_two_units_in_the_last_place():
    from evaluation.analysis._kernels import FLOOR, one_plus_exp_capped

    z = np.r_[np.random.default_rng(10).uniform(-60.0, 60.0, 200_000), -40.0, 40.0, 0.0, -1e-300,
              27.6, 27.7, -36.8, -37.5, 709.0, -745.0, 1e308]
    mine = one_plus_exp_capped(z)
    with np.errstate(over="ignore"):
        exact = np.minimum(1.0 + np.exp(z), 1.0 / FLOOR)
    assert np.max(np.abs(mine - exact) / np.spacing(exact)) <= 2


@pytest.mark.parametrize("ids", [
    ["p10", "p9", "p10", "Ø2", "æ1", "p9", "A"],
    [12, 3, 12, 100, 3],
    pd.Series(["b", None, "a", "b", None], dtype=object),
])
def test_person_index_is_numpys_sorted_unique_of_the_ids_as_text(ids):
    n, position = bs.person_index(ids if isinstance(ids, pd.Series) else pd.Series(ids))
    distinct, inverse = np.unique(pd.Series(ids).astype(str).to_numpy(), return_inverse=True)
    assert n == len(distinct)
    np.testing.assert_array_equal(position, inverse)
