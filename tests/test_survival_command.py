"""`evaluation survival` cannot flip an effect: --treated, the treated value stated, Excel,
--time-unit and horizons beyond follow-up."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from evaluation.cli import cli


def _table(n: int = 600, seed: int = 4) -> pd.DataFrame:
    """Treated (1) have 0.7 times the hazard; follow-up up to 800 days."""
    rng = np.random.default_rng(seed)
    treated = rng.integers(0, 2, n)
    t = rng.exponential(400 / np.where(treated == 1, 0.7, 1.0))
    c = rng.uniform(100, 800, n)
    return pd.DataFrame({"time": np.minimum(t, c).round() + 1, "status": (t <= c).astype(int),
                         "treated": treated})


def _run(path, *extra):
    return CliRunner().invoke(cli, ["survival", str(path), "--time", "time", "--event", "status",
                                    "--treatment", "arm", "--json", *extra])


def _hr(result) -> float:
    doc = json.loads(result.stdout)
    return next(e["hazard_ratio"] for e in doc["estimates"] if e["model"] == "cox")


@pytest.mark.parametrize("treated_label, other", [("ja", "nej"), ("kontakt", "sammenligning")])
def test_labels_need_treated_and_then_give_the_same_hazard_ratio(tmp_path, treated_label, other):
    frame = _table()
    reference = tmp_path / "ref.csv"
    frame.rename(columns={"treated": "arm"}).to_csv(reference, index=False)
    hr = _hr(_run(reference))
    assert hr < 1
    labelled = tmp_path / "labels.csv"
    frame.assign(arm=np.where(frame["treated"] == 1, treated_label, other)).drop(
        columns="treated").to_csv(labelled, index=False)
    refused = _run(labelled)
    assert refused.exit_code == 2 and "--treated" in refused.output and "Traceback" not in refused.output
    ok = _run(labelled, "--treated", treated_label)
    assert ok.exit_code == 0, ok.output
    assert _hr(ok) == pytest.approx(hr, rel=1e-9)
    assert json.loads(ok.stdout)["treated"] == {"column": "arm", "treated": treated_label,
                                                "untreated": other}
    flipped = _run(labelled, "--treated", other)
    assert _hr(flipped) == pytest.approx(1 / hr, rel=1e-6)
    assert _run(labelled, "--treated", "maybe").exit_code == 2


def test_text_output_states_the_treated_value_and_reads_excel(tmp_path):
    path = tmp_path / "t.xlsx"
    _table().rename(columns={"treated": "arm"}).to_excel(path, index=False)
    result = CliRunner().invoke(cli, ["survival", str(path), "--time", "time", "--event", "status",
                                      "--treatment", "arm"])
    assert result.exit_code == 0, result.output
    assert "Arms: treated: arm = 1; untreated: arm = 0 (time in days)" in result.output


def test_time_unit_sets_the_default_horizons_and_horizons_beyond_follow_up_are_named(tmp_path):
    frame = _table()
    frame["time"] = (frame["time"] / 30.4375).round(2)  # months, up to about 26
    frame.loc[frame["treated"] == 1, "time"] = frame.loc[frame["treated"] == 1, "time"].clip(upper=18)
    path = tmp_path / "m.csv"
    frame.rename(columns={"treated": "arm"}).to_csv(path, index=False)
    result = _run(path, "--time-unit", "months")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["spec"]["horizons"] == [6, 12, 24] and doc["time_unit"] == "months"
    notes = doc["horizons_beyond_follow_up"]
    assert len(notes) == 1 and "horizon 24" in notes[0] and "arm = 1" in notes[0]
    text = CliRunner().invoke(cli, ["survival", str(path), "--time", "time", "--event", "status",
                                    "--treatment", "arm", "--time-unit", "months"]).output
    assert "Note: horizon 24 lies beyond the follow-up of arm = 1" in text
