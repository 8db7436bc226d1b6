"""Alpha-spending boundaries against published values (tests/data/reference/group_sequential.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evaluation.tracking.spending import classic_boundaries, spending_boundaries, spent_alpha

REFERENCE = json.loads(
    (Path(__file__).parent / "data" / "reference" / "group_sequential.json").read_text("utf-8"))


@pytest.mark.parametrize("ref", REFERENCE["spending"],
                         ids=lambda r: f"{r['spending']}-{len(r['fractions'])}-{r['sides']}sided")
def test_lan_demets_boundaries_match_published(ref):
    b = spending_boundaries(ref["fractions"], ref["alpha"], ref["spending"], ref["sides"])
    for got, want in zip(b.z, ref["z"]):
        if want is not None:
            assert got == pytest.approx(want, abs=ref["tolerance"])
    if "spent_first" in ref:
        assert b.spent[0] == pytest.approx(ref["spent_first"], abs=1e-5)
    assert b.spent[-1] == pytest.approx(ref["alpha"], abs=1e-12)


@pytest.mark.parametrize("ref", REFERENCE["classic"], ids=lambda r: f"{r['kind']}-{r['looks']}")
def test_classic_boundaries_match_published_constants(ref):
    b = classic_boundaries(ref["looks"], ref["alpha"], ref["kind"], ref["sides"])
    assert b.z[-1] == pytest.approx(ref["constant"], abs=ref["tolerance"])
    assert b.spent[-1] == pytest.approx(ref["alpha"], abs=1e-8)


def test_boundaries_spend_exactly_the_spending_function():
    """The crossing probabilities, simulated under no effect, equal what the function allows."""
    t = np.array([0.15, 0.4, 0.55, 0.9, 1.0])  # unequal spacing
    b = spending_boundaries(t, 0.05, "obrien_fleming")
    rng = np.random.default_rng(5)
    inc = rng.normal(size=(400_000, len(t))) * np.sqrt(np.diff(np.r_[0, t]))
    z = np.cumsum(inc, axis=1) / np.sqrt(t)
    crossed = np.abs(z) >= np.array(b.z)
    first = np.where(crossed.any(axis=1), crossed.argmax(axis=1), -1)
    cum = [np.mean((first >= 0) & (first <= k)) for k in range(len(t))]
    # Monte Carlo SE of a share near 0.05 with 400,000 paths: about 3.4e-4
    assert np.allclose(cum, b.spent, atol=1.5e-3)
    assert np.allclose(b.spent, spent_alpha(t, 0.05, "obrien_fleming"))


def test_nominal_levels_and_bad_fractions():
    b = spending_boundaries([0.5, 1.0])
    assert b.nominal_alpha[1] < 0.05 and b.nominal_alpha[0] < b.nominal_alpha[1]
    assert b.tidy()[0]["look"] == 1
    with pytest.raises(ValueError, match="increase"):
        spending_boundaries([0.5, 0.4])


def test_plans_declare_the_monitoring_scheme(tmp_path):
    from evaluation.analysis.plan import load_plan
    from evaluation.errors import ConfigError

    root = Path(__file__).resolve().parents[1]
    plan = load_plan(root / "analyses" / "reoffending.toml")
    assert plan.monitoring.planned_looks == 20 and plan.monitoring.spending == "obrien_fleming"
    text = (root / "analyses" / "reoffending.toml").read_text("utf-8")
    bad = tmp_path / "plan.toml"
    bad.write_text(text.replace('spending = "obrien_fleming"', 'spending = "haybittle"'), "utf-8")
    with pytest.raises(ConfigError, match="monitoring.spending"):
        load_plan(bad)


def test_cohort_definition_declares_the_triggers(tmp_path):
    from evaluation.cohort.definition import load_definition
    from evaluation.errors import ConfigError

    root = Path(__file__).resolve().parents[1]
    d = load_definition(root / "cohorts" / "knock_knock.toml")
    assert d.triggers.offence_categories == ("violence", "weapons")
    assert d.triggers.cooffence_with_group_member
    text = (root / "cohorts" / "knock_knock.toml").read_text("utf-8")
    bad = tmp_path / "cohort.toml"
    bad.write_text(text.replace('offence_categories = ["violence", "weapons"]',
                                'offence_categories = ["violence", "arson"]'), "utf-8")
    with pytest.raises(ConfigError, match="triggers.offence_categories"):
        load_definition(bad)
