"""Readers: CSV in every encoding and delimiter agencies deliver, Parquet, Excel, SAS; typing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluation import contract
from evaluation.errors import InputError
from evaluation.io import (
    BadRows,
    coerce,
    detect_delimiter,
    detect_encoding,
    find_table,
    parse_bools,
    parse_dates,
    parse_months,
    parse_numbers,
    read_raw_text,
    read_table,
    read_warehouse,
)

PLACES = ["Aalborg Ø", "Århus", "Næstved", "Ærø"]
CPR = "0101054233"


def _residence_text(sep: str) -> str:
    rows = [sep.join(["cpr", "municipality_code", "from_date", "to_date", "note"])]
    for i, place in enumerate(PLACES):
        rows.append(sep.join([CPR, "851", f"2020-0{i + 1}-01", "", place]))
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "utf-16"])
@pytest.mark.parametrize("sep", [",", ";"])
def test_csv_encodings_and_delimiters(tmp_path, encoding, sep):
    path = tmp_path / "residence.csv"
    path.write_bytes(_residence_text(sep).encode(encoding))
    expected = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "latin-1": "latin-1", "utf-16": "utf-16"}
    assert detect_encoding(path) == expected[encoding]
    frame = read_raw_text(path)
    assert list(frame.columns) == ["cpr", "municipality_code", "from_date", "to_date", "note"]
    assert frame["note"].tolist() == PLACES
    assert frame["cpr"].tolist() == [CPR] * 4  # leading zero kept: read as text
    assert frame["to_date"].isna().all()  # empty is missing
    assert all(isinstance(d, pd.StringDtype) for d in frame.dtypes)


def test_latin1_byte_after_a_long_utf8_start_is_latin1(tmp_path):
    path = tmp_path / "residence.csv"
    head = "cpr,municipality_code,from_date,to_date,note\n"
    filler = f"{CPR},851,2020-01-01,,Aalborg\n" * 60000  # > 1 MiB of plain ASCII
    path.write_bytes((head + filler).encode() + f"{CPR},851,2020-01-01,,Århus\n".encode("latin-1"))
    assert detect_encoding(path) == "latin-1"
    assert read_raw_text(path)["note"].iloc[-1] == "Århus"


def test_delimiter_detection_and_quoted_fields(tmp_path):
    assert detect_delimiter("a;b;c") == ";"
    assert detect_delimiter("a,b;c,d") == ","
    path = tmp_path / "charges.csv"
    path.write_text('cpr;case_id;"offence_code"\n0101054233;"K;1";"V-0244"\n', encoding="utf-8")
    frame = read_raw_text(path)
    assert list(frame.columns) == ["cpr", "case_id", "offence_code"]
    assert frame.iloc[0].tolist() == ["0101054233", "K;1", "V-0244"]


def test_mapping_of_column_names(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(
        " personnummer ,gerningsdato,other\n0101054233,2020-01-01,1\n", encoding="utf-8"
    )
    frame = read_raw_text(path, {"personnummer": "cpr", "gerningsdato": "offence_date"})
    assert list(frame.columns) == ["cpr", "offence_date", "other"]


def test_ragged_row_raises_naming_the_row_without_its_content(tmp_path):
    path = tmp_path / "charges.csv"
    path.write_text(f"cpr,case_id\n{CPR},K-1\n{CPR},K-2,extra\n{CPR},K-3\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_raw_text(path)
    assert info.value.row == 2 and "3 fields" in str(info.value)
    assert CPR not in str(info.value)
    # read_table hands the row back instead, and keeps the others' row numbers.
    bad = BadRows()
    frame = read_table(path, bad_rows=bad)
    assert bad.rows == [2] and bad.actual == [3] and bad.expected == [2]
    assert frame["case_id"].tolist() == ["K-1", "K-3"]
    assert list(frame.attrs["row_numbers"]) == [1, 3]


def test_duplicate_column_names(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("cpr,hours,hours\n0101054233,1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="more than once"):
        read_raw_text(path)
    frame = read_table(path)
    assert frame.attrs["duplicate_columns"] == ["hours"] and frame["hours"].tolist() == ["1"]


@pytest.mark.parametrize("content", [b"", b"\n\n", b"PK\x03\x04\x14\x00\x00\x00binary"])
def test_empty_or_binary_csv(tmp_path, content):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_raw_text(path)
    assert str(path) in str(info.value)


def test_missing_and_unknown_files(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_raw_text(tmp_path / "nope.csv")
    (tmp_path / "x.txt").write_text("a\n1\n")
    with pytest.raises(InputError, match="unknown file type"):
        read_raw_text(tmp_path / "x.txt")
    (tmp_path / "x.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="cannot be read"):
        read_raw_text(tmp_path / "x.parquet")
    (tmp_path / "x.sas7bdat").write_bytes(b"not sas either" * 100)
    with pytest.raises(InputError, match="cannot be read"):
        read_raw_text(tmp_path / "x.sas7bdat")


def test_parquet_as_text_and_typed(tmp_path):
    path = tmp_path / "employment.parquet"
    table = pa.table(
        {
            "cpr": [CPR, None, CPR],
            "month": ["2024-01", "2024-02", None],
            "hours": [37.0, 12.5, None],
            "day": pa.array([dt.date(2020, 1, 2), None, dt.date(1999, 12, 31)], pa.date32()),
            "stamp": pa.array(
                [dt.datetime(2020, 1, 2), dt.datetime(2020, 1, 2, 13, 5), None], pa.timestamp("us")
            ),
            "n": pa.array([1, None, 3], pa.int64()),
            "flag": [True, False, None],
            "cat": pa.array(["a", "b", "a"]).dictionary_encode(),
        }
    )
    pq.write_table(table, path)
    text = read_raw_text(path)
    assert text["hours"].tolist()[:2] == ["37", "12.5"] and pd.isna(text["hours"].iloc[2])
    assert text["day"].tolist()[0] == "2020-01-02" and text["day"].tolist()[2] == "1999-12-31"
    assert text["stamp"].tolist()[0] == "2020-01-02"
    assert text["stamp"].tolist()[1].startswith("2020-01-02 13:05")
    assert text["n"].tolist()[::2] == ["1", "3"]
    assert text["flag"].tolist()[:2] == ["true", "false"]
    assert text["cat"].tolist() == ["a", "b", "a"]
    typed = read_table(path)
    assert pd.api.types.is_datetime64_any_dtype(typed["day"])
    assert typed["hours"].dtype == "float64"
    assert isinstance(typed["cpr"].dtype, pd.StringDtype)


def test_excel_with_date_cells_and_numbers(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["cpr", "contact_date", "contact_type", "parents_present", "referred_to", "note"])
    ws.append(["0101054233", dt.datetime(2024, 1, 10), "knock_knock", 1, "leisure", "Aalborg Ø"])
    ws.append(["010105-4233", "2024-02-11", "ssp", None, "none", "Århus"])
    ws.append([101054233, dt.date(2024, 3, 1), "ssp", 0, "none", None])  # CPR typed as a number
    path = tmp_path / "contacts.xlsx"
    wb.save(path)
    frame = read_raw_text(path)
    assert frame["contact_date"].tolist() == ["2024-01-10", "2024-02-11", "2024-03-01"]
    assert frame["parents_present"].tolist()[::2] == ["1", "0"]
    assert frame["note"].tolist()[:2] == ["Aalborg Ø", "Århus"]
    assert frame["cpr"].tolist()[2] == "101054233"  # the lost leading zero stays visible
    typed = coerce(frame, contract.source("contacts", "raw"))
    assert typed["contact_date"].notna().all()
    assert typed["parents_present"].tolist()[::2] == [True, False]


def test_xls_without_its_reader_is_a_clear_error(tmp_path):
    path = tmp_path / "contacts.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 600)
    with pytest.raises(InputError) as info:
        read_raw_text(path)
    assert "contacts.xls" in str(info.value)


def test_find_table(tmp_path):
    assert find_table(tmp_path, "charges") is None
    (tmp_path / "charges.CSV").write_text("cpr\n")
    assert find_table(tmp_path, "charges").name == "charges.CSV"
    (tmp_path / "vital.parquet").write_bytes(b"")
    assert find_table(tmp_path, "vital").name == "vital.parquet"


def test_parsers():
    dates = parse_dates(
        pd.Series(["2020-01-31", " 2020-02-29 ", "2019-02-29", "31/01/2020", None, ""])
    )
    assert dates.iloc[0] == pd.Timestamp("2020-01-31") and dates.iloc[1] == pd.Timestamp(
        "2020-02-29"
    )
    assert dates.iloc[2:].isna().all()
    typed = pd.Series(pd.to_datetime(["2020-01-01", None]))
    assert parse_dates(typed).equals(typed)
    months = parse_months(pd.Series(["2024-01", "2024-13", "2024-1", None]))
    assert months.iloc[0] == pd.Timestamp("2024-01-01") and months.iloc[1:].isna().all()
    bools = parse_bools(pd.Series(["Ja", "nej", "1", "false", "maybe", None]))
    assert bools.tolist()[:4] == [True, False, True, False] and bools.iloc[4:].isna().all()
    nums = parse_numbers(pd.Series(["7,5", "3", "-1.25", "1.234,5", "x", "inf", None]))
    assert nums.tolist()[:3] == [7.5, 3.0, -1.25] and nums.iloc[3:].isna().all()


def test_coerce_text_and_typed_frames_agree(tmp_path):
    schema = contract.source("employment", "raw")
    text = pd.DataFrame(
        {"cpr": [CPR, CPR], "month": ["2024-01", "bad"], "hours": ["7,5", "x"], "extra": ["a", "b"]}
    ).astype(pd.StringDtype("pyarrow"))
    out = coerce(text, schema)
    assert list(out.columns) == ["cpr", "month", "hours"]
    assert out["month"].iloc[0] == "2024-01" and pd.isna(out["month"].iloc[1])
    assert out["hours"].iloc[0] == 7.5 and np.isnan(out["hours"].iloc[1])
    schema = contract.source("custody", "warehouse")
    typed = pd.DataFrame(
        {
            "person_id": ["a" * 32],
            "start_date": pd.to_datetime(["2020-01-01"]),
            "end_date": pd.to_datetime([None]),
            "custody_type": ["prison"],
        }
    )
    out = coerce(typed, schema)
    assert out["start_date"].iloc[0] == pd.Timestamp("2020-01-01") and out["end_date"].isna().all()


def test_read_warehouse(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_warehouse(tmp_path, "charges")
    pd.DataFrame({"person_id": ["a" * 32], "x": [1]}).to_parquet(tmp_path / "charges.parquet")
    assert read_warehouse(tmp_path, "charges", ["person_id"]).columns.tolist() == ["person_id"]
    (tmp_path / "vital.parquet").write_bytes(b"garbage")
    with pytest.raises(InputError, match="vital.parquet"):
        read_warehouse(tmp_path, "vital")


def test_sas_tables_are_typed_like_the_others(tmp_path, monkeypatch):
    """No SAS7BDAT file can be written here, so pandas' reader is replaced by one returning what
    it returns for such a file (text as str, SAS dates as datetime64, numbers as float)."""
    path = tmp_path / "custody.sas7bdat"
    path.write_bytes(b"stand-in")
    seen = {}

    def fake_read_sas(p, format, encoding):
        seen.update(path=p, format=format, encoding=encoding)
        return pd.DataFrame({
            "cpr": ["0101054233", None],
            "start_date": pd.to_datetime(["2020-01-02", None]),
            "end_date": [np.nan, np.nan],
            "custody_type": ["prison", "remand"],
            "days": [3.0, 2.5],
        })

    monkeypatch.setattr(pd, "read_sas", fake_read_sas)
    text = read_raw_text(path)
    assert seen["format"] == "sas7bdat" and seen["encoding"] == "latin-1"
    assert text["start_date"].tolist()[0] == "2020-01-02" and pd.isna(text["start_date"].iloc[1])
    assert text["days"].tolist() == ["3", "2.5"]
    typed = read_table(path)
    assert pd.api.types.is_datetime64_any_dtype(typed["start_date"])
    assert isinstance(typed["cpr"].dtype, pd.StringDtype)
