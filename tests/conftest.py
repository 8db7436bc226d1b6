"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# --- reports: a factory results bundle rendered once per session (both languages) ---------------
@pytest.fixture(scope="session")
def rendered_reports(tmp_path_factory):
    """A study with a factory results bundle, rendered by `evaluation report` (da and en).

    Returns a dict with ``study`` (the study file), ``dir`` (report folder of 2026Q3), ``stdout``
    and ``paths`` {(lang, doc): Path}.
    """
    from bundle_factory import make_study
    from click.testing import CliRunner

    from evaluation.cli import cli

    study = make_study(tmp_path_factory.mktemp("report_study"))
    result = CliRunner().invoke(cli, ["--quiet", "report", str(study), "--quarter", "2026Q3"])
    assert result.exit_code == 0, result.output
    out = study.parent / "output" / "2026Q3" / "report"
    paths = {(lang, doc): out / lang / f"{doc}.html"
             for lang in ("da", "en") for doc in ("quarterly", "technical")}
    return {"study": study, "dir": out, "stdout": result.output, "paths": paths}


# --- simulated data (evaluation simulate) -------------------------------------------------------

def _simulate(tmp_path_factory, name: str, persons: int, seed: int) -> Path:
    from evaluation.progress import set_quiet
    from evaluation.simulate import simulate

    out = tmp_path_factory.mktemp("simulated") / name
    set_quiet(True)
    try:
        simulate(out, persons, seed, form=name)
    finally:
        set_quiet(False)
    return out


@pytest.fixture(scope="session")
def simulated_warehouse(tmp_path_factory) -> Path:
    """A simulated warehouse: 20,000 persons, seed 11 (Parquet with person_id, truth.json)."""
    return _simulate(tmp_path_factory, "warehouse", 20000, 11)


@pytest.fixture(scope="session")
def simulated_raw(tmp_path_factory) -> Path:
    """Simulated raw extracts: 5,000 persons, seed 12 (CSV with CPR numbers, truth.json)."""
    return _simulate(tmp_path_factory, "raw", 5000, 12)
