"""Pseudonymisation speed: CPR numbers -> pseudonyms, and the whole command on a big charges file.

    python benchmarks/pseudonymise.py                      # 10 million rows
    python benchmarks/pseudonymise.py --rows 1000000 --persons 1000000

Generates synthetic CPR numbers (valid structure, hyphenated as most extracts deliver them) with
``--persons`` distinct numbers spread over ``--rows`` rows, then times

1. the normalise + parse + HMAC step (:func:`evaluation.pseudonymise.pseudonymise_cprs`) on the
   rows, and
2. ``evaluation pseudonymise`` end to end on a ``charges.csv`` of ``--rows`` rows (read, check,
   hash, type every column, write the warehouse), in a fresh process,

and prints rows per second for each. Target: 10 million rows in under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 60.0


def synthetic_numbers(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` CPR numbers with a valid structure (birth 1960-2012) as int64 ``DDMMYYSSSS``.

    Not guaranteed distinct: deduplicate with :func:`numpy.unique` (fast on integers).
    """
    days = rng.integers(0, (pd.Timestamp("2012-12-31") - pd.Timestamp("1960-01-01")).days, n)
    ymd = pd.DatetimeIndex(np.datetime64("1960-01-01") + days.astype("timedelta64[D]"))
    year = ymd.year.to_numpy().astype(np.int64)
    d7 = np.where(year >= 2000, rng.choice([4, 5, 6, 7, 8, 9], n), rng.integers(0, 4, n))
    serial = d7 * 1000 + rng.integers(0, 1000, n)
    ddmmyy = ymd.day.to_numpy() * 10000 + ymd.month.to_numpy() * 100 + year % 100
    return ddmmyy.astype(np.int64) * 10000 + serial


def hyphenated(numbers: np.ndarray) -> np.ndarray:
    """int64 ``DDMMYYSSSS`` numbers as fixed-width ``DDMMYY-SSSS`` bytes."""
    n = len(numbers)
    chars = np.empty((n, 11), dtype=np.uint8)
    for k, pos in enumerate((0, 1, 2, 3, 4, 5, 7, 8, 9, 10)):
        chars[:, pos] = (numbers // 10 ** (9 - k)) % 10 + 48
    chars[:, 6] = ord("-")
    return chars.view("S11").ravel()


def as_arrow(cprs: np.ndarray) -> pa.Array:
    n = len(cprs)
    offsets = np.arange(0, 11 * n + 1, 11, dtype=np.int64)
    return pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets),
                                                         pa.py_buffer(cprs.tobytes())]).cast(pa.string())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows (default 10 million)")
    parser.add_argument("--persons", type=int, default=None,
                        help="distinct CPR numbers (default: a fifth of the rows)")
    parser.add_argument("--skip-command", action="store_true", help="only time the hashing step")
    args = parser.parse_args()
    rows = args.rows
    persons = args.persons or max(1, rows // 5)

    from evaluation.keys import generate_key_file, load_key
    from evaluation.pseudonymise import pseudonymise_cprs

    rng = np.random.default_rng(20261125)
    t0 = time.perf_counter()
    pool = np.unique(synthetic_numbers(int(persons * 1.1) + 100, rng))[:persons]
    rng.shuffle(pool)
    picks = np.r_[np.arange(len(pool)), rng.integers(0, len(pool), max(0, rows - len(pool)))][:rows]
    cprs = hyphenated(pool[picks])
    text = pd.Series(pd.arrays.ArrowStringArray(as_arrow(cprs)))
    print(f"generated {rows:,} CPR strings ({len(pool):,} distinct) in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-pseudonymise-") as tmp:
        tmp = Path(tmp)
        (tmp / "secrets").mkdir(mode=0o700)
        key_file = generate_key_file(tmp / "secrets" / "bench.key")
        key = load_key(key_file)

        t0, c0 = time.perf_counter(), time.process_time()
        got = pseudonymise_cprs(key, text)
        step, cpu = time.perf_counter() - t0, time.process_time() - c0
        assert got.person_id.null_count == 0 and got.persons.num_rows == len(pool)
        print(f"normalise + parse + HMAC: {rows:,} rows in {step:.1f} s = "
              f"{rows / step:,.0f} rows/s (CPU time {cpu:.1f} s)", flush=True)
        del got

        if args.skip_command:
            return 0
        raw = tmp / "raw"
        raw.mkdir()
        t0 = time.perf_counter()
        n = rows
        days = rng.integers(0, 3600, n).astype("timedelta64[D]")
        offence = np.datetime64("2016-10-01") + days
        charge = offence + rng.integers(0, 60, n).astype("timedelta64[D]")
        cats = np.array(["violence", "weapons", "property", "drugs", "threats", "traffic", "other"])
        table = pa.table({
            "cpr": text.array._pa_array.combine_chunks() if hasattr(text.array, "_pa_array")
            else pa.array(text.to_numpy(dtype=object)),
            "case_id": pa.array(np.char.add("K", (np.arange(n) // 2).astype(str))),
            "offence_date": pa.array(offence.astype("datetime64[D]")),
            "charge_date": pa.array(charge.astype("datetime64[D]")),
            "offence_code": pa.array(rng.integers(10000, 99999, n).astype(str)),
            "offence_category": pa.array(cats[rng.integers(0, len(cats), n)]),
        })
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, raw / "charges.csv")
        size = (raw / "charges.csv").stat().st_size
        del table
        print(f"wrote charges.csv ({size / 1e6:,.0f} MB) in {time.perf_counter() - t0:.1f} s",
              flush=True)

        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [sys.executable, "-m", "evaluation", "--quiet", "pseudonymise", str(raw),
             "--key", str(key_file), "--out", str(tmp / "warehouse")],
            check=False, env=env, capture_output=True, text=True,
        )
        whole = time.perf_counter() - t0
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
        if done.returncode != 0:
            print(done.stdout, done.stderr, file=sys.stderr)
            return 1
        print(f"evaluation pseudonymise (whole command): {rows:,} rows in {whole:.1f} s = "
              f"{rows / whole:,.0f} rows/s (CPU time {cpu:.1f} s, peak memory "
              f"{c1.ru_maxrss / 1024:,.0f} MB)", flush=True)
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
              "(other work on the machine lengthens the wall time)")
        budget = TARGET_SECONDS * rows / 10_000_000
        if whole < budget:
            verdict = "OK"
        elif cpu < budget:
            verdict = ("wall time over the target, CPU time within it: the machine was busy "
                       "with other work")
        else:
            verdict = "SLOWER THAN TARGET"
        print(f"target: 10,000,000 rows in under {TARGET_SECONDS:.0f} s -> {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
