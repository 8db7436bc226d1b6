"""Writes survival_checks.csv: 600 simulated people in sets of four, with entry times and weights."""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(20261125)
n = 600
set_id = np.arange(n) // 4
treated = (np.arange(n) % 4 == 0).astype(int)
x = rng.normal(size=n).round(3)
rate = 0.002 * np.exp(0.3 * x - 0.3 * treated)
t1 = rng.exponential(1 / rate)
t2 = rng.exponential(1 / 0.0006, n)
c = rng.uniform(100, 1000, n)
time = np.ceil(np.minimum.reduce([t1, t2, c])).astype(int)
status = np.where((t1 <= t2) & (t1 <= c), 1, np.where((t2 < t1) & (t2 <= c), 2, 0))
entry = np.where(rng.random(n) < 0.4, np.floor(time * rng.uniform(0, 0.8, n)), 0).astype(int)
w = rng.uniform(0.5, 2.5, n).round(3)
pd.DataFrame(
    {
        "set_id": set_id,
        "treated": treated,
        "x": x,
        "entry": entry,
        "time": time,
        "status": status,
        "w": w,
    }
).to_csv(Path(__file__).with_name("survival_checks.csv"), index=False)
