"""`evaluation simulate`."""

from __future__ import annotations

import click


@click.command("simulate")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=str),
              help="Folder to write (replaced as a whole, only when the simulation succeeds).")
@click.option("--persons", required=True, type=click.IntRange(min=100),
              help="Number of persons in the simulated register.")
@click.option("--seed", required=True, type=int,
              help="Random seed: the same seed and options give byte-identical files.")
@click.option("--form", type=click.Choice(["raw", "warehouse"]), default="raw", show_default=True,
              help="raw: CSV extracts with CPR numbers; warehouse: Parquet with person_id and "
                   "persons.parquet.")
@click.option("--faults", type=click.IntRange(min=0), default=0, show_default=True,
              help="Inject this many faults of each kind into the raw CSV files "
                   "(listed in faults.json).")
@click.option("--effect-reoffending", type=click.FloatRange(min=0, min_open=True), default=0.80,
              show_default=True, help="Hazard ratio of new charges after the first contact.")
@click.option("--effect-education-job", type=click.FloatRange(min=0, min_open=True), default=1.25,
              show_default=True,
              help="Hazard ratio of entry into education or a job after the first contact.")
@click.option("--effect-group-recruitment", type=click.FloatRange(min=0, min_open=True),
              default=0.70, show_default=True,
              help="Hazard ratio of registration in a criminal group after the first contact.")
@click.option("--crime-effect", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Rate ratio of reported violence and weapons offences in the study "
                   "municipality from the initiative start (reported_crime; default 0.85).")
@click.option("--study-share", type=click.FloatRange(min=0, max=1, min_open=True), default=None,
              help="Share of persons ever resident in the study area (municipality 851); "
                   "default min(0.5, 40000/persons).")
@click.option("--area", type=click.Choice(["study", "national"]), default="study",
              show_default=True,
              help="study: the initiative runs in the study municipality (851); national: it "
                   "runs in every municipality of the simulation (build the cohort with a "
                   "definition whose index.area lists them all: "
                   "benchmarks/national.py writes one).")
def command(out_dir: str, persons: int, seed: int, form: str, faults: int,
            effect_reoffending: float, effect_education_job: float,
            effect_group_recruitment: float, study_share: float | None,
            crime_effect: float | None, area: str) -> None:
    """Simulate register extracts for the initiative, with known true effects.

    \b
    OUT/<source>.csv      raw extracts (--form raw), CPR numbers synthetic
    OUT/<source>.parquet  warehouse tables and persons.parquet (--form warehouse)
    OUT/simulation.json   the parameters and row counts
    OUT/reported_crime.*  reported offences by municipality, month and category (aggregate)
    OUT/truth.json        the true effect of contact among the contacted, per outcome, and
                          the true area-level effect on reported crime
    OUT/faults.json       the injected faults (--faults K): kind, file, row, column
    """
    from ..errors import EvaluationError
    from ..progress import info
    from ..simulate import simulate

    if faults and form != "raw":
        raise EvaluationError("--faults needs --form raw (faults are injected into CSV files)")
    params = simulate(
        out_dir, persons, seed, form=form, faults=faults,  # type: ignore[arg-type]
        effects={"reoffending": effect_reoffending, "education_job": effect_education_job,
                 "group_recruitment": effect_group_recruitment},
        study_share=study_share, crime_effect=crime_effect, area=area,  # type: ignore[arg-type]
    )
    info(f"wrote {out_dir}: {params['persons']} persons, "
         f"{params['contacted_persons']} contacted, "
         f"{sum(params['counts'].values())} rows")
