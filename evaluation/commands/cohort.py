"""`evaluation cohort ...`."""

from __future__ import annotations

import click


@click.group("cohort")
def command() -> None:
    """Cohorts of contacted youths and their matched comparison group."""


@command.command("build")
@click.argument("study_file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--quarter", help="Quarter, e.g. 2026Q3: data up to its last day and nothing later "
              "(default: the study's [report] quarter, else the latest complete quarter).")
@click.option("--seed", type=int, help="Random seed (default: the study's seed).")
def build(study_file: str, quarter: str | None, seed: int | None) -> None:
    """Build the cohort of the study in STUDY_FILE into <output>/<quarter>/cohort/.

    \b
    Reads the warehouse as it stood on the last day of the quarter (the analysis date; nothing
    dated later is read) and the cohort definition named in the study file, and writes, atomically:
      cohort.parquet      one row per person per arm per matched set, covariates at index,
                          weights, end of follow-up
      attrition.parquet   every exclusion counted by reason, per arm
      balance.parquet     standardised mean differences before and after matching
      propensity.parquet  propensity scores by arm (overlap)
      cohort.json         design, definition hash, counts, covariate labels, quarter, data end
    """
    from ..analysis.plan import DEFAULT_MIN_MATCHED_SHARE
    from ..atomic import check_replaceable, locks
    from ..cohort import build_cohort, load_definition, write_cohort
    from ..keys import FINGERPRINT_FIELD, check_study_inputs
    from ..progress import echo, info
    from ..quarters import study_quarter
    from ..study import load_study

    study = load_study(study_file)
    q = study_quarter(study, quarter)
    definition = load_definition(study.cohort)
    out = study.cohort_dir(q)
    with locks(write=[study.output], read=[study.warehouse]):
        check_replaceable(out)
        fingerprint = check_study_inputs("cohort build", warehouse=study.warehouse)
        result = build_cohort(study.warehouse, definition, data_end=q.last_day,
                              seed=study.seed if seed is None else seed)
        result.meta["quarter"] = q.label
        result.meta[FINGERPRINT_FIELD] = fingerprint
        write_cohort(result, out)
    c = result.meta["counts"]
    smd = result.meta["smd_max_after"]
    echo(f"cohort ({result.meta['design']}) for {q} (data up to {q.last_day}) written to {out}")
    echo(f"  contacted with a qualifying contact: {c['contacted_first_qualifying']}, "
               f"eligible: {c['contacted_eligible']}, in the cohort: {c['contacted']}")
    echo(f"  comparison rows: {c['comparison_rows']} ({c['comparison_persons']} persons)"
               + (f", matched sets: {c['sets']}" if c["sets"] is not None else ""))
    echo(f"  largest |SMD| after: {'n/a' if smd is None else f'{smd:.3f}'} "
               f"(before: {result.meta['smd_max_before'] or 0:.3f})")
    eligible = c["contacted_eligible"]
    if eligible and c["contacted"] / eligible < DEFAULT_MIN_MATCHED_SHARE:
        info(f"warning: a comparison was found for only {c['contacted']} of {eligible} "
             f"eligible contacted youths ({c['contacted'] / eligible:.0%}); the matched results "
             f"describe only them, and the analysis gate min_matched_share (default "
             f"{DEFAULT_MIN_MATCHED_SHARE:g}) fails")
