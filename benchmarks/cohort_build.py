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
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "output"
SEED = 2026
SIZES = (100_000, 300_000, 1_000_000)

# Runs one command as its only child and prints that child's peak memory (KiB on Linux: the
# largest single process, from getrusage), the peak of the summed resident memory of its whole
# process tree (sampled every 0.2 s from /proc: `analyse` may run a second process) and the CPU
# time (user + system, s, of every descendant).
_WRAPPER = (
    "import os, resource, subprocess, sys, time\n"
    "def tree(pid):\n"
    "    out = [pid]\n"
    "    try:\n"
    "        for t in os.listdir(f'/proc/{pid}/task'):\n"
    "            with open(f'/proc/{pid}/task/{t}/children') as fh:\n"
    "                out += [q for c in fh.read().split() for q in tree(int(c))]\n"
    "    except OSError:\n"
    "        pass\n"
    "    return out\n"
    "def rss(pid):\n"
    "    try:\n"
    "        with open(f'/proc/{pid}/statm') as fh:\n"
    "            return int(fh.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') // 1024\n"
    "    except OSError:\n"
    "        return 0\n"
    "proc = subprocess.Popen(sys.argv[1:])\n"
    "peak = 0\n"
    "while proc.poll() is None:\n"
    "    peak = max(peak, sum(rss(p) for p in tree(proc.pid)))\n"
    "    time.sleep(0.2)\n"
    "rc = proc.returncode\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print('MAXRSS', u.ru_maxrss, file=sys.stderr)\n"
    "print('TREERSS', max(peak, u.ru_maxrss), file=sys.stderr)\n"
    "print('CPU', u.ru_utime + u.ru_stime, file=sys.stderr)\n"
    "sys.exit(rc)\n"
)


def measured(args: list[str], what: str, steps: bool = False) -> dict:
    """Run ``python args...`` as a fresh child: wall time, peak memory (``peak_mib``: the
    largest process; ``peak_tree_mib``: the most the child and its own children held at once)
    and CPU time; with ``steps``, also ``steps``: [label, seconds] of each progress step the
    command reported, in the order they ended ("LABEL: done in N s" on stderr; run it without
    --quiet).

    Raises SystemExit with the child's stderr when it fails.
    """
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, sys.executable, *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed:\n{proc.stderr[-4000:]}")
    found = dict(line.split()[:2] for line in proc.stderr.splitlines()
                 if line.startswith(("MAXRSS", "TREERSS", "CPU")))
    out = {"wall_s": round(wall, 2), "cpu_s": round(float(found["CPU"]), 2),
           "peak_mib": round(int(found["MAXRSS"]) / 1024, 1),
           "peak_tree_mib": round(int(found["TREERSS"]) / 1024, 1)}
    if steps:
        done = (line.rsplit(": done in ", 1) for line in proc.stderr.splitlines() if ": done in " in line)
        # a DuckDB progress bar may share the line: the label is what follows it
        out["steps"] = [[re.sub(r".*remaining\)\s*", "", label).strip(), float(sec.split()[0])]
                        for label, sec in done]
    return out


def cohort_json(output: Path) -> Path:
    """``cohort.json`` of the one quarter built into a study's output folder
    (``<output>/<quarter>/cohort/``)."""
    found = sorted(output.glob("*/cohort/cohort.json"))
    if len(found) != 1:
        raise SystemExit(f"expected one built quarter in {output}, found {len(found)}")
    return found[0]


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
    m = measured(["-m", "evaluation", "--quiet", "cohort", "build", str(study)],
                 f"cohort build for {persons} persons")
    meta = json.loads(cohort_json(OUT / f"output_{persons}").read_text())
    return {"persons": persons, "wall_s": m["wall_s"], "peak_mib": m["peak_mib"], "cpu_s": m["cpu_s"],
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
