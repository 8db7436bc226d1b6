"""Survival engine: properties of the estimators, diagnostics, errors and the CLI."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from evaluation.cli import cli
from evaluation.errors import InputError
from evaluation.survival import TIDY_COLUMNS, SurvivalSpec, cif_curve, fit_all, km_curve
from evaluation.survival.diagnostics import e_value, min_detectable_hr, ph_test
from evaluation.survival.nonparametric import aalen_johansen, kaplan_meier, value_at

REF_CSV = Path(__file__).parent / "data" / "reference" / "competing_risks.csv"


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return pd.read_csv(REF_CSV)


def _simulate(n: int, seed: int, hr: float = 0.7, crossing: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    treated = rng.integers(0, 2, n)
    x = rng.normal(size=n)
    rate = 0.002 * np.exp(0.3 * x) * np.where(treated == 1, hr, 1.0)
    t_event = rng.exponential(1 / rate)
    if crossing:  # treated: early hazard high, then none -> hazards not proportional
        t_event = np.where(treated == 1, rng.uniform(0, 300, n), t_event)
        t_event = np.where((treated == 1) & (rng.random(n) < 0.5), 5000, t_event)
    t_comp = rng.exponential(1 / 0.0005, n)
    t_cens = rng.uniform(100, 1000, n)
    time = np.minimum.reduce([t_event, t_comp, t_cens]).round()
    status = np.select([time == t_event.round(), time == t_comp.round()], [1, 2], 0)
    return pd.DataFrame(
        {"time": time, "status": status, "treated": treated, "x": x, "cluster": np.arange(n) // 4}
    )


def test_tidy_has_the_contract_columns_and_models(ref):
    result = fit_all(ref, SurvivalSpec(covariates=("age",), cluster="set_id", strata="set_id"))
    tidy = result.tidy()
    assert tuple(tidy.columns) == TIDY_COLUMNS
    assert set(tidy.model) == {
        "kaplan_meier", "cumulative_incidence", "risk_difference", "risk_ratio", "cox",
        "cox_stratified", "fine_gray", "rmst", "rmst_difference",
    }  # fmt: skip
    assert set(tidy.loc[tidy.model == "kaplan_meier", "group"]) == {0, 1}
    assert all(isinstance(g, int) for g in tidy.loc[tidy.model == "rmst", "group"])
    assert tidy.loc[tidy.model == "risk_difference", "group"].isna().all()
    assert sorted(set(tidy.loc[tidy.model == "cumulative_incidence", "time"])) == [183, 365, 730]
    hz = tidy[tidy.model.isin(["cox", "fine_gray"])]
    np.testing.assert_allclose(hz.hazard_ratio, np.exp(hz.estimate))
    d = result.diagnostics
    assert d["n"] == 800 and d["n_events_by_group"] == {"0": 304, "1": 84}
    assert set(d["ph_test"]["terms"]) == {"treated", "age"}
    assert 0 < d["min_detectable_hr"] < 1 < d["min_detectable_hr_increase"]
    assert d["e_value"]["point"] > d["e_value"]["ci"] >= 1
    assert "cox" in str(result) and "E-value" in result.summary()


def test_risk_difference_and_ratio_follow_from_the_arms(ref):
    tidy = fit_all(ref, SurvivalSpec(horizons=(365,))).tidy()
    ci = tidy[tidy.model == "cumulative_incidence"].set_index("group")
    rd = tidy[tidy.model == "risk_difference"].iloc[0]
    rr = tidy[tidy.model == "risk_ratio"].iloc[0]
    assert rd.estimate == pytest.approx(ci.loc[1, "estimate"] - ci.loc[0, "estimate"])
    assert rd.std_error == pytest.approx(np.hypot(ci.loc[1, "std_error"], ci.loc[0, "std_error"]))
    assert rr.estimate == pytest.approx(ci.loc[1, "estimate"] / ci.loc[0, "estimate"])
    assert rr.conf_low < rr.estimate < rr.conf_high


def test_deterministic_and_no_warnings(ref):
    spec = SurvivalSpec(covariates=("age", "prior_charges"), cluster="set_id")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = fit_all(ref, spec).tidy()
        b = fit_all(ref.sample(frac=1.0, random_state=3), spec).tidy()
    pd.testing.assert_frame_equal(a, b, rtol=1e-7)


def test_unit_weights_and_zero_entry_change_nothing(ref):
    base = fit_all(ref, SurvivalSpec()).tidy()
    frame = ref.assign(w=1.0, start=0.0)
    weighted = fit_all(frame, SurvivalSpec(weights="w")).tidy()
    entered = fit_all(frame, SurvivalSpec(entry="start")).tidy()
    # weights switch hazard SEs and the non-parametric SEs to robust ones (R's robust = TRUE)
    pd.testing.assert_series_equal(base.estimate, weighted.estimate, rtol=1e-9)
    nonpar_se = base.model.isin(["kaplan_meier", "cumulative_incidence", "rmst"]).to_numpy()
    ok = (base.std_error > 0).to_numpy() & nonpar_se
    # with unit weights the robust (infinitesimal-jackknife) SE is close to Greenwood's / Gray's
    np.testing.assert_allclose(weighted.std_error[ok], base.std_error[ok], rtol=0.05)

    def pick(tidy, models):
        return tidy[tidy.model.isin(models)].reset_index(drop=True)

    np.testing.assert_allclose(
        pick(weighted, ["cox"]).estimate, pick(base, ["cox"]).estimate, rtol=1e-6
    )
    np.testing.assert_allclose(
        pick(entered, ["cox"]).estimate, pick(base, ["cox"]).estimate, rtol=1e-6
    )
    np.testing.assert_allclose(
        pick(entered, ["cox"]).std_error, pick(base, ["cox"]).std_error, rtol=1e-6
    )
    nonpar = ["kaplan_meier", "cumulative_incidence", "rmst"]
    pd.testing.assert_frame_equal(pick(base, nonpar), pick(entered, nonpar), rtol=1e-9)


def test_weights_double_counts(ref):
    # weight 2 on every row: same estimates as every row twice
    twice = pd.concat([ref, ref], ignore_index=True)
    a = value_at(aalen_johansen(twice.time, twice.status), [365], 2000)
    b = value_at(aalen_johansen(ref.time, ref.status, weights=np.full(len(ref), 2.0)), [365], 2000)
    assert a.estimate.iloc[0] == pytest.approx(b.estimate.iloc[0])


def test_kaplan_meier_with_entry_matches_lifelines():
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(5)
    entry = rng.uniform(0, 50, 300).round()
    time = entry + rng.exponential(200, 300).round() + 1
    event = (rng.random(300) < 0.7).astype(int)
    ours = kaplan_meier(time, event, entry=entry)
    kmf = KaplanMeierFitter().fit(time, event, entry=entry)
    theirs = kmf.survival_function_at_times(ours.time).to_numpy()
    np.testing.assert_allclose(ours.estimate, theirs, rtol=1e-10)


def test_cumulative_incidence_without_competing_is_one_minus_km(ref):
    no_comp = ref.assign(status=ref.status.where(ref.status != 2, 0))
    aj = aalen_johansen(no_comp.time, no_comp.status)
    km = kaplan_meier(no_comp.time, no_comp.status)
    np.testing.assert_allclose(aj.estimate, 1 - km.estimate, atol=1e-12)
    # cmprsk's variance is not Greenwood's (different tie handling), but close to it
    np.testing.assert_allclose(aj.std_error, km.std_error, rtol=0.02)


def test_curves(ref):
    spec = SurvivalSpec()
    km, cif = km_curve(ref, spec), cif_curve(ref, spec)
    for curve, start in ((km, 1.0), (cif, 0.0)):
        assert list(curve.columns) == [
            "group",
            "time",
            "estimate",
            "conf_low",
            "conf_high",
            "at_risk",
            "events",
        ]
        first = curve.groupby("group").head(1)
        assert (first.time == 0).all() and (first.estimate == start).all()
        assert set(first.at_risk) == {600, 200}
    assert (np.diff(cif[cif.group == 1].estimate) >= 0).all()
    assert (np.diff(km[km.group == 0].estimate) <= 0).all()


def test_ph_test_detects_crossing_hazards():
    good = _simulate(1500, 1)
    bad = _simulate(1500, 2, crossing=True)
    for frame, expect_small in ((good, False), (bad, True)):
        x = frame[["treated", "x"]].to_numpy(float)
        res = ph_test(frame.time, (frame.status == 1).astype(int), x, ["treated", "x"])
        if expect_small:
            assert res["terms"]["treated"] < 0.001 and res["global"] < 0.001
        else:
            assert res["terms"]["treated"] > 0.01


def test_cox_recovers_simulated_hazard_ratio():
    frame = _simulate(4000, 7, hr=0.6)
    tidy = fit_all(frame, SurvivalSpec(covariates=("x",), cluster="cluster")).tidy()
    row = tidy[(tidy.model == "cox") & (tidy.term == "treated")].iloc[0]
    assert row.conf_low < math.log(0.6) < row.conf_high
    assert 0.5 < row.hazard_ratio < 0.72


def test_fine_gray_equals_cox_on_expanded_finegray_data():
    from evaluation.survival.cox import _cox_newton_raphson, finegray_data, fit_fine_gray

    frame = _simulate(600, 4)
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(frame))
    direct = fit_fine_gray(frame.time, frame.status, frame[["treated", "x"]], weights=w)
    fg = finegray_data(frame.time.to_numpy(), frame.status.to_numpy(), 1, w)
    assert len(fg) > len(frame)
    rows = fg.row.to_numpy()
    x = frame[["treated", "x"]].to_numpy()[rows]
    x = x - frame[["treated", "x"]].to_numpy().mean(axis=0)
    expanded = _cox_newton_raphson(
        fg.start.to_numpy(), fg.stop.to_numpy(), fg.status.to_numpy(), x, fg.weight.to_numpy(), rows
    )
    np.testing.assert_allclose(direct.params, expanded["beta"], rtol=1e-8)
    np.testing.assert_allclose(
        direct.std_error, np.sqrt(np.diag(expanded["robust_cov"])), rtol=1e-8
    )


@pytest.mark.parametrize("with_weights", [False, True])
def test_stratified_cox_matches_lifelines(with_weights):
    # Efron ties in both; coefficients 1e-5 relative (lifelines' convergence tolerance). Robust SE 1e-4 relative without tied
    # times; with ties 2e-2 (lifelines' sandwich ignores ties; ours follows R, see the
    # against_r tests).
    from evaluation.survival.cox import fit_cox

    frame = _simulate(400, 8)
    frame["event"] = (frame.status == 1).astype(int)
    frame["w"] = np.random.default_rng(3).uniform(0.5, 2.0, len(frame)) if with_weights else 1.0
    frame["set"] = frame["cluster"] // 2
    args = {"duration": "time", "event": "event", "terms": ["treated", "x"], "cluster": "cluster",
                "strata": "set", "weights": "w" if with_weights else None}  # fmt: skip
    untied = frame.assign(time=frame.time + np.random.default_rng(2).uniform(0, 0.5, len(frame)))
    for data, se_rtol in ((untied, 1e-4), (frame, 2e-2)):
        ours = fit_cox(data, **args)
        ref = fit_cox(data, **args, engine="lifelines")
        np.testing.assert_allclose(ours.params, ref.params, rtol=1e-5)
        np.testing.assert_allclose(ours.std_error, ref.std_error, rtol=se_rtol)


def test_cox_with_entry_matches_lifelines_coefficients():
    from evaluation.survival.cox import fit_cox

    rng = np.random.default_rng(4)
    n = 600
    frame = pd.DataFrame({"x": rng.normal(size=n), "entry": rng.uniform(0, 200, n).round()})
    frame["time"] = frame.entry + rng.exponential(300 * np.exp(-0.5 * frame.x)).round() + 1
    frame["event"] = (rng.random(n) < 0.7).astype(int)
    args = {"duration": "time", "event": "event", "terms": ["x"], "entry": "entry"}
    ours, ref = fit_cox(frame, **args), fit_cox(frame, **args, engine="lifelines")
    np.testing.assert_allclose(ours.params, ref.params, rtol=1e-5)
    np.testing.assert_allclose(ours.std_error, ref.std_error, rtol=1e-5)  # model-based SE


def test_cox_without_finite_estimate_is_a_failure_not_a_number():
    frame = _simulate(300, 9)
    frame.loc[frame.treated == 1, "status"] = 0  # no events among the treated
    result = fit_all(frame, SurvivalSpec())
    assert "cox" in result.diagnostics["failures"]
    # the row stays, holding no number and the reason (the "not estimated" rule)
    cox = result.tidy().query("model == 'cox'")
    assert len(cox) == 1 and cox["not_estimated"].iloc[0] == result.diagnostics["failures"]["cox"]
    assert cox[["estimate", "std_error", "conf_low", "conf_high", "p_value", "hazard_ratio"]].isna().all(axis=None)


def test_min_detectable_hr_and_e_value_formulas():
    low, high = min_detectable_hr(100, 0.5)
    z = 0.8416212335729143 + 1.959963984540054
    assert high == pytest.approx(math.exp(math.sqrt(z**2 / 25)))
    assert low == pytest.approx(1 / high)
    rare = e_value(0.5, 0.3, 0.8, outcome_risk=0.05)
    assert rare["point"] == pytest.approx(2 + math.sqrt(2))
    assert rare["ci"] == pytest.approx(1.25 + math.sqrt(1.25 * 0.25))
    assert e_value(0.5, 0.3, 1.2, 0.05)["ci"] == 1.0
    common = e_value(2.0, 1.5, 2.5, outcome_risk=0.4)
    rr = (1 - 0.5 ** math.sqrt(2)) / (1 - 0.5 ** math.sqrt(0.5))
    assert common["point"] == pytest.approx(rr + math.sqrt(rr * (rr - 1)))
    assert common["rare_outcome"] is False


def test_no_competing_events_no_fine_gray(ref):
    frame = ref.assign(status=ref.status.where(ref.status != 2, 0))
    assert "fine_gray" not in set(fit_all(frame, SurvivalSpec()).tidy().model)


def test_horizon_beyond_follow_up_is_nan(ref):
    tidy = fit_all(ref, SurvivalSpec(horizons=(365, 5000))).tidy()
    late = tidy[(tidy.time == 5000) & (tidy.model == "kaplan_meier")]
    assert late.estimate.isna().all()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.drop(columns="status"), "column 'status': column not found"),
        (
            lambda f: f.assign(time=f.time.astype(object).where(f.index != 4, "soon")),
            "row 5, column 'time': time is not a number",
        ),
        (
            lambda f: f.assign(time=f.time.where(f.index != 9, -3)),
            "row 10, column 'time': time is negative",
        ),
        (
            lambda f: f.assign(status=f.status.where(f.index != 2, 1.5)),
            "row 3, column 'status': status is not an integer code",
        ),
        (
            lambda f: f.assign(treated=f.treated.where(f.index != 0, 2)),
            "column 'treated': the treatment must have exactly two values, found 3",
        ),
    ],
)
def test_input_errors_name_column_and_row(ref, change, message):
    with pytest.raises(InputError) as err:
        fit_all(change(ref.copy()), SurvivalSpec(), source="table.csv")
    assert str(err.value) == f"table.csv, {message}"


# --- CLI ---------------------------------------------------------------------------------


def _run(args):
    return CliRunner().invoke(cli, ["--quiet", "survival", *args])


def test_cli_json(tmp_path):
    frame = pd.read_csv(REF_CSV)
    path = tmp_path / "cr.parquet"
    frame.to_parquet(path)
    res = _run(
        [
            str(path),
            "--time",
            "time",
            "--event",
            "status",
            "--treatment",
            "treated",
            "--covariates",
            "age,prior_charges",
            "--cluster",
            "set_id",
            "--strata",
            "set_id",
            "--horizons",
            "180,365,730",
            "--json",
        ]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert set(doc) >= {"estimates", "diagnostics"}
    for row in doc["estimates"]:
        assert set(row) == set(TIDY_COLUMNS)
    models = {r["model"] for r in doc["estimates"]}
    assert {
        "kaplan_meier",
        "cumulative_incidence",
        "cox",
        "cox_stratified",
        "fine_gray",
        "rmst",
        "rmst_difference",
        "risk_difference",
        "risk_ratio",
    } <= models
    km = [r for r in doc["estimates"] if r["model"] == "kaplan_meier"]
    assert {r["group"] for r in km} == {0, 1} and {r["time"] for r in km} == {180, 365, 730}
    cox = next(r for r in doc["estimates"] if r["model"] == "cox" and r["term"] == "treated")
    assert cox["std_error"] == pytest.approx(0.11397170072, rel=1e-3)  # robust, clustered
    assert cox["hazard_ratio"] == pytest.approx(math.exp(cox["estimate"]))
    assert doc["estimates"][0]["p_value"] is None  # NaN -> null
    assert "ph_test" in doc["diagnostics"] and "e_value" in doc["diagnostics"]


def test_cli_text_summary():
    res = _run([str(REF_CSV), "--time", "time", "--event", "status", "--treatment", "treated"])
    assert res.exit_code == 0, res.output
    assert "fine_gray" in res.stdout and "Minimum detectable HR" in res.stdout


@pytest.mark.parametrize(
    "content, extra, expected",
    [
        (None, [], "file not found"),
        (
            "time,status,treated\n10,1,0\n20,0,1\n",
            ["--time", "days"],
            "column 'days': column not found",
        ),
        (
            "time,status,treated\n10,1,0\nabc,0,1\n",
            [],
            "row 2, column 'time': time is not a number",
        ),
        ("time,status,treated\n10,1,0\n-1,0,1\n", [], "row 2, column 'time': time is negative"),
        (
            "time,status,treated\n10,x,0\n5,0,1\n",
            [],
            "row 1, column 'status': status is not a number",
        ),
        (
            "time,status,treated\n10,1.5,0\n5,0,1\n",
            [],
            "row 1, column 'status': status is not an integer",
        ),
        (
            "time,status,treated\n10,1,0\n5,0,1\n7,0,2\n",
            [],
            "column 'treated': the treatment must have",
        ),
    ],
)
def test_cli_errors_exit_2_one_line(tmp_path, content, extra, expected):
    path = tmp_path / "t.csv"
    if content is not None:
        path.write_text(content)
    args = [str(path), "--time", "time", "--event", "status", "--treatment", "treated"]
    res = _run(args + extra)
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert str(path) in lines[0] and expected in lines[0]
    assert "Traceback" not in res.output


def test_stratified_cox_on_many_small_strata_converges_without_step_halving(monkeypatch):
    """Matched sets as strata put each risk set of a few rows on its own stretch of the time
    axis; its sums must not carry the rounding of sums over all later strata (which made the
    log-likelihood jump between neighbouring coefficients and Newton steps halve 30 times)."""
    import evaluation.survival.cox as cox_module

    rng = np.random.default_rng(4)
    n_sets, size = 30000, 5
    set_id = np.repeat(np.arange(n_sets), size)
    treated = np.tile([1, 0, 0, 0, 0], n_sets)
    frailty = np.repeat(rng.normal(0, 0.5, n_sets), size)
    t = rng.exponential(365 / np.exp(frailty - 0.2 * treated))
    c = rng.uniform(30, 730, len(t))
    entry = np.where(rng.random(len(t)) < 0.3, rng.uniform(0, 20, len(t)), -1.0)
    frame = pd.DataFrame({"start": entry, "stop": np.ceil(np.minimum(t, c)) + 21, "treated": treated,
                          "event": (t <= c).astype(int), "set_id": set_id})
    calls = []
    evaluate = cox_module._cox_evaluate
    monkeypatch.setattr(cox_module, "_cox_evaluate", lambda *a: calls.append(1) or evaluate(*a))
    fit = cox_module.fit_cox(frame, duration="stop", event="event", terms=["treated"], strata="set_id",
                             entry="start")
    assert len(calls) <= 8, f"{len(calls)} evaluations of the likelihood"
    assert fit.params[0] == pytest.approx(-0.2, abs=0.05)
