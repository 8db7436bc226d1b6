"""No row leaves silently: source settings, the quarantine gate, data_quality in the bundle and
the reports, required sources, one path resolution for validate and pseudonymise."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from evaluation.cli import cli
from evaluation.disclosure import SUPPRESSED_MARK
from evaluation.keys import generate_key_file
from evaluation.quality import QuarantineExceeded, check_quarantine_share, data_quality
from evaluation.validate import validate_folder


def _entry(read, bad, reason="unparseable contact_date", nine=0):
    return {"file": "contacts.csv", "rows_read": read, "rows_written": read - bad,
            "rows_quarantined": bad, "quarantined_by_reason": {reason: bad} if bad else {},
            "malformed_cpr_with_nine_digits": nine}


def test_gate_stops_above_the_share_and_names_the_fix():
    check_quarantine_share({"contacts": _entry(1000, 10)}, 0.01)  # exactly 1%: goes on
    with pytest.raises(QuarantineExceeded) as err:
        check_quarantine_share({"contacts": _entry(1000, 300)}, 0.01)
    msg = err.value.message
    assert err.value.exit_code == 1
    assert "contacts.csv" in msg and "300 of 1000" in msg and "30.0%" in msg
    assert "unparseable contact_date" in msg and "date_format" in msg and "max_quarantine_share" in msg
    with pytest.raises(QuarantineExceeded) as err:
        check_quarantine_share({"contacts": _entry(100, 50, "malformed_cpr", nine=50)}, 0.01)
    assert "leading zero" in err.value.message


def _raw(tmp_path: Path, simulated_raw: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(simulated_raw, raw)
    return raw


def _plant_bad_dates(raw: Path, n: int | None = None, share: float | None = None) -> tuple[int, int]:
    f = pd.read_csv(raw / "contacts.csv", dtype=str, keep_default_na=False)
    iso = pd.to_datetime(f["contact_date"], format="%Y-%m-%d", errors="coerce")
    idx = f[iso.notna()].sample(n=n, frac=share, random_state=3).index
    f.loc[idx, "contact_date"] = iso[idx].dt.strftime("%d.%m.%Y")
    f.to_csv(raw / "contacts.csv", index=False)
    return len(idx), len(f)


def test_validate_tolerates_quarantined_rows_below_the_share_only(tmp_path, simulated_raw):
    raw = _raw(tmp_path, simulated_raw)
    bad, _ = _plant_bad_dates(raw, n=3)
    assert not validate_folder(raw).ok  # without a share every bad date is fatal, as before
    ok = validate_folder(raw, max_quarantine_share=0.05)
    assert ok.ok and ok.warnings >= bad
    _plant_bad_dates(raw, share=0.3)
    stopped = validate_folder(raw, max_quarantine_share=0.05)
    assert not stopped.ok
    lines = [p["message"] for p in stopped.problems() if p["check"] == "quarantine_share"]
    assert len(lines) == 1 and "date_format" in lines[0] and "source 'contacts'" in lines[0]


def test_a_source_the_cohort_needs_missing_is_an_error(tmp_path, simulated_raw):
    raw = _raw(tmp_path, simulated_raw)
    (raw / "vital.csv").unlink()
    report = validate_folder(raw)
    assert not report.ok
    missing = [p for p in report.problems() if p["check"] == "missing_source"]
    assert missing and missing[0]["severity"] == "error" and "vital" in missing[0]["message"]
    (raw / "custody.csv").unlink()  # not needed by the cohort: a warning only
    warn = [p for p in validate_folder(raw).problems() if p["check"] == "missing_source"
            and p["severity"] == "warning"]
    assert warn and "custody" in warn[0]["message"]


def _study(folder: Path, extra: str = "") -> Path:
    study = folder / "study.toml"
    study.write_text('[study]\nraw = "raw"\nwarehouse = "wh"\ncohort = "c.toml"\nkey = "s/k.key"\n'
                     + extra, encoding="utf-8")
    (folder / "s").mkdir(mode=0o700)
    generate_key_file(folder / "s" / "k.key")
    return study


def test_source_settings_read_the_formats_users_bring(tmp_path, simulated_raw):
    """Danish dates, Danish labels, a tab file under its own name and an Excel sheet: validate
    passes and pseudonymise writes the same warehouse tables as from the canonical files."""
    raw = _raw(tmp_path, simulated_raw)
    canonical = tmp_path / "canonical"
    shutil.copytree(raw, canonical)
    c = pd.read_csv(raw / "contacts.csv", dtype=str, keep_default_na=False)
    c["contact_date"] = pd.to_datetime(c["contact_date"]).dt.strftime("%d-%m-%Y")
    c["referred_to"] = c["referred_to"].replace({"leisure": "Fritid", "education": "Uddannelse"})
    c.to_csv(raw / "kontakter.txt.csv", index=False, sep="\t")
    (raw / "contacts.csv").unlink()
    g = pd.read_csv(raw / "group_registrations.csv", dtype=str, keep_default_na=False)
    with pd.ExcelWriter(raw / "grupper.xlsx") as xl:
        pd.DataFrame({"note": ["another sheet"]}).to_excel(xl, sheet_name="Forside", index=False)
        g.to_excel(xl, sheet_name="Register", index=False)
    (raw / "group_registrations.csv").unlink()
    study = _study(tmp_path, (
        '\n[sources.contacts]\nfile = "kontakter.txt.csv"\ndelimiter = "\\t"\ndate_format = "%d-%m-%Y"\n'
        'values = { referred_to = { Fritid = "leisure", Uddannelse = "education" } }\n'
        '\n[sources.group_registrations]\nfile = "grupper.xlsx"\nsheet = "Register"\n'))
    # the study names files without the raw folder: validate and pseudonymise both find them
    report = validate_folder(raw, study=study)
    assert report.ok, [p["message"] for p in report.problems(5)]
    key = tmp_path / "s" / "k.key"
    runner = CliRunner()
    result = runner.invoke(cli, ["pseudonymise", "--study", str(study)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["pseudonymise", str(canonical), "--key", str(key), "--out",
                                 str(tmp_path / "wh2")])
    assert result.exit_code == 0, result.output
    for table in ("contacts", "group_registrations"):
        a = pd.read_parquet(tmp_path / "wh" / f"{table}.parquet")
        b = pd.read_parquet(tmp_path / "wh2" / f"{table}.parquet")
        pd.testing.assert_frame_equal(a, b)
    assert json.loads((tmp_path / "wh" / "linkage_report.json").read_text())["totals"]["rows_quarantined"] == 0


def test_bad_source_settings_name_the_key(tmp_path):
    from evaluation.errors import ConfigError
    from evaluation.study import load_study

    for extra, key in (('date_format = "%Q"', "date_format"), ('delimiter = "ab"', "delimiter"),
                       ('sheets = "x"', "sheets")):
        study = tmp_path / f"{key}.toml"
        study.write_text(f'[study]\nwarehouse = "wh"\ncohort = "c.toml"\n[sources.contacts]\n{extra}\n')
        with pytest.raises(ConfigError) as err:
            load_study(study)
        assert f"sources.contacts.{key}" in err.value.message


def test_excel_cpr_that_lost_its_leading_zero_is_reported_as_such(tmp_path, simulated_raw):
    raw = _raw(tmp_path, simulated_raw)
    v = pd.read_csv(raw / "vital.csv", dtype=str, keep_default_na=False)
    v["cpr"] = v["cpr"].str.replace("-", "")
    zero = v["cpr"].str.startswith("0")
    assert zero.any()
    v.loc[zero, "cpr"] = v.loc[zero, "cpr"].astype("int64")  # what Excel does to the column
    v.to_excel(raw / "vital.xlsx", index=False)
    (raw / "vital.csv").unlink()
    report = validate_folder(raw)
    shown = [p for p in report.problems(None) if p["check"] == "malformed_cpr"]
    assert len(shown) == int(zero.sum())
    assert all("leading zero lost" in str(p["value"]) for p in shown)
    stopped = validate_folder(raw, max_quarantine_share=0.01)
    gate = [p["message"] for p in stopped.problems() if p["check"] == "quarantine_share"]
    if zero.mean() > 0.01:
        assert gate and "leading zero" in gate[0]


def test_data_quality_from_the_linkage_report(tmp_path):
    assert data_quality(tmp_path)["available"] is False
    (tmp_path / "linkage_report.json").write_text(json.dumps(
        {"sources": {"contacts": _entry(705, 10), "vital": _entry(900, 0)}}))
    dq = data_quality(tmp_path, 0.01)
    assert dq["available"] and dq["max_quarantine_share"] == 0.01
    assert dq["sources"]["contacts"] == {"rows_read": 705, "rows_written": 695, "rows_quarantined": 10,
                                         "quarantined_by_reason": {"unparseable contact_date": 10},
                                         "cpr_nine_digits": 0}
    assert dq["totals"] == {"rows_read": 1605, "rows_written": 1595, "rows_quarantined": 10}


@pytest.mark.parametrize("lang, sentence, heading", [
    ("en", "could not be used", "Records that could not be used"),
    ("da", "kunne ikke bruges", "Registreringer, der ikke kunne bruges")])
def test_both_reports_say_how_many_records_could_not_be_used(tmp_path, monkeypatch, lang, sentence,
                                                             heading):
    import IPython.display
    from bundle_factory import make_bundle

    from evaluation.report.present import Report

    path = make_bundle(tmp_path / "results")
    est = json.loads((path / "estimates.json").read_text())
    est["data_quality"] = {"available": True, "max_quarantine_share": 0.01, "totals":
                           {"rows_read": 1605, "rows_written": 1595, "rows_quarantined": 10},
                           "sources": {"contacts": {**_entry(705, 10), "cpr_nine_digits": 0},
                                       "vital": {**_entry(900, 3, "malformed_cpr"), "cpr_nine_digits": 0}}}
    (path / "estimates.json").write_text(json.dumps(est))
    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj))
    report = Report(path, "2026Q3", lang, 5, output="pdf")
    report.as_of()
    council = "\n".join(o.data for o in shown)
    assert sentence in council and "10" in council
    shown.clear()
    report.data_quality()
    appendix = "\n".join(o.data for o in shown)
    from evaluation.report.texts import reason_label, vocabulary_label

    plain = re.sub(r"\\(.)", r"\1", appendix)  # the PDF Markdown's escapes
    # the reason and the source in the page's words, never the codes
    assert heading in appendix and reason_label("unparseable contact_date", lang) in plain
    assert "unparseable" not in appendix and "| vital" not in appendix
    source = vocabulary_label("source", "vital", lang)
    vital = next(x for x in plain.splitlines() if x.startswith(f"| {source} "))
    # 3 of 900 not used: the small count and the used count it could be derived from are hidden
    assert "897" not in vital and "| 3 |" not in vital and SUPPRESSED_MARK in vital
    # no sentence when nothing was left out
    est["data_quality"]["totals"]["rows_quarantined"] = 0
    (path / "estimates.json").write_text(json.dumps(est))
    shown.clear()
    Report(path, "2026Q3", lang, 5, output="pdf").as_of()
    assert sentence not in "\n".join(o.data for o in shown)
