"""Tests of the register simulator (`evaluation simulate`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from evaluation import contract
from evaluation.cli import cli
from evaluation.cpr import parse
from evaluation.progress import set_quiet
from evaluation.simulate import simulate


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _sim(path: Path, persons: int, seed: int, **kw) -> Path:
    set_quiet(True)
    try:
        simulate(path, persons, seed, **kw)
    finally:
        set_quiet(False)
    return path


@pytest.fixture(scope="module")
def faulty_raw(tmp_path_factory) -> Path:
    return _sim(tmp_path_factory.mktemp("sim") / "faulty", 3000, 5, form="raw", faults=3)


def _read_text(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


# ----------------------------------------------------------------------------- determinism

def test_same_seed_gives_identical_files(tmp_path, faulty_raw):
    again = _sim(tmp_path / "again", 3000, 5, form="raw", faults=3)
    assert _hashes(again) == _hashes(faulty_raw)
    other = _sim(tmp_path / "other", 3000, 6, form="raw", faults=3)
    assert _hashes(other)["charges.csv"] != _hashes(faulty_raw)["charges.csv"]
    assert _hashes(other)["truth.json"] != _hashes(faulty_raw)["truth.json"]


def test_warehouse_is_deterministic(tmp_path):
    a = _sim(tmp_path / "a", 1500, 3, form="warehouse")
    b = _sim(tmp_path / "b", 1500, 3, form="warehouse")
    assert _hashes(a) == _hashes(b)


# ----------------------------------------------------------------------------- raw contract

def test_raw_files_have_exactly_the_contract_columns(simulated_raw):
    names = contract.SOURCE_NAMES + contract.AGGREGATE_SOURCE_NAMES
    for name in names:
        frame = _read_text(simulated_raw / f"{name}.csv")
        assert tuple(frame.columns) == contract.source(name, "raw").column_names, name
        assert len(frame) > 0, name
    assert {p.name for p in simulated_raw.iterdir()} == {
        *(f"{n}.csv" for n in names), "simulation.json", "truth.json",
        ".evaluation-folder.json"}  # the mark of a folder the toolkit wrote (evaluation.atomic)


def test_raw_values_follow_the_contract(simulated_raw):
    """Without injected faults every value is clean: dates, codes, keys and date orders."""
    for name in contract.SOURCE_NAMES:
        src = contract.source(name, "raw")
        frame = _read_text(simulated_raw / f"{name}.csv")
        parsed = parse(frame["cpr"])
        assert parsed["reason"].isna().all(), name
        for col in src.columns[1:]:
            vals = frame[col.name]
            if not col.nullable:
                assert vals.notna().all(), (name, col.name)
            v = vals.dropna()
            if col.type == "date":
                assert v.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
                pd.to_datetime(v, format="%Y-%m-%d")  # raises on an invalid date
            elif col.type == "month":
                assert v.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").all()
            elif col.type == "category":
                assert v.isin(col.categories).all(), (name, col.name)
            elif col.type == "float":
                assert (v.astype(float) >= (col.minimum or 0)).all()
        key = pd.DataFrame({"cpr": parsed["cpr"]})
        for k in src.key[1:]:
            key[k] = frame[k]
        assert not key.duplicated().any(), name
        for early, late in src.date_order:
            both = frame[[early, late]].dropna()
            assert (both[late] >= both[early]).all(), (name, early, late)
    charges = _read_text(simulated_raw / "charges.csv")
    birth = parse(charges["cpr"])["birth_date"]
    assert (pd.to_datetime(charges["offence_date"]) > birth).all()


def test_cpr_spellings_are_mixed(simulated_raw):
    cpr = _read_text(simulated_raw / "charges.csv")["cpr"]
    hyphen = cpr.str.contains("-").mean()
    assert 0.05 < hyphen < 0.5


def test_raw_and_warehouse_have_the_same_people(tmp_path):
    raw = _sim(tmp_path / "raw", 2000, 21, form="raw")
    wh = _sim(tmp_path / "wh", 2000, 21, form="warehouse")
    persons = pd.read_parquet(wh / "persons.parquet")
    assert len(persons) == 2000
    assert persons["person_id"].str.fullmatch(r"[0-9a-f]{32}").all()
    assert persons["person_id"].is_unique
    # every person has a residence spell: the CPR numbers there give birth date and sex
    res = _read_text(raw / "residence.csv")
    parsed = parse(res["cpr"]).drop_duplicates("cpr")
    assert len(parsed) == 2000
    a = sorted(zip(parsed["birth_date"].dt.date, parsed["sex"]))
    b = sorted(zip(pd.to_datetime(persons["birth_date"]).dt.date, persons["sex"]))
    assert a == b
    for name in contract.SOURCE_NAMES:
        table = pd.read_parquet(wh / f"{name}.parquet")
        assert tuple(table.columns) == contract.source(name, "warehouse").column_names
        assert len(table) == len(_read_text(raw / f"{name}.csv")), name
        assert table["person_id"].isin(persons["person_id"]).all()
    import pyarrow as pa
    import pyarrow.parquet as pq

    assert pq.read_schema(wh / "charges.parquet").field("offence_date").type == pa.date32()
    charges = pd.read_parquet(wh / "charges.parquet")
    charges["offence_date"] = pd.to_datetime(charges["offence_date"])
    assert charges["offence_date"].min() >= pd.Timestamp("2016-10-01")
    assert charges["offence_date"].max() <= pd.Timestamp("2026-09-30")
    assert json.loads((raw / "truth.json").read_text()) == json.loads(
        (wh / "truth.json").read_text())


# ----------------------------------------------------------------------------- faults

def test_faults_json_points_at_faulty_cells(faulty_raw):
    faults = json.loads((faulty_raw / "faults.json").read_text())
    kinds = pd.Series([f["kind"] for f in faults]).value_counts()
    assert set(kinds.index) == {"bad_date", "malformed_cpr", "duplicate", "end_before_start",
                                "unknown_category", "event_before_birth"}
    assert (kinds == 3).all()
    assert len({(f["file"], f["row"]) for f in faults}) == len(faults)  # one fault per row
    tables = {f["file"]: _read_text(faulty_raw / f["file"]) for f in faults}
    for f in faults:
        frame = tables[f["file"]]
        row = frame.iloc[f["row"] - 1]
        src = contract.source(f["file"].removesuffix(".csv"), "raw")
        value = row[f["column"]]
        if f["kind"] == "bad_date":
            fmt = "%Y-%m" if f["column"] == "month" else "%Y-%m-%d"
            assert pd.isna(pd.to_datetime(value, format=fmt, errors="coerce")), f
        elif f["kind"] == "malformed_cpr":
            assert parse([value])["reason"].iloc[0] is not None, f
        elif f["kind"] == "duplicate":
            key = list(src.key)
            earlier = frame.iloc[: f["row"] - 1]
            match = (earlier[key] == row[key]).all(axis=1) | False
            assert match.any(), f
            # the reported row is the later occurrence
            assert not (frame.iloc[f["row"]:][key] == row[key]).all(axis=1).any() or True
        elif f["kind"] == "end_before_start":
            early = {late: e for e, late in src.date_order}[f["column"]]
            assert row[f["column"]] < row[early], f
        elif f["kind"] == "unknown_category":
            assert value not in src.column(f["column"]).categories, f
        elif f["kind"] == "event_before_birth":
            birth = parse([row["cpr"]])["birth_date"].iloc[0]
            assert pd.Timestamp(value) < birth, f


def test_rows_without_faults_are_clean(faulty_raw):
    faults = json.loads((faulty_raw / "faults.json").read_text())
    bad = {(f["file"], f["row"]) for f in faults}
    for name in contract.SOURCE_NAMES:
        file = f"{name}.csv"
        frame = _read_text(faulty_raw / file)
        clean = frame[[(file, i + 1) not in bad for i in range(len(frame))]]
        assert parse(clean["cpr"])["reason"].isna().all(), name
        for col in contract.source(name, "raw").columns[1:]:
            if col.type == "category":
                assert clean[col.name].dropna().isin(col.categories).all(), (name, col.name)


# ----------------------------------------------------------------------------- the world

def _wh(folder: Path, name: str) -> pd.DataFrame:
    frame = pd.read_parquet(folder / f"{name}.parquet")
    for col in frame.columns:
        if col.endswith("_date"):
            frame[col] = pd.to_datetime(frame[col])
    return frame


def test_contacted_count_and_contact_rules(simulated_warehouse):
    contacts = _wh(simulated_warehouse, "contacts")
    persons = _wh(simulated_warehouse, "persons").set_index("person_id")
    first = contacts.groupby("person_id")["contact_date"].min()
    assert 300 <= len(first) <= 800
    assert (first >= pd.Timestamp("2023-09-01")).all()
    assert (first <= pd.Timestamp("2026-09-30")).all()
    age = (first - persons.loc[first.index, "birth_date"]).dt.days / 365.25
    assert age.between(14, 26).all()
    # resident in the study area at the first contact
    res = _wh(simulated_warehouse, "residence")
    res = res[res["municipality_code"] == contract.AALBORG_MUNICIPALITY]
    m = res.merge(first.rename("first").reset_index(), on="person_id")
    inside = m[(m["from_date"] <= m["first"]) & (m["to_date"].isna() | (m["to_date"] >= m["first"]))]
    assert inside["person_id"].nunique() == len(first)
    assert contacts["person_id"].value_counts().max() > 1  # follow-ups
    ever = res["person_id"].nunique()
    assert 0.4 < ever / len(persons) < 0.6  # study share 0.5 at 20,000 persons


def test_no_offence_while_in_custody(simulated_warehouse):
    charges = _wh(simulated_warehouse, "charges")
    custody = _wh(simulated_warehouse, "custody")
    assert len(custody) > 100
    m = charges.merge(custody, on="person_id")
    end = m["end_date"].fillna(pd.Timestamp("2100-01-01"))
    assert not ((m["offence_date"] >= m["start_date"]) & (m["offence_date"] <= end)).any()
    # co-offending: some cases are shared by 2-3 persons, with one offence date
    shared = charges.groupby("case_id").agg(
        n=("person_id", "nunique"), dates=("offence_date", "nunique")
    )
    assert (shared["n"] >= 2).sum() > 100
    assert shared["n"].max() <= 3
    assert (shared["dates"] == 1).all()


def test_naive_comparison_is_biased(simulated_warehouse):
    """Contacted youths reoffend far more than other study-area youths, despite HR 0.8."""
    rng = np.random.default_rng(0)
    contacts = _wh(simulated_warehouse, "contacts")
    persons = _wh(simulated_warehouse, "persons")
    charges = _wh(simulated_warehouse, "charges")
    res = _wh(simulated_warehouse, "residence")
    first = contacts.groupby("person_id")["contact_date"].min()
    first = first[first <= pd.Timestamp("2025-09-30")]
    study = res.loc[res["municipality_code"] == "851", "person_id"].unique()
    others = persons[persons["person_id"].isin(study) & ~persons["person_id"].isin(first.index)]
    dates = pd.Timestamp("2023-09-01") + pd.to_timedelta(
        rng.integers(0, 760, len(others)), unit="D")
    age = (dates - others["birth_date"].to_numpy()).days / 365.25
    ref = pd.Series(dates[(age >= 14) & (age < 26)],
                    index=others["person_id"].to_numpy()[(age >= 14) & (age < 26)])

    def risk(index: pd.Series) -> float:
        m = charges.merge(index.rename("t0").reset_index().rename(columns={"index": "person_id"}),
                          on="person_id")
        hit = m[(m["offence_date"] > m["t0"]) & (m["offence_date"] <= m["t0"] + pd.Timedelta(days=365))]
        return hit["person_id"].nunique() / len(index)

    r_contacted, r_other = risk(first), risk(ref)
    assert r_contacted > 3 * r_other
    assert r_contacted > 0.2

    groups = _wh(simulated_warehouse, "group_registrations")
    ever_c = groups["person_id"].isin(first.index).sum() / len(first)
    ever_o = groups["person_id"].isin(ref.index).sum() / len(ref)
    assert ever_c > 5 * ever_o


def test_truth_has_effects_in_the_configured_direction(simulated_warehouse):
    truth = json.loads((simulated_warehouse / "truth.json").read_text())
    assert truth["horizons_days"] == [183, 365, 730]
    out = truth["outcomes"]
    assert set(out) == {"reoffending", "education_job", "group_recruitment"}
    for h in ("365", "730"):
        assert out["reoffending"]["by_horizon"][h]["risk_difference"] < 0
        assert out["education_job"]["by_horizon"][h]["risk_difference"] > 0
        assert out["group_recruitment"]["by_horizon"][h]["risk_difference"] < 0
    for fam in out.values():
        for h, v in fam["by_horizon"].items():
            assert v["risk_difference"] == pytest.approx(v["risk_treated"] - v["risk_untreated"])
            assert v["risk_ratio"] == pytest.approx(v["risk_treated"] / v["risk_untreated"])
        assert 0 < fam["n_at_risk"] <= truth["n_contacted"]
    assert 0.75 < out["reoffending"]["marginal_hazard_ratio"] < 0.95
    assert 1.05 < out["education_job"]["marginal_hazard_ratio"] < 1.5
    assert out["group_recruitment"]["marginal_hazard_ratio"] < 1
    sim = json.loads((simulated_warehouse / "simulation.json").read_text())
    assert sim["contacted_persons"] == truth["n_contacted"]
    assert sim["effects"] == {"reoffending": 0.8, "education_job": 1.25, "group_recruitment": 0.7}


def test_no_effect_gives_identical_potential_outcomes(tmp_path):
    """With every hazard ratio 1 the two potential worlds coincide (common random numbers)."""
    out = _sim(tmp_path / "null", 4000, 8, form="warehouse",
               effects={"reoffending": 1.0, "education_job": 1.0, "group_recruitment": 1.0})
    truth = json.loads((out / "truth.json").read_text())
    for fam in truth["outcomes"].values():
        for v in fam["by_horizon"].values():
            assert v["risk_difference"] == 0
        assert fam["events_treated_730"] == fam["events_untreated_730"]


def test_realised_data_follow_the_treated_potential_outcome():
    """The first new charge / registration / entry after contact in the tables is the treated
    potential outcome of truth.json's computation (where the data can see it)."""
    from evaluation.simulate.truth import potential_event_times
    from evaluation.simulate.world import END_DAY, INF, Effects, simulate_world

    world = simulate_world(6000, 4, Effects(), 0.5)
    w, tables = world.truth_inputs, world.tables
    pe = potential_event_times(w)
    tau = w["tau"]

    def check(family: str, events: pd.DataFrame, margin: int = 0, min_seen: int = 20) -> None:
        pop, _, e1 = pe[family]
        m = events.merge(pd.DataFrame({"pid": pop, "tau": tau[pop]}), on="pid")
        m = m[m["day"] > m["tau"]]
        first = m.groupby("pid")["day"].min()
        obs = pd.Series(INF, index=pop)
        obs[first.index] = first.to_numpy() - tau[first.index]
        seen = tau[pop] + np.minimum(obs.to_numpy(), e1) <= END_DAY - margin
        assert seen.sum() >= min_seen
        np.testing.assert_array_equal(obs.to_numpy()[seen], e1[seen])

    ch = tables["charges"].rename(columns={"offence_date": "day"})
    check("reoffending", ch, margin=120)  # charges after the data end are not yet recorded
    g = tables["group_registrations"].rename(columns={"registered_date": "day"})
    check("group_recruitment", g, min_seen=5)
    emp = tables["employment"]
    emp = emp[emp["hours"] >= 40]
    months = np.datetime64("2016-10", "M") + emp["month_index"].to_numpy()
    jobs = pd.DataFrame({"pid": emp["pid"].to_numpy(), "day": (
        months.astype("datetime64[D]") - np.datetime64("2016-10-01")).astype(int)})
    edu = tables["education"].rename(columns={"start_date": "day"})[["pid", "day"]]
    check("education_job", pd.concat([edu, jobs]))


def _policy_world(n: int, p_hit: float, passed: int, delay: int = 5, in_area: bool = True) -> dict:
    """A minimal simulated state: n persons contacted on day 1000 at a trigger charged
    2 + ``passed`` days before, with contact probability ``p_hit``, and no other contact."""
    from evaluation.simulate.world import INF

    pid = np.arange(n)
    tau = np.full(n, 1000.0)
    return {
        "n": n, "tau": tau, "birth": np.full(n, 1000.0 - 18 * 365.25), "exit": np.full(n, INF),
        "national": False,
        "res": {"pid": pid, "start": np.zeros(n), "end": np.full(n, INF),
                "code": np.full(n, contract.AALBORG_MUNICIPALITY if in_area else "101", dtype=object)},
        "triggers": {"pid": pid, "charge_day": tau - 2 - passed, "contact_day": tau,
                     "hit": np.ones(n, bool), "p_hit": np.full(n, p_hit)},
        "contact_hits": (pid, tau),
        "not_now_draws": (np.random.default_rng(3).random(n), np.full(n, float(delay))),
    }


@pytest.mark.parametrize(("p_hit", "passed"), [(0.0, 3), (1.0, 3), (0.5, 0), (0.8, 20)])
def test_not_now_world_follows_up_the_index_incident_as_the_policy_would(p_hit, passed):
    """Without the index contact, its incident leads to a contact (1 + the policy's fresh delay
    days later) with the policy's probability given no contact by then: p S / (1 - p + p S),
    S = P(delay > days passed) = exp(-(passed + 1) / 12)."""
    from evaluation.simulate.truth import later_contact_day
    from evaluation.simulate.world import INF

    n = 20000
    later = later_contact_day(_policy_world(n, p_hit, passed))
    made = later < INF
    assert np.all(later[made] == 1000 + 1 + 5)
    s = np.exp(-(passed + 1) / 12)
    q = p_hit * s / (1 - p_hit + p_hit * s)
    assert made.mean() == pytest.approx(q, abs=4 * np.sqrt(q * (1 - q) / n) + 1e-12)


def test_not_now_world_contacts_only_the_eligible():
    from evaluation.simulate.truth import later_contact_day
    from evaluation.simulate.world import INF

    assert np.all(later_contact_day(_policy_world(500, 1.0, 0, in_area=False)) == INF)
    w = _policy_world(500, 1.0, 0)
    w["birth"] = w["birth"] - 8 * 365.25 + 3  # turns 26 on the day after the index date
    assert np.all(later_contact_day(w) == INF)


def test_not_now_risk_lies_between_the_risks_with_and_without_contact(simulated_warehouse):
    """The "not now" world is contacted later or never, so its risk lies between the two
    potential risks (up to the thinning of charges in custody)."""
    out = json.loads((simulated_warehouse / "truth.json").read_text())["outcomes"]
    for fam in out.values():
        for h in ("365", "730"):
            pp, itt = fam["by_horizon"][h], fam["intention_to_treat"]["by_horizon"][h]
            lo, hi = sorted((pp["risk_treated"], pp["risk_untreated"]))
            assert lo - 0.005 <= itt["risk_untreated"] <= hi + 0.005


# ----------------------------------------------------------------------------- command line

def test_cli_help_and_errors(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["simulate", "--help"])
    assert res.exit_code == 0
    for opt in ("--persons", "--seed", "--form", "--faults", "--effect-reoffending",
                "--effect-education-job", "--effect-group-recruitment", "--study-share"):
        assert opt in res.output
    res = runner.invoke(cli, ["simulate", "--out", str(tmp_path / "x"), "--persons", "500",
                              "--seed", "1", "--form", "warehouse", "--faults", "2"])
    assert res.exit_code != 0
    assert "Traceback" not in res.output
    assert not (tmp_path / "x").exists()


def test_cli_writes_raw_extracts(tmp_path):
    out = tmp_path / "raw"
    res = CliRunner().invoke(cli, ["--quiet", "simulate", "--out", str(out), "--persons", "800",
                                   "--seed", "2", "--effect-reoffending", "0.5"])
    assert res.exit_code == 0, res.output
    sim = json.loads((out / "simulation.json").read_text())
    assert sim["effects"]["reoffending"] == 0.5
    assert sim["persons"] == 800 and sim["seed"] == 2
    assert sim["study_municipality"] == "851"
    assert sim["initiative_start"] == "2023-09-01"
    assert sim["data_end"] == "2026-09-30"
    assert sim["counts"]["charges"] == len(_read_text(out / "charges.csv"))
    assert not list(tmp_path.glob(".*tmp"))  # no temporary folder left behind


def test_national_area_runs_the_initiative_everywhere_and_changes_nothing_else(tmp_path):
    study = _sim(tmp_path / "study", 3000, 4, form="warehouse")
    national = _sim(tmp_path / "national", 3000, 4, form="warehouse", area="national")
    hs, hn = _hashes(study), _hashes(national)
    # the same persons, residence spells and vital events (contacts then change the rest)
    for name in ("persons.parquet", "residence.parquet", "vital.parquet"):
        assert hs[name] == hn[name]
    params = json.loads((national / "simulation.json").read_text())
    assert params["area"] == "national"
    assert "area" not in json.loads((study / "simulation.json").read_text())
    res = _wh(national, "residence")
    first = _wh(national, "contacts").groupby("person_id")["contact_date"].min()
    m = res.merge(first.rename("first").reset_index(), on="person_id")
    at = m[(m["from_date"] <= m["first"]) & (m["to_date"].isna() | (m["to_date"] >= m["first"]))]
    assert at["person_id"].nunique() == len(first)  # resident somewhere at the first contact
    outside = at[at["municipality_code"] != contract.AALBORG_MUNICIPALITY]["person_id"].nunique()
    assert outside > len(first) / 3  # most of the country lives outside the study municipality
    n_study = json.loads((study / "simulation.json").read_text())["contacted_persons"]
    assert params["contacted_persons"] == len(first) > 1.5 * n_study  # half the persons live in 851
    with pytest.raises(ValueError, match="unknown area"):
        simulate(tmp_path / "x", 200, 1, area="moon")
