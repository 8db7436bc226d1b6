"""Tables for the reports: HTML (count cells marked ``class="count"``) or Markdown (PDF).

Every count passes through :mod:`evaluation.disclosure` before it becomes a cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import disclosure
from . import fmt
from .texts import TEXTS, arm_label, category_label, text, vocabulary_label

DIMENSIONS = ("sex", "age_band", "contact_type", "referred_to")


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, and whether it shows a count of persons."""

    text: str
    count: bool = False


def _cell(value: Any) -> Cell:
    return value if isinstance(value, Cell) else Cell("" if value is None else str(value))


def render(header: list[str], rows: list[list[Any]], output: str = "html",
           caption: str | None = None) -> str:
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
        return (f'<div class="report-scroll"><table class="report-table">{cap}<thead><tr>{head}'
                f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>")

    def esc(text: str) -> str:
        return fmt.plain(text)

    lines = ["| " + " | ".join(esc(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(markdown_cell(_cell(v)) for v in row) + " |" for row in rows]
    out = "\n".join(lines)
    return (f"{out}\n\n: {esc(caption)}\n" if caption else out + "\n")


def markdown_cell(cell: Cell) -> str:
    """A cell as Markdown; a count becomes a ``[n]{.count}`` span (what the disclosure check reads)."""
    if cell.count and cell.text:  # a count's text comes from the disclosure checker ("<5")
        text = cell.text.replace("|", "\\|").replace("\n", " ")
        return f"[{text}]{{.{disclosure.COUNT_CLASS}}}"
    return fmt.plain(cell.text) or " "  # every other cell is a label: plain text


def thousands(lang: str) -> str:
    """Thousands separator of a language ("." Danish, "," English)."""
    return "." if lang == "da" else ","


def count_cell(n: Any, lang: str, threshold: int, suppressed: bool = False) -> Cell:
    """A count cell after disclosure control."""
    return Cell(disclosure.show_count(n, threshold, suppressed=suppressed,
                                      thousands=thousands(lang)), count=True)


def contacts_table(contacts: pd.DataFrame, quarter: str, lang: str, threshold: int,
                   output: str = "html") -> str:
    """Contacts this quarter and since the start, by sex, age band, contact type and referral.

    Each (period, dimension) is one distribution with the period's total: primary and secondary
    suppression (:func:`evaluation.disclosure.suppress_distribution`), and shares of suppressed
    counts are suppressed.
    """
    frame = contacts.copy()
    frame["category"] = frame["category"].astype(str)
    totals = {p: frame.loc[(frame["period"] == p) & (frame["dimension"] == "total"), "n"].sum()
              for p in ("quarter", "cumulative")}
    shown: dict[tuple[str, str, str], tuple[Any, bool]] = {}
    for (period, dim), part in frame[frame["dimension"] != "total"].groupby(["period", "dimension"]):
        mask = disclosure.suppress_distribution(part["n"].to_numpy(), threshold,
                                                total=totals.get(period))
        for cat, n, hidden in zip(part["category"], part["n"], mask):
            shown[(period, dim, cat)] = (n, bool(hidden))
    header = [text("col_category", lang), f"{quarter}: {text('col_n', lang)}",
              f"{quarter}: {text('col_pct', lang)}",
              f"{text('col_cumulative', lang)}: {text('col_n', lang)}",
              f"{text('col_cumulative', lang)}: {text('col_pct', lang)}"]
    rows: list[list[Any]] = []
    total_small = {p: disclosure.is_small(totals[p], threshold) for p in totals}
    total_row: list[Any] = [Cell(text("row_total", lang))]
    for period in ("quarter", "cumulative"):
        total_row += [count_cell(totals[period], lang, threshold), ""]
    rows.append(total_row)
    dims = [d for d in DIMENSIONS if d in set(frame["dimension"])]
    dims += sorted(set(frame["dimension"]) - set(DIMENSIONS) - {"total"})
    for dim in dims:
        rows.append([Cell(text(f"dim_{dim}", lang) if f"dim_{dim}" in TEXTS[lang] else dim),
                     "", "", "", ""])
        cats = list(dict.fromkeys(frame.loc[frame["dimension"] == dim, "category"]))
        for cat in cats:
            row: list[Any] = [Cell("\u2003" + category_label(cat, lang))]
            for period in ("quarter", "cumulative"):
                n, hidden = shown.get((period, dim, cat), (0, False))
                hidden = hidden or total_small[period]
                row.append(count_cell(n, lang, threshold, hidden))
                row.append(disclosure.show_percent(n, totals[period], threshold, lang=lang,
                                                   suppressed=hidden))
            rows.append(row)
    return render(header, rows, output)


def attrition_table(attrition: pd.DataFrame, lang: str, threshold: int, output: str = "html",
                    ratio: object = "") -> str:
    """Attrition per arm: start count, persons excluded at each step, persons left at the end.

    Within an arm the exclusions are one distribution whose total is start minus end, so a
    single suppressed exclusion gets a secondary one; intermediate remaining counts are not shown
    (they would give every exclusion away by subtraction).
    """
    header = [text("col_arm", lang), text("col_step", lang), text("col_reason", lang),
              text("col_excluded", lang)]
    rows: list[list[Any]] = []
    for arm, part in attrition.groupby("arm", sort=False):
        part = part.reset_index(drop=True)
        excluded = pd.to_numeric(part["n_excluded"], errors="coerce").fillna(0).to_numpy()
        remaining = pd.to_numeric(part["n_remaining"], errors="coerce").fillna(0).to_numpy()
        start = remaining[0] + excluded[0] if len(part) else 0
        end = remaining[-1] if len(part) else 0
        mask = disclosure.suppress_distribution(excluded, threshold, total=start - end)
        rows.append([arm_label(arm, lang), "", text("row_start", lang),
                     count_cell(start, lang, threshold)])
        for i in range(len(part)):
            reason = vocabulary_label("attrition", part.loc[i, "code"], lang, ratio=ratio) \
                if "code" in part.columns else str(part.loc[i, "reason"])
            rows.append(["", str(part.loc[i, "step"]), reason,
                         count_cell(excluded[i], lang, threshold, bool(mask[i]))])
        rows.append(["", "", text("row_end", lang), count_cell(end, lang, threshold)])
    return render(header, rows, output)


#: Covariates that are 0/1 indicators: their means are shares of persons (disclosure applies).
BINARY_COVARIATES = {"custody_ever", "in_education_or_job", "group_member_cooffender_12m",
                     "group_registered", "male", "female", "sex_male"}


def _mean_header(column: str, lang: str) -> str:
    """``mean_contacted_after`` -> "Mean contacted, after" (in the report language)."""
    parts = column.split("_")[1:]
    arm = parts[0] if parts else ""
    label = text(f"col_mean_{arm}", lang) if f"col_mean_{arm}" in TEXTS[lang] else column
    if len(parts) > 1 and f"col_{parts[1]}" in TEXTS[lang]:
        label += f", {text('col_' + parts[1], lang)}"
    return label


def balance_table(balance: pd.DataFrame, lang: str, labels: dict[str, Any] | None = None,
                  output: str = "html", threshold: int = disclosure.DEFAULT_SUPPRESSION_THRESHOLD,
                  arm_sizes: dict[str, dict[str, float]] | None = None) -> str:
    """Standardised mean differences before and after matching, and the means by arm.

    The mean of a 0/1 covariate is a share of persons: it is shown as "–" when it stands for
    fewer than ``threshold`` persons with (or without) the trait, given the arm's size
    ``arm_sizes[stage][arm]`` (stage "before" or "after"; a mean column without a stage suffix
    counts as "after").
    """
    labels = labels or {}
    arm_sizes = arm_sizes or {}
    header = [text("col_covariate", lang), text("col_smd_before", lang), text("col_smd_after", lang)]
    mean_cols = [c for c in balance.columns if c.startswith("mean_")]
    header += [_mean_header(c, lang) for c in mean_cols]
    rows = []
    for _, r in balance.iterrows():
        name = str(r["covariate"])
        lab = labels.get(name, {})
        lab = lab.get(lang) if isinstance(lab, dict) else None
        lab = lab or vocabulary_label("covariate", name, lang)
        cells = [lab, fmt.number(r.get("smd_before"), lang, 3), fmt.number(r.get("smd_after"), lang, 3)]
        for c in mean_cols:
            value = r.get(c)
            parts = c.split("_")[1:]
            stage = parts[1] if len(parts) > 1 else "after"
            n = (arm_sizes.get(stage) or {}).get(parts[0] if parts else "")
            if name in BINARY_COVARIATES and n and not fmt._bad(value):
                with_trait = float(value) * float(n)
                if disclosure.is_small(round(with_trait), threshold) or disclosure.is_small(
                        round(float(n) - with_trait), threshold):
                    cells.append("–")
                    continue
            cells.append(fmt.number(value, lang, 2))
        rows.append(cells)
    return render(header, rows, output)


def propensity_table(propensity: pd.DataFrame, lang: str, threshold: int, output: str = "html") -> str:
    """Persons and propensity score quantiles (5%, 50%, 95%) by arm and matched status.

    Quantiles of a group smaller than the threshold are not shown.
    """
    header = [text("col_arm", lang), text("col_matched", lang), text("col_persons", lang),
              text("col_ps_p05", lang), text("col_ps_median", lang), text("col_ps_p95", lang)]
    rows = []
    keys = ["arm"] + (["matched"] if "matched" in propensity.columns else [])
    for key, part in propensity.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        arm = str(key[0])
        matched = text("yes", lang) if len(key) > 1 and bool(key[1]) else (
            text("no", lang) if len(key) > 1 else "")
        n = len(part)
        ps = part["propensity_score"].to_numpy(dtype=float)
        q = np.quantile(ps, [0.05, 0.5, 0.95]) if n >= threshold else [None] * 3
        rows.append([arm_label(arm, lang), matched, count_cell(n, lang, threshold)]
                    + [fmt.number(v, lang, 3) for v in q])
    return render(header, rows, output)
