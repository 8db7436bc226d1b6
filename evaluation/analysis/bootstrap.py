"""Person-level cluster bootstrap of the risk difference and risk ratio between the arms.

Why: in sequential (risk-set) matching one person can be a control in several matched sets, and
a control who is contacted later appears in both arms. The delta-method variance of the
Aalen-Johansen risk difference treats every row as an independent person, so it is too small
when persons are reused. The bootstrap here resamples *persons* (all of a person's rows, in
every set and arm, together) and recomputes the weighted Aalen-Johansen cumulative incidence of
each arm at each horizon; its standard deviation over replicates is the standard error.

What it estimates: the sampling variability of ``F_1(h) - F_0(h)`` (and of ``log(F_1(h)/F_0(h))``)
where ``F_g(h)`` is the cumulative incidence of the event of interest by day ``h`` in arm ``g``,
treating death and emigration (status 2) as competing events and status 0 as censoring, with the
cohort's analysis weights. The point estimates are not changed; confidence intervals are normal
(Wald) intervals with the bootstrap standard error.

How: only the event times up to the last horizon change the cumulative incidence at the
horizons, so each replicate needs, per such time, the weighted size of the risk set and the
weighted events (:class:`EventBins`). With replicate weights ``draws[b, person] * weight`` those
sums are accumulated row by row for all replicates at once by a compiled loop
(:mod:`._kernels`), never as a (replicates x rows) matrix; the Aalen-Johansen recursion then
runs on (bins x replicates) arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..survival.nonparametric import Z95


@dataclass(frozen=True)
class EventBins:
    """The distinct event times (status != 0) of one arm up to the largest horizon, and where
    each row falls among them.

    Only these times change the Aalen-Johansen cumulative incidence at the horizons: at every
    other time the hazards are zero. A row is at risk at ``t`` when ``entry < t <= time``, so it
    is in the risk set of the bins ``enter <= k < leave``; ``event`` is the bin of its event
    (-1 for none or after the last horizon), ``primary`` whether the event is of interest
    (status 1). ``rows`` are the positions of the rows that count (in a risk set or an event);
    the other arrays are given for those rows only.
    """

    times: np.ndarray
    rows: np.ndarray
    enter: np.ndarray
    leave: np.ndarray
    event: np.ndarray
    primary: np.ndarray


def event_bins(time: np.ndarray, status: np.ndarray, horizons: tuple[int, ...],
               entry: np.ndarray | None = None, *, every_row: bool = False) -> EventBins:
    """The :class:`EventBins` of rows ``time``, ``status`` (and ``entry``); with ``every_row``
    the rows that count for nothing are kept too (``rows`` is then every position)."""
    time = np.asarray(time, float)
    status = np.asarray(status)
    is_event = (status != 0) & (time <= max(horizons))
    times = np.unique(time[is_event])
    leave = np.searchsorted(times, time, side="right")
    enter = (np.zeros(len(time), np.int64) if entry is None
             else np.searchsorted(times, np.asarray(entry, float), side="right"))
    event = np.where(is_event, np.searchsorted(times, time, side="left"), -1)
    rows = np.arange(len(time)) if every_row else np.flatnonzero((enter < leave) | is_event)
    return EventBins(times=times, rows=rows, enter=enter[rows].astype(np.int64),
                     leave=leave[rows].astype(np.int64), event=event[rows].astype(np.int64),
                     primary=np.asarray(status[rows] == 1))


def binned_cumulative_incidence(delta: np.ndarray, d1: np.ndarray, dall: np.ndarray,
                                times: np.ndarray, horizons: tuple[int, ...]) -> np.ndarray:
    """Aalen-Johansen cumulative incidence of status 1 at ``horizons`` from binned sums (bins x
    B: risk-set changes ``delta`` with one bin more, events of interest ``d1``, all events
    ``dall``), for each replicate: array (B, len(horizons))."""
    n_rep = delta.shape[1]
    out = np.zeros((n_rep, len(horizons)))
    if len(times) == 0:
        return out
    at_risk = np.cumsum(delta[:-1], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h1 = np.where(at_risk > 0, d1 / at_risk, 0.0)
        hall = np.where(at_risk > 0, dall / at_risk, 0.0)
    surv = np.cumprod(1.0 - hall, axis=0)
    surv_before = np.concatenate([np.ones((1, n_rep)), surv[:-1]], axis=0)
    cif = np.cumsum(surv_before * h1, axis=0)
    for j, h in enumerate(horizons):
        k = np.searchsorted(times, h, side="right") - 1
        if k >= 0:
            out[:, j] = cif[k]
    return out


def cumulative_incidence_matrix(time: np.ndarray, status: np.ndarray, weights: np.ndarray,
                                horizons: tuple[int, ...], entry: np.ndarray | None = None) -> np.ndarray:
    """Weighted Aalen-Johansen cumulative incidence of status 1 at ``horizons``, for many weight
    vectors at once.

    Parameters
    ----------
    time, status : arrays of length n (status 0 censored, 1 event, other competing).
    weights : array (B, n), one row of case weights per replicate.
    horizons : times at which the cumulative incidence is read off.
    entry : optional entry times (a row is at risk on ``entry < t <= time``), for
        counting-process rows such as the periods of time-varying weights.

    Returns
    -------
    array (B, len(horizons))
    """
    from ._kernels import bin_sums

    bins = event_bins(time, status, horizons, entry)
    factor = np.ascontiguousarray(np.asarray(weights, float)[:, bins.rows].T)
    sums = bin_sums(factor, np.arange(len(bins.rows)), np.ones(len(bins.rows)), bins.enter,
                    bins.leave, bins.event, bins.primary, len(bins.times))
    return binned_cumulative_incidence(*sums, bins.times, horizons)


def resampled_cumulative_incidence(counts: np.ndarray, person: np.ndarray, weight: np.ndarray,
                                   time: np.ndarray, status: np.ndarray, horizons: tuple[int, ...],
                                   entry: np.ndarray | None = None) -> np.ndarray:
    """:func:`cumulative_incidence_matrix` for the replicate weights ``counts[person[i], b] *
    weight[i]`` of a person-level bootstrap (``counts``: times each person is drawn in each
    replicate, (persons, B), see :func:`counts_by_person`), without building the (B, n) weight
    matrix."""
    from ._kernels import bin_sums

    person = np.asarray(person, np.int64)
    if len(person) and not 0 <= person.min() <= person.max() < len(counts):
        raise ValueError("a row's person is not among the persons of the draws")
    bins = event_bins(time, status, horizons, entry)
    sums = bin_sums(counts, person[bins.rows], np.asarray(weight, float)[bins.rows],
                    bins.enter, bins.leave, bins.event, bins.primary, len(bins.times))
    return binned_cumulative_incidence(*sums, bins.times, horizons)


def counts_by_person(draws: np.ndarray) -> np.ndarray:
    """The (B, persons) draws of a bootstrap as the (persons, B) float array the compiled loops
    read (each person's counts side by side)."""
    return np.ascontiguousarray(np.asarray(draws).T, dtype=float)


#: Kept draws of :func:`bootstrap_counts`, newest last, and the most bytes they may hold.
_KEPT: list[tuple[tuple[int, int, int], np.ndarray]] = []
_KEPT_BYTES = 1 << 30


def bootstrap_counts(n_persons: int, replicates: int, seed: int) -> np.ndarray:
    """How often each of ``n_persons`` persons is drawn in each of ``replicates`` person-level
    bootstrap replicates, as a read-only (persons, B) float array (:func:`counts_by_person`).

    Each replicate draws ``n_persons`` persons with replacement, each with probability 1/n
    (``default_rng(seed).integers``, counted per person): the counts are multinomial(n, 1/n),
    drawn about 7 times faster than by ``Generator.multinomial``, which draws one binomial per
    person in turn. The draws depend only on the number of persons, the replicates and the seed,
    and the same ones are asked for again and again (every outcome of a plan, both estimands,
    the negative controls and subgroups of the same size): they are kept (up to 1 GiB, newest
    first). The result is the same as drawing anew.
    """
    key = (int(n_persons), int(replicates), int(seed))
    for i, (k, counts) in enumerate(_KEPT):
        if k == key:
            _KEPT.append(_KEPT.pop(i))
            return counts
    rng = np.random.default_rng(seed)
    n, b = int(n_persons), int(replicates)
    drawn = rng.integers(0, max(n, 1), size=(b, n), dtype=np.int64)
    drawn += (np.arange(b, dtype=np.int64) * n)[:, None]  # replicate r counts in [r n, (r + 1) n)
    counts = counts_by_person(np.bincount(drawn.ravel(), minlength=b * n).reshape(b, n))
    counts.setflags(write=False)
    _KEPT.append((key, counts))
    while sum(c.nbytes for _, c in _KEPT) > _KEPT_BYTES and len(_KEPT) > 1:
        _KEPT.pop(0)
    return counts


def person_index(ids) -> tuple[int, np.ndarray]:
    """The number of distinct persons among ``ids`` and each row's position among them, the
    persons sorted by their id as text: ``np.unique(ids.astype(str), return_inverse=True)``,
    found by hashing rather than by sorting every row."""
    ids = ids if isinstance(ids, pd.Series) else pd.Series(np.asarray(ids, dtype=object))
    if pd.api.types.infer_dtype(ids, skipna=False) != "string":
        ids = ids.astype(str)
    codes, distinct = pd.factorize(ids, sort=True)
    return len(distinct), codes.astype(np.int64)


def bootstrap_contrasts(frame: pd.DataFrame, horizons: tuple[int, ...], *, weights: str | None,
                        cluster: str = "person_id", replicates: int = 300,
                        seed: int = 0) -> pd.DataFrame:
    """Bootstrap standard errors of the risk difference and log risk ratio at each horizon.

    ``frame`` has ``time``, ``status``, ``treated`` (1/0), the ``cluster`` column and optionally
    the ``weights`` column. Returns one row per horizon: ``time``, ``se_rd``, ``se_log_rr``,
    ``replicates``.
    """
    n_persons, inverse = person_index(frame[cluster])
    base = (frame[weights].to_numpy(dtype=float) if weights else np.ones(len(frame)))
    time = frame["time"].to_numpy(dtype=float)
    status = frame["status"].to_numpy(dtype=int)
    treated = frame["treated"].to_numpy(dtype=int)
    counts = bootstrap_counts(n_persons, replicates, seed)
    risks = {g: resampled_cumulative_incidence(counts, inverse[treated == g], base[treated == g],
                                               time[treated == g], status[treated == g], horizons)
             for g in (1, 0)}
    return contrast_standard_errors(risks[1], risks[0], horizons)


def replicate_risks(time: np.ndarray, status: np.ndarray, treated: np.ndarray, weights: np.ndarray,
                    horizons: tuple[int, ...], entry: np.ndarray | None = None):
    """Cumulative incidence per arm (contacted, comparison) at ``horizons`` for each row of
    replicate weights ``weights`` (B, n): two arrays (B, len(horizons))."""
    risks = {}
    for g in (1, 0):
        m = treated == g
        risks[g] = cumulative_incidence_matrix(time[m], status[m], weights[:, m], horizons,
                                               None if entry is None else entry[m])
    return risks[1], risks[0]


def contrast_standard_errors(risk1: np.ndarray, risk0: np.ndarray, horizons: tuple[int, ...]) -> pd.DataFrame:
    """Standard deviations over replicates of the risk difference and the log risk ratio."""
    replicates = risk1.shape[0]
    risks = {1: risk1, 0: risk0}
    rd = risks[1] - risks[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_rr = np.log(risks[1]) - np.log(risks[0])
    log_rr[~np.isfinite(log_rr)] = np.nan
    ok_rr = np.isfinite(log_rr).mean(axis=0) >= 0.95  # a ratio undefined in many replicates: no SE
    se_log_rr = np.full(len(horizons), np.nan)
    if replicates > 1 and ok_rr.any():
        se_log_rr[ok_rr] = np.nanstd(log_rr[:, ok_rr], axis=0, ddof=1)
    return pd.DataFrame({
        "time": list(horizons),
        "se_rd": rd.std(axis=0, ddof=1),
        "se_log_rr": np.where(ok_rr, se_log_rr, np.nan),
        "replicates": replicates,
    })


def apply_bootstrap(tidy: pd.DataFrame, boot: pd.DataFrame) -> pd.DataFrame:
    """Replace the standard error, 95% CI and p-value of the ``risk_difference`` and
    ``risk_ratio`` rows of ``tidy`` by the bootstrap ones (Wald; the ratio on the log scale)."""
    tidy = tidy.copy()
    by_time = boot.set_index("time")
    for idx, row in tidy.iterrows():
        if row["model"] not in ("risk_difference", "risk_ratio"):
            continue
        t = row["time"]
        if t not in by_time.index or not np.isfinite(row["estimate"]):
            continue
        est = float(row["estimate"])
        if row["model"] == "risk_difference":
            se = float(by_time.at[t, "se_rd"])
            lo, hi = est - Z95 * se, est + Z95 * se
            p = 2 * stats.norm.sf(abs(est) / se) if se > 0 else np.nan
        else:
            se_log = float(by_time.at[t, "se_log_rr"])
            if not (est > 0 and np.isfinite(se_log)):
                se = lo = hi = p = np.nan
            else:
                se = est * se_log  # delta method, as the engine reports the ratio's SE
                lo, hi = est * np.exp(-Z95 * se_log), est * np.exp(Z95 * se_log)
                p = 2 * stats.norm.sf(abs(np.log(est)) / se_log) if se_log > 0 else np.nan
        tidy.loc[idx, ["std_error", "conf_low", "conf_high", "p_value"]] = [se, lo, hi, p]
    return tidy
