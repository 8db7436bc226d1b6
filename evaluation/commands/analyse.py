"""`evaluation analyse STUDY.toml`."""

from __future__ import annotations

import click


@click.command("analyse")
@click.argument("study_file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--quarter", help="Quarter, e.g. 2026Q3: data up to its last day and nothing later "
              "(default: the study's [report] quarter, else the latest complete quarter).")
@click.option("--scope", type=click.Choice(["full", "tracking"]), default="full", show_default=True,
              help="full: every outcome, the naive comparison and the area-level estimators (what "
              "the reports need); tracking: the primary outcome of each plan only, what the "
              "tracking series reads from an earlier quarter (`evaluation report` refuses it).")
@click.option("--jobs", type=click.IntRange(1, 2), default=None,
              help="Processes: 2 runs the placebo index (a second cohort build), the area-level "
              "estimators and the contacts summary in a second process beside the outcome "
              "analyses; 1 runs everything in one. Default: 2 for a cohort of 20,000 rows or more "
              "on a machine with two cores, else 1. The results are the same either way.")
def command(study_file: str, quarter: str | None, scope: str, jobs: int | None) -> None:
    """Analyse the outcomes of the study's cohort and write the results bundle.

    Reads the cohort built by `evaluation cohort build` for the same quarter
    (OUTPUT/<quarter>/cohort/) and the analysis plans named in the study file; writes
    OUTPUT/<quarter>/results/ (estimates.json, tables, figures, manifest.json) atomically.
    Nothing in the warehouse dated after the quarter's last day is read.
    """
    from ..analysis.run import analyse_study, summary_lines
    from ..atomic import check_replaceable, locks
    from ..keys import check_study_inputs
    from ..progress import echo
    from ..quarters import study_quarter
    from ..study import load_study
    from ..tracking.versions import keep_version

    study = load_study(study_file)
    q = study_quarter(study, quarter)
    with locks(write=[study.output], read=[study.warehouse]):
        check_replaceable(study.results_dir(q))
        keep_version(study.quarter_dir(q))  # a rebuilt quarter keeps its earlier bundle beside it
        check_study_inputs("analyse", warehouse=study.warehouse, cohort=study.cohort_dir(q))
        estimates = analyse_study(study, q, scope=scope, jobs=jobs)
    for line in summary_lines(estimates):
        echo(line)
    echo(f"results bundle for {q} (data up to {q.last_day}): {study.results_dir(q)}")
