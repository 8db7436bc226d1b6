"""The quarter selects the data: the as-of cut, the possible quarters, per-quarter folders."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from bundle_factory import make_study
from click.testing import CliRunner
from test_cohort import DEFINITION, random_world, write_warehouse

from evaluation.cli import cli
from evaluation.cohort import build_cohort, load_definition
from evaluation.io import read_warehouse
from evaluation.quarters import Quarter, QuarterError, choose_quarter, possible_quarters

AS_OF = dt.date(2025, 12, 31)
START = dt.date(2023, 9, 1)


def truncate_by_hand(world: dict[str, pd.DataFrame], day: dt.date) -> dict[str, pd.DataFrame]:
    """The registers as they stood on ``day``, written out table by table (independent of the
    code under test): later events removed, later ends unknown."""
    t = pd.Timestamp(day)

    def d(frame, col):
        return pd.to_datetime(frame[col])

    out = {k: v.copy() for k, v in world.items()}
    out["contacts"] = out["contacts"][d(out["contacts"], "contact_date") <= t]
    ch = out["charges"]
    out["charges"] = ch[(d(ch, "charge_date") <= t) & (d(ch, "offence_date") <= t)]
    for name, start, end in (("residence", "from_date", "to_date"), ("custody", "start_date", "end_date"),
                             ("education", "start_date", "end_date"),
                             ("group_registrations", "registered_date", "deregistered_date")):
        f = out[name]
        f = f[d(f, start) <= t].copy()
        f[end] = d(f, end).where(d(f, end) <= t)
        out[name] = f
    ed = out["education"]
    ed.loc[ed["end_date"].isna(), "status"] = "ongoing"
    v = out["vital"]
    for col in ("death_date", "emigration_date"):
        v[col] = d(v, col).where(d(v, col) <= t)
    em = out["employment"]
    out["employment"] = em[em["month"].astype(str) <= day.isoformat()[:7]]
    return out


@pytest.fixture(scope="module")
def two_warehouses(tmp_path_factory):
    world = random_world(n=3000, seed=9)
    root = tmp_path_factory.mktemp("asof")
    full = write_warehouse(root / "full", world)
    cut = write_warehouse(root / "cut", truncate_by_hand(world, AS_OF))
    return world, full, cut


def _norm(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True).copy()
    for c in frame.columns:
        if c.endswith("_date"):
            frame[c] = pd.to_datetime(frame[c])
        else:
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    return frame


@pytest.mark.parametrize("table", ["contacts", "residence", "vital", "charges", "custody",
                                   "education", "employment", "group_registrations", "persons"])
def test_read_as_of_equals_the_registers_on_that_day(two_warehouses, table):
    _, full, cut = two_warehouses
    got = read_warehouse(full, table, as_of=AS_OF)
    want = pd.read_parquet(cut / f"{table}.parquet")
    pd.testing.assert_frame_equal(_norm(got), _norm(want), check_dtype=False)


def test_cohort_as_of_a_quarter_equals_the_cohort_from_truncated_registers(two_warehouses):
    """Nothing dated after the analysis date reaches the cohort builder: building from the full
    warehouse as of 2025-12-31 gives the cohort built from registers that end that day."""
    world, full, cut = two_warehouses
    d = load_definition(DEFINITION)
    a = build_cohort(full, d, data_end=AS_OF, seed=3)
    b = build_cohort(cut, d, data_end=AS_OF, seed=3)
    pd.testing.assert_frame_equal(a.cohort, b.cohort)
    pd.testing.assert_frame_equal(a.attrition, b.attrition)
    assert pd.to_datetime(a.cohort["index_date"]).max() <= pd.Timestamp(AS_OF)
    assert pd.to_datetime(a.cohort["end_date"]).max() <= pd.Timestamp(AS_OF)
    # a direct count: persons with a qualifying contact between the start and the analysis date
    c = world["contacts"]
    day = pd.to_datetime(c["contact_date"])
    direct = c[c["contact_type"].isin(d.contact_types) & (day >= pd.Timestamp(d.start))
               & (day <= pd.Timestamp(AS_OF))]["person_id"].nunique()
    assert a.meta["counts"]["contacted_first_qualifying"] == direct


def test_quarter_arithmetic():
    assert Quarter.parse("2025Q4").last_day == dt.date(2025, 12, 31)
    assert Quarter.parse("2024Q1").last_day == dt.date(2024, 3, 31)
    assert Quarter.parse("2024Q1").previous() == Quarter(2023, 4)
    assert Quarter.of(dt.date(2026, 9, 30)).label == "2026Q3"
    qs = possible_quarters(START, dt.date(2026, 9, 30))
    assert qs[0].label == "2023Q3" and qs[-1].label == "2026Q3" and len(qs) == 13
    # the data end inside a quarter: that quarter is not complete, the previous one is the latest
    assert choose_quarter(None, START, dt.date(2026, 9, 29)).label == "2026Q2"


@pytest.mark.parametrize("quarter, why", [("2019Q1", "ends before the initiative start 2023-09-01"),
                                          ("2026Q4", "ends after the end of data 2026-09-30"),
                                          ("2026-4", "must look like 2026Q3")])
def test_quarter_out_of_range_is_refused(quarter, why):
    with pytest.raises(QuarterError) as err:
        choose_quarter(quarter, START, dt.date(2026, 9, 30))
    assert why in err.value.message and err.value.exit_code == 2
    if "range" in why or "ends" in why:
        assert err.value.message.endswith("possible quarters: 2023Q3..2026Q3")


def _study(tmp_path: Path, warehouse: Path) -> Path:
    analyses = ", ".join(f'"{p}"' for p in sorted((Path(DEFINITION).parents[1] / "analyses").glob("*.toml")))
    study = tmp_path / "study.toml"
    study.write_text(f'[study]\nwarehouse = "{warehouse}"\ncohort = "{DEFINITION.as_posix()}"\n'
                     f'analyses = [{analyses}]\noutput = "out"\ndata_end = "2026-09-30"\nseed = 7\n',
                     encoding="utf-8")
    return study


@pytest.mark.parametrize("command", [["cohort", "build"], ["analyse"], ["run"]])
def test_stages_refuse_an_out_of_range_quarter(two_warehouses, tmp_path, command):
    _, full, _ = two_warehouses
    study = _study(tmp_path, full)
    result = CliRunner().invoke(cli, [*command, str(study), "--quarter", "2019Q1"])
    assert result.exit_code == 2, result.output
    lines = [x for x in result.output.splitlines() if x.startswith("Error")]
    expected = ("Error: quarter 2019Q1 ends before the initiative start 2023-09-01; "
                "possible quarters: 2023Q3..2026Q3")
    assert lines == [expected]
    assert not (tmp_path / "out").exists()


def test_cohort_and_bundle_of_an_earlier_quarter_go_to_its_own_folder(two_warehouses, tmp_path):
    _, full, _ = two_warehouses
    study = _study(tmp_path, full)
    runner = CliRunner()
    for q in ("2025Q4", "2026Q3"):
        result = runner.invoke(cli, ["cohort", "build", str(study), "--quarter", q])
        assert result.exit_code == 0, result.output
    early = json.loads((tmp_path / "out" / "2025Q4" / "cohort" / "cohort.json").read_text())
    late = json.loads((tmp_path / "out" / "2026Q3" / "cohort" / "cohort.json").read_text())
    assert early["quarter"] == "2025Q4" and early["data_end"] == "2025-12-31"
    assert late["quarter"] == "2026Q3" and late["data_end"] == "2026-09-30"
    assert early["counts"]["contacted"] < late["counts"]["contacted"]
    # a cohort copied from another quarter is not analysed as this quarter's
    shutil.rmtree(tmp_path / "out" / "2026Q3" / "cohort")
    shutil.copytree(tmp_path / "out" / "2025Q4" / "cohort", tmp_path / "out" / "2026Q3" / "cohort")
    result = runner.invoke(cli, ["analyse", str(study), "--quarter", "2026Q3"])
    assert result.exit_code == 2 and "built with data up to 2025-12-31" in result.output


def test_report_refuses_a_bundle_for_another_quarter(tmp_path):
    study = make_study(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["report", str(study), "--quarter", "2026Q2"])
    assert result.exit_code == 2
    assert "no results bundle for 2026Q2" in result.output and "2026Q3" in result.output
    # a bundle whose own quarter is another one, placed in this quarter's folder
    bundle = tmp_path / "output" / "2026Q3" / "results"
    est = json.loads((bundle / "estimates.json").read_text())
    est["study"]["quarter"] = "2026Q2"
    (bundle / "estimates.json").write_text(json.dumps(est))
    result = runner.invoke(cli, ["report", str(study), "--quarter", "2026Q3"])
    assert result.exit_code == 2 and "made for 2026Q2, not 2026Q3" in result.output
    assert not (tmp_path / "output" / "2026Q3" / "report").exists()
