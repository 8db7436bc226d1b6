"""Key custody, owned folders, one run at a time, bounded readers, named internal errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from evaluation import atomic
from evaluation.atomic import MARK, FolderInUse, NotOwned, atomic_dir, lock
from evaluation.cli import cli
from evaluation.errors import ConfigError, EvaluationError, InputError, InternalError
from evaluation.io import ReadLimits, read_table, reading_limits
from evaluation.keys import KeyMismatch, check_study_inputs, generate_key_file

ROOT = Path(__file__).resolve().parents[1]


def _output(result) -> str:
    return result.output  # stdout and stderr as the user sees them


# -- owned folders ------------------------------------------------------------------------------

def _write(target: Path, name: str = "a.txt", text: str = "v1") -> None:
    with atomic_dir(target, kind="test") as tmp:
        (tmp / name).write_text(text)


def test_a_folder_is_replaced_only_with_the_mark_and_nothing_foreign(tmp_path):
    target = tmp_path / "cohort"
    _write(target)
    assert json.loads((target / MARK).read_text())["entries"] == ["a.txt"]
    _write(target, text="v2")
    assert (target / "a.txt").read_text() == "v2"
    (target / "pseudonym.key").write_text("secret")  # a key put in an output folder by hand
    with pytest.raises(NotOwned, match="did not write"):
        _write(target, text="v3")
    assert (target / "pseudonym.key").read_text() == "secret" and (target / "a.txt").read_text() == "v2"
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(NotOwned, match="not written by this toolkit"):
        _write(mine)
    assert (mine / "notes.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort", "mine"]  # no temp, no lock


def test_output_may_not_be_or_contain_the_key_or_raw_folder(tmp_path):
    secrets = tmp_path / "out" / "secrets"
    secrets.mkdir(parents=True)
    with pytest.raises(NotOwned, match="key or the raw extracts"):
        atomic.check_replaceable(tmp_path / "out", [secrets])
    study = tmp_path / "study.toml"
    study.write_text('[study]\nwarehouse = "wh"\ncohort = "c.toml"\noutput = "out"\n'
                     'key = "out/secrets/k.key"\n', encoding="utf-8")
    from evaluation.study import load_study

    with pytest.raises(ConfigError, match="key's folder") as err:
        load_study(study)
    assert err.value.key == "study.output"


def test_killed_swap_is_put_back_and_stale_temporary_folders_removed(tmp_path, monkeypatch):
    target = tmp_path / "results"
    _write(target, text="old")
    # a run killed between the two renames of the fallback swap (no renameat2 exchange)
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    real_replace = os.replace
    calls = []

    def killed(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the kill
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        _write(target, text="new")
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    assert not target.exists() and (tmp_path / ".results.old").is_dir()
    stale = tmp_path / ".results.abc123.tmp"  # a temporary folder of a killed run
    stale.mkdir()
    (stale / MARK).write_text(json.dumps({"written_by": "evaluation", "entries": []}))
    _write(target, text="newer")  # the next run puts the old folder back, then replaces it
    assert (target / "a.txt").read_text() == "newer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_exchange_swaps_two_folders_in_one_step(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not atomic._exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) not available on this file system")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


# -- one run at a time --------------------------------------------------------------------------

def _hold_lock(folder: Path) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        import sys, time
        from evaluation.atomic import lock
        with lock({str(folder)!r}):
            print("held", flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_run_on_the_same_output_stops_with_one_message(tmp_path):
    study = tmp_path / "study.toml"
    study.write_text('[study]\nwarehouse = "wh"\ncohort = "c.toml"\noutput = "out"\n'
                     'data_end = "2026-09-30"\n', encoding="utf-8")
    proc = _hold_lock(tmp_path / "out")
    try:
        result = CliRunner().invoke(cli, ["run", str(study), "--skip-pseudonymise"])
        text = _output(result)
        assert result.exit_code == 2 and "another run is using" in text and "Traceback" not in text
        assert len(text.strip().splitlines()) == 1
        with pytest.raises(FolderInUse), lock(tmp_path / "out", shared=True):
            pass
    finally:
        proc.kill()
        proc.wait()
    with lock(tmp_path / "out"), lock(tmp_path / "out"):  # released by the killed process;
        pass  # re-entrant in one process
    assert not (tmp_path / ".out.lock").exists()


def _study_file(folder: Path, warehouse: str, output: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    study = folder / "study.toml"
    study.write_text(f'[study]\nwarehouse = "{warehouse}"\ncohort = "c.toml"\n'
                     f'output = "{output}"\ndata_end = "2026-09-30"\n', encoding="utf-8")
    return study


@pytest.mark.parametrize(("held", "output", "where"), [
    ("out", "out/2026Q3", "contains"),  # this study's output is the other's quarter folder
    ("out/2026Q3/cohort", "out", "is inside"),  # the other study writes inside this output
])
def test_a_run_whose_output_is_nested_with_another_runs_folder_stops(tmp_path, held, output, where):
    study = _study_file(tmp_path / "b", "../wh", f"../{output}")
    proc = _hold_lock(tmp_path / held)
    try:
        result = CliRunner().invoke(cli, ["run", str(study), "--skip-pseudonymise"])
        text = _output(result)
        assert result.exit_code == 2 and "Traceback" not in text, text
        assert len(text.strip().splitlines()) == 1, text
        assert f"another run is using {tmp_path / held}, which {where} {tmp_path / output}" in text
        assert "never one inside the other" in text
        # the refused run leaves no lock behind, and the other run keeps its own
        assert not atomic.lock_file(tmp_path / output).exists()
        assert atomic._held_elsewhere(atomic.lock_file(tmp_path / held))
    finally:
        proc.kill()
        proc.wait()
    with lock(tmp_path / output):  # free again once the other run has ended
        pass


def test_a_warehouse_inside_another_runs_output_is_refused(tmp_path):
    proc = _hold_lock(tmp_path / "a" / "out")
    try:
        with pytest.raises(FolderInUse, match="which contains"), \
                lock(tmp_path / "a" / "out" / "warehouse", shared=True):
            pass
        with lock(tmp_path / "a" / "elsewhere", shared=True):  # a folder beside it is free
            pass
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize(("warehouse", "output", "where"), [
    ("out/warehouse", "out", "is inside"), ("wh", "wh/out", "contains"), ("same", "same", "is"),
])
def test_a_study_whose_warehouse_and_output_are_nested_is_refused(tmp_path, warehouse, output, where):
    study = _study_file(tmp_path, warehouse, output)
    result = CliRunner().invoke(cli, ["cohort", "build", str(study)])
    text = _output(result)
    assert result.exit_code == 2 and len(text.strip().splitlines()) == 1, text
    assert f"the warehouse {tmp_path / warehouse} {where} the output folder {tmp_path / output}" in text
    assert "study.warehouse" in text and "Traceback" not in text


# -- key custody --------------------------------------------------------------------------------

def test_inputs_from_different_keys_are_refused(tmp_path):
    wh, cohort, bundle = tmp_path / "wh", tmp_path / "cohort", tmp_path / "results"
    for folder in (wh, cohort, bundle):
        folder.mkdir()
    (wh / "linkage_report.json").write_text(json.dumps({"key_fingerprint": "aaaaaaaaaaaa"}))
    (cohort / "cohort.json").write_text(json.dumps({"key_fingerprint": "aaaaaaaaaaaa"}))
    (bundle / "manifest.json").write_text(json.dumps({"key_fingerprint": "aaaaaaaaaaaa"}))
    assert check_study_inputs("report", warehouse=wh, cohort=cohort, bundle=bundle) == "aaaaaaaaaaaa"
    (wh / "linkage_report.json").write_text(json.dumps({"key_fingerprint": "bbbbbbbbbbbb"}))
    with pytest.raises(KeyMismatch, match="different pseudonymisation keys") as err:
        check_study_inputs("analyse", warehouse=wh, cohort=cohort)
    assert "analyse" in str(err.value) and "bbbbbbbbbbbb" in str(err.value)
    (cohort / "cohort.json").write_text(json.dumps({"design": "old, no fingerprint"}))
    with pytest.raises(KeyMismatch, match="no key fingerprint"):
        check_study_inputs("analyse", warehouse=wh, cohort=cohort)


def test_re_pseudonymising_with_another_key_is_refused_then_detected(simulated_raw, tmp_path):
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    key_a, key_b = generate_key_file(secrets / "a.key"), generate_key_file(secrets / "b.key")
    wh = tmp_path / "warehouse"
    run = CliRunner().invoke
    assert run(cli, ["--quiet", "pseudonymise", str(simulated_raw), "--key", str(key_a),
                     "--out", str(wh)]).exit_code == 0
    before = {p.name: p.read_bytes() for p in wh.iterdir()}
    result = run(cli, ["--quiet", "pseudonymise", str(simulated_raw), "--key", str(key_b),
                       "--out", str(wh)])
    assert result.exit_code == 2 and "made with another key" in _output(result)
    assert {p.name: p.read_bytes() for p in wh.iterdir()} == before  # nothing lost
    study = tmp_path / "study.toml"
    study.write_text(f'[study]\nwarehouse = "warehouse"\ncohort = "{ROOT / "cohorts" / "knock_knock.toml"}"\n'
                     'output = "output"\nseed = 3\n', encoding="utf-8")
    result = run(cli, ["--quiet", "cohort", "build", str(study)])
    assert result.exit_code == 0, _output(result)
    assert run(cli, ["--quiet", "pseudonymise", str(simulated_raw), "--key", str(key_b),
                     "--out", str(wh), "--new-key"]).exit_code == 0
    result = run(cli, ["--quiet", "analyse", str(study)])
    text = _output(result)
    assert result.exit_code == 2 and "different pseudonymisation keys" in text
    assert "cohort build, then analyse" in text and len(text.strip().splitlines()) == 1


# -- bounded readers ----------------------------------------------------------------------------

SMALL = ReadLimits(max_file_bytes=200_000, max_line_bytes=4096, max_columns=50)


@pytest.mark.parametrize("content, message", [
    (b"0123456789," * 10_000, "more than 50 columns"),           # one line, no line break
    (b"x" * 50_000, "first line is longer than"),                 # one line, no delimiter
    (b"cpr," + b",".join(b"c%d" % i for i in range(80)) + b"\n", "has 81 columns"),
    (b"cpr,case_id\n0505078724," + b"y" * 20_000 + b"\n", "line (record) longer than"),
    (b"cpr,case_id\n" + b"0505078724,K1\n" * 20_000, "more than the limit of"),  # file size
])
def test_hostile_csv_is_refused_with_one_message_naming_file_and_setting(tmp_path, content, message):
    path = tmp_path / "charges.csv"
    path.write_bytes(content)
    with reading_limits(SMALL), pytest.raises(InputError, match=re.escape(message)) as err:
        read_table(path)
    assert "charges.csv" in str(err.value) and "[limits]" in str(err.value)
    assert "0505078724" not in str(err.value) and "c79" not in str(err.value)


def test_limits_come_from_the_study_file_and_wide_parquet_is_refused(tmp_path):
    from evaluation.study import load_study

    study = tmp_path / "study.toml"
    study.write_text('[study]\nwarehouse = "wh"\ncohort = "c.toml"\n\n'
                     "[limits]\nmax_file_mb = 5\nmax_line_kb = 64\nmax_columns = 20\n", encoding="utf-8")
    limits = load_study(study).limits
    assert limits == ReadLimits(max_file_bytes=5 * 1024**2, max_line_bytes=64 * 1024, max_columns=20)
    pq.write_table(pa.table({f"c{i}": [1] for i in range(30)}), tmp_path / "wide.parquet")
    with reading_limits(limits), pytest.raises(InputError, match="more than 20 columns"):
        read_table(tmp_path / "wide.parquet")
    assert len(read_table(tmp_path / "wide.parquet").columns) == 30  # the defaults allow it
    study.write_text('[study]\nwarehouse = "wh"\ncohort = "c.toml"\n\n[limits]\nmax_rows = 3\n',
                     encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key"):
        load_study(study)


def test_pseudonymise_refuses_a_source_that_is_a_copy_of_the_key(tmp_path):
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    key = generate_key_file(secrets / "k.key")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "charges.csv").write_bytes(key.read_bytes())
    result = CliRunner().invoke(cli, ["pseudonymise", str(raw), "--key", str(key),
                                      "--out", str(tmp_path / "wh")])
    text = _output(result)
    assert result.exit_code == 2 and "holds the pseudonymisation key" in text
    secret = key.read_text().strip()
    assert not any(secret[i:i + 6] in text for i in range(len(secret) - 6))


# -- internal errors ----------------------------------------------------------------------------

def test_an_internal_error_names_the_stage_and_the_step(tmp_path, monkeypatch):
    from evaluation import validate
    from evaluation.pipeline import run_stages
    from evaluation.progress import step

    def broken(*args, **kwargs):
        with step("checking a table"):
            assert False  # the bare assertion of a bug

    monkeypatch.setattr(validate, "validate_folder", broken)
    (tmp_path / "wh").mkdir()
    with pytest.raises(InternalError) as err:
        run_stages([("validate", ["validate", str(tmp_path / "wh")])])
    assert err.value.exit_code == 70
    assert "stage 'validate', while checking a table: AssertionError" in str(err.value)
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "wh")])
    assert result.exit_code == 70 and "internal error in 'evaluation validate'" in _output(result)
    assert "Traceback" not in _output(result)
    assert isinstance(InternalError("x", AssertionError()), EvaluationError)


def test_planted_numbers_in_stdout_of_every_command_are_masked(tmp_path):
    # a folder whose name holds a CPR number: every path echoed is masked
    folder = tmp_path / "x 050507-8724"
    folder.mkdir()
    pd.DataFrame({"a": [1]}).to_csv(folder / "notes.csv", index=False)
    result = CliRunner().invoke(cli, ["validate", str(folder)])
    assert "8724" not in _output(result)


def test_a_key_put_into_the_cohort_folder_stops_cohort_build_and_survives(simulated_warehouse,
                                                                          tmp_path):
    sim = json.loads((simulated_warehouse / "simulation.json").read_text(encoding="utf-8"))
    study = tmp_path / "study.toml"
    study.write_text(f'[study]\nwarehouse = "{simulated_warehouse}"\n'
                     f'cohort = "{ROOT / "cohorts" / "knock_knock.toml"}"\noutput = "output"\n'
                     f'data_end = "{sim["data_end"]}"\n', encoding="utf-8")
    from evaluation.quarters import study_quarter
    from evaluation.study import load_study

    loaded = load_study(study)
    cohort = loaded.cohort_dir(study_quarter(loaded, None))
    _write(cohort, "cohort.parquet")  # a cohort folder this toolkit wrote
    (cohort / "pseudonym.key").write_text("secret\n")
    result = CliRunner().invoke(cli, ["cohort", "build", str(study)])
    text = _output(result)
    assert result.exit_code == 2 and "did not write, e.g. 'pseudonym.key'" in text
    assert "nothing was changed" in text and len(text.strip().splitlines()) == 1
    assert (cohort / "pseudonym.key").read_text() == "secret\n"
