"""Reports from a real results bundle: simulate -> cohort build -> analyse -> report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from evaluation import disclosure
from evaluation.cli import cli
from evaluation.report.bundle import Bundle
from evaluation.report.cells import build_checker
from evaluation.report.findings import finding

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_reports_from_the_analysed_simulation(simulated_warehouse, tmp_path):
    analyses = ", ".join(f'"{p}"' for p in sorted((ROOT / "analyses").glob("*.toml")))
    study = tmp_path / "study.toml"
    study.write_text(
        f'[study]\nname = "sim"\nwarehouse = "{simulated_warehouse}"\n'
        f'cohort = "{ROOT / "cohorts" / "knock_knock.toml"}"\nanalyses = [{analyses}]\n'
        f'output = "output"\ndata_end = "2026-09-30"\nseed = 11\n\n'
        f'[report]\nquarter = "2026Q3"\nlanguages = ["da", "en"]\n'
    )
    runner = CliRunner()
    for args in (["cohort", "build", str(study)], ["analyse", str(study)], ["report", str(study)]):
        result = runner.invoke(cli, ["--quiet", *args])
        assert result.exit_code == 0, (args, result.output)
    bundle = Bundle.open(tmp_path / "output" / "2026Q3" / "results")
    out = tmp_path / "output" / "2026Q3" / "report"
    check = build_checker(bundle, "2026Q3", 5)
    for lang in ("da", "en"):
        sentences = [finding(o, lang, 5, check).sentence for _, o in bundle.families()]
        assert len(sentences) == 3
        for doc in ("quarterly", "technical"):
            page = (out / lang / f"{doc}.html").read_text(encoding="utf-8")
            found, bad = disclosure.scan_html_counts(page, 5)
            assert found >= 10 and bad == [], (lang, doc, bad)
            record = json.loads((out / lang / f"{doc}.html.disclosure.json").read_text())
            assert record["quarter"] == "2026Q3" and record["threshold"] == 5
            assert sum(c["kind"] == "count" for c in record["cells"]) >= 10
            assert all("value" not in c for c in record["cells"] if c["suppressed"])
            imgs = re.findall(r"<img\b[^>]*src=\"([^\"]{0,30})", page)
            assert imgs and all(s.startswith("data:image/png;base64,") for s in imgs)
            if doc == "technical":  # the finding sentences of the primary outcomes
                for sentence in sentences:
                    assert sentence.replace("'", "&#x27;") in page or sentence in page
            else:
                assert page.count('class="finding"') == 3
