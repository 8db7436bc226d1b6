"""`evaluation area --json` against published studies (data, numbers and sources committed in
tests/data/area/, see published.json there)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from evaluation.cli import cli

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = json.loads((ROOT / "tests" / "data" / "area" / "published.json").read_text())


def _run(study: str) -> dict:
    args = shlex.split(PUBLISHED[study]["command"])[1:]
    args = [str(ROOT / a) if a.startswith("tests/") else a for a in args]
    out = CliRunner().invoke(cli, ["--quiet", *args])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def test_card_krueger_difference_in_differences():
    spec = PUBLISHED["card_krueger"]
    row = _run("card_krueger")["rows"][0]
    assert row["method"] == "did"
    assert row["estimate"] == pytest.approx(spec["published"]["did"], abs=spec["tolerance"]["did_abs"])
    se = (row["conf_high"] - row["conf_low"]) / (2 * 1.959964)
    assert se == pytest.approx(spec["published"]["did_se"], abs=spec["tolerance"]["did_se_abs"])


def test_proposition_99_synthetic_control():
    spec = PUBLISHED["prop99"]
    doc = _run("prop99")
    row = doc["rows"][0]
    tol = spec["tolerance"]
    for state, weight in row["weights"].items():
        published = spec["published"]["weights"].get(state, 0.0)
        assert weight == pytest.approx(published, abs=tol["weights_abs"]), state
    assert row["estimate"] == pytest.approx(spec["published"]["average_gap_1989_2000"],
                                            abs=tol["average_gap_abs"])
    assert row["placebo_p"] == pytest.approx(spec["published"]["placebo_p"], abs=tol["placebo_p_abs"])
    assert doc["details"]["synth"]["diagnostics"]["placebo_rank"] == 1
    assert row["conf_low"] < row["estimate"] < row["conf_high"]  # conformal (none published)
    assert row["gates_passed"]
