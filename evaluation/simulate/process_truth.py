"""The initiative's true process figures, from the simulator's own state (``truth.json``
key ``process``).

The simulator contacts a young person a few days to weeks after a triggering charge (a violence
or weapons charge, or a charge in a case shared with a registered group member) with a
probability that rises with their record; only the first such contact starts the cohort. It
knows which charge led to each first contact and when. The figures below are what the tracking
indicators (:mod:`evaluation.tracking.indicators`) estimate from the warehouse:

``contact_delay_days``
    Over every first contact in the initiative period, days from the triggering charge (charge
    date) that led to it to the contact: ``median``, ``q1``, ``q3`` (numpy's linear quantiles)
    and ``n``.
``reach``
    Young people aged 14-25 (completed years, as 365.25-day years since birth) resident in the
    study area at a triggering charge dated from the initiative start on, who had not been
    contacted before that charge: for each person the first such charge whose 90 days lie
    within the data. ``within_days`` = the share whose first contact came within 14, 30 and 90
    days of it (on or after the charge date); ``n`` persons.
"""

from __future__ import annotations

import numpy as np

from ..contract import AALBORG_MUNICIPALITY
from .world import END_DAY, INF, INIT_DAY, _municipality_at

REACH_DAYS = (14, 30, 90)


def _delays(w: dict) -> np.ndarray:
    """Days from the charge that led to each first contact to that contact."""
    trig = w["triggers"]
    tau = w["tau"]
    led = trig["hit"] & (trig["contact_day"] == tau[trig["pid"]])
    pid, delay = trig["pid"][led], (trig["contact_day"] - trig["charge_day"])[led]
    out = np.full(w["n"], INF)
    np.minimum.at(out, pid, delay)  # two charges leading to the same contact: the later one
    return out[out < INF]


def _first_triggers(w: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per person: the first qualifying trigger (persons, charge days)."""
    trig = w["triggers"]
    pid, day = trig["pid"], trig["charge_day"]
    age = (day - w["birth"][pid]) / 365.25
    in_area = _municipality_at(w, pid, day) == AALBORG_MUNICIPALITY
    ok = ((day >= INIT_DAY) & (day + max(REACH_DAYS) <= END_DAY) & (age >= 14) & (age < 26)
          & in_area & (w["tau"][pid] >= day) & (day < w["exit"][pid]))
    first = np.full(w["n"], INF)
    np.minimum.at(first, pid[ok], day[ok])
    persons = np.flatnonzero(first < INF)
    return persons, first[persons]


def process_truth(w: dict) -> dict:
    """The ``process`` entry of ``truth.json`` (see the module docstring)."""
    delays = _delays(w)
    persons, day = _first_triggers(w)
    wait = w["tau"][persons] - day
    q = np.quantile(delays, [0.25, 0.5, 0.75]) if len(delays) else [None] * 3
    return {
        "contact_delay_days": {"n": len(delays), "q1": _num(q[0]), "median": _num(q[1]),
                               "q3": _num(q[2])},
        "reach": {"n": len(persons),
                  "within_days": {str(d): (float(np.mean(wait <= d)) if len(persons) else None)
                                  for d in REACH_DAYS}},
    }


def _num(x) -> float | None:
    return None if x is None else float(x)
