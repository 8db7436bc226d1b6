"""The PDF reports as a reader sees them: pages rendered to images (poppler's pdftoppm), fonts,
text per page, and the disclosure check of the PDF route."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from evaluation.report.pdf import check_counts, notebook_markdown
from evaluation.report.render import RenderError
from evaluation.report.texts import TEXTS

PAGES = Path(__file__).parent / "output" / "pdf-pages"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"{name} (poppler-utils) is missing but REQUIRE_BROWSER=1")
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return path


def _pdfs(rendered_reports):
    return {key: path.with_suffix(".pdf") for key, path in rendered_reports["paths"].items()}


def _page_texts(pdf: Path) -> list[str]:
    out = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    return out.split("\f")[:-1] if out.endswith("\f") else out.split("\f")


def test_both_documents_are_written_as_pdf_in_both_languages(rendered_reports):
    for key, pdf in _pdfs(rendered_reports).items():
        assert pdf.read_bytes()[:5] == b"%PDF-", key
    assert not list(rendered_reports["dir"].rglob(".*.tmp"))


@pytest.mark.parametrize("lang", ["da", "en"])
@pytest.mark.parametrize("doc", ["quarterly", "technical"])
def test_pdf_pages_render_and_read_as_a_report(rendered_reports, lang, doc):
    pdf = _pdfs(rendered_reports)[(lang, doc)]
    fonts = subprocess.run([_tool("pdffonts"), str(pdf)], check=True, capture_output=True,
                           text=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # "emb" column

    target = PAGES / f"{doc}_{lang}"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    subprocess.run([_tool("pdftoppm"), "-r", "40", "-png", str(pdf), str(target / "page")],
                   check=True, capture_output=True)
    pages = sorted(target.glob("page-*.png"))
    texts = _page_texts(pdf)
    assert len(pages) == len(texts) >= (2 if doc == "quarterly" else 6)
    import matplotlib.image

    for png in pages:  # every page carries ink: no blank page
        pixels = matplotlib.image.imread(png)[..., :3]
        assert pixels.shape[0] > pixels.shape[1]  # A4 portrait
        assert (pixels < 0.5).mean() > 0.002, png.name

    title = TEXTS[lang]["title_" + doc].format(quarter="2026Q3")
    assert title.split(":")[0] in texts[0]
    # no heading is left alone at the bottom of a page
    headings = {v.format(label="").strip() for k, v in TEXTS[lang].items()
                if k.startswith("h_") and "{" not in v.replace("{label}", "")}
    for number, page in enumerate(texts[:-1], start=1):
        lines = [ln.strip() for ln in page.splitlines() if ln.strip()]
        body = [ln for ln in lines if not ln.isdigit()]  # the page number
        assert body and body[-1] not in headings, (doc, lang, number, body[-1:])
    if doc == "quarterly":
        whole = " ".join(" ".join(t.split()) for t in texts)
        assert TEXTS[lang]["h_box"] in whole


def test_pdf_route_refuses_a_count_below_the_threshold():
    ok = "I alt [12]{.count} unge; [<5]{.count} var yngre.\n\n| a | b |\n|---|---|\n| x | [7]{.count} |\n"
    assert check_counts(ok, 5, "quarterly.pdf") == 3
    with pytest.raises(RenderError, match="below the disclosure threshold 5"):
        check_counts(ok + "\n\n| y | [3]{.count} |\n", 5, "quarterly.pdf")


def test_figures_without_alt_text_are_not_put_in_a_pdf(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg/>"})]
    nb.cells.append(cell)
    with pytest.raises(RenderError, match="no alt text"):
        notebook_markdown(nb, tmp_path)
    cell.outputs[0]["metadata"] = {"alt": 'Figur: "andel" med kontakt'}
    md = notebook_markdown(nb, tmp_path)
    assert 'alt: "Figur: \\"andel\\" med kontakt"' in md
    assert (tmp_path / "figure-1.svg").read_text() == "<svg/>"
