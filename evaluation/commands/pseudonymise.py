"""`evaluation pseudonymise RAW_DIR --key KEYFILE --out WAREHOUSE [--study STUDY.toml]`."""

from __future__ import annotations

import click


@click.command("pseudonymise")
@click.argument("raw_dir", required=False, type=click.Path(path_type=str))
@click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=str),
              help="Key file (from 'evaluation keygen'); default: the study file's key.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=str),
              help="Warehouse folder to write; default: the study file's warehouse.")
@click.option("--study", "study_file", type=click.Path(dir_okay=False, path_type=str),
              help="Study file whose [sources.X] give file names, column mappings and formats.")
@click.option("--new-key", is_flag=True,
              help="Replace a warehouse that was made with another key (its cohorts and results "
                   "no longer link: build the cohort and analyse again).")
@click.option("--max-quarantine-share", type=click.FloatRange(0, 1, max_open=True),
              help="Stop (exit 1, nothing written) when a source has a larger share of its rows "
                   "quarantined (default: no limit; `evaluation run` gives the study's [study] "
                   "max_quarantine_share).")
def command(raw_dir: str | None, key_file: str | None, out_dir: str | None, study_file: str | None,
            new_key: bool, max_quarantine_share: float | None) -> None:
    """Replace CPR numbers in the raw extracts in RAW_DIR by keyed pseudonyms.

    RAW_DIR, --key and --out default to the study file's raw, key and warehouse.

    \b
    Writes, all at once (a failed run leaves no half-written warehouse):
      WAREHOUSE/<source>.parquet  each source found, with person_id in place of cpr
      WAREHOUSE/persons.parquet   person_id, birth_date, sex (from the CPR number)
      WAREHOUSE/quarantine.parquet  rows that could not be pseudonymised or typed
                                    (source, file, row, reason, column; never a value)
      WAREHOUSE/linkage_report.json  rows read/written/quarantined and persons per source

    person_id = HMAC-SHA256(key, CPR without hyphen), first 16 bytes as 32 hex characters.
    """
    from ..errors import ConfigError
    from ..progress import echo
    from ..pseudonymise import pseudonymise, summary_lines
    from ..study import load_study

    study = load_study(study_file) if study_file else None
    if raw_dir is None:
        if study is None or study.raw is None:
            raise ConfigError("no raw folder given: use RAW_DIR (or --study with a [study] raw)",
                              file=study_file, key="study.raw" if study_file else None)
        raw_dir = str(study.raw)
    if key_file is None and study is not None and study.key is not None:
        key_file = str(study.key)
    if out_dir is None:
        if study is None:
            raise ConfigError("no warehouse folder given: use --out WAREHOUSE (or --study with a "
                              "[study] warehouse)")
        out_dir = str(study.warehouse)
    report = pseudonymise(raw_dir, key_file, out_dir, study, max_quarantine_share, new_key=new_key)
    for line in summary_lines(report):
        echo(line)
    echo(f"warehouse written to {out_dir}")
