"""Truth recovery: does the analysis recover the simulated effect?

For each seed: simulate a warehouse (``evaluation simulate --form warehouse``, in process),
build the cohort (``cohorts/knock_knock.toml``), derive the primary outcome of each family
(``analyses/*.toml``) and estimate the 12-month risk difference (Aalen-Johansen cumulative
incidence, contacted minus comparison) on the matched cohort and on the naive contrast
(contacted vs all non-contacted eligible residents from the initiative start); the matched
analysis uses the plans' weights (ATT weights of the matched sets), as `evaluation analyse`
does. The estimate is
compared with ``truth.json`` (``risk_difference`` at 365 days among the contacted, from both
potential outcomes of every contacted person).

Printed per family: mean bias, empirical SD of the estimates, mean SE, coverage of the 95% CI,
for the matched and the naive analysis. Target for the matched analysis: coverage between 90%
and 99%, bias small next to the SE.

Usage::

    python benchmarks/truth_recovery.py [--seeds 50] [--persons 20000] [--jobs 2] [--first-seed 1]
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
    from evaluation.analysis.plan import load_plans
    from evaluation.analysis.run import analysis_weights, fit_survival, reused_person_contrasts
    from evaluation.cohort import build_cohort, load_definition, write_cohort
    from evaluation.io import read_warehouse
    from evaluation.outcomes import WarehouseTables, derive_outcome
    from evaluation.progress import set_quiet
    from evaluation.simulate import simulate

    set_quiet(True)
    plans = load_plans(sorted((ROOT / "analyses").glob("*.toml")))
    definition_path = ROOT / "cohorts" / "knock_knock.toml"
    out: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="truth-") as tmp:
        wh = Path(tmp) / "warehouse"
        params = simulate(wh, persons, seed, form="warehouse")
        oracle = matched_truth_inputs(params, seed)
        truth = json.loads((wh / "truth.json").read_text())
        data_end = dt.date.fromisoformat(params["data_end"])
        result = build_cohort(wh, load_definition(definition_path), data_end=data_end, seed=seed)
        write_cohort(result, Path(tmp) / "cohort")
        cohort = read_cohort(Path(tmp) / "cohort")
        tables = WarehouseTables.read(wh, data_end)
        contacts = read_warehouse(wh, "contacts", ["person_id", "contact_date"])
        start = find_initiative_start(cohort.meta, definition_path, contacts)
        naive = naive_population(wh, cohort.cohort, start, pd.Timestamp(data_end))
        for plan in plans:
            spec = next(o for o in plan.outcomes if o.primary)
            by_h = truth["outcomes"][plan.family]["by_horizon"][str(HORIZON)]
            row = {"seed": seed, "family": plan.family, "truth": by_h["risk_difference"],
                   "truth_risk_treated": by_h["risk_treated"], "truth_risk_untreated": by_h["risk_untreated"],
                   "n_contacted": int((cohort.cohort["treated"] == 1).sum())}
            if oracle is not None:
                ids, pop, ev0, ev1 = oracle[plan.family]
                matched_ids = set(cohort.cohort.loc[cohort.cohort["treated"] == 1, "person_id"].astype(str))
                keep = np.isin(ids[pop], list(matched_ids))
                if keep.any():
                    r1, r0 = float(np.mean(ev1[keep] <= HORIZON)), float(np.mean(ev0[keep] <= HORIZON))
                    row["truth_matched"] = r1 - r0
                    row["truth_matched_treated"], row["truth_matched_untreated"] = r1, r0
            for analysis, frame in (("matched", cohort.cohort), ("naive", naive)):
                data = derive_outcome(frame, spec, tables).frame
                weights = None
                if analysis == "matched" and plan.weighted:
                    data = data.assign(analysis_weight=analysis_weights(data))
                    weights = "analysis_weight"
                res, _ = fit_survival(data, plan, cluster=None, strata=None, weights=weights)
                t = res.tidy()
                if analysis == "matched":  # as `evaluation analyse` does
                    t, _ = reused_person_contrasts(t, data, plan, weights=weights, seed=seed)
                rd = t[(t["model"] == "risk_difference") & (t["time"] == HORIZON)]
                est, se = (float(rd["estimate"].iloc[0]), float(rd["std_error"].iloc[0])) if len(rd) else (math.nan, math.nan)
                row[f"{analysis}_estimate"] = est
                row[f"{analysis}_se"] = se
                row[f"{analysis}_events"] = int((data["status"] == 1).sum())
                ci = t[(t["model"] == "cumulative_incidence") & (t["time"] == HORIZON)]
                for g, arm in ((1, "contacted"), (0, "comparison")):
                    v = ci[ci["group"].astype(float) == g]["estimate"]
                    row[f"{analysis}_risk_{arm}"] = float(v.iloc[0]) if len(v) else math.nan
            out.append(row)
    return out


def matched_truth_inputs(params: dict, seed: int) -> dict | None:
    """Both potential event times of every contacted person, keyed to the warehouse person_id.

    Re-runs the simulated world in process (same seed and settings) to get each contacted
    person's untreated and treated event times, so that the truth can also be computed among
    the contacted persons who entered the matched cohort (the matched analysis estimates the
    effect among them, which differs from the effect among all contacted when the matching
    drops contacted persons). None when the person ids cannot be reproduced.
    """
    import numpy as np

    from evaluation.simulate import run as simrun
    from evaluation.simulate.truth import potential_event_times
    from evaluation.simulate.world import Effects, simulate_world

    try:
        world = simulate_world(params["persons"], seed, Effects(**params["effects"]), params["study_share"])
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 851]))
        ids = simrun._person_ids(world.n, rng)
    except Exception as exc:  # noqa: BLE001 - the oracle is an extra; the benchmark goes on
        print(f"seed {seed}: no matched-cohort truth ({type(exc).__name__}: {exc})", file=sys.stderr)
        return None
    return {fam: (ids, pop, ev0, ev1) for fam, (pop, ev0, ev1) in potential_event_times(world.truth_inputs).items()}


def summarise(rows: list[dict]) -> str:
    import pandas as pd

    df = pd.DataFrame(rows)
    n_contacted = df.groupby("seed")["n_contacted"].first().mean()
    header = (f"{'family':<18} {'analysis':<8} {'truth':>8} {'bias':>8} {'emp.SD':>8} "
              f"{'mean SE':>8} {'coverage':>9} {'n':>4}")
    lines = [f"seeds: {df['seed'].nunique()}; mean contacted in the matched cohort: {n_contacted:.0f}",
             header]
    for fam in FAMILIES:
        sub = df[df["family"] == fam]
        if sub.empty:
            continue
        for analysis in ("matched", "naive"):
            est, se, tr = sub[f"{analysis}_estimate"], sub[f"{analysis}_se"], sub["truth"]
            ok = est.notna() & se.notna() & tr.notna()
            e, s, t = est[ok], se[ok], tr[ok]
            cover = ((e - 1.959964 * s <= t) & (t <= e + 1.959964 * s)).mean()
            lines.append(f"{fam:<18} {analysis:<8} {t.mean():8.4f} {(e - t).mean():+8.4f} {e.std(ddof=1):8.4f} "
                         f"{s.mean():8.4f} {100 * cover:8.1f}% {int(ok.sum()):4d}")
    if "truth_matched" in df:
        lines.append("")
        lines.append("against the truth among the contacted persons in the matched cohort (same seeds):")
        lines.append(header)
        for fam in FAMILIES:
            sub = df[df["family"] == fam]
            est, se, tr = sub["matched_estimate"], sub["matched_se"], sub["truth_matched"]
            ok = est.notna() & se.notna() & tr.notna()
            if not ok.any():
                continue
            e, s, t = est[ok], se[ok], tr[ok]
            cover = ((e - 1.959964 * s <= t) & (t <= e + 1.959964 * s)).mean()
            lines.append(f"{fam:<18} {'matched':<8} {t.mean():8.4f} {(e - t).mean():+8.4f} {e.std(ddof=1):8.4f} "
                         f"{s.mean():8.4f} {100 * cover:8.1f}% {int(ok.sum()):4d}")
    lines.append("")
    lines.append("12-month risk per arm (mean over seeds) next to the truth among the contacted:")
    lines.append(f"{'family':<18} {'analysis':<8} {'contacted':>10} {'truth(contact)':>15} "
                 f"{'comparison':>11} {'truth(no contact)':>18}   (truth among all contacted)")
    for fam in FAMILIES:
        sub = df[df["family"] == fam]
        if sub.empty:
            continue
        for analysis in ("matched", "naive"):
            lines.append(f"{fam:<18} {analysis:<8} {sub[f'{analysis}_risk_contacted'].mean():10.4f} "
                         f"{sub['truth_risk_treated'].mean():15.4f} "
                         f"{sub[f'{analysis}_risk_comparison'].mean():11.4f} "
                         f"{sub['truth_risk_untreated'].mean():18.4f}")
    if "truth_matched_treated" in df:
        for fam in FAMILIES:
            sub = df[df["family"] == fam]
            lines.append(f"{fam:<18} {'matched':<8} {sub['matched_risk_contacted'].mean():10.4f} "
                         f"{sub['truth_matched_treated'].mean():15.4f} "
                         f"{sub['matched_risk_comparison'].mean():11.4f} "
                         f"{sub['truth_matched_untreated'].mean():18.4f}   (truth among matched contacted)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--persons", type=int, default=20000)
    ap.add_argument("--jobs", type=int, default=2, help="processes (at most 2)")
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write every per-seed row to this file")
    args = ap.parse_args(argv)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    jobs = max(1, min(2, args.jobs))
    rows: list[dict] = []
    t0 = time.perf_counter()
    if jobs == 1:
        for s in seeds:
            rows += one_seed(s, args.persons)
            print(f"seed {s} done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for i, (s, part) in enumerate(zip(seeds, pool.map(one_seed, seeds, [args.persons] * len(seeds)))):
                rows += part
                print(f"seed {s} done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
                if (i + 1) % 10 == 0 and i + 1 < len(seeds):
                    print(f"-- after {i + 1} seeds --\n{summarise(rows)}", file=sys.stderr, flush=True)
                    if args.json:
                        args.json.write_text(json.dumps(rows, indent=1))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print(f"truth recovery: 12-month risk difference, {args.persons} persons per seed, "
          f"{time.perf_counter() - t0:.0f} s")
    print(summarise(rows))


if __name__ == "__main__":
    main()
