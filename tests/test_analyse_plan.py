"""Analysis plans: the shipped plans load; bad plans name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.analysis.plan import load_plan, load_plans
from evaluation.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

GOOD = """
[analysis]
family = "reoffending"
horizons_months = [6, 12, 24]
[[outcomes]]
id = "r"
definition = "first_charge"
primary = true
label = { da = "Ny sigtelse", en = "New charge" }
"""


def test_shipped_plans_load():
    plans = load_plans(sorted((ROOT / "analyses").glob("*.toml")))
    assert {p.family for p in plans} == {"reoffending", "education_job", "group_recruitment"}
    for p in plans:
        assert p.horizons_days == (183, 365, 730) and p.primary_horizon_days == 365
        assert p.rmst_days == (365, 730)
        assert sum(o.primary for o in p.outcomes) == 1
        for o in p.outcomes:
            assert o.label["da"] and o.label["en"]
    edu = next(p for p in plans if p.family == "education_job")
    assert edu.outcomes[0].direction == "higher_is_better" and edu.outcomes[0].hours_threshold == 40
    reo = next(p for p in plans if p.family == "reoffending")
    assert {o.definition for o in reo.outcomes} == {"first_charge", "first_guilty_decision"}
    assert any(o.count for o in reo.outcomes) and all(o.remove_custody for o in reo.outcomes)


def test_defaults(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text(GOOD)
    p = load_plan(f)
    assert p.outcomes[0].direction == "lower_is_better"
    assert p.max_smd == 0.1 and p.min_events_per_arm == 20 and p.naive


@pytest.mark.parametrize("edit, key", [
    (lambda t: t.replace('family = "reoffending"', 'family = "sports"'), "analysis.family"),
    (lambda t: t.replace('[6, 12, 24]', '[6, "x"]'), "analysis.horizons_months"),
    (lambda t: t.replace('definition = "first_charge"', 'definition = "first_registration"'),
     "outcomes[0].definition"),
    (lambda t: t.replace('primary = true', 'primary = "yes"'), "outcomes[0].primary"),
    (lambda t: t.replace('primary = true', 'primary = false'), "outcomes"),
    (lambda t: t.replace('en = "New charge"', 'en = ""'), "outcomes[0].label.en"),
    (lambda t: t + 'colour = "red"\n', "outcomes[0].colour"),
    (lambda t: t + '[gates]\nmax_smd = -1\n', "gates.max_smd"),
    (lambda t: t + '[models]\nrate_model = "probit"\n', "models.rate_model"),
    (lambda t: t.replace('primary = true', 'primary = true\noffence_categories = ["arson"]'),
     "outcomes[0].offence_categories"),
    (lambda t: t.replace('[analysis]', '[analysis]\nprimary_horizon_months = 18'),
     "analysis.primary_horizon_months"),
    (lambda t: t.replace('[analysis]', '[analyses]'), "analyses"),
])
def test_bad_plan(tmp_path, edit, key):
    f = tmp_path / "plan.toml"
    f.write_text(edit(GOOD))
    with pytest.raises(ConfigError) as err:
        load_plan(f)
    assert err.value.file == str(f)
    assert err.value.key == key


def test_not_toml_and_repeated_ids(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[analysis\n")
    with pytest.raises(ConfigError, match="bad.toml.*not valid TOML"):
        load_plan(f)
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(GOOD)
    b.write_text(GOOD)
    with pytest.raises(ConfigError) as err:
        load_plans([a, b])
    assert err.value.file == str(b) and err.value.key == "outcomes[0].id"
