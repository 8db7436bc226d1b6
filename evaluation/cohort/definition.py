"""Cohort definition files (``cohorts/*.toml``): who is in, from when, compared with whom.

A definition states

* which contacts qualify (contact types), in what period (``index.start`` .. ``index.end``,
  default the end of data) and in which area (municipality codes);
* eligibility at the index date (age range and bands, resident in the area, alive, not
  emigrated, not in custody, no earlier contact);
* the comparison design (``risk_set_matching``, the default, or ``iptw``);
* the matching specification (exact variables, propensity covariates, caliper in SD of the
  logit of the propensity score, ratio 1:k, candidates sampled per risk set, optionally enriched
  for recently charged candidates);
* the covariates, each with its kind and look-back window;
* the censoring rules.

:func:`load_definition` reads and checks a file; every problem is a
:class:`~evaluation.errors.ConfigError` naming the file and the key. ``cohorts/knock_knock.toml``
is the worked, commented example.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract import AALBORG_MUNICIPALITY, CONTACT_TYPES, OFFENCE_CATEGORIES
from ..errors import ConfigError
from ..study import load_toml

DESIGNS = ("risk_set_matching", "iptw")
EXACT_VARIABLES = ("sex", "age_band", "index_quarter")
DISTANCES = ("mahalanobis", "propensity")

#: Covariate kinds and the options each accepts (besides ``kind`` and ``label``).
COVARIATE_KINDS: dict[str, tuple[str, ...]] = {
    # number of charges (rows of ``charges``) with charge_date in [t - window, t)
    "charges": ("window_months", "categories"),
    # 1 if a custody spell started before t (within the window when one is given)
    "custody": ("window_months",),
    # 1 if an education spell is open at t (started before t, not ended before t) or the
    # previous calendar month has at least ``hours_threshold`` paid hours
    "education_or_job": ("hours_threshold",),
    # 1 if, within the window, the person was charged in a case together with someone who was
    # registered in the register of criminal groups at that offence date (registered before t)
    "group_cooffender": ("window_months",),
    # 1 if registered in the register of criminal groups at t (registered before t, not
    # deregistered before t)
    "group_registered": (),
}

#: Longest look-back window accepted, in months (the simulated data start ten years before end).
MAX_WINDOW_MONTHS = 120


@dataclass(frozen=True)
class Covariate:
    """One covariate computed as of the index date from data strictly before it."""

    name: str
    kind: str
    window_months: int | None = None
    categories: tuple[str, ...] = ()
    hours_threshold: float = 1.0
    label_da: str = ""
    label_en: str = ""


@dataclass(frozen=True)
class Triggers:
    """Events that make a young person a target of the initiative (``[triggers]``).

    A triggering event is a charge (dated by its charge date) of one of ``offence_categories``,
    or, with ``cooffence_with_group_member``, a charge in a case shared with another person
    registered in a criminal group at the offence date. The process indicators of
    :mod:`evaluation.tracking.indicators` (reach, speed) are measured from these events.
    """

    offence_categories: tuple[str, ...] = ("violence", "weapons")
    cooffence_with_group_member: bool = True


@dataclass(frozen=True)
class CohortDefinition:
    """A checked cohort definition (see the module docstring and ``cohorts/knock_knock.toml``)."""

    path: Path
    sha256: str
    name: str
    contact_types: tuple[str, ...]
    start: dt.date
    end: dt.date | None
    area: tuple[str, ...]
    age_min: int
    age_max: int
    age_bands: tuple[tuple[int, int], ...]
    resident_in_area: bool
    alive: bool
    not_emigrated: bool
    not_in_custody: bool
    no_prior_contact: bool
    design: str
    exact: tuple[str, ...]
    exact_covariates: tuple[str, ...]
    ratio: int
    caliper: float
    candidates_per_contacted: int
    enrich_window_months: tuple[int, ...]
    enrich_share: tuple[float, ...]
    distance: str
    propensity_covariates: tuple[str, ...]
    propensity_age: bool
    censor_death: bool
    censor_emigration: bool
    censor_contacted: bool
    censor_moved_out: bool
    covariates: tuple[Covariate, ...] = field(default_factory=tuple)
    triggers: Triggers = field(default_factory=lambda: Triggers())

    @property
    def covariate_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.covariates)

    def age_band_labels(self) -> tuple[str, ...]:
        return tuple(f"{lo}-{hi}" for lo, hi in self.age_bands)


class _Reader:
    """Typed access to one TOML table that reports file and dotted key on every problem."""

    def __init__(self, file: Path, table: dict[str, Any], prefix: str, known: set[str]) -> None:
        self.file = file
        self.table = table
        self.prefix = prefix
        for key in table:
            if key not in known:
                self.fail(key, f"unknown key (expected one of {', '.join(sorted(known))})")

    def fail(self, key: str, message: str) -> None:
        raise ConfigError(message, file=str(self.file), key=f"{self.prefix}{key}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.table:
            if default is ...:
                self.fail(key, "is required but missing")
            return default
        value = self.table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # a TOML boolean is not a number here, and an integer is accepted where a float is
        bad = isinstance(value, bool) and bool not in kinds
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if bad or not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            self.fail(key, f"must be {names}, got {value!r}")
        return value

    def strings(self, key: str, default: Any = ..., allowed: tuple[str, ...] | None = None,
                nonempty: bool = True) -> tuple[str, ...]:
        value = self.get(key, list, default)
        if not isinstance(value, (list, tuple)):
            return value
        for item in value:
            if not isinstance(item, str):
                self.fail(key, f"must be a list of strings, got {item!r}")
            if allowed is not None and item not in allowed:
                self.fail(key, f"unknown value {item!r} (expected one of {', '.join(allowed)})")
        if nonempty and not value:
            self.fail(key, "must not be empty")
        if len(set(value)) != len(value):
            self.fail(key, "lists a value twice")
        return tuple(value)

    def date(self, key: str, default: Any = ...) -> dt.date | None:
        value = self.get(key, (dt.date, str), default)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            self.fail(key, f"must be a date without a time, got {value!r}")
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                self.fail(key, f"must be an ISO date (YYYY-MM-DD), got {value!r}")
        return value


def load_definition(path: str | Path) -> CohortDefinition:
    """Read and check a cohort definition file.

    Parameters
    ----------
    path
        The TOML file.

    Returns
    -------
    CohortDefinition

    Raises
    ------
    ConfigError
        Naming the file and the key: unknown keys, wrong types, unknown covariates or covariate
        kinds, bad windows, an age minimum above the maximum, age bands that do not tile the age
        range, a ratio or caliper out of range, an unknown design.
    """
    path = Path(path).resolve()
    doc = load_toml(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    top = _Reader(path, doc, "", {"cohort", "index", "eligibility", "design", "matching",
                                  "propensity", "censoring", "covariates", "triggers"})

    c = _Reader(path, top.get("cohort", dict, {}), "cohort.", {"name", "description"})
    name = c.get("name", str, path.stem)
    c.get("description", str, "")

    ix = _Reader(path, top.get("index", dict), "index.", {"contact_types", "start", "end", "area"})
    contact_types = ix.strings("contact_types", allowed=CONTACT_TYPES)
    start = ix.date("start")
    end = ix.date("end", None)
    if end is not None and end < start:
        ix.fail("end", f"comes before index.start ({start})")
    area = ix.strings("area", [AALBORG_MUNICIPALITY])

    el = _Reader(path, top.get("eligibility", dict, {}), "eligibility.",
                 {"age_min", "age_max", "age_bands", "resident_in_area", "alive", "not_emigrated",
                  "not_in_custody", "no_prior_contact"})
    age_min = el.get("age_min", int, 14)
    age_max = el.get("age_max", int, 25)
    if not 0 <= age_min <= 120:
        el.fail("age_min", f"must be between 0 and 120, got {age_min}")
    if age_max > 120:
        el.fail("age_max", f"must be at most 120, got {age_max}")
    if age_min > age_max:
        el.fail("age_min", f"({age_min}) is greater than eligibility.age_max ({age_max})")
    bands_raw = el.get("age_bands", list, [[age_min, age_max]])
    bands: list[tuple[int, int]] = []
    for band in bands_raw:
        if (not isinstance(band, list) or len(band) != 2
                or not all(isinstance(b, int) and not isinstance(b, bool) for b in band)):
            el.fail("age_bands", f"must be a list of [low, high] integer pairs, got {band!r}")
        bands.append((band[0], band[1]))
    expect = age_min
    for lo, hi in bands:
        if lo != expect or hi < lo:
            el.fail("age_bands", f"must tile {age_min}..{age_max} without gaps or overlaps, "
                    f"in order (problem at [{lo}, {hi}])")
        expect = hi + 1
    if expect != age_max + 1:
        el.fail("age_bands", f"must tile {age_min}..{age_max} without gaps or overlaps")
    flags = {k: el.get(k, bool, True) for k in ("resident_in_area", "alive", "not_emigrated",
                                               "not_in_custody", "no_prior_contact")}

    de = _Reader(path, top.get("design", dict, {}), "design.", {"type"})
    design = de.get("type", str, "risk_set_matching")
    if design not in DESIGNS:
        de.fail("type", f"unknown design {design!r} (expected one of {', '.join(DESIGNS)})")

    ma = _Reader(path, top.get("matching", dict, {}), "matching.",
                 {"exact", "exact_covariates", "ratio", "caliper", "candidates_per_contacted",
                  "enrich_window_months",
                  "enrich_share", "distance"})
    exact = ma.strings("exact", list(EXACT_VARIABLES), allowed=EXACT_VARIABLES, nonempty=False)
    ratio = ma.get("ratio", int, 3)
    if not 1 <= ratio <= 20:
        ma.fail("ratio", f"must be between 1 and 20, got {ratio}")
    caliper = ma.get("caliper", float, 0.2)
    if not 0 < caliper <= 5:
        ma.fail("caliper", f"must be above 0 and at most 5 (SD of the logit), got {caliper}")
    per = ma.get("candidates_per_contacted", int, 20)
    if per < ratio:
        ma.fail("candidates_per_contacted", f"must be at least matching.ratio ({ratio}), got {per}")
    windows = ma.get("enrich_window_months", (int, list), [])
    windows = [windows] if isinstance(windows, int) else windows
    windows = [w for w in windows if not (isinstance(w, int) and w == 0)]
    for w in windows:
        if not isinstance(w, int) or isinstance(w, bool) or not 1 <= w <= MAX_WINDOW_MONTHS:
            ma.fail("enrich_window_months", f"must be whole numbers of months from 1 to "
                    f"{MAX_WINDOW_MONTHS} (or 0 / [] for no enrichment), got {w!r}")
    if windows != sorted(set(windows)):
        ma.fail("enrich_window_months", "must be increasing")
    shares = ma.get("enrich_share", (float, list), [0.5] * len(windows))
    shares = [shares] if isinstance(shares, float) else shares
    if len(shares) != len(windows):
        ma.fail("enrich_share", f"needs one share per enrichment window ({len(windows)})")
    for sh in shares:
        if isinstance(sh, bool) or not isinstance(sh, (int, float)) or not 0 < sh < 1:
            ma.fail("enrich_share", f"shares must be strictly between 0 and 1, got {sh!r}")
    if windows and sum(shares) >= 1:
        ma.fail("enrich_share", f"shares must add up to less than 1, got {sum(shares)}")
    distance = ma.get("distance", str, "propensity")
    if distance not in DISTANCES:
        ma.fail("distance", f"unknown distance {distance!r} (expected one of {', '.join(DISTANCES)})")

    covariates = _covariates(path, top.get("covariates", dict))
    names = tuple(cv.name for cv in covariates)
    exact_cov = ma.strings("exact_covariates", [], nonempty=False)
    for spec in exact_cov:
        cov, colon, cap = spec.partition(":")
        if colon and not (cap.isdigit() and int(cap) >= 1):
            ma.fail("exact_covariates", f"{spec!r}: the cap after ':' must be a whole number >= 1")
        if cov not in names:
            ma.fail("exact_covariates", f"unknown covariate {cov!r} (defined: {', '.join(names)})")

    ps = _Reader(path, top.get("propensity", dict, {}), "propensity.",
                 {"model", "covariates", "age_at_index"})
    model = ps.get("model", str, "logit")
    if model != "logit":
        ps.fail("model", f"unknown model {model!r} (expected 'logit')")
    ps_covs = ps.strings("covariates", list(names))
    for cov in ps_covs:
        if cov not in names:
            ps.fail("covariates", f"unknown covariate {cov!r} (defined: {', '.join(names)})")
    ps_age = ps.get("age_at_index", bool, True)

    ce = _Reader(path, top.get("censoring", dict, {}), "censoring.",
                 {"death", "emigration", "end_of_data", "contacted", "moved_out_of_area"})
    if ce.get("end_of_data", bool, True) is not True:
        ce.fail("end_of_data", "follow-up always ends at the end of data; it cannot be switched off")

    return CohortDefinition(
        path=path, sha256=sha, name=name, contact_types=contact_types, start=start, end=end,
        area=area, age_min=age_min, age_max=age_max, age_bands=tuple(bands),
        resident_in_area=flags["resident_in_area"], alive=flags["alive"],
        not_emigrated=flags["not_emigrated"], not_in_custody=flags["not_in_custody"],
        no_prior_contact=flags["no_prior_contact"], design=design, exact=exact,
        exact_covariates=exact_cov, ratio=ratio,
        caliper=caliper, candidates_per_contacted=per, enrich_window_months=tuple(windows),
        enrich_share=tuple(float(x) for x in shares), distance=distance, propensity_covariates=ps_covs,
        propensity_age=ps_age, censor_death=ce.get("death", bool, True),
        censor_emigration=ce.get("emigration", bool, True),
        censor_contacted=ce.get("contacted", bool, True),
        censor_moved_out=ce.get("moved_out_of_area", bool, False),
        covariates=covariates, triggers=_triggers(path, top.get("triggers", dict, {})),
    )


def _triggers(path: Path, table: dict[str, Any]) -> Triggers:
    tr = _Reader(path, table, "triggers.", {"offence_categories", "cooffence_with_group_member"})
    default = Triggers()
    cats = tr.strings("offence_categories", list(default.offence_categories),
                      allowed=OFFENCE_CATEGORIES)
    return Triggers(tuple(cats), tr.get("cooffence_with_group_member", bool,
                                        default.cooffence_with_group_member))


def _covariates(path: Path, table: dict[str, Any]) -> tuple[Covariate, ...]:
    if not table:
        raise ConfigError("must define at least one covariate", file=str(path), key="covariates")
    out = []
    for name, spec in table.items():
        prefix = f"covariates.{name}."
        if not name.isidentifier() or name != name.lower():
            raise ConfigError("covariate names must be lower-case identifiers", file=str(path),
                              key=f"covariates.{name}")
        if not isinstance(spec, dict):
            raise ConfigError("must be a table", file=str(path), key=f"covariates.{name}")
        kind = spec.get("kind")
        if kind not in COVARIATE_KINDS:
            raise ConfigError(f"unknown covariate kind {kind!r} (expected one of "
                              f"{', '.join(COVARIATE_KINDS)})", file=str(path), key=f"{prefix}kind")
        r = _Reader(path, spec, prefix, {"kind", "label", *COVARIATE_KINDS[kind]})
        window = r.get("window_months", int, None)
        if kind in ("charges", "group_cooffender") and window is None:
            r.fail("window_months", "is required for this kind")
        if window is not None and not 1 <= window <= MAX_WINDOW_MONTHS:
            r.fail("window_months", f"must be a whole number of months from 1 to "
                   f"{MAX_WINDOW_MONTHS}, got {window}")
        cats = r.strings("categories", [], allowed=OFFENCE_CATEGORIES, nonempty=False)
        hours = r.get("hours_threshold", float, 1.0)
        if hours < 0:
            r.fail("hours_threshold", f"must not be negative, got {hours}")
        label = r.get("label", dict, {})
        lr = _Reader(path, label, f"{prefix}label.", {"da", "en"})
        out.append(Covariate(
            name=name, kind=kind, window_months=window, categories=cats, hours_threshold=hours,
            label_da=lr.get("da", str, name), label_en=lr.get("en", str, name),
        ))
    return tuple(out)
