"""Building the tracking series of a study: every quarter since the initiative start.

:func:`track_study` is what ``evaluation track`` (and the ``track`` step of ``evaluation run``)
does for quarter Q: it makes sure every quarter from the initiative start to Q has a kept
results bundle (building the missing ones with ``cohort build`` and ``analyse``: an earlier
quarter with ``--scope tracking``, the primary outcomes only, which is what the series reads;
quarter Q itself in full, for its reports), keeps each bundle's version (:mod:`evaluation.tracking.versions`), reads the rows of
the trajectory from them (:mod:`evaluation.tracking.trajectory`), projects when an answer can be
expected, computes the process indicators on Q's analysis date, and writes
``<output>/<Q>/tracking/``:

- ``tracking.parquet``: the trajectory (one row per quarter and primary outcome);
- ``indicators.parquet``: the process indicators (:mod:`evaluation.tracking.indicators`);
- ``tracking.json``: the quarter, the looks with the bundle version each row used, the
  monitoring scheme and boundaries of every family, the projections, and the trajectory and
  indicator rows as records (for the reports).

Like a bundle, the folder is written atomically and belongs to quarter Q: tracking for a later
quarter writes its own folder.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..analysis.plan import load_plans
from ..atomic import atomic_dir, write_json, write_parquet
from ..cohort.definition import load_definition
from ..errors import InputError
from ..progress import info, step
from ..quarters import Quarter, possible_quarters
from ..study import Study
from .indicators import process_indicators
from .spending import Boundaries, planned_boundaries
from .trajectory import projections, trajectory_rows
from .versions import keep_version, kept_versions

TRACKING = "tracking"


def _bundle(study: Study, q: Quarter) -> dict[str, Any] | None:
    import json

    path = study.results_dir(q) / "estimates.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"is not valid JSON: {exc}", file=str(path)) from None


def build_missing(study: Study, quarters: list[Quarter]) -> tuple[list[Quarter], dict[str, str]]:
    """Build the bundle of every quarter in ``quarters`` that has none: the earlier ones as far
    as the series needs them (``analyse --scope tracking``: the primary outcomes), the last one
    (the quarter reported on) in full. Returns the quarters built and, for an earlier quarter
    that cannot be built (e.g. no contacted person can enter its cohort yet), the reason; the
    series leaves such a quarter out and says so. The last quarter's failure is an error."""
    from ..errors import EvaluationError
    from ..pipeline import run_stages

    built, unbuilt = [], {}
    for q in quarters:
        if _bundle(study, q) is not None:
            continue
        scope = "full" if q == quarters[-1] else "tracking"  # the last one is reported on
        info(f"quarter {q}: no kept results bundle; building it ({scope})")
        try:
            run_stages([("cohort build", ["cohort", "build", str(study.path), "--quarter", q.label]),
                        ("analyse", ["analyse", str(study.path), "--quarter", q.label,
                                     "--scope", scope])])
        except EvaluationError as exc:
            if q == quarters[-1]:
                raise
            unbuilt[q.label] = exc.message
            info(f"quarter {q}: no results bundle can be built; the series leaves it out")
            continue
        built.append(q)
    return built, unbuilt


def _schemes(study: Study) -> tuple[dict[str, Boundaries], dict[str, Any]]:
    plans = load_plans(list(study.analyses))
    bounds, meta = {}, {}
    for p in plans:
        m = p.monitoring
        bounds[p.family] = planned_boundaries(m.planned_looks, m.alpha, m.spending)
        meta[p.family] = {"planned_looks": m.planned_looks, "spending": m.spending,
                          "alpha": m.alpha, "target_hr": m.target_hr, "power": m.power,
                          "boundaries": bounds[p.family].tidy()}
    return bounds, meta


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in frame.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                    for k, v in rec.items()})
    return out


def track_study(study: Study, q: Quarter, *, build: bool = True) -> dict[str, Any]:
    """The tracking series of ``study`` up to quarter ``q`` (module docstring); returns the
    content of ``tracking.json``."""
    definition = load_definition(study.cohort)
    quarters = possible_quarters(definition.start, q.last_day)
    built, unbuilt = build_missing(study, quarters) if build else ([], {})
    bounds, schemes = _schemes(study)
    rows, looks = [], []
    for look, quarter in enumerate(quarters, start=1):
        estimates = _bundle(study, quarter)
        if estimates is None and quarter.label in unbuilt:
            looks.append({"quarter": quarter.label, "look": look, "version": None,
                          "versions_kept": [], "built_now": False,
                          "not_built": unbuilt[quarter.label]})
            continue
        if estimates is None:
            raise InputError(f"no results bundle for {quarter}; run `evaluation analyse "
                             f"--quarter {quarter}`", file=str(study.results_dir(quarter)))
        version = keep_version(study.quarter_dir(quarter))
        looks.append({"quarter": quarter.label, "look": look, "version": version,
                      "versions_kept": kept_versions(study.quarter_dir(quarter)),
                      "built_now": quarter in built})
        rows += trajectory_rows(quarter.label, look, version, estimates, bounds)
    table = pd.DataFrame(rows)
    proj = projections(table, bounds, {f: s["target_hr"] for f, s in schemes.items()},
                       {f: s["power"] for f, s in schemes.items()})
    with step(f"process indicators as of {q.last_day}"):
        cohort_file = study.cohort_dir(q) / "cohort.parquet"
        cohort = pd.read_parquet(cohort_file) if cohort_file.is_file() else None
        indicators = process_indicators(study.warehouse, definition, q.last_day, cohort)
    doc = {"schema_version": "1.0", "quarter": q.label, "analysis_date": q.last_day.isoformat(),
           "initiative_start": definition.start.isoformat(), "looks": looks,
           "monitoring": schemes, "projections": {f: p.to_dict() for f, p in proj.items()},
           "trajectory": _records(table), "indicators": _records(indicators)}
    with atomic_dir(study.quarter_dir(q) / TRACKING) as tmp:
        write_parquet(tmp / "tracking.parquet", table)
        write_parquet(tmp / "indicators.parquet", indicators)
        write_json(tmp / "tracking.json", doc)
    return doc
