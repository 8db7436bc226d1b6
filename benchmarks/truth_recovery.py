"""Truth recovery: does the analysis recover the simulated effect, for each estimand?

For each seed: simulate a warehouse (``evaluation simulate --form warehouse``, in process),
build the cohort (``cohorts/knock_knock.toml``), derive the primary outcome of each family
(``analyses/*.toml``) and estimate the 12-month risk difference (Aalen-Johansen cumulative
incidence, contacted minus comparison, with the plans' ATT weights of the matched sets and the
person-level bootstrap SE, as `evaluation analyse` does) for

- ``intention_to_treat``: "contact now versus not now", comparison follow-up not ended at a
  later contact; against ``truth.json``'s ``intention_to_treat`` risks;
- ``per_protocol``: "contact now versus no contact", comparison follow-up ended at a later
  contact, with stabilised inverse-probability-of-censoring weights
  (:mod:`evaluation.analysis.estimands`); against ``truth.json``'s ``by_horizon``;
- ``per_protocol_unweighted``: the same censoring without the weights (the method before the
  weights; kept to show what informative censoring at later contact does);
- ``naive``: contacted vs all non-contacted eligible residents from the initiative start;
  against the per-protocol truth.

Truths are among all contacted (``truth.json``) and, from both potential outcomes of the
contacted persons who entered the matched cohort, among those (``truth_matched``).

Printed: a table per family and estimand of bias, empirical SD of the estimates, mean SE and
coverage of the 95% CI; with ``--json`` one JSON document instead (the same figures, the
primary estimand of the plans and the wall time). Target for the primary estimand: coverage
between 90% and 99%, |bias| under a quarter of the empirical SD.

Usage::

    python benchmarks/truth_recovery.py [--seeds 50] [--persons 20000] [--jobs 2] [--first-seed 1]
                                        [--json] [--rows rows.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HORIZON = 365
FAMILIES = ("reoffending", "education_job", "group_recruitment")


def one_seed(seed: int, persons: int) -> list[dict]:
    """Simulate, build the cohort and estimate the 12-month risk difference for one seed."""
    import numpy as np
    import pandas as pd

    from evaluation.analysis.cohortdata import find_initiative_start, naive_population, read_cohort
    from evaluation.analysis.estimands import (
        definition_covariates_at,
        itt_cohort,
        per_protocol_estimates,
        per_protocol_frame,
    )
    from evaluation.analysis.plan import load_plans
    from evaluation.analysis.run import BOOTSTRAP_REPLICATES, analysis_weights
    from evaluation.cohort import build_cohort, load_definition, write_cohort
    from evaluation.io import read_warehouse
    from evaluation.outcomes import WarehouseTables, derive_outcome
    from evaluation.progress import set_quiet

    set_quiet(True)
    plans = load_plans(sorted((ROOT / "analyses").glob("*.toml")))
    definition_path = ROOT / "cohorts" / "knock_knock.toml"
    out: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="truth-") as tmp:
        wh = Path(tmp) / "warehouse"
        captured: dict = {}
        params = _simulate_keeping_world(wh, persons, seed, captured)
        oracle = matched_truth_inputs(params, seed, captured.get("world"))
        truth = json.loads((wh / "truth.json").read_text())
        data_end = dt.date.fromisoformat(params["data_end"])
        result = build_cohort(wh, load_definition(definition_path), data_end=data_end, seed=seed)
        write_cohort(result, Path(tmp) / "cohort")
        cohort = read_cohort(Path(tmp) / "cohort")
        tables = WarehouseTables.read(wh, data_end)
        contacts = read_warehouse(wh, "contacts", ["person_id", "contact_date"])
        start = find_initiative_start(cohort.meta, definition_path, contacts)
        naive = naive_population(wh, cohort.cohort, start, pd.Timestamp(data_end))
        definition = load_definition(definition_path)
        covariates_at = definition_covariates_at(wh, definition)
        itt = itt_cohort(cohort.cohort)
        for plan in plans:
            spec = next(o for o in plan.outcomes if o.primary)
            fam = truth["outcomes"][plan.family]
            by_h = fam["by_horizon"][str(HORIZON)]
            itt_h = fam["intention_to_treat"]["by_horizon"][str(HORIZON)]
            row = {"seed": seed, "family": plan.family, "truth": by_h["risk_difference"],
                   "truth_itt": itt_h["risk_difference"],
                   "truth_risk_treated": by_h["risk_treated"], "truth_risk_untreated": by_h["risk_untreated"],
                   "truth_itt_risk_untreated": itt_h["risk_untreated"],
                   "n_contacted": int((cohort.cohort["treated"] == 1).sum())}
            if oracle is not None:
                ids, pop, ev0, ev1, ev_nn = oracle[plan.family]
                matched_ids = set(cohort.cohort.loc[cohort.cohort["treated"] == 1, "person_id"].astype(str))
                keep = np.isin(ids[pop], list(matched_ids))
                if keep.any():
                    r1, r0 = float(np.mean(ev1[keep] <= HORIZON)), float(np.mean(ev0[keep] <= HORIZON))
                    rn = float(np.mean(ev_nn[keep] <= HORIZON))
                    row["truth_matched"] = r1 - r0
                    row["truth_itt_matched"] = r1 - rn
                    row["truth_matched_treated"], row["truth_matched_untreated"] = r1, r0
            for analysis, frame in (("per_protocol_unweighted", cohort.cohort), ("intention_to_treat", itt),
                                    ("naive", naive)):
                data = derive_outcome(frame, spec, tables).frame
                weighted = analysis != "naive" and plan.weighted
                w = analysis_weights(data) if weighted else np.ones(len(data))
                _record(row, analysis, risk_difference_rows(data, w, bootstrap=analysis != "naive", seed=seed), data)
            pp = per_protocol_frame(cohort.cohort, spec, tables,
                                    analysis_weights if plan.weighted else None)
            t, cw = per_protocol_estimates(pp, covariates_at, (HORIZON,), seed=seed,
                                           interval_days=plan.ipcw_interval_days, truncate=plan.ipcw_truncate,
                                           replicates=BOOTSTRAP_REPLICATES)
            _record(row, "per_protocol", t, pp)
            row["per_protocol_censored"] = cw.n_censored
            row["per_protocol_max_weight"] = float(cw.distribution["after_truncation"].iloc[-1])
            out.append(row)
    return out


def risk_difference_rows(data, weights, *, bootstrap: bool, seed: int):
    """12-month cumulative incidence per arm and risk difference, as `evaluation analyse`
    estimates them (weighted Aalen-Johansen; person-level bootstrap SE for the matched design,
    Gray's variance of independent arms for the naive contrast), as tidy rows."""
    import numpy as np
    import pandas as pd

    from evaluation.analysis.bootstrap import bootstrap_contrasts
    from evaluation.analysis.run import BOOTSTRAP_REPLICATES
    from evaluation.survival.nonparametric import aalen_johansen, value_at

    rows, risk, var = [], {}, {}
    for g in (1, 0):
        m = data["treated"].to_numpy() == g
        t = data["time"].to_numpy(float)[m]
        curve = aalen_johansen(t, data["status"].to_numpy(int)[m], 1, None, None if not bootstrap else weights[m])
        v = value_at(curve, [HORIZON], float(t.max()) if len(t) else -1.0)
        risk[g], var[g] = float(v["estimate"].iloc[0]), float(v["std_error"].iloc[0]) ** 2
        rows.append({"model": "cumulative_incidence", "group": g, "time": HORIZON, "estimate": risk[g]})
    if bootstrap:
        frame = data.assign(_w=weights)
        se = float(bootstrap_contrasts(frame, (HORIZON,), weights="_w", replicates=BOOTSTRAP_REPLICATES,
                                       seed=seed)["se_rd"].iloc[0])
    else:
        se = float(np.sqrt(var[1] + var[0]))
    rows.append({"model": "risk_difference", "group": None, "time": HORIZON, "estimate": risk[1] - risk[0],
                 "std_error": se})
    return pd.DataFrame(rows)


def _record(row: dict, analysis: str, tidy, data) -> None:
    """The 12-month risk difference, its SE, events and the risk per arm of one analysis."""

    rd = tidy[(tidy["model"] == "risk_difference") & (tidy["time"] == HORIZON)]
    est, se = (float(rd["estimate"].iloc[0]), float(rd["std_error"].iloc[0])) if len(rd) else (math.nan, math.nan)
    row[f"{analysis}_estimate"] = est
    row[f"{analysis}_se"] = se
    row[f"{analysis}_events"] = int((data["status"] == 1).sum())
    ci = tidy[(tidy["model"] == "cumulative_incidence") & (tidy["time"] == HORIZON)]
    for g, arm in ((1, "contacted"), (0, "comparison")):
        v = ci[ci["group"].astype(float) == g]["estimate"]
        row[f"{analysis}_risk_{arm}"] = float(v.iloc[0]) if len(v) else math.nan


def _simulate_keeping_world(wh, persons: int, seed: int, captured: dict) -> dict:
    """``simulate`` (warehouse form), keeping the simulated world for the matched-cohort truth
    instead of simulating it a second time."""
    from evaluation.simulate import run as simrun

    original = simrun.simulate_world

    def keep(*args, **kwargs):
        captured["world"] = original(*args, **kwargs)
        return captured["world"]

    simrun.simulate_world = keep
    try:
        return simrun.simulate(wh, persons, seed, form="warehouse")
    finally:
        simrun.simulate_world = original


def matched_truth_inputs(params: dict, seed: int, world=None) -> dict | None:
    """Both potential event times of every contacted person, keyed to the warehouse person_id.

    Re-runs the simulated world in process (same seed and settings) to get each contacted
    person's untreated and treated event times, so that the truth can also be computed among
    the contacted persons who entered the matched cohort (the matched analysis estimates the
    effect among them, which differs from the effect among all contacted when the matching
    drops contacted persons). None when the person ids cannot be reproduced.
    """
    import numpy as np

    from evaluation.simulate import run as simrun
    from evaluation.simulate.truth import not_now_event_times, potential_event_times
    from evaluation.simulate.world import Effects, simulate_world

    try:
        if world is None:
            world = simulate_world(params["persons"], seed, Effects(**params["effects"]), params["study_share"])
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 851]))
        ids = simrun._person_ids(world.n, rng)
    except Exception as exc:  # noqa: BLE001 - the oracle is an extra; the benchmark goes on
        print(f"seed {seed}: no matched-cohort truth ({type(exc).__name__}: {exc})", file=sys.stderr)
        return None
    nn = not_now_event_times(world.truth_inputs)
    return {fam: (ids, pop, ev0, ev1, nn[fam])
            for fam, (pop, ev0, ev1) in potential_event_times(world.truth_inputs).items()}


ANALYSES = ("intention_to_treat", "per_protocol", "per_protocol_unweighted", "naive")
#: The truth each analysis estimates (column of the per-seed rows).
TRUTH_OF = {"intention_to_treat": "truth_itt", "per_protocol": "truth", "per_protocol_unweighted": "truth",
            "naive": "truth"}
TRUTH_MATCHED_OF = {"intention_to_treat": "truth_itt_matched", "per_protocol": "truth_matched",
                    "per_protocol_unweighted": "truth_matched", "naive": "truth_matched"}


def _figures(est, se, truth) -> dict:
    import numpy as np

    ok = est.notna() & se.notna() & truth.notna()
    e, s, t = est[ok].to_numpy(float), se[ok].to_numpy(float), truth[ok].to_numpy(float)
    if len(e) == 0:
        return {"n": 0}
    cover = float(np.mean((e - 1.959964 * s <= t) & (t <= e + 1.959964 * s)))
    sd = float(np.std(e, ddof=1)) if len(e) > 1 else float("nan")
    bias = float(np.mean(e - t))
    return {"n": len(e), "truth": float(np.mean(t)), "bias": bias, "empirical_sd": sd,
            "mean_se": float(np.mean(s)), "coverage": cover,
            "abs_bias_below_quarter_sd": bool(abs(bias) < 0.25 * sd) if np.isfinite(sd) else None}


def summary(rows: list[dict], primary: str) -> dict:
    """The JSON document: per family and analysis, against the truth among all contacted and
    among the contacted in the matched cohort."""
    import pandas as pd

    df = pd.DataFrame(rows)
    out = {"horizon_days": HORIZON, "seeds": int(df["seed"].nunique()), "primary_estimand": primary,
           "mean_contacted_in_matched_cohort": float(df.groupby("seed")["n_contacted"].first().mean()),
           "families": {}}
    for fam in FAMILIES:
        sub = df[df["family"] == fam]
        if sub.empty:
            continue
        block = {}
        for analysis in ANALYSES:
            if f"{analysis}_estimate" not in sub:
                continue
            est, se = sub[f"{analysis}_estimate"], sub[f"{analysis}_se"]
            entry = _figures(est, se, sub[TRUTH_OF[analysis]])
            if TRUTH_MATCHED_OF[analysis] in sub:
                entry["against_matched_contacted"] = _figures(est, se, sub[TRUTH_MATCHED_OF[analysis]])
            entry["mean_risk_contacted"] = float(sub[f"{analysis}_risk_contacted"].mean())
            entry["mean_risk_comparison"] = float(sub[f"{analysis}_risk_comparison"].mean())
            block[analysis] = entry
        block["truth_risk_contact"] = float(sub["truth_risk_treated"].mean())
        block["truth_risk_no_contact"] = float(sub["truth_risk_untreated"].mean())
        block["truth_risk_not_now"] = float(sub["truth_itt_risk_untreated"].mean())
        p = block.get(primary, {})
        block["primary_meets_target"] = bool(p.get("n") and 0.90 <= p["coverage"] <= 0.99
                                             and p.get("abs_bias_below_quarter_sd"))
        out["families"][fam] = block
    return out


def summarise(rows: list[dict], primary: str) -> str:
    """The summary as a printed table."""
    doc = summary(rows, primary)
    lines = [(f"seeds: {doc['seeds']}; mean contacted in the matched cohort: "
             f"{doc['mean_contacted_in_matched_cohort']:.0f}; primary estimand: {primary}"),
             (f"{'family':<18} {'analysis':<24} {'truth':>8} {'bias':>8} {'emp.SD':>8} {'mean SE':>8} "
             f"{'coverage':>9} {'n':>4}   risk contacted / comparison")]
    for fam, block in doc["families"].items():
        for analysis in ANALYSES:
            f = block.get(analysis)
            if not f or not f.get("n"):
                continue
            lines.append(f"{fam:<18} {analysis:<24} {f['truth']:8.4f} {f['bias']:+8.4f} {f['empirical_sd']:8.4f} "
                         f"{f['mean_se']:8.4f} {100 * f['coverage']:8.1f}% {f['n']:4d}   "
                         f"{f['mean_risk_contacted']:.4f} / {f['mean_risk_comparison']:.4f}")
        lines.append(f"{'':<18} truth: risk with contact {block['truth_risk_contact']:.4f}, without "
                     f"{block['truth_risk_no_contact']:.4f}, not now {block['truth_risk_not_now']:.4f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--persons", type=int, default=20000)
    ap.add_argument("--jobs", type=int, default=2, help="processes (at most 2)")
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    ap.add_argument("--rows", type=Path, help="also write every per-seed row to this file")
    args = ap.parse_args(argv)
    from evaluation.analysis.plan import load_plans

    primaries = {p.primary_estimand for p in load_plans(sorted((ROOT / "analyses").glob("*.toml")))}
    primary = primaries.pop() if len(primaries) == 1 else "mixed"
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    jobs = max(1, min(2, args.jobs))
    rows: list[dict] = []
    t0 = time.perf_counter()

    def progress(s: int, i: int) -> None:
        print(f"seed {s} done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
        if (i + 1) % 10 == 0 and i + 1 < len(seeds):
            print(f"-- after {i + 1} seeds --\n{summarise(rows, primary)}", file=sys.stderr, flush=True)
            if args.rows:
                args.rows.write_text(json.dumps(rows, indent=1))

    if jobs == 1:
        for i, s in enumerate(seeds):
            rows += one_seed(s, args.persons)
            progress(s, i)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for i, (s, part) in enumerate(zip(seeds, pool.map(one_seed, seeds, [args.persons] * len(seeds)))):
                rows += part
                progress(s, i)
    if args.rows:
        args.rows.write_text(json.dumps(rows, indent=1))
    wall = time.perf_counter() - t0
    if args.json:
        doc = summary(rows, primary)
        doc.update({"persons_per_seed": args.persons, "wall_time_s": round(wall, 1), "jobs": jobs})
        print(json.dumps(doc, indent=1))
    else:
        print(f"truth recovery: 12-month risk difference, {args.persons} persons per seed, {wall:.0f} s")
        print(summarise(rows, primary))


if __name__ == "__main__":
    main()
