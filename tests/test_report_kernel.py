"""The Python kernel that runs a report: it talks over Unix sockets in the render's own folder
(no TCP port that a kernel started at the same moment could take), and a kernel that dies gives
one clear message, not an internal error ending in a bare AssertionError."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bundle_factory import make_study

from evaluation.report.render import execute


def test_the_kernel_talks_over_sockets_in_the_render_folder(tmp_path):
    qmd = tmp_path / "probe.qmd"
    qmd.write_text("---\ntitle: probe\n---\n\n```{python}\n"
                   "from IPython.display import display\n"
                   "from ipykernel import get_connection_info\n"
                   "info = get_connection_info(unpack=True)\n"
                   "display({'text/plain': info['transport'] + ' ' + info['ip']}, raw=True)\n```\n",
                   encoding="utf-8")
    nb = execute(qmd, {})
    [cell] = [c for c in nb.cells if c.cell_type == "code" and "get_connection_info" in c.source]
    transport, ip = cell.outputs[0]["data"]["text/plain"].split(" ", 1)
    assert transport == "ipc"
    assert os.path.basename(ip) == "kernel" and os.path.basename(os.path.dirname(ip)).startswith("report-")


def test_a_kernel_that_dies_at_start_gives_one_clear_message(tmp_path):
    """A kernel that cannot start (here: a kernel spec that exits at once; in the demo run of
    issue 16 a port taken by a kernel started at the same moment) used to end as exit 70,
    "internal error: RuntimeError: Kernel died before replying to kernel_info", followed by
    nbclient's bare AssertionError at exit."""
    study = make_study(tmp_path / "study", languages=("en",))
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": ["/bin/sh", "-c", "exit 1", "{connection_file}"],
        "display_name": "a kernel that dies", "language": "python"}), encoding="utf-8")
    env = {**os.environ, "JUPYTER_PATH": str(tmp_path / "jupyter"),
           "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    run = subprocess.run([sys.executable, "-m", "evaluation", "report", str(study),
                          "--format", "html"], capture_output=True, text=True, env=env,
                         timeout=300, check=False)
    assert run.returncode == 1, run.stderr
    assert "AssertionError" not in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert "internal error" not in run.stderr
    errors = [ln for ln in run.stderr.splitlines() if ln.startswith("Error")]
    assert len(errors) == 1 and "the Python kernel that runs the report stopped" in errors[0], \
        run.stderr
    assert not list((tmp_path / "study" / "output").rglob("*.html"))
