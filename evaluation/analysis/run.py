"""`evaluation analyse`: outcomes, survival analyses, diagnostics, gates and the results bundle.

For every outcome of every analysis plan, on the matched cohort:

- Kaplan-Meier survival and Aalen-Johansen cumulative incidence per arm at each horizon, the risk
  difference and risk ratio (contacted minus/over comparison) with 95% CIs;
- Cox hazard ratio of contact with variance robust to the matched sets (clustered on
  ``set_id``), and the Cox model stratified by matched set. For reoffending these hazard models
  use counting-process rows with custody time removed from the time at risk (the model with
  custody counted as time at risk is kept as the sensitivity analysis ``custody_at_risk``);
- Fine-Gray subdistribution hazard ratio where a competing event (death, emigration) occurs;
- restricted mean survival time per arm and its difference at the RMST horizons;
- for count outcomes, the rate ratio of new charges (Poisson or negative binomial GLM, log
  person-time offset, cluster-robust on ``set_id``) with custody time removed from person-time.

Next to it, the naive estimate (``analysis = "naive"``): the contacted arm against ALL
non-contacted eligible residents of the area, followed from the initiative start (see
:func:`evaluation.analysis.cohortdata.naive_population`), without matching or adjustment.

Weights (``[models] weighted``, default true): the matched analyses use the cohort's ATT weights
(1 for a contacted person, 1 / number of controls in the set for a control), rescaled to mean 1
in the comparison arm (:func:`analysis_weights`), so that every matched set weighs the same in
both arms even when the caliper leaves sets incomplete (with incomplete sets, an unweighted
comparison arm over-represents the easy-to-match, lower-risk contacted). When every set is
complete the weights are all 1 and the analysis is the unweighted one. An IPTW design always uses
its weights. With ``weighted = false`` the analyses are unweighted.

Diagnostics with every estimate: events per arm, the global proportional-hazards test, the
minimum detectable hazard ratio at 80% power, the E-value and the largest SMD after matching.
Gates (balance, overlap, proportional hazards, enough events) decide whether the result may be
shown as an estimate; failed gates are listed with reasons.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .. import __version__
from ..atomic import atomic_dir
from ..blas import single_threaded_blas
from ..errors import ConfigError, InputError
from ..numbers import finite_float as _num
from ..progress import info, step
from ..quarters import Quarter
from ..study import Study
from ..survival import TIDY_COLUMNS
from ..survival.diagnostics import min_detectable_hr
from ..survival.estimability import is_estimated, mark_not_estimated
from ..survival.nonparametric import Z95
from .bootstrap import apply_bootstrap, bootstrap_contrasts
from .cohortdata import (
    CohortData,
    coverage_table,
    find_initiative_start,
    naive_population,
    read_cohort,
)
from .plan import OutcomeSpec, Plan, load_plans

SCHEMA_VERSION = "1.0"
ARM_OF = {1: "contacted", 0: "comparison"}


# ---------------------------------------------------------------------------------------------
# small helpers



def _exp(x: float) -> float:
    """exp without overflow errors (inf for huge arguments, nan for nan)."""
    with np.errstate(over="ignore"):
        return float(np.exp(x))


def _group(g: Any) -> int | str | None:
    """The treatment value of a tidy row's group (1 contacted, 0 comparison; None for contrasts)."""
    if g is None or (isinstance(g, float) and math.isnan(g)) or g == "":
        return None
    try:
        return int(g)
    except (TypeError, ValueError):
        return str(g)


def _arm(g: Any) -> str | None:
    v = _group(g)
    return ARM_OF.get(v, None if v is None else str(v)) if isinstance(v, int) else v


def tidy_records(tidy: pd.DataFrame, analysis: str) -> list[dict[str, Any]]:
    """Tidy estimate rows as JSON records; ``group`` is the treatment value (1 contacted,
    0 comparison) and null for contrasts between the arms."""
    out = []
    for r in tidy.to_dict("records"):
        rec = {
            "model": str(r.get("model")),
            "term": None if r.get("term") in (None, "") or (isinstance(r.get("term"), float) and math.isnan(r["term"])) else str(r["term"]),
            "group": _group(r.get("group")),
            "time": _num(r.get("time")),
        }
        for c in ("estimate", "std_error", "conf_low", "conf_high", "p_value", "hazard_ratio"):
            rec[c] = _num(r.get(c))
        reason = r.get("not_estimated")
        rec["not_estimated"] = reason if isinstance(reason, str) and reason else None
        rec["analysis"] = analysis
        out.append(rec)
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _hr_ci(rows: pd.DataFrame) -> tuple[float, float, float]:
    """Hazard ratio and 95% limits from the first log-HR row of a tidy table."""
    b, se = float(rows["estimate"].iloc[0]), float(rows["std_error"].iloc[0])
    return _exp(b), _exp(b - Z95 * se), _exp(b + Z95 * se)


# ---------------------------------------------------------------------------------------------
# survival engine calls

def _spec(**kw):
    from ..survival import SurvivalSpec

    return SurvivalSpec(**kw)


def fit_survival(frame: pd.DataFrame, plan: Plan, *, cluster: str | None, strata: str | None,
                 entry: str | None = None, time: str = "time", weights: str | None = None):
    """Fit every survival estimand of the engine on one outcome frame."""
    from ..survival import fit_all

    spec = _spec(time=time, event="status", treatment="treated", covariates=(), cluster=cluster,
                 strata=strata, event_of_interest=1, horizons=tuple(plan.horizons_days),
                 entry=entry, weights=weights)
    return fit_all(frame, spec), spec


def safe_fit(frame: pd.DataFrame, plan: Plan, **kw) -> tuple[pd.DataFrame, dict[str, Any], Any]:
    """:func:`fit_survival`, but an outcome whose models cannot be fitted at all (no rows, an
    arm without anyone at risk, no events in an arm) gives no estimates and a failure note
    instead of stopping the whole analysis.

    Returns
    -------
    (tidy estimates, diagnostics, spec)
    """
    try:
        res, spec = fit_survival(frame, plan, **kw)
        return res.tidy(), dict(res.diagnostics), spec
    except Exception as exc:  # noqa: BLE001 - recorded in the diagnostics, the gates then fail
        spec = _spec(time=kw.get("time", "time"), event="status", treatment="treated",
                     horizons=tuple(plan.horizons_days), entry=kw.get("entry"))
        return (pd.DataFrame(columns=TIDY_COLUMNS), {"failures": {"all models": f"{type(exc).__name__}: {exc}"}},
                spec)


def analysis_weights(rows: pd.DataFrame, reference: pd.DataFrame | None = None) -> np.ndarray:
    """ATT weights of the matched design, rescaled to mean 1 in the comparison arm.

    ``weight`` (1 contacted, 1 / controls in the set for a control) times
    n_comparison / sum(comparison weights) for the comparison arm, computed on ``reference``
    (one row per cohort row; default ``rows``) and applied to ``rows`` (which may hold several
    counting-process rows per cohort row). All 1 when every set is complete.
    """
    ref = rows if reference is None else reference
    comp = ref["treated"] == 0
    total = float(ref.loc[comp, "weight"].sum())
    scale = float(comp.sum()) / total if total > 0 else 1.0
    w = rows["weight"].to_numpy(float)
    return np.where(rows["treated"].to_numpy() == 0, w * scale, w)


def rate_ratio(counts: pd.DataFrame, model: str = "poisson", cluster: str | None = "set_id",
               weights: str | None = None) -> pd.DataFrame:
    """Rate ratio of new charges, contacted vs comparison, with a log person-time offset.

    Poisson (or negative binomial) GLM of the number of new charges on treatment with offset
    log(person-years at risk outside custody); the variance is cluster-robust on ``cluster``
    (matched set) when given, else robust (HC0). ``weights`` names a column of analysis weights
    (variance weights of the GLM). Rows with no person-time are left out.

    Returns tidy rows: ``rate`` per group (events per person-year) and ``rate_ratio``
    (estimate = the rate ratio, CI on the ratio scale, std_error of the log rate ratio).
    """
    import statsmodels.api as sm

    c = counts[counts["person_time"] > 0]
    rows = []
    w_all = c[weights].to_numpy(float) if weights else np.ones(len(c))
    for g, sub in c.groupby("treated"):
        w = w_all[(c["treated"] == g).to_numpy()]
        years = float((w * sub["person_time"].to_numpy(float)).sum()) / 365.25
        events = float((w * sub["n_events"].to_numpy(float)).sum())
        rows.append({"model": "rate", "term": None, "group": g, "time": None,
                     "estimate": events / years if years > 0 else np.nan,
                     "std_error": np.nan, "conf_low": np.nan, "conf_high": np.nan,
                     "p_value": np.nan, "hazard_ratio": np.nan})
    if c["treated"].nunique() == 2 and c["n_events"].sum() > 0:
        exog = sm.add_constant(c["treated"].astype(float).to_numpy())
        family = sm.families.Poisson() if model == "poisson" else sm.families.NegativeBinomial()
        glm = sm.GLM(c["n_events"].to_numpy(float), exog, family=family,
                     offset=np.log(c["person_time"].to_numpy(float) / 365.25),
                     var_weights=w_all if weights else None)
        groups = pd.factorize(c[cluster])[0] if cluster is not None else np.arange(len(c))
        if weights and model == "poisson":
            # weighted Poisson: sandwich variance by hand (statsmodels' robust covariances do not
            # fully support weights): bread = X'WMX, meat = sum over clusters of U_g U_g'
            fit = glm.fit()
            x = exog
            mu = fit.fittedvalues
            u = x * (w_all * (c["n_events"].to_numpy(float) - mu))[:, None]
            bread = np.linalg.inv((x * (w_all * mu)[:, None]).T @ x)
            ug = pd.DataFrame(u).groupby(groups).sum().to_numpy()
            n_g = len(ug)
            n, k = x.shape
            # small-sample correction as statsmodels' cluster covariance: G/(G-1) (N-1)/(N-K)
            meat = ug.T @ ug * ((n_g / (n_g - 1)) * ((n - 1) / (n - k)) if n_g > 1 and n > k else 1.0)
            cov = bread @ meat @ bread
            b, se = float(fit.params[1]), float(math.sqrt(cov[1, 1]))
        else:
            if cluster is not None:
                fit = glm.fit(cov_type="cluster", cov_kwds={"groups": groups})
            else:
                fit = glm.fit(cov_type="HC0")
            b, se = float(fit.params[1]), float(fit.bse[1])
        rows.append({"model": "rate_ratio", "term": "treated", "group": None, "time": None,
                     "estimate": _exp(b), "std_error": se,
                     "conf_low": _exp(b - Z95 * se), "conf_high": _exp(b + Z95 * se),
                     "p_value": float(2 * stats.norm.sf(abs(b / se))) if se > 0 else np.nan,
                     "hazard_ratio": np.nan})
    events = {ARM_OF[g]: float(c.loc[c["treated"] == g, "n_events"].sum()) for g in (1, 0)}
    return mark_not_estimated(pd.DataFrame(rows, columns=TIDY_COLUMNS), events)


def at_risk_times(frame: pd.DataFrame, horizons: tuple[int, ...]) -> list[int]:
    """Days at which numbers at risk are counted: day 0, every 3 months (the ticks of the
    report's curves) up to 3 months past the last follow-up, and each horizon."""
    from ..timeunits import months_to_days

    last = float(frame["time"].max()) if len(frame) else 0.0
    months = range(0, int(last / months_to_days(1)) + 4, 3)
    return sorted({0, *(int(h) for h in horizons), *(months_to_days(m) for m in months)})


def at_risk_table(frame: pd.DataFrame, horizons: tuple[int, ...]) -> pd.DataFrame:
    """Numbers at risk per arm (persons with follow-up time >= t) at each of
    :func:`at_risk_times`; the report prints exactly these under its curves."""
    rows = []
    for t in at_risk_times(frame, horizons):
        for g, arm in ARM_OF.items():
            sub = frame[frame["treated"] == g]
            rows.append({"arm": arm, "time": float(t), "at_risk": int((sub["time"] >= t).sum())})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# one outcome

@dataclass
class OutcomeResult:
    entry: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    forest: list[dict[str, Any]] = field(default_factory=list)


def _hazard_rows(tidy: pd.DataFrame, model: str) -> pd.DataFrame:
    t = tidy[(tidy["model"] == model)]
    if "term" in t:
        t = t[t["term"].astype(str) == "treated"]
    return t


def _rmst_at(tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Keep RMST rows at the plan's RMST horizons only (12 and 24 months by default)."""
    rmst = tidy["model"].isin(["rmst", "rmst_difference"])
    return tidy[~rmst | tidy["time"].isin([float(t) for t in plan.rmst_days])]


#: Which estimates each gate protects: the proportional-hazards check gates the hazard ratio
#: only (the risk difference, risk ratio and RMST difference do not assume proportional hazards);
#: the matched Cox model being estimated (:mod:`evaluation.survival.estimability`) gates the hazard
#: ratio; balance, overlap, enough events, the matched share of the contacted and the negative
#: controls gate every estimate.
GATE_PROTECTS: dict[str, tuple[str, ...]] = {
    "matched_share": ("risk_difference", "risk_ratio", "rmst_difference", "hazard_ratio"),
    "estimated": ("hazard_ratio",),
    "balance": ("risk_difference", "risk_ratio", "rmst_difference", "hazard_ratio"),
    "overlap": ("risk_difference", "risk_ratio", "rmst_difference", "hazard_ratio"),
    "enough_events": ("risk_difference", "risk_ratio", "rmst_difference", "hazard_ratio"),
    "negative_controls": ("risk_difference", "risk_ratio", "rmst_difference", "hazard_ratio"),
    "proportional_hazards": ("hazard_ratio",),
}


def gates_per_estimate(fitted: bool, checks: dict[str, bool | None], reasons: list[str]) -> dict[str, Any]:
    """The gates block of an outcome: each check, what it protects (:data:`GATE_PROTECTS`),
    ``by_estimate`` (whether each estimate passes every gate protecting it; a check that could
    not be evaluated, None, does not block) and ``passed`` (the headline risk difference)."""
    by_estimate = {est: bool(fitted and all(v is not False for g, v in checks.items()
                                             if est in GATE_PROTECTS.get(g, ())))
                   for est in ("risk_difference", "risk_ratio", "rmst_difference", "hazard_ratio")}
    return {**checks, "fitted": bool(fitted),
            "protects": {g: list(GATE_PROTECTS[g]) for g in checks if g in GATE_PROTECTS},
            "by_estimate": by_estimate, "passed": by_estimate["risk_difference"], "reasons": reasons}


def add_gate(gates: dict[str, Any], name: str, value: bool | None, reason: str | None) -> None:
    """Add a study-level check (e.g. the negative controls) to an outcome's gates."""
    checks = {k: v for k, v in gates.items() if k in GATE_PROTECTS}
    checks[name] = value
    reasons = list(gates.get("reasons", [])) + ([reason] if value is False and reason else [])
    fitted = bool(gates.get("fitted", True))
    gates.clear()
    gates.update(gates_per_estimate(fitted, checks, reasons))


#: Replicates of the person-level bootstrap of the matched risk difference.
BOOTSTRAP_REPLICATES = 300


def reused_person_contrasts(tidy: pd.DataFrame, frame: pd.DataFrame, plan: Plan, *,
                            weights: str | None, seed: int) -> tuple[pd.DataFrame, str]:
    """Risk difference and ratio rows with person-level bootstrap standard errors when persons
    appear in more than one row (controls reused across matched sets, later-contacted controls
    in both arms); otherwise unchanged. Returns the rows and the name of the method used."""
    if tidy.empty or "person_id" not in frame.columns or not frame["person_id"].duplicated().any():
        return tidy, "delta method, arms independent"
    boot = bootstrap_contrasts(frame, plan.horizons_days, weights=weights,
                               replicates=BOOTSTRAP_REPLICATES, seed=seed)
    return (apply_bootstrap(tidy, boot),
            f"person-level cluster bootstrap ({BOOTSTRAP_REPLICATES} replicates)")


def counts_by_horizon(frame: pd.DataFrame, horizons) -> dict[str, dict]:
    """Per arm: persons, events, and at each horizon the events up to it and the persons still
    followed. The naive analysis has no curve table; the report's disclosure check gates its
    estimates on these counts."""
    out = {}
    for g in (1, 0):
        arm = frame[frame["treated"] == g]
        event = arm["status"] == 1
        out[ARM_OF[g]] = {
            "n": len(arm), "events": int(event.sum()),
            "events_by": {str(round(h)): int((event & (arm["time"] <= h)).sum()) for h in horizons},
            "at_risk": {str(round(h)): int((arm["time"] >= h).sum()) for h in horizons}}
    return out


NO_MATCHED_NOTE = "no matched persons: a comparison was found for none of the contacted"


def _with_other_estimand(tidy, frame, cohort, spec, plan, tables, covariates_at, weighted, seed,
                         notes: list[str]):
    """Both estimands' rows (:func:`estimands.both_estimands`); a failure is added to ``notes``
    and the primary analysis stands alone."""
    from . import estimands as est

    if frame.empty:
        return tidy, None, None, {"primary": plan.primary_estimand}
    try:
        return est.both_estimands(
            plan.primary_estimand, tidy, cohort.cohort, spec, plan, tables, covariates_at,
            weights=analysis_weights if weighted else None, seed=seed, replicates=BOOTSTRAP_REPLICATES)
    except Exception as exc:  # noqa: BLE001 - recorded; the primary analysis stands
        notes.append(f"estimands: {type(exc).__name__}: {exc}")
        return tidy, None, None, {"primary": plan.primary_estimand}


def analyse_outcome(spec: OutcomeSpec, plan: Plan, cohort: CohortData, tables, naive: pd.DataFrame | None,
                    threshold: int, weighted: bool, seed: int = 0, covariates_at=None) -> OutcomeResult:
    """Derive one outcome, fit the matched and naive analyses, diagnostics and gates.

    The matched analysis uses the follow-up of the plan's primary estimand
    (:mod:`evaluation.analysis.estimands`); the other estimand's cumulative incidence, risk
    difference and ratio are added under its own name (``intention_to_treat`` or
    ``per_protocol``). The matched risk difference and risk ratio get standard errors from a
    person-level cluster bootstrap (:mod:`evaluation.analysis.bootstrap`), because matched
    controls are reused across sets; the other estimates keep the survival engine's variances.
    ``covariates_at`` gives the time-updated covariates of the per-protocol censoring model.
    """
    from ..outcomes import derive_outcome
    from ..survival import cif_curve
    from . import estimands as est

    subgroup_columns = tuple(c for c in plan.subgroups if c in cohort.cohort.columns) if spec.primary else ()
    od = derive_outcome(est.primary_cohort(cohort.cohort, plan.primary_estimand), spec, tables,
                        extra=subgroup_columns)
    frame = od.frame
    # stratifying by matched set needs matched sets (an IPTW cohort has one row per set)
    stratify = plan.cox_stratified and str(cohort.meta.get("design", "risk_set_matching")) != "iptw"
    weights = None
    if weighted:
        frame = frame.assign(analysis_weight=analysis_weights(frame))
        weights = "analysis_weight"
        if od.start_stop is not None:
            od.start_stop = od.start_stop.assign(analysis_weight=analysis_weights(od.start_stop, frame))
        if od.counts is not None:
            od.counts = od.counts.assign(analysis_weight=analysis_weights(od.counts, frame))
    counting = od.start_stop is not None and len(od.start_stop) > 0
    # with counting-process rows the plain hazard models are only the sensitivity analysis:
    # the (slow) stratified model is fitted on the counting-process rows alone
    tidy, diag, sspec = safe_fit(frame, plan, cluster="set_id",
                                 strata="set_id" if stratify and not counting else None,
                                 weights=weights)
    hazard_source = "time"
    notes: list[str] = [f"{k}: {v}" for k, v in (diag.get("failures") or {}).items()]
    sensitivity = None
    if counting:
        tidy_cp, diag_cp, _ = safe_fit(od.start_stop, plan, cluster="set_id",
                                       strata="set_id" if stratify else None,
                                       entry="start", time="stop", weights=weights)
        notes += [f"{k} (custody removed): {v}" for k, v in (diag_cp.get("failures") or {}).items()
                  if k != "fine_gray"]
        hazard_models = ["cox", "cox_stratified"]
        keep_plain = tidy[~tidy["model"].isin(hazard_models)]
        cp = tidy_cp[tidy_cp["model"].isin(hazard_models)]
        sensitivity = tidy[tidy["model"].isin(hazard_models)]
        tidy = pd.concat([keep_plain, cp], ignore_index=True)
        diag = {**diag, "ph_test": diag_cp.get("ph_test"), "e_value": diag_cp.get("e_value"),
                "min_detectable_hr": diag_cp.get("min_detectable_hr")}
        hazard_source = "start_stop_custody_removed"
    tidy = _rmst_at(tidy, plan)
    tidy, se_method = reused_person_contrasts(tidy, frame, plan, weights=weights, seed=seed)
    if frame.empty:  # nothing to fit: say why once, instead of each model's own failure
        notes = [NO_MATCHED_NOTE]
    tidy, other, other_rows, estimands_entry = _with_other_estimand(
        tidy, frame, cohort, spec, plan, tables, covariates_at, weighted, seed, notes)
    if not plan.fine_gray:
        tidy = tidy[tidy["model"] != "fine_gray"]
    if not stratify:
        tidy = tidy[tidy["model"] != "cox_stratified"]
    estimates = tidy_records(tidy, "matched")
    if other is not None:
        estimates += tidy_records(other_rows, other)
    if sensitivity is not None and plan.custody_at_risk:
        estimates += tidy_records(sensitivity, "custody_at_risk")
    if od.counts is not None:
        estimates += tidy_records(rate_ratio(od.counts, plan.rate_model, cluster="set_id", weights=weights),
                                  "matched")

    # naive: contacted vs all non-contacted eligible residents
    naive_cox = None
    naive_counts = None
    if naive is not None:
        nd = derive_outcome(naive, spec, tables)
        naive_counts = counts_by_horizon(nd.frame, plan.horizons_days)
        ntidy, ndiag, _ = safe_fit(nd.frame, plan, cluster=None, strata=None)
        notes += [f"naive {k}: {v}" for k, v in (ndiag.get("failures") or {}).items()]
        ntidy = ntidy[ntidy["model"].isin(["kaplan_meier", "cumulative_incidence", "risk_difference",
                                            "risk_ratio", "cox", "rmst", "rmst_difference"])]
        estimates += tidy_records(_rmst_at(ntidy, plan), "naive")
        if nd.counts is not None:
            estimates += tidy_records(rate_ratio(nd.counts, plan.rate_model, cluster=None), "naive")
        naive_cox = _hazard_rows(ntidy, "cox")

    # diagnostics
    events = {ARM_OF[g]: int(((frame["treated"] == g) & (frame["status"] == 1)).sum()) for g in (1, 0)}
    n_t = int((frame["treated"] == 1).sum())
    p_t = n_t / len(frame) if len(frame) else float("nan")
    ph = diag.get("ph_test")
    ph_p = _num(ph["global"]) if isinstance(ph, dict) else None
    cox = _hazard_rows(tidy, "cox")
    hr = lo = hi = None
    if len(cox) and is_estimated(cox.iloc[0].to_dict()):
        hr, lo, hi = _hr_ci(cox)
    # the survival engine gives the minimum detectable HR and the E-value whenever it fits;
    # only the minimum detectable HR is known without any fitted model
    mdhr = _num(diag.get("min_detectable_hr"))
    n_events = sum(events.values())
    if mdhr is None and n_events > 0 and 0 < p_t < 1:
        mdhr = _num(min_detectable_hr(n_events, p_t)[0])
    ev = diag.get("e_value")
    e_value = ({"point": _num(ev.get("point")), "ci": _num(ev.get("ci"))} if isinstance(ev, dict)
               and hr is not None else {"point": None, "ci": None})
    if hr is None:
        e_value["not_estimated"] = (cox.iloc[0].get("not_estimated") if len(cox) else None) \
            or "no hazard model"
    smd_after = _num(cohort.smd_max_after)
    diagnostics = {
        "events": events,
        "ph_global_p": ph_p,
        "min_detectable_hr": mdhr,
        "e_value": e_value,
        "smd_max_after": smd_after,
        "hazard_model_time": hazard_source,
        "risk_difference_se": se_method,
        "n": {ARM_OF[g]: int((frame["treated"] == g).sum()) for g in (1, 0)},
        "competing_events": {ARM_OF[g]: int(((frame["treated"] == g) & (frame["status"] == 2)).sum())
                             for g in (1, 0)},
        "notes": notes,
    }
    if naive_counts is not None:
        diagnostics["naive"] = naive_counts
    # gates
    reasons = []
    balance_ok = smd_after is not None and smd_after < plan.max_smd
    if not balance_ok:
        reasons.append("balance: no matched sets to compare" if smd_after is None else
                       f"balance: largest SMD after matching {round(smd_after, 3)} is not below {plan.max_smd}")
    share = cohort.overlap_share()
    overlap_ok = bool(math.isfinite(share) and share >= plan.min_overlap_share)
    if not overlap_ok:
        reasons.append(f"overlap: share of contacted within the comparison propensity range "
                       f"{'unknown' if not math.isfinite(share) else round(share, 3)} is below {plan.min_overlap_share}")
    matched = cohort.matched_share()
    matched_ok = (not math.isfinite(matched) and not (cohort.meta.get("counts") or {})) or \
        (math.isfinite(matched) and matched >= plan.min_matched_share)
    if not matched_ok:
        reasons.append(f"coverage: a comparison was found for "
                       f"{'an unknown share' if not math.isfinite(matched) else f'{matched:.0%}'} of the "
                       f"eligible contacted, below min_matched_share {plan.min_matched_share:g}")
    ph_ok = ph_p is not None and ph_p >= plan.min_ph_p
    if not ph_ok:
        reasons.append(f"proportional hazards: global test p = {ph_p if ph_p is None else round(ph_p, 4)} "
                       f"is below {plan.min_ph_p}" if ph_p is not None else
                       "proportional hazards: the test could not be computed")
    enough = all(v >= plan.min_events_per_arm for v in events.values())
    if not enough:
        reasons.append(f"events: {events['contacted']} contacted and {events['comparison']} comparison, "
                       f"fewer than {plan.min_events_per_arm} in an arm")
    fitted = not tidy.empty
    if not fitted:
        reasons.append("the models could not be fitted: " + "; ".join(notes))
    cox_row = cox.iloc[0].to_dict() if len(cox) else None
    estimated = fitted and is_estimated(cox_row)
    if fitted and not estimated:
        why = cox_row.get("not_estimated") if cox_row else "no hazard model row"
        reasons.append(f"hazard model not estimated: {why}")
    gates = gates_per_estimate(fitted, {"balance": bool(balance_ok), "overlap": overlap_ok,
                                        "proportional_hazards": bool(ph_ok), "enough_events": bool(enough),
                                        "estimated": bool(estimated), "matched_share": bool(matched_ok)},
                               reasons)

    checks: dict[str, Any] = {}
    if spec.primary:
        from .falsification import primary_checks

        try:
            checks = primary_checks(frame, plan, weights=frame["analysis_weight"].to_numpy(float) if weights else None,
                                    seed=seed, replicates=BOOTSTRAP_REPLICATES)
        except Exception as exc:  # noqa: BLE001 - recorded; the estimates stand
            notes.append(f"subgroups and Rosenbaum bound: {type(exc).__name__}: {exc}")

    # curve table and figure
    try:
        curve = cif_curve(frame, sspec)
        if getattr(sspec, "weights", None):
            # weighted estimates, but numbers at risk and events as counts of persons
            import dataclasses

            counts = cif_curve(frame, dataclasses.replace(sspec, weights=None))
            curve = curve.drop(columns=["at_risk", "events"]).merge(
                counts[["group", "time", "at_risk", "events"]], on=["group", "time"], how="left")
    except Exception as exc:  # noqa: BLE001 - an empty curve table and a note instead
        notes.append(f"curve: {type(exc).__name__}: {exc}")
        curve = pd.DataFrame(columns=["group", "time", "estimate", "conf_low", "conf_high", "at_risk", "events"])
    curve = curve.assign(arm=curve["group"].map(_arm)).drop(columns=["group"])
    curve = curve[["arm", "time", "estimate", "conf_low", "conf_high", "at_risk", "events"]]
    curve = curve.sort_values(["arm", "time"], kind="mergesort").reset_index(drop=True)
    risk = at_risk_table(frame, plan.horizons_days)
    oid = spec.id
    entry = {
        "id": oid, "family": spec.family, "primary": spec.primary, "label": spec.label,
        "direction": spec.direction,
        "definition": spec.definition,
        "population": od.population,
        "horizons_days": list(plan.horizons_days), "primary_horizon_days": plan.primary_horizon_days,
        "rmst_days": list(plan.rmst_days),
        "estimates": estimates, "estimands": estimands_entry, "diagnostics": diagnostics, "gates": gates,
        "subgroups": checks.get("subgroups"),
        "sensitivity": {"e_value": diagnostics["e_value"], "rosenbaum": checks.get("rosenbaum")},
        "tables": {"curve": f"tables/{oid}_curve.parquet", "at_risk": f"tables/{oid}_at_risk.parquet",
                   "estimates": f"tables/{oid}_estimates.parquet"},
    }
    est_table = pd.DataFrame(estimates, columns=[*TIDY_COLUMNS, "analysis"])
    out = OutcomeResult(entry=entry, tables={f"{oid}_curve": curve, f"{oid}_at_risk": risk,
                                              f"{oid}_estimates": est_table})
    def finite(*values: float | None) -> bool:
        return all(v is not None and math.isfinite(v) and v > 0 for v in values)

    if hr is not None and finite(hr, lo, hi):
        out.forest.append({"label": spec.label["en"], "analysis": "matched", "hazard_ratio": hr, "low": lo, "high": hi})
    if naive_cox is not None and len(naive_cox) and is_estimated(naive_cox.iloc[0].to_dict()):
        nhr, nlo, nhi = _hr_ci(naive_cox)
        if finite(nhr, nlo, nhi):
            out.forest.append({"label": spec.label["en"], "analysis": "naive", "hazard_ratio": nhr,
                               "low": nlo, "high": nhi})
    return out


# ---------------------------------------------------------------------------------------------
# contacts summary

def contacts_summary(warehouse: Path, start: dt.date, data_end: dt.date, quarter: str) -> pd.DataFrame:
    """Persons at their first contact since the initiative start: counts by period and dimension.

    ``period`` is ``quarter`` (first contact in the report quarter) or ``cumulative`` (since
    the initiative start up to the data end); dimensions: total, sex, age_band (age at first
    contact: 14-17, 18-21, 22-25, other), contact_type, referred_to (of the first contact).
    Unsuppressed: the report suppresses.
    """
    from ..io import read_warehouse

    c = read_warehouse(warehouse, "contacts", ["person_id", "contact_date", "contact_type", "referred_to"],
                       as_of=data_end)
    c = c.reset_index(drop=True)
    c["person_id"] = c["person_id"].astype(str)
    c["contact_date"] = pd.to_datetime(c["contact_date"])
    c = c[(c["contact_date"] >= pd.Timestamp(start)) & (c["contact_date"] <= pd.Timestamp(data_end))]
    c = c.sort_values(["person_id", "contact_date", "contact_type"], kind="mergesort")
    first = c.drop_duplicates("person_id", keep="first").copy()
    p = read_warehouse(warehouse, "persons", ["person_id", "birth_date", "sex"]).reset_index(drop=True)
    p["person_id"] = p["person_id"].astype(str)
    first = first.merge(p, on="person_id", how="left")
    bd = pd.to_datetime(first["birth_date"])
    d = first["contact_date"]
    before = (bd.dt.month > d.dt.month) | ((bd.dt.month == d.dt.month) & (bd.dt.day > d.dt.day))
    age = d.dt.year - bd.dt.year - before.astype(int)
    first["age_band"] = np.select([age.between(14, 17), age.between(18, 21), age.between(22, 25)],
                                  ["14-17", "18-21", "22-25"], "other")
    first["total"] = "all"
    first["quarter"] = d.dt.year.astype(str) + "Q" + ((d.dt.month - 1) // 3 + 1).astype(str)
    rows = []
    for period, sub in (("quarter", first[first["quarter"] == quarter]), ("cumulative", first)):
        for dim in ("total", "sex", "age_band", "contact_type", "referred_to"):
            counts = sub[dim].astype(str).value_counts()
            for cat, n in sorted(counts.items()):
                rows.append({"period": period, "dimension": dim, "category": cat, "n": int(n)})
            if dim == "total" and sub.empty:
                rows.append({"period": period, "dimension": dim, "category": "all", "n": 0})
    out = pd.DataFrame(rows, columns=["period", "dimension", "category", "n"])
    out["n"] = out["n"].astype("int64")
    return out


# ---------------------------------------------------------------------------------------------
# the whole study

def _package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {"evaluation": __version__}
    for name in ("numpy", "pandas", "pyarrow", "duckdb", "lifelines", "statsmodels", "scipy", "matplotlib"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def study_checks(plans, study: Study, cohort: CohortData, tables, design: str,
                 results: list[OutcomeResult], placebo: dict[str, Any]) -> dict[str, Any]:
    """Negative controls with empirical calibration (a gate on every outcome) beside the placebo
    index (:mod:`evaluation.analysis.falsification`, computed by :mod:`.beside`); ``passed`` says
    whether the method passed its own checks (None when they could not be run)."""
    from . import falsification as fals

    with step("negative controls"):
        ncs = fals.negative_controls(plans, cohort.cohort, tables, weighted=_weighted(plans, design),
                                     seed=study.seed, replicates=BOOTSTRAP_REPLICATES)
    null = ncs["null"]
    reason = (f"negative controls: expected absolute systematic error {null['ease']:.3f} exceeds "
              f"{ncs['max_systematic_error']}" if ncs["passed"] is False else None)
    for r in results:
        add_gate(r.entry["gates"], "negative_controls", ncs["passed"], reason)
    verdicts = [v for v in (ncs["passed"], placebo["passed"]) if v is not None]
    passed = None if len(verdicts) < 2 else all(verdicts)
    if any(v is False for v in verdicts):
        passed = False
    return {"negative_controls": ncs, "placebo": placebo, "passed": passed}


def _weighted(plans, design: str) -> bool:
    """Whether the study-level checks use analysis weights."""
    return any(p.weighted for p in plans) or design == "iptw"


def _lazy_covariates_at(study: Study, persons=None):
    """The cohort definition's covariates as of any (person, date), for the per-protocol
    censoring model; the definition is read only when a later contact ended follow-up, and
    values are shared by all outcomes (``persons``: the ids that will be asked for)."""
    made: list = []

    def covariates_at(person_id, at):
        if not made:
            from ..cohort import load_definition
            from .estimands import definition_covariates_at

            made.append(definition_covariates_at(study.warehouse, load_definition(study.cohort), persons))
        return made[0](person_id, at)

    return covariates_at


#: What a results bundle holds: ``full`` (every outcome, the naive comparison, the area-level
#: estimators: what the reports need) or ``tracking`` (the primary outcome of each plan only: what
#: the tracking series reads from an earlier quarter; ``evaluation report`` refuses it).
SCOPES = ("full", "tracking")


@single_threaded_blas
def analyse_study(study: Study, quarter: Quarter | None = None, *,
                  scope: str = "full", jobs: int | None = None) -> dict[str, Any]:
    """Run every analysis plan of ``study`` for ``quarter`` and write the results bundle to
    ``<output>/<quarter>/results/`` (``scope``: :data:`SCOPES`).

    The analysis date is the quarter's last day: the cohort must have been built for the same
    quarter, and nothing in the warehouse dated after it is read. ``quarter`` defaults to the
    study's (:func:`evaluation.quarters.study_quarter`). The bundle is written into a temporary
    folder and renamed into place whole.

    ``jobs``: processes to use (:mod:`.beside`: the placebo index, the area-level estimators and
    the contacts summary run in a second process when it is 2; None: 2 for a large cohort on a
    machine with two cores). The bundle is the same either way: both processes use one BLAS
    thread (:mod:`evaluation.blas`), so no sum is added up in an order that depends on ``jobs``.

    Returns
    -------
    dict
        The content of ``estimates.json``.
    """
    from ..io import read_warehouse
    from ..outcomes import WarehouseTables
    from ..quarters import study_quarter
    from .beside import BesideInputs, analyse_beside, default_jobs

    if not study.analyses:
        raise ConfigError("lists no analysis plan", file=str(study.path), key="study.analyses")
    plans = load_plans(study.analyses)
    full = scope == "full"
    q = quarter or study_quarter(study, None)
    data_end = q.last_day
    cohort_dir = study.cohort_dir(q)
    with step("reading the cohort"):
        cohort = read_cohort(cohort_dir)
    built_for = str(cohort.meta.get("data_end", ""))[:10]
    if built_for != data_end.isoformat():
        raise InputError(f"the cohort was built with data up to {built_for or 'an unknown date'}, not "
                         f"{data_end} (the end of {q}); run `evaluation cohort build --quarter {q}`",
                         file=str(cohort_dir / "cohort.json"))
    with step("reading the warehouse"):
        tables = WarehouseTables.read(study.warehouse, data_end)
        contacts = read_warehouse(study.warehouse, "contacts", ["person_id", "contact_date"], as_of=data_end)
    start = find_initiative_start(cohort.meta, study.cohort, contacts)
    design = str(cohort.meta.get("design", "risk_set_matching"))
    jobs = default_jobs(len(cohort.cohort)) if jobs is None else jobs
    outcomes = Outcomes(study, plans, cohort, tables, start, data_end, design, full)
    results, side = analyse_beside(outcomes, BesideInputs(
        study=study, quarter=q, plans=tuple(plans), cohort_meta=cohort.meta, start=start, design=design,
        full=full, weighted=_weighted(plans, design), replicates=BOOTSTRAP_REPLICATES), jobs)
    naive = outcomes.with_naive
    falsification = study_checks(plans, study, cohort, tables, design, results, side.placebo)
    estimates = _estimates(study, q, scope, design, cohort, plans, results, naive, start, falsification, side)
    _write_bundle(study, q, scope, cohort, cohort_dir, plans, results, estimates, side)
    return estimates


@dataclass
class Outcomes:
    """What every outcome analysis of one run reads, and the outcomes in plan order
    (:attr:`tasks`); :meth:`analyse` analyses one of them. Each process of a run has its own
    (:mod:`.beside`); the naive population and the censoring model's covariates are made once
    per process, when the first outcome needs them."""

    study: Study
    plans: list[Plan]
    cohort: CohortData
    tables: Any
    start: dt.date
    data_end: dt.date
    design: str
    full: bool
    naive: pd.DataFrame | None = None
    covariates_at: Any = None
    #: Where the first process leaves the tables and the naive population for the second
    #: (:class:`.beside.Handoff`), or None.
    handoff: Any = None

    @classmethod
    def read(cls, study: Study, quarter: Quarter, plans: list[Plan], start: dt.date, design: str,
             full: bool, handoff=None) -> Outcomes:
        """The cohort and the warehouse tables again, in a second process: the tables as the
        first process left them in ``handoff`` if it has, else read from the warehouse."""
        from ..outcomes import WarehouseTables

        with step("reading the cohort and the warehouse"):
            cohort = read_cohort(study.cohort_dir(quarter))
            tables = handoff.get("tables") if handoff is not None else None
            if tables is None:
                tables = WarehouseTables.read(study.warehouse, quarter.last_day)
        return cls(study, plans, cohort, tables, start, quarter.last_day, design, full, handoff=handoff)

    @property
    def with_naive(self) -> bool:
        """Whether the naive comparison is part of this run."""
        return self.full and any(p.naive for p in self.plans)

    @property
    def tasks(self) -> list[tuple[Plan, OutcomeSpec]]:
        return [(plan, spec) for plan in self.plans
                for spec in (plan.outcomes if self.full else [o for o in plan.outcomes if o.primary])]

    def analyse(self, k: int) -> OutcomeResult:
        """Outcome ``k`` of :attr:`tasks` (:func:`analyse_outcome`)."""
        plan, spec = self.tasks[k]
        self._prepare()
        weighted = plan.weighted or self.design == "iptw"
        with step(f"outcome {spec.id}"):
            return analyse_outcome(spec, plan, self.cohort, self.tables, self.naive if plan.naive else None,
                                   self.study.report.suppression_threshold, weighted, seed=self.study.seed,
                                   covariates_at=self.covariates_at)

    def _prepare(self) -> None:
        if self.covariates_at is not None:
            return
        self.covariates_at = _lazy_covariates_at(
            self.study, self.cohort.cohort.loc[self.cohort.cohort["treated"] == 0, "person_id"])
        if not self.with_naive:
            return
        self.naive = self.handoff.get("naive") if self.handoff is not None else None
        if self.naive is not None:
            return
        with step("naive comparison population"):
            self.naive = naive_population(self.study.warehouse, self.cohort.contacted_for_naive(),
                                          self.start, pd.Timestamp(self.data_end))
            info(f"naive comparison: {int((self.naive['treated'] == 0).sum())} non-contacted "
                 f"eligible residents followed from {self.start.isoformat()}")
        if self.handoff is not None:
            self.handoff.put("naive", self.naive)


def _estimates(study: Study, q: Quarter, scope: str, design: str, cohort: CohortData, plans,
               results: list[OutcomeResult], naive: bool, start: dt.date, falsification: dict,
               side) -> dict[str, Any]:
    """The content of estimates.json."""
    from ..quality import data_quality

    data_end = q.last_day
    c = cohort.cohort
    ratio = cohort.meta.get("ratio")
    share = cohort.overlap_share()
    plan0 = plans[0]
    estimates = {
        "schema_version": SCHEMA_VERSION,
        "study": {"name": study.name, "data_end": data_end.isoformat(), "design": design,
                  "seed": study.seed, "initiative_start": start.isoformat(),
                  "quarter": q.label, "analysis_date": data_end.isoformat(),
                  "report_quarter": q.label, "scope": scope,
                  "naive_index_date": start.isoformat() if naive else None},
        "cohort": {"n_contacted": int((c["treated"] == 1).sum()), "n_comparison": int((c["treated"] == 0).sum()),
                   "n_sets": int(c["set_id"].nunique()), "ratio": ratio,
                   "smd_max_after": _num(cohort.smd_max_after), "smd_max_before": _num(cohort.smd_max_before),
                   "max_smd": plan0.max_smd,
                   "overlap_ok": bool(math.isfinite(share) and share >= plan0.min_overlap_share),
                   "overlap_share": _num(share),
                   "matched_share": _num(cohort.matched_share()),
                   "covariates": cohort.meta.get("covariates", {}),
                   "counts": cohort.meta.get("counts", {})},
        "outcomes": [r.entry for r in results],
        **({"area": side.area} if side.area is not None else {}),
        "data_quality": data_quality(study.warehouse, study.max_quarantine_share),
        "falsification": falsification,
        "tables": {"attrition": "tables/attrition.parquet", "balance": "tables/balance.parquet",
                   "propensity": "tables/propensity.parquet", "contacts": "tables/contacts.parquet"},
    }
    return estimates


def _write_bundle(study: Study, q: Quarter, scope: str, cohort: CohortData, cohort_dir: Path, plans,
                  results: list[OutcomeResult], estimates: dict[str, Any], side) -> None:
    """The results bundle, written into a temporary folder and renamed into place whole."""
    from ..atomic import write_json, write_parquet

    inputs: dict[str, str] = {}
    for f in sorted(Path(study.warehouse).glob("*.parquet")):
        inputs[f"warehouse/{f.name}"] = _sha256(f)
    for f in sorted(cohort_dir.iterdir()):
        if f.is_file() and not f.name.startswith("."):
            inputs[f"cohort/{f.name}"] = _sha256(f)
    configs = {"study": _sha256(study.path)}
    if study.cohort.exists():
        configs["cohort_definition"] = _sha256(study.cohort)
    for p in plans:
        configs[f"analysis/{p.path.name}"] = p.sha256
    manifest = {"schema_version": SCHEMA_VERSION, "created_with": f"evaluation {__version__}",
                "seed": study.seed, "scope": scope, "inputs": inputs, "configs": configs,
                "key_fingerprint": cohort.meta.get("key_fingerprint"),
                "packages": _package_versions()}

    with step("writing the results bundle"), atomic_dir(study.results_dir(q), kind="results") as tmp:
        tdir = tmp / "tables"
        tdir.mkdir()
        for r in results:
            for name, table in r.tables.items():
                write_parquet(tdir / f"{name}.parquet", table)
        write_parquet(tdir / "attrition.parquet", cohort.attrition)
        write_parquet(tdir / "balance.parquet", cohort.balance)
        write_parquet(tdir / "propensity.parquet", cohort.propensity)
        write_parquet(tdir / "contacts.parquet", side.contacts)
        for name, table in side.area_tables.items():
            write_parquet(tdir / f"{name}.parquet", table)
        write_parquet(tdir / "coverage.parquet", coverage_table(cohort))
        estimates["tables"]["coverage"] = "tables/coverage.parquet"
        forest = pd.DataFrame([f for r in results for f in r.forest],
                              columns=["label", "analysis", "hazard_ratio", "low", "high"])
        write_parquet(tdir / "forest.parquet", forest)
        estimates["tables"]["forest"] = "tables/forest.parquet"
        write_json(tmp / "estimates.json", estimates)
        write_json(tmp / "manifest.json", manifest)


def summary_lines(estimates: dict[str, Any]) -> list[str]:
    """A short printed summary: per outcome the risk difference at the primary horizon and the
    hazard ratio, each only when the gates that protect it passed, and whether all gates passed."""
    c = estimates["cohort"]
    head = f"results: {c['n_contacted']} contacted, {c['n_comparison']} comparison"
    head += " (weighted, IPTW)" if estimates["study"]["design"] == "iptw" else f" in {c['n_sets']} matched sets"
    lines = [head]
    for o in estimates["outcomes"]:
        h = o["primary_horizon_days"]
        rd = next((e for e in o["estimates"] if e["model"] == "risk_difference" and e["analysis"] == "matched"
                   and e["time"] == h), None)
        cox = next((e for e in o["estimates"] if e["model"] == "cox" and e["analysis"] == "matched"), None)
        parts = [f"{o['id']}{' (primary)' if o['primary'] else ''}:"]
        # an estimate whose gates failed is not printed (the bundle keeps it, marked)
        gated = (o["gates"].get("by_estimate") or {})
        if rd and rd["estimate"] is not None and rd.get("conf_low") is not None \
                and gated.get("risk_difference", o["gates"]["passed"]):
            parts.append(f"RD@{h}d {rd['estimate']:+.3f} [{rd['conf_low']:+.3f}, {rd['conf_high']:+.3f}]")
        if cox and cox["hazard_ratio"] is not None and gated.get("hazard_ratio", o["gates"]["passed"]):
            parts.append(f"HR {cox['hazard_ratio']:.2f}")
        parts.append("gates passed" if o["gates"]["passed"] else "gates failed: " + "; ".join(o["gates"]["reasons"]))
        lines.append(" ".join(parts))
    return lines
