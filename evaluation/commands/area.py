"""`evaluation area`: interrupted time series, difference-in-differences and synthetic control
on any panel of units by periods, as text or JSON."""

from __future__ import annotations

import click

from .survival import _parse_list


def read_panel(path: str):
    """A panel from CSV (comma or semicolon, as StatBank exports), Excel or Parquet."""
    from pathlib import Path

    import pandas as pd

    from ..errors import InputError
    from .survival import read_table

    p = Path(path)
    if p.suffix.lower() in (".xlsx", ".xls"):
        if not p.is_file():
            raise InputError("file not found", file=str(p))
        try:
            return pd.read_excel(p)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot be read: {str(exc).splitlines()[0]}", file=str(p)) from None
    return read_table(path)


@click.command("area")
@click.argument("panel", type=click.Path(dir_okay=False))
@click.option("--unit", required=True, help="Unit column (e.g. municipality_code).")
@click.option("--time", "time_col", required=True,
              help="Period column: years or numbers, YYYY-MM, or quarters (2024Q1, 2024K1).")
@click.option("--outcome", required=True, help="Outcome column (a count or a continuous value).")
@click.option("--treated-unit", required=True,
              help="The treated unit (a value of --unit; with --group, a value of that column).")
@click.option("--start", required=True, help="First period under the initiative, as in --time.")
@click.option("--method", type=click.Choice(["its", "did", "synth", "all"]), default="all",
              show_default=True, help="Which estimator(s) to run.")
@click.option("--covariates", default=None,
              help="Synthetic-control predictors, comma-separated: NAME (mean over the "
                   "pre-period) or NAME@FIRST-LAST (mean over those periods).")
@click.option("--outcome-lags", default=None,
              help="Synthetic-control predictors: the outcome in these pre-periods (comma-separated).")
@click.option("--group", default=None,
              help="Column marking each unit's group; every unit whose group is --treated-unit is "
                   "treated (difference-in-differences with several treated units).")
@click.option("--family", type=click.Choice(["linear", "poisson"]), default=None,
              help="Regression family of ITS and DiD (default: poisson for a count outcome, "
                   "linear otherwise).")
@click.option("--did-trends", type=click.Choice(["auto", "yes", "no"]), default="auto",
              show_default=True,
              help="Unit-specific linear trends in the difference-in-differences (auto: with at "
                   "least 10 pre-periods).")
@click.option("--event", "events", multiple=True, metavar="FIRST:LAST[:LABEL]",
              help="A known calendar event (e.g. closures of nightlife) that the interrupted "
                   "time series adjusts for as a level shift over its periods, written in the "
                   "panel's period format (2020-03:2021-05:COVID-19); repeatable. A stated "
                   "assumption, not estimated from the data.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def command(panel: str, unit: str, time_col: str, outcome: str, treated_unit: str, start: str,
            method: str, covariates: str | None, outcome_lags: str | None, group: str | None,
            family: str | None, did_trends: str, events: tuple[str, ...], as_json: bool) -> None:
    """Area-level effect of an initiative that starts in one unit at --start.

    \b
    its    interrupted time series on the treated unit alone (segmented Poisson/NB or linear
           regression with seasonality, level and slope change, a level shift per
           --event, Newey-West errors; gates: residual autocorrelation, in-time placebo,
           the same model on every comparison unit)
    did    two-way fixed effects against the other units, with a linear trend for every
           unit when the pre-period allows (a level and slope change for the treated unit;
           in-time placebo gate), else parallel trends (pre-trend test gate); clustered
           errors with 5+ treated units, else Driscoll-Kraay; event study
    synth  synthetic control: donor weights, pre-period RMSPE, placebo-in-space p-value over
           every donor, leave-one-out, conformal 95% interval (constant effect)

    Every estimate is the average post-period effect in the outcome's units per period.
    Intervals from Newey-West or Driscoll-Kraay errors use fixed-b critical values; a
    method whose gates fail shows its estimate beside the failed gate, and the reports
    show no number for it.
    Minimum sizes: DiD 1 comparison unit and 1 pre-period; synthetic control 2 donors and 5
    pre-periods; ITS 5 pre-periods (two years of them for seasonality).
    """
    import json

    from .. import progress
    from ..area import METHODS, fit_all, prepare

    frame = read_panel(panel)
    prepared = prepare(frame, unit=unit, time=time_col, outcome=outcome, treated_unit=treated_unit,
                       start=start, covariates=_parse_list(covariates, "--covariates"),
                       group=group, source=panel, events=events)
    methods = METHODS if method == "all" else (method,)
    lags = _parse_list(outcome_lags, "--outcome-lags")
    with progress.step(f"Area-level estimators ({', '.join(methods)}) on {len(prepared.units)} "
                       f"units and {len(prepared.periods)} periods"):
        comparison = fit_all(prepared, methods=methods, family=family, outcome_lags=lags,
                             progress=True,
                             trends={"auto": None, "yes": True, "no": False}[did_trends])
    if as_json:
        document = {"panel": str(panel), "treated_unit": treated_unit,
                    "start": prepared.label(prepared.start), "verdict": comparison.verdict,
                    "rows": [r.row() for r in comparison.results],
                    "not_fitted": comparison.not_fitted,
                    "details": {r.method: {k: v for k, v in r.to_dict().items()
                                           if k in ("assumes", "diagnostics", "gates",
                                                    "event_time", "placebo", "leave_one_out")}
                                for r in comparison.results}}
        click.echo(json.dumps(document, indent=2, allow_nan=False))
        return
    for r in comparison.results:
        row = r.row()
        ci = "" if row["conf_low"] is None else f"  95% CI {row['conf_low']:.3f} to {row['conf_high']:.3f}"
        p = "" if row["p_value"] is None else f"  p = {row['p_value']:.3f}"
        click.echo(f"{r.method:6s} {row['estimate']:.3f}{ci}{p}  gates {'passed' if row['gates_passed'] else 'FAILED'}")
        for reason in r.gates.get("reasons", []):
            click.echo(f"       - {reason}")
        for e in r.diagnostics.get("events") or []:
            shift = "not estimable" if e["level_shift"] is None else f"level shift {e['level_shift']:.3f}"
            click.echo(f"       declared event {e['label'] or '-'} {e['first']} to {e['last']}: "
                       f"{shift} ({e['level_shift_scale']})")
        if r.method == "synth":
            weights = {k: v for k, v in row["weights"].items() if v >= 0.001}
            click.echo("       weights: " + ", ".join(f"{k} {v:.3f}" for k, v in
                                                      sorted(weights.items(), key=lambda kv: -kv[1])))
            click.echo(f"       pre-period RMSPE {row['pre_rmspe']:.3f}; the interval is conformal, "
                       f"the p-value the placebo-in-space one")
    for m, why in comparison.not_fitted.items():
        click.echo(f"{m:6s} not fitted: {why}")
    click.echo(f"verdict: {comparison.verdict}")
