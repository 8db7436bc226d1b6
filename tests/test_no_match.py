"""A study where no contacted person has a comparison: every stage runs, nothing is estimated.

Early in an initiative, or in a small municipality, the matching rules may find no comparison
candidate for anyone. The quarterly report must still be produced and say plainly that it cannot
yet answer, with no estimate, instead of the pipeline stopping.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from evaluation.cli import cli
from evaluation.report.findings import NOT_YET, finding
from evaluation.report.texts import text

ROOT = Path(__file__).resolve().parents[1]


def _study_with_an_impossible_caliper(folder: Path, warehouse: Path) -> Path:
    cohort = (ROOT / "cohorts" / "knock_knock.toml").read_text()
    cohort, n = re.subn(r"(?m)^caliper = 0\.2\b", "caliper = 0.000000001", cohort)
    assert n == 1
    (folder / "cohort.toml").write_text(cohort)
    analyses = ", ".join(f'"{p}"' for p in sorted((ROOT / "analyses").glob("*.toml")))
    study = folder / "study.toml"
    study.write_text(
        f'[study]\nname = "no match"\nwarehouse = "{warehouse}"\ncohort = "cohort.toml"\n'
        f'analyses = [{analyses}]\noutput = "output"\ndata_end = "2026-09-30"\nseed = 3\n'
        f'[report]\nquarter = "2026Q3"\nlanguages = ["da", "en"]\n')
    return study


def test_no_comparison_for_anyone_gives_a_report_that_cannot_yet_answer(simulated_warehouse, tmp_path):
    study = _study_with_an_impossible_caliper(tmp_path, simulated_warehouse)
    runner = CliRunner()
    built = runner.invoke(cli, ["cohort", "build", str(study)])
    assert built.exit_code == 0, built.output
    assert "none of the" in built.output and "no matched set" in built.output
    cohort = pd.read_parquet(tmp_path / "output" / "2026Q3" / "cohort" / "cohort.parquet")
    assert len(cohort) == 0 and str(cohort["index_date"].dtype) != "float64"

    analysed = runner.invoke(cli, ["--quiet", "analyse", str(study)])
    assert analysed.exit_code == 0, analysed.output
    est = json.loads((tmp_path / "output" / "2026Q3" / "results" / "estimates.json").read_text())
    assert est["cohort"]["n_contacted"] == 0 and est["cohort"]["counts"]["contacted_eligible"] > 0
    for o in est["outcomes"]:
        assert o["gates"]["passed"] is False
        assert not any(r.startswith("estimands:") for r in o["gates"]["reasons"])
        assert all(e.get("estimate") is None for e in o["estimates"] if e["analysis"] == "matched")
        for lang in ("da", "en"):
            f = finding(o, lang)
            assert f.kind == NOT_YET and f.reasons == (text("reason_no_match", lang),)

    shown = runner.invoke(cli, ["--quiet", "report", str(study), "--format", "html", "--lang", "en"])
    assert shown.exit_code == 0, shown.output
    page = (tmp_path / "output" / "2026Q3" / "report" / "en" / "quarterly.html").read_text()
    assert text("reason_no_match", "en") in page
