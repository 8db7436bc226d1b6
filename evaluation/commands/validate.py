"""`evaluation validate`."""

from __future__ import annotations

import click


@click.command("validate")
@click.argument("folder", type=click.Path(path_type=str))
@click.option("--study", "study_file", type=click.Path(dir_okay=False, path_type=str),
              help="Study file: [sources.X] file and column names of sources delivered under "
                   "their own names.")
@click.option("--form", type=click.Choice(["auto", "raw", "warehouse"]), default="auto",
              show_default=True,
              help="Form the tables must have: raw extracts (cpr) or warehouse (person_id). "
                   "'auto' detects it per table from its columns.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the report as JSON on stdout instead of text.")
@click.option("--max-per-check", default=20, show_default=True, type=click.IntRange(min=0),
              help="Print at most N problems per check and file (0: all); all are counted.")
@click.option("--max-quarantine-share", type=click.FloatRange(0, 1, max_open=True),
              help="Raw extracts: rows that pseudonymise would quarantine (CPR and type problems) "
                   "are warnings while they are at most this share of a table's rows.")
def command(folder: str, study_file: str | None, form: str, as_json: bool, max_per_check: int,
            max_quarantine_share: float | None) -> None:
    """Check every table in FOLDER against the data contract.

    \b
    FOLDER holds raw extracts (<source>.csv/.parquet/.xlsx/.sas7bdat with a `cpr` column) or a
    warehouse (<source>.parquet with `person_id`, and persons.parquet). Every problem is listed
    on its own line with file, row (1-based data row), column and value; CPR numbers are never
    shown. A summary per file follows.

    \b
    Checks: required columns (unknown ones are warnings), types (dates YYYY-MM-DD, months
    YYYY-MM, numbers, yes/no), empty cells where not allowed, category codes, CPR numbers
    (structure and birth date; never the modulus-11 check), end dates before start dates,
    events before birth or after death, repeated keys (with the row of the first occurrence),
    and, in a warehouse, persons missing from persons.parquet (warnings).

    \b
    Exit codes: 0 nothing fatal (warnings allowed), 1 fatal problems found, 2 a folder or file
    that cannot be read at all. Nothing is changed or written.
    """
    import json

    from ..errors import ValidationFailed
    from ..progress import echo
    from ..validate import validate_folder

    report = validate_folder(folder, study=study_file, form=None if form == "auto" else form,
                             max_quarantine_share=max_quarantine_share)
    limit = None if max_per_check == 0 else max_per_check
    if as_json:
        echo(json.dumps(report.to_dict(limit), indent=2, ensure_ascii=False, default=str))
    else:
        for line in report.render(limit):
            echo(line)
    if not report.ok:
        raise ValidationFailed(
            f"validation found {report.errors} fatal problems in "
            f"{sum(1 for t in report.tables if t.errors)} files (listed above)"
        )
