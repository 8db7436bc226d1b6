"""The survival engine against reference numbers from R and the published Rossi Cox model.

The R numbers are parsed from ``tests/data/reference/competing_risks.R-output.txt`` (made by
``competing_risks.R`` on ``competing_risks.csv``: R 4.2, survival 3.5-3, cmprsk 2.2-11) and
``survival_checks.R-output.txt`` (``survival_checks.R`` on ``survival_checks.csv``: left
truncation, case weights, strata with clusters, clustered Fine-Gray, weighted Kaplan-Meier,
``cox.zph``). Tolerances are stated at each comparison.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.survival import SurvivalSpec, fit_all
from evaluation.survival.cox import fit_cox, fit_fine_gray
from evaluation.survival.nonparametric import aalen_johansen, kaplan_meier, rmst, value_at

pytestmark = pytest.mark.against_r

REF = Path(__file__).parent / "data" / "reference"
HORIZONS = (180, 365, 730)
NUMBER = re.compile(r"^-?\d+(\.\d+)?(e[-+]?\d+)?$", re.IGNORECASE)


def _is_number(token: str) -> bool:
    return bool(NUMBER.match(token))


def parse_r_output(text: str) -> dict[str, dict]:
    """Parse the sections ('## name') of the R output into numbers.

    Table sections give {row label: [numbers across all printed column blocks]}; the
    Kaplan-Meier section (an R list) gives {component: [values]}.
    """
    sections: dict[str, list[str]] = {}
    name = None
    for line in text.splitlines():
        if line.startswith("## "):
            name = line[3:].split(" (")[0].strip()
            sections[name] = []
        elif name is not None and line.strip():
            sections[name].append(line)
    parsed: dict[str, dict] = {}
    for name, lines in sections.items():
        if name.startswith("km_survival"):
            comp: dict[str, list] = {}
            key = None
            for line in lines:
                if line.startswith("$"):
                    key = line[1:].strip()
                    comp[key] = []
                elif line.lstrip().startswith("[") and key is not None:
                    comp[key] += [t for t in line.split()[1:]]
            parsed["km"] = {k: v for k, v in comp.items()}
            continue
        rows: dict[str, list[float]] = {}
        for line in lines:
            tokens = line.split()
            if re.match(r"^\[\d+\]$", tokens[0]):  # a printed R vector
                rows.setdefault("values", []).extend(float(t) for t in tokens[1:])
                continue
            if all(_is_number(t) for t in tokens) and len(tokens) == len(HORIZONS):
                continue  # a header of time points
            if not any(_is_number(t) for t in tokens[1:]):
                continue  # a header of column names
            numeric_from = (
                2
                if (
                    len(tokens) > 2
                    and _is_number(tokens[0])
                    and _is_number(tokens[1])
                    and len(tokens) == 2 + len(HORIZONS)
                )
                else 1
            )
            label = " ".join(tokens[:numeric_from])
            rows.setdefault(label, []).extend(float(t) for t in tokens[numeric_from:])
        parsed[name] = rows
    return parsed


@pytest.fixture(scope="module")
def reference() -> dict[str, dict]:
    return parse_r_output((REF / "competing_risks.R-output.txt").read_text())


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    frame = pd.read_csv(REF / "competing_risks.csv")
    frame["event1"] = (frame["status"] == 1).astype(int)
    return frame


@pytest.fixture(scope="module")
def full_result(data):
    spec = SurvivalSpec(covariates=("age", "prior_charges"), cluster="set_id", horizons=HORIZONS)
    return fit_all(data, spec)


def test_parser_reads_every_section(reference):
    assert set(reference) >= {
        "cox_cause1_cluster_robust", "cox_cause1_stratified_by_set", "fine_gray_cause1",
        "cumulative_incidence cause1 at days 180, 365, 730", "variances", "km",
        "rmst tau= 365", "rmst tau= 730",
    }  # fmt: skip
    assert reference["cox_cause1_cluster_robust"]["treated"][0] == pytest.approx(-0.268058097690)
    assert len(reference["cox_cause1_cluster_robust"]["treated"]) == 6
    assert reference["variances"]["1 2"][2] == pytest.approx(7.726608033e-04)


def test_cox_cluster_robust(reference, data):
    # coefficients 1e-6 absolute; robust SE and model SE 1e-6 relative; p-values 1e-6 absolute
    # (the Efron estimator of evaluation.survival.cox, which follows R's coxph, ties included)
    ref = reference["cox_cause1_cluster_robust"]
    terms = ["treated", "age", "prior_charges"]
    fit = fit_cox(data, duration="time", event="event1", terms=terms, cluster="set_id")
    plain = fit_cox(data, duration="time", event="event1", terms=terms)
    for i, term in enumerate(terms):
        coef, _, se, robust_se, _, p = ref[term]
        assert fit.params[i] == pytest.approx(coef, abs=1e-6)
        assert fit.std_error[i] == pytest.approx(robust_se, rel=1e-6)
        assert plain.std_error[i] == pytest.approx(se, rel=1e-6)
        assert fit.table()["p_value"].iloc[i] == pytest.approx(p, abs=1e-6)


def test_lifelines_engine_agrees_within_its_known_limits(reference, data):
    # lifelines (Efron): coefficients 1e-5 absolute; its robust SE ignores ties (1e-3 relative)
    ref = reference["cox_cause1_cluster_robust"]["treated"]
    fit = fit_cox(data, duration="time", event="event1", terms=["treated"], cluster="set_id",
                  engine="lifelines")  # fmt: skip
    alone = fit_cox(data, duration="time", event="event1", terms=["treated"], cluster="set_id")
    assert fit.params[0] == pytest.approx(alone.params[0], abs=1e-5)
    assert fit.std_error[0] == pytest.approx(alone.std_error[0], rel=1e-3)
    assert ref[0] != pytest.approx(fit.params[0], abs=1e-3)  # a different (unadjusted) model


def test_cox_stratified_by_set(reference, data):
    # coefficient 1e-6 absolute, SE 1e-6 relative
    coef, _, se, _, p = reference["cox_cause1_stratified_by_set"]["treated"]
    spec = SurvivalSpec(strata="set_id", horizons=HORIZONS)
    tidy = fit_all(data, spec).tidy()
    row = tidy[(tidy.model == "cox_stratified") & (tidy.term == "treated")].iloc[0]
    assert row.estimate == pytest.approx(coef, abs=1e-6)
    assert row.std_error == pytest.approx(se, rel=1e-6)
    assert row.p_value == pytest.approx(p, abs=1e-6)


def test_fine_gray_matches_crr(reference, data):
    # Breslow ties as crr. Coefficients 1e-4 absolute (measured 1e-5); robust SE 1e-3 relative
    # (crr's variance and the finegray sandwich differ slightly; measured 2e-4).
    ref = reference["fine_gray_cause1"]
    terms = ["treated", "age", "prior_charges"]
    fit = fit_fine_gray(data["time"].to_numpy(), data["status"].to_numpy(), data[terms])
    for i, term in enumerate(terms):
        coef, se = ref[term]
        assert fit.params[i] == pytest.approx(coef, abs=1e-4)
        assert fit.std_error[i] == pytest.approx(se, rel=1e-3)
    tidy = fit_all(
        data, SurvivalSpec(covariates=("age", "prior_charges"), horizons=HORIZONS)
    ).tidy()
    fg = tidy[tidy.model == "fine_gray"].set_index("term")
    assert fg.loc["treated", "estimate"] == pytest.approx(ref["treated"][0], abs=1e-4)
    assert fg.loc["treated", "std_error"] == pytest.approx(ref["treated"][1], rel=1e-3)


@pytest.mark.parametrize("cause", [1, 2])
def test_cumulative_incidence_and_variance(reference, data, cause):
    # estimate 1e-9 absolute, variance 1e-6 relative (the same formula as cmprsk's Fortran)
    est = reference["cumulative_incidence cause1 at days 180, 365, 730"]
    var = reference["variances"]
    for group in (0, 1):
        arm = data[data.treated == group]
        curve = aalen_johansen(arm.time, arm.status, cause)
        at = value_at(curve, HORIZONS, arm.time.max())
        np.testing.assert_allclose(at.estimate, est[f"{group} {cause}"], atol=1e-9)
        np.testing.assert_allclose(at.std_error**2, var[f"{group} {cause}"], rtol=1e-6)


def test_cumulative_incidence_rows_in_fit_all(reference, full_result):
    est = reference["cumulative_incidence cause1 at days 180, 365, 730"]
    var = reference["variances"]
    tidy = full_result.tidy()
    ci = tidy[tidy.model == "cumulative_incidence"]
    for group in (0, 1):
        rows = ci[ci.group == group].sort_values("time")
        assert list(rows.time) == list(HORIZONS)
        np.testing.assert_allclose(rows.estimate, est[f"{group} 1"], atol=1e-9)
        np.testing.assert_allclose(rows.std_error**2, var[f"{group} 1"], rtol=1e-6)
        assert (rows.conf_low < rows.estimate).all() and (rows.estimate < rows.conf_high).all()


def test_kaplan_meier(reference, data, full_result):
    # survival and SE 1e-8 absolute, numbers at risk exact
    km = reference["km"]
    surv = np.array(km["surv"], dtype=float)
    se = np.array(km["std.err"], dtype=float)
    n_risk = np.array(km["n.risk"], dtype=float)
    tidy = full_result.tidy()
    at_risk = pd.DataFrame(full_result.diagnostics["at_risk"])
    for k, group in enumerate((0, 1)):
        sl = slice(3 * k, 3 * k + 3)
        arm = data[data.treated == group]
        at = value_at(kaplan_meier(arm.time, arm.status, 1), HORIZONS, arm.time.max())
        np.testing.assert_allclose(at.estimate, surv[sl], atol=1e-8)
        np.testing.assert_allclose(at.std_error, se[sl], atol=1e-8)
        rows = tidy[(tidy.model == "kaplan_meier") & (tidy.group == group)].sort_values("time")
        np.testing.assert_allclose(rows.estimate, surv[sl], atol=1e-8)
        np.testing.assert_array_equal(at_risk[at_risk.group == group].n, n_risk[sl])


@pytest.mark.parametrize("tau", [365, 730])
def test_rmst(reference, data, full_result, tau):
    # RMST and its SE 1e-6 relative
    ref = reference[f"rmst tau= {tau}"]
    tidy = full_result.tidy()
    for group in (0, 1):
        mean, se = ref[f"treated={group}"]
        arm = data[data.treated == group]
        got_mean, got_se = rmst(arm.time, arm.status, tau)
        assert got_mean == pytest.approx(mean, rel=1e-6)
        assert got_se == pytest.approx(se, rel=1e-6)
        row = tidy[(tidy.model == "rmst") & (tidy.group == group) & (tidy.time == tau)].iloc[0]
        assert row.estimate == pytest.approx(mean, rel=1e-6)
    diff = tidy[(tidy.model == "rmst_difference") & (tidy.time == tau)].iloc[0]
    expected = ref["treated=1"][0] - ref["treated=0"][0]
    assert diff.estimate == pytest.approx(expected, rel=1e-6)
    assert diff.std_error == pytest.approx(
        np.hypot(ref["treated=1"][1], ref["treated=0"][1]), rel=1e-6
    )


def test_rossi_published_cox():
    # Rossi et al. (1980), Efron ties: coefficients and SE 1e-4 absolute
    from lifelines.datasets import load_rossi

    published = {
        "fin": (-0.37942, 0.19138), "age": (-0.05744, 0.02200), "race": (0.31390, 0.30799),
        "wexp": (-0.14980, 0.21222), "mar": (-0.43370, 0.38187), "paro": (-0.08487, 0.19576),
        "prio": (0.09150, 0.02865),
    }  # fmt: skip
    rossi = load_rossi()
    spec = SurvivalSpec(
        time="week",
        event="arrest",
        treatment="fin",
        covariates=tuple(k for k in published if k != "fin"),
        horizons=(26, 52),
    )
    tidy = fit_all(rossi, spec).tidy()
    cox = tidy[tidy.model == "cox"].set_index("term")
    assert list(cox.index) == list(published)
    for term, (coef, se) in published.items():
        assert cox.loc[term, "estimate"] == pytest.approx(coef, abs=1e-4)
        assert cox.loc[term, "std_error"] == pytest.approx(se, abs=1e-4)
    assert cox.loc["fin", "hazard_ratio"] == pytest.approx(0.68426, abs=1e-4)
    # robust (sandwich) SE of fin, one cluster per person: R's coxph(..., robust=TRUE) gives
    # 0.1955 (LIBRARIES.md; lifelines gives 0.1919 because its sandwich ignores ties); 1e-4 abs
    rossi["person"] = np.arange(len(rossi))
    robust = fit_all(rossi, SurvivalSpec(**{**spec.__dict__, "cluster": "person"})).tidy()
    fin = robust[(robust.model == "cox") & (robust.term == "fin")].iloc[0]
    assert fin.estimate == pytest.approx(-0.37942, abs=1e-4)
    assert fin.std_error == pytest.approx(0.1955, abs=1e-4)


# --- survival_checks: left truncation, weights, strata + clusters, cox.zph -------------------


@pytest.fixture(scope="module")
def checks() -> dict[str, dict]:
    return parse_r_output((REF / "survival_checks.R-output.txt").read_text())


@pytest.fixture(scope="module")
def checks_data() -> pd.DataFrame:
    frame = pd.read_csv(REF / "survival_checks.csv")
    frame["event"] = (frame["status"] == 1).astype(int)
    return frame


@pytest.mark.parametrize(
    "section, options",
    [
        ("cox_entry_cluster", {"entry": "entry", "cluster": "set_id"}),
        ("cox_weights_robust", {"weights": "w"}),
        ("cox_strata_cluster", {"strata": "set_id", "cluster": "set_id"}),
    ],
)
def test_cox_variants_match_coxph(checks, checks_data, section, options):
    # coefficients 1e-6 absolute; model and robust SE 1e-6 relative
    fit = fit_cox(checks_data, duration="time", event="event", terms=["treated", "x"], **options)
    for i, term in enumerate(["treated", "x"]):
        coef, _, se, robust_se, _, _ = checks[section][term]
        assert fit.params[i] == pytest.approx(coef, abs=1e-6)
        assert fit.model_std_error[i] == pytest.approx(se, rel=1e-6)
        assert fit.std_error[i] == pytest.approx(robust_se, rel=1e-6)


def test_cox_variants_through_fit_all(checks, checks_data):
    spec = SurvivalSpec(covariates=("x",), entry="entry", cluster="set_id", horizons=(365,))
    tidy = fit_all(checks_data, spec).tidy()
    row = tidy[(tidy.model == "cox") & (tidy.term == "treated")].iloc[0]
    coef, _, _, robust_se, _, p = checks["cox_entry_cluster"]["treated"]
    assert row.estimate == pytest.approx(coef, abs=1e-6)
    assert row.std_error == pytest.approx(robust_se, rel=1e-6)
    assert row.p_value == pytest.approx(p, abs=1e-6)


def test_fine_gray_clustered_matches_finegray_coxph(checks, checks_data):
    # finegray + coxph (Breslow), robust SE clustered on the matched set: 1e-6
    fit = fit_fine_gray(
        checks_data.time, checks_data.status, checks_data[["treated", "x"]],
        cluster=checks_data.set_id.to_numpy(),
    )  # fmt: skip
    for i, term in enumerate(["treated", "x"]):
        coef, _, se, robust_se, _, _ = checks["fine_gray_cluster"][term]
        assert fit.params[i] == pytest.approx(coef, abs=1e-6)
        assert fit.model_std_error[i] == pytest.approx(se, rel=1e-6)
        assert fit.std_error[i] == pytest.approx(robust_se, rel=1e-6)


def test_weighted_kaplan_meier(checks, checks_data):
    # survfit with case weights: 1e-9 absolute
    expected = np.array(checks["km_weighted survival at 180, 365, 730 by treated"]["values"])
    got = []
    for group in (0, 1):
        arm = checks_data[checks_data.treated == group]
        curve = kaplan_meier(arm.time, arm.status, 1, weights=arm.w)
        got += list(value_at(curve, HORIZONS, arm.time.max()).estimate)
    np.testing.assert_allclose(got, expected, atol=1e-9)


def test_ph_test_matches_cox_zph(checks, checks_data):
    # chi-square statistics and p-values 1e-6 relative
    from evaluation.survival.diagnostics import ph_test

    ref = checks["cox_zph"]
    res = ph_test(
        checks_data.time, checks_data.event, checks_data[["treated", "x"]].to_numpy(float),
        ["treated", "x"],
    )  # fmt: skip
    for term in ("treated", "x"):
        assert res["chi2"][term] == pytest.approx(ref[term][0], rel=1e-6)
        assert res["terms"][term] == pytest.approx(ref[term][2], rel=1e-6)
    assert res["chi2"]["global"] == pytest.approx(ref["GLOBAL"][0], rel=1e-6)
    assert res["global"] == pytest.approx(ref["GLOBAL"][2], rel=1e-6)
