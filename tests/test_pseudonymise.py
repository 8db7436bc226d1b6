"""`evaluation pseudonymise`: CPR numbers become keyed pseudonyms, nothing leaks, nothing is lost.

Small raw folders are made by hand here (synthetic CPR numbers from :func:`evaluation.cpr.generate`)
so that every count, reason and pseudonym can be checked against an independent computation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from evaluation import contract, cpr
from evaluation.cli import cli
from evaluation.keys import generate_key_file, load_key
from evaluation.pseudonymise import pseudonymise_cprs, type_column

N_PERSONS = 40
BAD_CPR_ROWS = {  # charges: 1-based data row -> (CPR text, reason)
    21: ("", cpr.MISSING),
    22: ("12345-6789", cpr.MALFORMED),  # nine digits
    23: ("300299-1234", cpr.INVALID_DATE),  # 30 February
    24: ("   ", cpr.MISSING),
    25: ("31129912345", cpr.MALFORMED),  # eleven digits
}


def _spell(number: str, how: int) -> str:
    """A 10-digit CPR number as extracts deliver it: plain, with hyphen, or with a blank."""
    return [number, f"{number[:6]}-{number[6:]}", f"{number[:6]} {number[6:]}"][how % 3]


def _mod11_ok(number: str) -> bool:
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
    return sum(int(d) * w for d, w in zip(number, weights)) % 11 == 0


def make_raw(folder: Path, seed: int = 5) -> dict:
    """A raw folder with every source, mixed CPR spellings and known problems.

    Returns the 10-digit numbers of the persons, their birth dates and sexes, the outsider (a
    person in contacts only), and the expected quarantine.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    births = pd.Timestamp("1996-01-01") + pd.to_timedelta(rng.integers(0, 5000, N_PERSONS + 1), "D")
    sexes = np.where(rng.random(N_PERSONS + 1) < 0.5, "M", "F")
    numbers = list(cpr.generate(births.to_numpy(), sexes, rng, hyphen=False))
    outsider = numbers.pop()  # contacted but not in residence or vital
    p = numbers

    def sp(i: int, k: int = 0) -> str:
        return _spell(p[i], i + k)

    tables = {
        "residence": pd.DataFrame(
            {
                "cpr": [sp(i) for i in range(N_PERSONS)],
                "municipality_code": ["851"] * N_PERSONS,
                "from_date": ["2016-10-01"] * N_PERSONS,
                "to_date": [""] * N_PERSONS,
            }
        ),
        "vital": pd.DataFrame(
            {
                "cpr": [sp(i, 1) for i in range(5)],
                "death_date": ["", "", "2022-05-01", "", ""],
                "emigration_date": ["2021-01-01", "", "", "", "2023-03-03"],
            }
        ),
        "contacts": pd.DataFrame(
            {
                "cpr": [sp(i, 2) for i in range(6)] + [_spell(outsider, 1), sp(0)],
                "contact_date": ["2024-01-10"] * 8,
                "contact_type": ["knock_knock"] * 7 + ["ssp"],
                "parents_present": ["ja", "nej", "1", "0", "true", "", "false", "maybe"],
                "referred_to": ["none"] * 8,
            }
        ),
        "charges": pd.DataFrame(
            {
                "cpr": [sp(i % 10, i) for i in range(20)]
                + [v for v, _ in BAD_CPR_ROWS.values()]
                + [sp(3)],
                "case_id": [f"K{i:04d}" for i in range(26)],
                "offence_date": ["2023-05-01"] * 21
                + ["2023-13-01"]
                + ["2023-05-01"] * 3
                + ["2023-02-30"],
                "charge_date": ["2023-06-01"] * 26,
                "offence_code": ["V-0101"] * 26,
                "offence_category": ["violence"] * 26,
                "navn": [f"Person {i}" for i in range(26)],  # not part of the contract
            }
        ),
        "convictions": pd.DataFrame(
            {
                "cpr": [sp(i, 2) for i in range(4)],
                "case_id": ["K0000", "K0001", "K0002", "K0003"],
                "decision_date": ["2024-01-01"] * 4,
                "offence_date": ["2023-05-01"] * 4,
                "sanction": ["fine", "custody", "acquittal", "suspended"],
            }
        ),
        "custody": pd.DataFrame(
            {
                "cpr": [sp(1, 1)],
                "start_date": ["2024-01-01"],
                "end_date": [""],
                "custody_type": ["prison"],
            }
        ),
        "education": pd.DataFrame(
            {
                "cpr": [sp(i, 1) for i in range(12)],
                "start_date": ["2019-08-15"] * 12,
                "end_date": [""] * 12,
                "level": ["youth_general"] * 12,
                "status": ["ongoing"] * 12,
            }
        ),
        "employment": pd.DataFrame(
            {
                "cpr": [sp(i, 2) for i in range(6)],
                "month": ["2024-01", "2024-02", "2024-13", "2024-04", "2024-05", "2024-06"],
                "hours": ["10", "12.5", "7", "abc", " 3 ", "7,5"],
            }
        ),
        "group_registrations": pd.DataFrame(
            {
                "cpr": [sp(7)],
                "group_id": ["G01"],
                "registered_date": ["2024-02-02"],
                "deregistered_date": [""],
            }
        ),
        "negative_control_events": pd.DataFrame(
            {
                "cpr": [sp(i, 1) for i in range(3)],
                "event_date": ["2024-03-01", "2024-04-01", "2024-05-01"],
                "outcome": ["traffic_fine", "accidental_injury", "traffic_fine"],
            }
        ),
    }
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    quarantine = {("charges", r, reason, "cpr") for r, (_, reason) in BAD_CPR_ROWS.items()}
    # row 22 has a malformed CPR *and* a bad date: the CPR is reported (first problem)
    quarantine |= {("charges", 26, "unparseable offence_date", "offence_date")}
    quarantine |= {("contacts", 8, "unparseable parents_present", "parents_present")}
    quarantine |= {("employment", 3, "unparseable month", "month"),
                   ("employment", 4, "unparseable hours", "hours")}
    return {
        "numbers": numbers,
        "births": dict(zip(numbers, births[:N_PERSONS].date)),
        "sexes": dict(zip(numbers, sexes[:N_PERSONS])),
        "outsider": outsider,
        "rows": {name: len(frame) for name, frame in tables.items()},
        "quarantine": quarantine,
        "all_ten_digit": numbers + [outsider, "3002991234"],
    }


def _key(folder: Path, name: str = "study.key") -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return generate_key_file(folder / name)


def _run(*args: str):
    result = CliRunner().invoke(cli, ["pseudonymise", *map(str, args)])
    text = result.output
    try:
        text += result.stderr
    except (ValueError, AttributeError):
        pass
    return result, text


def _pid(key: bytes, number: str) -> str:
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()[:32]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One pseudonymisation of the hand-made raw folder, shared by the tests below."""
    base = tmp_path_factory.mktemp("pseudo")
    info = make_raw(base / "raw")
    key_file = _key(base / "secrets")
    result, text = _run(base / "raw", "--key", key_file, "--out", base / "warehouse")
    assert result.exit_code == 0, text
    return {"base": base, "info": info, "key_file": key_file, "key": load_key(key_file),
            "out": base / "warehouse", "text": text}


def _read(out: Path, name: str) -> pd.DataFrame:
    return pq.read_table(out / f"{name}.parquet").to_pandas()


# --- what is written -----------------------------------------------------------------------------

def test_warehouse_files_and_schema(run):
    out = run["out"]
    names = sorted(p.name for p in out.iterdir())
    expected = sorted([f"{s}.parquet" for s in contract.SOURCE_NAMES]
                      + ["persons.parquet", "quarantine.parquet", "linkage_report.json",
                         ".evaluation-folder.json"])
    assert names == expected
    for name in (*contract.SOURCE_NAMES, "persons"):
        schema = pq.read_schema(out / f"{name}.parquet")
        src = contract.source(name, "warehouse")
        assert schema.names == list(src.column_names), name
        for col in src.columns:
            t = schema.field(col.name).type
            if col.type == "date":
                assert t == pa.date32(), (name, col.name)
            elif col.type == "float":
                assert t == pa.float64()
            elif col.type == "bool":
                assert t == pa.bool_()
            else:
                assert t == pa.string(), (name, col.name)
    charges = _read(out, "charges")
    assert "navn" not in charges.columns and "cpr" not in charges.columns
    assert charges["person_id"].str.fullmatch(r"[0-9a-f]{32}").all()


def test_person_ids_are_the_keyed_hash_of_the_normalised_number(run):
    info, key, out = run["info"], run["key"], run["out"]
    residence = _read(out, "residence")
    # residence row i is person i (in three spellings): each id is HMAC of the plain number
    assert residence["person_id"].tolist() == [_pid(key, n) for n in info["numbers"]]
    # one person, one id, whatever the spelling and source
    charges = _read(out, "charges")
    assert charges["person_id"].iloc[0] == charges["person_id"].iloc[10] == _pid(key, info["numbers"][0])
    contacts = _read(out, "contacts")
    assert contacts["person_id"].iloc[6] == _pid(key, info["outsider"])


def test_persons_from_cpr(run):
    info, key, out = run["info"], run["key"], run["out"]
    persons = _read(out, "persons")
    assert persons["person_id"].is_unique
    expected = {_pid(key, n): (info["births"][n], info["sexes"][n]) for n in info["numbers"]}
    expected[_pid(key, info["outsider"])] = None  # the outsider is in contacts
    assert set(persons["person_id"]) == set(expected)
    for row in persons.itertuples():
        if expected[row.person_id] is not None:
            assert (row.birth_date, row.sex) == expected[row.person_id]
    # every person in a table is in persons, and the other way round
    seen = set()
    for name in contract.SOURCE_NAMES:
        seen |= set(_read(out, name)["person_id"])
    assert seen == set(persons["person_id"])
    # numbers without the modulus-11 check (issued since 2007) are accepted
    assert any(not _mod11_ok(n) for n in info["numbers"])


def test_counts_reconcile_and_quarantine_is_listed(run):
    info, out = run["info"], run["out"]
    report = json.loads((out / "linkage_report.json").read_text())
    q = _read(out, "quarantine")
    assert list(q.columns) == ["source", "file", "row", "reason", "column"]
    got = {(r.source, r.row, r.reason, r.column) for r in q.itertuples()}
    assert got == info["quarantine"]
    for name in contract.SOURCE_NAMES:
        e = report["sources"][name]
        assert e["rows_read"] == info["rows"][name]
        assert e["rows_written"] == len(_read(out, name))
        assert e["rows_quarantined"] == int((q["source"] == name).sum())
        assert e["rows_read"] == e["rows_written"] + e["rows_quarantined"]
        assert sum(e["quarantined_by_reason"].values()) == e["rows_quarantined"]
    assert report["sources"]["charges"]["quarantined_by_reason"] == {
        cpr.MISSING: 2,
        cpr.MALFORMED: 2,
        cpr.INVALID_DATE: 1,
        "unparseable offence_date": 1,
    }
    assert report["sources"]["charges"]["columns_not_carried"] == 1  # counted, never named
    assert "navn" not in (run["out"] / "linkage_report.json").read_text()
    assert report["sources"]["charges"]["malformed_cpr_with_nine_digits"] == 1
    assert report["sources"]["residence"]["malformed_cpr_with_nine_digits"] == 0
    assert "1 CPR number(s) with nine digits" in run["text"]
    t = report["totals"]
    assert t["rows_read"] == sum(info["rows"].values()) == t["rows_written"] + t["rows_quarantined"]
    assert t["persons"] == N_PERSONS + 1
    # contacts: 7 persons of whom the outsider is in neither residence nor vital
    c = report["sources"]["contacts"]
    assert c["persons"] == 7 and c["persons_in_population"] == 6
    assert c["share_in_population"] == pytest.approx(6 / 7, abs=1e-6)
    assert report["sources"]["residence"]["share_in_population"] == 1.0
    assert report["sources_missing"] == []
    # the printed summary carries the same counts
    assert re.search(r"charges\s+26\s+20\s+6\s+", run["text"])


def test_values_are_typed(run):
    out = run["out"]
    emp = _read(out, "employment")
    assert emp["month"].tolist() == ["2024-01", "2024-02", "2024-05", "2024-06"]
    assert emp["hours"].tolist() == [10.0, 12.5, 3.0, 7.5]
    contacts = _read(out, "contacts")
    assert contacts["parents_present"].tolist()[:5] == [True, False, True, False, True]
    assert pd.isna(contacts["parents_present"].iloc[5])  # empty stays missing, not quarantined
    res = pq.read_table(out / "residence.parquet")
    assert res["to_date"].null_count == N_PERSONS
    assert str(res["from_date"][0]) == "2016-10-01"


def _spellings(number: str) -> list[str]:
    return [number, f"{number[:6]}-{number[6:]}", f"{number[:6]} {number[6:]}"]


def test_no_cpr_number_or_key_in_any_output(run):
    info, out = run["info"], run["out"]
    needles = [s for n in info["all_ten_digit"] for s in _spellings(n)]
    key = run["key"]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) == len(contract.SOURCE_NAMES) + 4  # persons, quarantine, report, mark
    for path in files:
        data = path.read_bytes()
        assert key not in data, path.name
        for s in needles:
            assert s.encode() not in data, (path.name, "raw bytes")
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            text = "\n".join(
                "\n".join("" if v is None else str(v) for v in table.column(c).to_pylist())
                for c in table.column_names)
        else:
            text = data.decode()
        for s in needles:
            assert s not in text, (path.name, "values")
        assert key.decode() not in text
    assert "pseudonymise charges" in run["text"]  # progress on stderr was captured too
    for s in needles:
        assert s not in run["text"]  # stdout and stderr
    assert key.decode() not in run["text"]


# --- determinism and key separation --------------------------------------------------------------

def test_same_key_same_ids_across_runs_other_key_disjoint(run, tmp_path):
    base = run["base"]
    again = tmp_path / "again"
    result, text = _run(base / "raw", "--key", run["key_file"], "--out", again)
    assert result.exit_code == 0, text
    for name in (*contract.SOURCE_NAMES, "persons", "quarantine"):
        assert pq.read_table(again / f"{name}.parquet").equals(
            pq.read_table(run["out"] / f"{name}.parquet")), name
    r1 = json.loads((again / "linkage_report.json").read_text())
    r2 = json.loads((run["out"] / "linkage_report.json").read_text())
    r1.pop("created_at"), r2.pop("created_at")
    assert r1 == r2

    other = _key(tmp_path / "other-secrets")
    result, text = _run(base / "raw", "--key", other, "--out", tmp_path / "other")
    assert result.exit_code == 0, text
    a = set(_read(run["out"], "persons")["person_id"])
    b = set(_read(tmp_path / "other", "persons")["person_id"])
    assert len(a) == len(b) == N_PERSONS + 1 and not a & b
    assert _read(tmp_path / "other", "persons")["birth_date"].sort_values().tolist() == \
        _read(run["out"], "persons")["birth_date"].sort_values().tolist()


# --- bad input -----------------------------------------------------------------------------------

@pytest.fixture()
def raw(tmp_path):
    make_raw(tmp_path / "raw")
    return tmp_path / "raw"


def test_missing_cpr_column(raw, tmp_path):
    frame = pd.read_csv(raw / "custody.csv", dtype=str).rename(columns={"cpr": "personnummer"})
    frame.to_csv(raw / "custody.csv", index=False)
    result, text = _run(raw, "--key", _key(tmp_path / "s"), "--out", tmp_path / "wh")
    assert result.exit_code != 0
    assert "custody.csv" in text and "column 'cpr'" in text and "required column missing" in text
    assert "Traceback" not in text
    assert not (tmp_path / "wh").exists()


def test_column_mapping_from_study_file(raw, tmp_path):
    frame = pd.read_csv(raw / "charges.csv", dtype=str, keep_default_na=False)
    frame = frame.rename(columns={"cpr": "personnummer", "offence_date": "gerningsdato"})
    frame.to_csv(raw / "POLSAS.csv", index=False)
    (raw / "charges.csv").unlink()
    study = tmp_path / "study.toml"
    study.write_text(
        '[study]\nraw = "raw"\nwarehouse = "wh"\ncohort = "c.toml"\nkey = "s/study.key"\n\n'
        '[sources.charges]\nfile = "raw/POLSAS.csv"\n'
        'columns = { personnummer = "cpr", gerningsdato = "offence_date" }\n'
    )
    _key(tmp_path / "s")
    result, text = _run("--study", study)  # raw, key and warehouse from the study file
    assert result.exit_code == 0, text
    report = json.loads((tmp_path / "wh" / "linkage_report.json").read_text())
    assert report["sources"]["charges"]["file"] == "POLSAS.csv"
    assert report["sources"]["charges"]["rows_written"] == 20


def test_unreadable_file_named_without_its_content(raw, tmp_path):
    # a ragged CSV row that carries a CPR number: the message names the file, never the number
    text_in = (raw / "custody.csv").read_text().rstrip("\n") + "\n0101901234,2024-01-01,,prison,extra\n"
    (raw / "custody.csv").write_text(text_in)
    result, text = _run(raw, "--key", _key(tmp_path / "s"), "--out", tmp_path / "wh")
    assert result.exit_code != 0
    assert "custody.csv" in text
    assert "0101901234" not in text and "Traceback" not in text
    assert not (tmp_path / "wh").exists()


def test_damaged_excel_file(raw, tmp_path):
    (raw / "custody.csv").unlink()
    (raw / "custody.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook 0101901234")
    result, text = _run(raw, "--key", _key(tmp_path / "s"), "--out", tmp_path / "wh")
    assert result.exit_code != 0
    assert "custody.xlsx" in text and "0101901234" not in text and "Traceback" not in text


@pytest.mark.parametrize("problem", ["too_short", "mode_0644", "inside_output", "missing"])
def test_bad_key_files(raw, tmp_path, problem):
    out = tmp_path / "wh"
    secret = b"this-is-the-secret-key-material-0123456789"
    key = tmp_path / "k.key"
    if problem == "too_short":
        key.write_bytes(b"short-secret-123")
        key.chmod(0o600)
        expect = "at least 32"
    elif problem == "mode_0644":
        key.write_bytes(secret)
        key.chmod(0o644)
        expect = "mode 0644"
    elif problem == "inside_output":
        out.mkdir()
        key = out / "k.key"
        key.write_bytes(secret)
        key.chmod(0o600)
        expect = "inside the output folder"
    else:
        expect = "evaluation keygen"
    result, text = _run(raw, "--key", key, "--out", out)
    assert result.exit_code != 0
    assert expect in text and "k.key" in text
    assert secret.decode() not in text and "short-secret" not in text
    assert "Traceback" not in text
    if problem == "inside_output":
        assert sorted(p.name for p in out.iterdir()) == ["k.key"]  # left alone
    else:
        assert not out.exists()


def test_failed_run_leaves_previous_warehouse_untouched(raw, tmp_path):
    key = _key(tmp_path / "s")
    out = tmp_path / "wh"
    result, text = _run(raw, "--key", key, "--out", out)
    assert result.exit_code == 0, text
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    pd.read_csv(raw / "education.csv", dtype=str).drop(columns=["status"]).to_csv(
        raw / "education.csv", index=False)
    result, text = _run(raw, "--key", key, "--out", out)
    assert result.exit_code != 0 and "column 'status'" in text
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # no temporary folder or lock file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw", "s", "wh"]


def test_refuses_to_replace_a_folder_that_is_not_a_warehouse(raw, tmp_path):
    out = tmp_path / "documents"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result, text = _run(raw, "--key", _key(tmp_path / "s"), "--out", out)
    assert result.exit_code != 0 and "not written by this toolkit" in text
    assert (out / "notes.txt").read_text() == "keep me"
    result, text = _run(raw, "--key", _key(tmp_path / "s2"), "--out", raw)
    assert result.exit_code != 0


def test_empty_raw_folder(tmp_path):
    (tmp_path / "raw").mkdir()
    result, text = _run(tmp_path / "raw", "--key", _key(tmp_path / "s"), "--out", tmp_path / "wh")
    assert result.exit_code != 0 and "no source table found" in text


def test_only_some_sources_present(raw, tmp_path):
    for name in ("custody", "vital", "residence"):
        (raw / f"{name}.csv").unlink()
    result, text = _run(raw, "--key", _key(tmp_path / "s"), "--out", tmp_path / "wh")
    assert result.exit_code == 0, text
    report = json.loads((tmp_path / "wh" / "linkage_report.json").read_text())
    assert report["sources_missing"] == ["residence", "vital", "custody"]
    assert report["sources"]["charges"]["share_in_population"] is None
    assert not (tmp_path / "wh" / "custody.parquet").exists()


# --- the building blocks -------------------------------------------------------------------------


def _reference_parse(values: list) -> pd.DataFrame:
    """The CPR rules written plainly in pandas, row by row where needed: the oracle for
    :func:`evaluation.cpr.parse`."""
    s = pd.Series(values, dtype="object")
    norm = s.astype(str).str.replace(r"[\s\-]", "", regex=True).where(s.notna(), None)
    missing = norm.isna() | (norm.fillna("") == "")
    well = norm.fillna("").str.fullmatch(r"[0-9]{10}").astype(bool) & ~missing
    reason = np.where(missing, cpr.MISSING, np.where(well, None, cpr.MALFORMED)).astype(object)
    birth = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[ns]")
    sex = np.full(len(s), None, dtype=object)
    if well.any():
        digits = np.array([[int(c) for c in v] for v in norm[well]])
        yy = digits[:, 4] * 10 + digits[:, 5]
        dates = pd.to_datetime(pd.DataFrame({
            "year": cpr.century(yy, digits[:, 6]) + yy,
            "month": digits[:, 2] * 10 + digits[:, 3],
            "day": digits[:, 0] * 10 + digits[:, 1],
        }), errors="coerce").to_numpy()
        bad = np.isnat(dates)
        idx = np.flatnonzero(well.to_numpy())
        reason[idx[bad]] = cpr.INVALID_DATE
        birth[idx[~bad]] = dates[~bad]
        sex[idx[~bad]] = np.where(digits[~bad, 9] % 2 == 1, "M", "F")
    return pd.DataFrame({"cpr": norm.to_numpy(dtype=object), "birth_date": birth, "sex": sex,
                         "reason": reason})


def test_fast_parser_agrees_with_cpr_parse():
    rng = np.random.default_rng(7)
    births = pd.Timestamp("1900-01-01") + pd.to_timedelta(rng.integers(0, 49000, 3000), "D")
    valid = cpr.generate(births.to_numpy(), np.where(rng.random(3000) < 0.5, "M", "F"), rng)
    random_digits = ["".join(map(str, rng.integers(0, 10, 10))) for _ in range(5000)]
    odd = [
        "",
        " ",
        None,
        "abc",
        "0101011234 ",
        " 010101-1234",
        "010101--1234",
        "01 01 01 1234",
        "010101\u00a01234",
        "010101\t1234",
        "2902001234",
        "2902004234",
        "2902994234",
        "2902581234",
        "2902585234",
        "3104001234",
        "0013001234",
        "0000001234",
        "123456789",
        "01010112345",
        "x101011234",
        "010101-123a",
        "3112369999",
        "3112375999",
        "3112579999",
        "0101589999",
    ]
    values = list(valid) + random_digits + odd
    slow = _reference_parse(values)
    fast = cpr.parse(pa.array(values, type=pa.string()))
    norm, reason, birth, sex = (pa.array(fast["cpr"], type=pa.string()), fast["reason"].to_numpy(),
                                fast["birth_date"].to_numpy().astype("datetime64[D]"),
                                fast["sex"].to_numpy())
    assert list(reason) == [None if pd.isna(r) else r for r in slow["reason"]]
    ok = slow["reason"].isna().to_numpy()
    assert ok.sum() > 3000
    np.testing.assert_array_equal(
        birth[ok], slow["birth_date"].to_numpy()[ok].astype("datetime64[D]")
    )
    assert list(sex[ok]) == slow["sex"][ok].tolist()
    assert [v for v, r in zip(norm.to_pylist(), reason) if r is None] == slow["cpr"][ok].tolist()


def test_pseudonymise_cprs_maps_spellings_to_one_person():
    key = b"k" * 32
    text = pd.Series(
        ["010190-1234", "0101901234", "010190 1234", None, "bad", "0101901235"],
        dtype=pd.StringDtype("pyarrow"),
    )
    got = pseudonymise_cprs(key, text)
    ids = got.person_id.to_pylist()
    assert ids[0] == ids[1] == ids[2] == _pid(key, "0101901234")
    assert ids[3] is None and ids[4] is None and ids[5] == _pid(key, "0101901235")
    assert list(got.reason) == [None, None, None, cpr.MISSING, cpr.MALFORMED, None]
    assert got.persons.num_rows == 2
    assert got.persons["sex"].to_pylist() == ["F", "M"]


def test_type_column_flags_only_given_values_that_cannot_be_typed():
    col = contract.source("custody").column("end_date")
    values, bad = type_column(pd.Series(["2020-01-02", "", None, " 2020-01-03 ", "2020-02-30"],
                                        dtype=pd.StringDtype("pyarrow")), col)
    assert [str(v) if v is not None else None for v in values.to_pylist()] == \
        ["2020-01-02", None, None, "2020-01-03", None]
    assert bad.tolist() == [False, False, False, False, True]


def test_mask_hides_cpr_like_digits():
    assert cpr.mask("row 3: 010190-1234 and 0101901234 and 010190 1234") == \
        "row 3: <number hidden> and <number hidden> and <number hidden>"
    assert cpr.mask("row 12, column 'x'") == "row 12, column 'x'"


# --- simulated raw extracts ----------------------------------------------------------------------

def test_simulated_raw_pseudonymised_and_validated(simulated_raw, tmp_path):
    key = _key(tmp_path / "s")
    out = tmp_path / "wh"
    result, text = _run(simulated_raw, "--key", key, "--out", out)
    assert result.exit_code == 0, text
    report = json.loads((out / "linkage_report.json").read_text())
    t = report["totals"]
    assert t["rows_read"] == t["rows_written"] + t["rows_quarantined"]
    sim = json.loads((simulated_raw / "simulation.json").read_text())
    n_persons = sim.get("persons")
    if isinstance(n_persons, int):
        assert t["persons"] <= n_persons
    assert report["sources"]["residence"]["share_in_population"] == 1.0
    assert report["carried_files"] == ["simulation.json", "truth.json"]
    assert (out / "truth.json").read_bytes() == (simulated_raw / "truth.json").read_bytes()
    # no CPR number of the raw extracts in the warehouse
    numbers = set()
    for path in simulated_raw.glob("*.csv"):
        if path.stem in contract.AGGREGATE_SOURCE_NAMES:  # aggregate: no person, no cpr column
            continue
        col = pd.read_csv(path, dtype=str, usecols=["cpr"])["cpr"].dropna()
        numbers |= set(col.str.replace(r"[\s-]", "", regex=True))
    sample = sorted(numbers)[:: max(1, len(numbers) // 300)]
    for path in out.glob("*.parquet"):
        table = pq.read_table(path)
        text_values = " ".join(" ".join(map(str, table.column(c).to_pylist())) for c in table.column_names)
        for n in sample:
            assert n not in text_values and f"{n[:6]}-{n[6:]}" not in text_values
    # validation: the warehouse has no problem that was not already in the raw extracts
    from evaluation.validate import validate_folder

    def problems(folder):
        found = set()
        report = validate_folder(folder)
        for table in report.tables:
            for finding in table.findings:
                for line in finding.lines(table.file, None):
                    found.add((Path(table.file).stem, line["row"], line["column"], line["check"]))
        return report, found

    _, raw_problems = problems(simulated_raw)
    wh_report, wh_problems = problems(out)
    checked = {Path(t.file).stem for t in wh_report.tables}
    assert set(contract.SOURCE_NAMES) | {"persons"} <= checked
    if t["rows_quarantined"] == 0:
        assert wh_problems <= raw_problems, sorted(wh_problems - raw_problems)[:5]


def test_parquet_extract_with_typed_columns(raw, tmp_path):
    frame = pd.read_csv(raw / "residence.csv", dtype=str, keep_default_na=False)
    frame["from_date"] = pd.to_datetime(frame["from_date"])
    frame["to_date"] = pd.NaT
    frame.to_parquet(raw / "residence.parquet", index=False)
    (raw / "residence.csv").unlink()
    result, text = _run(raw, "--key", _key(tmp_path / "s"), "--out", tmp_path / "wh")
    assert result.exit_code == 0, text
    res = pq.read_table(tmp_path / "wh" / "residence.parquet")
    assert res.num_rows == N_PERSONS and res["to_date"].null_count == N_PERSONS
    assert res.schema.field("from_date").type == pa.date32()
    assert str(res["from_date"][0]) == "2016-10-01"
    report = json.loads((tmp_path / "wh" / "linkage_report.json").read_text())
    assert report["sources"]["residence"]["file"] == "residence.parquet"
    # the same source twice (CSV and Parquet) is ambiguous: refused
    (raw / "residence.csv").write_text("cpr,municipality_code,from_date,to_date\n")
    result, text = _run(raw, "--key", _key(tmp_path / "s2"), "--out", tmp_path / "wh2")
    assert result.exit_code != 0 and "more than once" in text and "residence.csv" in text


def test_header_only_file(raw, tmp_path):
    (raw / "custody.csv").write_text("cpr,start_date,end_date,custody_type\n")
    result, text = _run(raw, "--key", _key(tmp_path / "s"), "--out", tmp_path / "wh")
    assert result.exit_code == 0, text
    report = json.loads((tmp_path / "wh" / "linkage_report.json").read_text())
    assert report["sources"]["custody"]["rows_read"] == 0
    assert report["sources"]["custody"]["share_in_population"] is None
    custody = pq.read_table(tmp_path / "wh" / "custody.parquet")
    assert custody.num_rows == 0 and custody.schema.field("start_date").type == pa.date32()


def test_raw_folder_missing_or_output_a_file(tmp_path):
    key = _key(tmp_path / "s")
    result, text = _run(tmp_path / "nowhere", "--key", key, "--out", tmp_path / "wh")
    assert result.exit_code != 0 and "nowhere" in text and "does not exist" in text
    assert not (tmp_path / "wh").exists()
    make_raw(tmp_path / "raw")
    (tmp_path / "wh.parquet").write_text("x")
    result, text = _run(tmp_path / "raw", "--key", key, "--out", tmp_path / "wh.parquet")
    assert result.exit_code != 0 and "is a file" in text
    assert (tmp_path / "wh.parquet").read_text() == "x"


def test_unexpected_library_error_is_redacted(raw, tmp_path, monkeypatch):
    import evaluation.pseudonymise as mod

    def boom(text, col):
        raise ValueError("cannot convert '010190-1234' in column")

    monkeypatch.setattr(mod, "type_column", boom)
    result, text = _run(raw, "--key", _key(tmp_path / "s"), "--out", tmp_path / "wh")
    assert result.exit_code != 0
    assert "could not be pseudonymised" in text and "ValueError" in text
    assert "010190-1234" not in text and "0101901234" not in text and "Traceback" not in text
    assert not (tmp_path / "wh").exists()


def test_nothing_given():
    result, text = _run()
    assert result.exit_code != 0 and "no raw folder given" in text and "Traceback" not in text
