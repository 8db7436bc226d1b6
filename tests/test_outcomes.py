"""Outcome derivation on hand-made warehouses."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evaluation.analysis.plan import OutcomeSpec
from evaluation.outcomes import WarehouseTables, derive_outcome, remove_custody

D = pd.Timestamp
DATA_END = "2026-09-30"


def pid(i: int) -> str:
    return f"{i:032x}"


def write_warehouse(folder: Path, **tables: list[dict]) -> Path:
    cols = {
        "charges": ["person_id", "case_id", "offence_date", "charge_date", "offence_code", "offence_category"],
        "convictions": ["person_id", "case_id", "decision_date", "offence_date", "sanction"],
        "custody": ["person_id", "start_date", "end_date", "custody_type"],
        "education": ["person_id", "start_date", "end_date", "level", "status"],
        "employment": ["person_id", "month", "hours"],
        "group_registrations": ["person_id", "group_id", "registered_date", "deregistered_date"],
    }
    dates = {"offence_date", "charge_date", "decision_date", "start_date", "end_date",
             "registered_date", "deregistered_date"}
    folder.mkdir(parents=True, exist_ok=True)
    for name, columns in cols.items():
        frame = pd.DataFrame(tables.get(name, []), columns=columns)
        for c in columns:
            if c in dates:
                frame[c] = pd.to_datetime(frame[c])
            elif c == "hours":
                frame[c] = frame[c].astype(float)
            else:
                frame[c] = frame[c].astype(object)
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def cohort(rows: list[tuple]) -> pd.DataFrame:
    """rows: (person, set_id, treated, index_date, end_date, end_reason)."""
    out = pd.DataFrame(rows, columns=["p", "set_id", "treated", "index_date", "end_date", "end_reason"])
    out["person_id"] = out["p"].map(pid)
    out["arm"] = out["treated"].map({1: "contacted", 0: "comparison"})
    out["weight"] = 1.0
    out["index_date"] = pd.to_datetime(out["index_date"])
    out["end_date"] = pd.to_datetime(out["end_date"])
    return out.drop(columns="p")


def spec(definition: str, family: str = "reoffending", **kw) -> OutcomeSpec:
    return OutcomeSpec(id="x", family=family, definition=definition, primary=True,
                       direction="lower_is_better", label={"da": "x", "en": "x"}, **kw)


def charge(p, case, date, cat="property"):
    return {"person_id": pid(p), "case_id": case, "offence_date": date, "charge_date": date,
            "offence_code": "1", "offence_category": cat}


@pytest.fixture()
def reoffending_tables(tmp_path):
    wh = write_warehouse(
        tmp_path / "wh",
        charges=[
            charge(1, "c1", "2024-01-01"),            # on the index date: not after
            charge(1, "c2", "2024-03-01", "violence"),  # 60 days after
            charge(2, "c3", "2023-12-01"),            # before index
            charge(3, "c4", "2024-06-01"),            # after death on 2024-03-01
            charge(4, "c5", "2024-02-15"),            # after being contacted on 2024-02-01
            charge(5, "c6", "2024-04-10"),            # after custody
            charge(5, "c7", "2024-05-01"),
        ],
        custody=[{"person_id": pid(5), "start_date": "2024-01-11", "end_date": "2024-01-31",
                  "custody_type": "remand"},
                 {"person_id": pid(5), "start_date": "2024-01-21", "end_date": "2024-02-10",
                  "custody_type": "prison"},
                 {"person_id": pid(6), "start_date": "2024-01-11", "end_date": None,
                  "custody_type": "prison"}],
        convictions=[
            {"person_id": pid(1), "case_id": "c2", "decision_date": "2024-09-01",
             "offence_date": "2024-03-01", "sanction": "fine"},
            {"person_id": pid(5), "case_id": "c6", "decision_date": "2024-08-01",
             "offence_date": "2024-04-10", "sanction": "acquittal"},
            {"person_id": pid(5), "case_id": "c7", "decision_date": "2026-08-01",
             "offence_date": "2024-05-01", "sanction": "suspended"},
        ],
    )
    return WarehouseTables.read(wh, pd.Timestamp(DATA_END))


def test_first_charge_after_index_competing_and_contact_censoring(reoffending_tables):
    c = cohort([
        (1, 1, 1, "2024-01-01", DATA_END, "end_of_data"),
        (2, 1, 0, "2024-01-01", DATA_END, "end_of_data"),
        (3, 1, 0, "2024-01-01", "2024-03-01", "death"),
        (4, 1, 0, "2024-01-01", "2024-02-01", "contacted"),
        (7, 2, 0, "2024-01-01", "2024-05-01", "emigration"),
    ])
    out = derive_outcome(c, spec("first_charge"), reoffending_tables).frame
    got = out.set_index("person_id")[["time", "status"]]
    assert got.loc[pid(1)].tolist() == [60, 1]     # the index-date charge is not "after"
    assert got.loc[pid(2)].tolist() == [(D(DATA_END) - D("2024-01-01")).days, 0]
    assert got.loc[pid(3)].tolist() == [60, 2]     # death before the charge: competing
    assert got.loc[pid(4)].tolist() == [31, 0]     # comparison: censored at contact
    assert got.loc[pid(7)].tolist() == [121, 2]    # emigration: competing
    assert set(out.columns) >= {"person_id", "set_id", "treated", "weight", "time", "status"}


def test_violence_variant_and_conviction_variant(reoffending_tables):
    c = cohort([(1, 1, 1, "2024-01-01", DATA_END, "end_of_data"),
                (5, 1, 0, "2024-01-01", DATA_END, "end_of_data")])
    v = derive_outcome(c, spec("first_charge", offence_categories=("violence", "weapons")),
                       reoffending_tables).frame.set_index("person_id")
    assert v.loc[pid(1), "status"] == 1 and v.loc[pid(5), "status"] == 0
    conv = derive_outcome(c, spec("first_guilty_decision", offence_window_days=730),
                          reoffending_tables).frame.set_index("person_id")
    assert conv.loc[pid(1)].tolist()[-2:] == [60, 1]
    # acquittal does not count; the later guilty decision (decided 2 years on) does
    assert conv.loc[pid(5), "time"] == (D("2024-05-01") - D("2024-01-01")).days
    assert conv.loc[pid(5), "status"] == 1
    short = derive_outcome(c, spec("first_guilty_decision", offence_window_days=30),
                           reoffending_tables).frame.set_index("person_id")
    assert short.loc[pid(5)].tolist()[-2:] == [30, 0]   # censored at the end of the window


def test_custody_time_removed_from_start_stop(reoffending_tables):
    c = cohort([(5, 1, 1, "2024-01-01", DATA_END, "end_of_data"),
                (6, 1, 0, "2024-01-01", DATA_END, "end_of_data")])
    out = derive_outcome(c, spec("first_charge", remove_custody=True), reoffending_tables)
    ss = out.start_stop
    p5 = ss[ss["person_id"] == pid(5)]
    # overlapping spells 10..30 and 20..40 merge into one removed interval (10, 40]
    assert p5[["start", "stop", "status"]].values.tolist() == [[0, 10, 0], [40, 100, 1]]
    p6 = ss[ss["person_id"] == pid(6)]   # in custody from day 10 to the data end
    assert p6[["start", "stop", "status"]].values.tolist() == [[0, 10, 0]]
    assert out.frame.set_index("person_id").loc[pid(5), "time"] == 100


def test_event_inside_custody_keeps_a_day_at_risk():
    frame = pd.DataFrame({"_row": [0], "person_id": [pid(1)], "index_date": [D("2024-01-01")],
                          "time": [20.0], "status": [1]})
    custody = pd.DataFrame({"person_id": [pid(1)], "start_date": [D("2024-01-06")],
                            "end_date": [D("2024-02-01")]})
    ss = remove_custody(frame, custody, D(DATA_END))
    assert ss[["start", "stop", "status"]].values.tolist() == [[0, 5, 0], [19, 20, 1]]


def test_charge_counts_and_person_time(reoffending_tables):
    c = cohort([(5, 1, 1, "2024-01-01", "2024-12-31", "end_of_data")])
    out = derive_outcome(c, spec("first_charge", count=True, remove_custody=True), reoffending_tables)
    assert out.counts["n_events"].tolist() == [2]
    assert out.counts["person_time"].tolist() == [365 - 30]


def test_education_job_excludes_those_in_either_at_index(tmp_path):
    wh = write_warehouse(
        tmp_path / "wh",
        education=[{"person_id": pid(1), "start_date": "2023-08-01", "end_date": None,
                    "level": "fgu", "status": "ongoing"},
                   {"person_id": pid(3), "start_date": "2024-05-01", "end_date": None,
                    "level": "fgu", "status": "ongoing"}],
        employment=[{"person_id": pid(2), "month": "2024-01", "hours": 80.0},
                    {"person_id": pid(4), "month": "2024-01", "hours": 10.0},
                    {"person_id": pid(4), "month": "2024-03", "hours": 39.0},
                    {"person_id": pid(4), "month": "2024-04", "hours": 45.0}],
    )
    tables = WarehouseTables.read(wh, D(DATA_END))
    c = cohort([(1, 1, 1, "2024-01-15", DATA_END, "end_of_data"),
                (2, 1, 0, "2024-01-15", DATA_END, "end_of_data"),
                (3, 1, 0, "2024-01-15", DATA_END, "end_of_data"),
                (4, 1, 0, "2024-01-15", DATA_END, "end_of_data")])
    out = derive_outcome(c, spec("first_education_or_job", family="education_job"), tables)
    got = out.frame.set_index("person_id")
    assert pid(1) not in got.index and pid(2) not in got.index
    assert got.loc[pid(3), "time"] == (D("2024-05-01") - D("2024-01-15")).days
    assert got.loc[pid(4), "time"] == (D("2024-04-01") - D("2024-01-15")).days  # 39 h < 40
    assert got["status"].tolist() == [1, 1]
    assert out.population == {"contacted": 0, "comparison": 2}


def test_group_registration_and_cooffence(tmp_path):
    wh = write_warehouse(
        tmp_path / "wh",
        group_registrations=[
            {"person_id": pid(1), "group_id": "g", "registered_date": "2023-01-01", "deregistered_date": None},
            {"person_id": pid(2), "group_id": "g", "registered_date": "2024-03-01", "deregistered_date": None},
            {"person_id": pid(9), "group_id": "g", "registered_date": "2022-01-01",
             "deregistered_date": "2024-06-01"},
        ],
        charges=[charge(3, "k1", "2024-02-01"), charge(9, "k1", "2024-02-01"),     # member at the time
                 charge(4, "k2", "2024-07-01"), charge(9, "k2", "2024-07-01")],    # no longer member
    )
    tables = WarehouseTables.read(wh, D(DATA_END))
    c = cohort([(1, 1, 1, "2024-01-01", DATA_END, "end_of_data"),
                (2, 1, 0, "2024-01-01", DATA_END, "end_of_data"),
                (3, 1, 0, "2024-01-01", DATA_END, "end_of_data"),
                (4, 1, 0, "2024-01-01", DATA_END, "end_of_data")])
    reg = derive_outcome(c, spec("first_registration", family="group_recruitment"), tables).frame
    reg = reg.set_index("person_id")
    assert pid(1) not in reg.index                      # registered at index
    assert reg.loc[pid(2)].tolist()[-2:] == [60, 1]
    co = derive_outcome(c, spec("first_cooffence_with_member", family="group_recruitment"), tables).frame
    co = co.set_index("person_id")
    assert co.loc[pid(3)].tolist()[-2:] == [31, 1]
    assert co.loc[pid(4), "status"] == 0
