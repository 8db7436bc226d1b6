"""`evaluation report`: the council report and the technical appendix from a results bundle."""

from __future__ import annotations

import click


@click.command("report")
@click.argument("study_file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--quarter", help="Report quarter, e.g. 2026Q3 (default: the study's [report] "
              "quarter, else the quarter of the data end date).")
@click.option("--lang", "langs", type=click.Choice(["da", "en"]), multiple=True,
              help="Language (repeatable; default: the study's [report] languages, Danish first).")
@click.option("--format", "formats", type=click.Choice(["html", "pdf"]), multiple=True,
              help="Output format (repeatable; default: the study's [report] formats, HTML "
                   "and PDF).")
def command(study_file: str, quarter: str | None, langs: tuple[str, ...],
            formats: tuple[str, ...]) -> None:
    """Render quarterly.html (council) and technical.html (evaluators) for STUDY_FILE.

    \b
    Reads the results bundle <output>/<quarter>/results/ written by `evaluation analyse` for the
    same quarter (a bundle made for another quarter is refused) and writes
    <output>/<quarter>/report/<lang>/quarterly.html and technical.html, and .pdf of both.
    Renders with Quarto when `quarto` is on PATH; otherwise the same templates are executed with
    a Jupyter kernel and converted to self-contained HTML, and to PDF with pandoc and Typst
    (installed with the package). A count below the disclosure threshold stops a PDF.
    """
    import os
    import shutil
    import tempfile
    import time
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    from ..atomic import locks, remove_stale_temps
    from ..disclosure.record import record_path
    from ..errors import ConfigError, EvaluationError
    from ..keys import check_study_inputs
    from ..progress import echo, info
    from ..quarters import report_quarter
    from ..report.bundle import Bundle
    from ..report.pdf import render_pdf
    from ..report.render import (
        DOCUMENTS,
        TEMPLATES,
        quarto_available,
        render_fallback,
        render_quarto,
    )
    from ..report.texts import LANGUAGES, text
    from ..study import load_study

    study = load_study(study_file)
    q = report_quarter(study, quarter)
    quarter = q.label
    held = locks(write=[study.output], read=[study.warehouse])
    held.__enter__()  # released when the command ends (ctx.call_on_close)
    click.get_current_context().call_on_close(lambda: held.__exit__(None, None, None))
    check_study_inputs("report", warehouse=study.warehouse, cohort=study.cohort_dir(q),
                       bundle=study.results_dir(q))
    remove_stale_temps(study.report_dir(q))  # staging folders of killed runs
    bundle = Bundle.open(study.results_dir(q))  # a clear message when `analyse` has not run
    made_for = bundle.study.get("quarter")
    if made_for != quarter:
        raise EvaluationError(f"{study.results_dir(q)}: the results bundle was made for "
                              f"{made_for or 'no stated quarter'}, not {quarter}; run "
                              f"`evaluation analyse --quarter {quarter}`")
    if bundle.study.get("scope", "full") != "full":
        raise EvaluationError(f"{study.results_dir(q)}: the results bundle of {quarter} was built "
                              "only as far as the tracking series needs (the primary outcomes); "
                              f"run `evaluation analyse --quarter {quarter}` for the full bundle")
    langs = langs or study.report.languages
    for lang in langs:
        if lang not in LANGUAGES:
            raise ConfigError(f"unknown language {lang!r} (expected da or en)", file=str(study.path),
                              key="report.languages")
    formats = formats or study.report.formats
    for f in formats:
        if f not in ("html", "pdf"):
            raise ConfigError(f"unknown format {f!r} (expected html or pdf)", file=str(study.path),
                              key="report.formats")

    use_quarto = quarto_available()
    renderer = "Quarto" if use_quarto else ("built-in renderer (Quarto not found): nbclient + "
                                             "nbconvert for HTML, pandoc + Typst for PDF")
    info(f"rendering reports for {quarter} with {renderer}")
    jobs = []
    for lang in langs:
        for fmt in formats:
            for doc in DOCUMENTS:
                params = {"bundle": str(bundle.path), "quarter": quarter, "lang": lang,
                          "threshold": study.report.suppression_threshold, "output": fmt,
                          "override": study.report.threshold_override or "",
                          "earlier": str(study.output)}
                jobs.append((doc, lang, fmt, params,
                             study.report_dir(q) / lang / f"{doc}.{fmt}"))

    def render(job: tuple) -> Path:
        doc, lang, fmt, params, target = job
        start = time.perf_counter()
        title = text(f"title_{doc}", lang, quarter=quarter)
        if use_quarto:
            render_quarto(TEMPLATES / f"{doc}.qmd", params, target, fmt, lang)
        elif fmt == "pdf":
            render_pdf(TEMPLATES / f"{doc}.qmd", params, target, lang=lang, title=title)
        else:
            render_fallback(TEMPLATES / f"{doc}.qmd", params, target, lang=lang, title=title)
        info(f"  {lang}/{target.name} ({time.perf_counter() - start:.1f} s)")
        return target

    # Every document is rendered into a staging folder first; only when all succeeded are they
    # moved into place (one rename each), so a failed run changes none of the published files.
    study.report_dir(q).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{quarter}.", suffix=".tmp", dir=study.report_dir(q)))
    try:
        # each document writes its disclosure record beside itself (<doc>.<fmt>.disclosure.json)
        staged = [(doc, lang, fmt, {**params, "record": str(record_path(staging / lang / target.name))},
                   staging / lang / target.name) for doc, lang, fmt, params, target in jobs]
        # two documents at a time: each render runs its own kernel (or Quarto) process
        with ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
            list(pool.map(render, staged))
        written = []
        for (_, _, _, _, source), (_, _, _, _, target) in zip(staged, jobs):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            if record_path(source).exists():
                os.replace(record_path(source), record_path(target))
            written.append(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    echo(f"renderer: {renderer}")
    for path in written:
        echo(f"report: {path}")
