"""`evaluation run STUDY.toml`: every stage of a study, in order."""

from __future__ import annotations

import click


@click.command("run")
@click.argument("study_file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--quarter", help="Report quarter, e.g. 2026Q3 (default: the study's [report] quarter, "
              "else the quarter of the data end date).")
@click.option("--skip-pseudonymise", is_flag=True,
              help="Use the warehouse as it is, even when the study names raw extracts and a key.")
def command(study_file: str, quarter: str | None, skip_pseudonymise: bool) -> None:
    """Run every stage of the study in STUDY_FILE.

    \b
    1. pseudonymise  raw extracts -> warehouse (when the study names `raw` and `key`)
    2. validate      the warehouse against the data contract (stops on fatal problems)
    3. cohort build  contacted youths and matched comparison group
    4. analyse       outcomes and survival analyses -> results bundle
    5. report        council report and technical appendix, in every configured language

    Each stage can also be run alone; this command runs them exactly as typed by hand.
    """
    from ..pipeline import quarter_of, run_stages
    from ..progress import info
    from ..study import load_study

    study = load_study(study_file)
    stages: list[tuple[str, list[str]]] = []
    if study.raw is not None and study.key is not None and not skip_pseudonymise:
        stages.append(("pseudonymise", ["pseudonymise", str(study.raw), "--key", str(study.key),
                                        "--out", str(study.warehouse), "--study", str(study.path)]))
    stages.append(("validate", ["validate", str(study.warehouse)]))
    stages.append(("cohort build", ["cohort", "build", str(study.path)]))
    stages.append(("analyse", ["analyse", str(study.path)]))
    if quarter is None:
        quarter = study.report.quarter
    if quarter is None and study.data_end is not None:
        quarter = quarter_of(study.data_end)
    report_args = ["report", str(study.path)]
    if quarter:
        report_args += ["--quarter", quarter]
    stages.append(("report", report_args))

    done = run_stages(stages)
    info("")
    info(f"stages done: {', '.join(done)}")
    click.echo(f"outputs under {study.output}")
