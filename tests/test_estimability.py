"""The one "not estimated" rule: a model that estimated nothing never shows a number."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_analyse import make_study

from evaluation.cli import cli
from evaluation.survival import SurvivalSpec, fit_all
from evaluation.survival.estimability import (
    MAX_ABS_LOG_RATIO,
    MAX_LOG_SE,
    is_estimated,
    mark_not_estimated,
    ratio_reason,
)


def test_rule_reasons():
    assert ratio_reason(-0.2, 0.1, {"contacted": 12, "comparison": 40}) is None
    assert ratio_reason(-0.2, 0.1, {"contacted": 0, "comparison": 40}) == "no events in the contacted arm"
    assert ratio_reason(-0.2, 0.1, notes=["Newton-Raphson failed to converge sufficiently"]).startswith(
        "did not converge")
    assert ratio_reason(-(MAX_ABS_LOG_RATIO + 0.1), 0.5).startswith("separation: ratio")
    assert ratio_reason(-1.0, MAX_LOG_SE + 0.1).startswith("separation: standard error")
    assert ratio_reason(float("nan"), 0.1).startswith("separation")
    assert ratio_reason(1.0, float("inf")).startswith("separation")
    # just inside the bounds is an estimate
    assert ratio_reason(MAX_ABS_LOG_RATIO - 0.01, MAX_LOG_SE - 0.01) is None


def test_marking_nulls_every_number_and_keeps_the_row():
    tidy = pd.DataFrame([
        {"model": "cox", "term": "treated", "group": None, "time": None, "estimate": -19.7,
         "std_error": 4000.0, "conf_low": -7900.0, "conf_high": 7860.0, "p_value": 0.996,
         "hazard_ratio": math.exp(-19.7)},
        {"model": "cumulative_incidence", "term": None, "group": 1, "time": 365.0, "estimate": 0.0,
         "std_error": 0.0, "conf_low": 0.0, "conf_high": 0.0, "p_value": np.nan, "hazard_ratio": np.nan},
        {"model": "rate_ratio", "term": "treated", "group": None, "time": None, "estimate": 0.8,
         "std_error": 0.1, "conf_low": 0.66, "conf_high": 0.97, "p_value": 0.02, "hazard_ratio": np.nan},
    ])
    out = mark_not_estimated(tidy, {"contacted": 3, "comparison": 30})
    cox = out.iloc[0].to_dict()
    assert cox["not_estimated"].startswith("separation")
    assert all(pd.isna(cox[c]) for c in ("estimate", "std_error", "conf_low", "conf_high",
                                           "p_value", "hazard_ratio"))
    assert not is_estimated(cox)
    # a cumulative incidence of 0 is an estimate; a sane rate ratio too
    assert out.iloc[1]["estimate"] == 0.0 and out.iloc[1]["not_estimated"] is None
    assert is_estimated(out.iloc[2].to_dict())


def _zero_event_arm(n: int = 400, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    treated = rng.integers(0, 2, n)
    status = (rng.random(n) < 0.5).astype(int)
    status[treated == 1] = 0
    return pd.DataFrame({"time": rng.exponential(300, n).round() + 1, "status": status,
                         "treated": treated})


def test_fit_all_zero_event_arm_has_no_hazard_estimate_and_no_e_value():
    res = fit_all(_zero_event_arm(), SurvivalSpec(time="time", event="status", treatment="treated",
                                                   horizons=(183, 365)))
    tidy = res.tidy()
    cox = tidy[tidy["model"] == "cox"]
    assert len(cox) == 1 and isinstance(cox.iloc[0]["not_estimated"], str)
    assert cox[["estimate", "std_error", "conf_low", "conf_high", "p_value", "hazard_ratio"]].isna().all(axis=None)
    assert res.diagnostics["e_value"] is None and "cox" in res.diagnostics["not_estimated"]
    rr = tidy[tidy["model"] == "risk_ratio"]
    assert rr["estimate"].isna().all() and rr["not_estimated"].notna().all()
    assert "not estimated" in res.summary()


def test_survival_command_says_not_estimated(tmp_path):
    path = tmp_path / "t.csv"
    _zero_event_arm().to_csv(path, index=False)
    result = CliRunner().invoke(cli, ["survival", str(path), "--time", "time", "--event", "status",
                                      "--treatment", "treated"])
    assert result.exit_code == 0, result.output
    cox_lines = [x for x in result.output.splitlines() if x.strip().startswith("treated")
                 and "not estimated" in x]
    assert cox_lines, result.output


@pytest.fixture(scope="module")
def analysed_zero_events(tmp_path_factory):
    """A study where no contacted person is ever registered in a criminal group."""
    folder = tmp_path_factory.mktemp("zero")
    study = make_study(folder, persons=600, contacted=60)
    wh = folder / "warehouse"
    cohort = pd.read_parquet(folder / "output" / "2026Q3" / "cohort" / "cohort.parquet")
    contacted = set(cohort.loc[cohort["treated"] == 1, "person_id"])
    groups = pd.read_parquet(wh / "group_registrations.parquet")
    groups[~groups["person_id"].isin(contacted)].to_parquet(wh / "group_registrations.parquet")
    result = CliRunner().invoke(cli, ["analyse", str(study)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads((folder / "output" / "2026Q3" / "results" / "estimates.json").read_text()), folder


def test_bundle_hazard_rows_of_a_zero_event_arm_carry_no_estimate(analysed_zero_events):
    est, folder = analysed_zero_events
    o = next(o for o in est["outcomes"] if o["id"] == "group_registration")
    assert o["diagnostics"]["events"]["contacted"] == 0
    hazard = [e for e in o["estimates"] if e["model"] in ("cox", "cox_stratified", "fine_gray")]
    assert hazard, "the hazard model keeps a row that says why it was not estimated"
    for e in hazard:
        assert e["not_estimated"], e
        assert all(e[c] is None for c in ("estimate", "std_error", "conf_low", "conf_high",
                                          "p_value", "hazard_ratio")), e
    assert o["diagnostics"]["e_value"]["point"] is None and o["diagnostics"]["e_value"]["not_estimated"]
    assert o["gates"]["estimated"] is False and not o["gates"]["passed"]
    forest = pd.read_parquet(folder / "output" / "2026Q3" / "results" / "tables" / "forest.parquet")
    label = o["label"]["en"]
    assert not ((forest["label"] == label) & (forest["analysis"] == "matched")).any()
    # every other estimate row of every outcome is either a number or says why not
    for outcome in est["outcomes"]:
        for e in outcome["estimates"]:
            assert "not_estimated" in e
            if e["not_estimated"]:
                assert e["estimate"] is None


def _not_estimated_bundle(tmp_path):
    """A factory bundle whose primary reoffending outcome has 0 events among the contacted and a
    run-off Cox model, marked by the rule (as `evaluation analyse` writes it)."""
    from bundle_factory import make_bundle

    path = make_bundle(tmp_path / "results")
    est = json.loads((path / "estimates.json").read_text())
    o = next(o for o in est["outcomes"] if o["family"] == "reoffending" and o["primary"])
    for e in o["estimates"]:
        if e["model"] in ("cox", "cox_stratified", "fine_gray"):
            e.update({"estimate": None, "std_error": None, "conf_low": None, "conf_high": None,
                      "p_value": None, "hazard_ratio": None,
                      "not_estimated": "no events in the contacted arm"})
    o["diagnostics"]["e_value"] = {"point": None, "ci": None,
                                   "not_estimated": "no events in the contacted arm"}
    o["diagnostics"]["events"]["contacted"] = 0
    o["gates"]["estimated"] = False
    o["gates"]["passed"] = False
    (path / "estimates.json").write_text(json.dumps(est))
    return path, o


@pytest.mark.parametrize("lang, words", [("en", "not estimated: no events in a group"),
                                         ("da", "ikke estimeret: ingen hændelser i en gruppe")])
def test_report_shows_not_estimated_instead_of_a_number(tmp_path, monkeypatch, lang, words):
    import IPython.display

    from evaluation.report.findings import NOT_YET, finding
    from evaluation.report.present import Report
    from evaluation.report.texts import text

    path, o = _not_estimated_bundle(tmp_path)
    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj))
    report = Report(path, "2026Q3", lang, 5, output="pdf")
    report.outcome_sections()
    report.naive_vs_matched()
    report.forest()
    page = "\n".join(obj.data for obj in shown if isinstance(getattr(obj, "data", None), str))
    page = re.sub(r"\\(.)", r"\1", page)  # the PDF Markdown's escapes (e.g. "\:")
    assert words in page
    label = o["label"][lang]
    # the model table row of the matched Cox model and the E-value row say "not estimated"
    from evaluation.report.texts import vocabulary_label

    start = f"| {vocabulary_label('analysis', 'matched', lang)} | {vocabulary_label('model', 'cox', lang)} |"
    cox_lines = [x for x in page.splitlines() if x.startswith(start)]
    assert sum(words in x for x in cox_lines) == 1  # the one outcome marked, no number in it
    assert all("–" in x.split("|")[7] for x in cox_lines if words in x)
    lines = page.splitlines()
    head = next(i for i, x in enumerate(lines) if "E-v" in x and x.startswith("|"))
    column = next(j for j, c in enumerate(lines[head].split("|")) if "E-v" in c)
    assert words in lines[head + 2].split("|")[column]  # the E-value cell of the diagnostics row
    assert text("forest_not_estimated", lang, labels=label) in page
    f = finding(o, lang)
    assert f.kind == NOT_YET
    assert ("could not be estimated" if lang == "en" else "ikke kunne estimeres") in f.sentence
