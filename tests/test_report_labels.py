"""Labels are text, not markup: every string from a study file, plan, cohort definition or the
data reaches a report escaped as plain text (no link, script, style or emphasis)."""

from __future__ import annotations

import html as htmllib
import json
import re

import pandas as pd
import pytest
from bundle_factory import make_bundle

from evaluation.report import fmt

LINK = "[x](javascript:alert(3))"
SCRIPT = "<script>alert(1)</script>"
STYLE = '<style>body{display:none}</style><b onmouseover="alert(2)">**bold**</b>'
HOSTILE = (LINK, SCRIPT, STYLE, "![img](http://example.org/a.png)", "$x^2$ `code` <http://e.org>",
           "_em_ and __strong__ and ~~gone~~")


def _markdown_to_html(text: str) -> str:
    """Markdown as the report renderer without Quarto converts it (nbconvert's mistune)."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    page = markdown2html_mistune(text)
    # the heading anchors nbconvert adds are links to the page itself ("#..."): not injected
    return re.sub(r'<a class="anchor-link" href="#[^"]*">&#182;</a>', "", page)


@pytest.mark.parametrize("label", HOSTILE)
def test_plain_shows_markdown_and_html_as_the_characters_themselves(label):
    page = _markdown_to_html(f"# Outcome {fmt.plain(label)}\n\nText *{fmt.plain(label)}*\n")
    assert "<a " not in page and "<script" not in page and "<style" not in page
    assert "<img" not in page and "<b " not in page and "<code" not in page
    assert "<em" not in page.replace("<em>", "", 1) and "<strong" not in page and "<del" not in page
    assert htmllib.unescape(re.sub(r"<[^>]+>", "", page)).count(label) == 2
    assert fmt.plain(label, "html") == htmllib.escape(label, quote=True)
    assert "\n" not in fmt.plain("a\n# b") and "\n" not in fmt.plain("a\r\nb", "html")


def _hostile_bundle(tmp_path):
    path = make_bundle(tmp_path / "results")
    est = json.loads((path / "estimates.json").read_text(encoding="utf-8"))
    est["study"]["name"] = f"Study {STYLE}"
    for i, outcome in enumerate(est["outcomes"]):
        outcome["label"] = {"da": f"{HOSTILE[i % len(HOSTILE)]} da", "en": f"{LINK} en"}
    est["cohort"]["covariates"]["charges_6m"] = {"da": SCRIPT, "en": SCRIPT}
    (path / "estimates.json").write_text(json.dumps(est), encoding="utf-8")
    contacts = pd.read_parquet(path / "tables" / "contacts.parquet")
    extra = contacts[contacts["dimension"] == "contact_type"].head(1).assign(category=LINK)
    pd.concat([contacts, extra]).to_parquet(path / "tables" / "contacts.parquet", index=False)
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    manifest["inputs"][f"plan/{LINK}.toml"] = SCRIPT
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return path


@pytest.mark.parametrize("output", ["html", "pdf"])
def test_hostile_labels_in_bundle_render_as_text_in_every_report_part(tmp_path, monkeypatch, output):
    import IPython.display

    from evaluation.report.present import Report

    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kwargs: shown.append(obj))
    report = Report(_hostile_bundle(tmp_path), "2026Q3", "da", 5, output=output)
    for part in ("title", "summary", "covers", "words", "results", "contacts", "comparison",
                 "as_of", "design", "attrition", "balance", "naive_vs_matched", "outcome_sections",
                 "manifest"):
        method = getattr(report, part)
        method("quarterly") if part == "title" else method()
    pages = []
    for obj in shown:
        if type(obj).__name__ == "Markdown":
            pages.append(_markdown_to_html(obj.data))
        elif type(obj).__name__ == "HTML":
            pages.append(obj.data)
    page = "\n".join(pages)
    page = page.replace(report_style(), "")
    # the report's own figures: an embedded image whose alt text is escaped
    figure = r'<figure class="report-figure"><img src="data:image/png;base64,[A-Za-z0-9+/=]*"(?: style="[^"<>]*")? alt="[^"<>]*"></figure>'
    assert output == "pdf" or re.search(figure, page)
    page = re.sub(figure, "", page)
    assert not re.search(r"""(href|src)=["']?(javascript|http)""", page)
    assert not re.search(r"<a\b", page)
    assert not re.search(r"<script\b", page) and not re.search(r"<style\b", page)
    assert not re.search(r"<b\b", page) and not re.search(r"<img\b", page)
    visible = htmllib.unescape(re.sub(r"<[^>]+>", "", page))
    assert LINK in visible and SCRIPT in visible


def report_style() -> str:
    from evaluation.report.present import STYLE as CSS

    return CSS
