"""The study-file reference in docs/ and the `evaluation study init` template, against the code."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from evaluation.cli import cli
from evaluation.errors import ConfigError
from evaluation.study import REQUIRED, SOURCE_SECTION, STUDY_KEYS, ReportSettings, load_study
from evaluation.studydoc import reference_markdown, template_toml

ROOT = Path(__file__).resolve().parents[1]


def test_docs_reference_is_the_one_generated_from_the_code():
    written = (ROOT / "docs" / "study-file.md").read_text(encoding="utf-8")
    assert written == reference_markdown(), (
        "docs/study-file.md is out of date: run `evaluation study reference > docs/study-file.md`")
    for key in STUDY_KEYS:
        assert f"| `{key.key}` | {key.type} |" in written
    assert "study-file.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def _minimal(tmp_path: Path) -> Path:
    path = tmp_path / "study.toml"
    path.write_text('[study]\nwarehouse = "w"\ncohort = "c.toml"\n', encoding="utf-8")
    return path


def test_defaults_in_the_reference_are_the_loaders_defaults(tmp_path):
    study = load_study(_minimal(tmp_path))
    values = {("study", "analyses"): list(study.analyses), ("study", "seed"): study.seed,
              ("study", "raw"): study.raw, ("study", "key"): study.key,
              ("study", "output"): study.output.name, ("study", "data_end"): study.data_end}
    values.update({("report", f.name): getattr(study.report, f.name)
                   for f in dataclasses.fields(ReportSettings)})
    for key in STUDY_KEYS:
        if key.section == SOURCE_SECTION or (key.section, key.key) not in values:
            continue
        got = values[(key.section, key.key)]
        got = list(got) if isinstance(got, tuple) else got
        if key.default is None or isinstance(key.default, (int, list)):
            assert got == key.default, key
        elif (key.section, key.key) == ("study", "output"):
            assert got == key.default
        else:  # described in words: the loader leaves it unset
            assert got is None, key
    assert study.name == "study"  # "the study file's name without .toml"


def test_required_keys_are_required_and_unknown_keys_refused(tmp_path):
    for key in (k for k in STUDY_KEYS if k.default == REQUIRED):
        path = tmp_path / f"no_{key.key}.toml"
        doc = _minimal(tmp_path).read_text().replace(f"{key.key} = ", f"x_{key.key} = ")
        path.write_text(doc.replace(f"x_{key.key} = ", "# "), encoding="utf-8")
        with pytest.raises(ConfigError, match="required"):
            load_study(path)
    for section in ("study", "report", "sources.charges"):
        path = tmp_path / "unknown.toml"
        extra = "colour = 1\n" if section == "study" else f"\n[{section}]\ncolour = 1\n"
        path.write_text(_minimal(tmp_path).read_text() + extra, encoding="utf-8")
        with pytest.raises(ConfigError, match="unknown key") as err:
            load_study(path)
        assert f"{section}.colour" in str(err.value)


def test_every_key_of_the_reference_is_read_by_the_loader(tmp_path):
    """The template with every key switched on (examples as values) loads."""
    lines = []
    for line in template_toml().splitlines():
        if re.fullmatch(r"# (\[[\w.]+\]|\w+ = .*)", line):
            line = line[2:]
        lines.append(line)
    path = tmp_path / "all.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    doc = tomllib.loads(path.read_text())
    assert set(doc["study"]) == {k.key for k in STUDY_KEYS if k.section == "study"}
    assert set(doc["report"]) == {k.key for k in STUDY_KEYS if k.section == "report"}
    assert set(doc["sources"]["charges"]) == {k.key for k in STUDY_KEYS if k.section == SOURCE_SECTION}
    assert set(doc["area"]) == {k.key for k in STUDY_KEYS if k.section == "area"}
    study = load_study(path)
    assert study.report.formats == ("html", "pdf") and study.sources["charges"].columns
    assert study.area_events == ("2020-03:2021-05:COVID-19",)


def test_reference_names_the_aggregate_source():
    assert "`reported_crime`" in reference_markdown()
    assert "reported_crime" in template_toml()


def test_area_events_are_checked(tmp_path):
    path = _minimal(tmp_path)
    path.write_text(path.read_text() + '[area]\nevents = ["2020-03"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="write FIRST:LAST") as err:
        load_study(path)
    assert err.value.key == "area.events[0]"


def test_study_init_writes_a_template_that_loads_and_keeps_an_existing_file(tmp_path):
    target = tmp_path / "study.toml"
    result = CliRunner().invoke(cli, ["study", "init", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert text == template_toml() and text.count("\n# ") >= len(STUDY_KEYS)
    study = load_study(target)
    assert study.warehouse == (tmp_path / "warehouse").resolve()
    again = CliRunner().invoke(cli, ["study", "init", str(target)])
    assert again.exit_code == 2 and "exists already" in again.output
    assert "Traceback" not in again.output
