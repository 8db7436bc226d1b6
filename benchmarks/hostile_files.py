"""Hostile input files: refused in seconds, with bounded memory.

    python benchmarks/hostile_files.py                 # 200 MB one-line CSV, 10^6-column CSV
    python benchmarks/hostile_files.py --mb 50 --columns 100000

Writes each hostile file as a source extract (``charges.csv``) beside clean simulated extracts,
runs ``evaluation pseudonymise`` and ``evaluation validate`` on the folder in a fresh process
each, and prints JSON: per file and command the exit code, the wall time, the peak resident
memory of the process (``ru_maxrss`` of that child, from ``os.wait4``) and the message, with
``validate`` of a one-row extract as the peer measured in the same run (start-up and imports).
Target: each refused (exit 2, one message) in seconds with under 1 GiB peak memory.

The files: a CSV of one line of ``--mb`` megabytes (no line break at all), a CSV whose header
has ``--columns`` columns, a CSV with a normal header and one data line of ``--mb`` megabytes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _write_one_line(path: Path, mb: int) -> None:
    chunk = b"0123456789," * 100_000  # 1.1 MB without a line break
    with open(path, "wb") as fh:
        fh.writelines(chunk for _ in range(mb * 1024 * 1024 // len(chunk) + 1))


def _write_wide(path: Path, columns: int) -> None:
    with open(path, "w", encoding="ascii") as fh:
        fh.write("cpr," + ",".join(f"c{i}" for i in range(columns - 1)) + "\n")
        fh.write("0505078724," + ",".join("1" for _ in range(columns - 1)) + "\n")


def _write_long_row(path: Path, mb: int) -> None:
    with open(path, "wb") as fh:
        fh.write(b"cpr,case_id,offence_date,charge_date,offence_code,offence_category\n")
        fh.write(b"0505078724,K1,2024-01-01,2024-01-02,V-1,")
        chunk = b"x" * 1_000_000
        fh.writelines(chunk for _ in range(mb))
        fh.write(b"\n")


def _run(args: list[str]) -> dict:
    """One command in a fresh process: exit code, wall time, peak memory of that process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "evaluation", "--quiet", *args],
                                stdout=subprocess.DEVNULL, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # the rusage of this child alone
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        err.seek(0)
        message = (err.read().strip().splitlines() or [""])[-1][:300]
    return {"exit_code": proc.returncode, "seconds": round(wall, 2),
            "peak_memory_mib": round(usage.ru_maxrss / 1024, 1), "message": message}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the long-line files (MB)")
    parser.add_argument("--columns", type=int, default=1_000_000, help="columns of the wide file")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        tmp = Path(tmp)
        key = tmp / "secrets" / "study.key"
        key.parent.mkdir(mode=0o700)
        subprocess.run([sys.executable, "-m", "evaluation", "--quiet", "keygen", str(key)],
                       check=True, capture_output=True)
        # the peer: the same command on a one-row extract (start-up, imports, a clean read)
        small = tmp / "small"
        small.mkdir()
        (small / "charges.csv").write_text(
            "cpr,case_id,offence_date,charge_date,offence_code,offence_category\n"
            "0505078724,K1,2024-01-01,2024-01-02,V-1,violence\n", encoding="ascii")
        results.append({"file": "one_row_peer", "bytes": os.path.getsize(small / "charges.csv"),
                        "validate": _run(["validate", str(small)])})
        for name, write, size in (("wide_header", _write_wide, args.columns),
                                  ("long_row", _write_long_row, args.mb),
                                  ("one_line", _write_one_line, args.mb)):
            raw = tmp / name
            raw.mkdir()
            write(raw / "charges.csv", size)
            entry = {"file": name, "bytes": os.path.getsize(raw / "charges.csv")}
            entry["pseudonymise"] = _run(["pseudonymise", str(raw), "--key", str(key),
                                          "--out", str(tmp / f"wh-{name}")])
            entry["validate"] = _run(["validate", str(raw)])
            results.append(entry)
    print(json.dumps({"benchmark": "hostile_files", "target": "refused (exit 2) in seconds, "
                      "peak memory under 1024 MiB", "results": results}, indent=2))


if __name__ == "__main__":
    main()
