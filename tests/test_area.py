"""Area-level estimators: the panel checks, the three methods on simulated panels, the command."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from evaluation.area import PanelError, fit_did, fit_its, fit_synth, prepare
from evaluation.cli import cli
from evaluation.simulate.area import simulate_reported_crime

START, END, INIT = np.datetime64("2016-10-01"), np.datetime64("2026-09-30"), np.datetime64("2023-09-01")


@pytest.fixture(scope="module")
def crime():
    frame, truth = simulate_reported_crime(3, START, END, INIT)
    return frame, truth


def _violence(frame, effect_unit="851"):
    return frame[frame["offence_category"] == "violence"][["municipality_code", "period", "count"]]


def _panel(frame, **kw):
    args = {"unit": "municipality_code", "time": "period", "outcome": "count", "treated_unit": "851",
                "start": "2023-09", "source": "crime.csv"} | kw
    return prepare(frame, **args)


def test_simulator_is_reproducible_and_states_truth(crime):
    frame, truth = crime
    again, truth_again = simulate_reported_crime(3, START, END, INIT)
    pd.testing.assert_frame_equal(frame, again)
    assert truth == truth_again
    assert frame["municipality_code"].nunique() >= 21
    assert frame["period"].nunique() == 120
    vw = truth["by_category"]["violence_weapons"]
    assert vw["att_per_period"] < 0 and vw["rate_ratio"] == pytest.approx(0.85)
    assert truth["by_category"]["property"]["att_per_period"] == 0.0
    other, _ = simulate_reported_crime(4, START, END, INIT)
    assert not frame["count"].equals(other["count"])


def test_panel_reads_quarters_months_and_years():
    rows = [{"u": u, "t": f"20{y:02d}K{q}", "y": 10 + q} for u in "abc" for y in (20, 21, 22)
            for q in (1, 2, 3, 4)]
    panel = prepare(pd.DataFrame(rows), unit="u", time="t", outcome="y", treated_unit="a",
                    start="2022Q1")
    assert panel.scale.kind == "quarter" and len(panel.pre_periods) == 8
    assert panel.label(panel.start) == "2022Q1"
    assert panel.count_outcome


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(index=f.index[5]), "unit '851' has no row for 1 of the 120 periods"),
    (lambda f: f.assign(count=f["count"].astype(object).where(f.index != 7, "x")), "row 8, column 'count': is not a number"),
    (lambda f: f.assign(period=f["period"].where(f.index != 2, "2019-13")), "row 3, column 'period': is not a period"),
])
def test_bad_panels_get_one_clear_message(crime, change, message):
    frame = _violence(crime[0]).reset_index(drop=True)
    with pytest.raises(PanelError) as err:
        _panel(change(frame))
    assert message in str(err.value) and str(err.value).startswith("crime.csv")


def test_start_outside_data_and_unknown_unit(crime):
    frame = _violence(crime[0])
    with pytest.raises(PanelError, match="outside the data"):
        _panel(frame, start="2030-01")
    with pytest.raises(PanelError, match="the treated unit '999' is not in the data"):
        _panel(frame, treated_unit="999")


def test_too_few_donors_and_pre_periods(crime):
    frame = _violence(crime[0])
    two = frame[frame["municipality_code"].isin(["851", "751"])]
    with pytest.raises(PanelError, match="synth needs at least 2 comparison units"):
        fit_synth(_panel(two))
    late = _panel(frame, start="2017-01")
    with pytest.raises(PanelError, match="synth needs at least 5 periods before the start"):
        fit_synth(late)
    assert fit_did(late).row()["method"] == "did"  # DiD needs 1 pre-period only


def test_did_recovers_effect_without_municipality_trends():
    """Parallel trends hold: the Poisson TWFE interval covers the true rate ratio, gate passes."""
    rng = np.random.default_rng(1)
    units, t = [f"m{i}" for i in range(20)], np.arange(48)
    rows = []
    for i, u in enumerate(units):
        mu = np.exp(4 + 0.1 * i + 0.1 * np.sin(t / 6)) * np.where((u == "m0") & (t >= 36), 0.8, 1)
        rows += [{"u": u, "t": int(s), "y": int(v)} for s, v in zip(t, rng.poisson(mu))]
    panel = prepare(pd.DataFrame(rows), unit="u", time="t", outcome="y", treated_unit="m0", start=36)
    result = fit_did(panel)
    d = result.diagnostics
    lo, hi = d["coefficient"] - 1.96 * d["coefficient_se"], d["coefficient"] + 1.96 * d["coefficient_se"]
    assert lo < np.log(0.8) < hi
    assert result.gates["passed"]
    assert result.row()["conf_low"] < result.estimate < result.row()["conf_high"] < 0
    event = result.extra("event_time")
    assert len(event) == 48 and event.loc[event["event_time"] == -1, "estimate"].item() == 0.0
    assert "Driscoll-Kraay" in d["standard_errors"]  # one treated unit: not clustered by unit


def test_did_flags_a_pre_trend():
    rows = [{"u": u, "t": t, "y": 10 + (0.5 * t if u == "a" else 0.0) + (t % 3)}
            for u in "abcd" for t in range(10)]
    result = fit_did(prepare(pd.DataFrame(rows), unit="u", time="t", outcome="y",
                             treated_unit="a", start=6))
    assert result.gates["pre_trend"] is False and not result.gates["passed"]
    assert "did not move in parallel" in result.gates["reasons"][0]
    assert result.row()["estimate"] is not None  # shown beside the failed gate, not hidden


def test_its_recovers_level_change():
    rng = np.random.default_rng(2)
    t = np.arange(96)
    mu = np.exp(5 + 0.002 * t + 0.2 * np.cos(2 * np.pi * t / 12)) * np.where(t >= 60, 0.8, 1.0)
    months = pd.period_range("2018-01", periods=96, freq="M").strftime("%Y-%m")
    frame = pd.DataFrame({"u": "a", "t": months, "y": rng.poisson(mu)})
    frame = pd.concat([frame, frame.assign(u="b")])  # a second unit is ignored by the ITS
    result = fit_its(prepare(frame, unit="u", time="t", outcome="y", treated_unit="a",
                             start=months[60]))
    d = result.diagnostics
    truth = float((mu[60:] - mu[60:] / 0.8).mean())
    assert result.row()["conf_low"] < truth < result.row()["conf_high"]
    assert d["seasonality"] and d["family"] in ("poisson", "negative_binomial")
    assert 0 <= d["ljung_box_p"] <= 1 and d["placebo_in_time"]["p_value"] > 0.01


def test_synth_weights_placebo_and_leave_one_out():
    """The treated unit is an exact mix of two donors before the start: weights recover it."""
    rng = np.random.default_rng(3)
    t = np.arange(30)
    donors = {f"d{i}": 50 + 3 * i + 5 * np.sin(t / (2 + i)) + rng.normal(0, 0.5, 30) for i in range(12)}
    treated = 0.6 * donors["d2"] + 0.4 * donors["d7"] - np.where(t >= 20, 8.0, 0.0)
    rows = [{"u": u, "t": int(s), "y": float(v)} for u, ys in {**donors, "T": treated}.items()
            for s, v in zip(t, ys)]
    result = fit_synth(prepare(pd.DataFrame(rows), unit="u", time="t", outcome="y",
                               treated_unit="T", start=20))
    row = result.row()
    assert row["weights"]["d2"] == pytest.approx(0.6, abs=0.05)
    assert row["weights"]["d7"] == pytest.approx(0.4, abs=0.05)
    assert sum(row["weights"].values()) == pytest.approx(1.0)
    assert row["estimate"] == pytest.approx(-8.0, abs=0.5)
    placebo = result.extra("placebo")
    assert len(placebo) == 13 and placebo["treated"].sum() == 1
    assert row["placebo_p"] == pytest.approx(1 / 13)
    loo = result.extra("leave_one_out")
    assert set(loo["left_out"]) >= {"d2", "d7"}


def test_results_are_read_only_copies(crime):
    result = fit_its(_panel(_violence(crime[0])))
    result.diagnostics["family"] = "changed"
    result.gates["passed"] = "changed"
    assert result.diagnostics["family"] != "changed" and result.gates["passed"] != "changed"


def test_command_json_rows(tmp_path, crime):
    path = tmp_path / "crime.csv"
    _violence(crime[0]).to_csv(path, index=False, sep=";")
    out = CliRunner().invoke(cli, ["--quiet", "area", str(path), "--unit", "municipality_code",
                                   "--time", "period", "--outcome", "count", "--treated-unit",
                                   "851", "--start", "2023-09", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert [r["method"] for r in doc["rows"]] == ["its", "did", "synth"]
    for r in doc["rows"]:
        assert {"estimate", "conf_low", "conf_high", "p_value"} <= set(r)
    synth = doc["rows"][2]
    assert synth["weights"] and synth["pre_rmspe"] > 0 and 0 < synth["placebo_p"] <= 1
    assert doc["verdict"] in ("agree_decrease", "agree_increase", "no_clear_change", "disagree",
                              "one_method", "cannot_say")


def test_command_bad_panel_exit_2(tmp_path):
    path = tmp_path / "p.csv"
    pd.DataFrame({"u": ["a", "a", "b"], "t": [1, 2, 1], "y": [1, 2, 3]}).to_csv(path, index=False)
    out = CliRunner().invoke(cli, ["area", str(path), "--unit", "u", "--time", "t", "--outcome",
                                   "y", "--treated-unit", "a", "--start", "2"])
    assert out.exit_code == 2
    assert "unit 'b' has no row for 1 of the 2 periods" in out.output
    assert "Traceback" not in out.output


def _trend_panel(shared_dip: float = 0.0, seed: int = 5):
    """20 units x 96 months, each with its own trend; the treated unit falls to 0.8 from month
    60; optionally a dip shared by every unit inside the pre-period (months 30-44)."""
    rng = np.random.default_rng(seed)
    t = np.arange(96)
    months = pd.period_range("2017-01", periods=96, freq="M").strftime("%Y-%m")
    dip = np.where((t >= 30) & (t < 45), shared_dip, 0.0)
    rows, truth = [], None
    for i in range(20):
        trend = rng.normal(0, 0.03) / 12
        mu0 = np.exp(4.5 + 0.05 * i + trend * t + 0.1 * np.cos(2 * np.pi * t / 12) + dip)
        mu = mu0 * np.where((i == 0) & (t >= 60), 0.8, 1.0)
        if i == 0:
            truth = float((mu - mu0)[60:].mean())
        rows += [{"u": f"m{i}", "t": m, "y": int(v)} for m, v in zip(months, rng.poisson(mu))]
    return prepare(pd.DataFrame(rows), unit="u", time="t", outcome="y", treated_unit="m0",
                   start=months[60]), truth


def test_did_with_unit_trends_recovers_effect_where_parallel_trends_fail():
    panel, truth = _trend_panel()
    with_trends = fit_did(panel)
    d = with_trends.diagnostics
    assert d["unit_trends"] and d["slope_change"] and d["placebo_in_time"] is not None
    row = with_trends.row()
    assert row["conf_low"] < truth < row["conf_high"]
    assert set(with_trends.gates) == {"placebo_in_time", "passed", "reasons"}
    classic = fit_did(panel, trends=False)
    assert classic.diagnostics["unit_trends"] is False and "pre_trend" in classic.gates
    # the classic model's interval is narrower: it carries no uncertainty about the trend
    assert classic.row()["std_error"] < row["std_error"]
    assert with_trends.to_dict()["assumes"].startswith("each municipality's own linear trend")


def test_its_comparison_placebo_flags_a_shared_shock():
    """A dip shared by every unit inside the pre-period biases the single-series ITS; the same
    model on the comparison units finds 'effects' there, and the gate fails."""
    panel, _ = _trend_panel(shared_dip=-0.3)
    result = fit_its(panel)
    check = result.diagnostics["comparison_placebo"]
    assert check["units"] == 19 and check["excluding_no_change"] >= 5 and check["p_value"] < 0.05
    assert result.gates["comparison_placebo"] is False and not result.gates["passed"]
    assert any("comparison units" in r for r in result.gates["reasons"])
    clean = fit_its(_trend_panel(shared_dip=0.0)[0])
    assert clean.diagnostics["comparison_placebo"]["excluding_no_change"] <= 3


def test_fixed_b_critical_values():
    from evaluation.area.effect import hac_critical_value, hac_p_value

    assert hac_critical_value(0.95, None, 120) == pytest.approx(1.959964, abs=1e-6)
    cv = hac_critical_value(0.95, 4, 120)  # b = 5/120
    assert cv == pytest.approx(1.96 + 2.9694 * 5 / 120 + 0.4160 * (5 / 120) ** 2
                               - 0.5324 * (5 / 120) ** 3)
    assert cv > 1.96 and hac_critical_value(0.95, 4, 40) > cv
    assert hac_p_value(cv * 2.0, 2.0, 4, 120) == pytest.approx(0.05)
    with pytest.raises(ValueError):
        hac_critical_value(0.93, 4, 120)


def test_declared_event_removes_the_shared_dip_bias_and_the_gate_still_catches_omission():
    """A dip shared by every unit inside the pre-period (months 30-44): declared as an event,
    the ITS recovers the effect and the comparison placebo passes; not declared, the gate fails
    (it must still catch a misspecified ITS)."""
    from evaluation.area.events import Event

    panel, truth = _trend_panel(shared_dip=-0.3)
    months = pd.period_range("2017-01", periods=96, freq="M").strftime("%Y-%m")
    declared = Event.parse(f"{months[30]}:{months[44]}:dip")
    result = fit_its(dataclasses.replace(panel, events=(declared,)))
    row, d = result.row(), result.diagnostics
    assert row["conf_low"] < truth < row["conf_high"]
    assert result.gates["comparison_placebo"] is True
    assert d["events"][0]["label"] == "dip" and d["events"][0]["first"] == months[30]
    assert d["events"][0]["level_shift"] == pytest.approx(np.exp(-0.3), abs=0.05)
    assert result.to_dict()["assumes"].endswith("at no other time")
    omitted = fit_its(panel)
    assert omitted.gates["comparison_placebo"] is False and "events" not in omitted.to_dict()["assumes"]


@pytest.mark.parametrize("event, message", [
    ("2020-03", "write FIRST:LAST"),
    ("2020-03:2020-01", "ends (2020-01) before it begins"),
    ("2030-01:2030-05:later", "has no period inside the data"),
    ("2015-01:2030-01", "covers every period"),
    ("2020Q1:2020Q2", "is not a period of the panel's kind (month)"),
])
def test_bad_events_get_one_clear_message(crime, event, message):
    with pytest.raises(PanelError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        _panel(_violence(crime[0]), events=(event,))
    assert err.value.column == "period"


def test_events_on_a_quarterly_panel_read_months_as_quarters():
    from evaluation.area.events import Event
    from evaluation.area.periods import PeriodScale

    lo, hi = Event.parse("2020-03:2021-05").span(PeriodScale("quarter"), 2016 * 4, 2026 * 4)
    assert (lo, hi) == (2020 * 4, 2021 * 4 + 1)


def test_command_event_option(tmp_path, crime):
    path = tmp_path / "crime.csv"
    _violence(crime[0]).to_csv(path, index=False)
    base = ["--quiet", "area", str(path), "--unit", "municipality_code", "--time", "period",
            "--outcome", "count", "--treated-unit", "851", "--start", "2023-09", "--method", "its",
            "--json"]
    out = CliRunner().invoke(cli, base + ["--event", "2020-03:2021-05:COVID-19"])
    assert out.exit_code == 0, out.output
    events = json.loads(out.output)["details"]["its"]["diagnostics"]["events"]
    assert [e["label"] for e in events] == ["COVID-19"] and events[0]["level_shift"] < 1
    text = CliRunner().invoke(cli, base[:-1] + ["--event", "2020-03:2021-05:COVID-19"])
    assert "declared event COVID-19 2020-03 to 2021-05: level shift" in text.output
    bad = CliRunner().invoke(cli, base + ["--event", "2020-03"])
    assert bad.exit_code == 2 and "write FIRST:LAST" in bad.output and "Traceback" not in bad.output


def test_conformal_block_statistics_and_interval():
    """Moving-block statistics equal the brute-force shifts; on iid noise with a known constant
    effect the interval holds the truth and the estimate, and p(truth) is large."""
    from evaluation.area.conformal import _block_statistics, conformal_interval, conformal_p_value
    from evaluation.area.synth import _simplex_least_squares

    rng = np.random.default_rng(11)
    u = rng.normal(size=40)
    post = np.arange(40) >= 30
    brute = [np.abs(np.roll(u, j)[post]).mean() for j in range(40)]
    assert np.allclose(_block_statistics(u, post), brute)
    t = np.arange(60)
    y0 = np.column_stack([20 + 2 * np.sin(t / (3 + i)) + rng.normal(0, 0.3, 60) for i in range(8)])
    post = t >= 45
    y1 = 0.5 * y0[:, 1] + 0.5 * y0[:, 4] + rng.normal(0, 0.3, 60) - 3.0 * post
    w = _simplex_least_squares(y0[~post], y1[~post])
    estimate = float((y1 - y0 @ w)[post].mean())
    ci = conformal_interval(y1, y0, post, estimate, 0.3, _simplex_least_squares)
    assert ci["conf_low"] < -3.0 < ci["conf_high"] and ci["conf_low"] < estimate < ci["conf_high"]
    assert ci["conf_high"] < 0 and ci["p_value_zero"] <= 0.05
    assert conformal_p_value(-3.0, y1, y0, post, _simplex_least_squares) > 0.05
    assert conformal_interval(y1[:19], y0[:19], post[:19] | (t[:19] > 15), -3.0, 0.3,
                              _simplex_least_squares) is None  # 19 periods: p never below 0.05


def test_synth_row_carries_the_conformal_interval(crime):
    result = fit_synth(_panel(_violence(crime[0])), inference=False)
    row, d = result.row(), result.diagnostics["conformal"]
    assert row["conf_low"] < row["estimate"] < row["conf_high"]
    assert (d["conf_low"], d["conf_high"]) == (row["conf_low"], row["conf_high"])
    assert d["periods"] == 120 and 0 < d["p_value_zero"] <= 1
