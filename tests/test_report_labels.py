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


# one family per outcome of the bundle factory; with the labels above every hostile text is used
FAMILIES = (HOSTILE[0], HOSTILE[1], f"- {LINK}", f"1. {SCRIPT}")


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
        outcome["label"] = {"da": f"{HOSTILE[(i + 2) % len(HOSTILE)]} da", "en": f"{LINK} en"}
        # the family code is shown as it is in the council summary's bullets
        outcome["family"] = FAMILIES[i]
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
            if output == "pdf":  # Quarto and the PDF route read the Markdown with pandoc
                pages.append(_pandoc_to_html(obj.data))
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
    # (the report's own captions are <em>, its findings <strong>: a label's emphasis shows as text)
    assert not re.search(r"<(code|del|sup|sub|math|li>\s*<ol|li>\s*<ul)\b", page)
    assert 'class="math' not in page and "<hr" not in page
    visible = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    for label in (*HOSTILE, *FAMILIES):
        assert label in visible, label


def _pandoc_to_html(text: str) -> str:
    import pypandoc

    return pypandoc.convert_text(text, "html", format="markdown")


def report_style() -> str:
    from evaluation.report.present import STYLE as CSS

    return CSS


def _shown(report_parts, output, tmp_path, monkeypatch):
    import IPython.display

    from evaluation.report.present import Report

    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kwargs: shown.append(obj))
    report = Report(_hostile_bundle(tmp_path), "2026Q3", "da", 5, output=output)
    for part in report_parts:
        getattr(report, part)()
    return shown


def test_figure_labels_are_drawn_as_text_not_math(tmp_path, monkeypatch):
    """matplotlib reads "$...$" as math text; in a report's figure it is the label itself."""
    shown = _shown(["outcome_sections"], "pdf", tmp_path, monkeypatch)
    drawn = []  # the lettering of every figure (the SVG keeps it as text elements)
    for obj in shown:
        if isinstance(obj, dict) and "image/svg+xml" in obj:
            for element in re.findall(r"<text\b[^>]*>(.*?)</text>", obj["image/svg+xml"], re.DOTALL):
                drawn.append(htmllib.unescape(re.sub(r"<[^>]+>", "", element)).strip())
    assert f"{HOSTILE[4]} da" in drawn  # a curve's title: "$x^2$" is not drawn as x squared
    assert f"{HOSTILE[5]} da" in drawn


def _render(tmp_path, output):
    from evaluation.report.pdf import render_pdf
    from evaluation.report.render import TEMPLATES, render_fallback

    bundle = _hostile_bundle(tmp_path)
    paths = []
    for doc in ("quarterly", "technical"):
        params = {"bundle": str(bundle), "quarter": "2026Q3", "lang": "da", "threshold": 5,
                  "output": output, "override": "", "earlier": ""}
        target = tmp_path / f"{doc}.{output}"
        render = render_pdf if output == "pdf" else render_fallback
        paths.append(render(TEMPLATES / f"{doc}.qmd", params, target, lang="da", title=doc))
    return paths


def _labels_visible(text: str) -> None:
    visible = " ".join(text.split())
    for label in (*HOSTILE, *FAMILIES):
        assert label in visible, label


def test_hostile_labels_are_text_in_the_rendered_html(tmp_path):
    texts = []
    for path in _render(tmp_path, "html"):
        page = path.read_text(encoding="utf-8")
        assert "<script" not in page and "javascript:" not in page.replace("javascript:alert(3)", "")
        assert not re.search(r"""(href|src)=["']?(javascript|http)""", page)
        assert not re.search(r'<a\b(?![^>]*href="#)', page)  # only the page's own anchors
        assert "<style>body{display:none}" not in page and "<b " not in page
        texts.append(htmllib.unescape(re.sub(r"<[^>]+>", " ", page)))
    _labels_visible("\n".join(texts))  # the families are in the council report only


def test_hostile_labels_are_text_in_the_rendered_pdf(tmp_path):
    import shutil
    import subprocess

    pdftotext, pdfinfo = shutil.which("pdftotext"), shutil.which("pdfinfo")
    if pdftotext is None or pdfinfo is None:
        pytest.skip("poppler-utils are not installed")
    texts = []
    for path in _render(tmp_path, "pdf"):
        urls = subprocess.run([pdfinfo, "-url", str(path)], check=True, capture_output=True,
                              text=True).stdout
        assert "javascript" not in urls and "http" not in urls, urls
        texts.append(subprocess.run([pdftotext, "-nopgbrk", str(path), "-"], check=True,
                                    capture_output=True, text=True).stdout)
    _labels_visible("\n".join(texts))


def test_only_markup_the_report_built_is_shown_as_markup():
    assert fmt.fill("{a} and {b}: 100%", "markdown", a="*x*", b=fmt.Markup("[3]{.count}")) == \
        "\\*x\\* and [3]{.count}: 100%"
    assert fmt.fill("<{a}>", "html", a="<b>") == "&lt;&lt;b&gt;&gt;"
    assert fmt.markup(fmt.Markup("<b>x</b>", "html"), "html") == "<b>x</b>"
    assert fmt.markup("<b>x</b>" + fmt.Markup("", "html"), "html") == "&lt;b&gt;x&lt;/b&gt;"
    with pytest.raises(ValueError, match="html markup shown in a markdown part"):
        fmt.markup(fmt.Markup("<b>x</b>", "html"), "markdown")
    assert fmt.plain("- x") == "\\- x" and fmt.plain("1. x") == "1\\. x"
    assert fmt.plain("0.300") == "0.300" and fmt.plain("see http://e.org") == "see http\\://e.org"
