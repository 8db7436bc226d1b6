"""The keyed outcome derivation, naive population and censoring-model covariates against the
merge-based oracle (:mod:`oracle_outcomes`, the earlier implementation) and the cohort
builder's covariates on text ids, on the shared simulated warehouse (20,000 persons)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import oracle_outcomes as oracle
import pandas as pd
import pytest

from evaluation.analysis.cohortdata import naive_population
from evaluation.analysis.estimands import definition_covariates_at, itt_cohort
from evaluation.analysis.plan import load_plans
from evaluation.cohort import build_cohort, load_definition
from evaluation.cohort.covariates import TABLES_BY_KIND, compute_covariates
from evaluation.cohort.warehouse import open_warehouse
from evaluation.errors import InputError
from evaluation.keyed import NEVER, Events, PersonKeys, Spells, read_keyed
from evaluation.outcomes import WarehouseTables, derive_outcome
from evaluation.progress import set_quiet

ROOT = Path(__file__).resolve().parents[1]
DEFINITION = ROOT / "cohorts" / "knock_knock.toml"


@pytest.fixture(scope="module")
def built(simulated_warehouse):
    set_quiet(True)
    try:
        return build_cohort(simulated_warehouse, load_definition(DEFINITION), seed=2026)
    finally:
        set_quiet(False)


def _specs():
    plans = load_plans(sorted((ROOT / "analyses").glob("*.toml")))
    return [s for p in plans for s in (*p.outcomes, *p.negative_controls)]


def _same(new, old) -> None:
    pd.testing.assert_frame_equal(new.frame, old.frame, check_exact=True)
    for part in ("start_stop", "counts"):
        a, b = getattr(new, part), getattr(old, part)
        assert (a is None) == (b is None), part
        if a is not None:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert new.population == old.population


@pytest.mark.parametrize("cut", ["data_end", "earlier"])
def test_every_outcome_of_every_plan_equals_the_merge_based_derivation(simulated_warehouse, built, cut):
    """Both follow-ups (per protocol, intention to treat), a carried column, and an earlier
    data end (as the placebo index uses): frames, start-stop rows, counts and populations."""
    data_end = pd.Timestamp(built.meta["data_end"])
    if cut == "earlier":
        data_end = data_end - pd.Timedelta(days=400)
    new_t = WarehouseTables.read(simulated_warehouse, data_end)
    old_t = oracle.WarehouseTables.read(simulated_warehouse, data_end)
    c = built.cohort.assign(cohort_row=np.arange(len(built.cohort)))
    specs = _specs()
    assert {s.definition for s in specs} == {
        "first_charge", "first_guilty_decision", "first_education_or_job", "first_registration",
        "first_cooffence_with_member", "first_negative_control_event"}
    n_events = 0
    for cohort in (c, itt_cohort(c)):
        for spec in specs:
            new = derive_outcome(cohort, spec, new_t, extra=("cohort_row",))
            _same(new, oracle.derive_outcome(cohort, spec, old_t, extra=("cohort_row",)))
            n_events += int((new.frame["status"] == 1).sum())
    assert n_events > 100  # the check saw events, not only censored rows


def test_naive_population_and_its_outcomes_equal_the_merge_based_ones(simulated_warehouse, built):
    data_end = pd.Timestamp(built.meta["data_end"])
    contacted = built.cohort[built.cohort["treated"] == 1]
    start = dt.date.fromisoformat(str(built.meta["initiative_start"])[:10])
    new = naive_population(simulated_warehouse, contacted, start, data_end)
    old = oracle.naive_population(simulated_warehouse, contacted, start, data_end)
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    assert (new["treated"] == 0).sum() > 1000 and set(new["end_reason"]) >= {"end_of_data", "contacted"}
    tables, old_t = WarehouseTables.read(simulated_warehouse, data_end), oracle.WarehouseTables.read(
        simulated_warehouse, data_end)
    for spec in _specs()[:3]:
        _same(derive_outcome(new, spec, tables), oracle.derive_outcome(old, spec, old_t))


def test_censoring_model_covariates_equal_the_text_keyed_ones(simulated_warehouse, built):
    """Repeated and new (person, date) pairs, persons declared or not, an unknown person."""
    definition = load_definition(DEFINITION)
    names = [c.name for c in definition.covariates]
    rng = np.random.default_rng(3)
    comp = built.cohort[built.cohort["treated"] == 0]
    ids = np.r_[comp["person_id"].astype(str).to_numpy(), ["f" * 32]]

    def queries(n):
        who = ids[rng.integers(0, len(ids), n)]
        at = (pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 1400, n), unit="D")).to_numpy()
        return who, at

    def expected(who, at):
        con = open_warehouse(simulated_warehouse, {t for c in definition.covariates for t in TABLES_BY_KIND[c.kind]})
        try:
            rows = pd.DataFrame({"row_id": np.arange(len(who)), "person_id": who, "t": at})
            return compute_covariates(con, rows, definition.covariates).reset_index(drop=True)[names]
        finally:
            con.close()

    first, second = queries(3000), queries(3000)
    again = (np.r_[first[0][:500], second[0]], np.r_[first[1][:500], second[1]])
    for persons in (None, comp["person_id"]):
        covariates_at = definition_covariates_at(simulated_warehouse, definition, persons)
        for who, at in (first, again):
            got = covariates_at(who, at)
            assert list(got.columns) == names and (got.dtypes == "int64").all()
            pd.testing.assert_frame_equal(got, expected(who, at).astype("int64"), check_exact=True)
    assert got.to_numpy().sum() > 0


def test_events_and_spells_equal_brute_force():
    rng = np.random.default_rng(7)
    pk = rng.integers(-1, 6, 300)
    day = np.where(rng.random(300) < 0.1, NEVER, rng.integers(-50, 50, 300))
    ev = Events(pk, day)
    qp, q0 = rng.integers(-1, 7, 200), rng.integers(-60, 60, 200)
    q1 = q0 + rng.integers(-5, 40, 200)
    real = (pk >= 0) & (day != NEVER)
    for i in range(200):
        mine = day[real & (pk == qp[i])] if qp[i] >= 0 else np.zeros(0, int)
        later = mine[mine > q0[i]]
        want = later.min() if len(later) else np.nan
        assert np.array_equal(ev.first_after(qp[i:i + 1], q0[i:i + 1]), [want], equal_nan=True)
        assert ev.count_between(qp[i:i + 1], q0[i:i + 1], q1[i:i + 1])[0] == ((mine > q0[i]) & (mine <= q1[i])).sum()
        assert ev.on(qp[i:i + 1], q0[i:i + 1])[0] == (mine == q0[i]).any()
    sp = Spells(pk, day=day)
    q, s = sp.pairs(qp)
    got = sorted(zip(q.tolist(), sp["day"][s].tolist()))
    want = sorted((i, int(d)) for i in range(200) if qp[i] >= 0 for d in day[pk == qp[i]])
    assert got == want
    empty = Events(np.zeros(0, "int64"), np.zeros(0, "int64"))
    assert np.isnan(empty.first_after(qp, q0)).all() and not empty.on(qp, q0).any()


def test_keyed_read_applies_the_as_of_cut_and_names_a_missing_column(simulated_warehouse):
    from evaluation.io import read_warehouse

    as_of = dt.date(2024, 6, 30)
    keys = PersonKeys()
    got = read_keyed(simulated_warehouse, "education", keys, dates=("start_date", "end_date"), as_of=as_of)
    want = read_warehouse(simulated_warehouse, "education", ["person_id", "start_date", "end_date"], as_of=as_of)
    assert len(got["pk"]) == len(want) > 0
    assert (keys.ids(got["pk"]) == want["person_id"].astype(str).to_numpy()).all()
    end = pd.to_datetime(want["end_date"])
    assert (got["end_date"][end.isna().to_numpy()] == NEVER).all()
    assert got["start_date"].max() <= (pd.Timestamp(as_of) - pd.Timestamp("1970-01-01")).days
    jobs = read_keyed(simulated_warehouse, "employment", keys, numbers=("hours",), month="month", as_of=as_of)
    assert jobs["month"].max() == (pd.Timestamp("2024-06-01") - pd.Timestamp("1970-01-01")).days
    with pytest.raises(InputError, match="not found"):
        read_keyed(simulated_warehouse, "education", keys, dates=("no_such_date",))
    with pytest.raises(InputError, match="not found"):
        read_keyed(simulated_warehouse, "no_such_table", keys)
