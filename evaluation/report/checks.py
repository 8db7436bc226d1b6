"""Presentation of the method's own checks: both estimands, negative controls with empirical
calibration, the placebo index, subgroups and the Rosenbaum bound (technical appendix), and the
one sentence of the council report. Nothing is estimated here; counts go through the disclosure
path (:func:`.tables.count_cell`)."""

from __future__ import annotations

from typing import Any

from . import fmt, tables
from .texts import CATEGORY_LABELS, text, vocabulary_label


def self_check_key(estimates: dict[str, Any]) -> str:
    """The text key of the council report's sentence on the method's own checks."""
    passed = (estimates.get("falsification") or {}).get("passed")
    return {True: "self_checks_passed", False: "self_checks_failed"}.get(passed, "self_checks_not_evaluated")


def _ci(lo: Any, hi: Any, lang: str, digits: int = 3) -> str:
    return f"{fmt.number(lo, lang, digits)} ; {fmt.number(hi, lang, digits)}"


def _events(ev: dict[str, Any] | None, lang: str, threshold: int) -> list:
    ev = ev or {}
    return [tables.count_cell(ev.get("contacted"), lang, threshold),
            tables.count_cell(ev.get("comparison"), lang, threshold)]


def estimands_table(outcome: dict[str, Any], lang: str, output: str) -> str:
    """Per estimand: what it means, the risk difference at the primary horizon and its CI."""
    from .bundle import estimate_rows, pick

    info = outcome.get("estimands") or {}
    rows = estimate_rows(outcome)
    h = outcome.get("primary_horizon_days") or 365
    body = []
    for name, analysis in (info.get("analysis") or {}).items():
        label = vocabulary_label("estimand", name, lang)
        if name == info.get("primary"):
            label += f" ({text('estimand_primary', lang)})"
        rd = pick(rows, "risk_difference", analysis=analysis, time=h) or {}
        body.append([label, fmt.number(rd.get("estimate"), lang, 3), _ci(rd.get("conf_low"), rd.get("conf_high"), lang)])
    header = [text("col_estimand", lang), text("col_estimate", lang), text("col_ci", lang)]
    return tables.render(header, body, output)


def weights_table(outcome: dict[str, Any], lang: str, output: str) -> str | None:
    """Quantiles of the per-protocol censoring weights before and after truncation."""
    w = (outcome.get("estimands") or {}).get("per_protocol_weights")
    if not w or not w.get("distribution"):
        return None
    body = [[fmt.number(100 * d["quantile"], lang, 0) + " %", fmt.number(d["before_truncation"], lang, 3),
             fmt.number(d["after_truncation"], lang, 3)] for d in w["distribution"]]
    header = [text("col_weights", lang), text("col_before_truncation", lang), text("col_after_truncation", lang)]
    return tables.render(header, body, output)


def negative_controls_table(ncs: dict[str, Any], lang: str, threshold: int, output: str) -> str:
    body = []
    for r in ncs.get("estimates") or []:
        label = (r.get("label") or {}).get(lang, r.get("id"))
        body.append([label, fmt.number(r.get("risk_difference"), lang, 3),
                     _ci(r.get("rd_conf_low"), r.get("rd_conf_high"), lang),
                     fmt.number(r.get("log_risk_ratio"), lang, 3), *_events(r.get("events"), lang, threshold)])
    header = [text("col_outcome", lang), text("col_estimate", lang), text("col_ci", lang), text("col_log_rr", lang),
              text("arm_contacted", lang), text("arm_comparison", lang)]
    return tables.render(header, body, output)


def placebo_table(plc: dict[str, Any], lang: str, threshold: int, output: str) -> str:
    body = []
    for r in plc.get("outcomes") or []:
        label = (r.get("label") or {}).get(lang, r.get("id"))
        body.append([label, fmt.number(r.get("risk_difference"), lang, 3),
                     _ci(r.get("rd_conf_low"), r.get("rd_conf_high"), lang), *_events(r.get("events"), lang, threshold)])
    header = [text("col_outcome", lang), text("col_estimate", lang), text("col_ci", lang),
              text("arm_contacted", lang), text("arm_comparison", lang)]
    return tables.render(header, body, output)


def subgroup_table(dim: dict[str, Any], lang: str, threshold: int, output: str) -> str:
    p = (dim.get("interaction") or {}).get("p_value")
    body = [[CATEGORY_LABELS[lang].get(str(g["group"]), str(g["group"])), fmt.number(g["risk_difference"], lang, 3), _ci(g["conf_low"], g["conf_high"], lang),
             *_events(g.get("events"), lang, threshold), fmt.p_value(p, lang) if i == 0 else ""]
            for i, g in enumerate(dim.get("groups") or [])]
    header = [text("col_subgroup", lang), text("col_estimate", lang), text("col_ci", lang),
              text("arm_contacted", lang), text("arm_comparison", lang), text("col_interaction", lang)]
    return tables.render(header, body, output)
