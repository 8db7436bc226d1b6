"""The person-level bootstrap of the matched risk difference (evaluation.analysis.bootstrap)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.analysis.bootstrap import bootstrap_contrasts, cumulative_incidence_matrix
from evaluation.survival import SurvivalSpec, fit_all
from evaluation.survival.nonparametric import aalen_johansen

HORIZONS = (183, 365, 730)


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    treated = rng.integers(0, 2, n)
    time = rng.integers(1, 900, n).astype(float)
    status = rng.choice([0, 1, 2], n, p=[0.5, 0.38, 0.12])
    return pd.DataFrame({"person_id": [f"p{i}" for i in range(n)], "treated": treated,
                         "time": time, "status": status})


def test_matrix_estimator_equals_the_engines_aalen_johansen_with_weights():
    f = _frame(400, 1)
    w = np.random.default_rng(2).uniform(0.2, 3.0, len(f))
    mine = cumulative_incidence_matrix(f["time"].to_numpy(), f["status"].to_numpy(), w[None, :], HORIZONS)[0]
    aj = aalen_johansen(f["time"], f["status"], weights=w)
    ref = [aj.loc[aj["time"] <= h, "estimate"].iloc[-1] for h in HORIZONS]
    np.testing.assert_allclose(mine, ref, rtol=1e-12)


def test_bootstrap_agrees_with_delta_method_when_every_person_appears_once():
    f = _frame(1500, 3)
    boot = bootstrap_contrasts(f, HORIZONS, weights=None, replicates=400, seed=1)
    tidy = fit_all(f, SurvivalSpec(time="time", event="status", treatment="treated",
                                   horizons=HORIZONS)).tidy()
    delta = tidy[tidy["model"] == "risk_difference"].set_index("time")["std_error"]
    for h, se in zip(boot["time"], boot["se_rd"]):
        # 400 replicates: the SE of a bootstrap SE is about 3.5%; allow 15%
        assert abs(se / delta.loc[h] - 1) < 0.15


def test_reused_persons_widen_the_standard_error():
    once = _frame(800, 4)
    twice = pd.concat([once, once], ignore_index=True)  # every person in two matched sets
    boot = bootstrap_contrasts(twice, HORIZONS, weights=None, replicates=400, seed=1)
    tidy = fit_all(twice, SurvivalSpec(time="time", event="status", treatment="treated",
                                       horizons=HORIZONS)).tidy()
    delta = tidy[tidy["model"] == "risk_difference"].set_index("time")["std_error"]
    # rows treated as independent understate the SE by about sqrt(2); the bootstrap does not
    ratios = [se / delta.loc[h] for h, se in zip(boot["time"], boot["se_rd"])]
    assert all(1.2 < r < 1.65 for r in ratios), ratios


def test_bootstrap_is_deterministic_for_a_seed():
    f = _frame(300, 5)
    a = bootstrap_contrasts(f, HORIZONS, weights=None, replicates=50, seed=7)
    b = bootstrap_contrasts(f, HORIZONS, weights=None, replicates=50, seed=7)
    pd.testing.assert_frame_equal(a, b)


def test_kept_bootstrap_counts_are_the_draws_made_anew():
    from evaluation.analysis import bootstrap

    first = bootstrap.bootstrap_counts(1234, 50, seed=9)
    bootstrap._KEPT.clear()
    again = bootstrap.bootstrap_counts(1234, 50, seed=9)
    assert first.shape == (1234, 50) and np.array_equal(first, again) and again is not first
    assert bootstrap.bootstrap_counts(1234, 50, seed=9) is again  # kept, not drawn again
    assert not first.flags.writeable  # no caller can change the draws another one reads
    other = bootstrap.bootstrap_counts(1234, 50, seed=10)
    assert not np.array_equal(other, first) and other.sum(axis=0).tolist() == [1234] * 50


def test_bootstrap_counts_are_multinomial_with_equal_probabilities():
    """n persons drawn with replacement: each count is Binomial(n, 1/n) (mean 1, variance
    1 - 1/n), two persons' counts have covariance -1/n, and a replicate sums to n."""
    from evaluation.analysis.bootstrap import bootstrap_counts

    n, b = 40, 20000
    c = bootstrap_counts(n, b, seed=3)
    assert (c.sum(axis=0) == n).all()
    se = np.sqrt((1 - 1 / n) / b)  # of the mean count of one person
    assert np.abs(c.mean(axis=1) - 1).max() < 5 * se
    var = c.var(axis=1, ddof=1)
    assert np.abs(var - (1 - 1 / n)).max() < 5 * np.sqrt(2 / b) * (1 - 1 / n) + 0.02
    cov = np.cov(c)[np.triu_indices(n, 1)]
    assert abs(cov.mean() + 1 / n) < 0.003
    # P(count = 0) = (1 - 1/n)^n
    p0 = (1 - 1 / n) ** n
    assert abs((c == 0).mean() - p0) < 5 * np.sqrt(p0 * (1 - p0) / (n * b))
