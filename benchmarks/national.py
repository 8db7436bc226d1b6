"""Benchmark at national scale: simulate, cohort build and analyse at 100k, 300k and 1M persons
with the initiative running everywhere, and the Cox engine against lifelines.

    python benchmarks/national.py                       # 100k, 300k and 1M persons
    python benchmarks/national.py --sizes 100000        # chosen sizes
    python benchmarks/national.py --cox-only            # only the Cox comparison

Prints one JSON document (progress goes to stderr):

- ``sizes``: per number of persons, ``simulate``, ``read_floor``, ``cohort_build`` and
  ``analyse``, each ``{"wall_s", "cpu_s", "peak_mib", "peak_tree_mib"}`` measured in a fresh
  child process (``peak_mib``: the largest process; ``peak_tree_mib``: the most the command and
  its own second process held at once; ``analyse`` runs the placebo index and the area-level
  estimators in a second process); ``analyse`` also has ``steps``, the seconds of each
  progress step it reported (steps of the two processes overlap);
  ``persons``, ``contacted`` and ``eligible_pool``; ``build_us_per_person`` (wall and CPU);
  ``build_over_read_floor`` (cohort build wall time over the time to read every warehouse table
  once). The simulation is ``evaluation simulate --area national --form warehouse`` (cached in
  benchmarks/output/national_<n>/, its measurement kept beside it), the cohort definition is
  cohorts/knock_knock.toml with every simulated municipality as the area, the analysis plans
  are those of analyses/.
- ``growth``: time per person at the largest size over that at the smallest (wall and CPU).
- ``cox``: at 200k and 1M rows x 10 covariates with daily ties (Efron), our fit and lifelines'
  ``CoxPHFitter`` timed one after the other in this process, their ratio and the largest
  coefficient difference.
- ``targets``: the issue's targets and whether each is met.

The machine is shared: wall times are noisy, CPU times (user + system of the child) less so;
the Cox ratio compares two fits timed in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cohort_build import OUT, ROOT, SEED, cohort_json, measured

SIZES = (100_000, 300_000, 1_000_000)
COX_ROWS = (200_000, 1_000_000)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def simulate(persons: int) -> tuple[Path, dict]:
    """The national warehouse for ``persons`` (simulated once) and its measurement."""
    warehouse = OUT / f"national_{persons}"
    record = OUT / f"national_{persons}.simulate.json"
    if (warehouse / "persons.parquet").exists() and record.exists():
        return warehouse, json.loads(record.read_text())
    log(f"simulating {persons} persons, national ...")
    m = measured(["-m", "evaluation", "--quiet", "simulate", "--out", str(warehouse), "--persons",
                  str(persons), "--seed", str(SEED), "--form", "warehouse", "--area", "national"],
                 f"simulate {persons}")
    record.write_text(json.dumps(m))
    return warehouse, m


def national_definition() -> Path:
    """cohorts/knock_knock.toml with every simulated municipality as the study area."""
    from evaluation.simulate.world import MUNICIPALITIES

    text = (ROOT / "cohorts" / "knock_knock.toml").read_text(encoding="utf-8")
    line = 'area = ["851"]'
    if line not in text:
        raise SystemExit(f"cohorts/knock_knock.toml has no line {line!r} to replace")
    codes = ", ".join(f'"{c}"' for c in MUNICIPALITIES)
    path = OUT / "knock_knock_national.toml"
    path.write_text(text.replace(line, f"area = [{codes}]"), encoding="utf-8")
    return path


_READ_ALL = (
    "import sys, pathlib, pyarrow.parquet as pq\n"
    "for p in sorted(pathlib.Path(sys.argv[1]).glob('*.parquet')):\n"
    "    pq.read_table(p)\n"
)


def one_size(persons: int, definition: Path) -> dict:
    warehouse, sim = simulate(persons)
    out = OUT / f"national_output_{persons}"
    study = OUT / f"national_study_{persons}.toml"
    analyses = ", ".join(f'"{p.as_posix()}"' for p in sorted((ROOT / "analyses").glob("*.toml")))
    study.write_text(
        "[study]\n"
        f'name = "national benchmark, {persons} persons"\n'
        f'warehouse = "{warehouse.as_posix()}"\n'
        f'cohort = "{definition.as_posix()}"\n'
        f"analyses = [{analyses}]\n"
        f'output = "{out.as_posix()}"\n'
        f"seed = {SEED}\n",
        encoding="utf-8",
    )
    log(f"{persons} persons: reading every table once ...")
    floor = measured(["-c", _READ_ALL, str(warehouse)], "reading the warehouse")
    log(f"{persons} persons: cohort build ...")
    built = measured(["-m", "evaluation", "--quiet", "cohort", "build", str(study)],
                     f"cohort build for {persons} persons")
    log(f"  {built}")
    log(f"{persons} persons: analyse ...")
    analysed = measured(["-m", "evaluation", "analyse", str(study)], f"analyse for {persons} persons",
                        steps=True)
    log(f"  {analysed}")
    meta = json.loads(cohort_json(out).read_text())
    counts = meta["counts"]
    return {
        "persons": persons,
        "contacted": counts["contacted_first_qualifying"],
        "contacted_matched": counts["contacted"],
        "candidates_sampled": counts["candidates_sampled"],
        "simulate": sim, "read_floor": floor, "cohort_build": built, "analyse": analysed,
        "build_us_per_person": {"wall": round(built["wall_s"] / persons * 1e6, 2),
                                "cpu": round(built["cpu_s"] / persons * 1e6, 2)},
        "build_over_read_floor": round(built["wall_s"] / max(floor["wall_s"], 1e-9), 2),
    }


def cox_data(n: int, p: int = 10, seed: int = 1) -> pd.DataFrame:
    """n rows x p normal covariates, exponential times in whole days (daily ties), censoring."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    beta = np.linspace(-0.3, 0.3, p)
    t = rng.exponential(365 / np.exp(x @ beta))
    c = rng.uniform(0, 730, n)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(p)])
    frame["time"] = np.ceil(np.minimum(t, c))
    frame["event"] = (t <= c).astype(int)
    return frame


def cox_compare(n: int) -> dict:
    from evaluation.survival.cox import fit_cox

    frame = cox_data(n)
    terms = [c for c in frame.columns if c.startswith("x")]
    out = {"rows": n, "events": int(frame["event"].sum()),
           "unique_times": int(frame["time"].nunique())}
    fits = {}
    for engine in ("numpy", "lifelines"):
        start = time.perf_counter()
        fits[engine] = fit_cox(frame, duration="time", event="event", terms=terms, engine=engine)
        out[f"{engine}_s"] = round(time.perf_counter() - start, 2)
    out["ratio_to_lifelines"] = round(out["numpy_s"] / out["lifelines_s"], 3)
    out["max_coef_difference"] = float(np.max(np.abs(fits["numpy"].params - fits["lifelines"].params)))
    log(f"cox {n} rows: {out}")
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--cox-only", action="store_true", help="only the Cox comparison")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    result: dict = {"seed": SEED, "sizes": []}
    if not args.cox_only:
        definition = national_definition()
        result["sizes"] = [one_size(n, definition) for n in args.sizes]
    result["cox"] = [cox_compare(n) for n in COX_ROWS]
    sizes = result["sizes"]
    targets: dict = {}
    if len(sizes) > 1:
        a, b = sizes[0]["build_us_per_person"], sizes[-1]["build_us_per_person"]
        result["growth"] = {k: round(b[k] / a[k], 2) for k in ("wall", "cpu")}
        targets["time_per_person_growth_le_1_5"] = result["growth"]["wall"] <= 1.5
    big = [s for s in sizes if s["persons"] >= 1_000_000]
    if big:
        targets["build_1m_le_60_s"] = big[-1]["cohort_build"]["wall_s"] <= 60
        targets["build_1m_le_4_gib"] = big[-1]["cohort_build"]["peak_mib"] <= 4096
        targets["analyse_1m_le_120_s"] = big[-1]["analyse"]["wall_s"] <= 120
    cox_1m = [c for c in result["cox"] if c["rows"] >= 1_000_000]
    if cox_1m:
        targets["cox_1m_ratio_le_1_5"] = cox_1m[-1]["ratio_to_lifelines"] <= 1.5
    result["targets"] = targets
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
