"""`evaluation cohort ...`."""

from __future__ import annotations

import click


@click.group("cohort")
def command() -> None:
    """Cohorts of contacted youths and their matched comparison group."""


@command.command("build")
@click.argument("study_file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--data-end", help="End of data (YYYY-MM-DD); default: the study's data_end, else "
              "the latest date in the data.")
@click.option("--seed", type=int, help="Random seed (default: the study's seed).")
def build(study_file: str, data_end: str | None, seed: int | None) -> None:
    """Build the cohort of the study in STUDY_FILE into <output>/cohort/.

    \b
    Reads the warehouse and the cohort definition named in the study file and writes, atomically:
      cohort.parquet      one row per person per arm per matched set, covariates at index,
                          weights, end of follow-up
      attrition.parquet   every exclusion counted by reason, per arm
      balance.parquet     standardised mean differences before and after matching
      propensity.parquet  propensity scores by arm (overlap)
      cohort.json         design, definition hash, counts, covariate labels, data end
    """
    import datetime as dt

    from ..cohort import build_cohort, load_definition, write_cohort
    from ..errors import ConfigError
    from ..study import load_study

    study = load_study(study_file)
    definition = load_definition(study.cohort)
    end = study.data_end
    if data_end is not None:
        try:
            end = dt.date.fromisoformat(data_end)
        except ValueError:
            raise ConfigError(f"--data-end must be an ISO date, got {data_end!r}") from None
    result = build_cohort(study.warehouse, definition, data_end=end,
                          seed=study.seed if seed is None else seed)
    write_cohort(result, study.cohort_dir)
    c = result.meta["counts"]
    smd = result.meta["smd_max_after"]
    click.echo(f"cohort ({result.meta['design']}) written to {study.cohort_dir}")
    click.echo(f"  contacted with a qualifying contact: {c['contacted_first_qualifying']}, "
               f"eligible: {c['contacted_eligible']}, in the cohort: {c['contacted']}")
    click.echo(f"  comparison rows: {c['comparison_rows']} ({c['comparison_persons']} persons)"
               + (f", matched sets: {c['sets']}" if c["sets"] is not None else ""))
    click.echo(f"  largest |SMD| after: {'n/a' if smd is None else f'{smd:.3f}'} "
               f"(before: {result.meta['smd_max_before'] or 0:.3f})")
