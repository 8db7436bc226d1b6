"""Presentation of the method's own checks: both estimands, negative controls with empirical
calibration, the placebo index, subgroups and the Rosenbaum bound (technical appendix), and the
one sentence of the council report. Nothing is estimated here; every number is the document's
disclosure checker's text (its cells are registered in :mod:`.cells`)."""

from __future__ import annotations

from typing import Any

from ..disclosure import Checker
from . import fmt, tables
from .cells import ARMS, estimate_key
from .texts import CATEGORY_LABELS, text, vocabulary_label


def self_check_key(estimates: dict[str, Any]) -> str:
    """The text key of the council report's sentence on the method's own checks."""
    passed = (estimates.get("falsification") or {}).get("passed")
    return {True: "self_checks_passed", False: "self_checks_failed"}.get(passed, "self_checks_not_evaluated")


def shown(check: Checker, key: str, value: Any, lang: str, digits: int = 3) -> str:
    """An estimate's text as the checker allows it (the number, or the neutral marker)."""
    return check.show(key, fmt.number(value, lang, digits)) if key in check.entries else fmt.number(
        value, lang, digits)


def _ci(check: Checker, key: str, lo: Any, hi: Any, lang: str, digits: int = 3) -> str:
    """A 95% interval, shown or hidden with its estimate."""
    interval = f"{fmt.number(lo, lang, digits)} ; {fmt.number(hi, lang, digits)}"
    return check.show(key, interval) if key in check.entries else interval


def _events(check: Checker, prefix: str, lang: str) -> list:
    return [tables.checked(check, f"{prefix}/events/{arm}", lang) for arm in ARMS]


def estimands_table(outcome: dict[str, Any], lang: str, output: str, check: Checker) -> str:
    """Per estimand: what it means, the risk in each arm and the risk difference at the primary
    horizon with its 95% interval."""
    from .bundle import estimate_rows, pick

    info = outcome.get("estimands") or {}
    rows = estimate_rows(outcome)
    oid = str(outcome.get("id"))
    h = outcome.get("primary_horizon_days") or 365
    body = []
    for name, analysis in (info.get("analysis") or {}).items():
        label = vocabulary_label("estimand", name, lang)
        if name == info.get("primary"):
            label += f" ({text('estimand_primary', lang)})"
        risks = []
        for arm in ARMS:
            r = pick(rows, "cumulative_incidence", analysis=analysis, time=h, arm=arm) or {}
            risks.append(shown(check, estimate_key(oid, r), r.get("estimate"), lang) if r else "")
        rd = pick(rows, "risk_difference", analysis=analysis, time=h) or {}
        key = estimate_key(oid, rd) if rd else ""
        body.append([label, *risks, shown(check, key, rd.get("estimate"), lang),
                     _ci(check, key, rd.get("conf_low"), rd.get("conf_high"), lang)])
    header = [text("col_estimand", lang), text("arm_contacted", lang), text("arm_comparison", lang),
              text("col_estimate", lang), text("col_ci", lang)]
    return tables.render(header, body, output)


def weights_table(outcome: dict[str, Any], lang: str, output: str, check: Checker) -> str | None:
    """Quantiles of the per-protocol censoring weights before and after truncation."""
    w = (outcome.get("estimands") or {}).get("per_protocol_weights")
    if not w or not w.get("distribution"):
        return None
    oid = str(outcome.get("id"))
    body = []
    for d in w["distribution"]:
        key = f"estimand/{oid}/weights/{float(d['quantile']):g}"
        body.append([fmt.number(100 * d["quantile"], lang, 0) + " %",
                     shown(check, key + "/before", d["before_truncation"], lang),
                     shown(check, key + "/after", d["after_truncation"], lang)])
    header = [text("col_weights", lang), text("col_before_truncation", lang), text("col_after_truncation", lang)]
    return tables.render(header, body, output)


def negative_controls_table(ncs: dict[str, Any], lang: str, output: str, check: Checker) -> str:
    return _risk_difference_table(ncs.get("estimates"), "negative_control", lang, output, check,
                                  log_rr=True)


def placebo_table(plc: dict[str, Any], lang: str, output: str, check: Checker) -> str:
    return _risk_difference_table(plc.get("outcomes"), "placebo", lang, output, check)


def _risk_difference_table(rows: list[dict[str, Any]] | None, family: str, lang: str, output: str,
                           check: Checker, log_rr: bool = False) -> str:
    """One row per outcome of a self-check (``family``: the checker keys' first part): the risk
    difference, its interval, the log risk ratio when asked, and the events per arm."""
    body = []
    for r in rows or []:
        prefix = f"{family}/{r.get('id')}"
        rd = f"{prefix}/risk_difference"
        ratio = [shown(check, f"{prefix}/log_risk_ratio", r.get("log_risk_ratio"), lang)] if log_rr else []
        body.append([(r.get("label") or {}).get(lang, r.get("id")),
                     shown(check, rd, r.get("risk_difference"), lang),
                     _ci(check, rd, r.get("rd_conf_low"), r.get("rd_conf_high"), lang),
                     *ratio, *_events(check, prefix, lang)])
    header = [text("col_outcome", lang), text("col_estimate", lang), text("col_ci", lang),
              *([text("col_log_rr", lang)] if log_rr else []),
              text("arm_contacted", lang), text("arm_comparison", lang)]
    return tables.render(header, body, output)


def subgroup_table(oid: str, name: str, dim: dict[str, Any], lang: str, output: str, check: Checker) -> str:
    p = (dim.get("interaction") or {}).get("p_value")
    p_key = f"subgroup/{oid}/{name}/interaction"
    body = []
    for i, g in enumerate(dim.get("groups") or []):
        prefix = f"subgroup/{oid}/{name}/{g['group']}"
        body.append([CATEGORY_LABELS[lang].get(str(g["group"]), str(g["group"])),
                     shown(check, f"{prefix}/risk_difference", g["risk_difference"], lang),
                     _ci(check, f"{prefix}/risk_difference", g["conf_low"], g["conf_high"], lang),
                     *_events(check, prefix, lang),
                     check.show(p_key, fmt.p_value(p, lang)) if i == 0 else ""])
    header = [text("col_subgroup", lang), text("col_estimate", lang), text("col_ci", lang),
              text("arm_contacted", lang), text("arm_comparison", lang), text("col_interaction", lang)]
    return tables.render(header, body, output)
