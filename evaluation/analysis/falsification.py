"""Checks that could show the design is wrong: negative controls with empirical calibration,
Rosenbaum bounds for the matched sets, pre-declared subgroups with a test of interaction.

**Negative controls and empirical calibration.** Each negative-control outcome (an event the
visits cannot change but that shares their confounding) is analysed with the same design as the
real outcomes. Its estimate of the log risk ratio at the primary horizon should be 0; what it is
instead measures the design's systematic error. As OHDSI's EmpiricalCalibration
(``fitNull``) does, the estimates ``b_i`` with standard errors ``s_i`` are modelled as
``b_i ~ N(mu, sigma^2 + s_i^2)`` and ``mu`` (the mean systematic error) and ``sigma`` (its spread)
are fitted by maximum likelihood; the expected absolute systematic error ``EASE = E|X|``,
``X ~ N(mu, sigma^2)`` (Schuemie et al. 2014, Stat Med 33:209; 2018, PNAS 115:2571) gates
every estimate when it exceeds the plan's bound. With two negative controls ``sigma`` is poorly
determined; the summary says how many there were.

**Rosenbaum bounds.** For the matched sets (one contacted person, k controls) and the event by
the primary horizon (rows censored before the horizon without the event are left out), the
number of sets in which the contacted person had the event, among sets with both an event and a
non-event, is compared with its distribution under no effect when an unmeasured confounder
multiplies the odds of contact within a set by at most Gamma (Rosenbaum 2002, Observational
Studies, ch. 4: in a set with m events among k + 1 persons the chance that the contacted person is
one of them lies between m / (m + Gamma (k + 1 - m)) and Gamma m / (Gamma m + k + 1 - m)). The
reported Gamma is the smallest at which the one-sided p-value bound (normal approximation)
reaches 0.05: a hidden confounder of that strength could explain the difference away. Controls
reused across sets are treated as distinct, an approximation.

**Subgroups.** Pre-declared in the plan; a matched set belongs to the subgroup of its contacted
person (so sets stay whole). Per subgroup the risk difference at the primary horizon with the
person-level bootstrap SE, and a test of interaction: Cochran's Q of the subgroup differences
against their inverse-variance mean, chi-square with (groups - 1) degrees of freedom. A
dimension is shown only when every subgroup has at least the plan's minimum events in each arm.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..survival.estimability import ratio_reason

# ---------------------------------------------------------------------------------------------
# empirical calibration


def fit_null(estimates: np.ndarray, std_errors: np.ndarray) -> dict:
    """Maximum-likelihood fit of the empirical null N(mu, sigma^2) to negative-control estimates
    (log scale) and the expected absolute systematic error; None values without estimates."""
    b = np.asarray(estimates, float)
    s = np.asarray(std_errors, float)
    ok = np.isfinite(b) & np.isfinite(s) & (s > 0)
    b, s = b[ok], s[ok]
    if len(b) == 0:
        return {"n": 0, "mean": None, "sd": None, "ease": None}

    def nll(theta):
        mu, log_sigma = theta
        var = np.exp(2 * log_sigma) + s**2
        return 0.5 * np.sum(np.log(var) + (b - mu) ** 2 / var)

    best = None
    for start in (-3.0, -1.0, 0.5):
        r = optimize.minimize(nll, x0=[float(np.mean(b)), start], method="Nelder-Mead",
                              options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 2000})
        if best is None or r.fun < best.fun:
            best = r
    mu, sigma = float(best.x[0]), float(np.exp(best.x[1]))
    if sigma < 1e-6:
        sigma = 0.0
    return {"n": len(b), "mean": mu, "sd": sigma, "ease": expected_absolute_error(mu, sigma)}


def expected_absolute_error(mu: float, sigma: float) -> float:
    """E|X| for X ~ N(mu, sigma^2) (|mu| when sigma is 0)."""
    if sigma <= 0:
        return abs(mu)
    return float(sigma * math.sqrt(2 / math.pi) * math.exp(-mu**2 / (2 * sigma**2))
                 + mu * (1 - 2 * stats.norm.cdf(-mu / sigma)))


def calibrated_interval(log_estimate: float, se: float, null: dict) -> tuple[float, float] | None:
    """95% interval of a log estimate widened and shifted by the empirical null (as
    EmpiricalCalibration's calibrateConfidenceInterval with a null of fixed mean and SD)."""
    if null.get("mean") is None or not (np.isfinite(log_estimate) and np.isfinite(se)):
        return None
    centre = log_estimate - null["mean"]
    half = 1.959964 * math.sqrt(se**2 + null["sd"] ** 2)
    return centre - half, centre + half


# ---------------------------------------------------------------------------------------------
# Rosenbaum bounds


def matched_binary_outcome(frame: pd.DataFrame, horizon: float) -> pd.DataFrame:
    """Per row of the matched design: set_id, treated, event by ``horizon`` (1/0); rows censored
    (or with a competing event) before the horizon without the event are left out."""
    event = (frame["status"] == 1) & (frame["time"] <= horizon)
    known = event | (frame["time"] >= horizon)
    out = frame.loc[known, ["set_id", "treated"]].copy()
    out["event"] = event[known].astype(int).to_numpy()
    return out


def rosenbaum_gamma(binary: pd.DataFrame, alpha: float = 0.05, gamma_max: float = 20.0) -> dict:
    """Sensitivity of the matched comparison of the event by the horizon to hidden bias.

    Returns ``{"sets": informative sets, "statistic": sets where the contacted person had the
    event, "expected": under no effect and no bias, "p_value": at Gamma = 1, "gamma": the
    smallest Gamma at which the one-sided p-value bound reaches alpha (None when the difference is
    not significant even at Gamma = 1), "direction": "fewer" or "more" events among the
    contacted}``.
    """
    g = binary.groupby("set_id")
    treated_event = (binary["event"] * (binary["treated"] == 1)).groupby(binary["set_id"]).sum()
    sets = pd.DataFrame({"size": g.size(), "m": g["event"].sum(), "t": treated_event,
                         "has_t": g["treated"].max()})
    sets = sets[(sets["has_t"] == 1) & (sets["size"] >= 2) & (sets["m"] > 0) & (sets["m"] < sets["size"])]
    n, m, t = sets["size"].to_numpy(float), sets["m"].to_numpy(float), float(sets["t"].sum())
    if len(sets) == 0:
        return {"sets": 0, "statistic": None, "expected": None, "p_value": None, "gamma": None,
                "direction": None}
    expected = float(np.sum(m / n))
    fewer = t < expected

    def p_bound(gamma: float) -> float:
        # the bias least favourable to the conclusion: for "fewer events among the contacted" a
        # confounder that steers low-risk persons into contact (the smallest chance that the
        # contacted person is among the events), for "more" the opposite
        p = (m / (m + gamma * (n - m))) if fewer else (gamma * m / (gamma * m + n - m))
        mean, var = float(np.sum(p)), float(np.sum(p * (1 - p)))
        z = (t - mean) / math.sqrt(var) if var > 0 else 0.0
        return float(stats.norm.cdf(z)) if fewer else float(stats.norm.sf(z))

    p1 = p_bound(1.0)
    gamma = None
    if p1 < alpha:
        if p_bound(gamma_max) < alpha:
            gamma = gamma_max
        else:
            gamma = float(optimize.brentq(lambda x: p_bound(x) - alpha, 1.0, gamma_max, xtol=1e-4))
    return {"sets": len(sets), "statistic": int(t), "expected": expected, "p_value": p1,
            "gamma": gamma, "gamma_capped": bool(gamma == gamma_max) if gamma is not None else False,
            "direction": "fewer" if fewer else "more"}


# ---------------------------------------------------------------------------------------------
# subgroups


def subgroup_of_sets(cohort_rows: pd.DataFrame, column: str) -> pd.Series:
    """The subgroup of every row: its set's contacted person's value of ``column``."""
    contacted = cohort_rows[cohort_rows["treated"] == 1].drop_duplicates("set_id")
    value = contacted.set_index("set_id")[column].astype(str)
    return cohort_rows["set_id"].map(value)


def interaction_test(differences: np.ndarray, std_errors: np.ndarray) -> tuple[float, int, float]:
    """Cochran's Q of subgroup differences against their inverse-variance mean: (Q, df, p)."""
    d, s = np.asarray(differences, float), np.asarray(std_errors, float)
    w = 1.0 / s**2
    mean = float(np.sum(w * d) / np.sum(w))
    q = float(np.sum(w * (d - mean) ** 2))
    df = len(d) - 1
    return q, df, float(stats.chi2.sf(q, df)) if df > 0 else float("nan")


def subgroup_effects(frame: pd.DataFrame, groups: pd.Series, horizon: int, *, weights: np.ndarray | None,
                     min_events: int, replicates: int, seed: int) -> dict:
    """Risk difference at ``horizon`` per subgroup (bootstrap SE) and the interaction test.

    ``frame``: the outcome frame (time, status, treated, person_id); ``groups``: the subgroup of
    each row. Returns ``{"shown": bool, "reason", "groups": [{"group", "risk_difference",
    "std_error", "conf_low", "conf_high", "events": {"contacted", "comparison"}}], "interaction":
    {"q", "df", "p_value"}}``; nothing is estimated when a subgroup has too few events.
    """
    from .bootstrap import bootstrap_contrasts, cumulative_incidence_matrix

    frame = frame.assign(_group=groups.to_numpy(), _w=np.ones(len(frame)) if weights is None else weights)
    rows, events = [], {}
    for name, sub in frame.groupby("_group", sort=True):
        ev = {arm: int(((sub["treated"] == g) & (sub["status"] == 1)).sum())
              for g, arm in ((1, "contacted"), (0, "comparison"))}
        events[name] = ev
    low = [k for k, ev in events.items() if min(ev.values()) < min_events]
    if len(events) < 2 or low:
        return {"shown": False, "groups": [], "interaction": None,
                "reason": "too_few_events" if low else "too_few_groups", "min_events": min_events}
    for name, sub in frame.groupby("_group", sort=True):
        risk = {}
        for g in (1, 0):
            m = sub["treated"].to_numpy() == g
            risk[g] = float(cumulative_incidence_matrix(sub["time"].to_numpy(float)[m], sub["status"].to_numpy(int)[m],
                                                        sub["_w"].to_numpy(float)[None, m], (horizon,))[0, 0])
        se = float(bootstrap_contrasts(sub, (horizon,), weights="_w", replicates=replicates, seed=seed)["se_rd"].iloc[0])
        rd = risk[1] - risk[0]
        rows.append({"group": str(name), "risk_difference": rd, "std_error": se,
                     "conf_low": rd - 1.959964 * se, "conf_high": rd + 1.959964 * se, "events": events[name]})
    q, df, p = interaction_test(np.array([r["risk_difference"] for r in rows]), np.array([r["std_error"] for r in rows]))
    return {"shown": True, "reason": None, "groups": rows, "interaction": {"q": q, "df": df, "p_value": p}}


# ---------------------------------------------------------------------------------------------
# study-level runs (called by `evaluation analyse`)


def _primary_contrast(cohort: pd.DataFrame, spec, plan, tables, *, weighted: bool, seed: int,
                      replicates: int) -> dict:
    """Risk difference and log risk ratio at the primary horizon with person-level bootstrap
    SEs, on the primary estimand's follow-up, as the matched analysis estimates them."""
    from ..outcomes import derive_outcome
    from .bootstrap import bootstrap_contrasts, cumulative_incidence_matrix
    from .estimands import primary_cohort
    from .run import analysis_weights

    h = plan.primary_horizon_days
    frame = derive_outcome(primary_cohort(cohort, plan.primary_estimand), spec, tables).frame
    w = analysis_weights(frame) if weighted else np.ones(len(frame))
    frame = frame.assign(_w=w)
    risk = {}
    for g in (1, 0):
        m = frame["treated"].to_numpy() == g
        risk[g] = float(cumulative_incidence_matrix(frame["time"].to_numpy(float)[m], frame["status"].to_numpy(int)[m],
                                                    w[None, m], (h,))[0, 0]) if m.any() else float("nan")
    boot = bootstrap_contrasts(frame, (h,), weights="_w", replicates=replicates, seed=seed).iloc[0]
    rd, se_rd = risk[1] - risk[0], float(boot["se_rd"])
    log_rr = math.log(risk[1] / risk[0]) if risk[1] > 0 and risk[0] > 0 else float("nan")
    se_log = float(boot["se_log_rr"])
    events = {arm: int(((frame["treated"] == g) & (frame["status"] == 1)).sum())
              for g, arm in ((1, "contacted"), (0, "comparison"))}
    # the risk ratio is judged by the one "not estimated" rule, as every ratio of the bundle
    why = ratio_reason(log_rr, se_log, events)
    return {"id": spec.id, "label": spec.label, "time": h, "risk_contacted": risk[1], "risk_comparison": risk[0],
            "risk_difference": rd, "rd_std_error": se_rd,
            "rd_conf_low": rd - 1.959964 * se_rd, "rd_conf_high": rd + 1.959964 * se_rd,
            "log_risk_ratio": None if why else log_rr, "log_rr_std_error": None if why else se_log,
            "log_rr_not_estimated": why, "events": events}


def negative_controls(plans, cohort: pd.DataFrame, tables, *, weighted: bool, seed: int, replicates: int) -> dict:
    """Every negative control declared by the plans (each once, with the first plan declaring
    it), estimated with the design of that plan, and the empirical null fitted to them."""
    seen, results, notes = set(), [], []
    bound = None
    for plan in plans:
        for spec in plan.negative_controls:
            if spec.id in seen:
                continue
            seen.add(spec.id)
            bound = plan.max_systematic_error if bound is None else min(bound, plan.max_systematic_error)
            try:
                r = _primary_contrast(cohort, spec, plan, tables, weighted=weighted, seed=seed, replicates=replicates)
                r["enough_events"] = min(r["events"].values()) >= plan.min_events_per_arm
                results.append(r)
            except Exception as exc:  # noqa: BLE001 - recorded; the null is fitted to the others
                notes.append(f"{spec.id}: {type(exc).__name__}: {exc}")
    usable = [r for r in results if r["enough_events"] and r["log_risk_ratio"] is not None
              and r["log_rr_std_error"] is not None]
    null = fit_null(np.array([r["log_risk_ratio"] for r in usable]), np.array([r["log_rr_std_error"] for r in usable]))
    evaluated = null["ease"] is not None
    return {"declared": sorted(seen), "estimates": results, "null": null, "scale": "log risk ratio",
            "max_systematic_error": bound, "evaluated": evaluated,
            "passed": bool(null["ease"] <= bound) if evaluated and bound is not None else None,
            "notes": notes}


def placebo(plans, warehouse, definition_path, cohort_meta: dict, real_start, *, weighted: bool, seed: int,
            replicates: int) -> dict:
    """The placebo index (:mod:`.placebo`) for the primary outcome of every plan."""
    from ..cohort import load_definition
    from ..outcomes import WarehouseTables
    from .placebo import placebo_cohort

    shift = max(p.placebo_shift_days for p in plans)
    try:
        cohort, end = placebo_cohort(Path(warehouse), load_definition(definition_path), real_start, shift, seed)
    except Exception as exc:  # noqa: BLE001 - recorded: no placebo index
        return {"evaluated": False, "passed": None, "note": f"{type(exc).__name__}: {exc}", "outcomes": []}
    tables = WarehouseTables.read(warehouse, end)
    out = []
    for plan in plans:
        spec = next(o for o in plan.outcomes if o.primary)
        try:
            r = _primary_contrast(cohort, spec, plan, tables, weighted=weighted, seed=seed, replicates=replicates)
        except Exception as exc:  # noqa: BLE001 - recorded for this outcome
            out.append({"id": spec.id, "label": spec.label, "note": f"{type(exc).__name__}: {exc}"})
            continue
        r["enough_events"] = min(r["events"].values()) >= plan.min_events_per_arm
        r["null_not_rejected"] = bool(r["rd_conf_low"] <= 0 <= r["rd_conf_high"]) if r["enough_events"] else None
        out.append(r)
    judged = [r["null_not_rejected"] for r in out if r.get("null_not_rejected") is not None]
    return {"evaluated": bool(judged), "passed": all(judged) if judged else None,
            "shift_days": shift, "start": (real_start - dt.timedelta(days=shift)).isoformat(),
            "end": (real_start - dt.timedelta(days=1)).isoformat(),
            "n_contacted": int((cohort["treated"] == 1).sum()), "outcomes": out}


def primary_checks(frame: pd.DataFrame, plan, *, weights: np.ndarray | None, seed: int, replicates: int) -> dict:
    """Subgroups (each declared dimension) and the Rosenbaum bound of a primary outcome."""
    h = plan.primary_horizon_days
    dims = {}
    for dim in plan.subgroups:
        if dim not in frame.columns:
            dims[dim] = {"shown": False, "groups": [], "interaction": None, "reason": "not_in_cohort"}
            continue
        dims[dim] = subgroup_effects(frame, subgroup_of_sets(frame, dim), h, weights=weights,
                                     min_events=plan.min_events_per_arm, replicates=replicates, seed=seed)
    tested = sum(1 for d in dims.values() if d["shown"])
    rosenbaum = rosenbaum_gamma(matched_binary_outcome(frame, h)) if "set_id" in frame else None
    return {"subgroups": {"time": h, "dimensions": dims, "tests": tested,
                          "multiple_comparisons": (f"{tested} interaction tests at the 5% level: about one in "
                                                   f"{20} would appear significant by chance alone")},
            "rosenbaum": rosenbaum}
