"""Public entry points: :class:`SurvivalSpec`, :func:`fit_all`, :func:`km_curve`, :func:`cif_curve`.

One call of :func:`fit_all` runs every estimator the evaluation reports for one outcome: per
arm Kaplan-Meier survival and Aalen-Johansen cumulative incidence at the horizons, the risk
difference and ratio, the cause-specific Cox model (and the stratified one when a strata column
is given), the Fine-Gray model when competing events exist, restricted mean survival time per arm
and its difference, and the diagnostics (proportional hazards test, minimum detectable hazard
ratio, E-value).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..timeunits import DEFAULT_HORIZON_DAYS
from .cox import ModelFailed, fit_cox, fit_fine_gray
from .diagnostics import e_value, min_detectable_hr, ph_test
from .estimability import LOG_SCALE_MODELS, is_estimated, mark_not_estimated
from .nonparametric import Z95, aalen_johansen, at_risk_at, kaplan_meier, rmst, value_at
from .results import TIDY_COLUMNS, SurvivalResults


@dataclass(frozen=True)
class SurvivalSpec:
    """What to analyse: column names and settings.

    Parameters
    ----------
    time : follow-up time column (the table's unit, days in this project); with ``entry`` the
        end of a counting-process row.
    event : status column: 0 censored, ``event_of_interest`` the event, other integers
        competing events.
    treatment : column with exactly two values: 0/1 or false/true (1 or true is treated), or
        any two values with ``treated_value`` naming the treated one.
    covariates : adjustment covariates for the hazard models (numeric columns).
    cluster : column to cluster robust standard errors on (e.g. the matched set).
    strata : column to stratify a second Cox model by (e.g. the matched set).
    event_of_interest : status code of the event of interest.
    horizons : times at which curves, risks and RMST are reported.
    entry : left-truncation / start column (a row is at risk on ``entry < t <= time``).
    weights : case weights (e.g. IPTW); hazard models then use robust standard errors.
    treated_value : the value of ``treatment`` that marks the treated arm (needed unless the
        values are 0/1 or false/true: no order of other labels is assumed).
    """

    time: str = "time"
    event: str = "status"
    treatment: str = "treated"
    covariates: tuple[str, ...] = ()
    cluster: str | None = None
    strata: str | None = None
    event_of_interest: int = 1
    horizons: tuple[float, ...] = DEFAULT_HORIZON_DAYS
    entry: str | None = None
    weights: str | None = None
    treated_value: Any = None

    def columns(self) -> list[str]:
        """Every column the specification uses, without duplicates."""
        cols = [self.time, self.event, self.treatment, *self.covariates]
        for extra in (self.cluster, self.strata, self.entry, self.weights):
            if extra is not None:
                cols.append(extra)
        return list(dict.fromkeys(cols))


@dataclass(frozen=True)
class _Prepared:
    data: pd.DataFrame  # columns _time _status _event _treated _entry _weight + covariates etc.
    groups: tuple[Any, Any]  # (untreated value, treated value) as in the table
    weighted: bool
    has_entry: bool


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0]) + 1


def _numeric(frame: pd.DataFrame, column: str, source: str | None, what: str) -> np.ndarray:
    col = frame[column]
    if pd.api.types.is_bool_dtype(col):
        col = col.astype(float)
    values = pd.to_numeric(col, errors="coerce")
    missing = col.isna().to_numpy()
    if missing.any():
        raise InputError(f"{what} is missing", file=source, row=_first_bad(missing), column=column)
    bad = values.isna().to_numpy()
    if bad.any():
        raise InputError(f"{what} is not a number", file=source, row=_first_bad(bad), column=column)
    arr = values.to_numpy(dtype=float)
    if not np.isfinite(arr).all():
        raise InputError(
            f"{what} is not finite", file=source, row=_first_bad(~np.isfinite(arr)), column=column
        )
    return arr


def _python_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_BINARY = ({"0", "1"}, {"false", "true"}, {"0.0", "1.0"})


def _treatment_order(values, spec: SurvivalSpec, source: str | None) -> tuple[Any, Any]:
    """(untreated value, treated value) of the treatment column's two values.

    0/1 and false/true need nothing; any other coding needs ``spec.treated_value`` (compared as
    text, so ``--treated ja`` matches the value ``ja``): sorting labels such as ja/nej would
    silently pick the wrong arm.
    """
    text = {str(v).strip().lower(): v for v in values}
    if spec.treated_value is not None:
        wanted = str(spec.treated_value).strip().lower()
        if wanted not in text:
            raise InputError(f"the treated value {spec.treated_value!r} is not one of the "
                             f"treatment's values ({', '.join(repr(str(v)) for v in values)})",
                             file=source, column=spec.treatment)
        treated = text[wanted]
        return next(v for v in values if v is not treated and str(v).strip().lower() != wanted), treated
    if set(text) in _BINARY:
        keys = sorted(text)  # "0" < "1", "false" < "true"
        return text[keys[0]], text[keys[1]]
    raise InputError(f"the treatment's values are {', '.join(repr(str(v)) for v in values)}: say "
                     "which is treated with --treated VALUE (only 0/1 and false/true are read "
                     "without it)", file=source, column=spec.treatment)


def prepare(frame: pd.DataFrame, spec: SurvivalSpec, source: str | None = None) -> _Prepared:
    """Check ``frame`` against ``spec`` and return the analysis columns.

    Raises
    ------
    InputError
        A missing column, a non-numeric or negative time, a non-integer status, a treatment
        without exactly two values, a missing or non-numeric covariate, a bad entry or weight;
        the message names the column and the first offending (1-based) row.
    """
    if len(frame) == 0:
        raise InputError("the table has no rows", file=source)
    if spec.event_of_interest <= 0:
        raise InputError(
            f"the event of interest must be a positive status code, not {spec.event_of_interest}",
            file=source,
            column=spec.event,
        )
    if not spec.horizons or any(h <= 0 for h in spec.horizons):
        raise InputError("horizons must be positive times", file=source)
    for column in spec.columns():
        if column not in frame.columns:
            raise InputError("column not found", file=source, column=column)
    time = _numeric(frame, spec.time, source, "time")
    if (time < 0).any():
        raise InputError(
            "time is negative", file=source, row=_first_bad(time < 0), column=spec.time
        )
    status = _numeric(frame, spec.event, source, "status")
    not_int = status != np.round(status)
    if not_int.any():
        raise InputError(
            "status is not an integer code", file=source, row=_first_bad(not_int), column=spec.event
        )
    status = status.astype(int)
    if (status < 0).any():
        raise InputError(
            "status code is negative", file=source, row=_first_bad(status < 0), column=spec.event
        )
    treat = frame[spec.treatment]
    if treat.isna().any():
        raise InputError(
            "treatment is missing",
            file=source,
            row=_first_bad(treat.isna().to_numpy()),
            column=spec.treatment,
        )
    values = pd.unique(treat)
    if len(values) != 2:
        raise InputError(
            f"the treatment must have exactly two values, found {len(values)}",
            file=source,
            column=spec.treatment,
        )
    ordered = _treatment_order(values, spec, source)
    groups = (_python_value(ordered[0]), _python_value(ordered[1]))
    treated = (treat == ordered[1]).to_numpy().astype(float)
    data = pd.DataFrame(
        {
            "_time": time,
            "_status": status,
            "_event": (status == spec.event_of_interest).astype(int),
            "_treated": treated,
        }
    )
    for cov in spec.covariates:
        if cov == spec.treatment:
            continue
        data[cov] = _numeric(frame, cov, source, "covariate")
    for key, col in (("_cluster", spec.cluster), ("_strata", spec.strata)):
        if col is not None:
            miss = frame[col].isna().to_numpy()
            if miss.any():
                raise InputError("value is missing", file=source, row=_first_bad(miss), column=col)
            data[key] = pd.factorize(frame[col])[0]
    if spec.entry is not None:
        entry = _numeric(frame, spec.entry, source, "entry time")
        bad = (entry < 0) | (entry >= time)
        if bad.any():
            raise InputError(
                "entry time must be >= 0 and before the time",
                file=source,
                row=_first_bad(bad),
                column=spec.entry,
            )
        data["_entry"] = entry
    else:
        data["_entry"] = 0.0
    if spec.weights is not None:
        weight = _numeric(frame, spec.weights, source, "weight")
        if (weight <= 0).any():
            raise InputError(
                "weight must be positive",
                file=source,
                row=_first_bad(weight <= 0),
                column=spec.weights,
            )
        data["_weight"] = weight
    else:
        data["_weight"] = 1.0
    return _Prepared(data, groups, spec.weights is not None, spec.entry is not None)


def _row(
    model,
    term,
    group=None,
    time=None,
    estimate=np.nan,
    std_error=np.nan,
    conf_low=np.nan,
    conf_high=np.nan,
    p_value=np.nan,
    hazard_ratio=np.nan,
) -> dict[str, Any]:
    return {
        "model": model, "term": term, "group": group, "time": time, "estimate": estimate,
        "std_error": std_error, "conf_low": conf_low, "conf_high": conf_high,
        "p_value": p_value, "hazard_ratio": hazard_ratio, "not_estimated": None,
    }  # fmt: skip


def _arm_arrays(prep: _Prepared, treated: int):
    d = prep.data[prep.data["_treated"] == treated]
    entry = d["_entry"].to_numpy() if prep.has_entry else None
    weights = d["_weight"].to_numpy() if prep.weighted else None
    return d["_time"].to_numpy(), d["_status"].to_numpy(), entry, weights


def _arm_cluster(prep: _Prepared, treated: int) -> np.ndarray | None:
    """The cluster codes of one arm (None without a cluster column): with weights, the
    non-parametric standard errors are robust and summed within these clusters."""
    if "_cluster" not in prep.data:
        return None
    return prep.data.loc[prep.data["_treated"] == treated, "_cluster"].to_numpy()


def _nonparametric_rows(prep: _Prepared, spec: SurvivalSpec, diagnostics: dict) -> list[dict]:
    rows: list[dict] = []
    horizons = np.asarray(spec.horizons, dtype=float)
    cif_at: dict[int, pd.DataFrame] = {}
    at_risk: list[dict] = []
    arms = {arm: _arm_arrays(prep, arm) for arm in (0, 1)}
    for arm in (0, 1):
        group = prep.groups[arm]
        t, s, e, w = arms[arm]
        cl = _arm_cluster(prep, arm)
        max_time = float(t.max()) if len(t) else -np.inf
        km = value_at(kaplan_meier(t, s, spec.event_of_interest, e, w, cl), horizons, max_time)
        for r in km.itertuples(index=False):
            rows.append(
                _row(
                    "kaplan_meier",
                    "survival",
                    group,
                    r.time,
                    r.estimate,
                    r.std_error,
                    r.conf_low,
                    r.conf_high,
                )
            )
        cif = value_at(aalen_johansen(t, s, spec.event_of_interest, e, w, cl), horizons, max_time)
        cif_at[arm] = cif
        for r in cif.itertuples(index=False):
            rows.append(
                _row(
                    "cumulative_incidence",
                    "cumulative_incidence",
                    group,
                    r.time,
                    r.estimate,
                    r.std_error,
                    r.conf_low,
                    r.conf_high,
                )
            )
        n_risk = at_risk_at(
            horizons, t, np.full_like(t, -np.inf) if e is None else e, np.ones_like(t)
        )
        at_risk += [
            {"group": group, "time": float(h), "n": float(n)} for h, n in zip(horizons, n_risk)
        ]
    diagnostics["at_risk"] = at_risk
    # risk difference and ratio (delta method, independent arms)
    f1, f0 = cif_at[1], cif_at[0]
    for i, h in enumerate(horizons):
        p1, p0 = f1["estimate"].iloc[i], f0["estimate"].iloc[i]
        s1, s0 = f1["std_error"].iloc[i], f0["std_error"].iloc[i]
        rd = p1 - p0
        se_rd = float(np.hypot(s1, s0))
        p_rd = 2 * stats.norm.sf(abs(rd) / se_rd) if se_rd > 0 else np.nan
        rows.append(
            _row(
                "risk_difference",
                spec.treatment,
                None,
                float(h),
                rd,
                se_rd,
                rd - Z95 * se_rd,
                rd + Z95 * se_rd,
                p_rd,
            )
        )
        if p1 > 0 and p0 > 0:
            log_rr = np.log(p1 / p0)
            se_log = float(np.sqrt((s1 / p1) ** 2 + (s0 / p0) ** 2))
            p_rr = 2 * stats.norm.sf(abs(log_rr) / se_log) if se_log > 0 else np.nan
            rows.append(
                _row(
                    "risk_ratio",
                    spec.treatment,
                    None,
                    float(h),
                    float(np.exp(log_rr)),
                    float(np.exp(log_rr)) * se_log,
                    float(np.exp(log_rr - Z95 * se_log)),
                    float(np.exp(log_rr + Z95 * se_log)),
                    p_rr,
                )
            )
        else:
            rows.append(_row("risk_ratio", spec.treatment, None, float(h)))
    # restricted mean survival time (event-free time, competing events censored)
    for h in horizons:
        values = {}
        for arm in (0, 1):
            t, s, e, w = arms[arm]
            if h > t.max():
                values[arm] = (np.nan, np.nan)
            else:
                values[arm] = rmst(t, s, float(h), spec.event_of_interest, e, w,
                                   _arm_cluster(prep, arm))
            est, se = values[arm]
            rows.append(
                _row(
                    "rmst",
                    "rmst",
                    prep.groups[arm],
                    float(h),
                    est,
                    se,
                    est - Z95 * se,
                    est + Z95 * se,
                )
            )
        diff = values[1][0] - values[0][0]
        se_d = float(np.hypot(values[1][1], values[0][1]))
        p_d = 2 * stats.norm.sf(abs(diff) / se_d) if se_d > 0 else np.nan
        rows.append(
            _row(
                "rmst_difference",
                spec.treatment,
                None,
                float(h),
                diff,
                se_d,
                diff - Z95 * se_d,
                diff + Z95 * se_d,
                p_d,
            )
        )
    return rows


def _hazard_rows(model: str, fit) -> list[dict]:
    table = fit.table()
    return [
        _row(
            model,
            r.term,
            None,
            None,
            r.estimate,
            r.std_error,
            r.conf_low,
            r.conf_high,
            r.p_value,
            r.hazard_ratio,
        )
        for r in table.itertuples(index=False)
    ]


def fit_all(
    frame: pd.DataFrame, spec: SurvivalSpec, *, source: str | None = None
) -> SurvivalResults:
    """Run every survival estimator of the evaluation on one outcome.

    Parameters
    ----------
    frame : one row per person (or per counting-process row with ``spec.entry``).
    spec : the columns and settings.
    source : file name used in error messages.

    Returns
    -------
    SurvivalResults
        ``tidy()`` rows for kaplan_meier, cumulative_incidence, risk_difference, risk_ratio,
        rmst, rmst_difference (per horizon), cox, cox_stratified (with ``strata``) and
        fine_gray (when competing events exist and there is no ``entry``), and diagnostics.
        A model that cannot be fitted is left out and named, with the reason, in
        ``diagnostics["failures"]``. A ratio model that was fitted but estimated nothing (no
        events in an arm, no convergence, separation) keeps its row with missing numbers and
        the reason in ``not_estimated`` (and in ``diagnostics["not_estimated"]``); it gives no
        E-value (:mod:`.estimability`).

    Notes
    -----
    - kaplan_meier / cumulative_incidence: per group at each horizon; CIs on the log(-log)
      scale; SE Greenwood / as ``cmprsk::cuminc``; with weights the robust SE (R's
      ``survfit(robust = TRUE)``), summed within ``cluster`` when given. A horizon after the
      group's last follow-up time gives NaN.
    - risk_difference: treated minus untreated cumulative incidence, SE from the two
      independent arms; risk_ratio: ``std_error`` is the delta-method SE of the ratio, the CI
      and p-value are on the log scale.
    - cox / cox_stratified / fine_gray: coefficients (log hazard ratios), 95% Wald CIs on that
      scale, ``hazard_ratio = exp(estimate)``; robust SE with a cluster or weights.
    - rmst per group (area under the Kaplan-Meier curve up to the horizon, competing events
      censored) and rmst_difference (treated minus untreated, independent arms).
    - diagnostics: the proportional hazards test and E-value use the unstratified Cox model;
      the minimum detectable HR uses the events of interest and the share treated.

    Raises
    ------
    InputError
        The table does not fit the specification (see :func:`prepare`).
    """
    prep = prepare(frame, spec, source)
    data = prep.data
    treat_name = spec.treatment
    covariates = [c for c in spec.covariates if c != spec.treatment]
    terms = [treat_name, *covariates]
    model_frame = data.rename(columns={"_treated": treat_name})
    weight_col = "_weight" if prep.weighted else None
    entry_col = "_entry" if prep.has_entry else None
    competing = (data["_status"] != 0) & (data["_event"] == 0)
    by_arm = data.groupby("_treated")
    diagnostics: dict[str, Any] = {
        "n": len(data),
        "n_by_group": {str(prep.groups[int(a)]): int(n) for a, n in by_arm.size().items()},
        "n_events_by_group": {
            str(prep.groups[int(a)]): int(n) for a, n in by_arm["_event"].sum().items()
        },
        "n_competing_by_group": {
            str(prep.groups[int(a)]): int(n)
            for a, n in competing.groupby(data["_treated"]).sum().items()
        },
        "event_of_interest": spec.event_of_interest,
        "robust_se": bool(spec.cluster is not None or prep.weighted),
        "cluster": spec.cluster,
        "failures": {},
        "notes": [],
    }
    for g in map(str, prep.groups):
        for key in ("n_by_group", "n_events_by_group", "n_competing_by_group"):
            diagnostics[key].setdefault(g, 0)
    rows = _nonparametric_rows(prep, spec, diagnostics)

    cox_args = {
        "duration": "_time",
        "event": "_event",
        "terms": terms,
        "cluster": "_cluster" if spec.cluster else None,
        "entry": entry_col,
        "weights": weight_col,
    }
    notes_by_model: dict[str, list[str]] = {}
    try:
        cox_fit = fit_cox(model_frame, **cox_args)
        rows += _hazard_rows("cox", cox_fit)
        diagnostics["notes"] += [f"cox: {n}" for n in cox_fit.notes]
        notes_by_model["cox"] = list(cox_fit.notes)
    except ModelFailed as exc:
        diagnostics["failures"]["cox"] = str(exc)
    if spec.strata is not None:
        try:
            strat = fit_cox(model_frame, strata="_strata", **cox_args)
            rows += _hazard_rows("cox_stratified", strat)
            diagnostics["notes"] += [f"cox_stratified: {n}" for n in strat.notes]
            notes_by_model["cox_stratified"] = list(strat.notes)
        except ModelFailed as exc:
            diagnostics["failures"]["cox_stratified"] = str(exc)
    if competing.any():
        if prep.has_entry:
            diagnostics["failures"]["fine_gray"] = "not available with left-truncated (entry) data"
        else:
            try:
                fg = fit_fine_gray(
                    data["_time"].to_numpy(),
                    data["_status"].to_numpy(),
                    model_frame[terms],
                    event_of_interest=spec.event_of_interest,
                    weights=data["_weight"].to_numpy() if prep.weighted else None,
                    cluster=data["_cluster"].to_numpy() if spec.cluster else None,
                )
                rows += _hazard_rows("fine_gray", fg)
            except ModelFailed as exc:
                diagnostics["failures"]["fine_gray"] = str(exc)

    # diagnostics
    try:
        diagnostics["ph_test"] = ph_test(
            data["_time"].to_numpy(),
            data["_event"].to_numpy(),
            model_frame[terms].to_numpy(float),
            terms,
            entry=data["_entry"].to_numpy() if prep.has_entry else None,
            weights=data["_weight"].to_numpy() if prep.weighted else None,
        )
    except (ModelFailed, np.linalg.LinAlgError) as exc:
        diagnostics["ph_test"] = None
        diagnostics["failures"]["ph_test"] = str(exc)
    share_treated = float(data["_treated"].mean())
    low, high = min_detectable_hr(float(data["_event"].sum()), share_treated)
    diagnostics["min_detectable_hr"] = low
    diagnostics["min_detectable_hr_increase"] = high
    pooled = aalen_johansen(
        data["_time"],
        data["_status"],
        spec.event_of_interest,
        data["_entry"] if prep.has_entry else None,
        data["_weight"] if prep.weighted else None,
    )
    outcome_risk = float(pooled["estimate"].iloc[-1]) if len(pooled) else 0.0
    # the one "not estimated" rule: a ratio model that estimated nothing shows no number; a
    # hazard model that failed keeps a row too, with its reason, so every reader sees the same
    for model in LOG_SCALE_MODELS:
        if model in diagnostics["failures"]:
            rows.append({**_row(model, treat_name), "not_estimated": diagnostics["failures"][model]})
    events_by_arm = {f"{treat_name} = {g}": n for g, n in diagnostics["n_events_by_group"].items()}
    estimates = mark_not_estimated(pd.DataFrame(rows, columns=list(TIDY_COLUMNS)), events_by_arm,
                                   notes_by_model)
    diagnostics["not_estimated"] = {
        str(r["model"]): r["not_estimated"] for r in estimates.to_dict("records")
        if isinstance(r["not_estimated"], str) and r["model"] in LOG_SCALE_MODELS}
    diagnostics["e_value"] = None
    cox_row = estimates[(estimates["model"] == "cox") & (estimates["term"] == treat_name)]
    if len(cox_row) and is_estimated(cox_row.iloc[0].to_dict()):
        t = cox_row.iloc[0]
        with np.errstate(over="ignore"):  # an infinite limit gives no E-value (None)
            diagnostics["e_value"] = e_value(
                float(t.hazard_ratio),
                float(np.exp(t.conf_low)),
                float(np.exp(t.conf_high)),
                outcome_risk,
            )
    # keep the treatment values as they are in the table (ints stay ints, None for contrasts)
    estimates["group"] = pd.Series([r["group"] for r in rows], dtype=object)
    estimates["time"] = estimates["time"].astype(float)
    return SurvivalResults(estimates, diagnostics, spec)


def _curve(frame: pd.DataFrame, spec: SurvivalSpec, kind: str) -> pd.DataFrame:
    prep = prepare(frame, spec)
    parts = []
    for arm in (0, 1):
        t, s, e, w = _arm_arrays(prep, arm)
        cl = _arm_cluster(prep, arm)
        if kind == "km":
            curve = kaplan_meier(t, s, spec.event_of_interest, e, w, cl)
            start_value = 1.0
        else:
            curve = aalen_johansen(t, s, spec.event_of_interest, e, w, cl)
            start_value = 0.0
        # at risk at the start: rows followed from time 0 (entry 0)
        w_all = w if w is not None else np.ones_like(t)
        n0 = float(w_all.sum() if e is None else w_all[e == 0].sum())
        first = pd.DataFrame(
            {
                "time": [0.0],
                "estimate": [start_value],
                "conf_low": [start_value],
                "conf_high": [start_value],
                "at_risk": [n0],
                "events": [0.0],
            }
        )
        body = curve[["time", "estimate", "conf_low", "conf_high", "at_risk", "events"]]
        part = pd.concat([first, body], ignore_index=True)
        part.insert(0, "group", prep.groups[arm])
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["group"] = out["group"].astype(object)
    return out


def km_curve(frame: pd.DataFrame, spec: SurvivalSpec) -> pd.DataFrame:
    """Kaplan-Meier step curves per treatment group, for figures.

    Returns
    -------
    DataFrame
        ``group``, ``time``, ``estimate`` (probability of no event of interest by ``time``,
        competing events censored), ``conf_low``, ``conf_high`` (95%, log(-log)), ``at_risk``
        (just before ``time``), ``events`` (events of interest at ``time``); a first row per
        group at time 0.
    """
    return _curve(frame, spec, "km")


def cif_curve(frame: pd.DataFrame, spec: SurvivalSpec) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence step curves per treatment group, for figures.

    Returns
    -------
    DataFrame
        ``group``, ``time``, ``estimate`` (share with the event of interest by ``time``),
        ``conf_low``, ``conf_high`` (95%, log(-log)), ``at_risk`` (just before ``time``),
        ``events`` (events of interest at ``time``); a first row per group at time 0. Rows are
        at every time with an event of any cause.
    """
    return _curve(frame, spec, "cif")
