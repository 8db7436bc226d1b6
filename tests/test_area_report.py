"""The area-level sections of the reports, rendered from a bundle whose ``area`` entry comes from
simulated reported crime (with a declared calendar event and one small monthly count)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from bundle_factory import make_study
from click.testing import CliRunner

from evaluation.analysis.area import area_section
from evaluation.cli import cli
from evaluation.errors import ConfigError
from evaluation.report.bundle import Bundle
from evaluation.report.cells import area_key, build_checker
from evaluation.simulate.area import simulate_reported_crime

EVENT = "2020-03:2021-05:COVID-19"
SMALL_MONTH = "2017-02"


def _warehouse(folder):
    table, _ = simulate_reported_crime(3, np.datetime64("2016-10-01"), np.datetime64("2026-09-30"),
                                       np.datetime64("2023-09-01"))
    aalborg = (table["municipality_code"] == "851") & (table["period"] == SMALL_MONTH)
    table.loc[aalborg & (table["offence_category"] == "violence"), "count"] = 2
    table.loc[aalborg & (table["offence_category"] == "weapons"), "count"] = 0
    folder.mkdir(parents=True)
    table.to_parquet(folder / "reported_crime.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def area_study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("area_report")
    study = make_study(folder)
    study.write_text(study.read_text().replace('[report]\n', '[report]\nformats = ["html"]\n'),
                     encoding="utf-8")
    results = folder / "output" / "2026Q3" / "results"
    entry, tables = area_section(_warehouse(folder / "warehouse"), dt.date(2023, 9, 1),
                                 dt.date(2026, 9, 30), (EVENT,), study)
    for name, table in tables.items():
        table.to_parquet(results / "tables" / f"{name}.parquet", index=False)
    estimates = json.loads((results / "estimates.json").read_text())
    estimates["area"] = entry
    (results / "estimates.json").write_text(json.dumps(estimates), encoding="utf-8")
    out = CliRunner().invoke(cli, ["--quiet", "report", str(study), "--quarter", "2026Q3"])
    assert out.exit_code == 0, out.output
    return {"study": study, "entry": entry, "results": results,
            "report": folder / "output" / "2026Q3" / "report"}


def test_bundle_entry_carries_events_and_intervals(area_study):
    methods = {m["method"]: m for m in area_study["entry"]["methods"]}
    its = methods["its"]
    assert its["assumes_key"] == "its_events"
    assert its["diagnostics"]["events"][0]["first"] == "2020-03"
    assert its["diagnostics"]["critical_value_kind"] == "fixed_b"
    assert its["diagnostics"]["critical_value"] > 1.96
    synth = methods["synth"]
    assert synth["conf_low"] < synth["estimate"] < synth["conf_high"]


def test_small_area_count_goes_through_the_documents_checker(area_study):
    check = build_checker(Bundle.open(area_study["results"]), "2026Q3", 5)
    assert check.suppressed(area_key(SMALL_MONTH))
    assert not check.suppressed(area_key("2017-03"))


@pytest.mark.parametrize("lang, words", [
    ("da", ("Erklærede kalenderbegivenheder", "COVID-19 (2020-03 til 2021-05",
            "fixed-b kritisk værdi", "konform inferens", "Den konforme p-værdi")),
    ("en", ("Declared calendar events", "COVID-19 (2020-03 to 2021-05",
            "fixed-b critical value", "conformal inference", "The conformal p-value")),
])
def test_appendix_states_the_declared_event_and_the_intervals(area_study, lang, words):
    page = (area_study["report"] / lang / "technical.html").read_text(encoding="utf-8")
    for word in words:
        assert word in page, word
    council = (area_study["report"] / lang / "quarterly.html").read_text(encoding="utf-8")
    assert ("Anmeldt vold" if lang == "da" else "Reported violence") in council


def test_an_event_outside_the_data_names_the_study_file(tmp_path):
    with pytest.raises(ConfigError, match="has no period inside the data") as err:
        area_section(_warehouse(tmp_path / "w"), dt.date(2023, 9, 1), dt.date(2026, 9, 30),
                     ("2030-01:2030-02",), tmp_path / "study.toml")
    assert err.value.key == "area.events[0]"
