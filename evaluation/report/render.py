"""Rendering the report templates (``reports/*.qmd``).

With Quarto on PATH: ``quarto render`` with ``-P`` parameters, each render in its own temporary
folder (Quarto reuses a ``*_files/`` folder per document), then moved into place atomically.
Without Quarto, the same ``.qmd`` becomes self-contained HTML: the front matter, Markdown and
```` ```{python} ```` cells are parsed into a notebook (Quarto's ``#|`` options ``echo``,
``output``, ``include`` and ``tags`` are honoured), the parameters are injected after the
``parameters`` cell, the notebook is executed with nbclient (kernel ``python3``) and converted with
nbconvert's HTMLExporter (outputs only, images embedded as data URIs, no external scripts).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..atomic import atomic_path
from ..errors import EvaluationError

TEMPLATES = Path(__file__).resolve().parents[2] / "reports"
DOCUMENTS = ("quarterly", "technical")

_CELL = re.compile(r"^```\{python\}[^\n]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
_OPTION = re.compile(r"^#\|\s*([\w-]+)\s*:\s*(.*)$")

# An nbconvert template without the CDN scripts (require.js, MathJax, mermaid) of the lab template.
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


class RenderError(EvaluationError):
    """A report could not be rendered."""


class KernelStopped(RenderError):
    """The Python kernel that runs a report stopped, or never started (not the user's input)."""

    exit_code = 1


def quarto_available() -> bool:
    """True when the Quarto CLI is on PATH."""
    return shutil.which("quarto") is not None


def _value(text: str) -> Any:
    text = text.strip()
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if text.startswith("[") and text.endswith("]"):
        return [v.strip().strip("'\"") for v in text[1:-1].split(",") if v.strip()]
    return text.strip("'\"")


def parse_qmd(source: str) -> tuple[str, list[tuple[str, str, dict[str, Any]]]]:
    """Split a ``.qmd`` document into its YAML front matter and its cells.

    Returns
    -------
    (str, list)
        The front matter text and a list of ``(kind, source, options)`` with ``kind`` "markdown"
        or "code"; ``options`` are the cell's ``#|`` options (code cells only).
    """
    front = ""
    if source.startswith("---"):
        end = source.find("\n---", 3)
        if end > 0:
            front = source[3:end].strip("\n")
            source = source[source.find("\n", end + 1) + 1:]
    cells: list[tuple[str, str, dict[str, Any]]] = []
    pos = 0
    for match in _CELL.finditer(source):
        md = source[pos:match.start()].strip()
        if md:
            cells.append(("markdown", md, {}))
        options: dict[str, Any] = {}
        code_lines = []
        for line in match.group(1).splitlines():
            opt = _OPTION.match(line)
            if opt and not code_lines:
                options[opt.group(1)] = _value(opt.group(2))
            else:
                code_lines.append(line)
        cells.append(("code", "\n".join(code_lines).strip("\n"), options))
        pos = match.end()
    tail = source[pos:].strip()
    if tail:
        cells.append(("markdown", tail, {}))
    return front, cells


def qmd_to_notebook(path: Path, params: dict[str, Any]):
    """A notebook from a ``.qmd`` file with ``params`` injected after its ``parameters`` cell."""
    import nbformat

    front, cells = parse_qmd(path.read_text(encoding="utf-8"))
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    title = re.search(r"^title:\s*(.+)$", front, re.MULTILINE)
    if title:
        nb.metadata["title"] = title.group(1).strip().strip("'\"")
    injected = False
    for kind, source, options in cells:
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
            continue
        if options.get("include") is False:
            continue
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["quarto"] = options
        tags = options.get("tags") or []
        cell.metadata["tags"] = list(tags) if isinstance(tags, list) else [tags]
        nb.cells.append(cell)
        if "parameters" in cell.metadata["tags"]:
            nb.cells.append(_parameter_cell(params))
            injected = True
    if not injected:
        nb.cells.insert(0, _parameter_cell(params))
    return nb


def _parameter_cell(params: dict[str, Any]):
    import nbformat

    source = "\n".join(f"{k} = {v!r}" for k, v in params.items())
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["injected-parameters"]
    return cell


def kernel_config(work: str | os.PathLike[str]):
    """Kernel settings for one render: the kernel talks over Unix sockets in ``work``.

    Over TCP, jupyter_client picks free ports, closes them and lets the kernel bind them a
    moment later; a kernel started at the same time (the two renders running side by side, or
    another program) can take a port in between, and the kernel then dies at start-up
    ("Kernel died before replying to kernel_info", jupyter/jupyter_client#154). Socket files in
    the render's own folder cannot collide.
    """
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(Path(work) / "kernel")
    return config


def execute(qmd: Path, params: dict[str, Any], title: str = "", timeout: int = 300):
    """Run ``qmd`` as a notebook (nbclient, kernel ``python3``); return the executed notebook.

    Outputs of cells marked ``output: false`` and stream output (stray prints, warnings) are
    dropped, so only what the report displays is left.
    """
    import atexit

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = qmd_to_notebook(qmd, params)
    if title:
        nb.metadata["title"] = title
    with tempfile.TemporaryDirectory(prefix="report-") as work:
        client = NotebookClient(nb, timeout=timeout, startup_timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": work}}, config=kernel_config(work))
        try:
            client.execute(stderr=subprocess.DEVNULL)  # the kernel's own log lines
        except CellExecutionError as exc:
            last = [ln for ln in str(exc).strip().splitlines() if ln.strip()][-1:]
            raise RenderError(f"{qmd.name}: a cell failed: {' '.join(last)}") from None
        except RuntimeError as exc:  # nbclient's DeadKernelError, or the kernel never started
            raise KernelStopped(f"{qmd.name}: the Python kernel that runs the report stopped "
                              f"({exc}); no report was written, run `evaluation report` again") from None
        finally:
            # nbclient leaves its exit-time clean-up registered when the kernel failed to start;
            # at exit it then fails with a bare AssertionError (jupyter/nbclient#126)
            atexit.unregister(client._cleanup_kernel)
    for cell in nb.cells:
        options = cell.metadata.get("quarto", {})
        if options.get("output") is False:
            cell.outputs = []
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if o.get("output_type") != "stream"]
    return nb


def render_fallback(qmd: Path, params: dict[str, Any], target: Path, title: str = "",
                    lang: str = "da", timeout: int = 300) -> Path:
    """Render ``qmd`` to self-contained HTML at ``target`` without Quarto (nbclient + nbconvert)."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    nb = execute(qmd, params, title, timeout)
    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"report.html.j2": _TEMPLATE})],
                            template_file="report.html.j2", exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True,
                            embed_images=True)
    exporter.language_code = lang
    body, _ = exporter.from_notebook_node(nb)
    with atomic_path(target, mode=0o644) as tmp:
        tmp.write_text(body, encoding="utf-8")
    return target


def render_quarto(qmd: Path, params: dict[str, Any], target: Path, fmt: str, lang: str) -> Path:
    """Render ``qmd`` with Quarto into a temporary copy of ``reports/``, then move it to ``target``."""
    to = "html" if fmt == "html" else "typst"
    with tempfile.TemporaryDirectory(prefix="quarto-") as work:
        work_dir = Path(work) / "reports"
        shutil.copytree(qmd.parent, work_dir)
        cmd = ["quarto", "render", qmd.name, "--to", to, "-M", f"lang:{lang}", "--output", target.name]
        for k, v in params.items():
            cmd += ["-P", f"{k}:{v}"]
        env = dict(os.environ, QUARTO_PYTHON=sys.executable)  # the kernel that has this package
        proc = subprocess.run(cmd, check=False, cwd=work_dir, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            tail = " ".join(proc.stderr.strip().splitlines()[-3:])
            raise RenderError(f"quarto render {qmd.name} failed: {tail}")
        produced = work_dir / target.name
        if not produced.exists():
            found = list(work_dir.rglob(target.name))
            if not found:
                raise RenderError(f"quarto render {qmd.name} did not produce {target.name}")
            produced = found[0]
        with atomic_path(target, mode=0o644) as tmp:
            shutil.copyfile(produced, tmp)
    return target
