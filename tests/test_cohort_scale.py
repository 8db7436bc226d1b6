"""The cohort builder's scalable parts: the candidate sweep, the sampler, and the same cohort as
the builder before them when the sampler is the one it used.

The builder before (which evaluated every rule for the whole register at every index date and
drew one uniform key per candidate per set) wrote tests/data/cohort_before/ for the shared
simulated warehouse (20,000 persons, seed 11) and seed 20261125. With that sampler put back,
today's builder must write the same cohort, attrition and balance. The default sampler draws
``m`` of ``n`` in O(m) per set instead of O(n) (the old cost grew with persons x contacted),
so its samples, and hence the cohort, differ for the same seed; it is tested here to give
every m-subset the same chance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.cohort import build, load_definition
from evaluation.cohort.warehouse import open_warehouse, to_days
from evaluation.progress import set_quiet

ROOT = Path(__file__).resolve().parents[1]
DEFINITION = ROOT / "cohorts" / "knock_knock.toml"
BEFORE = Path(__file__).resolve().parent / "data" / "cohort_before"


def _legacy_draw(rng, rows, n, m):
    """The sampler of the builder before: the m smallest of n uniform keys per set."""
    keys = rng.random((rows, n))
    return np.argpartition(keys, m - 1, axis=1)[:, :m] if m < n else np.tile(np.arange(n), (rows, 1))


def test_builder_with_the_old_sampler_writes_the_old_cohort(simulated_warehouse, monkeypatch):
    monkeypatch.setattr(build, "draw_without_replacement", _legacy_draw)
    set_quiet(True)
    try:
        result = build.build_cohort(simulated_warehouse, load_definition(DEFINITION), seed=20261125)
    finally:
        set_quiet(False)
    for name in ("cohort", "attrition", "balance"):
        before = pd.read_parquet(BEFORE / f"{name}.parquet")
        got = getattr(result, name).reset_index(drop=True)
        if name == "cohort":  # written since: the intention-to-treat follow-up (test_cohort.py)
            assert [c for c in got.columns if c not in before.columns] == ["end_date_itt", "end_reason_itt"]
            got = got[list(before.columns)]
        pd.testing.assert_frame_equal(got, before, check_dtype=False, rtol=1e-9)


@pytest.mark.parametrize("n, m", [(9, 2), (40, 3)])
def test_sampler_gives_every_subset_the_same_chance(n, m):
    rng = np.random.default_rng(5)
    rows = 30000
    draws = build.draw_without_replacement(rng, rows, n, m)
    assert draws.shape == (rows, m)
    assert (np.diff(np.sort(draws, axis=1), axis=1) > 0).all()  # no repeats within a set
    # inclusion of each value: rows * m / n expected; pairs of values (9 choose 2) likewise
    counts = np.bincount(draws.ravel(), minlength=n)
    assert stats.chisquare(counts).pvalue > 1e-3
    if m == 2:
        pair = np.sort(draws, axis=1) @ np.array([n, 1])
        pcounts = np.unique(pair, return_counts=True)[1]
        assert len(pcounts) == n * (n - 1) // 2
        assert stats.chisquare(pcounts).pvalue > 1e-3


def test_sampler_small_tiers_and_whole_tiers():
    rng = np.random.default_rng(1)
    assert (build.draw_without_replacement(rng, 3, 4, 4) == np.arange(4)).all()
    few = build.draw_without_replacement(rng, 100, 10, 4)  # n <= 4 m: keys
    assert (np.diff(np.sort(few, axis=1), axis=1) > 0).all() and few.max() < 10


def test_candidate_sweep_equals_the_rules_at_every_date(simulated_warehouse):
    d = load_definition(DEFINITION)
    tables = {"persons", "contacts", "residence", "vital", "custody", "charges"}
    con = open_warehouse(simulated_warehouse, tables)
    data_end = build.latest_date(con, tables)
    set_quiet(True)
    try:
        pool = build._load_pool(con, d, d.start, data_end, data_end)
    finally:
        set_quiet(False)
    sweep = build._CandidateSweep(pool, d)
    days = np.arange(to_days(d.start), to_days(data_end), 37)
    for t in days:
        rules = build._rules_at(pool, d, int(t))
        expected = np.ones(pool.n, bool)
        for name, _ in build.RULES:
            expected &= rules[name]
        expected &= pool.first_any > t
        assert np.array_equal(sweep.candidates(int(t)), np.flatnonzero(expected)), t
    con.close()
