"""A realistic results bundle for report tests, written as `evaluation analyse` writes it.

The layout follows docs/interfaces.md and the results-bundle contract: ``estimates.json``,
``tables/*.parquet`` (figures are drawn by the report), ``manifest.json``. Small counts are planted
on purpose (``PLANTED_SMALL``) so that tests can check that no count below the disclosure
threshold reaches a report.

Outcomes (scenario ``"mixed"``):
- ``reoffending_any`` (primary): fewer among the contacted, interval below zero (beneficial);
- ``reoffending_violence_weapons``: interval includes zero;
- ``education_job_start`` (primary, higher is better): interval includes zero;
- ``group_registration`` (primary): 3 events among the contacted, gate ``enough_events`` fails.
Scenario ``"harmful"`` puts the reoffending interval above zero.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

HORIZONS = (183, 365, 730)

#: Counts below 5 planted in the bundle: (table, description, value).
PLANTED_SMALL = [
    ("contacts", "quarter age_band 22-25", 4),
    ("contacts", "quarter contact_type ssp", 3),
    ("contacts", "quarter referred_to treatment", 2),
    ("contacts", "quarter referred_to none", 1),
    ("contacts", "cumulative contact_type other", 1),
    ("attrition", "contacted custody at index", 3),
    ("diagnostics", "group_registration events contacted", 3),
    ("curve", "at_risk tail", 4),
]

CONTACTS = [
    # period, dimension, category, n
    ("quarter", "total", "all", 37),
    ("quarter", "sex", "M", 30), ("quarter", "sex", "F", 7),
    ("quarter", "age_band", "14-17", 20), ("quarter", "age_band", "18-21", 13),
    ("quarter", "age_band", "22-25", 4),
    ("quarter", "contact_type", "knock_knock", 28), ("quarter", "contact_type", "taskforce_followup", 6),
    ("quarter", "contact_type", "ssp", 3),
    ("quarter", "referred_to", "leisure", 12), ("quarter", "referred_to", "education", 10),
    ("quarter", "referred_to", "employment", 8), ("quarter", "referred_to", "treatment", 2),
    ("quarter", "referred_to", "none", 1),
    ("cumulative", "total", "all", 512),
    ("cumulative", "sex", "M", 401), ("cumulative", "sex", "F", 111),
    ("cumulative", "age_band", "14-17", 240), ("cumulative", "age_band", "18-21", 190),
    ("cumulative", "age_band", "22-25", 82),
    ("cumulative", "contact_type", "knock_knock", 380),
    ("cumulative", "contact_type", "taskforce_followup", 96),
    ("cumulative", "contact_type", "ssp", 35), ("cumulative", "contact_type", "other", 1),
    ("cumulative", "referred_to", "leisure", 150), ("cumulative", "referred_to", "education", 140),
    ("cumulative", "referred_to", "employment", 110), ("cumulative", "referred_to", "treatment", 52),
    ("cumulative", "referred_to", "none", 60),
]


def _curve(rng: np.random.Generator, n: dict[str, int], risk: dict[str, float]) -> pd.DataFrame:
    """Step curves of cumulative incidence per arm; the tail has fewer than 5 at risk."""
    rows = []
    for arm in ("contacted", "comparison"):
        at_risk = n[arm]
        times = np.sort(rng.choice(np.arange(5, 1000), size=40, replace=False))
        surv = 1.0
        hazard = -np.log(1 - risk[arm]) / 365.0
        last = 0
        for i, t in enumerate(times):
            expected = at_risk * (1 - np.exp(-hazard * (t - last)))
            events = max(1, round(expected))
            surv *= 1 - events / max(at_risk, 1)
            se = np.sqrt(max(1e-12, (1 - surv) * surv / max(at_risk, 1)))
            rows.append(
                (
                    arm,
                    float(t),
                    1 - surv,
                    max(0.0, 1 - surv - 1.96 * se),
                    min(1.0, 1 - surv + 1.96 * se),
                    at_risk,
                    events,
                )
            )
            # censoring thins the risk set; the last steps come below 5 at risk (planted)
            at_risk = at_risk - events - int(at_risk * 0.08) if i < 36 else max(1, 4 - (i - 36))
            last = t
    return pd.DataFrame(
        rows, columns=["arm", "time", "estimate", "conf_low", "conf_high", "at_risk", "events"]
    )


def _row(model: str, time: float | None, estimate: float, std_error: float, conf_low: float,
         conf_high: float, *, term: str | None = None, group: int | None = None,
         p_value: float | None = None, hazard_ratio: float | None = None) -> dict:
    """One tidy estimate row (the keys in the order the bundle writes them)."""
    return {"model": model, "term": term, "group": group, "time": time, "estimate": estimate,
            "std_error": std_error, "conf_low": conf_low, "conf_high": conf_high,
            "p_value": p_value, "hazard_ratio": hazard_ratio}


def _estimates(
    risk: dict[str, float], rd_ci: tuple[float, float], hr: float, analysis: str
) -> list[dict]:
    rows = []
    for h in HORIZONS:
        scale = h / 365.0
        for arm, group in (("contacted", 1), ("comparison", 0)):
            ci = min(0.95, risk[arm] * scale**0.8)
            se = 0.012
            rows.append(_row("cumulative_incidence", h, ci, se, ci - 1.96 * se, ci + 1.96 * se,
                             group=group))
            rows.append(_row("kaplan_meier", h, 1 - ci, se, 1 - ci - 1.96 * se,
                             1 - ci + 1.96 * se, group=group))
        est = (risk["contacted"] - risk["comparison"]) * scale**0.8
        half = (rd_ci[1] - rd_ci[0]) / 2 * scale**0.5
        lo, hi = rd_ci if h == 365 else (est - half, est + half)
        rows.append(_row("risk_difference", h, est, half / 1.96, lo, hi, p_value=0.04))
        rows.append(_row("risk_ratio", h, risk["contacted"] / risk["comparison"], 0.1, 0.7, 1.1,
                         p_value=0.2))
    beta = float(np.log(hr))
    for model in ("cox", "cox_stratified"):
        rows.append(_row(model, None, beta, 0.08, beta - 0.157, beta + 0.157, term="treated",
                         p_value=0.03, hazard_ratio=hr))
    for t in (365, 730):
        rows.append(_row("rmst_difference", t, 6.5, 3.0, 0.6, 12.4, p_value=0.03))
    for r in rows:
        r["analysis"] = analysis
    return rows


def _naive_counts(n: int, risk: dict[str, float]) -> dict:
    """The naive arms' counts (``diagnostics.naive``): all eligible contacted (twice the
    matched) and every non-contacted resident (forty times), events growing with the horizon."""
    out = {}
    for arm, size in (("contacted", 2 * n), ("comparison", 40 * n)):
        by = {str(h): round(size * min(0.95, risk[arm] * (h / 365) ** 0.8)) for h in HORIZONS}
        out[arm] = {"n": size, "events": by[str(HORIZONS[-1])], "events_by": by,
                    "at_risk": {str(h): size - by[str(h)] - h // 10 for h in HORIZONS}}
    return out


def _at_risk(curve: pd.DataFrame) -> pd.DataFrame:
    """Numbers at risk every 3 months: those at the first curve step at or after the tick."""
    rows = []
    for day in (0, 91, 183, 274, 365, 457, 548, 639, 730, 822, 913, 1004):
        for arm in ("contacted", "comparison"):
            later = curve[(curve["arm"] == arm) & (curve["time"] >= day)]
            rows.append((arm, float(day), int(later["at_risk"].iloc[0]) if len(later) else 0))
    return pd.DataFrame(rows, columns=["arm", "time", "at_risk"])


DEFINITIONS = {"reoffending": "first_charge", "education_job": "first_education_or_job",
               "group_recruitment": "first_registration"}
#: Outcomes whose population is smaller than the cohort (those in neither at index).
POPULATIONS = {"education_job_start": {"contacted": 300, "comparison": 900}}


def _own_checks(risk: dict[str, float], rd_ci: tuple[float, float], hr: float,
                events: tuple[int, int]) -> dict:
    """A primary outcome's other estimand (per protocol: its rows, events and weights), its
    subgroups (sex shown, its events adding up to the outcome's; age band hidden) and the
    Rosenbaum bound, as `evaluation analyse` writes them."""
    pp = [r for r in _estimates({"contacted": risk["contacted"], "comparison": risk["comparison"] * 1.1},
                                (rd_ci[0] - 0.01, rd_ci[1] - 0.01), hr, "per_protocol")
          if r["model"] in ("cumulative_incidence", "risk_difference", "risk_ratio")]
    c, k = events
    pp_events = {"contacted": {"183": c // 2, "365": c * 3 // 4, "730": c, "all": c},
                 "comparison": {"183": k // 2 - 4, "365": k * 3 // 4 - 6, "730": k - 8, "all": k - 8}}
    quantiles = [0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0]
    weights = [0.61, 0.72, 0.85, 0.97, 1.0, 1.04, 1.31, 1.9, 7.4]
    female = (c * 2 // 5, k * 2 // 5)
    return {
        "rows": pp,
        "estimands": {
            "primary": "intention_to_treat",
            "analysis": {"intention_to_treat": "matched", "per_protocol": "per_protocol"},
            "events": {"per_protocol": pp_events},
            "per_protocol_weights": {
                "interval_days": 30, "truncate_percentiles": [1.0, 99.0], "periods": 21450,
                "censored_at_later_contact": 41,
                "distribution": [{"quantile": q, "before_truncation": w,
                                  "after_truncation": min(max(w, 0.72), 1.9)}
                                 for q, w in zip(quantiles, weights)]}},
        "subgroups": {"time": 365, "tests": 1, "dimensions": {
            "sex": {"shown": True, "reason": None, "interaction": {"q": 0.8, "df": 1, "p_value": 0.37},
                    "groups": [
                        {"group": "F", "risk_difference": -0.04, "std_error": 0.03, "conf_low": -0.1,
                         "conf_high": 0.02, "events": {"contacted": female[0], "comparison": female[1]}},
                        {"group": "M", "risk_difference": -0.06, "std_error": 0.025, "conf_low": -0.11,
                         "conf_high": -0.01,
                         "events": {"contacted": c - female[0], "comparison": k - female[1]}}]},
            "age_band": {"shown": False, "groups": [], "interaction": None,
                         "reason": "too_few_events", "min_events": 20}}},
        "sensitivity": {"e_value": {"point": 1.6, "ci": 1.1},
                        "rosenbaum": {"gamma": 1.35, "direction": "fewer"}},
    }


#: The method's own checks: two negative controls (one with 3 events among the contacted, a
#: small count the reports may not show) and the placebo index.
FALSIFICATION = {
    "negative_controls": {
        "estimates": [
            {"id": "negative_control_traffic_fine", "label": {"da": "Bødeforlæg i trafikken", "en": "Traffic fine"},
             "time": 365, "risk_difference": 0.012, "rd_conf_low": -0.02, "rd_conf_high": 0.044,
             "log_risk_ratio": 0.08, "log_rr_std_error": 0.1, "events": {"contacted": 61, "comparison": 170},
             "enough_events": True},
            {"id": "negative_control_accidental_injury", "label": {"da": "Skade ved ulykke", "en": "Accidental injury"},
             "time": 365, "risk_difference": 0.002, "rd_conf_low": -0.01, "rd_conf_high": 0.014,
             "log_risk_ratio": 0.3, "log_rr_std_error": 0.6, "events": {"contacted": 3, "comparison": 11},
             "enough_events": False}],
        "null": {"n": 1, "mean": 0.08, "sd": 0.0, "ease": 0.08}, "max_systematic_error": 0.25,
        "evaluated": True, "passed": True},
    "placebo": {
        "evaluated": True, "passed": True, "start": "2021-09-01", "end": "2023-08-31",
        "n_contacted": 230,
        "outcomes": [{"id": "reoffending_any", "label": {"da": "Ny sigtelse", "en": "New charge"},
                      "risk_difference": 0.01, "rd_conf_low": -0.05, "rd_conf_high": 0.07,
                      "events": {"contacted": 52, "comparison": 160}, "null_not_rejected": True}]},
    "passed": True,
}


def make_bundle(path: str | Path, scenario: str = "mixed", seed: int = 7) -> Path:
    """Write a results bundle into folder ``path`` and return it."""
    path = Path(path)
    (path / "tables").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = {"contacted": 512, "comparison": 1530}
    specs = [
        # id, family, primary, label da/en, direction, risk by arm, rd CI at 365, hr, events, gates ok
        ("reoffending_any", "reoffending", True, ("Ny sigtelse", "New charge"), "lower_is_better",
         {"contacted": 0.20, "comparison": 0.25}, (-0.085, -0.015), 0.78, (98, 370), True),
        ("reoffending_violence_weapons", "reoffending", False,
         ("Ny sigtelse for vold eller våben", "New charge for violence or weapons"),
         "lower_is_better", {"contacted": 0.08, "comparison": 0.085}, (-0.035, 0.025), 0.95,
         (40, 130), True),
        ("education_job_start", "education_job", True,
         ("Start på uddannelse eller job", "Start of education or job"), "higher_is_better",
         {"contacted": 0.31, "comparison": 0.30}, (-0.03, 0.05), 1.04, (150, 440), True),
        ("group_registration", "group_recruitment", True,
         ("Registrering i kriminel gruppe", "Registration in a criminal group"), "lower_is_better",
         {"contacted": 0.006, "comparison": 0.01}, (-0.012, 0.004), 0.6, (3, 15), False),
    ]
    if scenario == "harmful":
        specs[0] = specs[0][:5] + ({"contacted": 0.30, "comparison": 0.25}, (0.02, 0.09), 1.25,
                                   (140, 370), True)
    outcomes = []
    for oid, family, primary, (da, en), direction, risk, rd_ci, hr, events, ok in specs:
        curve = _curve(rng, n, risk)
        curve.to_parquet(path / "tables" / f"{oid}_curve.parquet", index=False)
        _at_risk(curve).to_parquet(path / "tables" / f"{oid}_at_risk.parquet", index=False)
        estimates = _estimates(risk, rd_ci, hr, "matched") + _estimates(
            {"contacted": risk["contacted"], "comparison": risk["comparison"] * 0.7},
            (rd_ci[0] + 0.03, rd_ci[1] + 0.03), hr * 1.3, "naive")
        gates = {"balance": True, "overlap": True, "proportional_hazards": True,
                 "enough_events": ok, "passed": ok,
                 "reasons": [] if ok else ["fewer than 20 events among the contacted"]}
        extra = _own_checks(risk, rd_ci, hr, events) if primary else {}
        estimates += extra.pop("rows", [])
        outcomes.append({
            **extra,
            "id": oid, "family": family, "primary": primary, "label": {"da": da, "en": en},
            "direction": direction, "definition": DEFINITIONS[family],
            "population": dict(POPULATIONS.get(oid, n)),
            "horizons_days": list(HORIZONS), "primary_horizon_days": 365,
            "estimates": estimates,
            "diagnostics": {"events": {"contacted": events[0], "comparison": events[1]},
                            "ph_global_p": 0.31, "min_detectable_hr": 0.72 if ok else 0.35,
                            "e_value": {"point": 1.6, "ci": 1.1}, "smd_max_after": 0.04,
                            "naive": _naive_counts(n["contacted"], risk)},
            "gates": gates,
            "tables": {"curve": f"tables/{oid}_curve.parquet",
                       "at_risk": f"tables/{oid}_at_risk.parquet"},
        })

    pd.DataFrame(CONTACTS, columns=["period", "dimension", "category", "n"]).to_parquet(
        path / "tables" / "contacts.parquet", index=False)
    pd.DataFrame([
        ("contacted", 1, "age", "age outside the eligible range at the index date", 40, 560),
        ("contacted", 2, "resident", "not resident in the study area at the index date", 45, 515),
        ("contacted", 3, "custody", "in custody at the index date", 3, 512),
        ("comparison", 1, "eligible_pairs", "eligible candidate pairs in the exact strata", 0, 41000),
        ("comparison", 2, "outside_caliper", "outside the caliper", 39470, 1530),
    ], columns=["arm", "step", "code", "reason", "n_excluded", "n_remaining"]).to_parquet(
        path / "tables" / "attrition.parquet", index=False)
    covs = ["charges_6m", "charges_12m", "custody_ever", "in_education_or_job", "group_registered"]
    pd.DataFrame({"covariate": covs, "smd_before": [0.9, 0.8, 0.4, -0.5, 0.3],
                  "smd_after": [0.04, 0.03, 0.01, -0.02, 0.0],
                  "mean_contacted": [1.2, 2.0, 0.1, 0.4, 0.05],
                  "mean_comparison": [1.15, 1.95, 0.1, 0.41, 0.05]}).to_parquet(
        path / "tables" / "balance.parquet", index=False)
    prop = pd.DataFrame({
        "arm": ["contacted"] * 512 + ["comparison"] * 1530 + ["comparison"] * 2,
        "matched": [True] * 512 + [True] * 1530 + [False] * 2,  # an unmatched group of 2 (planted)
        "propensity_score": np.concatenate([rng.beta(2, 8, 512), rng.beta(2, 9, 1530), [0.5, 0.6]]),
    })
    prop.to_parquet(path / "tables" / "propensity.parquet", index=False)
    estimates = {
        "schema_version": "1.0",
        "study": {"name": "Knock Knock, Aalborg (test bundle)", "data_end": "2026-09-30",
                  "quarter": "2026Q3", "analysis_date": "2026-09-30",
                  "design": "risk_set_matching", "seed": 2026, "initiative_start": "2023-09-01"},
        "cohort": {"n_contacted": 512, "n_comparison": 1530, "n_sets": 512, "ratio": 3,
                   "smd_max_after": 0.04, "smd_max_before": 0.9, "overlap_ok": True,
                   "covariates": {"charges_6m": {"da": "Sigtelser seneste 6 mdr.",
                                                 "en": "Charges last 6 months"}}},
        "outcomes": outcomes,
        "falsification": FALSIFICATION,
        "tables": {"attrition": "tables/attrition.parquet", "balance": "tables/balance.parquet",
                   "propensity": "tables/propensity.parquet", "contacts": "tables/contacts.parquet"},
    }
    (path / "estimates.json").write_text(json.dumps(estimates, indent=2), encoding="utf-8")
    manifest = {"created_with": "evaluation 0.1.0", "seed": 2026,
                "inputs": {"cohort/cohort.parquet": "sha256:" + "ab" * 32},
                "packages": {"pandas": pd.__version__, "numpy": np.__version__}}
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path


def make_study(folder: str | Path, scenario: str = "mixed", threshold: int = 5,
               languages: tuple[str, ...] = ("da", "en")) -> Path:
    """A study file in ``folder`` whose results bundle is a factory bundle; returns its path."""
    folder = Path(folder)
    make_bundle(folder / "output" / "2026Q3" / "results", scenario=scenario)
    langs = ", ".join(f'"{lang}"' for lang in languages)
    study = folder / "study.toml"
    study.write_text(
        "[study]\n"
        'name = "Test study"\nwarehouse = "warehouse"\ncohort = "cohort.toml"\n'
        'output = "output"\ndata_end = "2026-09-30"\n\n'
        f'[report]\nquarter = "2026Q3"\nlanguages = [{langs}]\nsuppression_threshold = {threshold}\n',
        encoding="utf-8")
    return study
