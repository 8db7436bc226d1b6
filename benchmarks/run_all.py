"""Run every benchmark in this folder, one after another, and let each print its figures.

    python benchmarks/run_all.py            # all of them
    python benchmarks/run_all.py cohort     # those whose file name contains 'cohort'
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    wanted = sys.argv[1:]
    scripts = [
        p for p in sorted(here.glob("*.py"))
        if p.name != Path(__file__).name and not p.name.startswith("_")
        and (not wanted or any(w in p.stem for w in wanted))
    ]
    failed = 0
    for script in scripts:
        print(f"== {script.name}", flush=True)
        failed += subprocess.call([sys.executable, str(script)]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
