"""Analysis plans (``analyses/*.toml``): outcomes, horizons, models, sensitivity analyses, gates.

A plan is written before the data are looked at, like a pre-registration. One plan covers one
outcome family (``reoffending``, ``education_job``, ``group_recruitment``) and lists its outcome
variants. Example (``analyses/reoffending.toml``)::

    [analysis]
    family = "reoffending"
    horizons_months = [6, 12, 24]      # -> 183, 365, 730 days (evaluation.timeunits)
    primary_horizon_months = 12
    rmst_months = [12, 24]

    [[outcomes]]
    id = "reoffending_any"
    definition = "first_charge"        # see DEFINITIONS
    primary = true
    direction = "lower_is_better"
    label = { da = "Ny sigtelse", en = "New charge" }
    count = true                       # also the rate ratio of the number of new charges

    [models]                           # which estimators to report
    fine_gray = true
    rate_model = "poisson"             # or "negative_binomial"
    weighted = true                    # ATT weights of the matched sets (default)

    [estimands]                        # see evaluation.analysis.estimands
    primary = "intention_to_treat"     # or "per_protocol"; both are estimated
    ipcw_interval_days = 30            # periods of the per-protocol censoring model
    ipcw_truncate_percentiles = [1, 99]

    [sensitivity]
    naive = true                       # contacted vs all non-contacted eligible residents
    custody_at_risk = true             # Cox without removing custody time

    [falsification]                    # see evaluation.analysis.falsification
    negative_controls = ["traffic_fine", "accidental_injury"]
    max_systematic_error = 0.25        # gate: expected absolute systematic error (log RR)
    placebo_shift_months = 24          # fake initiative start this long before the real one
    subgroups = ["age_band", "sex", "contact_type", "referred_to"]

    [gates]
    max_smd = 0.1
    min_events_per_arm = 20
    min_ph_p = 0.01
    min_overlap_share = 0.95
    min_matched_share = 0.5            # of the eligible contacted, the share that found a comparison

    [monitoring]                       # quarterly publication is repeated testing
    planned_looks = 20                 # quarterly looks from the initiative start (five years)
    spending = "obrien_fleming"        # Lan-DeMets spending function, or "pocock"
    alpha = 0.05                       # overall two-sided type I error over all looks
    target_hr = 0.8                    # the effect to detect (its inverse where higher is better)
    power = 0.8

Every problem is a :class:`~evaluation.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract import NEGATIVE_CONTROL_OUTCOMES, OFFENCE_CATEGORIES
from ..errors import ConfigError
from ..study import load_toml
from ..timeunits import DEFAULT_HORIZON_MONTHS, months_to_days

FAMILIES = ("reoffending", "education_job", "group_recruitment")
DIRECTIONS = ("lower_is_better", "higher_is_better")

#: Outcome definitions per family (see :mod:`evaluation.outcomes`).
DEFINITIONS: dict[str, tuple[str, ...]] = {
    "reoffending": ("first_charge", "first_guilty_decision"),
    "education_job": ("first_education_or_job",),
    "group_recruitment": ("first_registration", "first_cooffence_with_member"),
}
RATE_MODELS = ("poisson", "negative_binomial")
ESTIMAND_NAMES = ("intention_to_treat", "per_protocol")
#: Pre-declarable subgroups: cohort columns, the contacted person's value for the whole set.
SUBGROUPS = ("age_band", "sex", "contact_type", "referred_to")
NEGATIVE_CONTROL_LABELS = {
    "traffic_fine": {"da": "Færdselsbøde (negativ kontrol)", "en": "Traffic fine (negative control)"},
    "accidental_injury": {"da": "Skadestuebesøg efter ulykke (negativ kontrol)",
                          "en": "Emergency visit for an accidental injury (negative control)"},
}


@dataclass(frozen=True)
class OutcomeSpec:
    """One outcome of a plan.

    Attributes
    ----------
    id : str
        Identifier used in the results bundle (``[a-z0-9_]+``).
    family : str
        Outcome family (one of :data:`FAMILIES`).
    definition : str
        How the event is derived (one of :data:`DEFINITIONS` for the family).
    primary : bool
        The primary outcome of the family.
    direction : str
        ``lower_is_better`` or ``higher_is_better``.
    label : dict
        ``{"da": ..., "en": ...}``.
    offence_categories : tuple of str
        For charge-based outcomes: the categories counted (empty = all).
    offence_window_days : int
        For ``first_guilty_decision``: offences committed within this many days of index.
    hours_threshold : float
        For ``first_education_or_job``: hours in a month that count as a job.
    count : bool
        Also estimate the rate ratio of the number of new charges (charge-based outcomes).
    remove_custody : bool
        Hazard models use start-stop rows with custody spells removed from the time at risk.
    """

    id: str
    family: str
    definition: str
    primary: bool
    direction: str
    label: dict[str, str]
    offence_categories: tuple[str, ...] = ()
    offence_window_days: int = 730
    hours_threshold: float = 40.0
    count: bool = False
    remove_custody: bool = False
    negative_control: str = ""


SPENDING_FUNCTIONS = ("obrien_fleming", "pocock")


@dataclass(frozen=True)
class Monitoring:
    """The monitoring scheme declared by a plan (see :mod:`evaluation.tracking.spending`).

    Looks are the quarterly reports, counted from the quarter of the initiative start; look
    ``k`` of ``planned_looks`` is at information fraction ``k / planned_looks`` (calendar-time
    spending: the boundaries are fixed before any data are seen and never change afterwards).
    """

    planned_looks: int = 20
    spending: str = "obrien_fleming"
    alpha: float = 0.05
    target_hr: float = 0.8
    power: float = 0.8


@dataclass(frozen=True)
class Plan:
    """An analysis plan: one outcome family and its outcomes, models and gates."""

    path: Path
    family: str
    label: dict[str, str]
    outcomes: tuple[OutcomeSpec, ...]
    horizons_days: tuple[int, ...]
    primary_horizon_days: int
    rmst_days: tuple[int, ...]
    fine_gray: bool = True
    cox_stratified: bool = True
    rate_model: str = "poisson"
    naive: bool = True
    custody_at_risk: bool = True
    weighted: bool = True
    max_smd: float = 0.1
    min_events_per_arm: int = 20
    min_ph_p: float = 0.01
    min_overlap_share: float = 0.95
    min_matched_share: float = 0.5
    monitoring: Monitoring = Monitoring()
    primary_estimand: str = "intention_to_treat"
    ipcw_interval_days: int = 30
    ipcw_truncate: tuple[float, float] = (0.01, 0.99)
    negative_controls: tuple[OutcomeSpec, ...] = ()
    max_systematic_error: float = 0.25
    placebo_shift_days: int = 730
    subgroups: tuple[str, ...] = ()
    sha256: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


#: Default of ``[gates] min_matched_share``. A matched estimate describes the contacted who found
#: a comparison; when that is fewer than half of the eligible contacted, it describes a minority
#: and cannot be presented as the initiative's effect on the contacted (those left without a
#: comparison differ systematically: they are the ones unlike any non-contacted youth).
DEFAULT_MIN_MATCHED_SHARE = 0.5


def _err(path: Path, key: str, message: str) -> ConfigError:
    return ConfigError(message, file=str(path), key=key)


def _check_keys(table: dict[str, Any], known: set[str], path: Path, prefix: str) -> None:
    for key in table:
        if key not in known:
            raise _err(path, f"{prefix}{key}", f"unknown key (expected one of {sorted(known)})")


def _typed(table: dict[str, Any], key: str, kind, path: Path, prefix: str, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise _err(path, f"{prefix}{key}", "is required but missing")
        return default
    value = table[key]
    ok = isinstance(value, kind) and not (kind in (int, float, (int, float)) and isinstance(value, bool))
    if not ok:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise _err(path, f"{prefix}{key}", f"must be {names}, got {value!r}")
    return value


def _label(table: dict[str, Any], key: str, path: Path, prefix: str, default: dict[str, str] | None = None) -> dict[str, str]:
    if key not in table and default is not None:
        return default
    value = _typed(table, key, dict, path, prefix)
    for lang in ("da", "en"):
        if not isinstance(value.get(lang), str) or not value[lang].strip():
            raise _err(path, f"{prefix}{key}.{lang}", "a label in Danish (da) and English (en) is required")
    return {"da": value["da"], "en": value["en"]}


def _months_list(table: dict[str, Any], key: str, path: Path, prefix: str, default: tuple[int, ...]) -> tuple[int, ...]:
    values = _typed(table, key, list, path, prefix, list(default))
    if not values:
        raise _err(path, f"{prefix}{key}", "must list at least one number of months")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            raise _err(path, f"{prefix}{key}", f"must be positive numbers of months, got {v!r}")
        out.append(months_to_days(v))
    if len(set(out)) != len(out):
        raise _err(path, f"{prefix}{key}", "repeats a horizon")
    return tuple(sorted(out))


def load_plan(path: str | Path) -> Plan:
    """Load and check one analysis plan.

    Parameters
    ----------
    path : str or Path
        The plan's TOML file.

    Returns
    -------
    Plan

    Raises
    ------
    ConfigError
        Naming the file and the key for every problem (unknown key, wrong type, unknown family,
        definition or direction, no or several primary outcomes, repeated outcome ids).
    """
    import hashlib

    path = Path(path)
    doc = load_toml(path)
    _check_keys(doc, {"analysis", "outcomes", "models", "estimands", "sensitivity", "falsification", "gates",
                      "monitoring"}, path, "")
    a = _typed(doc, "analysis", dict, path, "")
    _check_keys(a, {"family", "label", "horizons_months", "primary_horizon_months", "rmst_months",
                    "hours_threshold"}, path, "analysis.")
    family = _typed(a, "family", str, path, "analysis.")
    if family not in FAMILIES:
        raise _err(path, "analysis.family", f"unknown family {family!r} (expected one of {', '.join(FAMILIES)})")
    horizons = _months_list(a, "horizons_months", path, "analysis.", DEFAULT_HORIZON_MONTHS)
    primary_months = _typed(a, "primary_horizon_months", (int, float), path, "analysis.", 12)
    primary_h = months_to_days(primary_months)
    if primary_h not in horizons:
        raise _err(path, "analysis.primary_horizon_months", "must be one of horizons_months")
    rmst = _months_list(a, "rmst_months", path, "analysis.", (12, 24))
    default_hours = _typed(a, "hours_threshold", (int, float), path, "analysis.", 40.0)
    family_label = _label(a, "label", path, "analysis.", default={"da": family, "en": family})

    raw_outcomes = _typed(doc, "outcomes", list, path, "")
    if not raw_outcomes:
        raise _err(path, "outcomes", "must list at least one outcome")
    outcomes: list[OutcomeSpec] = []
    seen: set[str] = set()
    known_o = {"id", "definition", "primary", "direction", "label", "offence_categories",
               "offence_window_months", "hours_threshold", "count", "remove_custody"}
    for i, o in enumerate(raw_outcomes):
        prefix = f"outcomes[{i}]."
        if not isinstance(o, dict):
            raise _err(path, f"outcomes[{i}]", "must be a table ([[outcomes]])")
        _check_keys(o, known_o, path, prefix)
        oid = _typed(o, "id", str, path, prefix)
        if not oid or not all(c.isalnum() and (c.islower() or c.isdigit()) or c == "_" for c in oid):
            raise _err(path, f"{prefix}id", f"must be lower-case letters, digits and _, got {oid!r}")
        if oid in seen:
            raise _err(path, f"{prefix}id", f"repeats outcome id {oid!r}")
        seen.add(oid)
        definition = _typed(o, "definition", str, path, prefix)
        if definition not in DEFINITIONS[family]:
            raise _err(path, f"{prefix}definition",
                       f"unknown definition {definition!r} for family {family} "
                       f"(expected one of {', '.join(DEFINITIONS[family])})")
        direction = _typed(o, "direction", str, path, prefix,
                           "higher_is_better" if family == "education_job" else "lower_is_better")
        if direction not in DIRECTIONS:
            raise _err(path, f"{prefix}direction", f"must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
        cats = tuple(_typed(o, "offence_categories", list, path, prefix, []))
        for c in cats:
            if c not in OFFENCE_CATEGORIES:
                raise _err(path, f"{prefix}offence_categories",
                           f"unknown category {c!r} (expected some of {', '.join(OFFENCE_CATEGORIES)})")
        window = months_to_days(_typed(o, "offence_window_months", (int, float), path, prefix, 24))
        hours = float(_typed(o, "hours_threshold", (int, float), path, prefix, default_hours))
        if hours < 0:
            raise _err(path, f"{prefix}hours_threshold", "must not be negative")
        charge_based = definition == "first_charge"
        count = _typed(o, "count", bool, path, prefix, False)
        if count and not charge_based:
            raise _err(path, f"{prefix}count", "a count (rate ratio) needs definition = \"first_charge\"")
        outcomes.append(OutcomeSpec(
            id=oid, family=family, definition=definition,
            primary=_typed(o, "primary", bool, path, prefix, False),
            direction=direction, label=_label(o, "label", path, prefix),
            offence_categories=cats, offence_window_days=window, hours_threshold=hours,
            count=count,
            remove_custody=_typed(o, "remove_custody", bool, path, prefix, family == "reoffending"),
        ))
    n_primary = sum(o.primary for o in outcomes)
    if n_primary != 1:
        raise _err(path, "outcomes", f"exactly one outcome must have primary = true (found {n_primary})")

    m = _typed(doc, "models", dict, path, "", {})
    _check_keys(m, {"fine_gray", "cox_stratified", "rate_model", "weighted"}, path, "models.")
    rate_model = _typed(m, "rate_model", str, path, "models.", "poisson")
    if rate_model not in RATE_MODELS:
        raise _err(path, "models.rate_model", f"must be one of {', '.join(RATE_MODELS)}, got {rate_model!r}")
    e = _typed(doc, "estimands", dict, path, "", {})
    _check_keys(e, {"primary", "ipcw_interval_days", "ipcw_truncate_percentiles"}, path, "estimands.")
    primary_estimand = _typed(e, "primary", str, path, "estimands.", "intention_to_treat")
    if primary_estimand not in ESTIMAND_NAMES:
        raise _err(path, "estimands.primary", f"must be one of {', '.join(ESTIMAND_NAMES)}, got {primary_estimand!r}")
    interval = _typed(e, "ipcw_interval_days", int, path, "estimands.", 30)
    if interval < 1:
        raise _err(path, "estimands.ipcw_interval_days", "must be a positive number of days")
    trunc = _typed(e, "ipcw_truncate_percentiles", list, path, "estimands.", [1, 99])
    if (len(trunc) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in trunc)
            or not 0 <= trunc[0] < trunc[1] <= 100):
        raise _err(path, "estimands.ipcw_truncate_percentiles", "must be two percentiles [low, high], 0 <= low < high <= 100")
    s = _typed(doc, "sensitivity", dict, path, "", {})
    _check_keys(s, {"naive", "custody_at_risk"}, path, "sensitivity.")
    f = _typed(doc, "falsification", dict, path, "", {})
    _check_keys(f, {"negative_controls", "max_systematic_error", "placebo_shift_months", "subgroups"},
                path, "falsification.")
    ncs = []
    for name in _typed(f, "negative_controls", list, path, "falsification.", []):
        if name not in NEGATIVE_CONTROL_OUTCOMES:
            raise _err(path, "falsification.negative_controls",
                       f"unknown negative control {name!r} (expected some of {', '.join(NEGATIVE_CONTROL_OUTCOMES)})")
        ncs.append(OutcomeSpec(id=f"negative_control_{name}", family=family,
                               definition="first_negative_control_event", primary=False,
                               direction="lower_is_better", label=NEGATIVE_CONTROL_LABELS[name],
                               negative_control=name))
    max_se = float(_typed(f, "max_systematic_error", (int, float), path, "falsification.", 0.25))
    if max_se <= 0:
        raise _err(path, "falsification.max_systematic_error", "must be positive")
    shift = _typed(f, "placebo_shift_months", (int, float), path, "falsification.", 24)
    if shift <= 0:
        raise _err(path, "falsification.placebo_shift_months", "must be a positive number of months")
    subgroups = tuple(_typed(f, "subgroups", list, path, "falsification.", []))
    for sg in subgroups:
        if sg not in SUBGROUPS:
            raise _err(path, "falsification.subgroups", f"unknown subgroup {sg!r} (expected some of {', '.join(SUBGROUPS)})")
    g = _typed(doc, "gates", dict, path, "", {})
    _check_keys(g, {"max_smd", "min_events_per_arm", "min_ph_p", "min_overlap_share",
                    "min_matched_share"}, path, "gates.")
    max_smd = float(_typed(g, "max_smd", (int, float), path, "gates.", 0.1))
    min_events = _typed(g, "min_events_per_arm", int, path, "gates.", 20)
    min_ph = float(_typed(g, "min_ph_p", (int, float), path, "gates.", 0.01))
    min_overlap = float(_typed(g, "min_overlap_share", (int, float), path, "gates.", 0.95))
    min_matched = float(_typed(g, "min_matched_share", (int, float), path, "gates.",
                               DEFAULT_MIN_MATCHED_SHARE))
    if not 0 <= min_matched <= 1:
        raise _err(path, "gates.min_matched_share", "must be between 0 and 1")
    if max_smd <= 0:
        raise _err(path, "gates.max_smd", "must be positive")
    if min_events < 0:
        raise _err(path, "gates.min_events_per_arm", "must not be negative")
    if not 0 <= min_ph < 1:
        raise _err(path, "gates.min_ph_p", "must be between 0 and 1")
    if not 0 <= min_overlap <= 1:
        raise _err(path, "gates.min_overlap_share", "must be between 0 and 1")
    return Plan(
        path=path, family=family, label=family_label, outcomes=tuple(outcomes),
        horizons_days=horizons, primary_horizon_days=primary_h, rmst_days=rmst,
        fine_gray=_typed(m, "fine_gray", bool, path, "models.", True),
        cox_stratified=_typed(m, "cox_stratified", bool, path, "models.", True),
        rate_model=rate_model,
        naive=_typed(s, "naive", bool, path, "sensitivity.", True),
        custody_at_risk=_typed(s, "custody_at_risk", bool, path, "sensitivity.", True),
        weighted=_typed(m, "weighted", bool, path, "models.", True),
        max_smd=max_smd, min_events_per_arm=min_events, min_ph_p=min_ph,
        min_overlap_share=min_overlap, min_matched_share=min_matched, monitoring=_monitoring(doc, path),
        primary_estimand=primary_estimand, ipcw_interval_days=interval,
        ipcw_truncate=(trunc[0] / 100.0, trunc[1] / 100.0),
        negative_controls=tuple(ncs), max_systematic_error=max_se, placebo_shift_days=months_to_days(shift),
        subgroups=subgroups,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


def _monitoring(doc: dict[str, Any], path: Path) -> Monitoring:
    t = _typed(doc, "monitoring", dict, path, "", {})
    pre = "monitoring."
    _check_keys(t, {"planned_looks", "spending", "alpha", "target_hr", "power"}, path, pre)
    d = Monitoring()
    looks = _typed(t, "planned_looks", int, path, pre, d.planned_looks)
    spending = _typed(t, "spending", str, path, pre, d.spending)
    alpha = float(_typed(t, "alpha", (int, float), path, pre, d.alpha))
    target = float(_typed(t, "target_hr", (int, float), path, pre, d.target_hr))
    power = float(_typed(t, "power", (int, float), path, pre, d.power))
    if not 1 <= looks <= 60:
        raise _err(path, pre + "planned_looks", "must be between 1 and 60")
    if spending not in SPENDING_FUNCTIONS:
        raise _err(path, pre + "spending", f"must be one of {', '.join(SPENDING_FUNCTIONS)}")
    if not 0 < alpha < 0.5:
        raise _err(path, pre + "alpha", "must be between 0 and 0.5")
    if not (target > 0 and target != 1):
        raise _err(path, pre + "target_hr", "must be a positive hazard ratio other than 1")
    if not 0.5 <= power < 1:
        raise _err(path, pre + "power", "must be at least 0.5 and below 1")
    return Monitoring(looks, spending, alpha, target, power)


def load_plans(paths: list[Path] | tuple[Path, ...]) -> list[Plan]:
    """Load several plans; outcome ids must be unique across them."""
    plans = [load_plan(p) for p in paths]
    seen: dict[str, Path] = {}
    for plan in plans:
        for i, o in enumerate(plan.outcomes):
            if o.id in seen:
                raise ConfigError(f"repeats outcome id {o.id!r} of {seen[o.id]}", file=str(plan.path),
                                  key=f"outcomes[{i}].id")
            seen[o.id] = plan.path
    return plans
