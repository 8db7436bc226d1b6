"""The tracking series: kept versions, trajectory rows, the boundary in the findings, and
`evaluation track` end to end on simulated data."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from bundle_factory import make_bundle
from click.testing import CliRunner

from evaluation import disclosure
from evaluation.cli import cli
from evaluation.report.findings import BENEFICIAL, NO_DIFFERENCE, finding
from evaluation.tracking.spending import planned_boundaries
from evaluation.tracking.trajectory import trajectory_rows
from evaluation.tracking.versions import keep_version, kept_versions, version_dir

ROOT = Path(__file__).resolve().parents[1]


def test_a_rebuilt_quarter_is_kept_beside_the_old_one(tmp_path):
    quarter = tmp_path / "2026Q3"
    results = quarter / "results"
    results.mkdir(parents=True)
    (results / "manifest.json").write_text('{"inputs": {"a": "1"}}')
    (results / "estimates.json").write_text('{"outcomes": [], "n": 1}')
    first = keep_version(quarter)
    assert keep_version(quarter) == first  # the same bundle: no second copy
    (results / "manifest.json").write_text('{"inputs": {"a": "2"}}')  # changed data
    (results / "estimates.json").write_text('{"outcomes": [], "n": 2}')
    second = keep_version(quarter)
    assert second != first and kept_versions(quarter) == [first, second]
    old = json.loads((version_dir(quarter, first) / "estimates.json").read_text())
    assert old["n"] == 1  # never rewritten
    assert keep_version(tmp_path / "2026Q2") is None  # no bundle, no version


def _row(q, look, contacted, events_c, gates=True, rd=(-0.04, -0.08, 0.0)):
    return {"quarter": q, "look": look, "version": "v", "family": "reoffending",
            "outcome_id": "reoffending_any", "contacted": contacted, "matched": contacted - 10,
            "population_contacted": contacted - 10, "population_comparison": 3 * contacted,
            "events_contacted": events_c, "events_comparison": 3 * events_c,
            "rd": rd[0], "rd_low": rd[1], "rd_high": rd[2], "rd_se": 0.02, "hr": 0.8,
            "hr_low": 0.6, "hr_high": 1.05 if gates else None, "min_detectable_hr": 0.7,
            "gates_passed": gates, "z": -2.0, "boundary_z": 3.0}


def _indicator(q, scope, stat, k, n):
    return {"quarter": q, "scope": scope, "indicator": "reach", "statistic": stat,
            "value": k / n, "numerator": k, "denominator": n}


def test_tracking_cells_go_through_the_documents_checker(tmp_path, monkeypatch):
    """Trajectory and process-indicator counts are checker cells: a count whose change since the
    previous quarter is small is hidden with the neutral marker, a quarter whose model was not
    estimated shows no number, and every shown cell is in the disclosure record."""
    import IPython.display
    import mistune

    from evaluation.report.present import Report

    results = make_bundle(tmp_path / "2026Q3" / "results")
    estimates = json.loads((results / "estimates.json").read_text())
    matched = estimates["cohort"]["n_contacted"]
    trajectory = [_row("2026Q1", 1, 200, 40), _row("2026Q2", 2, 203, 60, gates=False),
                  {**_row("2026Q3", 3, 520, 98), "matched": matched}]
    indicators = [_indicator("2026Q1", "cumulative", "within_14", 30, 60),
                  _indicator("2026Q2", "cumulative", "within_14", 32, 63),
                  _indicator("2026Q2", "quarter", "within_14", 20, 40)]
    folder = tmp_path / "2026Q3" / "tracking"
    folder.mkdir()
    (folder / "tracking.json").write_text(json.dumps(
        {"quarter": "2026Q3", "looks": [], "monitoring": {}, "projections": {},
         "trajectory": trajectory, "indicators": indicators}))
    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    record = tmp_path / "technical.html.disclosure.json"
    report = Report(results, "2026Q3", "en", 5, "html", record=record)
    check = report.check
    # 203 - 200 = 3 newly contacted: one of the two is hidden, the later one stays shown
    assert check.suppressed("tracking/2026Q1/contacted") != check.suppressed("tracking/2026Q2/contacted")
    assert not check.suppressed("tracking/2026Q3/contacted")
    # 63 - 60 persons and 32 - 30 reached since the previous quarter's cumulative figures
    assert check.suppressed("process/reach/cumulative/persons")
    assert check.suppressed("process/reach/cumulative/within_14")
    assert not check.suppressed("process/reach/2026Q2/persons")
    report.trajectory_table()
    report.process_indicators()
    report.close()
    page = "\n".join(o.data if type(o).__name__ == "HTML" else mistune.html(o.data)
                      for o in shown if type(o).__name__ in ("HTML", "Markdown"))
    found, bad = disclosure.scan_html_counts(page, 5)
    assert found >= 5 and bad == [], bad
    assert disclosure.SUPPRESSED_MARK in page and "&lt;5" not in page
    q2 = page[page.index(">2026Q2<"):].split("</tr>")[0]
    assert "not estimated" in q2 and "-2.00" not in q2 and "0.80" not in q2  # no number
    rec = json.loads(record.read_text())
    keys = {c["key"]: c for c in rec["cells"]}
    for key in ("tracking/2026Q1/contacted", "tracking/2026Q3/reoffending_any/events/contacted",
                "process/reach/cumulative/persons", "process/reach/2026Q2/within_14/with"):
        assert key in keys
    assert keys["process/reach/cumulative/persons"]["suppressed"]
    assert "value" not in keys["process/reach/cumulative/persons"]


def test_trajectory_rows_copy_the_bundle(tmp_path):
    bundle = make_bundle(tmp_path / "results")
    estimates = json.loads((bundle / "estimates.json").read_text())
    b = planned_boundaries(20)
    rows = trajectory_rows("2026Q3", 13, "abc", estimates, dict.fromkeys(
        ("reoffending", "education_job", "group_recruitment"), b))
    assert [r["family"] for r in rows] == ["reoffending", "education_job", "group_recruitment"]
    reo = rows[0]
    rd = next(e for e in estimates["outcomes"][0]["estimates"] if e["model"] == "risk_difference"
              and e["time"] == 365 and e["analysis"] == "matched")
    assert (reo["rd"], reo["rd_low"], reo["rd_high"]) == (rd["estimate"], rd["conf_low"],
                                                          rd["conf_high"])
    assert reo["events_contacted"] == 98 and reo["min_detectable_hr"] == 0.72
    assert reo["boundary_z"] == pytest.approx(b.z[12])
    assert reo["crossed"] == (abs(reo["rd"] / reo["rd_se"]) >= b.z[12])
    assert not rows[2]["crossed"]  # gates failed


def test_findings_use_the_boundary_of_the_current_look(tmp_path):
    bundle = make_bundle(tmp_path / "results")
    outcome = json.loads((bundle / "estimates.json").read_text())["outcomes"][0]
    assert finding(outcome, "en").kind == BENEFICIAL
    assert finding(outcome, "en", boundary_z=1.96).kind == BENEFICIAL
    strict = finding(outcome, "en", boundary_z=4.0)
    assert strict.kind == NO_DIFFERENCE and "every quarter" in strict.sentence
    assert finding(outcome, "da", boundary_z=math.inf).kind == NO_DIFFERENCE


@pytest.mark.slow
def test_track_builds_every_quarter_and_counts_the_contacted(simulated_warehouse, tmp_path):
    """`evaluation track` on a study whose initiative starts 2026-04-01: both quarters built,
    the contacted counts equal a direct count from the warehouse, reports show the series."""
    definition = (ROOT / "cohorts" / "knock_knock.toml").read_text("utf-8")
    cohort = tmp_path / "cohort.toml"
    cohort.write_text(definition.replace("start = 2023-09-01", "start = 2026-04-01"), "utf-8")
    analyses = ", ".join(f'"{p}"' for p in sorted((ROOT / "analyses").glob("*.toml")))
    study = tmp_path / "study.toml"
    study.write_text(
        f'[study]\nname = "sim"\nwarehouse = "{simulated_warehouse}"\ncohort = "{cohort}"\n'
        f'analyses = [{analyses}]\noutput = "output"\ndata_end = "2026-09-30"\nseed = 11\n\n'
        f'[report]\nquarter = "2026Q3"\nlanguages = ["en"]\n')
    runner = CliRunner()
    result = runner.invoke(cli, ["--quiet", "track", str(study)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "output"
    table = pd.read_parquet(out / "2026Q3" / "tracking" / "tracking.parquet")
    assert sorted(table["quarter"].unique()) == ["2026Q2", "2026Q3"]
    contacts = pd.read_parquet(simulated_warehouse / "contacts.parquet")
    contacts["contact_date"] = pd.to_datetime(contacts["contact_date"])
    for quarter, end in (("2026Q2", "2026-06-30"), ("2026Q3", "2026-09-30")):
        direct = contacts[(contacts["contact_date"] >= "2026-04-01")
                          & (contacts["contact_date"] <= end)]["person_id"].nunique()
        assert (table.loc[table["quarter"] == quarter, "contacted"] == direct).all()
    doc = json.loads((out / "2026Q3" / "tracking" / "tracking.json").read_text())
    for look in doc["looks"]:
        assert look["version"] in look["versions_kept"]
        assert (version_dir(out / look["quarter"], look["version"]) / "estimates.json").is_file()
    assert set(doc["projections"]) == {"reoffending", "education_job", "group_recruitment"}
    earlier = json.loads((out / "2026Q2" / "results" / "estimates.json").read_text())
    assert earlier["study"]["scope"] == "tracking"  # built only as far as the series needs
    assert all(o["primary"] for o in earlier["outcomes"]) and len(earlier["outcomes"]) == 3
    refused = runner.invoke(cli, ["--quiet", "report", str(study), "--quarter", "2026Q2"])
    assert refused.exit_code != 0 and "only as far as the tracking series needs" in refused.output
    result = runner.invoke(cli, ["--quiet", "report", str(study)])
    assert result.exit_code == 0, result.output
    for doc_name in ("quarterly", "technical"):
        page = (out / "2026Q3" / "report" / "en" / f"{doc_name}.html").read_text("utf-8")
        found, bad = disclosure.scan_html_counts(page, 5)
        assert found >= 5 and bad == [], bad
        assert "Does the initiative reach young people quickly?" in page
    page = (out / "2026Q3" / "report" / "en" / "quarterly.html").read_text("utf-8")
    assert "How the answer has developed" in page
    assert len(re.findall(r"an answer|no events to count yet", page)) >= 3
