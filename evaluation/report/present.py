"""What the report templates call: one :class:`Report` per rendered document.

Each method displays one part of a report (Markdown text, an HTML or Markdown table, a figure)
in the running notebook/Quarto document. ``output="html"`` gives HTML tables whose count cells are
marked ``class="count"``; any other value (``"pdf"``) gives Markdown for Quarto's Typst output.
Every count shown goes through :mod:`evaluation.disclosure`.
"""

from __future__ import annotations

import html as _html
import re
from pathlib import Path
from typing import Any

import pandas as pd

from .. import disclosure
from ..disclosure import DEFAULT_SUPPRESSION_THRESHOLD
from . import fmt, tables
from .area import AreaSections
from .bundle import Bundle, estimate_rows, pick
from .council import CouncilParts
from .findings import GATES, detectable_effect, finding, mde_sentence
from .texts import arm_label, category_label, check_language, text, vocabulary_label

STYLE = """<style>
.report-table{border-collapse:collapse;margin:0.6em 0 1.2em 0;font-size:0.92em}
.report-table th,.report-table td{border-bottom:1px solid #ccc;padding:3px 8px;text-align:left !important}
.report-table td.count{text-align:right !important;font-variant-numeric:tabular-nums}
.report-box{border-left:5px solid #1b6ca8;background:#eef4fa;padding:0.6em 1em;margin:1em 0}
.finding{margin:0.4em 0}
.report-scroll{overflow-x:auto;max-width:100%}
.report-figure img{width:100%;max-width:44em}
.report-toc ol{columns:2 18em}
.jp-OutputPrompt,.jp-OutputArea-prompt,.jp-InputPrompt,.jp-Collapser{display:none !important}
.jp-Notebook{max-width:54em;margin:0 auto}
.jp-OutputArea-output{max-width:100%;overflow-x:auto}
@media (max-width:600px){.jp-Notebook{padding:6px 10px !important}.jp-Cell{padding:0 !important}
.report-table{font-size:0.85em}.report-box{padding:0.4em 0.7em}}
@media print{.report-figure img{max-width:100%}.report-box{break-inside:avoid}h2,h3{break-after:avoid}}
.report-figure{margin:0.5em 0}.report-figure img{max-width:100%;height:auto}
</style>"""


def anchor(title: str) -> str:
    """The id of a heading: its words joined by hyphens ("Balance mellem grupperne" ->
    "balance-mellem-grupperne")."""
    return "sec-" + "-".join(re.findall(r"\w+", title.lower()))


def typst_text(value: str) -> str:
    """Plain text for Typst content brackets (markup characters escaped)."""
    return re.sub(r"([\\#\[\]*_`$<>@=~/])", r"\\\1", value)


class Raw(str):
    """Markup inserted into a text as it is, never escaped: HTML counts marked ``class="count"``,
    or for PDF the Markdown count span."""


class Report(CouncilParts, AreaSections):
    """Presents one results bundle in one language.

    Parameters
    ----------
    bundle
        Folder of the results bundle.
    quarter
        Report quarter, e.g. ``"2026Q3"``.
    lang
        ``"da"`` (default) or ``"en"``.
    threshold
        Disclosure threshold (the study's ``report.suppression_threshold``).
    output
        ``"html"`` or ``"pdf"``.
    """

    def __init__(self, bundle: str | Path, quarter: str, lang: str = "da",
                 threshold: int = DEFAULT_SUPPRESSION_THRESHOLD, output: str = "html") -> None:
        self.bundle = Bundle.open(bundle)
        self.quarter = quarter
        self.lang = check_language(lang)
        self.threshold = int(threshold)
        self.output = output
        self.html = output == "html"

    # -- low-level output -------------------------------------------------------------------
    def _show(self, content: str, kind: str = "markdown") -> None:
        from IPython.display import HTML, Markdown, display

        if kind == "html" and self.html:
            display(HTML(content))
        else:
            display(Markdown(content))

    def t(self, key: str, **fields: Any) -> str:
        """A text of the report language."""
        return text(key, self.lang, **fields)

    def n(self, count: Any, suppressed: bool = False) -> str:
        """A count for running text, after disclosure control (marked as a count in HTML)."""
        cell = tables.count_cell(count, self.lang, self.threshold, suppressed)
        if not self.html:
            return Raw(tables.markdown_cell(cell))  # a count span, not a label: not escaped
        return Raw(f'<span class="{disclosure.COUNT_CLASS}">{_html.escape(cell.text)}</span>')

    def heading(self, key: str, level: int = 2, **fields: Any) -> None:
        """A heading; in HTML with the id that the table of contents links to."""
        title = self.t(key, **fields)
        if self.html:
            self._show(f'<h{level} id="{anchor(title)}">{fmt.plain(title, "html")}</h{level}>', "html")
        else:
            self._show("#" * level + " " + self.t(key, **{k: fmt.plain(v) for k, v in fields.items()}))

    def toc(self) -> None:
        """Table of contents of the technical appendix, with links (an outline in the PDF)."""
        entries = [self.t(k) for k in ("h_design", "h_attrition", "h_balance", "h_overlap")]
        entries += [self.t("h_outcome", label=self.label(o)) for o in self.bundle.outcomes]
        entries += [self.t(k) for k in ("h_naive", "h_forest", "h_manifest")]
        if not self.html:
            title = typst_text(self.t("h_toc"))
            self._show(f"```{{=typst}}\n#outline(title: [{title}], target: heading.where(level: 2))\n```")
            return
        items = "".join(f'<li><a href="#{anchor(e)}">{_html.escape(e)}</a></li>' for e in entries)
        self._show(f'<nav class="report-toc"><h2>{_html.escape(self.t("h_toc"))}</h2>'
                   f"<ol>{items}</ol></nav>", "html")

    def paragraph(self, key: str, **fields: Any) -> None:
        """A paragraph of text ``key``; in HTML, fields given as :class:`Raw` are not escaped."""
        if not self.html:
            self._show(self.t(key, **{k: v if isinstance(v, Raw) else fmt.plain(v)
                                      for k, v in fields.items()}))
            return
        safe = {k: v if isinstance(v, Raw) else fmt.plain(v, "html") for k, v in fields.items()}
        template = _html.escape(text(key, self.lang, **{k: "{" + k + "}" for k in fields}))
        self._show(f"<p>{template.format(**safe)}</p>", "html")

    def bullets(self, items: list[str]) -> None:
        """A bulleted list of plain texts."""
        if self.html:
            lis = "".join(f"<li>{_html.escape(item)}</li>" for item in items)
            self._show(f"<ul>{lis}</ul>", "html")
        else:
            self._show("\n".join(f"- {item}" for item in items))

    def table(self, content: str) -> None:
        self._show(content, "html")

    def figure(self, fig, alt: str, width: int = 100) -> None:
        """Show a matplotlib Figure with its alt text: PNG in HTML, SVG (vector) in the PDF;
        ``width`` is its share of the text width in percent (in HTML: of 44em)."""
        from .figures import figure_png, figure_svg

        if self.html:
            self._img(figure_png(fig), "image/png", alt, width)
        else:
            self._img(figure_svg(fig), "image/svg+xml", alt, width)

    def image(self, path: Path | None, alt: str) -> None:
        """Show a figure file of the bundle (its SVG twin in the PDF when there is one)."""
        if path is None:
            return
        svg = path.with_suffix(".svg")
        if not self.html and svg.exists():
            self._img(svg.read_text(encoding="utf-8"), "image/svg+xml", alt)
        else:
            self._img(path.read_bytes(), "image/png", alt)

    def _img(self, data: bytes | str, mime: str, alt: str, width: int = 100) -> None:
        """An image with alt text: an ``<img>`` element in HTML, a figure output for the PDF."""
        import base64

        from IPython.display import HTML, display

        if self.html:
            uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
            style = f' style="max-width:{0.44 * width:g}em"' if width < 100 else ""
            display(HTML(f'<figure class="report-figure"><img src="{uri}"{style} '
                         f'alt="{fmt.plain(alt, "html")}"></figure>'))
            return
        payload = data if isinstance(data, str) else base64.b64encode(data).decode("ascii")
        display({mime: payload, "text/plain": alt}, raw=True,
                metadata={"alt": alt, "width": width})

    def _named_table(self, name: str) -> pd.DataFrame | None:
        """A bundle-level table; when the bundle lacks it, a note saying so is shown instead."""
        frame = self.bundle.named_table(name)
        if frame is None:
            self._show(self.t("missing_table", name=name))
        return frame

    # -- shared parts -----------------------------------------------------------------------
    def title(self, kind: str) -> None:
        """Title, study name and as-of date (``kind`` is "quarterly" or "technical")."""
        if self.html:
            self._show(STYLE, "html")
        study = self.bundle.study
        self._show(f"# {self.t('title_' + kind, quarter=self.quarter)}\n\n"
                   f"{self.t('subtitle', study=fmt.plain(study.get('name', '')), data_end=self.data_end)}")

    @property
    def data_end(self) -> str:
        return fmt.date(self.bundle.study.get("data_end"), self.lang)

    def label(self, outcome: dict[str, Any]) -> str:
        label = outcome.get("label") or {}
        return label.get(self.lang, outcome.get("id", "")) if isinstance(label, dict) else str(label)

    # -- council report ---------------------------------------------------------------------
    def contacts(self) -> None:
        """The contacts table: this quarter and since the start, by sex, age, type, referral."""
        self.heading("h_contacts")
        contacts = self._named_table("contacts")
        if contacts is None:
            return
        self.table(tables.contacts_table(contacts, self.quarter, self.lang, self.threshold, self.output))
        self.paragraph("contacts_note", threshold=self.threshold)

    def contacts_intro(self) -> None:
        """How many had their first contact this quarter and since the start (one sentence)."""
        contacts = self.bundle.named_table("contacts")
        if contacts is None:
            return
        total = contacts[contacts["dimension"] == "total"].groupby("period")["n"].sum()
        start = self.bundle.study.get("initiative_start")
        fields = {"quarter": self.quarter, "n_quarter": self.n(total.get("quarter", 0)),
                  "n_total": self.n(total.get("cumulative", 0))}
        if start:
            self.paragraph("contacts_intro", start=fmt.date(start, self.lang), **fields)
        else:
            self.paragraph("contacts_intro_nostart", **fields)

    def box(self) -> None:
        """The box "what these results can and cannot tell you"."""
        can = [self.t("box_can_1"), self.t("box_can_2")]
        cannot = [self.t("box_cannot_1"), self.t("box_cannot_2"), self.t("box_cannot_3")]
        if self.html:
            lis = "".join(f"<li>{_html.escape(s)}</li>" for s in can + cannot)
            self._show(f'<div class="report-box"><h3>{_html.escape(self.t("h_box"))}</h3>'
                       f"<ul>{lis}</ul></div>", "html")
        else:
            body = "\n".join(f"> - {s}" for s in can + cannot)
            self._show(f"> **{self.t('h_box')}**\n>\n{body}")

    def _curve(self, outcome: dict[str, Any], curve_figure, survival: bool = False) -> None:
        curve = self.bundle.table((outcome.get("tables") or {}).get("curve"))
        label = self.label(outcome)
        if curve is None:
            self._show(self.t("missing_table", name=f"{outcome.get('id')}_curve"))
            return
        numbers = finding(outcome, self.lang, self.threshold).numbers
        main = self.t("alt_numbers" if "pct_c" in numbers else "alt_no_numbers", **numbers)
        self.figure(curve_figure(curve, label, self.lang, self.threshold),
                    f"{self.t('alt_curve', label=label.lower())} {main}")
        if survival:
            self.figure(curve_figure(curve, label, self.lang, self.threshold, survival=True),
                        f"{self.t('alt_survival', label=label.lower())} {main}")
        self._show("*" + self.t("figure_caption", label=fmt.plain(label.lower()),
                                threshold=self.threshold) + "*")

    def comparison(self) -> None:
        """How the comparison group is chosen."""
        self.heading("h_comparison")
        if self.bundle.study.get("design") == "iptw":
            self.paragraph("comparison_text_iptw")
            return
        ratio = _html.escape(str(self.bundle.cohort.get("ratio", 3)))
        # the matching ratio is a design setting, not a count of persons
        self.paragraph("comparison_text", ratio=Raw(f'<span class="ratio">{ratio}</span>') if self.html else ratio)

    def as_of(self) -> None:
        """The data's as-of date and the minimum detectable effect per family."""
        self.heading("h_asof")
        lines = [self.t("asof_text", data_end=self.data_end), ""]
        lines += [f"- {fmt.plain(mde_sentence(o, self.lang))}" for _, o in self.bundle.families()]
        lines += ["", self.t("mde_note")]
        self._show("\n".join(lines))

    # -- technical appendix -----------------------------------------------------------------
    def design(self) -> None:
        c = self.bundle.cohort
        self.heading("h_design")
        self.paragraph(
            "design_text",
            design=category_label(self.bundle.study.get("design", ""), self.lang),
            n_c=self.n(c.get("n_contacted")), n_k=self.n(c.get("n_comparison")),
            n_sets=self.n(c.get("n_sets")), ratio=c.get("ratio", ""),
            smd_before=fmt.number(c.get("smd_max_before"), self.lang, 3),
            smd_after=fmt.number(c.get("smd_max_after"), self.lang, 3))

    def attrition(self) -> None:
        self.heading("h_attrition")
        frame = self._named_table("attrition")
        if frame is None:
            return
        self.table(tables.attrition_table(frame, self.lang, self.threshold, self.output,
                                          ratio=self.bundle.cohort.get("ratio", "")))

    def balance(self) -> None:
        self.heading("h_balance")
        frame = self._named_table("balance")
        if frame is not None:
            labels = self.bundle.cohort.get("covariates") or {}
            self.table(tables.balance_table(frame, self.lang, labels, self.output, self.threshold,
                                            self._arm_sizes()))
        self.image(self.bundle.figure("balance"), self.t(
            "alt_balance", smd_after=fmt.number(self.bundle.cohort.get("smd_max_after"), self.lang, 3)))

    def _arm_sizes(self) -> dict[str, dict[str, float]]:
        """Persons per arm after matching (cohort counts) and before (the propensity table)."""
        c = self.bundle.cohort
        sizes = {"after": {"contacted": c.get("n_contacted"), "comparison": c.get("n_comparison")}}
        prop = self.bundle.named_table("propensity")
        if prop is not None and "arm" in prop.columns:
            sizes["before"] = prop.groupby("arm").size().astype(float).to_dict()
        return sizes

    def overlap(self) -> None:
        self.heading("h_overlap")
        frame = self.bundle.named_table("propensity")
        if frame is not None:
            self.table(tables.propensity_table(frame, self.lang, self.threshold, self.output))
        self.image(self.bundle.figure("overlap"), self.t("alt_overlap"))

    def outcome_sections(self) -> None:
        """Per outcome: finding, curve with numbers at risk, every model row, diagnostics."""
        from .figures import curve_figure

        for outcome in self.bundle.outcomes:
            self.heading("h_outcome", level=2, label=self.label(outcome))
            f = finding(outcome, self.lang, self.threshold)
            self._show(f"**{fmt.plain(f.sentence)}**")
            self.heading("h_curve", level=3)
            self._curve(outcome, curve_figure, survival=True)
            self.heading("h_models", level=3)
            self.table(self._model_table(outcome))
            self.heading("h_diagnostics", level=3)
            self.table(self._diagnostics_table(outcome))
            self.table(self._gates_table(outcome))
            self._show(fmt.plain(mde_sentence(outcome, self.lang)))
            for name, rel in (outcome.get("figures") or {}).items():
                if name != "curve":
                    self.image(self.bundle.file(rel), self.t("alt_figure", name=name))

    def _model_table(self, outcome: dict[str, Any]) -> str:
        rows = estimate_rows(outcome)
        lang = self.lang
        header = [text(k, lang) for k in ("col_analysis", "col_model", "col_term", "col_group",
                                          "col_time", "col_estimate", "col_ci", "col_p", "col_hr")]
        body = []
        for _, r in rows.iterrows():
            arm, grp = r["arm"], r["group"]
            group = (arm_label(arm, lang) if isinstance(arm, str)
                     else "" if grp is None or pd.isna(grp) else str(grp))
            body.append([
                vocabulary_label("analysis", r["analysis"], lang),
                vocabulary_label("model", r["model"], lang),
                "" if pd.isna(r["term"]) else vocabulary_label("term", r["term"], lang),
                group, "" if pd.isna(r["time"]) else fmt.number(r["time"], lang, 0),
                fmt.number(r["estimate"], lang, 3),
                f"{fmt.number(r['conf_low'], lang, 3)} ; {fmt.number(r['conf_high'], lang, 3)}",
                fmt.p_value(r["p_value"], lang), fmt.number(r["hazard_ratio"], lang, 3)])
        return tables.render(header, body, self.output)

    def _diagnostics_table(self, outcome: dict[str, Any]) -> str:
        """The diagnostics of an outcome, each in its own named column (matched analysis)."""
        lang = self.lang
        d = outcome.get("diagnostics") or {}
        pop = outcome.get("population") or {}
        ev = d.get("events") or {}
        ev_values = [ev.get("contacted"), ev.get("comparison")]
        ev_mask = disclosure.suppress_distribution([v or 0 for v in ev_values], self.threshold) \
            if all(v is not None for v in ev_values) else [False, False]
        e_value = d.get("e_value") or {}
        cnt = tables.count_cell
        columns = [
            ("diag_persons_contacted", cnt(pop.get("contacted"), lang, self.threshold)),
            ("diag_persons_comparison", cnt(pop.get("comparison"), lang, self.threshold)),
            ("diag_events_contacted", cnt(ev_values[0], lang, self.threshold, bool(ev_mask[0]))),
            ("diag_events_comparison", cnt(ev_values[1], lang, self.threshold, bool(ev_mask[1]))),
            ("diag_ph", fmt.p_value(d.get("ph_global_p"), lang)),
            ("diag_mde", fmt.number(detectable_effect(outcome), lang, 2)),
            ("diag_evalue", fmt.number(e_value.get("point"), lang, 2)),
            ("diag_evalue_ci", fmt.number(e_value.get("ci"), lang, 2)),
            ("diag_smd", fmt.number(d.get("smd_max_after"), lang, 3)),
        ]
        return tables.render([text(k, lang) for k, _ in columns], [[v for _, v in columns]],
                             self.output)

    def _gates_table(self, outcome: dict[str, Any]) -> str:
        """The checks that gate the result: one row each, passed or not."""
        gates = outcome.get("gates") or {}
        rows = [[text("gate_" + g, self.lang), text("yes" if gates.get(g) else "no", self.lang)]
                for g in (*GATES, "passed") if g in gates]
        header = [text("col_check", self.lang), text("col_passed", self.lang)]
        return tables.render(header, rows, self.output)

    def naive_vs_matched(self) -> None:
        """Hazard ratio and risk difference at the primary horizon, matched against naive."""
        self.heading("h_naive")
        lang = self.lang
        header = [text(k, lang) for k in ("col_outcome", "col_hr_matched", "col_hr_naive",
                                          "col_rd_matched", "col_rd_naive")]
        body = []
        for outcome in self.bundle.outcomes:
            rows = estimate_rows(outcome)
            horizon = outcome.get("primary_horizon_days") or 365
            cells = [self.label(outcome)]
            for analysis in ("matched", "naive"):
                cox = pick(rows, "cox", analysis=analysis, term="treat")
                cells.append(self._hr(cox))
            for analysis in ("matched", "naive"):
                rd = pick(rows, "risk_difference", analysis=analysis, time=horizon)
                cells.append("–" if rd is None else
                             f"{fmt.points(rd['estimate'], lang)} ({fmt.points(rd['conf_low'], lang)}; "
                             f"{fmt.points(rd['conf_high'], lang)})")
            body.append(cells)
        self.table(tables.render(header, body, self.output))

    def _hr(self, row: dict[str, Any] | None) -> str:
        """Hazard ratio (95% CI) of a Cox row; its limits are on the log-hazard scale."""
        if row is None:
            return "–"
        import math

        def hr_of(log_hr: Any) -> float | None:
            try:
                value = math.exp(float(log_hr))
            except (TypeError, ValueError, OverflowError):
                return None
            return value if math.isfinite(value) else None

        hr = row.get("hazard_ratio")
        if fmt._bad(hr):
            hr = hr_of(row.get("estimate"))
        lo, hi = hr_of(row.get("conf_low")), hr_of(row.get("conf_high"))
        if hr is None or lo is None or hi is None:
            return "–"
        return f"{fmt.number(hr, self.lang)} ({fmt.number(lo, self.lang)}; {fmt.number(hi, self.lang)})"

    def forest(self) -> None:
        self.heading("h_forest")
        self.image(self.bundle.figure("forest"), self.t("alt_forest"))

    def manifest(self) -> None:
        """The bundle's manifest: inputs with hashes, package versions, seed."""
        self.heading("h_manifest")
        flat: list[tuple[str, str]] = []

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, dict):
                for k, v in value.items():
                    walk(f"{prefix}.{k}" if prefix else str(k), v)
            elif isinstance(value, list):
                flat.append((prefix, ", ".join(map(str, value))))
            else:
                flat.append((prefix, str(value)))

        walk("", self.bundle.manifest)
        header = [text("col_key", self.lang), text("col_value", self.lang)]
        self.table(tables.render(header, [[k, v] for k, v in flat], self.output))
