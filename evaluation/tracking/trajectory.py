"""The trajectory: one row per quarter and primary outcome, read from the kept bundles.

Nothing here estimates anything a bundle already holds: the counts, the risk difference at the
primary horizon with its interval and standard error, the Cox hazard ratio, the minimum
detectable hazard ratio and the gates are copied from each quarter's ``estimates.json``. What
tracking adds is the look: the quarter's number since the initiative start, the boundary of the
plan's monitoring scheme at that look (:mod:`evaluation.tracking.spending`), whether the
estimate crosses it, and the projection of when an answer can be expected
(:func:`evaluation.tracking.projection.project_detectable_effect`).

Columns of the table (``tracking.parquet``): ``quarter``, ``look``, ``version`` (the bundle
version, :mod:`evaluation.tracking.versions`), ``analysis_date``, ``family``, ``outcome_id``,
``direction``, ``contacted`` (persons with a first qualifying contact from the initiative
start to the quarter's end), ``eligible`` (of them eligible at it), ``matched`` (contacted
persons in the matched cohort), ``population_contacted`` / ``population_comparison`` (rows at
risk of the outcome), ``events_contacted`` / ``events_comparison``, ``horizon_days``,
``rd`` / ``rd_low`` / ``rd_high`` / ``rd_se`` (risk difference, contacted minus comparison, at
the primary horizon, 95% interval), ``hr`` / ``hr_low`` / ``hr_high`` (Cox, matched),
``min_detectable_hr``, ``gates_passed``, ``z`` (rd / rd_se), ``boundary_z`` (the look's
boundary), ``crossed`` (gates passed and ``|z| >= boundary_z``).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..numbers import finite_float as _num
from .projection import Look, Projection, project_detectable_effect
from .spending import Boundaries

FAMILY_ORDER = ("reoffending", "education_job", "group_recruitment")




def _pick(rows: list[dict], model: str, time: int | None = None) -> dict | None:
    for r in rows:
        if (r.get("model") == model and r.get("analysis", "matched") == "matched"
                and (time is None or _num(r.get("time")) == float(time))):
            return r
    return None


def primary_outcomes(estimates: dict[str, Any]) -> list[dict[str, Any]]:
    """The primary outcome of each family in a bundle, in the families' order."""
    found = {o.get("family"): o for o in estimates.get("outcomes", []) if o.get("primary")}
    return [found[f] for f in FAMILY_ORDER if f in found]


def trajectory_rows(quarter: str, look: int, version: str | None, estimates: dict[str, Any],
                    boundaries: dict[str, Boundaries]) -> list[dict[str, Any]]:
    """The rows of one quarter (one per primary outcome) from its bundle's ``estimates.json``."""
    counts = (estimates.get("cohort") or {}).get("counts") or {}
    rows = []
    for o in primary_outcomes(estimates):
        horizon = o.get("primary_horizon_days") or 365
        est = o.get("estimates") or []
        rd = _pick(est, "risk_difference", horizon) or {}
        cox = _pick(est, "cox") or {}
        diag = o.get("diagnostics") or {}
        events = diag.get("events") or {}
        population = o.get("population") or {}
        gates = bool((o.get("gates") or {}).get("passed", False))
        rd_est, rd_se = _num(rd.get("estimate")), _num(rd.get("std_error"))
        z = rd_est / rd_se if rd_est is not None and rd_se else None
        b = boundaries[o["family"]].z_at(look)
        beta = _num(cox.get("estimate"))
        rows.append({
            "quarter": quarter, "look": look, "version": version,
            "analysis_date": (estimates.get("study") or {}).get("analysis_date"),
            "family": o.get("family"), "outcome_id": o.get("id"),
            "direction": o.get("direction", "lower_is_better"),
            "contacted": _num(counts.get("contacted_first_qualifying")),
            "eligible": _num(counts.get("contacted_eligible")),
            "matched": _num(counts.get("contacted")),
            "population_contacted": _num(population.get("contacted")),
            "population_comparison": _num(population.get("comparison")),
            "events_contacted": _num(events.get("contacted")),
            "events_comparison": _num(events.get("comparison")),
            "horizon_days": horizon,
            "rd": rd_est, "rd_low": _num(rd.get("conf_low")), "rd_high": _num(rd.get("conf_high")),
            "rd_se": rd_se,
            "hr": math.exp(beta) if beta is not None else None,
            "hr_low": _exp(cox.get("conf_low")), "hr_high": _exp(cox.get("conf_high")),
            "min_detectable_hr": _num(diag.get("min_detectable_hr")),
            "gates_passed": gates, "z": z, "boundary_z": b if math.isfinite(b) else None,
            "crossed": bool(gates and z is not None and math.isfinite(b) and abs(z) >= b),
        })
    return rows


def _exp(value: Any) -> float | None:
    v = _num(value)
    return math.exp(v) if v is not None else None


def projections(table: pd.DataFrame, boundaries: dict[str, Boundaries],
                target_hr: dict[str, float], power: dict[str, float]) -> dict[str, Projection]:
    """Per family: when the plan's effect can be expected to be detectable (the latest look on)."""
    out = {}
    for family, part in table.groupby("family", sort=False):
        part = part.sort_values("look")
        looks = [Look(r.quarter, r.population_contacted or 0.0, r.population_comparison or 0.0,
                      r.events_contacted or 0.0, r.events_comparison or 0.0)
                 for r in part.itertuples()]
        out[family] = project_detectable_effect(
            looks, boundaries[family].nominal_alpha_at, target_hr=target_hr[family],
            power=power[family])
    return out
