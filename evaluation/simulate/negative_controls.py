"""Negative-control outcomes of the simulated world: events contact cannot change.

Two event types (``contract.NEGATIVE_CONTROL_OUTCOMES``: ``traffic_fine``, ``accidental_injury``)
arrive as Poisson processes whose hazard is a fixed multiple of the charge hazard (the same
frailty, age-crime curve and calendar factor, :class:`~evaluation.simulate.world.CohortHazard`),
so they share the confounding of the real outcomes, but contact does not act on them: their true
effect is exactly zero (the same events in the treated and the untreated world). Drawn from their
own random stream, so every other simulated table stays the same for a seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..contract import NEGATIVE_CONTROL_OUTCOMES
from .world import END_DAY

#: Hazard of each negative-control event relative to the charge hazard.
RELATIVE_RATE = {"traffic_fine": 0.25, "accidental_injury": 0.40}


def negative_control_events(seed: int, w: dict) -> pd.DataFrame:
    """``pid``, ``event_date`` (day offset), ``outcome`` of every negative-control event in the data
    window (before death or emigration), one row per person, day and outcome."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 20161001, 1111]))
    H, z = w["H"], w["z"]
    c = w["cohort"] - w["c0"]
    end = np.minimum(w["exit"], END_DAY).astype(float)
    parts = []
    for name in NEGATIVE_CONTROL_OUTCOMES:
        rel = RELATIVE_RATE[name]
        total = rel * z * H.at(c, end)
        k = rng.poisson(total)
        pid = np.repeat(np.arange(len(k)), k)
        s = rng.random(len(pid)) * total[pid]
        day = np.floor(H.inverse(c[pid], s / (rel * z[pid])))
        ok = (day >= 0) & (day < end[pid])
        parts.append(pd.DataFrame({"pid": pid[ok], "event_date": day[ok], "outcome": name}))
    out = pd.concat(parts, ignore_index=True).drop_duplicates(["pid", "event_date", "outcome"])
    return out.reset_index(drop=True)
