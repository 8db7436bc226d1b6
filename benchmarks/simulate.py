"""Simulator speed: `evaluation simulate` in a fresh process, wall time, rows written, peak memory.

    python benchmarks/simulate.py            # 100,000 persons, warehouse and raw form
    python benchmarks/simulate.py --full     # also 1,000,000 persons (warehouse form)

Target: 1,000,000 persons in the warehouse form in a few minutes on 2 cores with under ~6 GiB of
memory; 20,000 persons in a few seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(persons: int, form: str, folder: Path) -> dict:
    """Run the command once in a fresh process; return wall seconds, rows and peak memory."""
    out = folder / f"{form}-{persons}"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "evaluation", "--quiet", "simulate", "--out", str(out),
         "--persons", str(persons), "--seed", "1", "--form", form],
        check=True, env=env,
    )
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sim = json.loads((out / "simulation.json").read_text())
    size = sum(p.stat().st_size for p in out.iterdir())
    return {"persons": persons, "form": form, "seconds": wall,
            "rows": sum(sim["counts"].values()), "contacted": sim["contacted_persons"],
            "peak_rss_mib": max(peak, before) / 1024, "megabytes": size / 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also 1,000,000 persons")
    args = parser.parse_args()
    cases = [(20_000, "warehouse"), (100_000, "warehouse"), (100_000, "raw")]
    if args.full:
        cases.append((1_000_000, "warehouse"))
    with tempfile.TemporaryDirectory(prefix="bench-simulate-") as tmp:
        for persons, form in cases:
            r = run(persons, form, Path(tmp))
            print(f"simulate {r['persons']:>9,} persons {r['form']:<9}: {r['seconds']:7.1f} s, "
                  f"{r['rows']:>11,} rows ({r['rows'] / r['seconds']:,.0f} rows/s), "
                  f"{r['contacted']:,} contacted, {r['megabytes']:.0f} MB written, "
                  f"peak memory so far {r['peak_rss_mib']:,.0f} MiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
