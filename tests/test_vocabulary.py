"""Danish pages in Danish, English pages in English: the project's own vocabulary.

The vocabulary is every label the reports show for the project's own codes and parts
(:data:`evaluation.report.texts.VOCABULARY`, the category labels, and the headings, table headers,
row labels, axis and legend texts of :data:`~evaluation.report.texts.TEXTS`). A Danish page
(HTML and PDF) must show none of the English labels and no raw code, and the reverse.
"""

from __future__ import annotations

import html as htmllib
import re
import shutil
import subprocess

import pytest
from bundle_factory import make_bundle

from evaluation.report.bundle import Bundle
from evaluation.report.texts import CATEGORY_LABELS, LANGUAGES, TEXTS, VOCABULARY
from evaluation.survival.results import MODEL_DESCRIPTIONS

#: TEXTS keys that are labels (headings, table headers, rows, arms, axes, gates, diagnostics).
LABEL_PREFIXES = ("h_", "col_", "row_", "dim_", "arm_", "axis_", "gate_", "diag_", "at_risk")


def labels(lang: str) -> set[str]:
    """Every label of the project's vocabulary in ``lang`` (placeholders cut off)."""
    i = LANGUAGES.index(lang)
    found = {pair[i] for kind in VOCABULARY.values() for pair in kind.values()}
    found |= set(CATEGORY_LABELS[lang].values())
    found |= {v for k, v in TEXTS[lang].items() if k.startswith(LABEL_PREFIXES)}
    out = set()
    for label in found:
        for part in re.split(r"\{[^}]*\}", label):  # the fixed parts of a label with fields
            part = part.strip(" :,.()")
            if len(part) >= 3:
                out.add(part)
    return out


def foreign_labels(lang: str) -> set[str]:
    """Labels of the other language that are not also labels (or words) of ``lang``."""
    other = "en" if lang == "da" else "da"
    own = labels(lang)
    return {label for label in labels(other) if label not in own}


def raw_codes() -> set[str]:
    codes = {code for kind in VOCABULARY.values() for code in kind if "_" in code}
    return codes | {c for c in CATEGORY_LABELS["en"] if "_" in c}


def offending(text: str, lang: str) -> list[str]:
    """The foreign labels and raw codes that ``text`` shows."""
    text = " ".join(text.split())
    hits = [label for label in foreign_labels(lang)
            if re.search(r"(?<![\w-])" + re.escape(label) + r"(?![\w-])", text)]
    hits += [code for code in raw_codes() if re.search(r"(?<![\w.])" + code + r"(?![\w])", text)]
    return sorted(hits)


def visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL)
    alts = " ".join(re.findall(r'<img\b[^>]*\balt="([^"]*)"', page))
    page = re.sub(r"<img\b[^>]*>", " ", page)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page) + " " + alts)


def manifest_free(text: str, lang: str) -> str:
    """The text before the manifest (its keys and versions are identifiers, not labels)."""
    head = TEXTS[lang]["h_manifest"]
    return text.split(head)[0] if head in text else text


def test_every_vocabulary_entry_has_both_languages():
    for kind, entries in VOCABULARY.items():
        for code, pair in entries.items():
            assert len(pair) == len(LANGUAGES) and all(p.strip() for p in pair), (kind, code)
    assert set(CATEGORY_LABELS["da"]) == set(CATEGORY_LABELS["en"])


def test_every_code_the_engine_and_a_bundle_use_has_a_label(tmp_path):
    assert set(MODEL_DESCRIPTIONS) <= set(VOCABULARY["model"])
    bundle = Bundle.open(make_bundle(tmp_path / "results"))
    for outcome in bundle.outcomes:
        for row in outcome["estimates"]:
            assert row["model"] in VOCABULARY["model"], row["model"]
            assert row["analysis"] in VOCABULARY["analysis"], row["analysis"]
            assert row["term"] is None or row["term"] in VOCABULARY["term"], row["term"]
    for code in bundle.named_table("attrition")["code"]:
        assert code in VOCABULARY["attrition"], code


def test_the_check_finds_a_foreign_label_and_a_raw_code():
    assert offending("Kontakt og Sammenligning, 95 %-KI", "da") == []
    assert "Comparison" in offending("Kontakt og Comparison", "da")
    assert "kaplan_meier" in offending("Model: kaplan_meier", "en")
    assert "Sammenligning" in offending("Contacted and Sammenligning", "en")


def test_curve_figure_text_is_in_the_page_language(tmp_path):
    from evaluation.report.cells import build_checker
    from evaluation.report.figures import curve_figure

    bundle = Bundle.open(make_bundle(tmp_path / "results"))
    outcome = bundle.outcomes[0]
    curve = bundle.table(outcome["tables"]["curve"])
    risk = bundle.table(outcome["tables"]["at_risk"])
    check = build_checker(bundle, "2026Q3", 5)
    for lang in LANGUAGES:
        fig = curve_figure(curve, risk, outcome["label"][lang], lang, check, outcome["id"])
        shown = " ".join(t.get_text() for t in fig.findobj(
            lambda a: hasattr(a, "get_text") and a.get_text()))
        assert offending(shown, lang) == [], lang


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("doc", ["quarterly", "technical"])
def test_rendered_pages_show_only_their_own_language(rendered_reports, lang, doc):
    path = rendered_reports["paths"][(lang, doc)]
    text = manifest_free(visible_text(path.read_text(encoding="utf-8")), lang)
    assert offending(text, lang) == [], ("html", lang, doc)
    pdftotext = shutil.which("pdftotext")
    if pdftotext:
        pdf = subprocess.run([pdftotext, str(path.with_suffix(".pdf")), "-"], check=True,
                             capture_output=True, text=True).stdout
        assert offending(manifest_free(pdf, lang), lang) == [], ("pdf", lang, doc)


def _figure_text(fig) -> str:
    return " ".join(t.get_text() for t in fig.findobj(
        lambda a: hasattr(a, "get_text") and a.get_text()))


def test_balance_overlap_and_forest_figures_are_in_the_page_language(tmp_path):
    import pandas as pd

    from evaluation.report.cells import build_checker
    from evaluation.report.figures import balance_figure, forest_figure, overlap_figure

    bundle = Bundle.open(make_bundle(tmp_path / "results"))
    check = build_checker(bundle, "2026Q3", 5)
    covariates = bundle.cohort.get("covariates") or {}
    forest = pd.DataFrame([{"label": o["label"][lang], "analysis": analysis, "hazard_ratio": 0.9,
                            "low": 0.7, "high": 1.1}
                           for o in bundle.outcomes[:2] for analysis in ("matched", "naive")
                           for lang in ["en"]])
    for lang in LANGUAGES:
        labels = {str(k): (v.get(lang, k) if isinstance(v, dict) else str(v))
                  for k, v in covariates.items()}
        figures = {
            "balance": balance_figure(bundle.named_table("balance"), 0.1, labels, lang, check),
            "overlap": overlap_figure(bundle.named_table("propensity"), lang, check),
            "forest": forest_figure(forest.assign(label=[o["label"][lang] for o in bundle.outcomes[:2]
                                                         for _ in range(2)]), lang),
        }
        for name, fig in figures.items():
            shown = _figure_text(fig)
            assert shown.strip(), name
            assert offending(shown, lang) == [], (name, lang)
            if lang == "da":  # the analysis codes, whatever their case
                assert not re.search(r"\b(matched|naive)\b", shown, re.IGNORECASE), name


def test_disclosure_rules_are_named_in_the_page_language():
    from evaluation.disclosure import Checker
    from evaluation.report.texts import rule_label

    check = Checker(threshold=5)
    total = check.count("t", 20)
    check.relation(total, [check.count("a", 2), check.count("b", 18)])
    check.estimate("share", 0.1, keys=["a", total])
    check.estimate("curve", 0.5, keys=[total], at_risk=3)
    check.solve()
    rules = check.rules_applied()
    assert len(rules) >= 3
    for lang in LANGUAGES:
        shown = " ".join(rule_label(r, lang) for r in rules)
        assert offending(shown, lang) == [], (lang, shown)
        assert not any(rule_label(r, lang) == r for r in rules if lang == "da"), rules
