"""The council report reads in order (summary, whom it covers, detail), in plain words, and
says the same thing as the technical appendix; every figure has alt text in the page language."""

from __future__ import annotations

import html as htmllib
import re

import pytest

from evaluation.report.bundle import Bundle
from evaluation.report.findings import mde_sentence
from evaluation.report.present import anchor
from evaluation.report.texts import TEXTS

LANGS = ("da", "en")


def _page(rendered_reports, lang, doc):
    return rendered_reports["paths"][(lang, doc)].read_text(encoding="utf-8")


def _text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL)
    page = re.sub(r"<img\b[^>]*>", " ", page)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.mark.parametrize("lang", LANGS)
def test_council_report_opens_with_the_summary_then_whom_it_covers(rendered_reports, lang):
    page = _page(rendered_reports, lang, "quarterly")
    h2 = [htmllib.unescape(re.sub(r"<[^>]+>", "", h)).strip()
          for h in re.findall(r"<h2\b[^>]*>(.*?)</h2>", page, flags=re.DOTALL)]
    t = TEXTS[lang]
    assert h2[:3] == [t["h_summary"], t["h_covers"], t["h_results"]], h2
    summary = page.split(t["h_summary"])[1].split(t["h_covers"])[0]
    assert summary.count('class="finding"') == 3  # one sentence per outcome family
    covers = _text(page.split(t["h_covers"])[1].split(t["h_results"])[0])
    assert ("unge haft kontakt" if lang == "da" else "have been contacted") in covers
    # the education outcome's population is smaller than the cohort, and the text says so
    who = ("kun unge, der hverken var i uddannelse eller job" if lang == "da"
           else "only young people in neither education nor a job")
    assert who in covers and "300" in covers and "900" in covers


@pytest.mark.parametrize("lang", LANGS)
def test_council_report_has_no_term_of_art_unexplained(rendered_reports, lang):
    text = _text(_page(rendered_reports, lang, "quarterly"))
    banned = ("hazard", "styrke", "power", "procentpoint", "percentage point", "propensity")
    assert [w for w in banned if w in text.lower()] == []
    first_ci = text.find("konfidensinterval" if lang == "da" else "confidence interval")
    assert first_ci == -1 or text.find(TEXTS[lang]["h_words"]) < first_ci
    assert TEXTS[lang]["word_chance"] in text and TEXTS[lang]["word_comparison"] in text


@pytest.mark.parametrize("lang", LANGS)
def test_the_figure_caption_reconciles_bars_with_a_difference_that_may_be_chance(
        rendered_reports, lang):
    text = _text(_page(rendered_reports, lang, "quarterly"))
    education = text.split(TEXTS[lang]["h_results"])[1]
    reconcile = ("figuren viser ikke, at kontakten gør en forskel" if lang == "da"
                 else "the figure does not show that contact makes a difference")
    assert reconcile in education
    assert text.count(reconcile) == 1  # only the outcome whose difference may be chance


@pytest.mark.parametrize("lang", LANGS)
def test_the_detectable_effect_is_the_same_in_both_documents(rendered_reports, lang):
    bundle = Bundle.open(rendered_reports["study"].parent / "output" / "2026Q3" / "results")
    council = _text(_page(rendered_reports, lang, "quarterly"))
    appendix = _text(_page(rendered_reports, lang, "technical"))
    from evaluation.report.cells import build_checker

    check = build_checker(bundle, "2026Q3", 5)
    for _, outcome in bundle.families():
        # the minimum detectable HR is hidden in both where it would give the events away
        hidden = check.suppressed(f"outcome/{outcome['id']}/mde")
        sentence = mde_sentence({**outcome, "diagnostics": {}} if hidden else outcome, lang)
        assert sentence in council and sentence in appendix, sentence


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("doc", ["quarterly", "technical"])
def test_every_image_has_alt_text_in_the_page_language_with_its_numbers(rendered_reports, lang,
                                                                        doc):
    page = _page(rendered_reports, lang, doc)
    imgs = re.findall(r"<img\b[^>]*>", page)
    assert imgs
    word = "Figur" if lang == "da" else "Figure"
    for img in imgs:
        alt = re.search(r'\balt="([^"]+)"', img)
        assert alt, img[:80]
        assert htmllib.unescape(alt.group(1)).startswith(word)
    alts = " ".join(htmllib.unescape(a) for a in re.findall(r'\balt="([^"]+)"', page))
    assert "No description" not in alts
    if doc == "quarterly":
        assert ("omkring 20 ud af 100" if lang == "da" else "about 20 out of 100") in alts


@pytest.mark.parametrize("lang", LANGS)
def test_technical_appendix_has_a_linked_contents_and_named_diagnostics(rendered_reports, lang):
    page = _page(rendered_reports, lang, "technical")
    nav = re.search(r'<nav class="report-toc">(.*?)</nav>', page, flags=re.DOTALL)
    assert nav
    targets = re.findall(r'href="#([^"]+)"', nav.group(1))
    assert len(targets) >= 8
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    assert set(targets) <= ids
    assert anchor(TEXTS[lang]["h_manifest"]) in targets
    text = _text(page)
    for key in ("diag_persons_contacted", "diag_events_comparison", "diag_evalue_ci", "diag_mde"):
        assert TEXTS[lang][key] in text, key
