"""CPR numbers planted in every column and in every file name never reach an output.

The raw extracts get, in every source, rows whose every non-CPR column holds a CPR number (in
every spelling the parser accepts), an extra column whose header is a CPR number, and a file
name with a CPR number in it. The whole study then runs (`evaluation run`) and every file it
wrote, and everything it printed, is searched for every planted number and for every real CPR
number of the extracts, in any spelling.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from evaluation import contract, cpr
from evaluation.cli import cli
from evaluation.keys import generate_key_file

ROOT = Path(__file__).resolve().parents[1]
SPELL = [
    lambda n: n,
    lambda n: f"{n[:6]}-{n[6:]}",
    lambda n: f"{n[:2]} {n[2:4]} {n[4:6]} {n[6:]}",
    lambda n: f"{n[:2]}-{n[2:4]}-{n[4:6]}-{n[6:]}",
    lambda n: f"{n[:6]} - {n[6:]}",
    lambda n: f"{n[:6]}\u00a0{n[6:]}",
    lambda n: f"sag {n[:6]}-{n[6:]}/2",
]
_RUN = re.compile(r"[0-9](?:[\s\-]*[0-9])*")


def identifiers_in(text: str, wanted: set[str]) -> set[str]:
    """The numbers of ``wanted`` found in ``text``, in any spelling (blanks and hyphens
    anywhere, with no limit), also inside longer runs of digits; the decimals of a number are
    not searched (a propensity score's digits can hold a valid CPR number by chance)."""
    found = set()
    for match in _RUN.finditer(text):
        at = match.start()
        if at >= 2 and text[at - 1] == "." and text[at - 2].isdigit():
            continue  # the decimals of a number (0.0611048868...), not an identifier
        digits = re.sub(r"\D", "", match.group(0))
        for start in range(len(digits) - 9):
            if digits[start:start + 10] in wanted:
                found.add(digits[start:start + 10])
    return found


def _planted_numbers(n: int) -> list[str]:
    rng = np.random.default_rng(99)
    births = pd.to_datetime("1990-01-01") + pd.to_timedelta(rng.integers(0, 9000, n), unit="D")
    return list(cpr.generate(births.to_numpy(), np.where(rng.random(n) < 0.5, "M", "F"), rng,
                             hyphen=False))


def _plant(raw: Path, dest: Path) -> tuple[set[str], set[str], dict[str, str]]:
    """Copy the simulated extracts with CPR numbers planted; return the planted and real
    numbers, and the study file's [sources] file names."""
    dest.mkdir()
    numbers = iter(_planted_numbers(400))
    planted: set[str] = set()
    real: set[str] = set()
    files: dict[str, str] = {}
    for k, name in enumerate(contract.SOURCE_NAMES):
        frame = pd.read_csv(raw / f"{name}.csv", dtype=str, keep_default_na=False)
        real.update(cpr.normalise(frame["cpr"]).tolist())
        rows = []
        for j, column in enumerate(c for c in frame.columns if c != "cpr"):
            for i, spell in enumerate(SPELL):
                row = frame.iloc[(7 * j + i) % len(frame)].copy()
                number = next(numbers)
                planted.add(number)
                row[column] = spell(number)
                rows.append(row)
        frame = pd.concat([frame, pd.DataFrame(rows)], ignore_index=True)
        header = next(numbers)
        planted.add(header)
        frame[SPELL[1](header)] = "x"  # a column whose header is a CPR number
        in_name = next(numbers)
        planted.add(in_name)
        file = f"{name}_{SPELL[k % 5](in_name)}.csv"
        frame.to_csv(dest / file, index=False)
        files[name] = file
    for extra in ("simulation.json", "truth.json"):
        shutil.copy(raw / extra, dest / extra)
    return planted, real | planted, files


@pytest.mark.slow
def test_planted_cpr_numbers_reach_no_output_log_or_message(simulated_raw, tmp_path):
    study_dir = tmp_path / "study"
    study_dir.mkdir()
    planted, wanted, files = _plant(simulated_raw, study_dir / "raw")
    # the search finds every planted number in the extracts and their file names
    raw_text = "\n".join(p.name + "\n" + p.read_text(encoding="utf-8")
                         for p in (study_dir / "raw").glob("*.csv"))
    assert identifiers_in(raw_text, planted) == planted
    (study_dir / "secrets").mkdir(mode=0o700)
    generate_key_file(study_dir / "secrets" / "study.key")
    analyses = ", ".join(f'"{p.as_posix()}"' for p in sorted((ROOT / "analyses").glob("*.toml")))
    sources = "".join(f'\n[sources.{n}]\nfile = "raw/{f}"\n' for n, f in files.items())
    study = study_dir / "study.toml"
    study.write_text(
        '[study]\nname = "planted"\nraw = "raw"\nwarehouse = "warehouse"\n'
        'key = "secrets/study.key"\n'
        f'cohort = "{(ROOT / "cohorts" / "knock_knock.toml").as_posix()}"\n'
        f"analyses = [{analyses}]\noutput = \"output\"\nseed = 5\n"
        # many rows are planted on purpose: the run must go on and quarantine them
        f"max_quarantine_share = 0.5\n{sources}\n"
        '[report]\nlanguages = ["en"]\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(study)])
    printed = result.output  # stdout and stderr
    assert result.exit_code == 0, printed[-3000:]

    assert not identifiers_in(printed, wanted)
    written = [p for p in study_dir.rglob("*") if p.is_file()
               and study_dir / "raw" not in p.parents and p.name not in ("study.key", "study.toml")]
    assert any(p.suffix == ".html" for p in written) and any(p.suffix == ".parquet" for p in written)
    for path in written:
        data = path.read_bytes()
        text = data.decode("utf-8", errors="replace") + data.decode("latin-1")
        assert not identifiers_in(text, wanted), path.relative_to(study_dir)
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            cells = " ".join(map(str, table.column_names)) + str(table.schema.metadata)
            for column in table.columns:
                cells += "\n" + "\n".join(map(str, column.cast("string").to_pylist()))
            assert not identifiers_in(cells, wanted), path.relative_to(study_dir)

    # what happened to the planted rows, source by source
    quarantine = pd.read_parquet(study_dir / "warehouse" / "quarantine.parquet")
    reasons = set(quarantine["reason"])
    assert {"cpr_number offence_code", "cpr_number municipality_code",
            "unknown_category contact_type", "unknown_category offence_category",
            "out_of_range hours", "unparseable contact_date"} <= reasons
    charges = pd.read_parquet(study_dir / "warehouse" / "charges.parquet")
    assert charges["case_id"].str.fullmatch(r"[0-9a-f]{32}").all()  # keyed hashes, linked
    convictions = pd.read_parquet(study_dir / "warehouse" / "convictions.parquet")
    assert convictions["case_id"].isin(set(charges["case_id"])).mean() > 0.9
    groups = pd.read_parquet(study_dir / "warehouse" / "group_registrations.parquet")
    assert groups["group_id"].str.fullmatch(r"[0-9a-f]{32}").all()
