"""`evaluation track STUDY.toml`."""

from __future__ import annotations

import click


@click.command("track")
@click.argument("study_file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--quarter", help="The latest quarter of the series, e.g. 2026Q3 (default: the "
              "study's [report] quarter, else the latest complete quarter).")
def command(study_file: str, quarter: str | None) -> None:
    """The series over every quarter from the initiative start to QUARTER.

    Reads the kept results bundle of each quarter (OUTPUT/<Q>/results/), building any that is
    missing with `cohort build` and `analyse` for that quarter (an earlier quarter with --scope
    tracking: the primary outcomes, which is what the series reads; QUARTER itself in full),
    and keeps each bundle's version
    (OUTPUT/<Q>/versions/<n>-<version>/: a rebuilt quarter with changed data or code is kept beside
    the old one). Writes OUTPUT/<QUARTER>/tracking/: tracking.parquet (one row per quarter and
    primary outcome: contacted, matched, events per arm, the primary estimate and its 95%
    interval, the minimum detectable effect, the gates, the look's boundary of the monitoring
    scheme), indicators.parquet (reach, speed, activation, repeat contacts) and tracking.json
    (the same, the boundaries and when an answer can be expected). Counts are unsuppressed
    here; the reports show them through the disclosure rules.
    """
    from ..quarters import study_quarter
    from ..study import load_study
    from ..tracking.series import track_study

    study = load_study(study_file)
    q = study_quarter(study, quarter)
    doc = track_study(study, q)
    for family, p in doc["projections"].items():
        when = ("already detectable" if p["already_detectable"] else
                p["expected_quarter"] or p["reason"])
        click.echo(f"{family}: an effect of HR {p['target_hr']} detectable with "
                   f"{p['power']:.0%} power: {when}")
    left_out = [lk["quarter"] for lk in doc["looks"] if lk.get("not_built")]
    if left_out:
        click.echo(f"left out (no results bundle could be built): {', '.join(left_out)}")
    click.echo(f"tracking series of {len(doc['looks'])} quarters up to {q}: "
               f"{study.quarter_dir(q) / 'tracking'}")
