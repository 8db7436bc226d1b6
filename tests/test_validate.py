"""`evaluation validate`: every kind of problem is found at its file, row and column; clean
tables pass; no CPR number is ever printed."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from evaluation import cpr as cprmod
from evaluation.cli import cli
from evaluation.validate import validate_folder

# Four people: CPR numbers as delivered (mixed spellings), birth dates 2005-2008.
CPRS = ["010105-4233", "1506065124", "280207-4322", "0912084331"]
BIRTHS = ["2005-01-01", "2006-06-15", "2007-02-28", "2008-12-09"]


def clean_tables() -> dict[str, pd.DataFrame]:
    """Small raw tables that satisfy the whole contract."""
    c = CPRS
    return {
        "contacts": pd.DataFrame({
            "cpr": [c[0], c[1], c[1]],
            "contact_date": ["2024-01-10", "2024-02-11", "2024-05-02"],
            "contact_type": ["knock_knock", "ssp", "knock_knock"],
            "parents_present": ["ja", "", "0"],
            "referred_to": ["leisure", "none", "education"],
        }),
        "residence": pd.DataFrame({
            "cpr": [c[0], c[1], c[2], c[3], c[3]],
            "municipality_code": ["851", "851", "101", "851", "461"],
            "from_date": ["2016-10-01", "2016-10-01", "2016-10-01", "2016-10-01", "2020-03-01"],
            "to_date": ["", "", "", "2020-02-29", ""],
        }),
        "vital": pd.DataFrame({
            "cpr": [c[2]],
            "death_date": ["2025-03-01"],
            "emigration_date": [""],
        }),
        "charges": pd.DataFrame({
            "cpr": [c[0], c[0], c[2], c[1]],
            "case_id": ["K-1", "K-2", "K-2", "K-3"],
            "offence_date": ["2022-03-01", "2023-05-05", "2023-05-05", "2024-07-01"],
            "charge_date": ["2022-03-09", "2023-05-20", "2023-05-21", "2024-07-01"],
            "offence_code": ["V-0244", "P-0100", "P-0100", "D-0010"],
            "offence_category": ["violence", "property", "property", "drugs"],
        }),
        "convictions": pd.DataFrame({
            "cpr": [c[0], c[2]],
            "case_id": ["K-1", "K-2"],
            "decision_date": ["2022-09-01", "2024-01-10"],
            "offence_date": ["2022-03-01", "2023-05-05"],
            "sanction": ["fine", "custody"],
        }),
        "custody": pd.DataFrame({
            "cpr": [c[2]],
            "start_date": ["2024-01-10"],
            "end_date": ["2024-06-30"],
            "custody_type": ["prison"],
        }),
        "education": pd.DataFrame({
            "cpr": [c[0], c[1], c[3]],
            "start_date": ["2011-08-10", "2022-08-10", "2014-08-10"],
            "end_date": ["2021-06-25", "", ""],
            "level": ["primary", "youth_vocational", "primary"],
            "status": ["completed", "ongoing", "ongoing"],
        }),
        "employment": pd.DataFrame({
            "cpr": [c[0], c[0], c[1]],
            "month": ["2024-01", "2024-02", "2023-11"],
            "hours": ["37", "12.5", "80"],
        }),
        "group_registrations": pd.DataFrame({
            "cpr": [c[0]],
            "group_id": ["G-7"],
            "registered_date": ["2023-06-01"],
            "deregistered_date": [""],
        }),
        "negative_control_events": pd.DataFrame({
            "cpr": [c[1], c[3]],
            "event_date": ["2023-08-14", "2024-02-02"],
            "outcome": ["traffic_fine", "accidental_injury"],
        }),
    }


def write_raw(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def pseudonym(values) -> list[str]:
    norm = cprmod.normalise(list(values))
    return [hashlib.md5(v.encode()).hexdigest() for v in norm]


def write_warehouse(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """The same tables in warehouse form (person_id, typed Parquet columns) + persons."""
    from evaluation import contract

    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        schema = contract.source(name, "warehouse")
        out = {"person_id": pseudonym(frame["cpr"])}
        for col in schema.columns[1:]:
            v = frame[col.name].replace("", None)
            if col.type == "date":
                out[col.name] = pd.to_datetime(v).dt.date
            elif col.type == "float":
                out[col.name] = pd.to_numeric(v).astype("float64")
            elif col.type == "bool":
                out[col.name] = v.map({"ja": True, "0": False, None: None}).astype("boolean")
            else:
                out[col.name] = v
        pd.DataFrame(out).to_parquet(folder / f"{name}.parquet", index=False)
    parsed = cprmod.parse(CPRS)
    pd.DataFrame({
        "person_id": pseudonym(CPRS),
        "birth_date": parsed["birth_date"].dt.date,
        "sex": parsed["sex"],
    }).to_parquet(folder / "persons.parquet", index=False)
    return folder


def run(*args: str):
    result = CliRunner().invoke(cli, ["-q", "validate", *map(str, args)])
    return result


def assert_no_cpr(text: str, cprs=CPRS) -> None:
    for c in cprs:
        digits = c.replace("-", "")
        if not digits:
            continue
        for form in (digits, f"{digits[:6]}-{digits[6:]}"):
            assert form not in text, "a CPR number was printed"


def problem_lines(output: str, file: str, check: str) -> list[str]:
    return [ln for ln in output.splitlines() if ln.startswith(("ERROR", "WARNING"))
            and (ln[8:].startswith(f"{file}, ") or ln[8:].startswith(f"{file}: "))
            and ln.endswith(f"[{check}]")]


def test_births_of_the_fixture_match_the_cpr_numbers():
    parsed = cprmod.parse(CPRS)
    assert parsed["reason"].isna().all()
    assert [d.strftime("%Y-%m-%d") for d in parsed["birth_date"]] == BIRTHS


def test_clean_raw_tables_pass(tmp_path):
    folder = write_raw(tmp_path / "raw", clean_tables())
    result = run(folder)
    assert result.exit_code == 0, result.output
    assert "Validation passed" in result.output
    assert "ERROR" not in result.output
    assert_no_cpr(result.output)


def test_clean_warehouse_passes(tmp_path):
    folder = write_warehouse(tmp_path / "wh", clean_tables())
    result = run(folder)
    assert result.exit_code == 0, result.output
    assert "ERROR" not in result.output and "WARNING" not in result.output
    report = validate_folder(folder)
    assert {t.form for t in report.tables} == {"warehouse"}
    assert report.ok and report.warnings == 0


# Each case: (source, row index 0-based, column, new value, check reported, reported column)
FAULTS = [
    ("charges", 1, "offence_date", "2023-02-30", "bad_date", "offence_date"),
    ("charges", 2, "charge_date", "05/05/2023", "bad_date", "charge_date"),
    ("employment", 1, "month", "2024-13", "bad_month", "month"),
    ("employment", 2, "hours", "lots", "bad_number", "hours"),
    ("employment", 0, "hours", "-4", "below_minimum", "hours"),
    ("contacts", 2, "contact_type", "knock", "unknown_category", "contact_type"),
    ("convictions", 1, "sanction", "Custody", "unknown_category", "sanction"),
    ("contacts", 0, "parents_present", "maybe", "bad_bool", "parents_present"),
    ("residence", 2, "municipality_code", "", "missing_value", "municipality_code"),
    ("charges", 3, "offence_date", "", "missing_value", "offence_date"),
    ("custody", 0, "end_date", "2023-12-31", "end_before_start", "end_date"),
    ("charges", 0, "charge_date", "2022-02-01", "end_before_start", "charge_date"),
    ("charges", 0, "offence_date", "2004-12-31", "before_birth", "offence_date"),
    ("employment", 2, "month", "2006-05", "before_birth", "month"),
    ("education", 2, "start_date", "2008-12-01", "before_birth", "start_date"),
    ("convictions", 1, "decision_date", "2025-03-02", "after_death", "decision_date"),
    ("charges", 2, "charge_date", "2025-04-01", "after_death", "charge_date"),
    ("contacts", 0, "cpr", "010105-423", "malformed_cpr", "cpr"),
    ("contacts", 1, "cpr", "15O6065124", "malformed_cpr", "cpr"),
    ("charges", 3, "cpr", "3202064121", "invalid_cpr_birth_date", "cpr"),
    ("employment", 1, "cpr", "", "missing_cpr", "cpr"),
]


@pytest.mark.parametrize("source,row,column,value,check,reported", FAULTS,
                         ids=[f"{f[4]}-{f[0]}-{f[2]}" for f in FAULTS])
def test_each_fault_is_found_at_its_row_and_column(tmp_path, source, row, column, value, check, reported):
    tables = clean_tables()
    tables[source].loc[row, column] = value
    folder = write_raw(tmp_path / "raw", tables)
    result = run(folder)
    assert result.exit_code == 1, result.output
    lines = problem_lines(result.output, f"{source}.csv", check)
    assert len(lines) == 1, result.output
    assert f"row {row + 1}," in lines[0] and f"column '{reported}'" in lines[0]
    if check in ("bad_date", "bad_month", "bad_number", "unknown_category", "bad_bool"):
        assert repr(value) in lines[0]  # the offending value as it stands
    # Only this problem is fatal (no knock-on errors elsewhere).
    errors = [ln for ln in result.output.splitlines() if ln.startswith("ERROR")]
    assert errors == lines, result.output
    assert_no_cpr(result.output, CPRS + [value] if "cpr" in check else CPRS)


def test_duplicate_key_reports_later_row_and_first_row(tmp_path):
    tables = clean_tables()
    ch = tables["charges"]
    extra = ch.iloc[[1]].copy()
    extra["charge_date"] = "2023-06-01"  # same key (cpr, case_id, offence_code), other details
    tables["charges"] = pd.concat([ch, extra], ignore_index=True)
    # The same person spelled with and without the hyphen is the same person.
    em = tables["employment"]
    twin = em.iloc[[0]].copy()
    twin["cpr"] = CPRS[0].replace("-", "")
    tables["employment"] = pd.concat([em, twin], ignore_index=True)
    folder = write_raw(tmp_path / "raw", tables)
    result = run(folder)
    assert result.exit_code == 1
    (line,) = problem_lines(result.output, "charges.csv", "duplicate_key")
    assert "row 5," in line and "first seen in row 2" in line
    (line,) = problem_lines(result.output, "employment.csv", "duplicate_key")
    assert "row 4," in line and "first seen in row 1" in line
    assert_no_cpr(result.output)


def test_missing_and_unknown_columns(tmp_path):
    tables = clean_tables()
    tables["charges"] = tables["charges"].drop(columns=["offence_category"])
    tables["custody"]["note"] = "x"
    folder = write_raw(tmp_path / "raw", tables)
    result = run(folder)
    assert result.exit_code == 1
    (line,) = problem_lines(result.output, "charges.csv", "missing_column")
    assert "column 'offence_category'" in line and line.startswith("ERROR")
    (line,) = problem_lines(result.output, "custody.csv", "unknown_column")
    # named by its position: a header is never shown (it could hold a CPR number or the key)
    assert "column '#5'" in line and "note" not in line and line.startswith("WARNING")


def test_unknown_column_alone_is_only_a_warning(tmp_path):
    tables = clean_tables()
    tables["custody"]["note"] = "x"
    result = run(write_raw(tmp_path / "raw", tables))
    assert result.exit_code == 0, result.output
    assert "1 warnings" in result.output


def test_ragged_csv_row_is_reported_and_rows_after_it_keep_their_numbers(tmp_path):
    folder = write_raw(tmp_path / "raw", clean_tables())
    path = folder / "charges.csv"
    lines = path.read_text().splitlines()
    lines[2] = lines[2] + ",extra," + CPRS[3]  # data row 2 gets two fields too many
    lines[4] = lines[4].replace("D-0010", "bogus-code").replace("drugs", "dope")  # data row 4
    path.write_text("\n".join(lines) + "\n")
    result = run(folder)
    assert result.exit_code == 1
    (line,) = problem_lines(result.output, "charges.csv", "unreadable_row")
    assert "row 2:" in line and "8 fields where the header has 6" in line
    (line,) = problem_lines(result.output, "charges.csv", "unknown_category")
    assert "row 4," in line and "'dope'" in line
    assert_no_cpr(result.output)


def test_semicolon_latin1_with_decimal_comma(tmp_path):
    tables = clean_tables()
    folder = tmp_path / "raw"
    write_raw(folder, tables)
    tables["employment"]["hours"] = ["37", "12,5", "80"]
    tables["employment"].to_csv(folder / "employment.csv", index=False, sep=";", encoding="latin-1")
    res = tables["residence"].copy()
    res["note"] = ["Aalborg Ø", "Århus", "Næstved", "Ærø", "Ølstykke"]
    res.to_csv(folder / "residence.csv", index=False, sep=";", encoding="latin-1")
    result = run(folder)
    assert result.exit_code == 0, result.output
    report = validate_folder(folder)
    assert report.ok


def test_value_that_looks_like_a_cpr_is_masked_anywhere(tmp_path):
    tables = clean_tables()
    tables["charges"].loc[0, "offence_category"] = CPRS[1]  # pasted in the wrong column
    tables["charges"].loc[1, "offence_date"] = CPRS[0]
    result = run(write_raw(tmp_path / "raw", tables))
    assert result.exit_code == 1
    assert len(problem_lines(result.output, "charges.csv", "unknown_category")) == 1
    assert len(problem_lines(result.output, "charges.csv", "bad_date")) == 1
    assert_no_cpr(result.output)
    assert cprmod.mask("x 010105-4233 y 0101054233 z 123") == "x <number hidden> y <number hidden> z 123"


def test_json_report(tmp_path):
    tables = clean_tables()
    tables["charges"].loc[1, "offence_date"] = "2023-02-30"
    result = run(write_raw(tmp_path / "raw", tables), "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["errors"] == 1
    (p,) = [p for p in doc["problems"] if p["severity"] == "error"]
    assert (p["file"], p["row"], p["column"], p["check"], p["value"]) == (
        "charges.csv", 2, "offence_date", "bad_date", "2023-02-30")
    files = {f["file"]: f for f in doc["files"]}
    assert files["charges.csv"]["rows"] == 4 and files["charges.csv"]["form"] == "raw"


def test_printing_is_capped_but_everything_is_counted(tmp_path):
    tables = clean_tables()
    n = 50
    em = pd.DataFrame({"cpr": [CPRS[0]] * n,
                       "month": [f"{2010 + i // 12}-{i % 12 + 1:02d}" for i in range(n)],
                       "hours": ["x"] * n})
    tables["employment"] = em
    folder = write_raw(tmp_path / "raw", tables)
    result = run(folder, "--max-per-check", "7")
    assert result.exit_code == 1
    assert len(problem_lines(result.output, "employment.csv", "bad_number")) == 7
    assert "... and 43 more 'bad_number' problems" in result.output
    assert "employment.csv: 50 rows, raw form: 50 errors" in result.output
    result = run(folder, "--max-per-check", "0")
    assert len(problem_lines(result.output, "employment.csv", "bad_number")) == 50


def test_validation_writes_nothing(tmp_path):
    folder = write_raw(tmp_path / "raw", clean_tables())
    (folder / "charges.csv").write_text((folder / "charges.csv").read_text().replace("drugs", "x"))
    before = {p: p.read_bytes() for p in folder.iterdir()}
    run(folder)
    assert {p: p.read_bytes() for p in folder.iterdir()} == before


# -- warehouse form ------------------------------------------------------------------------------


def test_warehouse_faults(tmp_path):
    tables = clean_tables()
    folder = write_warehouse(tmp_path / "wh", tables)
    ch = pd.read_parquet(folder / "charges.parquet")
    ch.loc[1, "offence_date"] = pd.Timestamp("2001-01-01").date()  # before birth (persons)
    ch.loc[2, "offence_category"] = "arson"
    ch.loc[3, "person_id"] = "f" * 32  # not in persons.parquet: a warning
    ch.to_parquet(folder / "charges.parquet", index=False)
    cu = pd.read_parquet(folder / "custody.parquet")
    cu.loc[0, "start_date"] = pd.Timestamp("2025-03-05").date()  # after death, after the end
    cu.to_parquet(folder / "custody.parquet", index=False)
    em = pd.read_parquet(folder / "employment.parquet")
    em["month"] = em["month"].astype(object)
    em.loc[0, "month"] = "2024/01"
    em.loc[1, "person_id"] = CPRS[1]  # a CPR number where the pseudonym belongs
    em.to_parquet(folder / "employment.parquet", index=False)
    result = run(folder)
    assert result.exit_code == 1, result.output
    out = result.output
    assert "row 2, column 'offence_date'" in problem_lines(out, "charges.parquet", "before_birth")[0]
    assert "row 3, column 'offence_category'" in problem_lines(out, "charges.parquet", "unknown_category")[0]
    (w,) = problem_lines(out, "charges.parquet", "unknown_person")
    assert w.startswith("WARNING") and "row 4," in w
    assert "row 1, column 'start_date'" in problem_lines(out, "custody.parquet", "after_death")[0]
    assert "row 1, column 'end_date'" in problem_lines(out, "custody.parquet", "end_before_start")[0]
    assert "row 1, column 'month'" in problem_lines(out, "employment.parquet", "bad_month")[0]
    (line,) = problem_lines(out, "employment.parquet", "bad_person_id")
    assert "row 2, column 'person_id'" in line and "value of 10 characters" in line
    assert_no_cpr(out)


def test_warehouse_with_text_dates_and_a_cpr_column(tmp_path):
    folder = write_warehouse(tmp_path / "wh", clean_tables())
    co = pd.read_parquet(folder / "contacts.parquet")
    co["contact_date"] = co["contact_date"].astype(str)  # dates stored as text
    co["cpr"] = CPRS[:3]
    co.to_parquet(folder / "contacts.parquet", index=False)
    result = run(folder)
    assert result.exit_code == 1
    assert len(problem_lines(result.output, "contacts.parquet", "wrong_type")) == 1
    assert len(problem_lines(result.output, "contacts.parquet", "cpr_in_warehouse")) == 1
    assert_no_cpr(result.output)


def test_warehouse_column_of_an_unusable_type(tmp_path):
    folder = write_warehouse(tmp_path / "wh", clean_tables())
    cu = pd.read_parquet(folder / "custody.parquet")
    cu["start_date"] = [20240110]  # a number where a date belongs: one problem for the column
    cu.to_parquet(folder / "custody.parquet", index=False)
    result = run(folder)
    assert result.exit_code == 1
    (line,) = problem_lines(result.output, "custody.parquet", "wrong_type")
    assert "column 'start_date'" in line and "row" not in line.split(":")[0]
    assert [ln for ln in result.output.splitlines() if ln.startswith("ERROR")] == [line]


def test_two_files_for_one_source(tmp_path):
    tables = clean_tables()
    folder = write_raw(tmp_path / "raw", tables)
    tables["vital"].to_parquet(folder / "vital.parquet", index=False)
    result = run(folder)
    assert result.exit_code == 1
    (line,) = problem_lines(result.output, "vital.*", "several_files")
    assert "vital.csv" in line and "vital.parquet" in line


def test_missing_persons_table_is_a_warning(tmp_path):
    folder = write_warehouse(tmp_path / "wh", clean_tables())
    (folder / "persons.parquet").unlink()
    result = run(folder)
    assert result.exit_code == 0, result.output
    assert "no persons table" in result.output


def test_form_option_rejects_the_other_form(tmp_path):
    folder = write_raw(tmp_path / "raw", clean_tables())
    result = run(folder, "--form", "warehouse")
    assert result.exit_code == 1
    assert problem_lines(result.output, "charges.csv", "wrong_form")


# -- formats and the study file ------------------------------------------------------------------


def test_excel_and_parquet_raw_tables(tmp_path):
    tables = clean_tables()
    folder = write_raw(tmp_path / "raw", tables)
    (folder / "charges.csv").unlink()
    ch = tables["charges"].copy()
    ch["offence_date"] = pd.to_datetime(ch["offence_date"])  # real Excel date cells
    ch.loc[2, "offence_category"] = "arson"
    ch.to_excel(folder / "charges.xlsx", index=False)
    (folder / "employment.csv").unlink()
    em = tables["employment"].copy()
    em["hours"] = pd.to_numeric(em["hours"])
    em.loc[1, "hours"] = -1.5
    em.to_parquet(folder / "employment.parquet", index=False)
    result = run(folder)
    assert result.exit_code == 1, result.output
    errors = [ln for ln in result.output.splitlines() if ln.startswith("ERROR")]
    assert len(errors) == 2, result.output
    assert "row 3, column 'offence_category'" in problem_lines(result.output, "charges.xlsx", "unknown_category")[0]
    assert "row 2, column 'hours'" in problem_lines(result.output, "employment.parquet", "below_minimum")[0]


def test_study_file_maps_file_and_column_names(tmp_path):
    tables = clean_tables()
    folder = write_raw(tmp_path / "raw", tables)
    (folder / "charges.csv").unlink()
    theirs = tables["charges"].rename(columns={"cpr": "personnummer", "offence_date": "gerningsdato"})
    theirs.loc[1, "gerningsdato"] = "i går"
    theirs.to_csv(folder / "POLSAS_sigtelser.csv", index=False, sep=";", encoding="latin-1")
    study = tmp_path / "study.toml"
    study.write_text(
        '[study]\nwarehouse = "wh"\ncohort = "c.toml"\n\n'
        '[sources.charges]\nfile = "raw/POLSAS_sigtelser.csv"\n'
        'columns = { personnummer = "cpr", gerningsdato = "offence_date" }\n',
        encoding="utf-8",
    )
    result = run(folder, "--study", study)
    assert result.exit_code == 1, result.output
    (line,) = problem_lines(result.output, "POLSAS_sigtelser.csv", "bad_date")
    assert "row 2, column 'offence_date'" in line and "'i går'" in line
    assert "not_a_source" not in result.output
    # Without the study file the same folder has an unknown file and no charges table.
    result = run(folder)
    assert "not_a_source" in result.output


# -- files that cannot be read: one message, exit code 2 -------------------------------------------


def test_missing_folder_exits_2(tmp_path):
    result = run(tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "folder not found" in result.output
    assert "Traceback" not in result.output


def test_folder_without_tables_exits_2(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run(tmp_path / "empty")
    assert result.exit_code == 2 and "no tables found" in result.output


@pytest.mark.parametrize("content", [b"PK\x03\x04\x00\x00binary", b"", b"\x00\x01\x02"])
def test_unreadable_csv_exits_2(tmp_path, content):
    folder = write_raw(tmp_path / "raw", clean_tables())
    (folder / "charges.csv").write_bytes(content)
    result = run(folder)
    assert result.exit_code == 2, result.output
    assert "charges.csv" in result.output and "Traceback" not in result.output


def test_damaged_parquet_exits_2(tmp_path):
    folder = write_warehouse(tmp_path / "wh", clean_tables())
    (folder / "charges.parquet").write_bytes(b"PAR1 this is not really parquet")
    result = run(folder)
    assert result.exit_code == 2 and "charges.parquet" in result.output
    assert "Traceback" not in result.output


# -- the simulator's injected faults ---------------------------------------------------------------


def _simulate(out: Path, *extra: str) -> None:
    result = CliRunner().invoke(cli, ["-q", "simulate", "--out", str(out), "--persons", "3000",
                                      "--seed", "5", *extra])
    if result.exit_code != 0 or not out.exists():
        pytest.skip(f"the simulator is not available: {result.output.strip()[:200]}")


@pytest.fixture(scope="module")
def simulated_with_faults(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "raw"
    _simulate(out, "--faults", "3")
    if not (out / "faults.json").exists():
        pytest.skip("the simulator wrote no faults.json")
    return out


# How the simulator's fault kinds are named in validation.
KIND_TO_CHECKS = {
    "bad_date": {"bad_date", "bad_month"},
    "malformed_cpr": {"malformed_cpr", "invalid_cpr_birth_date", "missing_cpr"},
    "duplicate": {"duplicate_key"},
    "end_before_start": {"end_before_start"},
    "unknown_category": {"unknown_category"},
    "event_before_birth": {"before_birth"},
}


def test_every_injected_fault_is_reported(simulated_with_faults):
    folder = simulated_with_faults
    faults = json.loads((folder / "faults.json").read_text())
    assert faults
    report = validate_folder(folder)
    assert not report.ok
    found = {(p["file"], p["row"], p["check"]): p for p in report.problems(None)}
    missing = []
    for f in faults:
        checks = KIND_TO_CHECKS.get(f["kind"], {f["kind"]})
        hits = [found[(f["file"], f["row"], c)] for c in checks if (f["file"], f["row"], c) in found]
        ok = any(f.get("column") is None or f["column"] in (h["column"] or "").split("+") for h in hits)
        if not ok:
            missing.append(f)
    assert not missing, missing
    # ... and nothing else is fatal: no knock-on errors from a fault, no false alarms.
    errors = {(p["file"], p["row"]) for p in report.problems(None) if p["severity"] == "error"}
    assert errors == {(f["file"], f["row"]) for f in faults}
    assert report.errors == len(faults)
    result = run(folder)
    assert result.exit_code == 1
    cprs = pd.read_csv(folder / "contacts.csv", dtype=str)["cpr"].dropna().head(500)
    for c in cprs:
        digits = c.replace("-", "")
        if re.fullmatch(r"\d{10}", digits):
            assert digits not in result.output and f"{digits[:6]}-{digits[6:]}" not in result.output


def test_simulated_raw_and_warehouse_without_faults_pass(tmp_path):
    raw = tmp_path / "raw"
    _simulate(raw)
    report = validate_folder(raw)
    assert report.ok, "\n".join(list(report.render(5))[-40:])
    wh = tmp_path / "wh"
    _simulate(wh, "--form", "warehouse")
    result = run(wh)
    assert result.exit_code == 0, result.output[-3000:]
    assert np.all([t.form in (None, "warehouse") for t in validate_folder(wh).tables])


def test_shared_simulated_tables_are_clean(simulated_warehouse, simulated_raw):
    report = validate_folder(simulated_warehouse)
    assert report.ok, "\n".join(list(report.render(5))[-40:])
    assert {t.form for t in report.tables if t.rows is not None} == {"warehouse"}
    assert sum(t.rows or 0 for t in report.tables) > 20000
    report = validate_folder(simulated_raw)
    assert report.ok, "\n".join(list(report.render(5))[-40:])
