"""The two estimands of the matched design and the inverse-probability-of-censoring weights.

Both compare, among the contacted, the risk by a horizon after their first contact with the risk
the same persons would have had otherwise; they differ in what "otherwise" means:

- **"Contact now versus not now"** (intention to treat, ``intention_to_treat``): otherwise = not
  contacted at that date, but possibly contacted later, as the initiative would - including a
  contact days later for an incident before that date, as for the comparison persons, who are
  not yet contacted at their index date (on simulated data about a quarter of them are contacted
  later for an incident before it). The comparison
  arm is followed without ending its follow-up at a later contact (the cohort's
  ``end_date_itt``). No model of later contact is needed.
- **"Contact now versus no contact"** (per protocol, ``per_protocol``): otherwise = never
  contacted. The comparison arm's follow-up ends at a later contact, and because contact follows
  rising risk (a fresh charge, co-offending with a group member) that censoring is informative:
  it removes the comparison persons about to have the outcome. Stabilised
  inverse-probability-of-censoring weights (IPCW) undo it: on person-period data (periods of
  ``interval_days`` from the index date) a pooled logistic regression (maximum likelihood by
  the Newton iteration of statsmodels ``Logit``) models the hazard of being contacted in a period given covariates measured at its start
  (the cohort definition's covariates, time-updated: recent charges, violence or weapons
  charges, co-offending with a group member, education or job, group registration, custody,
  and age), and a second one given the period alone (the numerator). A comparison person's
  weight in period k is the product over the periods before k of P(not contacted | period) /
  P(not contacted | period, covariates), times the square root of period k's own factor (the
  weight at the middle of the period), truncated at the plan's percentiles.

Standard errors of both come from the person-level bootstrap (controls are reused across
matched sets and later-contacted controls appear in both arms). For the per-protocol estimand
the weight models are refitted in every replicate by one Newton step from the full-sample fit
(the k-step bootstrap of Andrews 2002, Econometrica 70:119-162, first-order equivalent to a full
refit): the replicate's score of each model at the full-sample coefficients, times the inverse
of the full-sample information.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..blas import single_threaded_blas
from ..errors import InputError
from ..survival.estimability import mark_not_estimated
from .bootstrap import (
    binned_cumulative_incidence,
    bootstrap_counts,
    contrast_standard_errors,
    event_bins,
    person_index,
    replicate_risks,
    resampled_cumulative_incidence,
)

#: The estimands, in words, as the bundle and the reports label them.
ESTIMANDS: dict[str, dict[str, str]] = {
    "intention_to_treat": {
        "en": "Contact now versus not now (intention to treat): the comparison group is not "
              "contacted at that date and is followed even if contacted later, as the initiative "
              "would (also days later, for an incident before that date).",
        "da": "Kontakt nu mod ikke nu (intention to treat): sammenligningsgruppen er ikke kontaktet "
              "på datoen og følges, også hvis de kontaktes senere, som initiativet ville gøre (også "
              "få dage senere, for en hændelse før datoen).",
    },
    "per_protocol": {
        "en": "Contact now versus no contact (per protocol): comparison follow-up ends at a later "
              "contact, weighted for who is contacted later (inverse-probability-of-censoring "
              "weights).",
        "da": "Kontakt nu mod ingen kontakt (per protokol): sammenligningsgruppen følges indtil en "
              "senere kontakt, vægtet for hvem der kontaktes senere (inverse-probability-of-"
              "censoring-vægte).",
    },
}


def itt_cohort(cohort: pd.DataFrame) -> pd.DataFrame:
    """The cohort with the intention-to-treat end of follow-up (not ended by a later contact)."""
    if "end_date_itt" not in cohort:
        if not (cohort["end_reason"].astype(str) == "contacted").any():
            return cohort  # no follow-up ended at a later contact: both follow-ups are the same
        raise InputError("the cohort has no end_date_itt column (built by an older version): "
                         "run `evaluation cohort build` again", column="end_date_itt")
    return cohort.assign(end_date=cohort["end_date_itt"], end_reason=cohort["end_reason_itt"])


def primary_cohort(cohort: pd.DataFrame, primary: str) -> pd.DataFrame:
    """The cohort with the follow-up of the plan's primary estimand (the "matched" analysis)."""
    return itt_cohort(cohort) if primary == "intention_to_treat" else cohort


# ---------------------------------------------------------------------------------------------
# person-period data and the weight models

@dataclass
class CensoringWeights:
    """Counting-process rows of both arms with stabilised IPCW, and what the weights came from.

    ``rows``: person_id, treated, start, stop, status, base_weight (the ATT weight), ipcw,
    analysis_weight (their product); one row per contacted person and one per period of each
    comparison row. ``distribution``: quantiles of the period weights before and after
    truncation. ``model``: the denominator model's coefficients.
    """

    rows: pd.DataFrame
    distribution: pd.DataFrame
    model: pd.DataFrame
    truncation: tuple[float, float]
    n_censored: int
    _design: dict = field(default_factory=dict, repr=False)


def person_periods(comparison: pd.DataFrame, interval_days: int) -> pd.DataFrame:
    """One row per period of each comparison row: ``row`` (position in ``comparison``),
    ``period`` k, ``start`` = k * interval_days (-1 for k = 0: at risk from day 0), ``stop``,
    ``status`` (the row's status on its last period, else 0) and ``censored`` (1 on the last
    period when follow-up ended by a later contact)."""
    time = comparison["time"].to_numpy(float)
    n_periods = np.maximum(np.ceil(time / interval_days).astype(int), 1)
    row = np.repeat(np.arange(len(comparison)), n_periods)
    k = np.arange(len(row)) - np.repeat(np.cumsum(n_periods) - n_periods, n_periods)
    last = k == n_periods[row] - 1
    stop = np.minimum((k + 1) * interval_days, time[row]).astype(float)
    return pd.DataFrame({
        "row": row, "period": k, "start": np.where(k == 0, -1.0, k * float(interval_days)),
        "stop": stop,
        "status": np.where(last, comparison["status"].to_numpy()[row], 0),
        "censored": (last & comparison["censored_by_contact"].to_numpy()[row]).astype(int),
    })


def _design(periods: pd.DataFrame, covariates: pd.DataFrame, age: np.ndarray,
            interval_days: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Numerator matrix (period terms, one row per period number k = 0, 1, ...: the numerator
    model depends on the period only) and denominator matrix (period terms, age, covariates;
    one row per person-period)."""
    k = np.arange(int(periods["period"].max()) + 1, dtype=float)
    years_k = k * interval_days / 365.25
    num = np.column_stack([np.ones(len(k)), years_k, years_k**2])
    years = periods["period"].to_numpy(float) * interval_days / 365.25
    cov = covariates.to_numpy(float)
    keep = cov.std(axis=0) > 0  # a constant covariate cannot be estimated
    names = ["const", "years_since_index", "years_since_index_sq", "age", *covariates.columns[keep]]
    return num, np.column_stack([np.ones(len(years)), years, years**2, age, cov[:, keep]]), names


@single_threaded_blas
def _logit_newton(x: np.ndarray, events: np.ndarray, trials: np.ndarray | None = None,
                  maxiter: int = 35, tol: float = 1e-8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximum-likelihood logistic regression of ``events`` out of ``trials`` (default 1 per
    row) on ``x``: coefficients, information matrix and fitted probabilities.

    The iteration is that of statsmodels ``Logit.fit(method="newton", maxiter=35)``: start at
    zero, Newton steps on the log-likelihood per observation with 1e-10 added to the Hessian's
    diagonal, stop when no coefficient moves more than ``tol`` or after ``maxiter`` steps. Rows
    that share a design row may be given once with their counts (the same likelihood).
    """
    from scipy.special import expit

    trials = np.ones(len(events)) if trials is None else trials
    nobs = float(trials.sum())
    beta, previous = np.zeros(x.shape[1]), np.full(x.shape[1], np.inf)
    for _ in range(maxiter):
        if not np.any(np.abs(beta - previous) > tol):
            break
        p = expit(x @ beta)
        hess = (x * (trials * p * (1.0 - p))[:, None]).T @ x / nobs
        hess[np.diag_indices_from(hess)] += 1e-10
        previous, beta = beta, beta + np.linalg.solve(hess, x.T @ (events - trials * p) / nobs)
    p = expit(x @ beta)
    return beta, (x * (trials * p * (1.0 - p))[:, None]).T @ x, p


def _logit(y: np.ndarray, x: np.ndarray):
    """Coefficients, information matrix, per-row scores and standard errors of a logistic
    regression of the 0/1 ``y`` on ``x``."""
    beta, info, p = _logit_newton(x, y)
    with np.errstate(invalid="ignore"):  # an inestimable term (collinear) has no standard error
        se = np.sqrt(np.diag(np.linalg.inv(info)))
    return beta, info, (y - p)[:, None] * x, se


def _period_logit(y: np.ndarray, period: np.ndarray, x_period: np.ndarray):
    """:func:`_logit` of ``y`` on the period terms ``x_period[period]``, fitted on the counts per
    period (the same maximum-likelihood estimate)."""
    n = len(x_period)
    beta, info, p = _logit_newton(x_period, np.bincount(period, weights=y, minlength=n).astype(float),
                                  np.bincount(period, minlength=n).astype(float))
    return beta, info, (y - p[period])[:, None] * x_period[period]


def _ratios(keep_num: np.ndarray, eta_den: np.ndarray) -> np.ndarray:
    """P(not contacted | period) / P(not contacted | period, covariates) per period row, from
    the numerator's P(not contacted | period) of each row and the denominator's linear
    predictor: ``keep_num * (1 + exp(eta))``, with P(not contacted | ...) floored at 1e-12."""
    from ._kernels import FLOOR

    with np.errstate(over="ignore"):
        return keep_num * np.minimum(1.0 + np.exp(eta_den), 1.0 / FLOOR)


def _cumulate(ratio: np.ndarray, first: np.ndarray) -> np.ndarray:
    """The weight of each period row: the product of ``ratio`` over the earlier periods of the
    same comparison row times the square root of its own (the weight at the middle of the
    period, where the probability of still being uncontacted has fallen by half of the period's
    factor on the log scale). Comparison row r has the rows ``first[r] <= i < first[r + 1]``, in
    period order; the product runs as :func:`._kernels.ipcw_bin_sums` runs it."""
    weight = np.empty(len(ratio))
    n_periods = np.diff(first)
    prod = np.ones(len(n_periods))
    for k in range(int(n_periods.max(initial=0))):
        rows = np.flatnonzero(n_periods > k)
        i = first[rows] + k
        weight[i] = prod[rows] * np.sqrt(ratio[i])
        prod[rows] *= ratio[i]
    return weight


def _row_starts(row: np.ndarray, n_rows: int) -> np.ndarray:
    """Offsets of each comparison row's first period row (and the end), for rows in row order."""
    return np.r_[0, np.cumsum(np.bincount(row, minlength=n_rows))].astype(np.int64)


def censoring_weights(frame: pd.DataFrame, covariates_at, interval_days: int = 30,
                      truncate: tuple[float, float] = (0.01, 0.99)) -> CensoringWeights:
    """Stabilised IPCW for the per-protocol estimand.

    Parameters
    ----------
    frame : the per-protocol outcome frame (``person_id``, ``treated``, ``time``, ``status``,
        ``analysis_weight``, ``censored_by_contact``, ``index_date``, ``age_at_index``).
    covariates_at : callable(person_id, date) -> DataFrame of time-updated covariates (one
        row per query, integer columns), e.g. the cohort definition's covariates via
        :func:`evaluation.cohort.covariates.compute_covariates`.
    interval_days : length of the periods.
    truncate : lower and upper percentiles (as shares) at which the period weights are cut.
    """
    comp = frame[frame["treated"] == 0].reset_index(drop=True)
    contacted = frame[frame["treated"] == 1].reset_index(drop=True)
    periods = person_periods(comp, interval_days)
    r = periods["row"].to_numpy()
    y = periods["censored"].to_numpy(float)
    n_cens = int(y.sum())
    if n_cens == 0 or n_cens == len(y):  # no later contact: every weight is 1
        ratio = np.ones(len(y))
        model = pd.DataFrame(columns=["term", "estimate", "std_error"])
        design = {}
    else:
        at = pd.to_datetime(comp["index_date"]).to_numpy()[r] + (
            periods["period"].to_numpy() * interval_days).astype("timedelta64[D]")
        cov = covariates_at(comp["person_id"].to_numpy()[r], at).reset_index(drop=True)
        age = comp["age_at_index"].to_numpy(float)[r] + periods["period"].to_numpy() * interval_days / 365.25
        x_period, x_den, names = _design(periods, cov, age, interval_days)
        period = periods["period"].to_numpy()
        b_num, i_num, s_num = _period_logit(y, period, x_period)
        b_den, i_den, s_den, se_den = _logit(y, x_den)
        ratio = _ratios(_keep_num(x_period, b_num)[period], x_den @ b_den)
        model = pd.DataFrame({"term": names, "estimate": b_den, "std_error": se_den})
        design = {"x_period": x_period, "period": period, "x_den": x_den, "b_num": b_num, "b_den": b_den,
                  "i_num": i_num, "i_den": i_den, "s_num": s_num, "s_den": s_den}
    raw = _cumulate(ratio, _row_starts(r, len(comp)))
    lo, hi = np.quantile(raw, truncate)
    ipcw = np.clip(raw, lo, hi)
    qs = [0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0]
    distribution = pd.DataFrame({
        "quantile": qs, "before_truncation": np.quantile(raw, qs), "after_truncation": np.quantile(ipcw, qs)})
    base = comp["analysis_weight"].to_numpy(float)[r]
    rows = pd.concat([
        pd.DataFrame({"person_id": contacted["person_id"].astype(str).to_numpy(), "treated": 1,
                      "start": -1.0, "stop": contacted["time"].to_numpy(float),
                      "status": contacted["status"].to_numpy(int),
                      "base_weight": contacted["analysis_weight"].to_numpy(float), "ipcw": 1.0}),
        pd.DataFrame({"person_id": comp["person_id"].astype(str).to_numpy()[r], "treated": 0,
                      "start": periods["start"].to_numpy(float), "stop": periods["stop"].to_numpy(float),
                      "status": periods["status"].to_numpy(int), "base_weight": base, "ipcw": ipcw}),
    ], ignore_index=True)
    rows["analysis_weight"] = rows["base_weight"] * rows["ipcw"]
    design.update({"row": r, "truncation_bounds": (lo, hi), "n_contacted_rows": len(contacted)})
    return CensoringWeights(rows=rows, distribution=distribution, model=model, truncation=truncate,
                            n_censored=n_cens, _design=design)


# ---------------------------------------------------------------------------------------------
# estimates and bootstrap

def weighted_risks(cw: CensoringWeights, horizons: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per-protocol cumulative incidence per arm (contacted, comparison) at ``horizons``."""
    r = cw.rows
    one = r["analysis_weight"].to_numpy(float)[None, :]
    r1, r0 = replicate_risks(r["stop"].to_numpy(float), r["status"].to_numpy(int), r["treated"].to_numpy(int),
                             one, horizons, entry=r["start"].to_numpy(float))
    return r1[0], r0[0]


def bootstrap_ipcw(cw: CensoringWeights, horizons: tuple[int, ...], replicates: int = 300,
                   seed: int = 0) -> pd.DataFrame:
    """Person-level bootstrap of the per-protocol risk difference and log risk ratio, the weight
    models refitted in each replicate (one Newton step, see the module docstring).

    Periods that start at or after the last horizon are left out of the replicates: a row is at
    risk only after its start, so they cannot change the risks at the horizons (the truncation
    bounds are the full sample's). Returns the rows of :func:`.bootstrap.contrast_standard_errors`.
    """
    rows = cw.rows
    n_c = cw._design["n_contacted_rows"]
    n_persons, person = _persons(rows, n_c, cw._design["row"])
    counts = bootstrap_counts(n_persons, replicates, seed)
    time, status = rows["stop"].to_numpy(float), rows["status"].to_numpy(int)
    entry, base = rows["start"].to_numpy(float), rows["base_weight"].to_numpy(float)

    def arm(m: slice) -> tuple:
        return person[m], base[m], time[m], status[m], horizons, entry[m]

    contacted, comparison = slice(0, n_c), slice(n_c, len(rows))
    r1 = resampled_cumulative_incidence(counts, *arm(contacted))
    r0 = (_ipcw_replicate_risks(cw, counts, *arm(comparison)) if "b_den" in cw._design
          else resampled_cumulative_incidence(counts, *arm(comparison)))
    out = contrast_standard_errors(r1, r0, horizons)
    return out.assign(se_risk_contacted=r1.std(axis=0, ddof=1), se_risk_comparison=r0.std(axis=0, ddof=1))


def _persons(rows: pd.DataFrame, n_contacted: int, row: np.ndarray) -> tuple[int, np.ndarray]:
    """The number of distinct persons of ``rows`` and each row's position among them (sorted
    ids, as ``np.unique``), found on the contacted rows and the first period of each comparison
    row (a comparison row's periods share its person)."""
    ids = rows["person_id"].to_numpy()
    starts = _row_starts(row, int(row.max()) + 1 if len(row) else 0)[:-1]
    n_persons, inverse = person_index(np.r_[ids[:n_contacted], ids[n_contacted + starts]])
    return n_persons, np.r_[inverse[:n_contacted], inverse[n_contacted:][row]]


@single_threaded_blas
def _ipcw_replicate_risks(cw: CensoringWeights, counts: np.ndarray, person: np.ndarray, base: np.ndarray,
                          time: np.ndarray, status: np.ndarray, horizons: tuple[int, ...],
                          entry: np.ndarray) -> np.ndarray:
    """The comparison arm's cumulative incidence at ``horizons`` in each replicate (B, horizons),
    its period rows weighted ``counts[person, b] * base * replicate IPCW``."""
    from ._kernels import ipcw_bin_sums

    d = cw._design
    draws = counts.T
    b_num = _one_step(d["b_num"], d["i_num"], _person_sums(d["s_num"], person, len(counts)), draws)
    b_den = _one_step(d["b_den"], d["i_den"], _person_sums(d["s_den"], person, len(counts)), draws)
    bins = event_bins(time, status, horizons, entry, every_row=True)
    kept = entry < max(horizons)  # each comparison row's first periods, in period order
    n_rows = int(d["row"].max()) + 1
    sums = ipcw_bin_sums(counts, person[_row_starts(d["row"], n_rows)[:-1]], _row_starts(d["row"][kept], n_rows),
                         np.ascontiguousarray(d["x_den"][kept]), d["period"][kept].astype(np.int64),
                         np.ascontiguousarray(b_den.T), np.ascontiguousarray(_keep_num(d["x_period"], b_num)),
                         base[kept], *map(float, d["truncation_bounds"]), bins.enter[kept], bins.leave[kept],
                         bins.event[kept], bins.primary[kept], len(bins.times))
    return binned_cumulative_incidence(*sums, bins.times, horizons)


def _keep_num(x_period: np.ndarray, b_num: np.ndarray) -> np.ndarray:
    """The numerator model's P(not contacted | period) per period number: (periods,) for one
    coefficient vector, (periods, B) for B of them."""
    from scipy.special import expit

    return 1.0 - expit(x_period @ b_num.T)


def _person_sums(scores: np.ndarray, person: np.ndarray, n_persons: int) -> np.ndarray:
    """Per-row scores summed by person: (persons, p)."""
    return np.column_stack([np.bincount(person, weights=scores[:, j], minlength=n_persons)
                            for j in range(scores.shape[1])])


def _one_step(beta: np.ndarray, information: np.ndarray, scores: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """beta + I^-1 * (replicate score at beta), for each row of ``counts`` (b, rows): the
    replicate's score is sum over rows of count * score (the full-sample score is zero).
    ``scores`` may be per row or summed per person (``counts`` then per person)."""
    step = counts @ scores  # (b, p)
    return beta[None, :] + np.linalg.solve(information, step.T).T


def definition_covariates_at(warehouse, definition, persons=None):
    """A ``covariates_at`` callable for :func:`censoring_weights`: the cohort definition's
    covariates as of each (person, date), computed as the cohort build computes them (persons
    keyed by an integer, one DuckDB connection for all calls). Values are kept by (person key,
    day), so outcomes sharing person-periods compute each (person, date) once.

    ``persons``: the person ids that will be asked for (e.g. the cohort's); the rows of the
    covariates' tables for them are keyed once. A person not among them is added when asked,
    at the cost of keying the tables again.
    """
    from ..cohort.covariates import TABLES_BY_KIND, covariates_by_index, keyed_sources
    from ..cohort.warehouse import open_warehouse
    from ..keyed import PersonKeys, days, person_day_key

    names = [c.name for c in definition.covariates]
    keys = PersonKeys()
    if persons is not None:
        keys.encode(np.asarray(persons).astype(str))
    known = {"key": np.zeros(0, "int64"), "values": np.zeros((0, len(names)), "int64"),
             "con": None, "sources": None, "persons": 0}

    def connect(pk: np.ndarray):
        """The warehouse connection, with the covariates' tables keyed by the known persons."""
        if known["con"] is None:
            known["con"] = open_warehouse(warehouse, {t for c in definition.covariates for t in TABLES_BY_KIND[c.kind]})
        con = known["con"]
        if known["sources"] is None or len(keys) > known["persons"]:
            known["persons"] = len(keys)
            every = np.arange(known["persons"])
            con.register("_persons_df", pd.DataFrame({"pidx": every, "person_id": keys.ids(every)}))
            con.execute("CREATE OR REPLACE TEMP TABLE keyed_persons AS "
                        "SELECT pidx, CAST(person_id AS VARCHAR) AS person_id FROM _persons_df")
            con.unregister("_persons_df")
            known["sources"] = keyed_sources(con, definition.covariates, "keyed_persons")
        return con

    def compute(pk: np.ndarray, t: np.ndarray) -> np.ndarray:
        con = connect(pk)
        rows = pd.DataFrame({"row_id": np.arange(len(pk)), "pidx": pk, "t": t})
        values = covariates_by_index(con, rows, definition.covariates, sources=known["sources"])
        return np.column_stack([values[n].astype("int64") for n in names]) if names else np.zeros((len(pk), 0), "int64")

    def lookup(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.searchsorted(known["key"], q)
        found = pos < len(known["key"])
        found[found] = known["key"][pos[found]] == q[found]
        return pos, found

    def covariates_at(person_id: np.ndarray, at: np.ndarray) -> pd.DataFrame:
        pk = keys.encode(np.asarray(person_id).astype(str))
        t = days(pd.Series(pd.to_datetime(at)))
        q = person_day_key(pk, t)
        pos, found = lookup(q)
        if not found.all():
            new, first = np.unique(q[~found], return_index=True)
            values = compute(pk[~found][first], t[~found][first])
            key = np.r_[known["key"], new]
            order = np.argsort(key, kind="stable")
            known["key"], known["values"] = key[order], np.vstack([known["values"], values])[order]
            pos, found = lookup(q)
        return pd.DataFrame(known["values"][pos], columns=names).astype("int64")

    return covariates_at


def per_protocol_frame(cohort: pd.DataFrame, spec, tables, weights: np.ndarray | None = None) -> pd.DataFrame:
    """The per-protocol outcome frame of one outcome, with what :func:`censoring_weights` needs.

    ``cohort``: the cohort (follow-up ended at a later contact); ``weights``: a function of the
    outcome frame giving the ATT analysis weights (default all 1).
    """
    from ..outcomes import derive_outcome

    coh = cohort.assign(cohort_row=np.arange(len(cohort)))
    d = derive_outcome(coh, spec, tables, extra=("cohort_row",)).frame
    c = coh.iloc[d["cohort_row"].to_numpy()]
    t_end = (pd.to_datetime(c["end_date"]) - pd.to_datetime(c["index_date"])).dt.days.to_numpy()
    by_contact = ((c["end_reason"].astype(str).to_numpy() == "contacted") & (d["status"].to_numpy() == 0)
                  & (d["time"].to_numpy() == t_end))
    age = c["age_at_index"].to_numpy(float) if "age_at_index" in c else np.full(len(c), np.nan)
    return d.assign(analysis_weight=np.ones(len(d)) if weights is None else weights(d),
                    index_date=pd.to_datetime(c["index_date"]).to_numpy(),
                    age_at_index=age, censored_by_contact=by_contact)


def per_protocol_estimates(frame: pd.DataFrame, covariates_at, horizons: tuple[int, ...], *,
                           interval_days: int = 30, truncate: tuple[float, float] = (0.01, 0.99),
                           replicates: int = 300, seed: int = 0) -> tuple[pd.DataFrame, CensoringWeights]:
    """IPCW cumulative incidence per arm, risk difference and risk ratio at ``horizons`` (tidy
    rows as the survival engine's, ``analysis`` left to the caller), with bootstrap SEs."""
    from scipy import stats

    from ..survival.nonparametric import Z95

    cw = censoring_weights(frame, covariates_at, interval_days, truncate)
    r1, r0 = weighted_risks(cw, horizons)
    boot = bootstrap_ipcw(cw, horizons, replicates=replicates, seed=seed)
    rows = []
    for j, h in enumerate(horizons):
        b = boot.iloc[j]
        for g, risk, se in ((1, r1[j], b["se_risk_contacted"]), (0, r0[j], b["se_risk_comparison"])):
            rows.append({"model": "cumulative_incidence", "term": "cumulative_incidence", "group": g,
                         "time": float(h), "estimate": risk, "std_error": se,
                         "conf_low": risk - Z95 * se, "conf_high": risk + Z95 * se,
                         "p_value": np.nan, "hazard_ratio": np.nan})
        rd, se = r1[j] - r0[j], float(b["se_rd"])
        rows.append({"model": "risk_difference", "term": "treated", "group": None, "time": float(h),
                     "estimate": rd, "std_error": se, "conf_low": rd - Z95 * se, "conf_high": rd + Z95 * se,
                     "p_value": 2 * stats.norm.sf(abs(rd) / se) if se > 0 else np.nan, "hazard_ratio": np.nan})
        sl = float(b["se_log_rr"])
        ok = r1[j] > 0 and r0[j] > 0 and np.isfinite(sl)
        rr = r1[j] / r0[j] if ok else np.nan
        rows.append({"model": "risk_ratio", "term": "treated", "group": None, "time": float(h),
                     "estimate": rr, "std_error": rr * sl if ok else np.nan,
                     "conf_low": rr * np.exp(-Z95 * sl) if ok else np.nan,
                     "conf_high": rr * np.exp(Z95 * sl) if ok else np.nan,
                     "p_value": 2 * stats.norm.sf(abs(np.log(rr)) / sl) if ok and sl > 0 else np.nan,
                     "hazard_ratio": np.nan})
    return pd.DataFrame(rows), cw


def secondary_estimand(primary: str, cohort: pd.DataFrame, spec, plan, tables, covariates_at, *,
                       weights, seed: int, replicates: int) -> tuple[str, pd.DataFrame, dict]:
    """The estimand that is not the plan's primary one: its name, tidy rows (cumulative
    incidence per arm, risk difference and ratio at the plan's horizons, bootstrap SEs) and a
    diagnostics dict (for the per-protocol estimand: the weights' distribution and model)."""
    from ..outcomes import derive_outcome
    from .bootstrap import apply_bootstrap, bootstrap_contrasts
    from .run import fit_survival

    horizons = tuple(plan.horizons_days)
    if primary == "intention_to_treat":
        frame = per_protocol_frame(cohort, spec, tables, weights)
        rows, cw = per_protocol_estimates(frame, covariates_at, horizons, interval_days=plan.ipcw_interval_days,
                                          truncate=plan.ipcw_truncate, replicates=replicates, seed=seed)
        return "per_protocol", rows, {**weights_diagnostics(cw, plan),
                                      "events": events_by_horizon(frame, horizons)}
    data = derive_outcome(itt_cohort(cohort), spec, tables).frame
    w = None
    if weights is not None:
        data = data.assign(analysis_weight=weights(data))
        w = "analysis_weight"
    tidy = fit_survival(data, plan, cluster=None, strata=None, weights=w)[0].tidy()
    tidy = tidy[tidy["model"].isin(["cumulative_incidence", "risk_difference", "risk_ratio"])]
    boot = bootstrap_contrasts(data, horizons, weights=w, replicates=replicates, seed=seed)
    return "intention_to_treat", apply_bootstrap(tidy, boot), {"events": events_by_horizon(data, horizons)}


def events_by_horizon(frame: pd.DataFrame, horizons: tuple[int, ...]) -> dict[str, dict[str, int]]:
    """Events per arm by each horizon (day -> count) and in all (``"all"``) of an estimand's
    outcome frame: the counts behind its per-arm risks (the report's disclosure checker needs
    them; they are not published)."""
    out = {}
    for g, arm in ((1, "contacted"), (0, "comparison")):
        m = (frame["treated"].to_numpy() == g) & (frame["status"].to_numpy() == 1)
        t = frame["time"].to_numpy(float)[m]
        out[arm] = {**{str(int(h)): int((t <= h).sum()) for h in horizons}, "all": int(m.sum())}
    return out


def weights_diagnostics(cw: CensoringWeights, plan) -> dict:
    """What the bundle shows of the censoring weights (no counts of persons below the plan's
    gates are needed: quantiles of weights and model coefficients only)."""
    return {
        "interval_days": plan.ipcw_interval_days,
        "truncate_percentiles": [100 * plan.ipcw_truncate[0], 100 * plan.ipcw_truncate[1]],
        "periods": int((cw.rows["treated"] == 0).sum()),
        "censored_at_later_contact": cw.n_censored,
        "distribution": cw.distribution.to_dict("records"),
        "model": cw.model.to_dict("records"),
        "bootstrap": "person-level, weight models refitted per replicate (one Newton step)",
    }


def replace_with_per_protocol(tidy: pd.DataFrame, pp_rows: pd.DataFrame) -> pd.DataFrame:
    """When the per-protocol estimand is primary: the matched analysis' cumulative incidence,
    risk difference and risk ratio rows are the IPCW ones."""
    keep = ~tidy["model"].isin(["cumulative_incidence", "risk_difference", "risk_ratio"])
    return pd.concat([tidy[keep], pp_rows], ignore_index=True)


def both_estimands(primary: str, tidy: pd.DataFrame, cohort: pd.DataFrame, spec, plan, tables,
                   covariates_at, *, weights, seed: int, replicates: int):
    """Both estimands of one outcome, for the results bundle.

    ``tidy``: the matched analysis, fitted on the primary estimand's follow-up. Returns
    (matched tidy rows, the other estimand's name, its tidy rows, the ``estimands`` entry of the
    outcome: the primary one's name, both labels and, for the per-protocol one, its weights).
    """
    entry = {"primary": primary, "analysis": {primary: "matched"},
             "labels": {k: ESTIMANDS[k] for k in ESTIMANDS}}
    if primary == "per_protocol":
        frame = per_protocol_frame(cohort, spec, tables, weights)
        pp_rows, cw = per_protocol_estimates(frame, covariates_at, tuple(plan.horizons_days),
                                             interval_days=plan.ipcw_interval_days, truncate=plan.ipcw_truncate,
                                             replicates=replicates, seed=seed)
        tidy = replace_with_per_protocol(tidy, pp_rows)
        entry["per_protocol_weights"] = weights_diagnostics(cw, plan)
    name, rows, diag = secondary_estimand(primary, cohort, spec, plan, tables, covariates_at,
                                          weights=weights, seed=seed, replicates=replicates)
    entry["analysis"][name] = name
    entry["events"] = {name: diag.pop("events")}
    if diag:
        entry["per_protocol_weights"] = diag
    # the one "not estimated" rule, for the ratio rows of both estimands (after their bootstrap SEs)
    return mark_not_estimated(tidy), name, mark_not_estimated(rows), entry
