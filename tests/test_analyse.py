"""`evaluation analyse` on a small synthetic warehouse and cohort: bundle, determinism, errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from evaluation.cli import cli
from evaluation.survival import TIDY_COLUMNS

DATA_END = pd.Timestamp("2026-09-30")
START = pd.Timestamp("2023-09-01")
ROOT = Path(__file__).resolve().parents[1]


def _days(rng, n, lo, hi):
    return pd.to_datetime(
        rng.integers(lo.value // 86_400_000_000_000, hi.value // 86_400_000_000_000, n), unit="D"
    )


def make_study(folder: Path, persons: int = 1500, contacted: int = 150, seed: int = 5) -> Path:
    """A small synthetic warehouse, a 1:3 matched cohort folder and a study file (no simulator
    or cohort builder needed). Contact lowers the charge rate by a third."""
    rng = np.random.default_rng(seed)
    wh = folder / "warehouse"
    wh.mkdir(parents=True)
    pid = np.array([f"{i:032x}" for i in rng.choice(2**60, persons, replace=False)])
    birth = _days(rng, persons, pd.Timestamp("1998-06-01"), pd.Timestamp("2009-06-01"))
    pd.DataFrame(
        {"person_id": pid, "birth_date": birth, "sex": rng.choice(["F", "M"], persons)}
    ).to_parquet(wh / "persons.parquet")
    pd.DataFrame(
        {
            "person_id": pid,
            "municipality_code": "851",
            "from_date": pd.Timestamp("2000-01-01"),
            "to_date": pd.NaT,
        }
    ).to_parquet(wh / "residence.parquet")
    death = pd.Series(pd.NaT, index=range(persons))
    dies = rng.random(persons) < 0.03
    death[dies] = _days(rng, dies.sum(), START, DATA_END)
    emig = pd.Series(pd.NaT, index=range(persons))
    em = rng.random(persons) < 0.03
    emig[em] = _days(rng, em.sum(), START, DATA_END)
    pd.DataFrame(
        {"person_id": pid, "death_date": death.values, "emigration_date": emig.values}
    ).to_parquet(wh / "vital.parquet")
    # contacts: the first `contacted` persons, some contacted twice
    cdate = _days(rng, contacted, START, pd.Timestamp("2026-03-31"))
    contacts = pd.DataFrame(
        {
            "person_id": pid[:contacted],
            "contact_date": cdate,
            "contact_type": rng.choice(["knock_knock", "ssp"], contacted),
            "parents_present": True,
            "referred_to": rng.choice(["leisure", "education", "none"], contacted),
        }
    )
    again = contacts.sample(frac=0.2, random_state=1).assign(
        contact_date=lambda d: d.contact_date + pd.Timedelta(days=40)
    )
    pd.concat([contacts, again]).to_parquet(wh / "contacts.parquet")
    contact_of = dict(zip(pid[:contacted], cdate))
    # charges: yearly rate 0.5, a third lower after contact
    n_ch = rng.poisson(0.5 * 10, persons)
    who = np.repeat(np.arange(persons), n_ch)
    odate = _days(rng, len(who), pd.Timestamp("2016-10-01"), DATA_END)
    cd = pd.Series(pid[who]).map(contact_of)
    drop = (cd.notna() & (odate > cd)).to_numpy() & (rng.random(len(who)) < 1 / 3)
    who, odate = who[~drop], odate[~drop]
    case = np.array([f"k{i}" for i in range(len(who))])
    shared = rng.random(len(who)) < 0.1  # co-offences: copy the case to another person
    partner = rng.integers(0, persons, shared.sum())
    charges = pd.DataFrame(
        {
            "person_id": np.concatenate([pid[who], pid[partner]]),
            "case_id": np.concatenate([case, case[shared]]),
            "offence_date": np.concatenate([odate, odate[shared]]),
            "offence_code": "100",
        }
    )
    charges["charge_date"] = charges["offence_date"] + pd.Timedelta(days=10)
    charges["offence_category"] = rng.choice(
        ["violence", "weapons", "property", "drugs"], len(charges)
    )
    charges = charges.drop_duplicates(["person_id", "case_id"])
    charges.to_parquet(wh / "charges.parquet")
    conv = charges.sample(frac=0.6, random_state=2)
    pd.DataFrame(
        {
            "person_id": conv.person_id,
            "case_id": conv.case_id,
            "decision_date": conv.offence_date
            + pd.to_timedelta(rng.integers(30, 400, len(conv)), unit="D"),
            "offence_date": conv.offence_date,
            "sanction": rng.choice(["fine", "custody", "acquittal"], len(conv)),
        }
    ).query("decision_date <= @DATA_END").to_parquet(wh / "convictions.parquet")
    k = rng.random(persons) < 0.08
    cs = _days(rng, k.sum(), pd.Timestamp("2020-01-01"), DATA_END)
    pd.DataFrame(
        {
            "person_id": pid[k],
            "start_date": cs,
            "end_date": cs + pd.to_timedelta(rng.integers(10, 200, k.sum()), unit="D"),
            "custody_type": "remand",
        }
    ).to_parquet(wh / "custody.parquet")
    e = rng.random(persons) < 0.5
    es = _days(rng, e.sum(), pd.Timestamp("2022-01-01"), DATA_END)
    pd.DataFrame(
        {
            "person_id": pid[e],
            "start_date": es,
            "end_date": es + pd.Timedelta(days=300),
            "level": "fgu",
            "status": "completed",
        }
    ).to_parquet(wh / "education.parquet")
    j = rng.random(persons) < 0.4
    jm = _days(rng, j.sum(), pd.Timestamp("2022-01-01"), DATA_END)
    pd.DataFrame(
        {
            "person_id": pid[j],
            "month": jm.strftime("%Y-%m"),
            "hours": rng.choice([20.0, 80.0], j.sum()),
        }
    ).to_parquet(wh / "employment.parquet")
    g = rng.random(persons) < 0.12
    pd.DataFrame(
        {
            "person_id": pid[g],
            "group_id": "g1",
            "registered_date": _days(rng, g.sum(), pd.Timestamp("2020-01-01"), DATA_END),
            "deregistered_date": pd.NaT,
        }
    ).to_parquet(wh / "group_registrations.parquet")

    # the cohort: contacted at first contact; 3 comparison persons per set from the rest
    cdir = folder / "output" / "2026Q3" / "cohort"
    cdir.mkdir(parents=True)
    pool = pid[contacted:]
    comp = rng.choice(pool, 3 * contacted, replace=True)
    set_id = np.concatenate([np.arange(contacted), np.repeat(np.arange(contacted), 3)])
    person = np.concatenate([pid[:contacted], comp])
    treated = np.concatenate([np.ones(contacted, int), np.zeros(3 * contacted, int)])
    index = np.concatenate([cdate, np.repeat(cdate, 3)])
    cohort = pd.DataFrame(
        {
            "person_id": person,
            "set_id": set_id,
            "treated": treated,
            "index_date": pd.to_datetime(index),
        }
    )
    cohort["arm"] = np.where(cohort.treated == 1, "contacted", "comparison")
    cohort["weight"] = 1.0
    pos = pd.Series(np.arange(persons), index=pid)
    d = pd.to_datetime(death.values[pos[cohort.person_id].to_numpy()])
    m = pd.to_datetime(emig.values[pos[cohort.person_id].to_numpy()])
    ends = pd.DataFrame({"death": d, "emigration": m, "end_of_data": DATA_END}, index=cohort.index)
    ends = ends.where(ends.ge(cohort["index_date"], axis=0))
    cohort["end_date"] = ends.min(axis=1).fillna(DATA_END)
    cohort["end_reason"] = ends.idxmin(axis=1).fillna("end_of_data")
    cohort["propensity_score"] = rng.uniform(0.05, 0.3, len(cohort))
    cohort["sex"] = "M"
    cohort["age_band"] = "18-21"
    cohort.to_parquet(cdir / "cohort.parquet")
    (cdir / "cohort.json").write_text(
        json.dumps(
            {
                "design": "risk_set_matching",
                "data_end": "2026-09-30",
                "ratio": 3,
                "caliper": 0.2,
                "initiative_start": "2023-09-01",
                "counts": {},
                "covariates": {},
            }
        )
    )
    pd.DataFrame(
        {
            "arm": ["contacted"],
            "step": [1],
            "reason": ["aged 14-25"],
            "n_excluded": [3],
            "n_remaining": [contacted],
        }
    ).to_parquet(cdir / "attrition.parquet")
    pd.DataFrame(
        {
            "covariate": ["charges_12m", "custody_ever", "age_at_index"],
            "smd_before": [0.8, 0.3, 0.2],
            "smd_after": [0.04, -0.02, 0.01],
        }
    ).to_parquet(cdir / "balance.parquet")
    ps = pd.DataFrame(
        {
            "arm": np.where(treated == 1, "contacted", "comparison"),
            "matched": True,
            "propensity_score": cohort["propensity_score"],
        }
    )
    ps.to_parquet(cdir / "propensity.parquet")
    (folder / "cohort.toml").write_text((ROOT / "cohorts" / "knock_knock.toml").read_text())
    analyses = ", ".join(f'"{p}"' for p in sorted((ROOT / "analyses").glob("*.toml")))
    study = folder / "study.toml"
    study.write_text(
        f'[study]\nname = "test"\nwarehouse = "warehouse"\ncohort = "cohort.toml"\n'
        f'analyses = [{analyses}]\noutput = "output"\ndata_end = "2026-09-30"\nseed = 7\n'
        f'[report]\nquarter = "2026Q3"\n'
    )
    return study


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    study = make_study(folder)
    result = CliRunner().invoke(cli, ["analyse", str(study)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return study, folder / "output" / "2026Q3" / "results", result


def test_bundle_is_complete_and_matches_contract(analysed):
    _study, results, run = analysed
    est = json.loads((results / "estimates.json").read_text())
    assert est["schema_version"] == "1.0"
    assert est["study"]["initiative_start"] == "2023-09-01"
    assert est["cohort"]["n_contacted"] == 150 and est["cohort"]["n_comparison"] == 450
    assert est["cohort"]["n_sets"] == 150 and est["cohort"]["ratio"] == 3
    assert est["cohort"]["smd_max_after"] == pytest.approx(0.04)
    ids = [o["id"] for o in est["outcomes"]]
    assert {
        "reoffending_any",
        "reoffending_violence_weapons",
        "reoffending_conviction",
        "education_job",
        "group_registration",
        "group_cooffence",
    } <= set(ids)
    assert sum(o["primary"] for o in est["outcomes"]) == 3  # one per family
    for o in est["outcomes"]:
        assert o["family"] in ("reoffending", "education_job", "group_recruitment")
        assert set(o["label"]) == {"da", "en"}
        assert o["horizons_days"] == [183, 365, 730] and o["primary_horizon_days"] == 365
        models = {(e["model"], e["analysis"]) for e in o["estimates"]}
        if any(n.startswith("all models") for n in o["diagnostics"]["notes"]):
            # e.g. no event at all in one arm: no estimates, and the gates say why
            assert not o["gates"]["passed"] and "could not be fitted" in " ".join(
                o["gates"]["reasons"]
            )
            assert o["id"] == "group_cooffence"
            continue
        for m in (
            "kaplan_meier",
            "cumulative_incidence",
            "risk_difference",
            "cox",
            "cox_stratified",
            "rmst_difference",
        ):
            # a model that could not be fitted (e.g. no event in an arm) is named in the notes
            assert (m, "matched") in models or any(n.startswith(m) for n in o["diagnostics"]["notes"]), (
                o["id"],
                m,
            )
        assert ("risk_difference", "naive") in models and ("cox", "naive") in models
        rd = [
            e
            for e in o["estimates"]
            if e["model"] == "risk_difference" and e["analysis"] == "matched"
        ]
        assert sorted(e["time"] for e in rd) == [183, 365, 730]
        ci = [
            e
            for e in o["estimates"]
            if e["model"] == "cumulative_incidence" and e["analysis"] == "matched"
        ]
        assert {e["group"] for e in ci} == {0, 1}
        for e in o["estimates"]:
            assert set(e) == {*TIDY_COLUMNS, "analysis"}
        d = o["diagnostics"]
        assert set(d["events"]) == {"contacted", "comparison"}
        assert d["min_detectable_hr"] is not None and 0 < d["min_detectable_hr"] < 1
        assert set(o["gates"]) >= {
            "balance",
            "overlap",
            "proportional_hazards",
            "enough_events",
            "passed",
            "reasons",
        }
        assert o["gates"]["passed"] == (len(o["gates"]["reasons"]) == 0)
        for path in [*o["tables"].values()]:
            assert (results / path).exists()
        assert "figures" not in o  # figures are drawn by the report, with its threshold
        curve = pd.read_parquet(results / o["tables"]["curve"])
        assert list(curve.columns) == [
            "arm",
            "time",
            "estimate",
            "conf_low",
            "conf_high",
            "at_risk",
            "events",
        ]
        assert set(curve["arm"]) == {"contacted", "comparison"}
        assert curve["estimate"].between(0, 1).all()
    rr = next(o for o in est["outcomes"] if o["id"] == "reoffending_any")
    assert any(e["model"] == "rate_ratio" for e in rr["estimates"])
    assert any(e["model"] == "fine_gray" for e in rr["estimates"])
    assert any(e["analysis"] == "custody_at_risk" for e in rr["estimates"])
    for name in ("attrition", "balance", "propensity", "contacts"):
        assert (results / est["tables"][name]).exists()
    assert "figures" not in est and not (results / "figures").exists()
    assert (results / est["tables"]["forest"]).exists()
    contacts = pd.read_parquet(results / "tables" / "contacts.parquet")
    assert list(contacts.columns) == ["period", "dimension", "category", "n"]
    cum_total = contacts.query("period == 'cumulative' and dimension == 'total'")["n"].item()
    assert cum_total == 150
    assert contacts.query("period == 'cumulative' and dimension == 'sex'")["n"].sum() == 150
    man = json.loads((results / "manifest.json").read_text())
    assert man["seed"] == 7 and "warehouse/charges.parquet" in man["inputs"]
    assert "lifelines" in man["packages"]
    assert "reoffending_any" in run.output


def test_effect_is_recovered_in_direction(analysed):
    """Contact lowers the charge rate by a third in the synthetic data: HR and rate ratio < 1."""
    _, results, _ = analysed
    est = json.loads((results / "estimates.json").read_text())
    o = next(o for o in est["outcomes"] if o["id"] == "reoffending_any")
    rr = next(
        e for e in o["estimates"] if e["model"] == "rate_ratio" and e["analysis"] == "matched"
    )
    assert rr["conf_low"] < 0.67 < rr["conf_high"]
    assert rr["estimate"] < 0.9


def test_same_inputs_same_bundle(analysed, tmp_path):
    study, results, _ = analysed
    first = {p.relative_to(results): p.read_bytes() for p in results.rglob("*") if p.is_file()}
    result = CliRunner().invoke(cli, ["analyse", str(study)], catch_exceptions=False)
    assert result.exit_code == 0
    second = {p.relative_to(results): p.read_bytes() for p in results.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    for k, content in first.items():
        assert content == second[k], f"{k} differs between two runs"


def test_cohort_not_built(tmp_path):
    study = make_study(tmp_path, persons=300, contacted=30)
    (tmp_path / "output" / "2026Q3" / "cohort" / "cohort.parquet").unlink()
    result = CliRunner().invoke(cli, ["analyse", str(study)])
    assert result.exit_code != 0
    assert "run `evaluation cohort build` first" in result.output
    assert not (tmp_path / "output" / "2026Q3" / "results").exists()


def test_bad_plan_names_file_and_key(tmp_path):
    study = make_study(tmp_path, persons=300, contacted=30)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[analysis]\nfamily = "reoffending"\n[[outcomes]]\nid = "x"\ndefinition = "first_charge"\n'
        'primary = true\nlabel = { da = "a", en = "b" }\ndirection = "sideways"\n'
    )
    text = study.read_text().replace("analyses = [", f'analyses = ["{bad}", ')
    study.write_text(text)
    result = CliRunner().invoke(cli, ["analyse", str(study)])
    assert result.exit_code != 0
    assert "bad.toml" in result.output and "outcomes[0].direction" in result.output
    assert "Traceback" not in result.output


def test_analyse_simulated_warehouse_end_to_end(simulated_warehouse, tmp_path):
    """simulate -> cohort build -> analyse: a complete bundle, and the naive contrast is biased
    towards harm for reoffending (the contacted are selected for high risk)."""
    analyses = ", ".join(f'"{p}"' for p in sorted((ROOT / "analyses").glob("*.toml")))
    study = tmp_path / "study.toml"
    study.write_text(
        f'[study]\nname = "sim"\nwarehouse = "{simulated_warehouse}"\n'
        f'cohort = "{ROOT / "cohorts" / "knock_knock.toml"}"\nanalyses = [{analyses}]\n'
        f'output = "output"\ndata_end = "2026-09-30"\nseed = 11\n'
    )
    runner = CliRunner()
    built = runner.invoke(cli, ["cohort", "build", str(study)])
    assert built.exit_code == 0, built.output
    result = runner.invoke(cli, ["analyse", str(study)])
    assert result.exit_code == 0, result.output
    results = tmp_path / "output" / "2026Q3" / "results"
    est = json.loads((results / "estimates.json").read_text())
    assert est["schema_version"] == "1.0" and est["study"]["initiative_start"] == "2023-09-01"
    assert est["cohort"]["n_contacted"] > 0
    o = next(o for o in est["outcomes"] if o["id"] == "reoffending_any")

    def rd(analysis):
        return next(
            e["estimate"]
            for e in o["estimates"]
            if e["model"] == "risk_difference" and e["analysis"] == analysis and e["time"] == 365
        )

    assert rd("naive") > rd("matched")
    # both estimands: intention to treat (primary, the matched rows) and per protocol (IPCW)
    assert o["estimands"]["primary"] == "intention_to_treat"
    assert o["estimands"]["analysis"] == {"intention_to_treat": "matched", "per_protocol": "per_protocol"}
    assert rd("per_protocol") is not None and rd("per_protocol") != rd("matched")
    weights = o["estimands"]["per_protocol_weights"]
    assert weights["censored_at_later_contact"] > 0 and len(weights["distribution"]) == 9
    after = [d["after_truncation"] for d in weights["distribution"]]
    assert after == sorted(after) and after[-1] <= weights["distribution"][-1]["before_truncation"]
    pp = o["estimands"]["events"]["per_protocol"]
    ev = o["diagnostics"]["events"]
    assert pp["contacted"]["all"] == ev["contacted"] and pp["comparison"]["all"] <= ev["comparison"]
    for e in o["estimates"]:
        if e["analysis"] == "per_protocol" and e["model"] == "risk_ratio":
            assert "not_estimated" in e
    # the method's own checks: negative controls with the fitted null, placebo, subgroups, bound
    f = est["falsification"]
    ncs = f["negative_controls"]
    assert {r["id"] for r in ncs["estimates"]} == {"negative_control_traffic_fine",
                                                "negative_control_accidental_injury"}
    assert ncs["null"]["n"] >= 1 and ncs["null"]["ease"] is not None
    assert ncs["passed"] == (ncs["null"]["ease"] <= ncs["max_systematic_error"])
    assert f["placebo"]["evaluated"] and f["placebo"]["start"] < est["study"]["initiative_start"]
    assert o["gates"]["negative_controls"] is ncs["passed"]
    assert o["gates"]["protects"]["proportional_hazards"] == ["hazard_ratio"]
    assert set(o["subgroups"]["dimensions"]) == {"age_band", "sex", "contact_type", "referred_to"}
    for d in o["subgroups"]["dimensions"].values():  # shown only with enough events per group
        assert d["shown"] == bool(d["groups"])
        for g in d["groups"]:
            assert min(g["events"].values()) >= 20
    assert "rosenbaum" in o["sensitivity"] and "e_value" in o["sensitivity"]
    for o in est["outcomes"]:
        assert (results / o["tables"]["curve"]).exists() and (results / o["tables"]["at_risk"]).exists()
    for path in est["tables"].values():
        assert (results / path).exists()


def test_rate_ratio_equals_ratio_of_crude_rates():
    """With treatment as the only covariate the Poisson MLE rate ratio is the ratio of crude rates."""
    from evaluation.analysis.run import rate_ratio

    counts = pd.DataFrame({"treated": [1, 1, 1, 0, 0, 0, 0], "set_id": [1, 2, 3, 1, 2, 3, 3],
                           "n_events": [2, 0, 1, 3, 4, 1, 2], "person_time": [365, 200, 300, 365, 365, 100, 30.0],
                           "weight": 1.0})
    t = rate_ratio(counts, "poisson", cluster="set_id")
    rr = t[t["model"] == "rate_ratio"].iloc[0]
    crude = (3 / 865) / (10 / 860)
    assert rr["estimate"] == pytest.approx(crude, rel=1e-6)
    assert rr["conf_low"] < rr["estimate"] < rr["conf_high"]
    rates = t[t["model"] == "rate"].set_index("group")["estimate"]
    assert rates[1] == pytest.approx(3 / (865 / 365.25))


def test_e_value_and_minimum_detectable_hr():
    from evaluation.survival.diagnostics import e_value, min_detectable_hr

    ev = e_value(0.5, 0.3, 0.8, outcome_risk=0.05)
    assert ev["point"] == pytest.approx(2 + math.sqrt(2))         # RR 2 -> 2 + sqrt(2)
    assert ev["ci"] == pytest.approx(1.25 + math.sqrt(1.25 * 0.25))
    assert e_value(0.8, 0.6, 1.1, outcome_risk=0.05)["ci"] == 1.0
    # Schoenfeld: 100 events, 1:1 -> exp(-sqrt((0.8416 + 1.96)^2 / 25))
    assert min_detectable_hr(100, 0.5)[0] == pytest.approx(math.exp(-(0.841621 + 1.959964) / 5), rel=1e-5)


def test_at_risk_table_counts_persons_followed_at_every_tick():
    """Item 3 of issue 9: the numbers at risk are a direct count (time >= t) at day 0, every
    3 months (the curve's ticks) and each horizon, against a table built by hand."""
    from evaluation.analysis.run import at_risk_table

    frame = pd.DataFrame({"treated": [1, 1, 1, 1, 0, 0, 0, 0, 0],
                          "time": [10, 95, 183, 400, 91, 92, 200, 365, 366]})
    table = at_risk_table(frame, (183, 365))
    got = {(r.arm, int(r.time)): int(r.at_risk) for r in table.itertuples()}
    # ticks: 0, 91 (3 months), 183, 274, 365, 457 (15 months, past the last follow-up of 400)
    assert sorted({t for _, t in got}) == [0, 91, 183, 274, 365, 457]
    expected = {("contacted", 0): 4, ("contacted", 91): 3, ("contacted", 183): 2,
                ("contacted", 274): 1, ("contacted", 365): 1, ("contacted", 457): 0,
                ("comparison", 0): 5, ("comparison", 91): 5, ("comparison", 183): 3,
                ("comparison", 274): 2, ("comparison", 365): 2, ("comparison", 457): 0}
    assert got == expected


def test_contacts_summary_counts_first_contacts(analysed):
    import datetime as dt

    from evaluation.analysis.run import contacts_summary

    study, _, _ = analysed
    wh = study.parent / "warehouse"
    table = contacts_summary(wh, dt.date(2023, 9, 1), dt.date(2026, 9, 30), "2024Q1")
    c = pd.read_parquet(wh / "contacts.parquet")
    first = c.groupby("person_id")["contact_date"].min()
    expected = int(((first >= "2024-01-01") & (first <= "2024-03-31")).sum())
    got = table.query("period == 'quarter' and dimension == 'total'")["n"].item()
    assert got == expected > 0
    for dim in ("sex", "age_band", "contact_type", "referred_to"):
        assert table.query("period == 'quarter' and dimension == @dim")["n"].sum() == expected


def test_weighted_rate_ratio_sandwich_matches_statsmodels_with_unit_weights():
    """The hand-made cluster sandwich of the weighted Poisson model equals statsmodels' cluster
    covariance when all weights are 1, and the weighted point estimate is the ratio of weighted
    crude rates."""
    from evaluation.analysis.run import rate_ratio

    rng = np.random.default_rng(3)
    n = 400
    counts = pd.DataFrame({"treated": rng.integers(0, 2, n), "set_id": rng.integers(0, 120, n),
                           "person_time": rng.uniform(30, 700, n)})
    counts["n_events"] = rng.poisson(0.002 * counts["person_time"] * np.where(counts["treated"] == 1, 0.7, 1))
    counts["w"] = 1.0
    plain = rate_ratio(counts, cluster="set_id").query("model == 'rate_ratio'").iloc[0]
    unit = rate_ratio(counts, cluster="set_id", weights="w").query("model == 'rate_ratio'").iloc[0]
    assert unit["estimate"] == pytest.approx(plain["estimate"], rel=1e-8)
    assert unit["std_error"] == pytest.approx(plain["std_error"], rel=1e-6)
    counts["w"] = rng.choice([1.0, 0.5, 1.5], n)
    weighted = rate_ratio(counts, cluster="set_id", weights="w").query("model == 'rate_ratio'").iloc[0]
    t, c = counts[counts.treated == 1], counts[counts.treated == 0]
    crude = ((t.w * t.n_events).sum() / (t.w * t.person_time).sum()) / (
        (c.w * c.n_events).sum() / (c.w * c.person_time).sum())
    assert weighted["estimate"] == pytest.approx(crude, rel=1e-6)


def test_printed_summary_leaves_out_estimates_whose_gates_failed():
    from evaluation.analysis.run import summary_lines

    def outcome(rd_ok: bool, hr_ok: bool) -> dict:
        return {"id": "x", "primary": True, "primary_horizon_days": 365,
                "estimates": [{"model": "risk_difference", "analysis": "matched", "time": 365,
                               "estimate": 0.01, "conf_low": -0.02, "conf_high": 0.04},
                              {"model": "cox", "analysis": "matched", "hazard_ratio": 0.9}],
                "gates": {"passed": rd_ok and hr_ok, "reasons": [] if rd_ok and hr_ok else ["balance"],
                          "by_estimate": {"risk_difference": rd_ok, "hazard_ratio": hr_ok}}}

    est = {"cohort": {"n_contacted": 10, "n_comparison": 30, "n_sets": 10},
           "study": {"design": "risk_set_matching"},
           "outcomes": [outcome(True, True), outcome(True, False), outcome(False, False)]}
    lines = summary_lines(est)[1:]
    assert "RD@365d +0.010" in lines[0] and "HR 0.90" in lines[0] and "gates passed" in lines[0]
    assert "RD@365d" in lines[1] and "HR" not in lines[1]
    assert "RD@" not in lines[2] and "HR" not in lines[2] and "gates failed: balance" in lines[2]
