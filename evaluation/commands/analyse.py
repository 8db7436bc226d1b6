"""`evaluation analyse STUDY.toml`."""

from __future__ import annotations

import click


@click.command("analyse")
@click.argument("study_file", type=click.Path(dir_okay=False, path_type=str))
def command(study_file: str) -> None:
    """Analyse the outcomes of the study's cohort and write the results bundle.

    Reads the cohort built by `evaluation cohort build` and the analysis plans named in the study
    file; writes OUTPUT/results/ (estimates.json, tables, figures, manifest.json) atomically.
    """
    from ..analysis.run import analyse_study, summary_lines
    from ..study import load_study

    study = load_study(study_file)
    estimates = analyse_study(study)
    for line in summary_lines(estimates):
        click.echo(line)
    click.echo(f"results bundle: {study.results_dir}")
