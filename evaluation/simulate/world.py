"""The simulated world: people, residence, crime, custody, education, jobs, groups, contacts.

Everything is vectorised over people (numpy); the only Python loops run over education
episodes, simulation passes and blocks of 50,000 persons, never over single persons. Time is held
as days since
:data:`DATA_START` (2016-10-01). The world is simulated beyond the end of the data so that the
true effects (:mod:`evaluation.simulate.truth`) are not censored by the data's end.

Potential outcomes use common random numbers: every person's new charges are the arrivals of one
unit-rate Poisson process mapped through the cumulative hazard, registration in a criminal group
and entry into education or a job are the crossings of one Exp(1) draw by the cumulative hazard.
After the first contact the hazard is multiplied by the configured hazard ratio in the "treated"
world and left alone in the "untreated" world, so each contacted person has both outcomes while
the history before the first contact is the same in both.

Model in brief. Frailty z ~ Gamma(shape 0.3, mean 1). Charges: Poisson process with rate
0.30 * z * age curve (zero before 13, peak about 18.5) * calendar factor (-2 % a year); charges
while in custody (remand after some charges, prison or secure youth care after custody sanctions)
and after death or emigration do not happen. Co-offending: about a third of charges are grouped
with other persons' charges of the same month and municipality into cases of 2-3 persons sharing
case_id and the earliest offence date. Group registration: hazard 0.004 * z * age curve (peak
20) * (1 + 2 * charges in the last 36 months (at most 10) + 6 if co-offending with a registered
member in the last 12 months); the charge history in this hazard is that of the untreated world
(the effect on recruitment is the configured hazard ratio alone, not mediated by fewer charges).
Education and jobs: after primary school (to age ~16), alternating gaps ("in neither", mean
length 2 + 6 * min(z, 8) months) and education spells or jobs (whole months, hours >= 40), with
more drop-outs and FGU for higher z; side jobs below 40 hours in some gap months.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..contract import AALBORG_MUNICIPALITY
from ..timeunits import DAYS_PER_MONTH

DATA_START = np.datetime64("2016-10-01", "D")
DATA_END = np.datetime64("2026-09-30", "D")
INITIATIVE_START = np.datetime64("2023-09-01", "D")
#: Last simulated day (beyond the data, so that 730-day outcomes after the last contact exist).
SIM_END = np.datetime64("2028-12-31", "D")
END_DAY = int((DATA_END - DATA_START).astype(int))
INIT_DAY = int((INITIATIVE_START - DATA_START).astype(int))
SIM_DAY = int((SIM_END - DATA_START).astype(int))
#: Hours a month counts as a job (truth.json's ``hours_threshold``).
JOB_HOURS_THRESHOLD = 40.0
OTHER_MUNICIPALITIES = (
    "101", "147", "461", "751", "561", "657", "773", "787", "810", "813", "820", "825", "840",
    "846", "849", "860",
)
#: Every municipality of the simulated world (the study area of a national simulation).
MUNICIPALITIES = (AALBORG_MUNICIPALITY, *OTHER_MUNICIPALITIES)
GROUP_IDS = tuple(f"G{i:02d}" for i in range(1, 9))
#: Days from a triggering charge to the contact it leads to: 2 + floor(Exp(this mean)).
CONTACT_DELAY_MEAN_DAYS = 12.0
#: The policy contacts young people aged 14 to 25 (below this age in years).
AGE_MAX_CONTACT = 26
CATEGORY_PROBS = {  # offence categories, property most common
    "property": 0.36, "violence": 0.17, "drugs": 0.14, "traffic": 0.12, "threats": 0.08,
    "weapons": 0.06, "other": 0.07,
}
CATEGORY_LETTER = {
    "violence": "V", "weapons": "W", "property": "P", "drugs": "N", "threats": "R",
    "traffic": "F", "other": "O",
}
INF = np.float64(1e9)


@dataclass
class Effects:
    """Hazard ratios after the first contact (treated world / untreated world)."""

    reoffending: float = 0.80
    education_job: float = 1.25
    group_recruitment: float = 0.70


@dataclass
class World:
    """The simulated tables with integer person numbers (0..N-1) and integer days.

    ``tables`` hold the realised data (treated outcome for the contacted after their first
    contact, untreated otherwise), already cut at the end of the data. ``truth_inputs`` hold what
    :mod:`evaluation.simulate.truth` needs to compute the true effects among the contacted.
    """

    n: int
    birth_day: np.ndarray
    male: np.ndarray
    tables: dict[str, pd.DataFrame]
    truth_inputs: dict = field(default_factory=dict)
    seed: int = 0


# --------------------------------------------------------------------------- helpers

def _month_grid() -> np.ndarray:
    """Day offsets of month starts from 2016-10 to one month past the simulation end."""
    first = np.datetime64("2016-10", "M")
    last = SIM_END.astype("datetime64[M]") + 1
    months = np.arange(first, last + 1)
    return (months.astype("datetime64[D]") - DATA_START).astype(np.int64)


def to_date(day: np.ndarray) -> np.ndarray:
    """Day offsets from :data:`DATA_START` (cut to whole days towards zero) as datetime64[D]."""
    return DATA_START + np.asarray(day).astype(np.int64).astype("timedelta64[D]")


def month_ceil(day: np.ndarray) -> np.ndarray:
    """First day (as offset) of the first month that starts strictly after ``day``."""
    d = to_date(np.floor(day))
    nxt = d.astype("datetime64[M]") + 1
    return (nxt.astype("datetime64[D]") - DATA_START).astype(np.float64)


def spell_lookup(sp_pid: np.ndarray, sp_start: np.ndarray, q_pid: np.ndarray,
                 q_t: np.ndarray) -> np.ndarray:
    """Index of the last spell of the same person starting on or before ``q_t`` (-1 if none).

    ``sp_pid``/``sp_start`` must be sorted by person, then start.
    """
    big = np.float64(1e6)
    key = sp_pid.astype(np.float64) * big + sp_start
    q = q_pid.astype(np.float64) * big + q_t
    idx = np.searchsorted(key, q, side="right") - 1
    ok = idx >= 0
    ok[ok] = sp_pid[idx[ok]] == q_pid[ok]
    return np.where(ok, idx, -1)


def in_spells(sp_pid, sp_start, sp_end, q_pid, q_t) -> np.ndarray:
    """Whether ``q_t`` lies in any spell [start, end] of the same person (spells any order)."""
    if len(sp_pid) == 0:
        return np.zeros(len(q_pid), dtype=bool)
    order = np.lexsort((sp_start, sp_pid))
    p, s, e = sp_pid[order], sp_start[order], sp_end[order]
    # running maximum of the end within each person
    new = np.r_[True, p[1:] != p[:-1]]
    grp = np.cumsum(new) - 1
    offset = np.float64(1e7) * grp
    cm = np.maximum.accumulate(e + offset) - offset
    idx = spell_lookup(p, s, q_pid, q_t)
    res = np.zeros(len(q_pid), dtype=bool)
    ok = idx >= 0
    res[ok] = cm[idx[ok]] >= q_t[ok]
    return res


def _within(pid: np.ndarray) -> np.ndarray:
    """0-based position of each row within its (contiguous) person block."""
    if len(pid) == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.r_[True, pid[1:] != pid[:-1]]
    starts = np.flatnonzero(new)
    counts = np.diff(np.r_[starts, len(pid)])
    return np.arange(len(pid)) - np.repeat(starts, counts)


def expit(x):
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------------- hazards

class CohortHazard:
    """Cumulative hazard z_i * A[c_i, t] with A tabulated by birth month and calendar month.

    ``rate(age_years, t_days)`` gives the baseline per year; within a month the hazard is
    constant (so A is linear in t between month starts).
    """

    def __init__(self, birth_month0: int, n_cohorts: int, rate) -> None:
        self.ms = _month_grid().astype(np.float64)
        self.b0 = birth_month0
        mid = (self.ms[:-1] + self.ms[1:]) / 2
        length = np.diff(self.ms)
        cohort_mid = (
            (np.datetime64("1990-01", "M") + birth_month0 + np.arange(n_cohorts)).astype(
                "datetime64[D]") + 15 - DATA_START
        ).astype(np.float64)
        age = (mid[None, :] - cohort_mid[:, None]) / 365.25
        h = rate(age, mid[None, :]) * length[None, :] / 365.25
        self.A = np.concatenate([np.zeros((n_cohorts, 1)), np.cumsum(h, axis=1)], axis=1)
        self.M = self.A.shape[1]
        self.off = float(self.A.max()) + 1.0
        self.flat = (self.A + self.off * np.arange(n_cohorts)[:, None]).ravel()

    def at(self, c: np.ndarray, t: np.ndarray) -> np.ndarray:
        """A[c, t] (t in days, clipped to the grid)."""
        t = np.clip(t, self.ms[0], self.ms[-1] - 1e-9)
        m = np.searchsorted(self.ms, t, side="right") - 1
        frac = (t - self.ms[m]) / (self.ms[m + 1] - self.ms[m])
        return self.A[c, m] + frac * (self.A[c, m + 1] - self.A[c, m])

    def inverse(self, c: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Smallest t with A[c, t] = q (INF where q exceeds the grid's end)."""
        out = np.full(len(q), INF)
        ok = q < self.A[c, -1]
        cc, qq = c[ok], q[ok]
        pos = np.searchsorted(self.flat, self.off * cc + qq, side="left") - cc * self.M
        pos = np.clip(pos, 1, self.M - 1)
        a0, a1 = self.A[cc, pos - 1], self.A[cc, pos]
        t0, t1 = self.ms[pos - 1], self.ms[pos]
        out[ok] = t0 + (qq - a0) / np.maximum(a1 - a0, 1e-300) * (t1 - t0)
        return out


def age_crime(age: np.ndarray, _t=None) -> np.ndarray:
    """Age-crime curve: zero before 13, peak around 18, slow decline."""
    a = np.maximum(age, 1e-3)
    curve = np.exp(-((np.log(a) - np.log(18.5)) ** 2) / (2 * 0.25 ** 2))
    return np.where(age >= 13, curve, 0.0)


def calendar_factor(t: np.ndarray) -> np.ndarray:
    """Slowly falling youth crime (about 2 % a year)."""
    return np.exp(-0.02 * t / 365.25)


# --------------------------------------------------------------------------- simulation

def simulate_world(n: int, seed: int, effects: Effects, study_share: float, progress=None,
                   national: bool = False) -> World:
    """Simulate ``n`` persons (see the module docstring). Deterministic in ``seed``.

    Parameters
    ----------
    n : number of persons.
    seed : random seed; each component (persons, residence, crime, ...) has its own stream.
    effects : hazard ratios applied after the first contact in the treated world.
    study_share : share of persons with at least one residence spell in the study area.
    progress : optional context-manager factory ``progress(label)`` announcing each step.
    national : the initiative runs in every municipality (:data:`MUNICIPALITIES`), not only in
        the study municipality; nothing else changes (same persons, spells and charges).

    Returns
    -------
    World
        Realised tables (integer person numbers, days since 2016-10-01) and the internal state
        that :func:`evaluation.simulate.truth.compute_truth` needs.
    """
    step = progress or (lambda label: _nullctx())
    ss = np.random.SeedSequence([int(seed), 20161001])
    rngs = dict(zip(
        ["persons", "residence", "vital", "charges", "custody", "pairing", "groups", "education",
         "contacts", "misc"],
        [np.random.default_rng(s) for s in ss.spawn(10)],
    ))
    w: dict = {"national": bool(national)}
    with step("persons and residence"):
        _persons(n, rngs["persons"], w)
        _vital(rngs["vital"], w)
        _residence(rngs["residence"], study_share, w)
    with step("charges, custody and convictions"):
        _charges_world0(rngs["charges"], rngs["custody"], effects, w)
        _pairing(rngs["pairing"], w)
    with step("education and employment"):
        _education_draws(rngs["education"], w)
        w["edu0"] = _education_chain(w, np.arange(n), None, 1.0)
    with step("criminal groups"):
        _groups(rngs["groups"], w)
    with step("contacts"):
        _contacts(rngs["contacts"], w)
    with step("outcomes after contact"):
        _treated_world(effects, w)
    with step("assembling tables"):
        tables = _assemble(rngs["misc"], w)
    from .negative_controls import negative_control_events

    tables["negative_control_events"] = negative_control_events(seed, w)  # its own random stream
    return World(n=n, birth_day=w["birth"], male=w["male"], tables=tables, truth_inputs=w, seed=int(seed))


class _nullctx:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _persons(n: int, rng: np.random.Generator, w: dict) -> None:
    lo = (np.datetime64("1991-01-01") - DATA_START).astype(int)
    hi = (np.datetime64("2012-12-31") - DATA_START).astype(int)
    birth = rng.integers(lo, hi + 1, n).astype(np.float64)
    male = rng.random(n) < 0.5
    frailty = rng.gamma(0.3, 1 / 0.3, n)
    bmonth = to_date(birth).astype("datetime64[M]")
    b0 = np.datetime64("1990-01", "M")
    cohort = (bmonth - b0).astype(np.int64)
    w.update(n=n, birth=birth, male=male, z=frailty, cohort=cohort)


def _vital(rng: np.random.Generator, w: dict) -> None:
    n, z = w["n"], w["z"]
    death_rate = 0.0004 * (1 + 1.5 * z)  # per year
    death = rng.exponential(1 / death_rate, n) * 365.25
    emig = rng.exponential(1 / 0.004, n) * 365.25
    w["death"] = np.where(death < SIM_DAY, np.floor(death), INF)
    w["emig"] = np.where(emig < SIM_DAY, np.floor(emig), INF)
    w["exit"] = np.minimum(w["death"], w["emig"])


def _residence(rng: np.random.Generator, share: float, w: dict) -> None:
    n = w["n"]
    linked = rng.random(n) < share
    years = (END_DAY + 1) / 365.25
    k = np.minimum(rng.poisson(0.035 * years, n), 4)
    exit_ = np.minimum(w["exit"], END_DAY)
    pid = np.repeat(np.arange(n), k + 1)
    pos = _within(pid)
    u = rng.random(len(pid))
    # first spell: from birth (70 %) or moved in between birth and the data start
    birth = w["birth"][pid]
    first_from = np.where(u < 0.7, birth, birth + np.floor(rng.random(len(pid)) * (0 - birth)))
    move = np.floor(rng.random(len(pid)) * (exit_[pid] + 1))
    start = np.where(pos == 0, first_from, move)
    order = np.lexsort((start, pos > 0, pid))
    pid, start = pid[order], start[order]
    pos = _within(pid)
    lk = linked[pid]
    others = np.array(OTHER_MUNICIPALITIES)
    code_idx = rng.integers(0, len(others), len(pid))
    is_study = lk & (rng.random(len(pid)) < 0.8)
    # linked persons have at least one spell in the study area
    any_study = np.zeros(n, dtype=bool)
    np.logical_or.at(any_study, pid, is_study)
    force = lk & ~any_study[pid] & (pos == 0)
    is_study |= force
    muni = np.where(is_study, -1, code_idx)
    # merge spells equal to the previous one (and moves on the same day)
    same = np.r_[False, (muni[1:] == muni[:-1]) & (pid[1:] == pid[:-1])]
    sameday = np.r_[False, (start[1:] <= start[:-1]) & (pid[1:] == pid[:-1])]
    keep = ~(same | sameday)
    pid, start, muni = pid[keep], start[keep], muni[keep]
    nxt_same = np.r_[pid[1:] == pid[:-1], False]
    end = np.where(nxt_same, np.r_[start[1:], 0] - 1, np.where(w["exit"][pid] <= END_DAY,
                                                              w["exit"][pid], INF))
    codes = np.where(muni < 0, AALBORG_MUNICIPALITY, others[np.maximum(muni, 0)])
    w["res"] = {"pid": pid, "start": start, "end": end, "code": codes}
    w["linked"] = linked


def _municipality_at(w: dict, pid: np.ndarray, t: np.ndarray) -> np.ndarray:
    r = w["res"]
    idx = spell_lookup(r["pid"], r["start"], pid, t)
    out = np.full(len(pid), "", dtype=object)
    ok = idx >= 0
    ok[ok] = r["end"][idx[ok]] >= t[ok]
    out[ok] = r["code"][idx[ok]]
    return out


def _charges_world0(rng: np.random.Generator, rng_c: np.random.Generator, effects: Effects,
                    w: dict) -> None:
    n = w["n"]
    c0 = int(w["cohort"].min())
    ncoh = int(w["cohort"].max()) - c0 + 1
    w["c0"] = c0
    base = 0.30  # charges per year at the peak of the age curve for frailty 1

    def rate(age, t):
        return base * age_crime(age) * calendar_factor(t)

    H = CohortHazard(c0, ncoh, rate)
    w["H"] = H
    c = w["cohort"] - c0
    z = w["z"]
    a_end = H.A[c, -1] * z
    upper = a_end * max(1.0, effects.reoffending)
    k = rng.poisson(upper)
    pid = np.repeat(np.arange(n), k)
    u = rng.random(len(pid))
    order = np.lexsort((u, pid))
    pid, u = pid[order], u[order]
    S = u * upper[pid]  # unit-rate arrivals on the cumulative-hazard scale
    t0 = H.inverse(c[pid], S / z[pid])
    m = len(pid)
    cat_names = list(CATEGORY_PROBS)
    cat = rng.choice(len(cat_names), m, p=np.array(list(CATEGORY_PROBS.values())))
    code_no = rng.integers(100, 1000, m)
    charge_delay = 1 + np.floor(rng.exponential(20, m))
    violent = np.isin(np.array(cat_names)[cat], ("violence", "weapons"))
    remand = rng_c.random(m) < np.where(violent, 0.08, 0.02)
    remand_len = rng_c.integers(3, 61, m)
    decided = rng_c.random(m) < 0.85
    decision_delay = 60 + np.floor(rng_c.gamma(2.0, 80.0, m))
    sanction_p = np.array([0.10, 0.25, 0.12, 0.38, 0.08, 0.07])  # custody..withdrawn
    sanction = rng_c.choice(6, m, p=sanction_p)
    sanction = np.where(violent & (rng_c.random(m) < 0.12), 0, sanction)
    prison_wait = rng_c.integers(14, 121, m)
    prison_len = rng_c.integers(30, 366, m)
    w["arr"] = {
        "pid": pid, "S": S, "t0": t0, "cat": cat, "code_no": code_no, "charge_delay": charge_delay,
        "remand": remand, "remand_len": remand_len, "decided": decided, "decision_delay": decision_delay,
        "sanction": sanction, "prison_wait": prison_wait, "prison_len": prison_len,
    }
    w["cat_names"] = np.array(cat_names)
    w["arr"]["kept0"] = _thin(w, pid, t0)


def _custody_spells(a: dict, pid: np.ndarray, day: np.ndarray):
    """Potential custody spells (remand, prison) implied by each arrival's offence day."""
    charge = day + a["charge_delay"]
    r_start, r_end = charge, charge + a["remand_len"]
    dec = charge + a["decision_delay"]
    p_start = dec + a["prison_wait"]
    p_end = p_start + a["prison_len"]
    has_r = a["remand"]
    has_p = a["decided"] & (a["sanction"] == 0)
    sp_pid = np.r_[pid[has_r], pid[has_p]]
    sp_s = np.r_[r_start[has_r], p_start[has_p]]
    sp_e = np.r_[r_end[has_r], p_end[has_p]]
    return sp_pid, sp_s, sp_e


def _thin(w: dict, pid: np.ndarray, t: np.ndarray, a: dict | None = None) -> np.ndarray:
    """Arrivals that happen: inside the data window, charged before death or emigration, and
    not while in custody.

    Custody spells implied by every arrival (kept or not) remove later arrivals in them.
    """
    a = a if a is not None else w["arr"]
    day = np.floor(np.minimum(t, INF))
    valid = (t >= 0) & (day + a["charge_delay"] < w["exit"][pid]) & (t < SIM_DAY)
    sp = _custody_spells(a, pid, day)
    vs = _valid_sp(a, valid)
    inside = in_spells(sp[0][vs], sp[1][vs], sp[2][vs], pid, day)
    return valid & ~inside


def _valid_sp(a: dict, valid: np.ndarray) -> np.ndarray:
    return np.r_[valid[a["remand"]], valid[a["decided"] & (a["sanction"] == 0)]]


def _pairing(rng: np.random.Generator, w: dict) -> None:
    """Co-offending: charges in the same month and municipality share a case (2-3 persons)."""
    a = w["arr"]
    m = len(a["pid"])
    case_of = np.arange(m)  # case number = index of the block's first arrival
    shared_day = np.floor(np.minimum(a["t0"], INF))
    cand = np.flatnonzero(a["kept0"] & (a["t0"] <= SIM_DAY) & (rng.random(m) < 0.35))
    if len(cand):
        day = shared_day[cand]
        month = to_date(day).astype("datetime64[M]").astype(np.int64)
        muni = _municipality_at(w, a["pid"][cand], day)
        muni_i = pd.factorize(muni)[0]
        key = month * 100 + muni_i
        r = rng.random(len(cand))
        order = np.lexsort((r, key))
        cand, key = cand[order], key[order]
        pos = _within(key)
        size = np.where((key % 5) == 0, 3, 2)
        block = key * 100000 + pos // size
        bstart = np.r_[True, block[1:] != block[:-1]]
        bid = np.cumsum(bstart) - 1
        bcount = np.bincount(bid)
        first = np.flatnonzero(bstart)
        # blocks need >= 2 rows and distinct persons
        p = a["pid"][cand]
        dup_person = np.zeros(len(bcount), dtype=bool)
        for lag in (1, 2):
            if len(p) > lag:
                eq = np.r_[np.zeros(lag, bool), (p[lag:] == p[:-lag]) & (block[lag:] == block[:-lag])]
                np.logical_or.at(dup_person, bid[eq], True)
        good_block = (bcount >= 2) & ~dup_person
        # no offence while in custody: drop blocks whose shared date falls in a custody spell
        min_day0 = np.minimum.reduceat(shared_day[cand], first)
        sp_pid, sp_s, sp_e = _custody_spells(a, a["pid"], shared_day)
        valid = a["kept0"]
        vs = _valid_sp(a, valid)
        jailed = in_spells(sp_pid[vs], sp_s[vs], sp_e[vs], a["pid"][cand], min_day0[bid])
        np.logical_and.at(good_block, bid[jailed], False)
        g = good_block[bid]
        lead = cand[first[bid]]
        case_of[cand[g]] = lead[g]
        shared_day[cand[g]] = min_day0[bid[g]]
    w["arr"]["case0"] = case_of
    w["arr"]["day_shared0"] = shared_day


def _member_at(w: dict, pid: np.ndarray, t: np.ndarray, reg: np.ndarray, dereg: np.ndarray):
    return (reg[pid] <= t) & (t < dereg[pid])


def _cooffence_member_flag(w: dict, reg: np.ndarray, dereg: np.ndarray) -> np.ndarray:
    """Per arrival: shares its case with another person registered in a group at the offence."""
    a = w["arr"]
    case = a["case0"]
    day = a["day_shared0"]
    ok = a["kept0"]
    mem = ok & _member_at(w, a["pid"], day, reg, dereg)
    # members per case and size of case
    n_mem = np.bincount(case[mem], minlength=len(case))
    n_case = np.bincount(case[ok], minlength=len(case))
    own = mem.astype(np.int64)
    return ok & (n_case[case] >= 2) & ((n_mem[case] - own) >= 1)


def _group_rate(age):
    a = np.maximum(age, 1e-3)
    return np.where(age >= 13, np.exp(-((np.log(a) - np.log(20.0)) ** 2) / (2 * 0.2 ** 2)), 0.0)


def _group_hazard_matrix(w: dict, pids: np.ndarray, boost: np.ndarray | None) -> np.ndarray:
    """Per-month hazard (per month length) of registration for ``pids`` (rows) by month."""
    ms = w["H"].ms
    mid = (ms[:-1] + ms[1:]) / 2
    length = np.diff(ms)
    age = (mid[None, :] - w["birth"][pids][:, None]) / 365.25
    h = w["g0"] * w["z"][pids][:, None] * _group_rate(age) * length[None, :] / 365.25
    if boost is not None:
        h = h * (1.0 + boost)
    return h


def _boost_matrix(w: dict, pids: np.ndarray, flag: np.ndarray, months: int = 12) -> np.ndarray:
    """Number of flagged arrivals (by their offence month) in the last ``months`` months,
    including the current month, per person in ``pids`` (rows) and calendar month (columns)."""
    a = w["arr"]
    ms = w["H"].ms
    nm = len(ms) - 1
    pos = np.full(w["n"], -1)
    pos[pids] = np.arange(len(pids))
    sel = flag & (pos[a["pid"]] >= 0)
    row = pos[a["pid"][sel]]
    m = np.clip(np.searchsorted(ms, a["day_shared0"][sel], side="right") - 1, 0, nm - 1)
    counts = np.zeros((len(pids), nm))
    np.add.at(counts, (row, m), 1.0)
    cs = np.cumsum(counts, axis=1)
    lagged = np.zeros_like(cs)
    lagged[:, months:] = cs[:, :-months]
    return cs - lagged


def _group_boost(w: dict, pids: np.ndarray, member_flag: np.ndarray | None) -> np.ndarray:
    """Relative increase of the registration hazard by month: +2 per charge in the last 36
    months (at most 10), +6 within a year after a co-offence with a registered member."""
    b = 2.0 * np.minimum(_boost_matrix(w, pids, w["arr"]["kept0"], 36), 10.0)
    if member_flag is not None:
        b += 6.0 * (_boost_matrix(w, pids, member_flag, 12) > 0)
    return b


def _registration_times(w: dict, pids: np.ndarray, E: np.ndarray, boost, tau=None, hr=1.0):
    """First crossing of E by the cumulative registration hazard (with HR after tau)."""
    h = _group_hazard_matrix(w, pids, boost)
    ms = w["H"].ms
    cum = np.concatenate([np.zeros((len(pids), 1)), np.cumsum(h, axis=1)], axis=1)
    if tau is not None:
        # cumulative hazard in the treated world: unchanged before tau, times hr after
        ltau = _interp_rows(cum, ms, tau)
        cum = np.where(ms[None, :] > tau[:, None], ltau[:, None] + hr * (cum - ltau[:, None]), cum)
    return _invert_rows(cum, ms, E)


def _interp_rows(cum: np.ndarray, ms: np.ndarray, t: np.ndarray) -> np.ndarray:
    t = np.clip(t, ms[0], ms[-1] - 1e-9)
    m = np.searchsorted(ms, t, side="right") - 1
    r = np.arange(len(t))
    frac = (t - ms[m]) / (ms[m + 1] - ms[m])
    return cum[r, m] + frac * (cum[r, m + 1] - cum[r, m])


def _invert_rows(cum: np.ndarray, ms: np.ndarray, E: np.ndarray) -> np.ndarray:
    out = np.full(len(E), INF)
    if len(E) == 0:
        return out
    ok = E < cum[:, -1]
    j = (cum < E[:, None]).sum(axis=1)  # first index with cum >= E
    j = np.clip(j, 1, cum.shape[1] - 1)
    r = np.arange(len(E))
    c0, c1 = cum[r, j - 1], cum[r, j]
    t = ms[j - 1] + (E - c0) / np.maximum(c1 - c0, 1e-300) * (ms[j] - ms[j - 1])
    out[ok] = t[ok]
    return out


def _groups(rng: np.random.Generator, w: dict) -> None:
    n = w["n"]
    z = w["z"]
    w["g0"] = 0.004
    E = rng.exponential(1.0, n)
    dereg_len = np.where(rng.random(n) < 0.3, INF, rng.exponential(4 * 365.25, n))
    w["g_E"], w["g_dereg_len"] = E, dereg_len
    w["g_group"] = rng.integers(0, len(GROUP_IDS), n)
    # members registered before the data start: older high-frailty persons
    age0 = -w["birth"] / 365.25
    p_init = np.clip(0.004 * z * (age0 >= 17), 0, 0.5)
    initial = rng.random(n) < p_init
    init_reg = -np.floor(rng.random(n) * 3 * 365.25) - 1
    reg = np.full(n, INF)
    reg[initial] = init_reg[initial]
    # only persons whose largest possible cumulative hazard (age curve at its peak, every boost
    # on, all simulated years) reaches their Exp(1) draw can ever be registered
    bound = w["g0"] * z * (1.0 + 20.0 + 6.0) * (SIM_DAY + 62) / 365.25
    everyone = np.flatnonzero(~initial & (E < bound))
    # pass 1: without the co-offending boost; pass 2: with it (chunked to bound memory)
    for boosted in (False, True):
        new_reg = np.full(n, INF)
        if boosted:
            dereg_tmp = reg + dereg_len
            flag = _cooffence_member_flag(w, reg, dereg_tmp)
            w["g_flag_pass"] = flag
        for lo in range(0, len(everyone), 50000):
            ch = everyone[lo:lo + 50000]
            b = _group_boost(w, ch, flag if boosted else None)
            new_reg[ch] = _registration_times(w, ch, E[ch], b)
        reg = np.where(initial, init_reg, np.where(new_reg <= SIM_DAY, np.floor(new_reg), INF))
        reg = np.where(reg < w["exit"], reg, INF)
    w["g_reg0"] = reg
    w["g_initial"] = initial
    w["g_flag"] = _cooffence_member_flag(w, reg, reg + dereg_len)


def _education_draws(rng: np.random.Generator, w: dict, n_ep: int = 10) -> None:
    n = w["n"]
    z = w["z"]
    d = {
        "E": rng.exponential(1.0, (n, n_ep)),
        "u_type": rng.random((n, n_ep)),
        "u_level": rng.random((n, n_ep)),
        "u_drop": rng.random((n, n_ep)),
        "u_frac": rng.random((n, n_ep)),
        "u_dur": rng.random((n, n_ep)),
        "job_months": 1 + rng.geometric(1 / 14.0, (n, n_ep)),
        "side": rng.random(n) < 0.25,
    }
    d["gap_rate"] = 1.0 / ((2.0 + 6.0 * np.minimum(z, 8)) * DAYS_PER_MONTH)  # per day
    w["edu_draws"] = d
    byear = to_date(w["birth"]).astype("datetime64[Y]")
    prim_start = ((byear + 6).astype("datetime64[D]") + 226 - DATA_START).astype(np.float64)
    prim_end = ((byear + 16).astype("datetime64[D]") + 170 - DATA_START).astype(np.float64)
    w["prim"] = (prim_start, prim_end)


def _education_chain(w: dict, pids: np.ndarray, tau: np.ndarray | None, hr: float) -> dict:
    """Episodes after primary school: a gap ("in neither"), then an education spell or a job.

    Gap ``e`` starts at ``g[e]``; entry happens when the gap's cumulative hazard (constant rate
    per person) crosses Exp(1) draw ``E[e]``; with ``tau`` the rate is multiplied by ``hr`` from
    tau on (treated world). Education starts at the entry time; a job starts on the first day of
    the next month and lasts whole months.
    """
    d = w["edu_draws"]
    n_ep = d["E"].shape[1]
    k = len(pids)
    rate = d["gap_rate"][pids]
    g = w["prim"][1][pids] + 1
    age_birth = w["birth"][pids]
    youth_done = np.zeros(k, dtype=bool)
    out = {f: np.full((k, n_ep), np.nan) for f in ("g", "T", "start", "end")}
    out["kind"] = np.full((k, n_ep), -1)  # 0 job, 1 youth_general, 2 vocational, 3 fgu, 4 higher
    out["status"] = np.full((k, n_ep), -1)  # 0 completed, 1 dropped_out
    for e in range(n_ep):
        E = d["E"][pids, e]
        T = g + E / rate
        if tau is not None:
            in_gap = (g <= tau) & (tau < T)
            used = rate * (tau - g)
            T = np.where(in_gap, tau + (E - used) / (rate * hr), T)
        age = (T - age_birth) / 365.25
        p_edu = np.where(age < 20, 0.7, np.where(youth_done, 0.35, 0.25))
        is_edu = d["u_type"][pids, e] < p_edu
        ul = d["u_level"][pids, e]
        zz = np.minimum(w["z"][pids], 8)
        p_fgu = np.clip(0.1 + 0.05 * zz, 0, 0.5)
        level = np.where(youth_done, 4, np.where(ul < p_fgu, 3, np.where(ul < p_fgu + (1 - p_fgu) * 0.5,
                                                                         1, 2)))
        nominal = np.choose(level, [0, 3 * 365.25, 3.5 * 365.25, 365.25, 4 * 365.25]) * (
            0.9 + 0.2 * d["u_dur"][pids, e])
        p_drop = np.clip(0.15 + 0.06 * zz, 0, 0.8)
        drop = d["u_drop"][pids, e] < p_drop
        edu_len = np.where(drop, nominal * (0.1 + 0.8 * d["u_frac"][pids, e]), nominal)
        job_start = month_ceil(T)
        jm = d["job_months"][pids, e]
        jm_end = _add_months(job_start, jm)
        start = np.where(is_edu, np.ceil(T), job_start)
        end = np.where(is_edu, np.ceil(T + edu_len), jm_end)
        out["g"][:, e] = g
        out["T"][:, e] = T
        out["start"][:, e] = start
        out["end"][:, e] = end
        out["kind"][:, e] = np.where(is_edu, level, 0)
        out["status"][:, e] = np.where(is_edu & drop, 1, 0)
        youth_done |= is_edu & ~drop & (level <= 3)
        g = np.where(is_edu, end + 1, end)
    return out


def _add_months(day: np.ndarray, months: np.ndarray) -> np.ndarray:
    d = to_date(np.minimum(day, 1e6))
    m = d.astype("datetime64[M]") + months.astype(np.int64)
    return (m.astype("datetime64[D]") - DATA_START).astype(np.float64)


def _contacts(rng: np.random.Generator, w: dict) -> None:
    a = w["arr"]
    n = w["n"]
    ok = a["kept0"]
    day = a["day_shared0"]
    pid = a["pid"]
    # charges in the last 12 months (including this one), per arrival
    idx = np.flatnonzero(ok)
    order = idx[np.lexsort((day[idx], pid[idx]))]
    p_o, d_o = pid[order], day[order]
    key = p_o.astype(np.float64) * 1e6 + d_o
    n12 = np.searchsorted(key, key, side="right") - np.searchsorted(key, key - 365, side="left")
    cnt12 = np.zeros(len(pid))
    cnt12[order] = n12
    charge_day = day + a["charge_delay"]
    viol = np.isin(w["cat_names"][a["cat"][a["case0"]]], ("violence", "weapons"))  # case's
    flag = w["g_flag"]
    trig = ok & (viol | flag) & (charge_day >= INIT_DAY - 60) & (charge_day <= END_DAY)
    t_idx = np.flatnonzero(trig)
    tp = pid[t_idx]
    cdate = charge_day[t_idx] + 2 + np.floor(rng.exponential(CONTACT_DELAY_MEAN_DAYS, len(t_idx)))
    age = (cdate - w["birth"][tp]) / 365.25
    muni = _municipality_at(w, tp, cdate)
    # the initiative's area: the study municipality, or (national) any municipality
    in_area = (muni != "") if w.get("national") else (muni == AALBORG_MUNICIPALITY)
    neither = np.any((w["edu0"]["g"][tp] <= cdate[:, None]) & (cdate[:, None] < w["edu0"]["start"][tp]),
                     axis=1)
    member = (w["g_reg0"][tp] <= cdate) & (cdate < w["g_reg0"][tp] + w["g_dereg_len"][tp])
    # not in custody at the contact (custody spells of charges before it)
    day0 = np.floor(np.minimum(a["t0"], INF))
    sp_pid, sp_s, sp_e = _custody_spells(a, pid, day0)
    vs = _valid_sp(a, ok)
    jailed = in_spells(sp_pid[vs], sp_s[vs], sp_e[vs], tp, cdate)
    eligible = ((cdate >= INIT_DAY) & (cdate <= END_DAY) & (age >= 14) & (age < AGE_MAX_CONTACT)
                & in_area & (cdate < w["exit"][tp]) & ~jailed)
    lin = (-1.0 + 0.30 * np.minimum(cnt12[t_idx], 8) + 0.7 * viol[t_idx] + 1.6 * flag[t_idx]
           + 0.6 * neither + 0.5 * member)
    hit = eligible & (rng.random(len(t_idx)) < expit(lin))
    # every contact the policy would make (the first is the index contact; the others are the
    # later contact dates of the "not now" world of evaluation.simulate.truth)
    w["contact_hits"] = (tp[hit], cdate[hit])
    first = np.full(n, INF)
    np.minimum.at(first, tp[hit], cdate[hit])
    w["tau"] = first
    # the triggering charges and the contacts they led to (for the process truth; no draws)
    w["triggers"] = {"pid": tp, "charge_day": charge_day[t_idx], "contact_day": cdate, "hit": hit,
                     "p_hit": np.where(eligible, expit(lin), 0.0)}
    contacted = np.flatnonzero(first < INF)
    w["contacted"] = contacted
    # follow-up contacts
    k = np.minimum(rng.poisson(0.8, len(contacted)), 4)
    fp = np.repeat(contacted, k)
    gaps = 14 + np.floor(rng.exponential(60, len(fp)))
    pos = _within(fp)
    cum = np.zeros(len(fp))
    if len(fp):
        grp_start = np.r_[True, fp[1:] != fp[:-1]]
        cs = np.cumsum(gaps)
        base = np.repeat(cs[grp_start] - gaps[grp_start], np.bincount(np.cumsum(grp_start) - 1))
        cum = cs - base
    fdate = first[fp] + cum
    keep = (fdate <= END_DAY) & (fdate < w["exit"][fp])
    del pos
    c_pid = np.r_[contacted, fp[keep]]
    c_day = np.r_[first[contacted], fdate[keep]]
    c_first = np.r_[np.ones(len(contacted), bool), np.zeros(keep.sum(), bool)]
    age_c = (c_day - w["birth"][c_pid]) / 365.25
    u = rng.random(len(c_pid))
    ctype = np.where(c_first, np.where(u < 0.75, 0, np.where(u < 0.85, 2, np.where(u < 0.92, 1, 3))),
                     np.where(u < 0.7, 1, np.where(u < 0.85, 0, np.where(u < 0.95, 2, 3))))
    pp = rng.random(len(c_pid)) < np.where(age_c < 18, 0.7, 0.2)
    pp_null = rng.random(len(c_pid)) < 0.04
    ref = rng.choice(5, len(c_pid), p=[0.3, 0.25, 0.15, 0.1, 0.2])
    w["contacts"] = {"pid": c_pid, "day": c_day, "type": ctype, "parents": pp, "parents_null": pp_null,
                         "ref": ref}
    # the policy's own random numbers for a postponed index contact (the "not now" world of
    # evaluation.simulate.truth): drawn last, so that no other draw of the world changes
    w["not_now_draws"] = (rng.random(n), np.floor(rng.exponential(CONTACT_DELAY_MEAN_DAYS, n)))


def contacted_arrival_times(w: dict, contact_day: np.ndarray, hr: float) -> tuple[np.ndarray, np.ndarray]:
    """Charge arrival times when each person is first contacted on ``contact_day`` (INF: never).

    Arrivals after the cumulative hazard at the contact are mapped through the hazard times
    ``hr`` (common random numbers). Returns (times, post): post marks the mapped arrivals.
    """
    a = w["arr"]
    H = w["H"]
    c = w["cohort"] - w["c0"]
    z = w["z"]
    pid = a["pid"]
    con = contact_day[pid] < INF
    lam_tau = np.zeros(len(pid))
    lam_tau[con] = z[pid[con]] * H.at(c[pid[con]], contact_day[pid[con]])
    # after the contact: later on the hazard scale, and not a co-offence dated (by its case) on or
    # before the contact date - such a charge is part of the history that led to the contact
    post = con & (a["S"] > lam_tau) & (a["day_shared0"] > contact_day[pid])
    s_treated = np.where(post, lam_tau + (a["S"] - lam_tau) / hr, a["S"])
    t1 = a["t0"].copy()
    t1[post] = H.inverse(c[pid[post]], s_treated[post] / z[pid[post]])
    return t1, post


def _treated_world(effects: Effects, w: dict) -> None:
    """Outcomes after the first contact in the treated world, with the same random numbers."""
    a = w["arr"]
    tau = w["tau"]
    pid = a["pid"]
    w["effects"] = effects
    t1, post = contacted_arrival_times(w, tau, effects.reoffending)
    a["t1"] = t1  # treated-world times for the contacted (equal to t0 before the contact)
    a["post"] = post
    a["kept1"] = _thin(w, pid, t1)
    # groups: contacted persons not registered at tau
    cont = w["contacted"]
    reg0 = w["g_reg0"]
    at_risk = cont[reg0[cont] > tau[cont]]
    if len(at_risk):
        b = _group_boost(w, at_risk, w["g_flag_pass"])
        r0 = _registration_times(w, at_risk, w["g_E"][at_risk], b)
        r1 = _registration_times(w, at_risk, w["g_E"][at_risk], b, tau=tau[at_risk],
                                 hr=effects.group_recruitment)
        f0 = np.where(r0 <= SIM_DAY, np.floor(r0), INF)
        f1 = np.where(r1 <= SIM_DAY, np.floor(r1), INF)
        f0 = np.where(f0 < w["exit"][at_risk], f0, INF)
        f1 = np.where(f1 < w["exit"][at_risk], f1, INF)
    else:
        f0 = f1 = np.zeros(0)
    w["g_risk"] = (at_risk, f0, f1)
    reg1 = reg0.copy()
    reg1[at_risk] = f1
    w["g_reg1"] = reg1
    # education / job: re-run the chain with the treated rate after tau
    w["edu1"] = _education_chain(w, cont, tau[cont], effects.education_job)


def _assemble(rng: np.random.Generator, w: dict) -> dict[str, pd.DataFrame]:
    """The realised tables, cut at the end of the data (integer days; dates added later)."""
    tables: dict[str, pd.DataFrame] = {}
    exit_ = w["exit"]
    # residence
    r = w["res"]
    end = np.where(r["end"] > END_DAY, np.nan, r["end"])
    tables["residence"] = pd.DataFrame({"pid": r["pid"], "municipality_code": r["code"],
                                        "from_date": r["start"], "to_date": end})
    # vital
    death = np.where(w["death"] <= END_DAY, w["death"], np.nan)
    emig = np.where(w["emig"] <= END_DAY, w["emig"], np.nan)
    both = ~np.isnan(death) & ~np.isnan(emig)
    death = np.where(both & (emig < death), np.nan, death)
    emig = np.where(both & ~np.isnan(death), np.nan, emig)
    has = ~np.isnan(death) | ~np.isnan(emig)
    tables["vital"] = pd.DataFrame({"pid": np.flatnonzero(has), "death_date": death[has],
                                    "emigration_date": emig[has]})
    # charges: realised arrival times (treated world after the first contact)
    a = w["arr"]
    m = len(a["pid"])
    post = a["post"]
    kept = np.where(post | (w["tau"][a["pid"]] < INF), a["kept1"], a["kept0"])
    t = np.where(post, a["t1"], a["t0"])
    off_day = np.where(post, np.floor(np.minimum(t, INF)), a["day_shared0"])
    case = np.where(post, m + np.arange(m), a["case0"])
    # treated arrivals keep their own case; pre-contact ones keep the shared one
    in_data = kept & (off_day <= END_DAY)
    orig_day = np.floor(np.minimum(t, INF))
    charge_day = off_day + a["charge_delay"]
    idx = np.flatnonzero(in_data & (charge_day <= END_DAY))
    lead = np.where(post, np.arange(m), a["case0"])[idx]  # arrival whose offence is the case's
    # the co-offence: category and code of the case's first arrival
    cat = a["cat"][lead]
    code = a["code_no"][lead]
    letters = np.array([CATEGORY_LETTER[c] for c in w["cat_names"]])
    tables["charges"] = pd.DataFrame({
        "pid": a["pid"][idx],
        "case_id": case[idx],
        "offence_date": off_day[idx],
        "charge_date": charge_day[idx],
        "offence_code": pd.Series(letters[cat]).str.cat(pd.Series(code).map("{:04d}".format),
                                                        sep="-").to_numpy(),
        "offence_category": w["cat_names"][cat],
    })
    # convictions and custody for kept arrivals (decision dates from the own offence day)
    dec = orig_day + a["charge_delay"] + a["decision_delay"]
    cidx = np.flatnonzero(in_data & a["decided"] & (dec <= END_DAY) & (dec < exit_[a["pid"]]))
    sanction_names = np.array(["custody", "suspended", "community_service", "fine", "acquittal",
                               "withdrawn"])
    tables["convictions"] = pd.DataFrame({
        "pid": a["pid"][cidx], "case_id": case[cidx], "decision_date": dec[cidx],
        "offence_date": off_day[cidx], "sanction": sanction_names[a["sanction"][cidx]],
    })
    r_start = orig_day + a["charge_delay"]
    r_end = r_start + a["remand_len"]
    p_start = dec + a["prison_wait"]
    p_end = p_start + a["prison_len"]
    ri = np.flatnonzero(in_data & a["remand"] & (r_start <= END_DAY))
    pi = np.flatnonzero(in_data & a["decided"] & (a["sanction"] == 0) & (p_start <= END_DAY)
                        & (dec < exit_[a["pid"]]))
    cp = np.r_[a["pid"][ri], a["pid"][pi]]
    cs = np.r_[r_start[ri], p_start[pi]]
    ce = np.r_[r_end[ri], p_end[pi]]
    ce = np.minimum(ce, np.where(exit_[cp] <= END_DAY, exit_[cp], INF))
    ce = np.where(ce > END_DAY, np.nan, ce)
    age_s = (cs - w["birth"][cp]) / 365.25
    ctype = np.r_[np.full(len(ri), "remand"), np.where(age_s[len(ri):] < 18, "secure_youth",
                                                        "prison")]
    cust = pd.DataFrame({"pid": cp, "start_date": cs, "end_date": ce, "custody_type": ctype})
    cust = cust[cs < exit_[cp]]
    cust = cust.sort_values(["pid", "start_date", "custody_type"], kind="stable")
    tables["custody"] = cust.drop_duplicates(["pid", "start_date"])
    tables["charges"] = tables["charges"].drop_duplicates(["pid", "case_id", "offence_code"])
    tables["convictions"] = tables["convictions"].drop_duplicates(["pid", "case_id"])
    # education and employment (treated chain for the contacted)
    tables.update(_education_tables(rng, w))
    # group registrations
    reg = w["g_reg1"]
    dereg = reg + w["g_dereg_len"]
    gi = np.flatnonzero((reg <= END_DAY) & (reg < exit_) & (dereg >= 0))
    dr = np.where((dereg[gi] > END_DAY) | (dereg[gi] >= exit_[gi]), np.nan, np.floor(dereg[gi]))
    tables["group_registrations"] = pd.DataFrame({
        "pid": gi, "group_id": np.array(GROUP_IDS)[w["g_group"][gi]],
        "registered_date": reg[gi], "deregistered_date": dr,
    })
    # contacts
    ct = w["contacts"]
    ctypes = np.array(["knock_knock", "taskforce_followup", "ssp", "other"])
    refs = np.array(["leisure", "education", "employment", "treatment", "none"])
    parents = np.where(ct["parents"], "true", "false").astype(object)
    parents[ct["parents_null"]] = None
    con = pd.DataFrame({"pid": ct["pid"], "contact_date": ct["day"],
                        "contact_type": ctypes[ct["type"]], "parents_present": parents,
                        "referred_to": refs[ct["ref"]]})
    tables["contacts"] = con.drop_duplicates(["pid", "contact_date", "contact_type"])
    return tables


def _education_tables(rng: np.random.Generator, w: dict) -> dict[str, pd.DataFrame]:
    n = w["n"]
    exit_ = w["exit"]
    ch = {k: v.copy() for k, v in w["edu0"].items()}
    cont = w["contacted"]
    for k, arr in ch.items():
        arr[cont] = w["edu1"][k]
    n_ep = ch["g"].shape[1]
    levels = np.array(["", "youth_general", "youth_vocational", "fgu", "higher"])
    # primary school
    ps, pe = w["prim"]
    cut = np.minimum(exit_, END_DAY + 1)
    prim_ok = (pe >= 0) | True
    p_end = np.where(pe <= END_DAY, pe, np.nan)
    p_end = np.where(exit_ < pe, exit_, p_end)
    p_status = np.where(np.isnan(p_end), "ongoing", np.where(exit_ < pe, "dropped_out",
                                                              "completed"))
    p_end = np.where(p_end > END_DAY, np.nan, p_end)
    prim = pd.DataFrame({"pid": np.arange(n), "start_date": ps, "end_date": p_end,
                         "level": "primary", "status": p_status})
    prim = prim[prim_ok & (ps < cut)]
    # later education spells
    pid = np.repeat(np.arange(n), n_ep)
    kind = ch["kind"].ravel()
    st = ch["start"].ravel()
    en = ch["end"].ravel()
    status = ch["status"].ravel()
    is_edu = kind > 0
    sel = is_edu & (st < cut[pid]) & (en >= -3 * 365)
    p_ = pid[sel]
    s_, e_, k_, stt = st[sel], en[sel], kind[sel], status[sel]
    ended_by_exit = exit_[p_] < e_
    e_out = np.where(ended_by_exit, exit_[p_], e_)
    stat = np.where(ended_by_exit, "dropped_out", np.where(stt == 1, "dropped_out", "completed"))
    open_ = e_out > END_DAY
    stat = np.where(open_, "ongoing", stat)
    e_out = np.where(open_, np.nan, e_out)
    edu = pd.DataFrame({"pid": p_, "start_date": s_, "end_date": e_out, "level": levels[k_],
                        "status": stat})
    education = pd.concat([prim, edu], ignore_index=True)
    education = education.sort_values(["pid", "start_date", "level"], kind="stable")
    education = education.drop_duplicates(["pid", "start_date", "level"])
    # employment: job months (hours >= threshold) and side jobs in gaps (hours below it)
    ms = w["H"].ms
    end_m = np.searchsorted(ms, END_DAY, side="right") - 1  # index of the last data month
    job = kind == 0
    js = np.searchsorted(ms, st[job], side="left")
    je = np.searchsorted(ms, en[job], side="left")  # exclusive
    jp = pid[job]
    js = np.maximum(js, 0)
    je = np.minimum(je, end_m + 1)
    cnt = np.maximum(je - js, 0)
    mp = np.repeat(jp, cnt)
    mm = np.repeat(js, cnt) + _within(np.repeat(np.arange(len(cnt)), cnt))
    hours = np.round(np.clip(rng.normal(125, 30, len(mm)), JOB_HOURS_THRESHOLD + 0.5, 172), 1)
    # side jobs in gaps
    gs = ch["g"].ravel()
    ge = ch["start"].ravel()
    side = w["edu_draws"]["side"][pid]
    gsel = side & (ge > gs)
    g_s = np.maximum(np.searchsorted(ms, gs[gsel], side="left"), 0)
    g_e = np.minimum(np.searchsorted(ms, ge[gsel], side="right") - 1, end_m + 1)
    gp = pid[gsel]
    gcnt = np.maximum(g_e - g_s, 0)
    sp = np.repeat(gp, gcnt)
    sm = np.repeat(g_s, gcnt) + _within(np.repeat(np.arange(len(gcnt)), gcnt))
    keep_side = rng.random(len(sm)) < 0.3
    sp, sm = sp[keep_side], sm[keep_side]
    shours = np.round(rng.uniform(2, JOB_HOURS_THRESHOLD - 0.5, len(sm)), 1)
    ep = np.r_[mp, sp]
    em = np.r_[mm, sm]
    eh = np.r_[hours, shours]
    age_m = (ms[np.minimum(em, len(ms) - 1)] - w["birth"][ep]) / 365.25
    ok = (em <= end_m) & (ms[np.minimum(em, len(ms) - 1)] < exit_[ep]) & (age_m >= 15)
    ep, em, eh = ep[ok].astype(np.int32), em[ok].astype(np.int32), eh[ok]
    order = np.lexsort((em, ep))  # stable: job months come before side jobs in the same month
    ep, em, eh = ep[order], em[order], eh[order]
    first = np.r_[True, (ep[1:] != ep[:-1]) | (em[1:] != em[:-1])]
    emp = pd.DataFrame({"pid": ep[first], "month_index": em[first], "hours": eh[first]})
    return {"education": education, "employment": emp}
