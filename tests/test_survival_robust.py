"""Robust standard errors of weighted Kaplan-Meier, cumulative incidence and RMST against R.

Reference: ``tests/data/reference/robust_weighted.R`` run on ``survival_checks.csv`` (R 4.2.2,
survival 3.5-3), output in ``robust_weighted.R-output.txt``. Tolerances are stated at each
comparison. A finite-difference check of the influence values covers what R does not report
(the clustered cumulative incidence, where survival 3.5-3 ignores the cluster term).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.survival import SurvivalSpec, fit_all
from evaluation.survival.nonparametric import aalen_johansen, kaplan_meier, rmst, value_at

REF = Path(__file__).parent / "data" / "reference"
TIMES = (180, 365, 730)


def parse_sections(text: str) -> dict[str, dict[int, dict[str, list[float]]]]:
    """{section: {treated: {row name: [values]}}} from the R output."""
    out: dict[str, dict[int, dict[str, list[float]]]] = {}
    name = arm = None
    for line in text.splitlines():
        if line.startswith("## "):
            name = line[3:].split(" (")[0].strip()
            out[name] = {}
        elif line.startswith("# treated"):
            arm = int(line.split()[2])
            out[name][arm] = {}
        elif line.strip() and not line.lstrip().startswith("["):
            tokens = line.split()
            out[name][arm][tokens[0]] = [float(t) for t in tokens[1:]]
    return out


@pytest.fixture(scope="module")
def ref():
    return parse_sections((REF / "robust_weighted.R-output.txt").read_text())


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REF / "survival_checks.csv")


def _arm(data, g):
    return data[data["treated"] == g]


def _matches_r(ours, r) -> None:
    """Estimates to rtol 1e-8 and robust standard errors to rtol 1e-6 of R's at the same times."""
    np.testing.assert_allclose(ours["estimate"], r["estimate"], rtol=1e-8)
    np.testing.assert_allclose(ours["std_error"], r["std_error"], rtol=1e-6)


@pytest.mark.against_r
@pytest.mark.parametrize("arm", [0, 1])
@pytest.mark.parametrize("section,cluster", [("km_robust_set", "set_id"), ("km_robust_row", None)])
def test_weighted_km_robust_se_matches_r(ref, data, arm, section, cluster):
    x = _arm(data, arm)
    km = value_at(kaplan_meier(x["time"], x["status"], 1, None, x["w"],
                               None if cluster is None else x[cluster]), TIMES, np.inf)
    _matches_r(km, ref[section][arm])


@pytest.mark.against_r
@pytest.mark.parametrize("arm", [0, 1])
def test_weighted_km_robust_se_with_entry_matches_r(ref, data, arm):
    x = _arm(data, arm)
    x = x[x["entry"] < x["time"]]
    km = value_at(kaplan_meier(x["time"], x["status"], 1, x["entry"], x["w"], x["set_id"]), TIMES, np.inf)
    _matches_r(km, ref["km_robust_entry"][arm])


@pytest.mark.against_r
def test_robust_se_is_larger_than_the_weighted_count_formula(ref):
    """The reason for the change: R's non-robust weighted SE is 20-30% smaller here."""
    for arm in (0, 1):
        robust = np.array(ref["km_robust_row"][arm]["std_error"])
        plain = np.array(ref["km_weighted_plain"][arm]["std_error"])
        assert np.all(robust > 1.1 * plain)


@pytest.mark.against_r
@pytest.mark.parametrize("arm", [0, 1])
def test_weighted_cif_robust_se_matches_r(ref, data, arm):
    x = _arm(data, arm)
    cif = value_at(aalen_johansen(x["time"], x["status"], 1, None, x["w"]), TIMES, np.inf)
    _matches_r(cif, ref["cif_robust_row"][arm])


@pytest.mark.against_r
@pytest.mark.parametrize("arm", [0, 1])
def test_weighted_rmst_robust_se_matches_r(ref, data, arm):
    x = _arm(data, arm)
    r = ref["rmst_robust_set"][arm]
    for j, tau in enumerate((365, 730)):
        est, se = rmst(x["time"], x["status"], tau, 1, None, x["w"], x["set_id"])
        assert est == pytest.approx(r["estimate"][j], rel=1e-8)
        assert se == pytest.approx(r["std_error"][j], rel=1e-6)


def _numerical_influence(estimate, x, h=1e-6):
    """d estimate / d w_i by central differences, one row at a time."""
    w = x["w"].to_numpy(float)
    out = np.empty(len(x))
    for i in range(len(x)):
        up, down = w.copy(), w.copy()
        up[i] += h
        down[i] -= h
        out[i] = (estimate(up) - estimate(down)) / (2 * h)
    return out


def test_clustered_cif_variance_equals_the_sum_of_numerical_influences(data):
    x = _arm(data, 0).iloc[:120]  # 40 sets of three

    def cif365(w):
        return float(value_at(aalen_johansen(x["time"], x["status"], 1, None, w), [365], np.inf)["estimate"].iloc[0])

    d = _numerical_influence(cif365, x)
    per_set = pd.Series(d * x["w"].to_numpy()).groupby(x["set_id"].to_numpy()).sum()
    expected = float(np.sqrt((per_set**2).sum()))
    got = value_at(aalen_johansen(x["time"], x["status"], 1, None, x["w"], x["set_id"]), [365], np.inf)
    assert got["std_error"].iloc[0] == pytest.approx(expected, rel=1e-5)


def test_fit_all_with_weights_uses_the_clustered_robust_se(data):
    spec = SurvivalSpec(time="time", event="status", treatment="treated", cluster="set_id",
                        weights="w", horizons=TIMES)
    tidy = fit_all(data, spec).tidy()
    km = tidy[(tidy["model"] == "kaplan_meier") & (tidy["group"] == 0)]
    x = _arm(data, 0)
    direct = value_at(kaplan_meier(x["time"], x["status"], 1, None, x["w"], x["set_id"]), TIMES, np.inf)
    np.testing.assert_allclose(km["std_error"].to_numpy(float), direct["std_error"], rtol=1e-12)
    unweighted = fit_all(data, SurvivalSpec(time="time", event="status", treatment="treated",
                                            horizons=TIMES)).tidy()
    plain = unweighted[(unweighted["model"] == "kaplan_meier") & (unweighted["group"] == 0)]
    assert not np.allclose(plain["std_error"].to_numpy(float), km["std_error"].to_numpy(float))
