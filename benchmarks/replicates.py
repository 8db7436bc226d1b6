"""Micro-benchmark of one outcome's per-protocol estimate at national size: the weight-model
fits, the censoring weights and the bootstrap, new engine against the dense one it replaced
(tests/replicates_reference.py), timed in the same run, with the standard errors compared.

    python benchmarks/replicates.py                      # ~1.2M person-periods, B = 300
    python benchmarks/replicates.py --rows 20000 --replicates 100 --no-old

Synthetic data at the size of a 1M-person national cohort's outcome: ~100,000 comparison rows
(~70,000 persons, split into 30-day periods: ~1.2M person-periods), ~30,000 contacted rows, 13
time-updated covariates, horizons 183, 365 and 730 days. The covariates are generated up
front, so the covariate look-up (another module's work) costs nothing here. Prints one JSON
document: sizes, seconds per step for both engines, their ratio, and the largest relative
difference between the two engines' standard errors.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

HORIZONS = (183, 365, 730)
N_COVARIATES = 13


def synthetic(rows: int, seed: int = 1) -> tuple[pd.DataFrame, object]:
    """A per-protocol outcome frame (``rows`` comparison rows) and a ``covariates_at``."""
    from evaluation.analysis.estimands import person_periods

    rng = np.random.default_rng(seed)
    n_c, persons = int(0.3 * rows), int(0.7 * rows)
    time_ = np.minimum(np.ceil(rng.exponential(400.0, rows + n_c)), 1500.0)
    status = rng.choice([0, 1, 2], rows + n_c, p=[0.67, 0.3, 0.03])
    treated = np.r_[np.ones(n_c, int), np.zeros(rows, int)]
    person = np.r_[rng.choice(persons + n_c, n_c, replace=False), rng.integers(0, persons, rows)]
    frame = pd.DataFrame({
        "person_id": [f"p{i}" for i in person], "treated": treated, "time": np.maximum(time_, 1.0),
        "status": status, "analysis_weight": rng.uniform(0.5, 2.0, rows + n_c),
        "censored_by_contact": (treated == 0) & (status == 0) & (rng.random(rows + n_c) < 0.3),
        "index_date": pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, rows + n_c), "D"),
        "age_at_index": rng.uniform(14, 25, rows + n_c),
    })
    n_periods = len(person_periods(frame[frame["treated"] == 0].reset_index(drop=True), 30))
    values = pd.DataFrame(rng.integers(0, 4, (n_periods, N_COVARIATES)) * (rng.random((n_periods, N_COVARIATES)) < 0.3),
                          columns=[f"x{j}" for j in range(N_COVARIATES)])

    def covariates_at(person_id, at):
        assert len(person_id) == len(values)
        return values

    return frame, covariates_at


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, round(time.perf_counter() - start, 3)


def new_engine(frame, covariates_at, replicates: int) -> tuple[dict, pd.DataFrame, object]:
    from evaluation.analysis import estimands as est

    cw, t_weights = timed(est.censoring_weights, frame, covariates_at, 30, (0.01, 0.99))
    _, t_point = timed(est.weighted_risks, cw, HORIZONS)
    boot, t_boot = timed(est.bootstrap_ipcw, cw, HORIZONS, replicates=replicates, seed=7)
    return {"censoring_weights_s": t_weights, "point_estimate_s": t_point, "bootstrap_s": t_boot,
            "total_s": round(t_weights + t_point + t_boot, 3)}, boot, cw


def old_engine(frame, cw, replicates: int) -> tuple[dict, pd.DataFrame]:
    """The dense engine's fits (statsmodels), weights and bootstrap; the rest of
    censoring_weights (person-periods, tables) is the same code in both and is not timed."""
    import replicates_reference as dense

    from evaluation.analysis.estimands import person_periods

    d = cw._design
    y = person_periods(frame[frame["treated"] == 0].reset_index(drop=True), 30)["censored"].to_numpy(float)
    x_num = d["x_period"][d["period"]]
    start = time.perf_counter()
    b_num = dense.logit(y, x_num)[0]
    b_den = dense.logit(y, d["x_den"])[0]
    t_fits = time.perf_counter() - start
    _, t_cum = timed(lambda: dense.cumulate(dense.ratios(x_num, d["x_den"], b_num, b_den), d["row"]))
    _, t_point = timed(dense.replicate_risks, cw.rows["stop"].to_numpy(float), cw.rows["status"].to_numpy(int),
                       cw.rows["treated"].to_numpy(int), cw.rows["analysis_weight"].to_numpy(float)[None, :],
                       HORIZONS, cw.rows["start"].to_numpy(float))
    boot, t_boot = timed(dense.bootstrap_ipcw, cw, HORIZONS, replicates=replicates, seed=7)
    return {"weight_model_fits_s": round(t_fits, 3), "weights_s": t_cum, "point_estimate_s": t_point,
            "bootstrap_s": t_boot, "total_without_shared_steps_s": round(t_fits + t_cum + t_point + t_boot, 3)}, boot


def new_fits(cw, frame) -> dict:
    """The new engine's share of censoring_weights that the old one did differently."""
    from evaluation.analysis import estimands as est

    d = cw._design
    y = est.person_periods(frame[frame["treated"] == 0].reset_index(drop=True), 30)["censored"].to_numpy(float)
    start = time.perf_counter()
    b_num = est._period_logit(y, d["period"], d["x_period"])[0]
    b_den = est._logit(y, d["x_den"])[0]
    t_fits = time.perf_counter() - start
    first = est._row_starts(d["row"], int(d["row"].max()) + 1)
    _, t_cum = timed(lambda: est._cumulate(est._ratios(est._keep_num(d["x_period"], b_num)[d["period"]],
                                                       d["x_den"] @ b_den), first))
    return {"weight_model_fits_s": round(t_fits, 3), "weights_s": t_cum}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="comparison rows (default 100000)")
    parser.add_argument("--replicates", type=int, default=300)
    parser.add_argument("--old", action=argparse.BooleanOptionalAction, default=True,
                        help="also time the dense engine (slow: about a minute at the default size)")
    args = parser.parse_args()
    warm, warm_cov = synthetic(500, seed=2)  # compile (or load) the kernels before timing
    new_engine(warm, warm_cov, 5)
    frame, covariates_at = synthetic(args.rows)
    new, boot_new, cw = new_engine(frame, covariates_at, args.replicates)
    new.update(new_fits(cw, frame))
    out = {"comparison_rows": args.rows, "contacted_rows": int((frame["treated"] == 1).sum()),
           "persons": int(frame["person_id"].nunique()), "person_periods": int((cw.rows["treated"] == 0).sum()),
           "covariates": N_COVARIATES, "replicates": args.replicates, "horizons": list(HORIZONS), "new": new}
    if args.old:
        old, boot_old = old_engine(frame, cw, args.replicates)
        cols = ["se_rd", "se_log_rr", "se_risk_contacted", "se_risk_comparison"]
        rel = (boot_new[cols] - boot_old[cols]).abs() / boot_old[cols].abs()
        same = new["bootstrap_s"] + new["point_estimate_s"] + new["weight_model_fits_s"] + new["weights_s"]
        out.update({"old": old, "bootstrap_speedup": round(old["bootstrap_s"] / new["bootstrap_s"], 1),
                    "fits_speedup": round(old["weight_model_fits_s"] / new["weight_model_fits_s"], 1),
                    "speedup_of_the_changed_steps": round(old["total_without_shared_steps_s"] / same, 1),
                    "largest_relative_se_difference": float(rel.to_numpy().max())})
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
