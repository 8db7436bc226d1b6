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


def read_table(path: str):
    """Read a CSV (comma or semicolon, UTF-8 or Latin-1) or Parquet table with natural types."""
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
    raise InputError("unsupported file type (use .csv or .parquet)", file=str(p))


@click.command("survival")
@click.argument("table", type=click.Path(dir_okay=False))
@click.option("--time", "time_col", required=True, help="Follow-up time column (days).")
@click.option(
    "--event",
    "event_col",
    required=True,
    help="Status column: 0 censored, the event of interest, other codes competing.",
)
@click.option("--treatment", required=True, help="Treatment column with two values (0/1).")
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
    default="183,365,730",
    show_default=True,
    help="Comma-separated horizons in the table's time unit.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def command(
    table: str,
    time_col: str,
    event_col: str,
    treatment: str,
    covariates: str | None,
    cluster: str | None,
    strata: str | None,
    entry: str | None,
    weights: str | None,
    event_of_interest: int,
    horizons: str,
    as_json: bool,
) -> None:
    """Kaplan-Meier, cumulative incidence, Cox, Fine-Gray and RMST for TABLE (CSV or Parquet).

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
        horizons=_parse_list(horizons, "--horizons", number=True) or (183, 365, 730),
        entry=entry,
        weights=weights,
    )
    frame = read_table(table)
    prepare(frame, spec, source=table)  # bad input: one message before any progress output
    with progress.step(f"Survival models on {len(frame)} rows"):
        result = fit_all(frame, spec, source=table)
    if as_json:
        document = {
            "table": str(table),
            "spec": dataclasses.asdict(spec),
            **result.to_dict(),
        }
        click.echo(json.dumps(document, indent=2, allow_nan=False))
    else:
        click.echo(result.summary())
