"""Compare two results bundles' numbers: every number in estimates.json and in the tables.

    python benchmarks/compare_estimates.py NEW_RESULTS_DIR REFERENCE_RESULTS_DIR [--top 10]

Prints one JSON document: how many numbers were compared, the largest relative difference
(|a - b| / max(|a|, |b|), 0 when both are 0) and where it is, the numbers that differ by more
than 1e-9 relative, and every entry that differs in anything but a number (a text, a missing
key, a NaN on one side only). Used to show that a change to how an estimate is computed leaves
the published numbers as they were, up to floating-point rounding.
"""

from __future__ import annotations

import argparse
import json
import math
import numbers
from pathlib import Path

import numpy as np


def _walk(a, b, path: str, numbers: list, other: list) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                other.append({"path": f"{path}/{k}", "only_in": "new" if k in a else "reference"})
            else:
                _walk(a[k], b[k], f"{path}/{k}", numbers, other)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            other.append({"path": path, "lengths": [len(a), len(b)]})
        for i, (x, y) in enumerate(zip(a, b)):
            _walk(x, y, f"{path}[{i}]", numbers, other)
    elif _is_number(a) and _is_number(b):
        x, y = float(a), float(b)
        if math.isnan(x) or math.isnan(y):
            if math.isnan(x) != math.isnan(y):
                other.append({"path": path, "new": a, "reference": b})
            return
        scale = max(abs(x), abs(y))
        numbers.append((abs(x - y) / scale if scale > 0 else 0.0, path, x, y))
    elif a != b:
        other.append({"path": path, "new": a, "reference": b})


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _tables(folder: Path) -> dict:
    import pandas as pd

    out = {}
    for p in sorted((folder / "tables").glob("*.parquet")):
        frame = pd.read_parquet(p)
        out[p.name] = {"columns": [str(c) for c in frame.columns], "rows": frame.to_numpy(object).tolist()}
    return out


def compare(new: Path, reference: Path, top: int = 10) -> dict:
    found: list = []
    other: list = []
    _walk(json.loads((new / "estimates.json").read_text()),
          json.loads((reference / "estimates.json").read_text()), "estimates.json", found, other)
    _walk(_tables(new), _tables(reference), "tables", found, other)
    found.sort(key=lambda t: -t[0])
    rows = [{"relative_difference": d, "path": p, "new": x, "reference": y} for d, p, x, y in found]
    return {"new": str(new), "reference": str(reference), "numbers_compared": len(found),
            "largest_relative_difference": rows[0] if rows else None,
            "over_1e-9": sum(r["relative_difference"] > 1e-9 for r in rows),
            "over_1e-6": sum(r["relative_difference"] > 1e-6 for r in rows),
            "largest": rows[:top], "other_differences": other}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("new", type=Path)
    parser.add_argument("reference", type=Path)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    print(json.dumps(compare(args.new, args.reference, args.top), indent=2, default=str))


if __name__ == "__main__":
    main()
