"""Benchmark of `evaluation cohort build`: wall time and peak memory at 100k, 300k and 1M persons.

    python benchmarks/cohort_build.py                 # 100k, 300k and 1M persons
    python benchmarks/cohort_build.py 100000 300000   # chosen sizes

Each size is simulated once (`evaluation simulate --form warehouse`, cached in
benchmarks/output/) and then built in a fresh child process, whose wall time and maximum
resident set size (via ``resource.getrusage(RUSAGE_CHILDREN)`` in a small wrapper process that
has that one child) are printed. Target: 1M persons (about 2,000 contacted) in at most 60 s and
4 GiB on 2 cores, with cost growing about linearly in the number of persons.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "output"
SEED = 2026
SIZES = (100_000, 300_000, 1_000_000)

# Runs one command as its only child and prints that child's peak memory (KiB on Linux).
_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[1:])\n"
    "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(rc)\n"
)


def simulate(persons: int) -> Path:
    warehouse = OUT / f"warehouse_{persons}"
    if (warehouse / "persons.parquet").exists():
        return warehouse
    print(f"simulating {persons} persons (once; cached in {warehouse}) ...", flush=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "evaluation", "--quiet", "simulate", "--out",
                    str(warehouse), "--persons", str(persons), "--seed", str(SEED),
                    "--form", "warehouse"], check=True, cwd=ROOT)
    print(f"  simulated in {time.perf_counter() - start:.0f} s", flush=True)
    return warehouse


def build(persons: int, warehouse: Path) -> dict:
    study = OUT / f"study_{persons}.toml"
    study.write_text(
        "[study]\n"
        f'name = "cohort benchmark, {persons} persons"\n'
        f'warehouse = "{warehouse.as_posix()}"\n'
        f'cohort = "{(ROOT / "cohorts" / "knock_knock.toml").as_posix()}"\n'
        f'output = "{(OUT / f"output_{persons}").as_posix()}"\n'
        f"seed = {SEED}\n",
        encoding="utf-8",
    )
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "evaluation", "--quiet", "cohort",
         "build", str(study)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"cohort build failed for {persons} persons:\n{proc.stderr}")
    maxrss_kib = int(next(line.split()[1] for line in proc.stderr.splitlines()
                          if line.startswith("MAXRSS")))
    meta = json.loads((OUT / f"output_{persons}" / "cohort" / "cohort.json").read_text())
    return {"persons": persons, "wall_s": wall, "peak_mib": maxrss_kib / 1024,
            "contacted_first": meta["counts"]["contacted_first_qualifying"],
            "contacted": meta["counts"]["contacted"], "comparison": meta["counts"]["comparison_rows"],
            "smd_max_after": meta["smd_max_after"]}


def main(argv: list[str]) -> int:
    sizes = tuple(int(a) for a in argv) or SIZES
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in sizes:
        rows.append(build(n, simulate(n)))
        r = rows[-1]
        print(f"{r['persons']:>9,d} persons: {r['wall_s']:6.1f} s, peak {r['peak_mib']:7.0f} MiB, "
              f"contacted {r['contacted_first']} (matched {r['contacted']}), "
              f"comparison rows {r['comparison']}, max |SMD| after {r['smd_max_after']:.3f}",
              flush=True)
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        print(f"growth {a['persons']:,d} -> {b['persons']:,d} persons (x{b['persons'] / a['persons']:.1f}): "
              f"time x{b['wall_s'] / a['wall_s']:.1f}, memory x{b['peak_mib'] / a['peak_mib']:.1f}")
    big = [r for r in rows if r["persons"] >= 1_000_000]
    for r in big:
        ok = r["wall_s"] <= 60 and r["peak_mib"] <= 4096
        print(f"target (1M persons: <= 60 s, <= 4 GiB): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
