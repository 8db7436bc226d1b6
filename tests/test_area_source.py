"""The reported_crime source: StatBank export, validation by file/row/column, the warehouse."""

from __future__ import annotations

import pandas as pd

from evaluation import contract
from evaluation.area.source import area_panel_frame, normalise
from evaluation.io import read_raw_text
from evaluation.validate import validate_folder

STATBANK = (
    "OMRÅDE;TYPE;TID;INDHOLD\n"
    "851 Aalborg;Voldsforbrydelser i alt;2024K1;312\n"
    "851 Aalborg;Lov om våben og eksplosivstoffer;2024K1;41\n"
    "751 Aarhus;Voldsforbrydelser i alt;2024K1;488\n"
    "751 Aarhus;Lov om våben og eksplosivstoffer;2024K1;..\n"
)


def _statbank(tmp_path, text=STATBANK, encoding="utf-8"):
    path = tmp_path / "STRAF11.csv"
    path.write_bytes(text.encode(encoding))
    mapping = {"OMRÅDE": "municipality_code", "TYPE": "offence_category", "TID": "period",
               "INDHOLD": "count"}
    return path, mapping


def test_contract_has_an_aggregate_source_without_person():
    src = contract.source("reported_crime", "raw")
    assert src is contract.source("reported_crime", "warehouse")
    assert not src.person_level and "cpr" not in src.column_names
    assert src.column_names == ("municipality_code", "period", "offence_category", "count", "population")
    assert "reported_crime" not in contract.SOURCE_NAMES  # person-level sources stay as they are


def test_statbank_export_is_read_and_normalised(tmp_path):
    path, mapping = _statbank(tmp_path, encoding="latin-1")
    frame = read_raw_text(path, mapping)
    table, problems = normalise(frame)
    assert list(table["municipality_code"]) == ["851", "851", "751", "751"]
    assert list(table["period"]) == ["2024Q1"] * 4
    assert list(table["offence_category"]) == ["violence", "weapons", "violence", "weapons"]
    assert problems == [(4, "count", "is not a whole number >= 0 (StatBank's '..' is not a count)")]


def test_bad_values_named_by_row_and_column():
    frame = pd.DataFrame({"municipality_code": ["851", "Aalborg", "851"],
                          "period": ["2024-01", "2024-02", "2024-13"],
                          "offence_category": ["violence", "arson", "violence"],
                          "count": ["3", "-1", "2.5"]}).astype("string")
    _, problems = normalise(frame)
    got = {(row, col) for row, col, _ in problems}
    assert got == {(2, "municipality_code"), (2, "offence_category"), (2, "count"), (3, "period"),
                   (3, "count")}


def test_duplicate_rows_flagged():
    frame = pd.DataFrame({"municipality_code": ["851", "851"], "period": ["2024-01", "2024-01"],
                          "offence_category": ["violence", "violence"], "count": ["3", "4"]})
    _, problems = normalise(frame.astype("string"))
    assert problems == [(2, "period", "repeats a municipality, period and category already in the file")]


def test_validate_reports_reported_crime_problems(tmp_path):
    (tmp_path / "reported_crime.csv").write_text(
        "municipality_code,period,offence_category,count\n851,2024-01,violence,3\n851,2024-02,violence,x\n",
        encoding="utf-8")
    report = validate_folder(tmp_path)
    problems = [p for p in report.problems() if p["file"] == "reported_crime.csv"]
    assert [(p["row"], p["column"], p["severity"]) for p in problems] == [(2, "count", "error")]
    assert not report.ok


def test_panel_frame_sums_categories():
    table = pd.DataFrame({"municipality_code": ["851"] * 3, "period": ["2024-01"] * 3,
                          "offence_category": ["violence", "weapons", "property"], "count": [3, 4, 50]})
    out = area_panel_frame(table, ("violence", "weapons"))
    assert out.to_dict("records") == [{"municipality_code": "851", "period": "2024-01", "count": 7}]


def test_simulated_raw_carried_into_warehouse(simulated_raw, tmp_path):
    from evaluation.keys import generate_key_file
    from evaluation.pseudonymise import pseudonymise

    key = tmp_path / "secret" / "k.key"
    key.parent.mkdir(mode=0o700)
    generate_key_file(key)
    out = tmp_path / "wh"
    report = pseudonymise(simulated_raw, key, out)
    assert report["aggregate_sources"]["reported_crime"]["rows"] == 25 * 120 * 7
    table = pd.read_parquet(out / "reported_crime.parquet")
    raw = pd.read_csv(simulated_raw / "reported_crime.csv", dtype={"municipality_code": str})
    assert table["count"].sum() == raw["count"].sum()
