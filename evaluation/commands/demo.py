"""`evaluation demo`: the whole pipeline on simulated data."""

from __future__ import annotations

import click


@click.command("demo")
@click.option("--out", "out_dir", default="demo-output", show_default=True,
              type=click.Path(file_okay=False, path_type=str),
              help="Folder for everything the demo writes.")
@click.option("--persons", default=20000, show_default=True, type=click.IntRange(min=500),
              help="Number of simulated persons in the register.")
@click.option("--seed", default=2026, show_default=True, type=int, help="Random seed.")
def command(out_dir: str, persons: int, seed: int) -> None:
    """Run every stage on simulated register data and print where the outputs are.

    \b
    OUT/raw/          simulated raw extracts (synthetic CPR numbers) and truth.json
    OUT/secrets/      the pseudonymisation key (kept outside the warehouse)
    OUT/warehouse/    pseudonymised Parquet tables and the linkage report
    OUT/study.toml    the study file tying the stages together
    OUT/output/Q/     for the quarter Q of the data end: cohort/, results/ (the results
                      bundle) and report/<lang>/ (HTML and PDF)
    """
    import datetime as dt
    import json
    from pathlib import Path

    from ..atomic import write_text
    from ..pipeline import run_stages
    from ..progress import echo, info
    from ..quarters import Quarter
    from ..study import load_study

    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    root = Path(__file__).resolve().parents[2]
    cohort_file = root / "cohorts" / "knock_knock.toml"
    analyses = sorted((root / "analyses").glob("*.toml"))

    raw, secrets, warehouse = out / "raw", out / "secrets", out / "warehouse"
    key = secrets / "pseudonym.key"
    stages: list[tuple[str, list[str]]] = [
        ("simulate", ["simulate", "--out", str(raw), "--persons", str(persons), "--seed", str(seed)]),
    ]
    if not key.exists():
        secrets.mkdir(mode=0o700, exist_ok=True)
        stages.append(("keygen", ["keygen", str(key)]))
    stages += [
        ("pseudonymise", ["pseudonymise", str(raw), "--key", str(key), "--out", str(warehouse)]),
        ("validate", ["validate", str(warehouse)]),
    ]
    done = run_stages(stages)

    study_file = out / "study.toml"
    sim = json.loads((raw / "simulation.json").read_text(encoding="utf-8"))
    data_end = sim["data_end"]
    quarter = Quarter.of(dt.date.fromisoformat(data_end)).label
    analyses_toml = ", ".join(f'"{a.as_posix()}"' for a in analyses)
    write_text(
        study_file,
        "# Study file written by `evaluation demo` (simulated data).\n"
        "[study]\n"
        'name = "Knock Knock, Aalborg (demo)"\n'
        'raw = "raw"\n'
        'warehouse = "warehouse"\n'
        'key = "secrets/pseudonym.key"\n'
        f'cohort = "{cohort_file.as_posix()}"\n'
        f"analyses = [{analyses_toml}]\n"
        'output = "output"\n'
        f'data_end = "{data_end}"\n'
        f"seed = {seed}\n"
        "# The demo's extracts are small (about 700 contacts): 1% (the default) would stop a run\n"
        "# for 8 unusable rows; 5% still stops one whose dates are in a format not declared.\n"
        "max_quarantine_share = 0.05\n\n"
        "[report]\n"
        f'quarter = "{quarter}"\n'
        'languages = ["da", "en"]\n'
        "suppression_threshold = 5\n\n"
        "[area]\n"
        "# The Danish COVID-19 closures and restrictions of restaurants and bars (from 18 March\n"
        "# 2020 until indoor serving reopened in April-May 2021; nightclubs stayed closed until\n"
        "# September 2021): the interrupted time series adjusts for them as a level shift.\n"
        'events = ["2020-03:2021-05:COVID-19"]\n',
    )
    load_study(study_file)
    done += run_stages([
        ("cohort build", ["cohort", "build", str(study_file), "--quarter", quarter]),
        ("analyse", ["analyse", str(study_file), "--quarter", quarter]),
        ("track", ["track", str(study_file), "--quarter", quarter]),
        ("report", ["report", str(study_file), "--quarter", quarter]),
    ])

    info("")
    echo(f"Demo outputs in {out}")
    echo(f"  stages done: {', '.join(done)}")
    for label, path in [
        ("raw extracts", raw),
        ("warehouse", warehouse),
        ("cohort", out / "output" / quarter / "cohort"),
        ("results bundle", out / "output" / quarter / "results"),
        ("tracking series", out / "output" / quarter / "tracking"),
        ("reports", out / "output" / quarter / "report"),
    ]:
        if path.exists():
            echo(f"  {label + ':':16s}{path}")
    report_dir = out / "output" / quarter / "report"
    if report_dir.exists():
        for html in sorted(report_dir.rglob("*.html")):
            echo(f"  report: {html}")
