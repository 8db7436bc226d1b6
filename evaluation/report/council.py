"""The council report's own parts: the summary first, whom it covers, then each outcome for 100
young people with a lay figure, and the words it uses explained.

Every number comes from the bundle through :func:`evaluation.report.findings.finding` (which
decides, by the gates and the disclosure threshold, whether numbers may be shown at all); every
count goes through :meth:`Report.n`, and every text through :mod:`.texts`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from . import fmt
from .findings import BENEFICIAL, HARMFUL, NO_DIFFERENCE, NOT_YET, Finding, finding
from .texts import VOCABULARY, category_label, text, vocabulary_label

COLOURS = {"contacted": "#1b6ca8", "comparison": "#c8553d"}
FONT = 12


def per_100(share: float) -> int:
    """A share (0-1) as a whole number out of 100."""
    return round(100 * share)


def within(outcome: dict[str, Any], lang: str) -> str:
    """ "within a year" / "within 6 months" for the outcome's primary horizon."""
    months = fmt.months(outcome.get("primary_horizon_days") or 365)
    return text("within_year" if months == 12 else "within_months", lang, months=months)


def event(outcome: dict[str, Any], lang: str) -> str:
    """What happened to a young person, in words ("had a new charge")."""
    definition = outcome.get("definition")
    if definition in VOCABULARY["event"]:
        return vocabulary_label("event", definition, lang)
    return text("event_generic", lang)


def difference_words(points: int, lang: str) -> str:
    """A difference per 100 in words: "12 fewer", "3 more", "no difference"."""
    if points == 0:
        return text("diff_none", lang)
    return text("diff_fewer" if points < 0 else "diff_more", lang, n=abs(points))


def summary_sentence(outcome: dict[str, Any], f: Finding, lang: str, label: str) -> str:
    """The one-sentence answer for an outcome family ("Kort fortalt")."""
    fields = {"label": label, "event": event(outcome, lang)}
    if f.kind == NOT_YET:
        return text("summary_not_yet", lang, reasons=_join(f.reasons, lang), **fields)
    if f.kind == NO_DIFFERENCE:
        return text("summary_no_difference", lang, **fields)
    fewer = f.values["rd"] < 0
    key = "summary_fewer" if fewer else "summary_more"
    sentence = text(key, lang, **fields)
    return sentence + (" " + text("summary_harm", lang) if f.kind == HARMFUL else "")


def _join(items: tuple[str, ...], lang: str) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {text('and', lang)} " + items[-1]


def per_100_sentence(outcome: dict[str, Any], f: Finding, lang: str) -> str:
    """ "For every 100 young people like those contacted, about X ..., against about Y ..." with
    the range of the true difference, and what the reader may conclude."""
    v = f.values
    lo, hi = per_100(v["lo"]), per_100(v["hi"])
    sentence = text("per100_text", lang, c=per_100(v["c"]), k=per_100(v["k"]),
                    event=event(outcome, lang), within=within(outcome, lang),
                    lo=difference_words(lo, lang), hi=difference_words(hi, lang))
    verdict = {NO_DIFFERENCE: "per100_chance", BENEFICIAL: "per100_not_chance",
               HARMFUL: "per100_harm"}[f.kind]
    return f"{sentence} {text(verdict, lang)}"


def caption(outcome: dict[str, Any], f: Finding, lang: str) -> str:
    """The lay figure's caption; it reconciles bars that differ with a difference that does not."""
    fields = {"event": event(outcome, lang), "within": within(outcome, lang)}
    key = "caption_per100_chance" if f.kind == NO_DIFFERENCE else "caption_per100"
    return text(key, lang, **fields)


def alt_text(outcome: dict[str, Any], f: Finding, lang: str, label: str) -> str:
    v = f.values
    return text("alt_per100", lang, label=label.lower(), c=per_100(v["c"]), k=per_100(v["k"]),
                event=event(outcome, lang), within=within(outcome, lang)) + " " + caption(
                    outcome, f, lang)


def per_100_figure(f: Finding, lang: str) -> Figure:
    """Paired bars: out of 100 young people, how many in each group, with each one's 95% range."""
    v = f.values
    fig = Figure(figsize=(5.6, 2.2), dpi=150)
    ax = fig.subplots()
    rows = [("comparison", v["k"], v["k_low"], v["k_high"]),
            ("contacted", v["c"], v["c_low"], v["c_high"])]
    for y, (arm, share, low, high) in enumerate(rows):
        ax.barh(y, 100 * share, height=0.6, color=COLOURS[arm])
        end = 100 * share
        if not (math.isnan(low) or math.isnan(high)):
            ax.plot([100 * low, 100 * high], [y, y], color="black", lw=2)
            ax.plot([100 * low] * 2, [y - 0.15, y + 0.15], color="black", lw=2)
            ax.plot([100 * high] * 2, [y - 0.15, y + 0.15], color="black", lw=2)
            end = max(end, 100 * high)
        label = text("fig_per100_value", lang, n=per_100(share))
        if end <= 62:  # beside the bar and its range
            ax.text(end + 2, y, label, va="center", fontsize=FONT, fontweight="bold")
        else:  # inside the bar, at its start
            ax.text(2, y, label, va="center", fontsize=FONT, fontweight="bold", color="white")
    ax.set_yticks([0, 1], [text("fig_comparison", lang), text("fig_contacted", lang)],
                  fontsize=FONT)
    ax.set_xlim(0, 100)
    ax.set_xticks(np.arange(0, 101, 25))
    ax.tick_params(axis="x", labelsize=FONT - 1)
    ax.set_xlabel(text("fig_per100_axis", lang), fontsize=FONT)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.subplots_adjust(left=0.36, right=0.97, top=0.95, bottom=0.3)
    return fig


class CouncilParts:
    """The parts of the council report (mixed into :class:`evaluation.report.present.Report`)."""

    def summary(self) -> None:
        """ "Kort fortalt": one sentence per outcome family."""
        self.heading("h_summary")
        items = []
        for family, outcome in self.bundle.families():
            f = finding(outcome, self.lang, self.threshold, self.check,
                        boundary_z=self.boundary_for(family))
            items.append((f.kind, summary_sentence(outcome, f, self.lang,
                                                   category_label(family, self.lang))))
        if self.html:  # each answer marked with its kind (not_yet, no_difference, ...)
            lis = "".join(f'<li class="finding" data-kind="{kind}">{fmt.plain(sentence, "html")}</li>'
                          for kind, sentence in items)
            self._show(fmt.Markup(f'<ul class="report-summary">{lis}</ul>', "html"), "html")
        else:
            self.bullets([sentence for _, sentence in items])

    def covers(self) -> None:
        """Whom the report is about: how many were contacted, how many could be compared, and
        the outcomes whose population is smaller than the cohort."""
        self.heading("h_covers")
        self.contacts_intro()
        counts = self.bundle.cohort.get("counts") or {}
        matched, eligible = counts.get("contacted"), counts.get("contacted_eligible")
        if matched is not None and eligible is not None:
            self.paragraph("comparison_coverage", n_matched=self.count("cohort/contacted"),
                           n_eligible=self.count("cohort/contacted_eligible"))
        cohort = {"contacted": self.bundle.cohort.get("n_contacted"),
                  "comparison": self.bundle.cohort.get("n_comparison")}
        for _, outcome in self.bundle.families():
            pop = outcome.get("population") or {}
            if all(pop.get(arm) == cohort[arm] for arm in cohort):
                continue
            who = (vocabulary_label("population", outcome.get("definition"), self.lang)
                   if outcome.get("definition") in VOCABULARY["population"]
                   else self.t("population_generic"))
            self.paragraph("population_text", label=self.label(outcome), who=who,
                           n_c=self.count(f"outcome/{outcome.get('id')}/population/contacted"),
                           n_k=self.count(f"outcome/{outcome.get('id')}/population/comparison"))

    def words(self) -> None:
        """The few terms the report uses, explained in plain words."""
        self.heading("h_words", level=3)
        self.bullets([self.t(k) for k in ("word_comparison", "word_chance", "word_interval")])

    def results(self) -> None:
        """Each outcome family for 100 young people, with the lay figure and its caption."""
        self.heading("h_results")
        self.paragraph("findings_intro")
        for family, outcome in self.bundle.families():
            self.heading("h_outcome", level=3, label=category_label(family, self.lang))
            f = finding(outcome, self.lang, self.threshold, self.check,
                        boundary_z=self.boundary_for(family))
            label = self.label(outcome)
            if f.kind == NOT_YET:
                self.paragraph("per100_not_yet", label=label, within=within(outcome, self.lang),
                               reasons=_join(f.reasons, self.lang))
                continue
            self._show(per_100_sentence(outcome, f, self.lang))
            self.figure(per_100_figure(f, self.lang), alt_text(outcome, f, self.lang, label),
                        width=70)
            self._show(fmt.emphasis(caption(outcome, f, self.lang)))
