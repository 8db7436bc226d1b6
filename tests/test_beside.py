"""The placebo index, the area-level estimators and the contacts summary in a second process
(:mod:`evaluation.analysis.beside`) give the same bundle as one process, and a user's mistake
found there is still one clear message."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from evaluation.analysis import beside
from evaluation.analysis.beside import PARALLEL_MIN_ROWS, default_jobs
from evaluation.analysis.run import Outcomes
from evaluation.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def _study(folder: Path, warehouse: Path, extra: str = "") -> Path:
    analyses = ", ".join(f'"{p}"' for p in sorted((ROOT / "analyses").glob("*.toml")))
    study = folder / "study.toml"
    study.write_text(
        f'[study]\nname = "beside"\nwarehouse = "{warehouse}"\n'
        f'cohort = "{ROOT / "cohorts" / "knock_knock.toml"}"\nanalyses = [{analyses}]\n'
        f'output = "output"\ndata_end = "2026-09-30"\nseed = 5\n{extra}')
    return study


def _bundle(results: Path) -> dict[Path, bytes]:
    return {p.relative_to(results): p.read_bytes() for p in sorted(results.rglob("*")) if p.is_file()
            and p.name != "manifest.json"}


@pytest.fixture(scope="module")
def built(simulated_warehouse, tmp_path_factory):
    folder = tmp_path_factory.mktemp("beside")
    study = _study(folder, simulated_warehouse)
    out = CliRunner().invoke(cli, ["--quiet", "cohort", "build", str(study)])
    assert out.exit_code == 0, out.output
    return study, folder / "output" / "2026Q3" / "results"


@pytest.fixture(scope="module")
def one_process(built):
    study, results = built
    out = CliRunner().invoke(cli, ["--quiet", "analyse", str(study), "--jobs", "1"])
    assert out.exit_code == 0, out.output
    return _bundle(results), out.output


def _same(first: dict[Path, bytes], second: dict[Path, bytes]) -> None:
    assert first.keys() == second.keys()
    for name, content in first.items():
        assert content == second[name], f"{name} differs between --jobs 1 and --jobs 2"


def test_two_processes_write_the_same_bundle_as_one(built, one_process):
    study, results = built
    first, printed = one_process
    est = json.loads(first[Path("estimates.json")])
    assert est["falsification"]["placebo"]["evaluated"] and est["area"]["methods"]
    two = CliRunner().invoke(cli, ["--quiet", "analyse", str(study), "--jobs", "2"])
    assert two.exit_code == 0, two.output
    _same(first, _bundle(results))
    assert printed == two.output


def test_the_second_process_takes_the_outcomes_the_first_leaves(built, one_process, monkeypatch):
    """The first process analyses one outcome and then waits until the second has taken every
    other one from the shared list (the patch acts in the first process only)."""
    study, results = built
    claim = beside._Counter.claim
    analysed: list[int] = []

    def first_takes_one(self, n):
        if self.shared is None or self.shared.value == 0:
            return claim(self, n)
        deadline = time.monotonic() + 300
        while self.shared.value <= n and time.monotonic() < deadline:  # the second's last claim finds none
            time.sleep(0.1)
        return None

    def analyse(self, k):
        analysed.append(k)
        return analyse_one(self, k)

    analyse_one = Outcomes.analyse
    monkeypatch.setattr(beside._Counter, "claim", first_takes_one)
    monkeypatch.setattr(Outcomes, "analyse", analyse)
    out = CliRunner().invoke(cli, ["--quiet", "analyse", str(study), "--jobs", "2"])
    assert out.exit_code == 0, out.output
    assert analysed == [0]
    _same(one_process[0], _bundle(results))


def test_a_mistake_found_in_the_second_process_is_one_clear_message(built, simulated_warehouse):
    study, _ = built
    bad = _study(study.parent, simulated_warehouse, '[area]\nevents = ["1990-01:1990-06:too early"]\n')
    out = CliRunner().invoke(cli, ["--quiet", "analyse", str(bad), "--jobs", "2"])
    assert out.exit_code == 2, out.output
    assert "has no period inside the data" in out.output and "Traceback" not in out.output
    assert str(bad) in out.output


def test_a_second_process_only_for_a_large_cohort():
    assert default_jobs(PARALLEL_MIN_ROWS - 1) == 1
    assert default_jobs(PARALLEL_MIN_ROWS) in (1, 2)
