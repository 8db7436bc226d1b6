"""PDF of a report without Quarto: the executed template as Markdown, Typst by pandoc, PDF by Typst.

This is the toolchain Quarto itself uses for ``format: typst``, installed from the package index
alone: pandoc from ``pypandoc-binary`` writes Typst and the ``typst`` package compiles it. The
template runs with ``output="pdf"`` (:class:`evaluation.report.present.Report` then displays
Markdown, with every count as a ``[n]{.count}`` span and every figure as SVG with its alt text in
the output's metadata). Steps:

1. the displayed outputs become one Markdown document, figures written beside it;
2. the disclosure check of the HTML reports runs on that document (pandoc to HTML, then
   :func:`evaluation.disclosure.scan_html_counts`): a count below the threshold stops the render;
3. pandoc writes Typst (A4, the page language, headings kept with what follows them, tables
   allowed to run over pages with their header repeated) and Typst compiles it with the DejaVu
   fonts that matplotlib ships, embedded in the PDF; system fonts are not used, so the PDF is the
   same on every machine.
"""

from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path
from typing import Any

from .. import disclosure
from ..atomic import atomic_path
from .render import RenderError, execute

#: Mime types of figures, in order of preference, and their file extensions.
FIGURE_TYPES = {"image/svg+xml": "svg", "image/png": "png"}
FONT = "DejaVu Sans"
REGION = {"da": "DK", "en": "GB"}

#: Typst rules added to pandoc's default Typst template.
TYPST_RULES = """\
#set par(justify: false)
#show heading: set block(sticky: true)
#show figure: set block(breakable: true)
#show figure.where(kind: image): set block(breakable: false)
#show table: set text(size: 8.5pt)
#set table(stroke: (x, y) => (bottom: if y == 0 { 0.8pt } else { 0.3pt + luma(190) }))
#show heading.where(level: 1): set text(size: 17pt)
#show heading.where(level: 2): set text(size: 13pt)
#show heading.where(level: 3): set text(size: 11pt)
#show link: set text(fill: rgb("#1b5e8f"))
"""


def font_dir() -> Path:
    """Folder of the TrueType fonts matplotlib ships (DejaVu Sans and Serif)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def typst_string(value: str) -> str:
    """``value`` as a Typst string literal."""
    return json.dumps(value, ensure_ascii=False)


def _figure(data: dict[str, Any], metadata: dict[str, Any], media: Path, number: int) -> str:
    mime = next(m for m in FIGURE_TYPES if m in data)
    path = media / f"figure-{number}.{FIGURE_TYPES[mime]}"
    content = data[mime]
    if mime == "image/png":
        path.write_bytes(base64.b64decode(content))
    else:
        path.write_text(content if isinstance(content, str) else "".join(content), encoding="utf-8")
    alt = str(metadata.get("alt") or "")
    if not alt:
        raise RenderError(f"figure {number} has no alt text")
    width = int(metadata.get("width") or 100)
    image = f"image({typst_string(path.name)}, alt: {typst_string(alt)}, width: {width}%)"
    return f"```{{=typst}}\n#figure({image})\n```"


def notebook_markdown(nb: Any, media: Path) -> str:
    """The displayed outputs of an executed report notebook as one Markdown document.

    Figures are written into ``media`` and placed as Typst figures with their alt text. An HTML
    output (which the PDF could not show) is an error rather than a silently missing part.
    """
    parts: list[str] = []
    figures = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") not in ("display_data", "execute_result"):
                continue
            data = out.get("data", {})
            if any(m in data for m in FIGURE_TYPES):
                figures += 1
                parts.append(_figure(data, out.get("metadata", {}), media, figures))
            elif "text/markdown" in data:
                parts.append(data["text/markdown"])
            elif "text/html" in data:
                raise RenderError("an HTML-only part cannot be shown in the PDF")
    return "\n\n".join(parts) + "\n"


def check_counts(markdown: str, threshold: int, name: str) -> int:
    """The disclosure check of the HTML reports on the PDF's Markdown; returns the counts seen."""
    import pypandoc

    page = pypandoc.convert_text(markdown, "html", format="markdown")
    found, bad = disclosure.scan_html_counts(page, threshold)
    if bad:
        raise RenderError(f"{name}: {len(bad)} count(s) below the disclosure threshold "
                          f"{threshold} would be published; no PDF written")
    return found


def to_typst(markdown: str, lang: str, title: str) -> str:
    """Typst source of ``markdown`` (pandoc's default Typst template, A4, the page language)."""
    import pypandoc

    rules = f"#set document(title: {typst_string(title)})\n{TYPST_RULES}"
    args = ["--standalone", "--columns=100000", "-V", "papersize=a4", "-V", f"lang={lang}",
            "-V", f"region={REGION.get(lang, '')}", "-V", f"mainfont={FONT}",
            "-V", "fontsize=10pt", "-V", "margin.x=2cm", "-V", "margin.y=2.2cm",
            "-V", "page-numbering=1", "-V", f"header-includes={rules}"]
    return pypandoc.convert_text(markdown, "typst", format="markdown-implicit_figures",
                                 extra_args=args)


def compile_pdf(source: str, root: Path) -> bytes:
    """Compile Typst ``source`` (figures relative to ``root``) with embedded DejaVu fonts."""
    import typst

    main = root / "report.typ"
    main.write_text(source, encoding="utf-8")
    try:
        return typst.compile(str(main), root=str(root), font_paths=[str(font_dir())],
                             ignore_system_fonts=True)
    except typst.TypstError as exc:
        raise RenderError(f"Typst could not compile the report: {exc.message}") from None


def render_pdf(qmd: Path, params: dict[str, Any], target: Path, title: str = "",
               lang: str = "da", timeout: int = 300) -> Path:
    """Render ``qmd`` to PDF at ``target`` without Quarto (see the module docstring).

    ``params`` must have ``output="pdf"`` and the ``threshold`` of the disclosure check.
    """
    nb = execute(qmd, {**params, "output": "pdf"}, title, timeout)
    with tempfile.TemporaryDirectory(prefix="report-pdf-") as work:
        root = Path(work)
        markdown = notebook_markdown(nb, root)
        check_counts(markdown, int(params.get("threshold", disclosure.DEFAULT_SUPPRESSION_THRESHOLD)),
                     target.name)
        pdf = compile_pdf(to_typst(markdown, lang, title or qmd.stem), root)
    with atomic_path(target, mode=0o644) as tmp:
        tmp.write_bytes(pdf)
    return target
