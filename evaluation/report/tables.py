"""Tables for the reports: HTML (count cells marked ``class="count"``) or Markdown (PDF).

Every count and estimate is the document's :class:`~evaluation.disclosure.Checker`'s text
(cells are registered in :mod:`.cells`); a hidden cell shows the one neutral marker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import disclosure
from ..disclosure import Checker
from . import fmt
from .texts import TEXTS, arm_label, category_label, reason_label, text, vocabulary_label

DIMENSIONS = ("sex", "age_band", "contact_type", "referred_to")


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, and whether it shows a count of persons."""

    text: str
    count: bool = False


def _cell(value: Any) -> Cell:
    return value if isinstance(value, Cell) else Cell("" if value is None else str(value))


def render(header: list[str], rows: list[list[Any]], output: str = "html",
           caption: str | None = None) -> fmt.Markup:
    """A table as HTML (``output="html"``) or as a Markdown pipe table (anything else).

    In HTML, cells showing counts carry ``class="count"`` (the disclosure scan relies on it).
    """
    if output == "html":
        head = "".join(f"<th>{fmt.plain(h, 'html')}</th>" for h in header)
        body = []
        for row in rows:
            cells = []
            for value in map(_cell, row):
                cls = f' class="{disclosure.COUNT_CLASS}"' if value.count else ""
                cells.append(f"<td{cls}>{fmt.plain(value.text, 'html')}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        cap = f"<caption>{fmt.plain(caption, 'html')}</caption>" if caption else ""
        return fmt.Markup(f'<div class="report-scroll"><table class="report-table">{cap}<thead><tr>'
                          f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>", "html")

    def esc(text: str) -> str:
        return fmt.plain(text)

    lines = ["| " + " | ".join(esc(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(markdown_cell(_cell(v)) for v in row) + " |" for row in rows]
    out = "\n".join(lines)
    return fmt.Markup(f"{out}\n\n: {esc(caption)}\n" if caption else out + "\n")


def markdown_cell(cell: Cell) -> fmt.Markup:
    """A cell as Markdown; a count becomes a ``[n]{.count}`` span (what the disclosure check reads)."""
    if cell.count and cell.text:  # a count's text comes from the disclosure checker ("<5")
        text = cell.text.replace("|", "\\|").replace("\n", " ")
        return fmt.Markup(f"[{text}]{{.{disclosure.COUNT_CLASS}}}")
    return fmt.Markup(fmt.plain(cell.text) or " ")  # every other cell is a label: plain text


def thousands(lang: str) -> str:
    """Thousands separator of a language ("." Danish, "," English)."""
    return "." if lang == "da" else ","


def count_cell(n: Any, lang: str, threshold: int, suppressed: bool = False) -> Cell:
    """A count cell under the primary rule alone (a count no other published number links to;
    linked counts are registered in :mod:`.cells` and come from :func:`checked`)."""
    return Cell(disclosure.show_count(n, threshold, suppressed=suppressed,
                                      thousands=thousands(lang)), count=True)


def checked(check: Checker, key: str, lang: str) -> Cell:
    """The count cell ``key`` as the document's checker allows it."""
    return Cell(check.count_text(key, thousands=thousands(lang)), count=True)


def contacts_table(contacts: pd.DataFrame, quarter: str, lang: str, check: Checker,
                   output: str = "html") -> str:
    """Contacts this quarter and since the start, by sex, age band, contact type and referral.

    Every count and share is the checker's (keys ``contacts/<period>/<dimension>/<category>``,
    see :mod:`.cells`).
    """
    frame = contacts.assign(category=contacts["category"].astype(str))
    periods = {"quarter": quarter, "cumulative": "cumulative"}
    totals = {p: frame.loc[(frame["period"] == p) & (frame["dimension"] == "total"), "n"].sum()
              for p in periods}
    header = [text("col_category", lang), f"{quarter}: {text('col_n', lang)}",
              f"{quarter}: {text('col_pct', lang)}",
              f"{text('col_cumulative', lang)}: {text('col_n', lang)}",
              f"{text('col_cumulative', lang)}: {text('col_pct', lang)}"]
    total_row: list[Any] = [Cell(text("row_total", lang))]
    for label in periods.values():
        total_row += [checked(check, f"contacts/{label}/total/all", lang), ""]
    rows: list[list[Any]] = [total_row]
    dims = [d for d in DIMENSIONS if d in set(frame["dimension"])]
    dims += sorted(set(frame["dimension"]) - set(DIMENSIONS) - {"total"})
    for dim in dims:
        rows.append([Cell(text(f"dim_{dim}", lang) if f"dim_{dim}" in TEXTS[lang] else dim),
                     "", "", "", ""])
        for cat in dict.fromkeys(frame.loc[frame["dimension"] == dim, "category"]):
            row: list[Any] = [Cell("\u2003" + category_label(cat, lang))]
            for period, label in periods.items():
                key = f"contacts/{label}/{dim}/{cat}"
                if key not in check.entries:
                    row += [Cell("0", count=True), fmt.percent(0.0, lang)]
                    continue
                n = check.entries[key].value
                share = n / totals[period] if totals[period] else None
                row.append(checked(check, key, lang))
                # a share the checker has not registered (a category missing from a period's
                # distribution) is not published
                registered = share is not None and key + "/share" in check.entries
                row.append(check.show(key + "/share", fmt.percent(share, lang))
                           if registered else "")
            rows.append(row)
    return render(header, rows, output)


def attrition_table(attrition: pd.DataFrame, lang: str, check: Checker, output: str = "html",
                    ratio: object = "") -> str:
    """Attrition per arm: start count, persons excluded at each step, persons left at the end.

    Intermediate remaining counts are not shown; start, steps and end are linked in the checker
    (start = every step + end), which hides as many as needed.
    """
    header = [text("col_arm", lang), text("col_step", lang), text("col_reason", lang),
              text("col_excluded", lang)]
    rows: list[list[Any]] = []
    for arm, part in attrition.groupby("arm", sort=False):
        part = part.reset_index(drop=True)
        rows.append([arm_label(arm, lang), "", text("row_start", lang),
                     checked(check, f"attrition/{arm}/start", lang)])
        for i in range(len(part)):
            code = str(part.loc[i, "code"] if "code" in part.columns else part.loc[i, "step"])
            reason = vocabulary_label("attrition", part.loc[i, "code"], lang, ratio=ratio) \
                if "code" in part.columns else str(part.loc[i, "reason"])
            rows.append(["", str(part.loc[i, "step"]), reason,
                         checked(check, f"attrition/{arm}/step/{code}", lang)])
        rows.append(["", "", text("row_end", lang), checked(check, f"attrition/{arm}/end", lang)])
    return render(header, rows, output)


def data_quality_table(dq: dict[str, Any], lang: str, check: Checker, output: str = "html") -> str:
    """Per source rows read, used and not used (quarantined), then not-used rows by reason.

    Every count is the checker's (keys ``quality/<source>/...``, see :mod:`.cells`): read =
    used + not used, and the reasons add up to not used.
    """
    header = [text("col_source", lang), text("col_rows_read", lang), text("col_rows_written", lang),
              text("col_rows_quarantined", lang), text("col_reason_quarantine", lang)]
    rows: list[list[Any]] = []
    for name, s in (dq.get("sources") or {}).items():
        key = f"quality/{name}"
        rows.append([vocabulary_label("source", name, lang), checked(check, f"{key}/read", lang),
                     checked(check, f"{key}/written", lang),
                     checked(check, f"{key}/quarantined", lang), ""])
        reasons = list(s.get("quarantined_by_reason") or {})
        if len(reasons) > 1:
            for reason in reasons:
                rows.append(["", "", "", checked(check, f"{key}/reason/{reason}", lang),
                             reason_label(reason, lang)])
        elif reasons:
            rows[-1][4] = reason_label(reasons[0], lang)
    return render(header, rows, output)


def _mean_header(column: str, lang: str) -> str:
    """``mean_contacted_after`` -> "Mean contacted, after" (in the report language)."""
    parts = column.split("_")[1:]
    arm = parts[0] if parts else ""
    label = text(f"col_mean_{arm}", lang) if f"col_mean_{arm}" in TEXTS[lang] else column
    if len(parts) > 1 and f"col_{parts[1]}" in TEXTS[lang]:
        label += f", {text('col_' + parts[1], lang)}"
    return label


def balance_table(balance: pd.DataFrame, lang: str, check: Checker,
                  labels: dict[str, Any] | None = None, output: str = "html") -> str:
    """Standardised mean differences before and after matching, and the means by arm.

    The mean of a 0/1 covariate is a count of persons (mean x arm size) and its SMD rests on
    both arms' counts: each is shown only as the checker allows (keys
    ``balance/<stage>/<arm>/<covariate>/mean`` and ``balance/<stage>/<covariate>/smd``).
    """
    labels = labels or {}
    header = [text("col_covariate", lang), text("col_smd_before", lang), text("col_smd_after", lang)]
    mean_cols = [c for c in balance.columns if c.startswith("mean_")]
    header += [_mean_header(c, lang) for c in mean_cols]
    rows = []
    for _, r in balance.iterrows():
        name = str(r["covariate"])
        lab = labels.get(name, {})
        lab = lab.get(lang) if isinstance(lab, dict) else None
        lab = lab or vocabulary_label("covariate", name, lang)
        cells = [lab]
        for stage in ("before", "after"):
            value = fmt.number(r.get(f"smd_{stage}"), lang, 3)
            key = f"balance/{stage}/{name}/smd"
            cells.append(check.show(key, value) if key in check.entries else value)
        for c in mean_cols:
            parts = c.split("_")[1:]
            stage = parts[1] if len(parts) > 1 else "after"
            key = f"balance/{stage}/{parts[0] if parts else ''}/{name}/mean"
            value = fmt.number(r.get(c), lang, 2)
            cells.append(check.show(key, value) if key in check.entries else value)
        rows.append(cells)
    return render(header, rows, output)


def coverage_table(coverage: pd.DataFrame, lang: str, check: Checker,
                   labels: dict[str, Any] | None = None, output: str = "html") -> str:
    """All eligible contacted against the matched contacted: persons, means and SMD.

    Every count and estimate is the checker's (keys ``coverage/<group>/<covariate>/...``, see
    :mod:`.cells`): the unmatched are the difference of the two groups, so a mean of a 0/1
    covariate is hidden when it would give away a small count in either group or the difference.
    """
    labels = labels or {}
    header = [text("col_covariate", lang), text("col_all_eligible", lang),
              text("col_matched_contacted", lang), text("col_smd_matched_all", lang)]
    if coverage.empty:
        return render(header, [], output)
    rows: list[list[Any]] = [[text("col_persons", lang),
                              checked(check, "cohort/contacted_eligible", lang),
                              checked(check, "cohort/n_contacted", lang), ""]]
    for _, r in coverage.iterrows():
        name = str(r["covariate"])
        lab = labels.get(name, {})
        lab = (lab.get(lang, name) if isinstance(lab, dict) else
               text("col_age", lang) if name == "age_at_index" else category_label(name, lang))
        rows.append([lab,
                     check.show(f"coverage/all/{name}/mean", fmt.number(r["mean_all"], lang, 2)),
                     check.show(f"coverage/matched/{name}/mean", fmt.number(r["mean_matched"], lang, 2)),
                     check.show(f"coverage/{name}/smd", fmt.number(r["smd_matched_vs_all"], lang, 3))])
    return render(header, rows, output)


def propensity_table(propensity: pd.DataFrame, lang: str, check: Checker, output: str = "html") -> str:
    """Persons and propensity score quantiles (5%, 50%, 95%) by arm and matched status.

    Quantiles of a group whose count is hidden or small are not shown.
    """
    header = [text("col_arm", lang), text("col_matched", lang), text("col_persons", lang),
              text("col_ps_p05", lang), text("col_ps_median", lang), text("col_ps_p95", lang)]
    rows = []
    keys = ["arm"] + (["matched"] if "matched" in propensity.columns else [])
    for key, part in propensity.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        arm = str(key[0])
        is_matched = len(key) < 2 or bool(key[1])
        matched = (text("yes" if is_matched else "no", lang)) if len(key) > 1 else ""
        cell = f"propensity/{arm}/{'matched' if is_matched else 'unmatched'}"
        ps = part["propensity_score"].to_numpy(dtype=float)
        hidden = check.suppressed(cell) or disclosure.is_small(len(part), check.threshold)
        q = [None] * 3 if hidden else np.quantile(ps, [0.05, 0.5, 0.95])
        rows.append([arm_label(arm, lang), matched, checked(check, cell, lang)]
                    + [disclosure.SUPPRESSED_MARK if hidden else fmt.number(v, lang, 3) for v in q])
    return render(header, rows, output)
