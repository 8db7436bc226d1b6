"""`evaluation survival`: every survival estimate for one table, as text or JSON."""

from __future__ import annotations

import click


def _parse_list(text: str | None, option: str, number: bool = False) -> tuple:
    from ..errors import InputError

    if text is None or not text.strip():
        return ()
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not number:
        return tuple(items)
    try:
        values = tuple(float(t) for t in items)
    except ValueError:
        raise InputError(f"option {option} must be comma-separated numbers, got '{text}'") from None
    if any(v <= 0 for v in values):
        raise InputError(f"option {option} must be positive numbers, got '{text}'")
    return tuple(int(v) if v.is_integer() else v for v in values)


#: Default horizons per --time-unit: 6, 12 and 24 months in that unit.
TIME_UNITS = {"days": 1.0, "weeks": 7.0, "months": 30.4375, "years": 365.25}


def default_horizons(unit: str) -> tuple:
    """6, 12 and 24 months in ``unit``: days 183, 365, 730; weeks 26, 52, 104; months 6, 12,
    24; years 0.5, 1, 2."""
    from ..timeunits import DEFAULT_HORIZON_DAYS, DEFAULT_HORIZON_MONTHS

    if unit == "days":
        return DEFAULT_HORIZON_DAYS
    if unit == "months":
        return DEFAULT_HORIZON_MONTHS
    if unit == "years":
        return tuple(m / 12 for m in DEFAULT_HORIZON_MONTHS)
    return tuple(round(d / TIME_UNITS[unit]) for d in DEFAULT_HORIZON_DAYS)


def beyond_follow_up(frame, spec) -> list[str]:
    """One note per horizon that lies beyond a group's longest follow-up (no estimate there)."""
    notes = []
    for value, sub in frame.groupby(spec.treatment, sort=False):
        longest = float(sub[spec.time].max())
        for h in spec.horizons:
            if float(h) > longest:
                notes.append(f"horizon {h:g} lies beyond the follow-up of {spec.treatment} = "
                             f"{value} (longest {longest:g}): no estimate at it for that group")
    return notes


def read_table(path: str):
    """Read a CSV (comma or semicolon, UTF-8 or Latin-1), Excel or Parquet table with natural
    types."""
    from pathlib import Path

    import pandas as pd
    import pyarrow as pa

    from ..errors import InputError
    from ..io import detect_delimiter, detect_encoding

    p = Path(path)
    if not p.is_file():
        raise InputError("file not found", file=str(p))
    suffix = p.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(p)
        if suffix in (".xlsx", ".xls"):
            return pd.read_excel(p)
        if suffix in (".csv", ".txt"):
            encoding = detect_encoding(p)
            encoding = "utf-8-sig" if encoding == "utf-8" else encoding  # a BOM is not a name
            with open(p, encoding=encoding, errors="replace", newline="") as fh:
                header = fh.readline()
            if not header.strip():
                raise InputError("the file is empty or has no header row", file=str(p))
            return pd.read_csv(p, sep=detect_delimiter(header), encoding=encoding, low_memory=False)
    except InputError:
        raise
    except (OSError, ValueError, pa.ArrowException, pd.errors.ParserError) as exc:
        # a damaged file: name it, keep the reader's first line
        raise InputError(f"cannot be read: {str(exc).splitlines()[0]}", file=str(p)) from None
    raise InputError("unsupported file type (use .csv, .xlsx or .parquet)", file=str(p))


@click.command("survival")
@click.argument("table", type=click.Path(dir_okay=False))
@click.option("--time", "time_col", required=True, help="Follow-up time column (days).")
@click.option(
    "--event",
    "event_col",
    required=True,
    help="Status column: 0 censored, the event of interest, other codes competing.",
)
@click.option("--treatment", required=True,
              help="Treatment column with two values: 0/1 or false/true, else give --treated.")
@click.option("--treated", "treated_value", default=None,
              help="The value of the treatment column that marks the treated arm (needed unless "
                   "the values are 0/1 or false/true), e.g. --treated ja.")
@click.option("--time-unit", type=click.Choice(list(TIME_UNITS)), default="days", show_default=True,
              help="Unit of the time column; the default horizons are 6, 12 and 24 months in it.")
@click.option("--covariates", default=None, help="Comma-separated adjustment covariates.")
@click.option("--cluster", default=None, help="Column to cluster robust standard errors on.")
@click.option("--strata", default=None, help="Column to stratify a second Cox model by.")
@click.option("--entry", default=None, help="Entry (left-truncation) time column.")
@click.option("--weights", default=None, help="Case weight column (e.g. IPTW).")
@click.option(
    "--event-of-interest",
    default=1,
    show_default=True,
    type=int,
    help="Status code of the event of interest.",
)
@click.option(
    "--horizons",
    default=None,
    help="Comma-separated horizons in the table's time unit (default: 6, 12 and 24 months: "
    "183,365,730 days, 26,52,104 weeks, 6,12,24 months or 0.5,1,2 years).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def command(
    table: str,
    time_col: str,
    event_col: str,
    treatment: str,
    treated_value: str | None,
    time_unit: str,
    covariates: str | None,
    cluster: str | None,
    strata: str | None,
    entry: str | None,
    weights: str | None,
    event_of_interest: int,
    horizons: str | None,
    as_json: bool,
) -> None:
    """Kaplan-Meier, cumulative incidence, Cox, Fine-Gray and RMST for TABLE (CSV, Excel or
    Parquet).

    The output always says which value of the treatment column is treated. A model that
    estimated nothing (no events in an arm, no convergence, separation) says "not estimated"
    and why, and a horizon beyond a group's follow-up is named instead of giving NA silently.

    Status 0 is censored, --event-of-interest (default 1) the event, other non-zero codes
    competing events. Hazard ratios are from the cause-specific Cox model (robust standard errors
    clustered on --cluster) and, with competing events, the Fine-Gray model.
    """
    import dataclasses
    import json

    from .. import progress
    from ..survival import SurvivalSpec, fit_all, prepare

    spec = SurvivalSpec(
        time=time_col,
        event=event_col,
        treatment=treatment,
        covariates=_parse_list(covariates, "--covariates"),
        cluster=cluster,
        strata=strata,
        event_of_interest=event_of_interest,
        horizons=_parse_list(horizons, "--horizons", number=True) or default_horizons(time_unit),
        entry=entry,
        weights=weights,
        treated_value=treated_value,
    )
    frame = read_table(table)
    prep = prepare(frame, spec, source=table)  # bad input: one message before any progress output
    untreated, treated = prep.groups
    arms = f"treated: {treatment} = {treated}; untreated: {treatment} = {untreated}"
    with progress.step(f"Survival models on {len(frame)} rows"):
        result = fit_all(frame, spec, source=table)
    notes = beyond_follow_up(frame, spec)
    if as_json:
        document = {
            "table": str(table),
            "spec": dataclasses.asdict(spec),
            "time_unit": time_unit,
            "treated": {"column": treatment, "treated": treated, "untreated": untreated},
            "horizons_beyond_follow_up": notes,
            **result.to_dict(),
        }
        click.echo(json.dumps(document, indent=2, allow_nan=False, default=str))
    else:
        click.echo(f"Arms: {arms} (time in {time_unit})")
        click.echo(result.summary())
        for note in notes:
            click.echo(f"Note: {note}")
