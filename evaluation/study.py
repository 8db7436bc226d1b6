"""The study file (``study.toml``): ties one study together.

\1"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .contract import AGGREGATE_SOURCE_NAMES, RAW_EXTENSIONS, SOURCE_NAMES
from .disclosure import DEFAULT_SUPPRESSION_THRESHOLD, ThresholdRefused, check_threshold
from .errors import ConfigError
from .io import ReadLimits

#: Default of ``[study] max_quarantine_share``: more than 1% of a source's rows unusable stops a run.
DEFAULT_MAX_QUARANTINE_SHARE = 0.01


@dataclass(frozen=True)
class SourceSettings:
    """Where a raw source lives and how its own formats map onto ours (see
    :mod:`evaluation.sources`): ``columns`` (their name -> ours), ``date_format`` (strftime codes
    of its dates, e.g. ``"%d.%m.%Y"``), ``values`` (per column, their label -> our code),
    ``sheet`` (Excel sheet name) and ``delimiter`` (CSV field separator, e.g. ``"\t"``)."""

    file: Path | None = None
    columns: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    sheet: str | None = None
    delimiter: str | None = None


@dataclass(frozen=True)
class ReportSettings:
    quarter: str | None = None
    languages: tuple[str, ...] = ("da", "en")
    formats: tuple[str, ...] = ("html", "pdf")
    suppression_threshold: int = DEFAULT_SUPPRESSION_THRESHOLD
    threshold_override: str | None = None


@dataclass(frozen=True)
class Study:
    path: Path
    name: str
    raw: Path | None
    warehouse: Path
    key: Path | None
    cohort: Path
    analyses: tuple[Path, ...]
    output: Path
    data_end: dt.date | None
    seed: int
    sources: dict[str, SourceSettings]
    report: ReportSettings
    limits: ReadLimits = field(default_factory=ReadLimits)
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE
    area_events: tuple[str, ...] = ()

    def quarter_dir(self, quarter: object) -> Path:
        """``<output>/<quarter>/``: everything a run for ``quarter`` (e.g. ``2026Q3``) writes."""
        return self.output / str(quarter)

    def cohort_dir(self, quarter: object) -> Path:
        return self.quarter_dir(quarter) / "cohort"

    def results_dir(self, quarter: object) -> Path:
        return self.quarter_dir(quarter) / "results"

    def report_dir(self, quarter: object) -> Path:
        return self.quarter_dir(quarter) / "report"


@dataclass(frozen=True)
class StudyKey:
    """One key of the study file, as :func:`load_study` reads it.

    ``section`` is ``study``, ``report``, ``area``, ``limits`` or ``sources.<source>``; ``default`` is
    :data:`REQUIRED` for a key that must be given. The reference in ``docs/study-file.md`` and the
    template of ``evaluation study init`` are generated from :data:`STUDY_KEYS`, and
    :func:`load_study` accepts exactly these keys, so the documentation cannot drift from the code.
    """

    section: str
    key: str
    type: str
    default: Any
    description: str
    example: str


REQUIRED = "required"
SOURCE_SECTION = "sources.<source>"

#: Every key of the study file, section by section, in the order of the reference.
STUDY_KEYS: tuple[StudyKey, ...] = (
    StudyKey("study", "name", "text", "the study file's name without .toml",
             "Name of the study, shown on every report.", '"Knock Knock, Aalborg"'),
    StudyKey("study", "raw", "path", None,
             "Folder of the raw extracts (with CPR numbers), read by `evaluation pseudonymise` "
             "and `evaluation validate`.", '"raw"'),
    StudyKey("study", "warehouse", "path", REQUIRED,
             "Folder of the pseudonymised Parquet tables.", '"warehouse"'),
    StudyKey("study", "key", "path", None,
             "The pseudonymisation key file; keep it outside the warehouse.",
             '"../secrets/pseudonym.key"'),
    StudyKey("study", "cohort", "path", REQUIRED,
             "Cohort definition (TOML): who is in, from when, compared with whom.",
             '"cohorts/knock_knock.toml"'),
    StudyKey("study", "analyses", "list of paths", [],
             "Analysis plans (TOML), one per outcome family.",
             '["analyses/reoffending.toml", "analyses/education_job.toml", '
             '"analyses/group_recruitment.toml"]'),
    StudyKey("study", "output", "path", "output",
             "Folder under which each quarter's <quarter>/cohort/, results/ and report/ are "
             "written.", '"output"'),
    StudyKey("study", "data_end", "date (YYYY-MM-DD)", "the latest date in the data",
             "Data are complete up to here; a quarter ending after it cannot be run.",
             '"2026-09-30"'),
    StudyKey("study", "seed", "integer", 20261125,
             "Random seed (sampling, bootstrap): the same seed gives the same results.",
             "20261125"),
    StudyKey("study", "max_quarantine_share", "number (0 to below 1)", DEFAULT_MAX_QUARANTINE_SHARE,
             "A source with a larger share of its rows unusable (quarantined) stops `evaluation "
             "run` with exit code 1; below it the reports say how many records were left out.",
             "0.01"),
    StudyKey(SOURCE_SECTION, "file", "path",
             f"<source> with one of {', '.join(RAW_EXTENSIONS)} in the raw folder",
             "The source's own file, when its name differs.",
             '"POLSAS_sigtelser.csv"'),
    StudyKey(SOURCE_SECTION, "columns", "table of text", {},
             "The source's own column names mapped onto ours (own name = our name).",
             '{ personnummer = "cpr", gerningsdato = "offence_date" }'),
    StudyKey(SOURCE_SECTION, "date_format", "text (strftime codes)", "ISO dates (YYYY-MM-DD)",
             "How the source writes its dates; a value that does not fit is reported and "
             "quarantined.", '"%d.%m.%Y"'),
    StudyKey(SOURCE_SECTION, "values", "table of tables of text", {},
             "Per column, the source's own category labels mapped onto our codes.",
             '{ referred_to = { Fritid = "leisure", Uddannelse = "education" } }'),
    StudyKey(SOURCE_SECTION, "sheet", "text", "the first sheet",
             "The Excel sheet that holds the table.", '"Kontakter"'),
    StudyKey(SOURCE_SECTION, "delimiter", "text (one character)", "detected: comma or semicolon",
             "The CSV field separator; a tab-separated file needs a tab.", '";"'),
    StudyKey("report", "quarter", "text (YYYYQn)", "the latest quarter the data allow",
             "Default quarter of every stage; its last day is the analysis date (nothing later "
             "is read).", '"2026Q3"'),
    StudyKey("report", "languages", "list of text (da, en)", ["da", "en"],
             "Report languages, in order.", '["da", "en"]'),
    StudyKey("report", "formats", "list of text (html, pdf)", ["html", "pdf"],
             "Report formats.", '["html", "pdf"]'),
    StudyKey("report", "suppression_threshold", "integer",
             DEFAULT_SUPPRESSION_THRESHOLD,
             "Smallest count of persons a report may show (every hidden cell shows one neutral "
             "marker); below 3 only with threshold_override.", str(DEFAULT_SUPPRESSION_THRESHOLD)),
    StudyKey("report", "threshold_override", "text", None,
             "The reason for a suppression threshold below 3 (Statistics Denmark's minimum); "
             "logged, written in every disclosure record and stated in the technical appendix.",
             '"agreed with the data owner for an internal review"'),
    StudyKey("area", "events", "list of text (FIRST:LAST[:LABEL])", [],
             "Known calendar events in the study municipality's reported crime (e.g. closures of "
             "nightlife) that the interrupted time series adjusts for, each a level shift over "
             "its months (or quarters), inclusive; the technical appendix states them as an "
             "assumption.", '["2020-03:2021-05:COVID-19"]'),
    StudyKey("limits", "max_file_mb", "integer", ReadLimits().max_file_bytes // 1024**2,
             "Largest source file, in MB; a larger one is refused before it is read.", "20480"),
    StudyKey("limits", "max_line_kb", "integer", ReadLimits().max_line_bytes // 1024,
             "Longest line (record) of a CSV extract, in KB; a file with a longer one is refused "
             "before it is read whole.", "1024"),
    StudyKey("limits", "max_columns", "integer", ReadLimits().max_columns,
             "Most columns in a source table; a wider one is refused.", "500"),
)


def study_keys(section: str) -> set[str]:
    """The keys :func:`load_study` accepts in ``section``."""
    return {k.key for k in STUDY_KEYS if k.section == section}


def _check_keys(table: dict[str, Any], section: str, prefix: str, file: Path) -> None:
    known = study_keys(section)
    for key in table:
        if key not in known:
            raise ConfigError(f"unknown key (expected one of {sorted(known)})", file=str(file),
                              key=f"{prefix}.{key}")


def _get(table: dict[str, Any], key: str, kind: type | tuple[type, ...], file: Path, prefix: str, default: Any = ...):
    if key not in table:
        if default is ...:
            raise ConfigError("is required but missing", file=str(file), key=f"{prefix}{key}")
        return default
    value = table[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"must be {names}, got {value!r}", file=str(file), key=f"{prefix}{key}")
    return value


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file; a syntax error becomes a :class:`ConfigError` naming file and line."""
    path = Path(path)
    if not path.exists():
        raise ConfigError("file not found", file=str(path))
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"is not valid TOML: {exc}", file=str(path)) from None


def load_study(path: str | Path) -> Study:
    """Load and check a study file."""
    path = Path(path).resolve()
    doc = load_toml(path)
    base = path.parent
    known_top = {k.section.split(".")[0] for k in STUDY_KEYS}
    for key in doc:
        if key not in known_top:
            raise ConfigError(f"unknown section (expected one of {sorted(known_top)})", file=str(path), key=key)
    s = _get(doc, "study", dict, path, "")
    _check_keys(s, "study", "study", path)

    def rel(value: str | None) -> Path | None:
        return None if value is None else (base / value).resolve()

    data_end = _get(s, "data_end", (dt.date, str), path, "study.", None)
    if isinstance(data_end, str):
        try:
            data_end = dt.date.fromisoformat(data_end)
        except ValueError:
            raise ConfigError(f"must be an ISO date, got {data_end!r}", file=str(path), key="study.data_end") from None

    sources: dict[str, SourceSettings] = {}
    for name, settings in _get(doc, "sources", dict, path, "", {}).items():
        if name not in SOURCE_NAMES + AGGREGATE_SOURCE_NAMES:
            known = ", ".join(SOURCE_NAMES + AGGREGATE_SOURCE_NAMES)
            raise ConfigError(f"unknown source (expected one of {known})", file=str(path), key=f"sources.{name}")
        if not isinstance(settings, dict):
            raise ConfigError("must be a table", file=str(path), key=f"sources.{name}")
        _check_keys(settings, SOURCE_SECTION, f"sources.{name}", path)
        sources[name] = _source_settings(settings, name, path, rel)

    r = _get(doc, "report", dict, path, "", {})
    _check_keys(r, "report", "report", path)
    threshold = _get(r, "suppression_threshold", int, path, "report.", DEFAULT_SUPPRESSION_THRESHOLD)
    override = _get(r, "threshold_override", str, path, "report.", None)
    try:
        threshold = check_threshold(threshold, override)
    except ThresholdRefused as exc:
        raise ConfigError(str(exc), file=str(path), key="report.suppression_threshold") from None
    report = ReportSettings(
        quarter=_get(r, "quarter", str, path, "report.", None),
        languages=tuple(_get(r, "languages", list, path, "report.", ["da", "en"])),
        formats=tuple(_get(r, "formats", list, path, "report.", ["html", "pdf"])),
        suppression_threshold=threshold,
        threshold_override=override,
    )
    analyses = _get(s, "analyses", list, path, "study.", [])
    area = _get(doc, "area", dict, path, "", {})
    _check_keys(area, "area", "area", path)
    events = _area_events(_get(area, "events", list, path, "area.", []), path)
    limits = _limits(_get(doc, "limits", dict, path, "", {}), path)
    share = _get(s, "max_quarantine_share", (int, float), path, "study.", DEFAULT_MAX_QUARANTINE_SHARE)
    if not 0 <= share < 1:
        raise ConfigError(f"must be a share from 0 to below 1, got {share!r}", file=str(path),
                          key="study.max_quarantine_share")
    study = Study(
        path=path,
        name=_get(s, "name", str, path, "study.", path.stem),
        raw=rel(_get(s, "raw", str, path, "study.", None)),
        warehouse=rel(_get(s, "warehouse", str, path, "study.")),
        key=rel(_get(s, "key", str, path, "study.", None)),
        cohort=rel(_get(s, "cohort", str, path, "study.")),
        analyses=tuple(rel(a) for a in analyses),
        output=rel(_get(s, "output", str, path, "study.", "output")),
        data_end=data_end,
        seed=_get(s, "seed", int, path, "study.", 20261125),
        sources=sources,
        report=report,
        limits=limits,
        max_quarantine_share=float(share),
        area_events=events,
    )
    _check_outputs_apart(study)
    return study


def _area_events(values: list[Any], path: Path) -> tuple[str, ...]:
    """``[area] events``: each FIRST:LAST[:LABEL] (checked against the data when it is read)."""
    if not values:
        return ()
    from .area.events import Event, EventError

    for i, value in enumerate(values):
        try:
            Event.parse(value if isinstance(value, str) else repr(value))
        except EventError as exc:
            raise ConfigError(str(exc), file=str(path), key=f"area.events[{i}]") from None
    return tuple(values)


_LIMIT_KEYS = {"max_file_mb": ("max_file_bytes", 1024**2), "max_line_kb": ("max_line_bytes", 1024),
               "max_columns": ("max_columns", 1)}


def _limits(table: dict[str, Any], path: Path) -> ReadLimits:
    """``[limits]``: what a source file may be (:class:`evaluation.io.ReadLimits`)."""
    values = {}
    for key, value in table.items():
        if key not in _LIMIT_KEYS:
            raise ConfigError(f"unknown key (expected one of {sorted(_LIMIT_KEYS)})",
                              file=str(path), key=f"limits.{key}")
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"must be a whole number of at least 1, got {value!r}",
                              file=str(path), key=f"limits.{key}")
        name, unit = _LIMIT_KEYS[key]
        values[name] = value * unit
    return ReadLimits(**values)


def _check_outputs_apart(study: Study) -> None:
    """No output folder may be or contain the key's folder or the raw extracts: outputs are
    replaced whole, and the key must never sit beside the pseudonyms (DESIGN.md section 5). The
    warehouse and the output folder are apart: neither is, or is inside, the other."""
    kept = [(f"the key's folder {study.key.parent}", study.key.parent)] if study.key else []
    if study.raw is not None:
        kept.append((f"the raw folder {study.raw}", study.raw))
    for key, folder in (("study.output", study.output), ("study.warehouse", study.warehouse)):
        for what, inner in kept:
            if folder == inner or folder in inner.parents:
                raise ConfigError(f"the folder {folder} is or contains {what}; outputs are "
                                  "replaced whole, so keep the key and the raw extracts outside "
                                  "them", file=str(study.path), key=key)
    output, warehouse = study.output, study.warehouse
    if output == warehouse or output in warehouse.parents or warehouse in output.parents:
        where = ("is" if output == warehouse else "is inside" if output in warehouse.parents
                 else "contains")
        raise ConfigError(f"the warehouse {warehouse} {where} the output folder {output}; each "
                          "is written whole by its own stage, so keep them apart (side by side)",
                          file=str(study.path), key="study.warehouse")


def _source_settings(settings: dict[str, Any], name: str, path: Path, rel) -> SourceSettings:
    """One ``[sources.NAME]`` table, every key checked."""
    from .sources import check_date_format

    prefix = f"sources.{name}."
    columns = _get(settings, "columns", dict, path, prefix, {})
    date_format = _get(settings, "date_format", str, path, prefix, None)
    if date_format is not None:
        try:
            check_date_format(date_format)
        except ValueError as exc:
            raise ConfigError(str(exc), file=str(path), key=f"{prefix}date_format") from None
    values = _get(settings, "values", dict, path, prefix, {})
    for column, labels in values.items():
        if not isinstance(labels, dict):
            raise ConfigError("must be a table of label = code", file=str(path),
                              key=f"{prefix}values.{column}")
    delimiter = _get(settings, "delimiter", str, path, prefix, None)
    if delimiter is not None and len(delimiter) != 1:
        raise ConfigError(f"must be one character (tab: \"\\t\"), got {delimiter!r}", file=str(path),
                          key=f"{prefix}delimiter")
    return SourceSettings(
        file=rel(_get(settings, "file", str, path, prefix, None)),
        columns={str(k): str(v) for k, v in columns.items()},
        date_format=date_format,
        values={str(c): {str(k): str(v) for k, v in m.items()} for c, m in values.items()},
        sheet=_get(settings, "sheet", str, path, prefix, None),
        delimiter=delimiter,
    )
