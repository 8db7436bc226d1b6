"""Simulated reported crime by municipality, month and offence category (the ``reported_crime``
source), with a known effect of the initiative in the study municipality.

Drawn from its own random stream (``SeedSequence([seed, STREAM])``), so adding it leaves every
other simulated table byte-identical for the same seed. The model, for municipality ``u``,
category ``c`` and month ``t``::

    mu0[u,c,t] = population[u] / 1000 * rate[c] * exp(trend[u,c] * years_t + season[c, month_t]
                                                       + shared[c,t])
    mu1[u,c,t] = mu0[u,c,t] * effect[c]   in the study municipality from the initiative start
    count      ~ negative binomial with mean mu and over-dispersion ALPHA (Poisson-gamma)

``trend`` is a municipality's own drift (log scale per year), ``season`` a category's yearly
cycle (violence peaks in summer), ``shared`` the shocks common to every municipality: a
nationwide AR(1) series plus a dip in spring 2020 to spring 2021 when nightlife closed.

The truth (``truth.json``, key ``reported_crime``) is, per category and for violence and weapons
together, the average over the post-period months of ``mu1 - mu0`` in the study municipality:
the average post-period effect in reported offences per month, the quantity that the
interrupted time series, the difference-in-differences (converted from its log rate ratio) and
the synthetic control each estimate. ``rate_ratio`` is the effect on the log scale of the
Poisson models (level change of the ITS, coefficient of the DiD).
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from .. import contract

STREAM = zlib.crc32(b"reported_crime")

#: Default effect (rate ratio) of the initiative on reported offences in the study municipality.
DEFAULT_AREA_EFFECTS = {"violence": 0.85, "weapons": 0.85}

#: Over-dispersion of the monthly counts (variance = mu + ALPHA * mu^2).
ALPHA = 0.01

#: Comparison municipalities (code, population) besides the study municipality (Aalborg).
MUNICIPALITIES = {
    "851": 222_000, "751": 365_000, "461": 207_000, "561": 116_000, "630": 121_000,
    "730": 100_000, "615": 97_000, "621": 94_000, "657": 90_000, "740": 96_000,
    "265": 90_000, "370": 84_000, "147": 104_000, "157": 75_000, "791": 97_000,
    "661": 59_000, "330": 80_000, "860": 64_000, "813": 58_000, "479": 59_000,
    "217": 64_000, "316": 73_000, "540": 74_000, "510": 56_000, "580": 59_000,
}

#: Reported offences per 1000 residents per month, by category.
RATES = {"violence": 0.42, "weapons": 0.10, "property": 2.6, "drugs": 0.55, "threats": 0.30,
         "traffic": 1.2, "other": 0.8}


def _months(start: np.datetime64, end: np.datetime64) -> pd.PeriodIndex:
    return pd.period_range(pd.Timestamp(start), pd.Timestamp(end), freq="M")


def _shared_shocks(rng: np.random.Generator, months: pd.PeriodIndex) -> np.ndarray:
    n = len(months)
    ar = np.zeros(n)
    eps = rng.normal(0.0, 0.03, n)
    for i in range(1, n):
        ar[i] = 0.6 * ar[i - 1] + eps[i]
    closed = ((months >= pd.Period("2020-03", "M")) & (months <= pd.Period("2021-05", "M")))
    return ar - 0.20 * np.asarray(closed, dtype=float)


def simulate_reported_crime(
    seed: int,
    data_start: np.datetime64,
    data_end: np.datetime64,
    initiative_start: np.datetime64,
    effects: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """The ``reported_crime`` table (raw form) and its truth; see the module docstring."""
    eff = {c: 1.0 for c in contract.OFFENCE_CATEGORIES} | DEFAULT_AREA_EFFECTS | (effects or {})
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), STREAM]))
    months = _months(data_start, data_end)
    years = (np.arange(len(months)) - len(months) / 2) / 12
    post = np.asarray(months >= pd.Period(pd.Timestamp(initiative_start), "M"))
    month_of_year = np.asarray(months.month)
    study = contract.AALBORG_MUNICIPALITY
    rows, truth = [], {}
    for c in contract.OFFENCE_CATEGORIES:
        amplitude = 0.15 if c in ("violence", "threats") else 0.06
        season = amplitude * np.cos(2 * np.pi * (month_of_year - 7) / 12)
        shared = _shared_shocks(rng, months)
        for code, population in MUNICIPALITIES.items():
            level = rng.normal(0.0, 0.12)
            trend = rng.normal(-0.01, 0.015)
            mu0 = population / 1000 * RATES[c] * np.exp(level + trend * years + season + shared)
            mu = mu0 * np.where(post & (code == study), eff[c], 1.0)
            gamma = rng.gamma(1 / ALPHA, ALPHA, len(months))
            counts = rng.poisson(mu * gamma)
            rows.append(pd.DataFrame({"municipality_code": code, "period": months.strftime("%Y-%m"),
                                      "offence_category": c, "count": counts,
                                      "population": population}))
            if code == study:
                truth[c] = _truth(mu0, mu, post, eff[c])
    v, w = truth["violence"], truth["weapons"]
    truth["violence_weapons"] = {
        "att_per_period": v["att_per_period"] + w["att_per_period"],
        "counterfactual_mean": v["counterfactual_mean"] + w["counterfactual_mean"],
        "rate_ratio": (v["att_per_period"] + w["att_per_period"]) / (v["counterfactual_mean"] + w["counterfactual_mean"]) + 1,
    }
    frame = pd.concat(rows, ignore_index=True)
    return frame, {
        "estimand": "average over the post-period months of the expected reported offences per "
                    "month in the study municipality with the initiative minus without it "
                    "(all three methods: its, did, synth); rate_ratio is the same effect as a "
                    "ratio (the level change of the ITS and the exp(coefficient) of the DiD)",
        "study_municipality": study, "first_post_period": str(months[post][0]),
        "effects": eff, "over_dispersion": ALPHA, "by_category": truth,
    }


def _truth(mu0: np.ndarray, mu: np.ndarray, post: np.ndarray, effect: float) -> dict:
    return {"att_per_period": float((mu[post] - mu0[post]).mean()),
            "counterfactual_mean": float(mu0[post].mean()), "rate_ratio": float(effect)}
