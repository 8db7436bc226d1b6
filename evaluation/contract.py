"""The data contract (DESIGN.md section 3): one schema per source, raw and warehouse forms.

Raw extracts identify people by ``cpr``; the warehouse holds the same tables with ``person_id``
(the pseudonym) in its place, plus ``persons`` derived from the CPR number before it is dropped.
This module is the one place where sources, columns, types, category codes, keys and date-order
rules are defined; readers, validation, the simulator and pseudonymisation all read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["id", "str", "date", "month", "category", "bool", "int", "float"]

#: Municipality code of the study area (Aalborg Kommune).
AALBORG_MUNICIPALITY = "851"

CONTACT_TYPES = ("knock_knock", "taskforce_followup", "ssp", "other")
REFERRALS = ("leisure", "education", "employment", "treatment", "none")
OFFENCE_CATEGORIES = ("violence", "weapons", "property", "drugs", "threats", "traffic", "other")
SANCTIONS = ("custody", "suspended", "community_service", "fine", "acquittal", "withdrawn")
#: Sanctions that are guilty decisions (for the conviction-based recidivism variant).
GUILTY_SANCTIONS = ("custody", "suspended", "community_service", "fine")
CUSTODY_TYPES = ("remand", "prison", "secure_youth")
EDUCATION_LEVELS = ("primary", "youth_general", "youth_vocational", "fgu", "higher")
EDUCATION_STATUSES = ("ongoing", "completed", "dropped_out")
SEXES = ("F", "M")
#: Negative-control outcomes: events the visits cannot plausibly change but that share their
#: confounding (used only to test the design, never as outcomes of the initiative).
NEGATIVE_CONTROL_OUTCOMES = ("traffic_fine", "accidental_injury")


#: Most hours of paid work one month can hold (31 days of 24 hours).
MAX_HOURS_PER_MONTH = 744.0


@dataclass(frozen=True)
class Column:
    """One column of a source: canonical name, type, whether it may be empty, allowed codes,
    plausible range, and whether it is an identifier that is keyed-hashed like a person.

    ``pseudonymised`` columns (case and group numbers) are replaced in the warehouse by a keyed
    hash of the value under a key derived for that column (:func:`evaluation.keys.identifier_key`),
    so equal values still link and no value is carried over. Every other ``str`` column is a free
    column that is scanned for CPR numbers on ingestion.
    """

    name: str
    type: ColumnType
    nullable: bool = False
    categories: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    pseudonymised: bool = False


@dataclass(frozen=True)
class Source:
    """One source table of the contract.

    ``key`` lists the columns (besides the person identifier) that identify a row; a repeated key
    is a duplicate. ``date_order`` lists (earlier, later) pairs: the later date may not come before
    the earlier one. ``person_level`` sources have the person identifier in every row.
    """

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    date_order: tuple[tuple[str, str], ...] = ()
    person_level: bool = True

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def date_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.type in ("date", "month"))

    def raw(self) -> Source:
        """This source with ``cpr`` as its first column (the raw extract form)."""
        return _with_id(self, "cpr")

    def warehouse(self) -> Source:
        """This source with ``person_id`` as its first column (the warehouse form)."""
        return _with_id(self, "person_id")


def _with_id(source: Source, id_name: str) -> Source:
    id_col = Column(id_name, "id")
    return Source(
        name=source.name,
        description=source.description,
        columns=(id_col, *source.columns),
        key=(id_name, *source.key),
        date_order=source.date_order,
    )


_SOURCES: tuple[Source, ...] = (
    Source(
        "contacts",
        "Taskforce / municipality log of contacts with young people",
        (
            Column("contact_date", "date"),
            Column("contact_type", "category", categories=CONTACT_TYPES),
            Column("parents_present", "bool", nullable=True),
            Column("referred_to", "category", categories=REFERRALS),
        ),
        key=("contact_date", "contact_type"),
    ),
    Source(
        "residence",
        "CPR register: municipality of residence, spell by spell",
        (
            Column("municipality_code", "str"),
            Column("from_date", "date"),
            Column("to_date", "date", nullable=True),
        ),
        key=("from_date",),
        date_order=(("from_date", "to_date"),),
    ),
    Source(
        "vital",
        "CPR register: death and emigration",
        (
            Column("death_date", "date", nullable=True),
            Column("emigration_date", "date", nullable=True),
        ),
        key=(),
    ),
    Source(
        "charges",
        "Police (POLSAS) / DST KRSI: charges, one row per person, case and offence",
        (
            Column("case_id", "str", pseudonymised=True),
            Column("offence_date", "date"),
            Column("charge_date", "date"),
            Column("offence_code", "str"),
            Column("offence_category", "category", categories=OFFENCE_CATEGORIES),
        ),
        key=("case_id", "offence_code"),
        date_order=(("offence_date", "charge_date"),),
    ),
    Source(
        "convictions",
        "DST KRAF: decisions, one row per person and case",
        (
            Column("case_id", "str", pseudonymised=True),
            Column("decision_date", "date"),
            Column("offence_date", "date"),
            Column("sanction", "category", categories=SANCTIONS),
        ),
        key=("case_id",),
        date_order=(("offence_date", "decision_date"),),
    ),
    Source(
        "custody",
        "Kriminalforsorgen: custody spells",
        (
            Column("start_date", "date"),
            Column("end_date", "date", nullable=True),
            Column("custody_type", "category", categories=CUSTODY_TYPES),
        ),
        key=("start_date",),
        date_order=(("start_date", "end_date"),),
    ),
    Source(
        "education",
        "UDDA / youth guidance: education spells",
        (
            Column("start_date", "date"),
            Column("end_date", "date", nullable=True),
            Column("level", "category", categories=EDUCATION_LEVELS),
            Column("status", "category", categories=EDUCATION_STATUSES),
        ),
        key=("start_date", "level"),
        date_order=(("start_date", "end_date"),),
    ),
    Source(
        "employment",
        "eIndkomst / AMR: paid hours by month",
        (
            Column("month", "month"),
            Column("hours", "float", minimum=0.0, maximum=MAX_HOURS_PER_MONTH),
        ),
        key=("month",),
    ),
    Source(
        "group_registrations",
        "Police register of criminal groups: registrations of members",
        (
            Column("group_id", "str", pseudonymised=True),
            Column("registered_date", "date"),
            Column("deregistered_date", "date", nullable=True),
        ),
        key=("group_id", "registered_date"),
        date_order=(("registered_date", "deregistered_date"),),
    ),
    Source(
        "negative_control_events",
        "Negative-control outcomes: events the initiative cannot plausibly change but that share its "
        "confounding (traffic fines from the fines register, emergency visits for accidental injury)",
        (
            Column("event_date", "date"),
            Column("outcome", "category", categories=NEGATIVE_CONTROL_OUTCOMES),
        ),
        key=("event_date", "outcome"),
    ),
)

#: Canonical source names, in pipeline order.
SOURCE_NAMES: tuple[str, ...] = tuple(s.name for s in _SOURCES)
#: Sources without which no cohort can be built (contacts, residence and vital records).
COHORT_SOURCES: tuple[str, ...] = ("contacts", "residence", "vital")

#: Aggregate sources: no person in them, the same form raw and in the warehouse (read, checked
#: and carried into the warehouse by pseudonymise without a pseudonym). Normalised from a
#: StatBank export by :mod:`evaluation.area.source`.
REPORTED_CRIME = Source(
    "reported_crime",
    "Police / Statistics Denmark StatBank: reported offences by municipality, period (month or "
    "quarter) and offence category (aggregate, no person)",
    (
        Column("municipality_code", "str"),
        Column("period", "str"),
        Column("offence_category", "category", categories=OFFENCE_CATEGORIES),
        Column("count", "int", minimum=0),
        Column("population", "int", nullable=True, minimum=0),
    ),
    key=("municipality_code", "period", "offence_category"),
    person_level=False,
)
AGGREGATE_SOURCE_NAMES: tuple[str, ...] = (REPORTED_CRIME.name,)

#: The persons table of the warehouse, derived from the CPR number during pseudonymisation.
PERSONS = Source(
    "persons",
    "Persons: birth date and sex derived from the CPR number",
    (
        Column("person_id", "id"),
        Column("birth_date", "date"),
        Column("sex", "category", categories=SEXES),
    ),
    key=("person_id",),
)


def source(name: str, form: Literal["raw", "warehouse"] = "warehouse") -> Source:
    """The schema of source ``name`` in its raw (``cpr``) or warehouse (``person_id``) form.

    ``persons`` exists in the warehouse form only.
    """
    if name == REPORTED_CRIME.name:
        return REPORTED_CRIME
    if name == "persons":
        if form != "warehouse":
            raise KeyError("persons exists in the warehouse only")
        return PERSONS
    for s in _SOURCES:
        if s.name == name:
            return s.raw() if form == "raw" else s.warehouse()
    raise KeyError(name)


def sources(form: Literal["raw", "warehouse"] = "warehouse") -> tuple[Source, ...]:
    """Every source of the contract in the given form (``persons`` last, warehouse only)."""
    out = tuple(source(n, form) for n in SOURCE_NAMES)
    return out + (PERSONS,) if form == "warehouse" else out


#: File layout. Raw: ``<raw>/<source>.<ext>`` (csv, parquet, xlsx, sas7bdat), or a file named in
#: the study file. Warehouse: ``<warehouse>/<source>.parquet``.
RAW_EXTENSIONS = (".csv", ".parquet", ".xlsx", ".xls", ".sas7bdat")
WAREHOUSE_EXTENSION = ".parquet"

