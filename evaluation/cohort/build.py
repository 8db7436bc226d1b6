"""Building the cohort: contacted youths at their index date and a comparison group.

Design ``risk_set_matching`` (default; sequential, or risk-set, matching)
------------------------------------------------------------------------
1. *Index.* A person's index date ``t`` is their first qualifying contact (type, period, see the
   definition). The person is judged at that contact only: if not eligible then (age, residence
   in the area, alive, not emigrated, not in custody, no earlier contact of any type) they are
   excluded and counted by the first failing rule in the attrition table.
2. *Risk sets.* Each eligible contacted person opens one matched set at ``t``. Candidates are the
   persons who are eligible at ``t`` by the same rules and have had no contact of any type on or
   before ``t``, in the same exact stratum (the ``exact`` variables: sex and, when listed, the age
   band at ``t``; the calendar quarter agrees because the set is formed at the exact date).
3. *Incidence-density sampling.* ``candidates_per_contacted`` candidates are drawn at random
   (without replacement, within the set) per contacted person BEFORE any covariate is computed;
   the cost of the covariates then grows with the number of contacted persons, not with the
   size of the register. With ``enrich_window_months`` > 0 a share ``enrich_share`` of them is
   drawn from the candidates charged in that window before ``t`` and the rest from the others
   (a group too small to fill its share passes the rest to the other). Sampling on a covariate
   keeps the propensity model ``P(contacted | covariates)`` valid.
4. *Covariates* are computed as of ``t`` from data strictly before ``t``
   (:mod:`.covariates`).
5. *Propensity score*: logistic regression of being contacted on the covariates (counts as
   indicators of 1, 2, 3, 4+; and age at index), fitted on the contacted and the sampled
   candidates (:func:`logistic_fit`: Newton-Raphson with a small ridge penalty, equal to
   statsmodels ``Logit`` without it).
6. *Matching*: within each set, among the candidates that agree with the contacted person on
   the ``exact_covariates`` (optionally coarsened, ``name:cap``) and lie within a caliper of
   ``caliper`` times the SD of the logit of the propensity score (over all rows of the fit),
   the ``ratio`` nearest: by Mahalanobis distance on the covariates, age at index and the logit
   (``distance = "mahalanobis"``; Mahalanobis matching within propensity calipers, Rosenbaum and
   Rubin 1985) or on the logit alone; without replacement within a set, so a set has 1 to
   ``ratio`` controls. The shipped definition is exact only on coarse, binary drivers of contact
   (a charge in the last month, group co-offending in the last 12 months, group registration,
   education or job, custody history, any charge in 36 months) and leaves the
   charge counts and age to the distance: exact agreement on counts or age bands leaves most of
   the contacted without a match, mostly those with the longest records, which changes whom the
   estimate is about. Contacted persons who co-offended with a group member remain the hardest
   to match (nearly everyone in that situation is contacted). A person may be a control in
   several sets at different dates (correct for sequential matching: at each date they are a
   valid "not yet contacted" comparison), and a control contacted later is censored at that
   contact and may enter the contacted arm then. A contacted person with no candidate within the
   caliper is excluded (attrition).
7. *Weights*: 1 for a contacted person, ``1 / (number of controls in the set)`` for a control,
   so every set weighs the same in each arm (the ATT among matched contacted persons).

Design ``iptw``
---------------
The contacted at their index date (same eligibility), and every person with no contact up to a
date drawn uniformly at random among the dates at which period and age allow eligibility (and
before their first contact, death and emigration), kept if resident and not in custody then.
Covariates as of that date; propensity score as above; ATT weights: 1 for the contacted,
``ps / (1 - ps)`` for the comparison. Each row is its own ``set_id``.

End of follow-up (both designs): the first of death, emigration, end of data, for the
comparison arm the first contact of any type after ``t`` (``contacted``) and, when configured,
moving out of the area (``moved_out_of_area``). On a tie the order is death, emigration,
contacted, moved out, end of data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..blas import single_threaded_blas
from ..errors import ConfigError, InputError
from ..progress import info, step
from ..timeunits import months_to_days
from .covariates import TABLES_BY_KIND, _quote, covariates_by_index
from .definition import CohortDefinition
from .warehouse import EPOCH, NEVER, from_days, latest_date, open_warehouse, to_days


@dataclass
class CohortResult:
    """Everything ``cohort build`` writes (see :func:`write_cohort`)."""

    cohort: pd.DataFrame
    attrition: pd.DataFrame
    balance: pd.DataFrame
    propensity: pd.DataFrame
    meta: dict
    #: Every eligible contacted person (matched or not): person_id, index_date, end_date,
    #: end_reason, matched, sex, age_at_index and the covariates at the index date.
    eligible: pd.DataFrame | None = None


# ----------------------------------------------------------------------------------------------
# the pool: everyone who could be in either arm, as numpy arrays


@dataclass
class _Pool:
    person_id: np.ndarray          # str
    sex: np.ndarray                # str
    birth: np.ndarray              # days
    birthdays: np.ndarray          # (n, n_bands + 1): days of the birthdays at band limits
    death: np.ndarray
    emigration: np.ndarray
    first_any: np.ndarray          # first contact of any type (days; NEVER if none)
    q_t: np.ndarray                # first qualifying contact (days; NEVER if none)
    q_type: np.ndarray
    q_ref: np.ndarray
    res_p: np.ndarray              # area residence spells: pool index, from, to_date + 1
    res_from: np.ndarray
    res_to: np.ndarray
    cus_p: np.ndarray              # custody spells: pool index, start, end (inclusive)
    cus_from: np.ndarray
    cus_to: np.ndarray
    ch_p: np.ndarray               # charges of pool persons, sorted by charge date
    ch_day: np.ndarray

    @property
    def n(self) -> int:
        return len(self.person_id)


def _days(col: str) -> str:
    return f"(CAST({col} AS DATE) - DATE '{EPOCH}')"


def _load_pool(con, d: CohortDefinition, start: dt.date, end: dt.date, data_end: dt.date) -> _Pool:
    """Persons who can be eligible at some date of the period, plus every qualifying contact."""
    area = _quote(d.area)
    types = ", ".join(f"'{t}'" for t in d.contact_types)
    rank = " ".join(f"WHEN '{t}' THEN {i}" for i, t in enumerate(d.contact_types))
    limits = [lo for lo, _ in d.age_bands] + [d.age_max + 1]
    bday_cols = ", ".join(
        f"(CAST(p.birth_date AS DATE) + INTERVAL ({a}) YEAR)::DATE - DATE '{EPOCH}' AS b{i}"
        for i, a in enumerate(limits))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE first_any AS
        SELECT CAST(person_id AS VARCHAR) AS person_id, min({_days('contact_date')}) AS first_any
        FROM contacts WHERE CAST(contact_date AS DATE) <= DATE '{data_end}' GROUP BY 1""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE firstq AS
        SELECT person_id, q_t, q_type, q_ref FROM (
          SELECT CAST(person_id AS VARCHAR) AS person_id, {_days('contact_date')} AS q_t,
                 CAST(contact_type AS VARCHAR) AS q_type, CAST(referred_to AS VARCHAR) AS q_ref,
                 row_number() OVER (PARTITION BY person_id ORDER BY contact_date,
                   CASE CAST(contact_type AS VARCHAR) {rank} END, CAST(referred_to AS VARCHAR)) AS k
          FROM contacts
          WHERE CAST(contact_type AS VARCHAR) IN ({types})
            AND CAST(contact_date AS DATE) BETWEEN DATE '{start}' AND DATE '{end}')
        WHERE k = 1""")
    # area residence spells overlapping the period; the age filter keeps only persons who can be
    # age-eligible at some date of the period
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE area_res AS
        SELECT CAST(person_id AS VARCHAR) AS person_id, {_days('from_date')} AS f,
               coalesce({_days('to_date')} + 1, {int(NEVER)}) AS t
        FROM residence
        WHERE CAST(municipality_code AS VARCHAR) IN ({area})
          AND CAST(from_date AS DATE) <= DATE '{end}'
          AND (to_date IS NULL OR CAST(to_date AS DATE) >= DATE '{start}')""")
    lo_birth = f"DATE '{start}' - INTERVAL ({d.age_max + 1}) YEAR"
    hi_birth = f"DATE '{end}' - INTERVAL ({d.age_min}) YEAR"
    age_filter = f"CAST(p.birth_date AS DATE) > {lo_birth} AND CAST(p.birth_date AS DATE) <= {hi_birth}"
    res_filter = "p.person_id IN (SELECT person_id FROM area_res)" if d.resident_in_area else "TRUE"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE pool AS
        WITH p AS (SELECT CAST(person_id AS VARCHAR) AS person_id, birth_date,
                          CAST(sex AS VARCHAR) AS sex FROM persons),
        v AS (SELECT CAST(person_id AS VARCHAR) AS person_id,
                     min({_days('death_date')}) AS death, min({_days('emigration_date')}) AS emig
              FROM vital GROUP BY 1)
        SELECT row_number() OVER (ORDER BY p.person_id) - 1 AS pidx, p.person_id, p.sex,
               {_days('p.birth_date')} AS birth, {bday_cols},
               coalesce(v.death, {int(NEVER)}) AS death, coalesce(v.emig, {int(NEVER)}) AS emig,
               coalesce(a.first_any, {int(NEVER)}) AS first_any,
               coalesce(q.q_t, {int(NEVER)}) AS q_t, q.q_type, q.q_ref
        FROM p LEFT JOIN v USING (person_id) LEFT JOIN first_any a USING (person_id)
             LEFT JOIN firstq q USING (person_id)
        WHERE ({age_filter} AND {res_filter}) OR q.q_t IS NOT NULL""")
    missing = con.execute("SELECT count(*) FROM firstq WHERE person_id NOT IN "
                          "(SELECT person_id FROM pool)").fetchone()[0]
    if missing:
        raise InputError(f"{missing} persons in contacts are not in the persons table",
                         file="contacts.parquet", column="person_id")
    df = con.execute("SELECT * FROM pool ORDER BY pidx").df()
    res = con.execute("""SELECT pool.pidx, f, t FROM area_res JOIN pool USING (person_id)
                         ORDER BY pidx, f""").df()
    cus = con.execute(f"""
        SELECT pool.pidx, {_days('start_date')} AS f, coalesce({_days('end_date')}, {int(NEVER)}) AS t
        FROM custody JOIN pool ON CAST(custody.person_id AS VARCHAR) = pool.person_id""").df()
    if d.enrich_window_months:
        ch = con.execute(f"""
            SELECT pool.pidx, {_days('charge_date')} AS day
            FROM charges JOIN pool ON CAST(charges.person_id AS VARCHAR) = pool.person_id
            WHERE CAST(charge_date AS DATE) < DATE '{end}'
              AND CAST(charge_date AS DATE) >= DATE '{start}' - {months_to_days(max(d.enrich_window_months))}
            ORDER BY day, pidx""").df()
    else:
        ch = pd.DataFrame({"pidx": np.zeros(0, "int64"), "day": np.zeros(0, "int64")})
    nb = len(limits)
    return _Pool(
        person_id=df["person_id"].to_numpy(dtype=object), sex=df["sex"].to_numpy(dtype=object),
        birth=df["birth"].to_numpy("int64"),
        birthdays=np.column_stack([df[f"b{i}"].to_numpy("int64") for i in range(nb)]),
        death=df["death"].to_numpy("int64"), emigration=df["emig"].to_numpy("int64"),
        first_any=df["first_any"].to_numpy("int64"), q_t=df["q_t"].to_numpy("int64"),
        q_type=df["q_type"].to_numpy(dtype=object), q_ref=df["q_ref"].to_numpy(dtype=object),
        res_p=res["pidx"].to_numpy("int64"), res_from=res["f"].to_numpy("int64"),
        res_to=res["t"].to_numpy("int64"),
        cus_p=cus["pidx"].to_numpy("int64"), cus_from=cus["f"].to_numpy("int64"),
        cus_to=cus["t"].to_numpy("int64"),
        ch_p=ch["pidx"].to_numpy("int64"), ch_day=ch["day"].to_numpy("int64"),
    )


# ----------------------------------------------------------------------------------------------
# eligibility rules: one definition, evaluated for the whole pool at one date or for pairs

#: Eligibility rules in the order they are checked (attrition counts the first that fails).
RULES = (
    ("prior_contact", "contacted (any contact type) before the index date"),
    ("age", "age outside the eligible range at the index date"),
    ("resident", "not resident in the study area at the index date"),
    ("alive", "died on or before the index date"),
    ("emigrated", "emigrated on or before the index date"),
    ("custody", "in custody at the index date"),
)


def _rules_at(pool: _Pool, d: CohortDefinition, t: int) -> dict[str, np.ndarray]:
    """Pass (True) / fail of every rule for every pool person at date ``t`` (days)."""
    n = pool.n
    resident = np.zeros(n, bool)
    on = (pool.res_from <= t) & (t < pool.res_to)
    resident[pool.res_p[on]] = True
    custody = np.zeros(n, bool)
    on = (pool.cus_from <= t) & (t <= pool.cus_to)
    custody[pool.cus_p[on]] = True
    ones = np.ones(n, bool)
    return {
        "prior_contact": pool.first_any >= t if d.no_prior_contact else ones,
        "age": (pool.birthdays[:, 0] <= t) & (t < pool.birthdays[:, -1]),
        "resident": resident if d.resident_in_area else ones,
        "alive": pool.death > t if d.alive else ones,
        "emigrated": pool.emigration > t if d.not_emigrated else ones,
        "custody": ~custody if d.not_in_custody else ones,
    }


def _rules_pairs(pool: _Pool, d: CohortDefinition, p: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """As :func:`_rules_at`, for pairs (pool index ``p[i]``, date ``t[i]``)."""
    def covered(sp, sf, st, inclusive_end: bool) -> np.ndarray:
        pairs = pd.DataFrame({"i": np.arange(len(p)), "p": p, "t": t})
        spells = pd.DataFrame({"p": sp, "f": sf, "e": st})
        m = pairs.merge(spells, on="p", how="inner")
        ok = (m["f"] <= m["t"]) & ((m["t"] <= m["e"]) if inclusive_end else (m["t"] < m["e"]))
        out = np.zeros(len(p), bool)
        out[m.loc[ok, "i"].to_numpy()] = True
        return out

    ones = np.ones(len(p), bool)
    return {
        "prior_contact": pool.first_any[p] >= t if d.no_prior_contact else ones,
        "age": (pool.birthdays[p, 0] <= t) & (t < pool.birthdays[p, -1]),
        "resident": covered(pool.res_p, pool.res_from, pool.res_to, False) if d.resident_in_area else ones,
        "alive": pool.death[p] > t if d.alive else ones,
        "emigrated": pool.emigration[p] > t if d.not_emigrated else ones,
        "custody": ~covered(pool.cus_p, pool.cus_from, pool.cus_to, True) if d.not_in_custody else ones,
    }


def _band(pool: _Pool, p: np.ndarray, t: np.ndarray | int) -> np.ndarray:
    """Index of the age band at ``t`` (0-based; only meaningful when age-eligible)."""
    b = pool.birthdays[p, 1:-1] if pool.birthdays.shape[1] > 2 else np.zeros((len(p), 0), "int64")
    t = np.asarray(t)
    return (b <= (t[:, None] if t.ndim else t)).sum(axis=1)


# ----------------------------------------------------------------------------------------------
# risk sets: candidates at every index date by one sweep over the dates, sampled per set


class _CandidateSweep:
    """Who is a comparison candidate (every rule passes and no contact on or before ``t``) at
    increasing dates ``t``, kept up to date by the events between one date and the next.

    A person is a candidate while inside ``[age_min birthday, min(age_max + 1 birthday,
    death, emigration, first contact))`` (the rules that are on), inside an area residence
    spell and outside every custody spell; counters of open spells per person change only at
    the spell ends, so the cost over all dates is the number of spells. The flags are held in
    the order ``order`` (a permutation of the pool; default the pool order), so that a block of
    that order (one exact stratum, :func:`_risk_set_samples`) is one contiguous slice of
    :attr:`active`.
    """

    def __init__(self, pool: _Pool, d: CohortDefinition, order: np.ndarray | None = None) -> None:
        hi = pool.birthdays[:, -1].copy()
        for on, day in ((d.alive, pool.death), (d.not_emigrated, pool.emigration), (True, pool.first_any)):
            if on:
                hi = np.minimum(hi, day)
        # (persons, from, to exclusive, must be open): open spells are counted per person
        kinds = [(np.arange(pool.n), pool.birthdays[:, 0], hi, True)]
        if d.resident_in_area:
            kinds.append((pool.res_p, pool.res_from, pool.res_to, True))
        if d.not_in_custody:
            kinds.append((pool.cus_p, pool.cus_from, pool.cus_to + 1, False))
        self.counts = np.zeros((len(kinds), pool.n), "int32")
        self.open = np.array([k[3] for k in kinds])[:, None]
        day, kind, person, delta = [], [], [], []
        for k, (p, lo, hi_, _) in enumerate(kinds):
            keep = lo < hi_
            p, lo, hi_ = p[keep], lo[keep], hi_[keep]
            day += [lo, hi_]
            kind.append(np.full(2 * len(p), k, "int8"))
            person += [p, p]
            delta += [np.ones(len(p), "int8"), -np.ones(len(p), "int8")]
        by_day = np.argsort(np.concatenate(day), kind="stable")
        self.day = np.concatenate(day)[by_day]
        self.kind = np.concatenate(kind)[by_day]
        self.p = np.concatenate(person)[by_day]
        self.delta = np.concatenate(delta)[by_day]
        self.done = 0
        self.order = np.arange(pool.n) if order is None else order
        self.pos = np.empty(pool.n, "int64")
        self.pos[self.order] = np.arange(pool.n)
        #: candidate flag by position in :attr:`order`
        self.active = np.zeros(pool.n, bool)

    def advance(self, t: int) -> None:
        """Bring :attr:`active` to date ``t`` (dates must not decrease)."""
        upto = int(np.searchsorted(self.day, t, side="right"))
        sl = slice(self.done, upto)
        np.add.at(self.counts, (self.kind[sl], self.p[sl]), self.delta[sl])
        touched = np.unique(self.p[sl])
        c = self.counts[:, touched]
        self.active[self.pos[touched]] = np.all(np.where(self.open, c > 0, c == 0), axis=0)
        self.done = upto

    def candidates(self, t: int) -> np.ndarray:
        """Pool indices (ascending) of the candidates at ``t`` (dates must not decrease)."""
        self.advance(t)
        return np.sort(self.order[np.flatnonzero(self.active)])


def _draw_keys(rng: np.random.Generator, rows: int, n: int, m: int) -> np.ndarray:
    """``m`` of ``n`` without replacement for each of ``rows`` sets: the ``m`` smallest of ``n``
    uniform keys per set (cost ``rows * n``; used when ``n`` is at most four times ``m``)."""
    keys = rng.random((rows, n))
    return np.argpartition(keys, m - 1, axis=1)[:, :m]


def draw_without_replacement(rng: np.random.Generator, rows: int, n: int, m: int) -> np.ndarray:
    """``rows`` independent simple random samples of ``m`` of ``0..n-1`` (rows x m).

    Every ``m``-subset is equally likely in each row. For ``n > 4 m`` the ``m`` values are drawn
    with replacement and the repeated ones drawn again until a row has no repeat (the procedure
    treats all values alike, so each subset is equally likely); the cost is ``rows * m``, not
    ``rows * n``, which keeps the risk-set step linear in the register size.
    """
    if m >= n:
        return np.tile(np.arange(n), (rows, 1))
    if n <= 4 * m:
        return _draw_keys(rng, rows, n, m)
    out = np.sort(rng.integers(0, n, (rows, m)), axis=1)
    while True:
        dup = np.zeros(out.shape, bool)
        dup[:, 1:] = out[:, 1:] == out[:, :-1]
        k = int(dup.sum())
        if k == 0:
            return out
        out[dup] = rng.integers(0, n, k)
        out.sort(axis=1)


def _risk_set_samples(pool: _Pool, d: CohortDefinition, cases: np.ndarray, case_t: np.ndarray,
                      ok: np.ndarray, rng: np.random.Generator):
    """Incidence-density sample of candidates for every eligible case (``ok``, a mask).

    Returns the sampled rows as arrays (case position, pool index, sampling weight) and the
    number of eligible (candidate, set) pairs in the exact strata. Draws are made date by date,
    stratum by stratum (ascending), tier by tier; within a tier the candidates are numbered in
    ascending pool order. The sweep holds the candidates ordered by the exact variables that do
    not change with the date (sex), so a stratum's candidates are one slice of its flags; the
    enrichment tiers (charged recently) are flags of the same order (:class:`_RecentCharges`).
    """
    strata_keys = _StrataKeys(pool, d)
    static = strata_keys.static
    order = np.argsort(static, kind="stable")
    sweep = _CandidateSweep(pool, d, order)
    sorted_static = static[order]
    dates, starts = np.unique(case_t, return_index=True)
    bounds = list(starts) + [len(cases)]
    shares = list(d.enrich_share) + [1.0 - sum(d.enrich_share)]
    rest = len(shares) - 1
    charged = _RecentCharges(pool, d, sweep.pos)
    case_parts, pidx_parts, weight_parts = [], [], []
    n_pairs = 0
    report_every = max(1, len(dates) // 10)
    for j, t in enumerate(dates):
        t = int(t)
        ok_cases = np.flatnonzero(ok[bounds[j]:bounds[j + 1]]) + bounds[j]
        if len(ok_cases) == 0:
            continue
        sweep.advance(t)
        charged.advance(t)
        cs = strata_keys(cases[ok_cases], t)
        for s in np.unique(cs):
            which = ok_cases[cs == s]
            key = strata_keys.static_of(s)
            lo, hi = np.searchsorted(sorted_static, key, "left"), np.searchsorted(sorted_static, key, "right")
            active = sweep.active[lo:hi]
            live = np.flatnonzero(active & charged.recent[lo:hi]) + lo  # positions, ascending
            others = np.flatnonzero(active & ~charged.recent[lo:hi]) + lo
            if strata_keys.dynamic:
                live = live[strata_keys(order[live], t) == s]
                others = others[strata_keys(order[others], t) == s]
            live_tier = charged.tier[live]
            parts = [live[live_tier == i] for i in range(rest)] + [others]
            want = _allocate(d.candidates_per_contacted, shares, [len(x) for x in parts])
            for members, m in zip(parts, want):
                n_pairs += len(members) * len(which)
                m = min(m, len(members))
                if m == 0:
                    continue
                pick = members[draw_without_replacement(rng, len(which), len(members), m).ravel()]
                case_parts.append(np.repeat(which, m))
                pidx_parts.append(order[pick])
                weight_parts.append(np.full(len(pick), len(members) / m))
        if (j + 1) % report_every == 0:
            info(f"  {j + 1}/{len(dates)} index dates")
    def joined(parts, dtype):
        return np.concatenate(parts) if parts else np.zeros(0, dtype)
    return (joined(case_parts, "int64"), joined(pidx_parts, "int64"),
            joined(weight_parts, float)), n_pairs


class _RecentCharges:
    """The enrichment tier of every pool person at increasing dates ``t``: 0 if charged within
    the first window before ``t`` (``t - w <= charge date < t``), 1 if within the second and
    not the first, ..., ``rest`` (the number of windows) if in none; held by position in the
    sweep's order (``pos``), kept up to date by the charges that enter and leave each window.
    """

    def __init__(self, pool: _Pool, d: CohortDefinition, pos: np.ndarray) -> None:
        self.day = pool.ch_day
        self.who = pos[pool.ch_p]
        self.windows = [months_to_days(m) for m in d.enrich_window_months]
        self.rest = len(self.windows)
        self.counts = np.zeros((self.rest, pool.n), "int32")
        self.edges = np.zeros((self.rest, 2), "int64")  # charges [a, b) inside each window
        self.tier = np.full(pool.n, self.rest, "int8")
        self.recent = np.zeros(pool.n, bool)  # tier < rest

    def advance(self, t: int) -> None:
        touched = []
        for i, w in enumerate(self.windows):
            a, b = self.edges[i]
            a2, b2 = np.searchsorted(self.day, [t - w, t])
            np.add.at(self.counts[i], self.who[b:b2], 1)
            np.add.at(self.counts[i], self.who[a:a2], -1)
            touched += [self.who[b:b2], self.who[a:a2]]
            self.edges[i] = a2, b2
        if not touched:
            return
        touched = np.unique(np.concatenate(touched))
        tier = np.full(len(touched), self.rest, "int8")
        for i in reversed(range(self.rest)):
            tier[self.counts[i, touched] > 0] = i
        self.tier[touched] = tier
        self.recent[touched] = tier < self.rest


# ----------------------------------------------------------------------------------------------


def build_cohort(warehouse: str | Path, definition: CohortDefinition, *,
                 data_end: dt.date | None = None, seed: int = 20261125) -> CohortResult:
    """Build the cohort described by ``definition`` from the warehouse.

    Parameters
    ----------
    warehouse
        Folder with ``<source>.parquet`` tables and ``persons.parquet``.
    definition
        A checked definition (:func:`~evaluation.cohort.definition.load_definition`).
    data_end
        End of data; data after it are ignored. Default: the latest event date in the data.
    seed
        Seed of the random sampling (candidates, IPTW dates). Same inputs and seed, same cohort.

    Returns
    -------
    CohortResult
        The cohort (one row per person per arm per set), attrition, balance, propensity scores
        and the metadata for ``cohort.json``. The module docstring states the design.
    """
    d = definition
    tables = {"persons", "contacts", "residence", "vital", "custody"}
    if d.enrich_window_months:
        tables.add("charges")
    for cov in d.covariates:
        tables.update(TABLES_BY_KIND[cov.kind])
    con = open_warehouse(warehouse, tables, as_of=data_end)
    if data_end is None:
        data_end = latest_date(con, tables)
        info(f"end of data (latest date in the data): {data_end}")
    end = min(d.end or data_end, data_end)
    if end < d.start:
        raise ConfigError(f"the period {d.start}..{end} is empty (end of data {data_end})",
                          file=str(d.path), key="index.start")
    rng = np.random.default_rng(seed)
    de = to_days(data_end)

    with step("reading the population at risk"):
        pool = _load_pool(con, d, d.start, end, data_end)
    info(f"  {pool.n} persons can be eligible in the period; "
         f"{int((pool.q_t < NEVER).sum())} have a qualifying contact")

    # --- contacted arm: first qualifying contact, eligibility at it ---------------------------
    cases = np.flatnonzero(pool.q_t < NEVER)
    cases = cases[np.lexsort((pool.person_id[cases].astype(str), pool.q_t[cases]))]
    case_t = pool.q_t[cases]
    att_contacted: list[tuple[str, str, int]] = []
    n_cases_total = len(cases)
    fail = np.full(len(cases), -1)
    no_follow_up = case_t >= de

    design = d.design
    with step("eligibility of the contacted at their index date"):
        rules = _rules_pairs(pool, d, cases, case_t)
        for k, (name, _) in enumerate(RULES):
            fail[(~rules[name]) & (fail < 0)] = k
    samples = (np.zeros(0, "int64"), np.zeros(0, "int64"), np.zeros(0))
    n_eligible_pairs = 0
    if design == "risk_set_matching":
        with step(f"risk sets at {len(np.unique(case_t))} index dates"):
            samples, n_eligible_pairs = _risk_set_samples(
                pool, d, cases, case_t, (fail < 0) & ~no_follow_up, rng)

    # attrition, contacted arm
    remaining = n_cases_total
    att_contacted.append(("first qualifying contact in the period", "qualifying_contact", remaining))
    for k, (name, text) in enumerate(RULES):
        n_bad = int((fail == k).sum())
        remaining -= n_bad
        att_contacted.append((text, name, -n_bad))
    bad_fu = int((no_follow_up & (fail < 0)).sum())
    att_contacted.append(("index date on the end of data (no follow-up)", "no_follow_up", -bad_fu))
    eligible = (fail < 0) & ~no_follow_up
    ok = np.flatnonzero(eligible)
    info(f"  {len(ok)} of {n_cases_total} contacted persons eligible at their first qualifying contact")

    if len(ok) == 0:
        raise InputError(f"no contacted person can enter the cohort: {n_cases_total} persons have a "
                         f"qualifying contact from {d.start} to {end}, none is eligible at it",
                         file=str(Path(warehouse) / "contacts.parquet"))
    set_of_case = np.full(len(cases), -1)
    set_of_case[ok] = np.arange(len(ok))
    if design == "risk_set_matching":
        s_case, s_pidx, s_weight = samples
        del samples
        comparison = {"set_id": set_of_case[s_case], "pidx": s_pidx, "t": case_t[s_case],
                      "sampling_weight": s_weight}
    else:
        iptw = _iptw_rows(pool, d, rng, end, data_end)
        comparison = {c: iptw[c].to_numpy() for c in ("set_id", "pidx", "t", "sampling_weight")}
        n_eligible_pairs = len(iptw)
        del iptw
    n_candidates = len(comparison["pidx"])
    rows = _person_dates(cases[ok], case_t[ok], comparison)
    del comparison

    with step(f"covariates for {len(rows)} person-dates"):
        cov = _covariates(con, rows, d)
    con.close()  # DuckDB's memory is given back before the numpy steps
    for c in d.covariate_names:
        rows[c] = cov[c]
    t = rows["t"].to_numpy()
    p = rows["pidx"].to_numpy()
    rows["age_at_index"] = (t - pool.birth[p]) / 365.25
    rows["male"] = (pool.sex == "M")[p].astype("int8")

    with step("propensity score"):
        ps_cols = list(d.propensity_covariates) + (["age_at_index"] if d.propensity_age else [])
        logit = _propensity(rows, ps_cols)
    rows["logit"] = logit
    rows["propensity_score"] = 1.0 / (1.0 + np.exp(-logit))
    sd_logit = float(np.std(logit, ddof=1)) if len(rows) > 1 else 0.0
    caliper_abs = d.caliper * sd_logit

    if design == "risk_set_matching":
        with step("matching"):
            metric = list(d.covariate_names) + ["age_at_index"] if d.distance == "mahalanobis" else None
            matched, att_comp, n_no_match = _match(rows, d.ratio, caliper_abs, n_eligible_pairs,
                                                   seed, metric, d.exact_covariates, pool.person_id)
        att_contacted.append(("no comparison candidate within the caliper", "no_match", -n_no_match))
        if n_no_match == len(ok):
            info(f"warning: none of the {len(ok)} eligible contacted persons has a comparison "
                 f"candidate that meets the matching rules ({d.path}, [matching]): the cohort has "
                 "no matched set, and every analysis of it will say that it cannot yet answer")
    else:
        matched = rows.copy()
        ps = matched["propensity_score"].to_numpy()
        matched["weight"] = np.where(matched["treated"] == 1, 1.0, ps / (1.0 - ps))
        matched["set_id"] = np.arange(len(matched))
        att_comp = [("persons with an eligible random date, not contacted by then",
                     "eligible_date", n_candidates)]

    matched = _describe(matched, pool, d)
    with step("end of follow-up"):
        end_date, end_reason = _follow_up(pool, d, matched, de)
        # follow-up of the intention-to-treat estimand: not ended by a later contact
        end_itt, reason_itt = _follow_up(pool, dataclasses.replace(d, censor_contacted=False), matched, de)
    matched = matched.assign(end_date=end_date, end_reason=end_reason, end_date_itt=end_itt,
                             end_reason_itt=reason_itt)
    matched["arm"] = np.where(matched["treated"] == 1, "contacted", "comparison")
    mp = matched["pidx"].to_numpy()
    is_t = matched["treated"].to_numpy() == 1
    matched["contact_type"] = np.where(is_t, pool.q_type[mp], None)
    matched["referred_to"] = np.where(is_t, pool.q_ref[mp], None)

    cov_names = list(d.covariate_names)
    cohort = pd.DataFrame({
        "person_id": matched["person_id"].astype(str).to_numpy(),
        "set_id": matched["set_id"].astype("int64").to_numpy(),
        "arm": matched["arm"].to_numpy(),
        "treated": matched["treated"].astype("int64").to_numpy(),
        "index_date": matched["t_date"].dt.date.to_numpy(),
        "weight": matched["weight"].astype(float).to_numpy(),
        "sex": matched["sex"].to_numpy(),
        "age_at_index": matched["age_at_index"].astype(float).to_numpy(),
        "age_band": matched["age_band"].to_numpy(),
        "index_quarter": matched["index_quarter"].to_numpy(),
        **{c: matched[c].astype("int64").to_numpy() for c in cov_names},
        "propensity_score": matched["propensity_score"].to_numpy(),
        "contact_type": matched["contact_type"].to_numpy(),
        "referred_to": matched["referred_to"].to_numpy(),
        "end_date": [from_days(x) for x in matched["end_date"].to_numpy()],
        "end_reason": matched["end_reason"].to_numpy(),
        "end_date_itt": [from_days(x) for x in matched["end_date_itt"].to_numpy()],
        "end_reason_itt": matched["end_reason_itt"].to_numpy(),
    }).sort_values(["set_id", "treated", "person_id"], ascending=[True, False, True],
                   ignore_index=True)

    attrition = _attrition_table(att_contacted, att_comp)
    balance = _balance(rows, matched, cov_names + ["age_at_index"], d)
    propensity = pd.DataFrame({
        "arm": np.where(rows["treated"] == 1, "contacted", "comparison"),
        "matched": rows["row_id"].isin(matched["row_id"]).to_numpy(),
        "propensity_score": rows["propensity_score"].to_numpy(),
        "set_id": rows["set_id"].astype("int64").to_numpy(),
    })
    n_contacted = int((cohort["treated"] == 1).sum())
    n_comp = int((cohort["treated"] == 0).sum())
    meta = {
        "design": design,
        "definition": d.path.name,
        "definition_sha256": d.sha256,
        "data_end": data_end.isoformat(),
        "period": {"start": d.start.isoformat(), "end": end.isoformat()},
        "initiative_start": d.start.isoformat(),
        "seed": seed,
        "ratio": d.ratio,
        "caliper": d.caliper,
        "caliper_logit": caliper_abs,
        "candidates_per_contacted": d.candidates_per_contacted,
        "counts": {
            "contacted_first_qualifying": n_cases_total,
            "contacted_eligible": len(ok),
            "contacted": n_contacted,
            "comparison_rows": n_comp,
            "comparison_persons": int(cohort.loc[cohort["treated"] == 0, "person_id"].nunique()),
            "sets": int(cohort["set_id"].nunique()) if design == "risk_set_matching" else None,
            "candidates_sampled": n_candidates,
            "comparison_censored_contacted": int(((cohort["treated"] == 0)
                                                  & (cohort["end_reason"] == "contacted")).sum()),
        },
        "smd_max_before": _max_abs(balance["smd_before"]),
        "smd_max_after": _max_abs(balance["smd_after"]),
        "covariates": {c.name: {"da": c.label_da, "en": c.label_en} for c in d.covariates},
        "exact": list(d.exact),
        "exact_covariates": list(d.exact_covariates),
        "propensity_covariates": ps_cols,
    }
    return CohortResult(cohort=cohort, attrition=attrition, balance=balance,
                        propensity=propensity, meta=meta,
                        eligible=_eligible_contacted(pool, d, rows, matched, cov_names, de))


def _eligible_contacted(pool: _Pool, d: CohortDefinition, rows: pd.DataFrame, matched: pd.DataFrame,
                        cov_names: list[str], de: int) -> pd.DataFrame:
    """Every eligible contacted person from the index date, matched or not (for the naive
    contrast and the comparison of the matched with all eligible contacted)."""
    e = _describe(rows[rows["treated"] == 1], pool, d)
    end_date, end_reason = _follow_up(pool, d, e, de)
    return pd.DataFrame({
        "person_id": e["person_id"].astype(str).to_numpy(),
        "index_date": e["t_date"].dt.date.to_numpy(),
        "end_date": [from_days(x) for x in end_date],
        "end_reason": end_reason,
        "matched": e["row_id"].isin(matched.loc[matched["treated"] == 1, "row_id"]).to_numpy(),
        "sex": e["sex"].to_numpy(),
        "age_at_index": e["age_at_index"].astype(float).to_numpy(),
        **{c: e[c].astype("int64").to_numpy() for c in cov_names},
    }).sort_values("person_id", ignore_index=True)


def _person_dates(case_p: np.ndarray, case_t: np.ndarray, comparison: dict[str, np.ndarray]) -> pd.DataFrame:
    """The rows the covariates are measured for: the eligible contacted at their index date
    (set ``0, 1, ...``), then the comparison rows; narrow integer types (positions, days and
    flags fit in 32 bits or fewer), ``row_id`` the position."""
    n_t = len(case_p)
    n = n_t + len(comparison["pidx"])
    return pd.DataFrame({
        "set_id": np.r_[np.arange(n_t), comparison["set_id"]].astype("int32"),
        "pidx": np.r_[case_p, comparison["pidx"]].astype("int32"),
        "t": np.r_[case_t, comparison["t"]].astype("int32"),
        "treated": np.r_[np.ones(n_t, "int8"), np.zeros(n - n_t, "int8")],
        "sampling_weight": np.r_[np.ones(n_t), comparison["sampling_weight"]].astype(float),
        "row_id": np.arange(n, dtype="int32"),
    })


def _covariates(con, rows: pd.DataFrame, d: CohortDefinition) -> dict[str, np.ndarray]:
    """Covariates of ``rows`` (``row_id`` = position, ``pidx``, ``t`` in days), measured in
    DuckDB with the persons keyed by their pool index (the table ``pool``)."""
    return covariates_by_index(con, rows, d.covariates, "pool")


def _describe(rows: pd.DataFrame, pool: _Pool, d: CohortDefinition) -> pd.DataFrame:
    """Person, index date, sex, age band and index quarter of (matched) rows."""
    t = rows["t"].to_numpy()
    p = rows["pidx"].to_numpy()
    t_date = pd.to_datetime(t, unit="D")
    labels = np.array(d.age_band_labels(), dtype=object)
    quarter = pd.Series(t_date.year.astype(str)) + "Q" + pd.Series(t_date.quarter.astype(str))
    return rows.assign(person_id=pool.person_id[p], t_date=t_date, sex=pool.sex[p],
                       age_band=labels[_band(pool, p, t)], index_quarter=quarter.to_numpy())


def _allocate(total: int, shares: list[float], sizes: list[int]) -> list[int]:
    """Split ``total`` draws over tiers by ``shares``; a tier too small passes on what is left.

    Leftover draws go first to the last tier (the rest), then to the tiers before it.
    """
    want = [min(round(total * sh), n) for sh, n in zip(shares, sizes, strict=True)]
    left = total - sum(want)
    for i in reversed(range(len(want))):
        add = max(0, min(left, sizes[i] - want[i]))
        want[i] += add
        left -= add
    return want


def _max_abs(s: pd.Series) -> float | None:
    v = s.abs().max()
    return None if pd.isna(v) else float(v)


class _StrataKeys:
    """Integer exact stratum of (pool indices, date) from the exact variables sex and age band.

    ``static`` is the part that does not change with the date (sex, per pool person);
    ``dynamic`` says whether the age band at the date is part of the key.
    """

    def __init__(self, pool: _Pool, d: CohortDefinition) -> None:
        self.pool = pool
        sex_code = np.unique(pool.sex.astype(str), return_inverse=True)[1].reshape(-1)
        self.static = sex_code if "sex" in d.exact else np.zeros(pool.n, "int64")
        self.dynamic = "age_band" in d.exact

    def __call__(self, p: np.ndarray, t: int) -> np.ndarray:
        k = self.static[p]
        return k * 64 + _band(self.pool, p, t) if self.dynamic else k

    def static_of(self, key: int) -> int:
        return key // 64 if self.dynamic else key


def _iptw_rows(pool: _Pool, d: CohortDefinition, rng: np.random.Generator, end: dt.date,
               data_end: dt.date) -> pd.DataFrame:
    """Comparison rows of the IPTW design: one random eligible date per person not yet contacted."""
    lo = np.maximum(to_days(d.start), pool.birthdays[:, 0])
    hi = np.minimum.reduce([
        np.full(pool.n, min(to_days(end), to_days(data_end) - 1)), pool.birthdays[:, -1] - 1,
        pool.first_any - 1, pool.death - 1, pool.emigration - 1,
    ])
    p = np.flatnonzero(hi >= lo)
    t = lo[p] + np.floor(rng.random(len(p)) * (hi[p] - lo[p] + 1)).astype("int64")
    rules = _rules_pairs(pool, d, p, t)
    keep = np.ones(len(p), bool)
    for name, _ in RULES:
        keep &= rules[name]
    keep &= pool.first_any[p] > t
    return pd.DataFrame({"set_id": -1, "pidx": p[keep], "t": t[keep], "treated": 0,
                         "sampling_weight": 1.0})


@single_threaded_blas
def _propensity(rows: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Linear predictor (logit) of a logistic regression of ``treated`` on ``cols``.

    Binary covariates and age enter as they are; a count enters as indicators of 1, 2, 3 and 4
    or more (zero the reference). Terms without variation are left out. Fitted by
    :func:`logistic_fit` with a small ridge penalty, on a :class:`_PatternDesign` (the rows
    share few patterns of the discrete terms), which gives the fit of the full design matrix
    without forming it.
    """
    y = rows["treated"].to_numpy(float)
    if y.min() == y.max():
        return np.zeros(len(rows))
    design = _PatternDesign(rows, cols)
    beta = logistic_fit(design, y, ridge=1.0)
    return design.dot(beta)


class _PatternDesign:
    """The propensity design matrix ``[1, centred indicators, scaled age]``, held as the
    distinct patterns of the discrete terms, the pattern of each row and the age column.

    ``dot``, ``tdot`` and ``gram`` give ``X b``, ``X' v`` and ``X' diag(w) X`` with bincounts
    over the patterns (cost linear in the rows, no rows x terms array). ``rowwise(f, e)``
    applies an elementwise function to a linear predictor ``e = X b`` once per cell of rows
    that share a pattern and an age (so share ``e`` exactly): the same values as ``f(e)``,
    with the costly exponentials and logarithms evaluated a few times fewer.
    """

    def __init__(self, rows: pd.DataFrame, cols: list[str]) -> None:
        n = len(rows)
        discrete = [c for c in cols if c != "age_at_index"]
        values = {c: rows[c].to_numpy() for c in discrete}
        key = np.zeros(n, "int64")
        for c in discrete:  # counts matter only up to 4 (indicators of 1, 2, 3, 4+)
            key = key * 5 + np.clip(values[c], 0, 4).astype("int64")
        self.g, uniq = pd.factorize(key, sort=True)  # the pattern of each row (patterns sorted)
        first = _first_rows(self.g, len(uniq))
        count = np.bincount(self.g, minlength=len(uniq)).astype(float)
        feats = {}
        for c in discrete:
            x = values[c][first].astype(float)
            if _within(values[c], 0, 1):
                feats[c] = x
            else:  # counts: one indicator per level 1, 2, 3 and 4 or more
                for level in (1, 2, 3):
                    feats[f"{c}_{level}"] = (x == level).astype(float)
                feats[f"{c}_4plus"] = (x >= 4).astype(float)
        feats = {k: v for k, v in feats.items() if np.unique(v).size > 1}
        P = np.column_stack(list(feats.values())) if feats else np.zeros((len(uniq), 0))
        P = P - (count @ P) / n  # centred over the rows
        self.P = np.column_stack([np.ones(len(uniq)), P])
        self.age = None
        if "age_at_index" in cols:
            a = rows["age_at_index"].to_numpy(float)
            if a.min() < a.max():  # scaled to unit SD: the ridge acts per SD of age
                self.age = (a - a.mean()) / a.std()
        self.cell, self.cell_row = self.g, first  # cells: rows with one pattern and one age
        if self.age is not None:
            level, levels = pd.factorize(self.age)
            self.cell, cells = pd.factorize(self.g * len(levels) + level)
            self.cell_row = _first_rows(self.cell, len(cells))
        self.shape = (n, self.P.shape[1] + (self.age is not None))

    def rowwise(self, f, e: np.ndarray) -> np.ndarray:
        return np.take(f(np.take(e, self.cell_row)), self.cell)

    def dot(self, b: np.ndarray) -> np.ndarray:
        k = self.P.shape[1]
        out = np.take(self.P @ b[:k], self.g)
        if self.age is not None:
            out += self.age * b[k]
        return out

    def tdot(self, v: np.ndarray) -> np.ndarray:
        by = self.P.T @ np.bincount(self.g, weights=v, minlength=len(self.P))
        return np.r_[by, self.age @ v] if self.age is not None else by

    def gram(self, w: np.ndarray) -> np.ndarray:
        m = len(self.P)
        sw = np.bincount(self.g, weights=w, minlength=m)
        top = (self.P * sw[:, None]).T @ self.P
        if self.age is None:
            return top
        wa = w * self.age
        cross = self.P.T @ np.bincount(self.g, weights=wa, minlength=m)
        return np.block([[top, cross[:, None]], [cross[None, :], np.array([[wa @ self.age]])]])


def _first_rows(codes: np.ndarray, n_codes: int) -> np.ndarray:
    """The first row of each code ``0..n_codes-1`` in ``codes``."""
    first = np.empty(n_codes, "int64")
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def _within(v: np.ndarray, lo: int, hi: int) -> bool:
    """Whether every value of the integer array ``v`` lies in ``lo..hi`` (no sort)."""
    return len(v) == 0 or (int(v.min()) >= lo and int(v.max()) <= hi)


class _DenseDesign:
    """A design matrix held as it is (the interface of :class:`_PatternDesign`)."""

    def __init__(self, X: np.ndarray) -> None:
        self.X = X
        self.shape = X.shape

    def dot(self, b: np.ndarray) -> np.ndarray:
        return self.X @ b

    def tdot(self, v: np.ndarray) -> np.ndarray:
        return self.X.T @ v

    def rowwise(self, f, e: np.ndarray) -> np.ndarray:
        return f(e)

    def gram(self, w: np.ndarray) -> np.ndarray:
        return (self.X * w[:, None]).T @ self.X


def logistic_fit(X, y: np.ndarray, ridge: float = 1.0, tol: float = 1e-7,
                 max_iter: int = 100) -> np.ndarray:
    """Maximum penalised likelihood logistic regression by Newton-Raphson.

    Maximises ``loglik(beta) - ridge / 2 * sum(beta[1:] ** 2)`` (the first column, the
    intercept, is not penalised). With ``ridge = 0`` this is the ordinary maximum-likelihood fit
    of statsmodels ``Logit`` (the tests check the two agree); the small default penalty on
    standardised terms keeps the estimates finite when a term separates the arms (sparse
    indicator cells), where the unpenalised fit does not converge, and changes well-determined
    coefficients negligibly when there are many rows.

    Parameters
    ----------
    X
        Design matrix with the intercept in column 0 (an array, or a :class:`_PatternDesign`).
    y
        0/1 outcome.
    ridge
        Penalty weight.

    Returns
    -------
    numpy.ndarray
        Coefficients.
    """
    design = _DenseDesign(X) if isinstance(X, np.ndarray) else X
    k = design.shape[1]
    pen = np.full(k, float(ridge))
    pen[0] = 0.0
    beta = np.zeros(k)
    p0 = min(max(y.mean(), 1e-9), 1 - 1e-9)
    beta[0] = np.log(p0 / (1 - p0))
    def objective(b: np.ndarray) -> tuple[float, np.ndarray]:
        e = design.dot(b)
        terms = design.rowwise(lambda x: np.logaddexp(0.0, x), e)
        np.subtract(y * e, terms, out=terms)  # in place: the same sums, fewer large arrays
        return float(np.sum(terms) - 0.5 * np.sum(pen * b * b)), e

    current, eta = objective(beta)
    for _ in range(max_iter):
        mu = design.rowwise(lambda x: 1.0 / (1.0 + np.exp(-x)), eta)
        w = 1.0 - mu
        w *= mu
        grad = design.tdot(np.subtract(y, mu, out=mu)) - pen * beta
        del mu
        hess = design.gram(w) + np.diag(pen) + 1e-12 * np.eye(k)
        step = np.linalg.solve(hess, grad)
        # step halving keeps the penalised likelihood increasing
        t = 1.0
        while True:
            new, new_eta = objective(beta + t * step)
            if new >= current - 1e-12 or t < 1e-6:
                break
            t /= 2
        beta, current, eta = beta + t * step, new, new_eta
        if np.max(np.abs(t * step)) < tol:
            break
    return beta


def _match(rows: pd.DataFrame, k: int, caliper: float, n_eligible_pairs: int, seed: int,
           metric_cols: list[str] | None = None, exact_cols: tuple[str, ...] = (),
           person_id: np.ndarray | None = None):
    """Nearest-neighbour matching within each set, caliper on the logit, 1:k, no replacement.

    Candidates that differ from the contacted person on an ``exact_cols`` covariate, or are
    farther than ``caliper`` from them on the logit of the propensity score, are left out. Among
    the rest the ``k`` nearest are taken: nearest on the logit, or, when ``metric_cols`` are
    given, nearest by Mahalanobis distance on those columns and the logit (Mahalanobis matching
    within propensity calipers, Rosenbaum and Rubin 1985), which balances the individual
    covariates better where the contacted sit in the tail of the score. Ties are broken by a
    seeded hash of the person (``person_id[pidx]``, or the ``person_id`` column).
    """
    treated = rows["treated"].to_numpy() == 1
    set_id = rows["set_id"].to_numpy()
    case_row = np.full(int(set_id.max()) + 1 if len(set_id) else 0, -1)
    case_row[set_id[treated]] = np.flatnonzero(treated)
    cand = np.flatnonzero(~treated)
    of = case_row[set_id[cand]]  # the case row of each candidate's set
    same = np.ones(len(cand), bool)
    for spec in exact_cols:
        col, _, cap = spec.partition(":")
        v = rows[col].to_numpy()
        a, b = v[cand], v[of]
        if cap:
            a, b = np.minimum(a, int(cap)), np.minimum(b, int(cap))
        same &= a == b
    n_same = int(same.sum())
    logit = rows["logit"].to_numpy()
    gap = np.abs(logit[cand] - logit[of])
    inside = same & (gap <= caliper + 1e-12)
    w_rows, w_of = cand[inside], of[inside]
    if metric_cols:
        cols = list(metric_cols) + ["logit"]
        inv = np.linalg.pinv(np.atleast_2d(_covariance(rows, cols)))
        diff = np.column_stack([rows[c].to_numpy(float)[w_rows] - rows[c].to_numpy(float)[w_of]
                                for c in cols])
        dist = np.einsum("ij,jk,ik->i", diff, inv, diff)
    else:
        dist = gap[inside]
    within = rows.iloc[w_rows]
    ids = person_id[within["pidx"].to_numpy()] if person_id is not None else within["person_id"]
    # ties broken by a seeded hash so that the result does not depend on row order
    tie = pd.util.hash_pandas_object(pd.Series(ids).astype(str) + ":" + str(seed),
                                     index=False).to_numpy()
    order = np.lexsort((tie, dist, set_id[w_rows]))
    ranked = set_id[w_rows][order]
    rank = np.arange(len(order)) - np.searchsorted(ranked, ranked, side="left")
    chosen = within.iloc[order[rank < k]].copy()
    n_ctrl = chosen.groupby("set_id").size()
    cases = rows[treated].set_index("set_id")
    has = cases.index.isin(n_ctrl.index)
    keep_cases = cases[has].reset_index()
    keep_cases["weight"] = 1.0
    chosen["weight"] = 1.0 / n_ctrl.reindex(chosen["set_id"]).to_numpy()
    matched = pd.concat([keep_cases, chosen], ignore_index=True)
    n_no_match = int((~has).sum())
    n_sampled = len(cand)
    n_within = len(w_rows)
    att = [
        ("eligible candidate pairs (person, risk set) in the exact strata", "eligible_pairs",
         int(n_eligible_pairs)),
        ("not drawn in the incidence-density sample", "not_sampled", -(int(n_eligible_pairs) - n_sampled)),
    ]
    if exact_cols:
        att.append(("differs on an exactly matched covariate", "exact_covariates", -(n_sampled - n_same)))
    att += [
        ("outside the caliper", "outside_caliper", -(n_same - n_within)),
        (f"not among the {k} nearest within the caliper", "not_nearest", -(n_within - len(chosen))),
    ]
    return matched, att, n_no_match


def _covariance(rows: pd.DataFrame, cols: list[str], chunk: int = 1_000_000) -> np.ndarray:
    """``np.cov`` of the columns (ddof 1), accumulated over blocks of rows (no rows x cols copy)."""
    n = len(rows)
    total = np.zeros(len(cols))
    cross = np.zeros((len(cols), len(cols)))
    data = [rows[c].to_numpy() for c in cols]
    for lo in range(0, n, chunk):
        X = np.column_stack([v[lo:lo + chunk] for v in data]).astype(float)
        total += X.sum(axis=0)
        cross += X.T @ X
    mean = total / n
    return (cross - n * np.outer(mean, mean)) / (n - 1)


def _follow_up(pool: _Pool, d: CohortDefinition, rows: pd.DataFrame, de: int):
    """End of follow-up and its reason for each row (days since 1970-01-01, text)."""
    p = rows["pidx"].to_numpy()
    t = rows["t"].to_numpy()
    comp = rows["treated"].to_numpy() == 0
    never = np.full(len(p), NEVER)
    death = np.where(pool.death[p] > t, pool.death[p], NEVER) if d.censor_death else never
    emig = np.where(pool.emigration[p] > t, pool.emigration[p], NEVER) if d.censor_emigration else never
    contact = never
    if d.censor_contacted:
        # the first contact of any type after t: for the comparison arm first_any > t
        contact = np.where(comp & (pool.first_any[p] > t), pool.first_any[p], NEVER)
    moved = never
    if d.censor_moved_out:
        moved = _moved_out(pool, p, t)
    cands = np.vstack([death, emig, contact, moved, np.full(len(p), de)])
    cands = np.where(cands > de, NEVER, cands)
    cands[-1] = de
    which = np.argmin(cands, axis=0)  # first minimum: the tie order of the docstring
    reasons = np.array(["death", "emigration", "contacted", "moved_out_of_area", "end_of_data"],
                       dtype=object)
    return cands[which, np.arange(len(p))], reasons[which]


def _moved_out(pool: _Pool, p: np.ndarray, t: np.ndarray) -> np.ndarray:
    """First day after ``t`` not covered by the area residence spells (merged when contiguous)."""
    spells = pd.DataFrame({"p": pool.res_p, "f": pool.res_from, "e": pool.res_to}).sort_values(["p", "f"])
    # merge contiguous or overlapping spells of a person
    prev_end = spells.groupby("p")["e"].cummax().shift()
    new = (spells["p"] != spells["p"].shift()) | (spells["f"] > prev_end)
    spells["block"] = new.cumsum()
    blocks = spells.groupby("block").agg(p=("p", "first"), f=("f", "min"), e=("e", "max"))
    pairs = pd.DataFrame({"i": np.arange(len(p)), "p": p, "t": t})
    m = pairs.merge(blocks, on="p")
    m = m[(m["f"] <= m["t"]) & (m["t"] < m["e"])]
    out = np.full(len(p), NEVER)
    out[m["i"].to_numpy()] = m["e"].to_numpy()
    return out


def _attrition_table(contacted: list[tuple[str, str, int]], comparison: list[tuple[str, str, int]]) -> pd.DataFrame:
    """Rows: the first row of each arm is the starting count, then one row per exclusion."""
    out = []
    for arm, steps, unit in (("contacted", contacted, "persons"),
                             ("comparison", comparison, "person-sets")):
        remaining = 0
        for i, (reason, code, n) in enumerate(steps):
            if i == 0:
                remaining = n
                excluded = 0
            else:
                excluded = -n
                remaining -= excluded
            out.append({"arm": arm, "step": i, "code": code, "reason": reason,
                        "n_excluded": int(excluded), "n_remaining": int(remaining), "unit": unit})
    return pd.DataFrame(out)


def _wstats(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    if len(x) == 0 or w.sum() == 0:
        return math.nan, math.nan
    m = float(np.average(x, weights=w))
    v = float(np.average((x - m) ** 2, weights=w))
    return m, v


def _smd(xt, wt, xc, wc) -> tuple[float, float, float]:
    mt, vt = _wstats(xt, wt)
    mc, vc = _wstats(xc, wc)
    pooled = math.sqrt((vt + vc) / 2) if not (math.isnan(vt) or math.isnan(vc)) else math.nan
    if math.isnan(pooled):
        smd = math.nan
    elif pooled == 0:
        smd = 0.0 if mt == mc else math.inf
    else:
        smd = (mt - mc) / pooled
    return smd, mt, mc


def _balance(rows: pd.DataFrame, matched: pd.DataFrame, cols: list[str], d: CohortDefinition) -> pd.DataFrame:
    """Standardised mean differences (pooled SD sqrt((sd_t^2 + sd_c^2) / 2)), before and after.

    Before: the contacted vs every comparison row considered (the sampled candidates, each
    weighted by the inverse of its sampling fraction, so that they stand for all eligible
    candidates; or every IPTW comparison row), After: the matched cohort with its weights.
    """
    labels = {c.name: (c.label_da, c.label_en) for c in d.covariates}
    labels["age_at_index"] = ("Alder ved indeks", "Age at index")
    labels["male"] = ("Mand", "Male")
    out = []
    bt = rows["treated"].to_numpy() == 1
    at = matched["treated"].to_numpy() == 1
    sw = rows["sampling_weight"].to_numpy(float)[~bt]
    mw = matched["weight"].to_numpy(float)
    for c in cols + ["male"]:
        x, y = rows[c].to_numpy(float), matched[c].to_numpy(float)
        s_b, mt_b, mc_b = _smd(x[bt], np.ones(int(bt.sum())), x[~bt], sw)
        s_a, mt_a, mc_a = _smd(y[at], mw[at], y[~at], mw[~at])
        out.append({"covariate": c, "label_da": labels[c][0], "label_en": labels[c][1],
                    "mean_contacted_before": mt_b, "mean_comparison_before": mc_b,
                    "smd_before": s_b, "mean_contacted_after": mt_a,
                    "mean_comparison_after": mc_a, "smd_after": s_a})
    return pd.DataFrame(out)


def write_cohort(result: CohortResult, out_dir: str | Path) -> None:
    """Write the cohort folder atomically: the old folder is replaced only when all is written.

    Files: ``cohort.parquet``, ``attrition.parquet``, ``balance.parquet``,
    ``propensity.parquet``, ``eligible_contacted.parquet``, ``cohort.json`` (see
    docs/interfaces.md).
    """
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..atomic import atomic_dir

    with atomic_dir(out_dir) as tmp:
        cohort = pa.Table.from_pandas(result.cohort, preserve_index=False)
        fields = []
        for f in cohort.schema:
            if f.name in ("index_date", "end_date", "end_date_itt"):
                fields.append(pa.field(f.name, pa.date32()))
            elif f.name in ("contact_type", "referred_to"):
                fields.append(pa.field(f.name, pa.string()))
            else:
                fields.append(f)
        if cohort.num_rows == 0:  # no matched set: the columns keep their types
            fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f
                      for f in fields]
            cohort = pa.schema(fields).empty_table()
        pq.write_table(cohort.cast(pa.schema(fields)), tmp / "cohort.parquet")
        for name in ("attrition", "balance", "propensity"):
            pq.write_table(pa.Table.from_pandas(getattr(result, name), preserve_index=False),
                           tmp / f"{name}.parquet")
        if result.eligible is not None:
            eligible = pa.Table.from_pandas(result.eligible, preserve_index=False)
            eligible = eligible.cast(pa.schema([pa.field(f.name, pa.date32()) if f.name.endswith("_date")
                                                else f for f in eligible.schema]))
            pq.write_table(eligible, tmp / "eligible_contacted.parquet")
        (tmp / "cohort.json").write_text(
            json.dumps(result.meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8")
