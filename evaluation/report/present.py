"""What the report templates call: one :class:`Report` per rendered document.

Each method displays one part of a report (Markdown text, an HTML or Markdown table, a figure)
in the running notebook/Quarto document. ``output="html"`` gives HTML tables whose count cells are
marked ``class="count"``; any other value (``"pdf"``) gives Markdown for Quarto's Typst output.

Every number shown is the text the document's disclosure checker gives
(:attr:`Report.check`, built once from the whole bundle by :func:`.cells.build_checker`): a new
part registers its cells in :mod:`.cells` and asks ``self.count(key)`` for a count in running
text, :func:`.tables.checked` for a table cell, ``self.check.show(key, text)`` for an estimate.

Every text reaches the document through :meth:`Report._show`, which escapes it as plain text
(:func:`.fmt.markup`) unless it is :class:`~.fmt.Markup` that the report code built itself: a
texts.py sentence with its fields (:meth:`Report.say`, :func:`.fmt.fill`), a table
(:func:`.tables.render`), or a heading, list or figure made here. Labels from a study file, plan,
cohort definition or the data are plain text everywhere else, so they can never become a link,
script, style or emphasis.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from .. import disclosure
from ..disclosure import DEFAULT_SUPPRESSION_THRESHOLD, SUPPRESSED_MARK
from ..disclosure import record as disclosure_record
from . import fmt, tables
from .area import AreaSections
from .bundle import Bundle, estimate_rows, pick
from ..tracking.versions import bundle_version
from .cells import build_checker, estimate_key
from .council import CouncilParts
from .findings import GATES, detectable_effect, finding, mde_sentence
from .fmt import Markup
from .texts import (
    arm_label,
    category_label,
    check_language,
    not_estimated_text,
    rule_label,
    text,
    vocabulary_label,
)
from .tracking import TrackingParts

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


def hazard_ratio(row: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """Hazard ratio and 95% limits of a Cox row (its limits are on the log-hazard scale)."""
    import math

    def hr_of(log_hr: Any) -> float | None:
        try:
            value = math.exp(float(log_hr))
        except (TypeError, ValueError, OverflowError):
            return None
        return value if math.isfinite(value) else None

    hr = row.get("hazard_ratio")
    hr = hr_of(row.get("estimate")) if fmt._bad(hr) else float(hr)
    return hr, hr_of(row.get("conf_low")), hr_of(row.get("conf_high"))


class Report(CouncilParts, AreaSections, TrackingParts):
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
    override
        The stated reason for a threshold below 3 (refused without one).
    record
        Where to write this document's disclosure record (:meth:`close`); None: not written.
    earlier
        The study's output folder: the disclosure records of the other releases found under it
        are known to the reader (:func:`.record.published_records`); this document's record is
        also kept there (:func:`.record.archive_path`).
    """

    def __init__(self, bundle: str | Path, quarter: str, lang: str = "da",
                 threshold: int = DEFAULT_SUPPRESSION_THRESHOLD, output: str = "html",
                 override: str | None = None, record: str | Path | None = None,
                 earlier: str | Path | None = None) -> None:
        self.bundle = Bundle.open(bundle)
        self.quarter = quarter
        self.lang = check_language(lang)
        self.output = output
        self.html = output == "html"
        self.record_path = Path(record) if record else None
        self.archive = Path(earlier) if earlier else None
        self.version = bundle_version(Path(bundle))
        previous = disclosure_record.published_records(self.archive, quarter, self.version) \
            if self.archive else []
        self.check = build_checker(self.bundle, quarter, int(threshold), override=override or None,
                                   earlier=previous)
        self.threshold = self.check.threshold

    # -- low-level output -------------------------------------------------------------------
    def _show(self, content: str, kind: str = "markdown") -> None:
        """Show ``content`` as HTML (``kind="html"`` in an HTML document) or as Markdown: a
        :class:`~.fmt.Markup` for that output as it is, any other text escaped as plain text."""
        from IPython.display import HTML, Markdown, display

        html = kind == "html" and self.html
        content = fmt.markup(content, "html" if html else "markdown")
        display(HTML(content) if html else Markdown(content))

    def say(self, key: str, output: str = "markdown", **fields: Any) -> Markup:
        """The text ``key`` with its fields as markup for ``output`` (every field escaped unless
        it is Markup, such as a count span)."""
        return fmt.fill(text(key, self.lang, **{k: "{" + k + "}" for k in fields}), output,
                        **fields)

    def t(self, key: str, **fields: Any) -> str:
        """A text of the report language."""
        return text(key, self.lang, **fields)

    def count(self, key: str) -> str:
        """The registered count ``key`` for running text, as the checker allows it (marked as a
        count in HTML)."""
        return self._count_span(tables.checked(self.check, key, self.lang))

    def n(self, count: Any, suppressed: bool = False) -> str:
        """A count no other published number links to, under the primary rule alone. Counts
        that are linked to others are registered in :mod:`.cells` and shown with :meth:`count`."""
        return self._count_span(tables.count_cell(count, self.lang, self.threshold, suppressed))

    def _count_span(self, cell: tables.Cell) -> Markup:
        if not self.html:
            return tables.markdown_cell(cell)  # a count span, not a label: not escaped
        return Markup(f'<span class="{disclosure.COUNT_CLASS}">{fmt.plain(cell.text, "html")}</span>',
                      "html")

    def heading(self, key: str, level: int = 2, **fields: Any) -> None:
        """A heading; in HTML with the id that the table of contents links to."""
        title = self.t(key, **fields)
        if self.html:
            self._show(Markup(f'<h{level} id="{anchor(title)}">{fmt.plain(title, "html")}</h{level}>',
                              "html"), "html")
        else:
            self._show(Markup("#" * level + " " + self.say(key, **fields)))

    def toc(self) -> None:
        """Table of contents of the technical appendix, with links (an outline in the PDF)."""
        entries = [self.t(k) for k in ("h_design", "h_attrition", "h_balance", "h_overlap")]
        entries += [self.t("h_outcome", label=self.label(o)) for o in self.bundle.outcomes]
        entries += [self.t(k) for k in ("h_naive", "h_forest", "h_manifest")]
        if not self.html:
            title = typst_text(self.t("h_toc"))
            self._show(Markup(f"```{{=typst}}\n#outline(title: [{title}], "
                              "target: heading.where(level: 2))\n```"))
            return
        items = "".join(f'<li><a href="#{anchor(e)}">{fmt.plain(e, "html")}</a></li>' for e in entries)
        self._show(Markup(f'<nav class="report-toc"><h2>{fmt.plain(self.t("h_toc"), "html")}</h2>'
                          f"<ol>{items}</ol></nav>", "html"), "html")

    def paragraph(self, key: str, **fields: Any) -> None:
        """A paragraph of text ``key``; fields given as :class:`~.fmt.Markup` are not escaped."""
        if not self.html:
            self._show(self.say(key, **fields))
            return
        self._show(Markup(f"<p>{self.say(key, 'html', **fields)}</p>", "html"), "html")

    def bullets(self, items: list[str]) -> None:
        """A bulleted list of plain texts (or Markup for this document's output)."""
        if self.html:
            lis = "".join(f"<li>{fmt.markup(item, 'html')}</li>" for item in items)
            self._show(Markup(f"<ul>{lis}</ul>", "html"), "html")
        else:
            self._show(Markup("\n".join(f"- {fmt.markup(item)}" for item in items)))

    def table(self, content: str) -> None:
        """A table; when it hides a cell, the footnote that says what the marker means."""
        self._show(content, "html")
        if SUPPRESSED_MARK in content:
            self.paragraph("suppressed_note", mark=SUPPRESSED_MARK, threshold=self.threshold)

    def figure(self, fig, alt: str, width: int = 100) -> None:
        """Show a matplotlib Figure with its alt text: PNG in HTML, SVG (vector) in the PDF;
        ``width`` is its share of the text width in percent (in HTML: of 44em)."""
        from .figures import figure_png, figure_svg

        if self.html:
            self._img(figure_png(fig), "image/png", alt, width)
        else:
            self._img(figure_svg(fig), "image/svg+xml", alt, width)

    def _img(self, data: bytes | str, mime: str, alt: str, width: int = 100) -> None:
        """An image with alt text: an ``<img>`` element in HTML, a figure output for the PDF."""
        import base64

        from IPython.display import display

        if self.html:
            uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
            style = f' style="max-width:{0.44 * width:g}em"' if width < 100 else ""
            self._show(Markup(f'<figure class="report-figure"><img src="{uri}"{style} '
                              f'alt="{fmt.plain(alt, "html")}"></figure>', "html"), "html")
            return
        # for the PDF the alt text goes into a Typst string (escaped there, see .pdf)
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
            self._show(Markup(STYLE, "html"), "html")
        study = self.bundle.study
        self._show(Markup(f"# {self.say('title_' + kind, quarter=self.quarter)}\n\n"
                          f"{self.say('subtitle', study=study.get('name', ''), data_end=self.data_end)}"))

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
        self.table(tables.contacts_table(contacts, self.quarter, self.lang, self.check, self.output))
        self.paragraph("contacts_note", threshold=self.threshold)

    def contacts_intro(self) -> None:
        """How many had their first contact this quarter and since the start (one sentence)."""
        contacts = self.bundle.named_table("contacts")
        if contacts is None:
            return
        start = self.bundle.study.get("initiative_start")
        fields = {"quarter": self.quarter, "n_quarter": self.count(f"contacts/{self.quarter}/total/all"),
                  "n_total": self.count("contacts/cumulative/total/all")}
        if start:
            self.paragraph("contacts_intro", start=fmt.date(start, self.lang), **fields)
        else:
            self.paragraph("contacts_intro_nostart", **fields)

    def box(self) -> None:
        """The box "what these results can and cannot tell you"."""
        can = [self.t("box_can_1"), self.t("box_can_2")]
        cannot = [self.t("box_cannot_1"), self.t("box_cannot_2"), self.t("box_cannot_3")]
        if self.html:
            lis = "".join(f"<li>{fmt.plain(s, 'html')}</li>" for s in can + cannot)
            self._show(Markup(f'<div class="report-box"><h3>{fmt.plain(self.t("h_box"), "html")}</h3>'
                              f"<ul>{lis}</ul></div>", "html"), "html")
        else:
            body = "\n".join(f"> - {fmt.plain(s)}" for s in can + cannot)
            self._show(Markup(f"> **{fmt.plain(self.t('h_box'))}**\n>\n{body}"))

    def curves(self, primary_only: bool = True) -> None:
        """The outcome over time for both groups (one figure per family's primary outcome)."""
        self.heading("h_figure")
        outcomes = [o for _, o in self.bundle.families()] if primary_only else self.bundle.outcomes
        for outcome in outcomes:
            self._curve(outcome)

    def _curve(self, outcome: dict[str, Any], survival: bool = False) -> None:
        """A curve drawn now from the bundle's curve and at-risk tables, with the checker."""
        from .figures import curve_figure

        tables_ = outcome.get("tables") or {}
        curve = self.bundle.table(tables_.get("curve"))
        risk = self.bundle.table(tables_.get("at_risk"))
        label = self.label(outcome)
        if curve is None:
            self._show(self.t("missing_table", name=f"{outcome.get('id')}_curve"))
            return
        oid = str(outcome.get("id"))
        numbers = finding(outcome, self.lang, self.threshold, self.check).numbers
        main = self.t("alt_numbers" if "pct_c" in numbers else "alt_no_numbers", **numbers)
        horizons = outcome.get("horizons_days") or ()
        self.figure(curve_figure(curve, risk, label, self.lang, self.check, oid,
                                 horizons=horizons),
                    f"{self.t('alt_curve', label=label.lower())} {main}")
        if survival:
            self.figure(curve_figure(curve, risk, label, self.lang, self.check, oid, survival=True,
                                     horizons=horizons),
                        f"{self.t('alt_survival', label=label.lower())} {main}")
        self._curve_data(curve, risk, outcome)
        self._show(fmt.emphasis(self.t("figure_caption", label=label.lower(), threshold=self.threshold,
                                       floor=self.check.curve_floor)))

    def _curve_data(self, curve: pd.DataFrame, risk: pd.DataFrame | None,
                    outcome: dict[str, Any]) -> None:
        """The numbers behind a curve (HTML only, folded): the drawn steps and the numbers at
        risk at the ticks, exactly as drawn."""
        from ..timeunits import DAYS_PER_MONTH
        from .cells import drawn
        from .figures import at_risk_text, tick_months

        if not self.html:
            return
        oid = str(outcome.get("id"))
        steps, ends = drawn(self.check, outcome, curve)
        rows: list[list[Any]] = []
        for arm in ("contacted", "comparison"):
            for r in steps[steps["arm"] == arm].itertuples():
                rows.append([arm_label(arm, self.lang), fmt.number(r.time / DAYS_PER_MONTH, self.lang, 1),
                             fmt.percent(r.estimate, self.lang), ""])
        for month in tick_months(max(ends.values(), default=0.0)):
            for arm in ("contacted", "comparison"):
                shown = at_risk_text(self.check, oid, arm, float(month), risk)
                if shown:
                    rows.append([arm_label(arm, self.lang), fmt.number(month, self.lang, 0), "",
                                 tables.Cell(shown, count=True)])
        header = [text(k, self.lang) for k in ("col_arm", "col_month", "col_share", "at_risk")]
        table = tables.render(header, rows, self.output)
        self._show(Markup(f'<details class="figure-data"><summary>{fmt.plain(self.t("figure_data"), "html")}'
                          f"</summary>{fmt.markup(table, 'html')}</details>", "html"), "html")

    def comparison(self) -> None:
        """How the comparison group is chosen."""
        self.heading("h_comparison")
        if self.bundle.study.get("design") == "iptw":
            self.paragraph("comparison_text_iptw")
            return
        ratio = fmt.plain(self.bundle.cohort.get("ratio", 3), "html")
        # the matching ratio is a design setting, not a count of persons
        self.paragraph("comparison_text",
                       ratio=Markup(f'<span class="ratio">{ratio}</span>', "html") if self.html else ratio)

    def as_of(self) -> None:
        """The data's as-of date and the minimum detectable effect per family."""
        self.heading("h_asof")
        self._show(self.t("asof_text", data_end=self.data_end))
        left_out = self.check.entries.get("quality/total/quarantined")
        if left_out is not None and left_out.value:  # whenever any record was left out
            self.paragraph("dq_council", n_bad=self.count("quality/total/quarantined"),
                           n_read=self.count("quality/total/read"))
        sentences = []
        for _, o in self.bundle.families():
            hidden = self.check.suppressed(f"outcome/{o.get('id')}/mde")
            # the minimum detectable HR inverts to the number of events
            sentences.append(mde_sentence({**o, "diagnostics": {}} if hidden else o, self.lang))
        self.bullets(sentences)
        self._show(self.t("mde_note"))

    # -- technical appendix -----------------------------------------------------------------
    def design(self) -> None:
        c = self.bundle.cohort
        self.heading("h_design")
        self.paragraph(
            "design_text",
            design=category_label(self.bundle.study.get("design", ""), self.lang),
            n_c=self.count("cohort/n_contacted"), n_k=self.count("cohort/n_comparison"),
            n_sets=self.count("cohort/n_sets"), ratio=c.get("ratio", ""),
            smd_before=self.largest_smd("before"), smd_after=self.largest_smd("after"))

    def largest_smd(self, stage: str) -> str:
        """The largest SMD of ``stage`` ("before"/"after" matching) as the checker allows it."""
        value = fmt.number(self.bundle.cohort.get(f"smd_max_{stage}"), self.lang, 3)
        key = f"cohort/smd_max_{stage}"
        return self.check.show(key, value) if key in self.check.entries else value

    def data_quality(self) -> None:
        """Rows read, used and not used (quarantined) per source, by reason."""
        self.heading("h_data_quality")
        dq = self.bundle.data_quality
        if not dq.get("available"):
            self.paragraph("dq_unavailable")
            return
        share = dq.get("max_quarantine_share")
        self.paragraph("dq_intro", share="–" if share is None else fmt.percent(share, self.lang))
        self.table(tables.data_quality_table(dq, self.lang, self.check, self.output))

    def attrition(self) -> None:
        self.heading("h_attrition")
        frame = self._named_table("attrition")
        if frame is None:
            return
        self.table(tables.attrition_table(frame, self.lang, self.check, self.output,
                                          ratio=self.bundle.cohort.get("ratio", "")))

    def coverage(self) -> None:
        """The matched contacted against all eligible contacted (means and SMDs)."""
        frame = self.bundle.named_table("coverage")
        if frame is None or frame.empty:
            return
        self.heading("h_coverage")
        self.paragraph("coverage_intro")
        self.table(tables.coverage_table(frame, self.lang, self.check,
                                         self.bundle.cohort.get("covariates") or {}, self.output))

    def balance(self) -> None:
        """Balance table and figure (SMDs drawn now, with the checker)."""
        from .figures import balance_figure

        self.heading("h_balance")
        frame = self._named_table("balance")
        if frame is None:
            return
        covariates = self.bundle.cohort.get("covariates") or {}
        self.table(tables.balance_table(frame, self.lang, self.check, covariates, self.output))
        labels = {str(k): (v.get(self.lang, k) if isinstance(v, dict) else str(v))
                  for k, v in covariates.items()}
        max_smd = self.bundle.cohort.get("max_smd") or 0.1
        self.figure(balance_figure(frame, float(max_smd), labels, self.lang, self.check), self.t(
            "alt_balance", smd_after=self.largest_smd("after")))

    def overlap(self) -> None:
        """Persons and propensity quantiles by arm, and the overlap histogram (drawn now)."""
        from .figures import overlap_figure

        self.heading("h_overlap")
        frame = self.bundle.named_table("propensity")
        if frame is None:
            return
        self.table(tables.propensity_table(frame, self.lang, self.check, self.output))
        if "propensity_score" in frame.columns:
            self.figure(overlap_figure(frame, self.lang, self.check), self.t("alt_overlap"))

    def outcome_sections(self) -> None:
        """Per outcome: finding, curve with numbers at risk, every model row, diagnostics."""
        for outcome in self.bundle.outcomes:
            self.heading("h_outcome", level=2, label=self.label(outcome))
            f = finding(outcome, self.lang, self.threshold, self.check, self.bundle.cohort,
                        boundary_z=self.boundary_for(outcome.get("family")))
            self._show(fmt.emphasis(f.sentence, strong=True))
            self.heading("h_curve", level=3)
            self._curve(outcome, survival=True)
            self.heading("h_models", level=3)
            self.table(self._model_table(outcome))
            self.heading("h_diagnostics", level=3)
            self.table(self._diagnostics_table(outcome))
            self.table(self._gates_table(outcome))
            hidden = self.check.suppressed(f"outcome/{outcome.get('id')}/mde")
            # the same gate as the council report: the minimum detectable HR inverts to events
            shown = {**outcome, "diagnostics": {}} if hidden else outcome
            self._show(mde_sentence(shown, self.lang))

    def _estimate(self, outcome: dict[str, Any], row: dict[str, Any] | None, text_: str) -> str:
        """``text_`` for an estimate row, or the marker when the checker hides the row."""
        if row is None:
            return text_
        key = estimate_key(str(outcome.get("id")), row)
        return self.check.show(key, text_) if key in self.check.entries else text_

    def _model_table(self, outcome: dict[str, Any]) -> str:
        rows = estimate_rows(outcome)
        lang = self.lang
        header = [text(k, lang) for k in ("col_analysis", "col_model", "col_term", "col_group",
                                          "col_time", "col_estimate", "col_ci", "col_p", "col_hr")]
        body = []
        for r in rows.to_dict("records"):
            arm, grp = r["arm"], r["group"]
            group = (arm_label(arm, lang) if isinstance(arm, str)
                     else "" if grp is None or pd.isna(grp) else str(grp))
            head = [vocabulary_label("analysis", r["analysis"], lang),
                    vocabulary_label("model", r["model"], lang),
                    "" if pd.isna(r["term"]) else vocabulary_label("term", r["term"], lang),
                    group, "" if pd.isna(r["time"]) else fmt.number(r["time"], lang, 0)]
            if isinstance(r.get("not_estimated"), str) and r["not_estimated"]:
                body.append([*head, not_estimated_text(r["not_estimated"], lang), "–", "–", "–"])
                continue
            numbers = [fmt.number(r["estimate"], lang, 3),
                       f"{fmt.number(r['conf_low'], lang, 3)} ; {fmt.number(r['conf_high'], lang, 3)}",
                       fmt.p_value(r["p_value"], lang), fmt.number(r["hazard_ratio"], lang, 3)]
            body.append([*head, *(self._estimate(outcome, r, n) for n in numbers)])
        return tables.render(header, body, self.output)

    def _diagnostics_table(self, outcome: dict[str, Any]) -> str:
        """The diagnostics of an outcome, each in its own named column (matched analysis)."""
        lang = self.lang
        oid = str(outcome.get("id"))
        d = outcome.get("diagnostics") or {}
        e_value = d.get("e_value") or {}
        def cell(name: str, arm: str) -> tables.Cell:
            return tables.checked(self.check, f"outcome/{oid}/{name}/{arm}", lang)

        def gated(name: str, value: str) -> str:
            return self.check.show(f"outcome/{oid}/{name}", value)

        columns = [
            ("diag_persons_contacted", cell("population", "contacted")),
            ("diag_persons_comparison", cell("population", "comparison")),
            ("diag_events_contacted", cell("events", "contacted")),
            ("diag_events_comparison", cell("events", "comparison")),
            ("diag_ph", gated("ph_p", fmt.p_value(d.get("ph_global_p"), lang))),
            ("diag_mde", gated("mde", fmt.number(detectable_effect(outcome), lang, 2))),
            ("diag_evalue", not_estimated_text(e_value["not_estimated"], lang)
             if e_value.get("not_estimated")
             else gated("e_value", fmt.number(e_value.get("point"), lang, 2))),
            ("diag_evalue_ci", "–" if e_value.get("not_estimated")
             else gated("e_value", fmt.number(e_value.get("ci"), lang, 2))),
            ("diag_smd", self.largest_smd("after")),
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

    def self_checks(self) -> None:
        """One sentence: did the method pass its own checks (negative controls, placebo index)?"""
        from .checks import self_check_key

        self.paragraph(self_check_key(self.bundle.estimates))

    def falsification(self) -> None:
        """Both estimands, negative controls with calibration, the placebo index, subgroups and
        the Rosenbaum bound (technical appendix)."""
        from . import checks

        lang, out = self.lang, self.output
        primary = [o for o in self.bundle.outcomes if o.get("primary")]
        self.heading("h_estimands", level=2)
        for o in primary:
            self.heading("h_outcome", level=3, label=self.label(o))
            self.table(checks.estimands_table(o, lang, out, self.check))
            w = checks.weights_table(o, lang, out, self.check)
            if w:
                self.table(w)
        f = self.bundle.estimates.get("falsification") or {}
        ncs, plc = f.get("negative_controls") or {}, f.get("placebo") or {}
        self.heading("h_negative_controls", level=2)
        self.table(checks.negative_controls_table(ncs, lang, out, self.check))
        null = ncs.get("null") or {}
        if null.get("n"):
            nums = {k: checks.shown(self.check, f"negative_control/null/{k}", null[k], lang)
                    for k in ("mean", "sd", "ease")}
            self.paragraph("nc_null", n=null["n"], **nums,
                           bound=fmt.number(ncs.get("max_systematic_error"), lang, 2))
        if plc.get("outcomes"):
            self.heading("h_placebo", level=2, start=plc.get("start", ""), end=plc.get("end", ""))
            self.table(checks.placebo_table(plc, lang, out, self.check))
        self.heading("h_subgroups", level=2)
        for o in primary:
            sg = o.get("subgroups") or {}
            self.heading("h_outcome", level=3, label=self.label(o))
            self.paragraph("subgroups_warning", k=sg.get("tests", 0))
            for name, dim in (sg.get("dimensions") or {}).items():
                if dim.get("shown"):
                    self._show(fmt.emphasis(vocabulary_label("subgroup", name, lang), strong=True))
                    self.table(checks.subgroup_table(str(o.get("id")), name, dim, lang, out, self.check))
                else:
                    self.paragraph("subgroups_hidden", dimension=vocabulary_label("subgroup", name, lang),
                                   reason=self.t(f"subgroup_reason_{dim.get('reason') or 'too_few_events'}",
                                                 n=dim.get("min_events", "")))
        self.heading("h_rosenbaum", level=2)
        for o in primary:
            r = (o.get("sensitivity") or {}).get("rosenbaum") or {}
            if r.get("gamma"):
                self.paragraph("rosenbaum_gamma", label=self.label(o),
                               gamma=checks.shown(self.check, f"rosenbaum/{o.get('id')}", r["gamma"], lang, 2))
            else:
                self.paragraph("rosenbaum_none", label=self.label(o))

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
                cells.append(self._estimate(outcome, cox, self._hr(cox)))
            for analysis in ("matched", "naive"):
                rd = pick(rows, "risk_difference", analysis=analysis, time=horizon)
                cells.append("–" if rd is None else self._estimate(
                    outcome, rd, f"{fmt.points(rd['estimate'], lang)} ({fmt.points(rd['conf_low'], lang)}; "
                                 f"{fmt.points(rd['conf_high'], lang)})"))
            body.append(cells)
        self.table(tables.render(header, body, self.output))

    def _hr(self, row: dict[str, Any] | None) -> str:
        """Hazard ratio (95% CI) of a Cox row; its limits are on the log-hazard scale."""
        if row is None:
            return "–"
        if isinstance(row.get("not_estimated"), str) and row["not_estimated"]:
            return not_estimated_text(row["not_estimated"], self.lang)
        hr, lo, hi = hazard_ratio(row)
        if hr is None or lo is None or hi is None:
            return "–"
        return f"{fmt.number(hr, self.lang)} ({fmt.number(lo, self.lang)}; {fmt.number(hi, self.lang)})"

    def forest(self) -> None:
        """Hazard ratios of every outcome, matched and naive, drawn now (hidden rows left out)."""
        from .figures import forest_figure

        self.heading("h_forest")
        points = []
        for outcome in self.bundle.outcomes:
            rows = estimate_rows(outcome)
            for analysis in ("matched", "naive"):
                cox = pick(rows, "cox", analysis=analysis, term="treat")
                if cox is None or self._estimate(outcome, cox, "") == SUPPRESSED_MARK:
                    continue
                if isinstance(cox.get("not_estimated"), str) and cox["not_estimated"]:
                    continue
                hr, lo, hi = hazard_ratio(cox)
                if all(v is not None and v > 0 for v in (hr, lo, hi)):
                    points.append({"label": self.label(outcome), "analysis": analysis,
                                   "hazard_ratio": hr, "low": lo, "high": hi})
        frame = pd.DataFrame(points, columns=["label", "analysis", "hazard_ratio", "low", "high"])
        self.figure(forest_figure(frame, self.lang), self.t("alt_forest"))
        missing = []
        for outcome in self.bundle.outcomes:  # matched or naive: either point left out
            rows = estimate_rows(outcome)
            coxes = [pick(rows, "cox", analysis=a, term="treat") for a in ("matched", "naive")]
            if any(c is not None and isinstance(c.get("not_estimated"), str) and c["not_estimated"]
                   for c in coxes):
                missing.append(self.label(outcome))
        if missing:
            self.paragraph("forest_not_estimated", labels=", ".join(missing))

    # -- disclosure -------------------------------------------------------------------------
    def disclosure(self) -> None:
        """Which disclosure rules were applied, and how many numbers each decided (in the PDF
        from a new page, with the manifest after it: no last page holds only a few rows)."""
        if not self.html:
            self._show(Markup("```{=typst}\n#pagebreak(weak: true)\n```"))
        self.heading("h_disclosure")
        self.paragraph("disclosure_text", threshold=self.threshold, floor=self.check.curve_floor)
        if self.check.override:
            self.paragraph("disclosure_override", threshold=self.threshold,
                           reason=self.check.override)
        rules = self.check.rules_applied()
        header = [text("col_rule", self.lang), text("col_cells", self.lang)]
        self._show(tables.render(header, [[rule_label(k, self.lang), str(v)] for k, v in rules.items()],
                                 self.output), "html")

    def close(self) -> None:
        """Write this document's disclosure record (when the report was given a path for it)."""
        if self.record_path is None:
            return
        record = self.check.record(
            quarter=self.quarter, lang=self.lang, study=self.bundle.study.get("name", ""),
            data_end=self.bundle.study.get("data_end"), bundle=self.version)
        disclosure_record.write(self.record_path, record)
        if self.archive is not None:
            disclosure_record.write(
                disclosure_record.archive_path(self.archive, record, self.record_path), record)

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
