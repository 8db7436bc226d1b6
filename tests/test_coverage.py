"""Whom the result covers: the matched share gate, the population in each finding, the matched
against all eligible contacted, the naive contrast over all eligible contacted, the warning."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from test_analyse import make_study

from evaluation.cli import cli
from evaluation.report.findings import finding, population_clause


@pytest.fixture(scope="module")
def low_coverage(tmp_path_factory):
    """150 eligible contacted, 60 of them matched (40%): 90 sets dropped from the cohort."""
    folder = tmp_path_factory.mktemp("coverage")
    study = make_study(folder, persons=900, contacted=150)
    cdir = folder / "output" / "2026Q3" / "cohort"
    cohort = pd.read_parquet(cdir / "cohort.parquet")
    contacted = cohort[cohort["treated"] == 1].sort_values("set_id")
    kept_sets = set(contacted["set_id"].iloc[:60])
    eligible = pd.DataFrame({
        "person_id": contacted["person_id"].to_numpy(), "index_date": contacted["index_date"].dt.date,
        "end_date": pd.to_datetime(contacted["end_date"]).dt.date,
        "end_reason": contacted["end_reason"].to_numpy(),
        "matched": contacted["set_id"].isin(kept_sets).to_numpy(), "sex": "M", "age_at_index": 18.0,
        "charges_12m": (contacted["set_id"] % 3 == 0).astype("int64").to_numpy()})
    eligible.to_parquet(cdir / "eligible_contacted.parquet")
    cohort[cohort["set_id"].isin(kept_sets)].to_parquet(cdir / "cohort.parquet")
    meta = json.loads((cdir / "cohort.json").read_text())
    meta["counts"] = {"contacted_eligible": 150, "contacted": 60}
    meta["covariates"] = {"charges_12m": {"da": "Sigtelser 12 mdr.", "en": "Charges 12 months"}}
    (cdir / "cohort.json").write_text(json.dumps(meta))
    result = CliRunner().invoke(cli, ["analyse", str(study)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    results = folder / "output" / "2026Q3" / "results"
    return json.loads((results / "estimates.json").read_text()), results


def test_matched_share_is_a_gate(low_coverage):
    est, _ = low_coverage
    assert est["cohort"]["matched_share"] == pytest.approx(0.4)
    for o in est["outcomes"]:
        assert o["gates"]["matched_share"] is False and o["gates"]["passed"] is False
        assert any("coverage" in r and "40%" in r for r in o["gates"]["reasons"])


def test_naive_contrast_uses_all_eligible_contacted(low_coverage):
    est, _ = low_coverage
    o = next(o for o in est["outcomes"] if o["id"] == "reoffending_any")
    naive_km = [e for e in o["estimates"] if e["analysis"] == "naive" and e["model"] == "kaplan_meier"]
    assert naive_km
    # 150 eligible contacted in the naive contrast against 60 matched in the matched one
    assert o["population"]["contacted"] == 60
    assert est["cohort"]["n_contacted"] == 60


def test_coverage_table_compares_matched_with_all_eligible(low_coverage):
    _, results = low_coverage
    cov = pd.read_parquet(results / "tables" / "coverage.parquet")
    row = cov.set_index("covariate").loc["charges_12m"]
    assert row["n_all"] == 150 and row["n_matched"] == 60
    assert row["mean_all"] == pytest.approx(50 / 150)
    assert {"age_at_index", "male"} <= set(cov["covariate"])


def _population_checker(matched: int, eligible: int):
    """The links the report registers: eligible contacted = matched + unmatched."""
    from evaluation.disclosure import Checker

    check = Checker(threshold=5)
    pop = check.count("outcome/x/population/contacted", matched)
    total = check.count("cohort/contacted_eligible", eligible)
    check.relation(total, [pop, check.latent("unmatched", eligible - matched)])
    return check.solve()


def test_each_finding_names_its_population():
    outcome = {"id": "x", "label": {"en": "New charges", "da": "Nye sigtelser"},
               "population": {"contacted": 177, "comparison": 500}, "primary_horizon_days": 365,
               "gates": {"passed": False, "matched_share": False}, "estimates": []}
    cohort = {"counts": {"contacted_eligible": 406, "contacted": 177}}
    check = _population_checker(177, 406)
    en = finding(outcome, "en", 5, check, cohort).sentence
    assert en.startswith("Among the 177 contacted youths who were matched with a comparison (of 406 eligible")
    assert "a comparison was found for too few" in en
    assert finding(outcome, "da", 5, check, cohort).sentence.startswith("Blandt de 177 unge med kontakt")
    # 404 of 406: the 2 unmatched would follow by subtraction, so the matched count is hidden
    close = population_clause({**outcome, "population": {"contacted": 404}},
                              {"counts": {"contacted_eligible": 406}}, "en", _population_checker(404, 406))
    assert "404" not in close and "406" in close
