"""`evaluation run STUDY.toml`: every stage of a study, in order."""

from __future__ import annotations

import click


@click.command("run")
@click.argument("study_file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--quarter", help="Quarter, e.g. 2026Q3: every stage uses data up to its last day and "
              "nothing later (default: the study's [report] quarter, else the latest complete quarter).")
@click.option("--skip-pseudonymise", is_flag=True,
              help="Use the warehouse as it is, even when the study names raw extracts and a key.")
def command(study_file: str, quarter: str | None, skip_pseudonymise: bool) -> None:
    """Run every stage of the study in STUDY_FILE for one quarter.

    \b
    1. validate      the raw extracts, then pseudonymise them -> warehouse (when the study names
                     `raw` and `key`); a source with more than [study] max_quarantine_share of
                     its rows unusable stops the run (exit 1)
    2. validate      the warehouse against the data contract (stops on fatal problems)
    3. cohort build  contacted youths and matched comparison group
    4. analyse       outcomes and survival analyses -> results bundle
    5. track         the series over every quarter since the start (missing quarters built),
                     when an answer can be expected, process indicators
    6. report        council report and technical appendix, in every configured language

    Everything for quarter Q goes to OUTPUT/Q/ (cohort/, results/, report/); earlier quarters'
    folders are kept. A quarter ending before the initiative start or after the end of data is
    refused before any stage runs (exit 2). Each stage can also be run alone; this command runs
    them exactly as typed by hand.
    """
    from ..atomic import lock
    from ..pipeline import run_stages
    from ..progress import echo, info
    from ..quarters import study_quarter
    from ..study import load_study

    study = load_study(study_file)
    with lock(study.output):  # one run at a time per study output
        first: list[tuple[str, list[str]]] = []
        if study.raw is not None and study.key is not None and not skip_pseudonymise:
            share = str(study.max_quarantine_share)
            first.append(("validate extracts", ["validate", str(study.raw), "--study", str(study.path),
                                                "--form", "raw", "--max-quarantine-share", share]))
            first.append(("pseudonymise", ["pseudonymise", str(study.raw), "--key", str(study.key),
                                           "--out", str(study.warehouse), "--study", str(study.path),
                                           "--max-quarantine-share", share]))
        # the quarter is checked before the slow stages whenever the end of data is known without them
        q = study_quarter(study, quarter) if study.data_end is not None or not first else None
        done = run_stages(first) if first else []
        if q is None:
            q = study_quarter(study, quarter)
        done += run_stages([
            ("validate", ["validate", str(study.warehouse)]),
            ("cohort build", ["cohort", "build", str(study.path), "--quarter", q.label]),
            ("analyse", ["analyse", str(study.path), "--quarter", q.label]),
            ("track", ["track", str(study.path), "--quarter", q.label]),
            ("report", ["report", str(study.path), "--quarter", q.label]),
        ])
    info("")
    info(f"stages done: {', '.join(done)}")
    echo(f"outputs for {q} under {study.quarter_dir(q)}")
