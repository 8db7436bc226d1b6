"""True effects among the contacted, from both potential outcomes of every contacted person.

See :mod:`evaluation.simulate` for the exact definition of what ``truth.json`` holds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .world import (
    INF,
    JOB_HOURS_THRESHOLD,
    SIM_DAY,
    _education_chain,
    _group_boost,
    _registration_times,
    _thin,
    contacted_arrival_times,
)

HORIZONS_DAYS = (183, 365, 730)


def _first_after(pid: np.ndarray, day: np.ndarray, kept: np.ndarray, tau: np.ndarray,
                 people: np.ndarray) -> np.ndarray:
    """Days from tau to the first kept arrival with offence day after tau, per person (INF)."""
    sel = kept & (day > tau[pid]) & (tau[pid] < INF)
    out = np.full(len(tau), INF)
    np.minimum.at(out, pid[sel], day[sel] - tau[pid[sel]])
    return out[people]


def potential_event_times(w: dict) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per outcome family: (persons at risk at index, days to event untreated, days treated).

    Days are INF when the event does not happen before death, emigration or the end of the
    simulation (which lies more than 730 days after every index date).
    """
    tau = w["tau"]
    cont = w["contacted"]
    a = w["arr"]
    out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    # reoffending: first new charge (offence day after the index day)
    post = a["post"]  # arrivals after the contact (mapped through the treated hazard)
    d0 = np.where(post, np.floor(np.minimum(a["t0"], INF)), a["day_shared0"])
    d1 = np.where(post, np.floor(np.minimum(a["t1"], INF)), a["day_shared0"])
    k0 = _thin(w, a["pid"], a["t0"])
    k1 = a["kept1"]
    out["reoffending"] = (cont, _first_after(a["pid"], d0, k0, tau, cont),
                          _first_after(a["pid"], d1, k1, tau, cont))
    # education or job: among those in neither at index (in a gap of the untreated chain)
    e0, e1 = w["edu0"], w["edu1"]
    t = tau[cont]
    g0 = e0["g"][cont]
    s0 = e0["start"][cont]
    in_gap = (g0 <= t[:, None]) & (t[:, None] < s0)
    neither = in_gap.any(axis=1)
    ep = np.argmax(in_gap, axis=1)
    rows = np.flatnonzero(neither)
    ex = w["exit"][cont[rows]]
    st0 = s0[rows, ep[rows]]
    st1 = e1["start"][rows, ep[rows]]
    ev0 = np.where(st0 < ex, st0 - t[rows], INF)
    ev1 = np.where(st1 < ex, st1 - t[rows], INF)
    out["education_job"] = (cont[rows], ev0, ev1)
    # group recruitment: among those not registered at index
    reg0 = w["g_reg0"]
    dereg = reg0 + w["g_dereg_len"]
    member = (reg0[cont] <= t) & (t < dereg[cont])
    pop = cont[~member]
    f0 = np.full(w["n"], INF)
    f1 = np.full(w["n"], INF)
    at_risk, r0, r1 = w["g_risk"]
    f0[at_risk] = r0
    f1[at_risk] = r1
    tp = tau[pop]
    ev0 = np.where(f0[pop] < INF, np.maximum(f0[pop] - tp, 0), INF)
    ev1 = np.where(f1[pop] < INF, np.maximum(f1[pop] - tp, 0), INF)
    out["group_recruitment"] = (pop, ev0, ev1)
    return out


def later_contact_day(w: dict) -> np.ndarray:
    """Per person, the day of the first contact the policy makes after the index contact (INF:
    none): the contact date in the "not now" world, where the index contact does not happen.

    "Not now" is the initiative carrying on as it would for anyone not yet contacted at that
    date: the simulated policy contacts a person at a triggering charge with a probability that
    depends on the history then, 2 + floor(Exp(12)) days after the charge (``contact_hits``
    holds every contact it would make, with the same random numbers). Without the index
    contact:

    - the index contact's own trigger is followed up as the policy follows up a trigger that has
      not led to a contact by that date: with the probability that the policy contacts at that
      trigger and its delay exceeds the days already passed, given that neither happened
      (p S / (1 - p + p S), p the trigger's contact probability, S the probability that the
      delay exceeds the days passed), the contact comes after a fresh delay (the delay is
      memoryless: 1 + floor(Exp(12)) days after the index date, the policy's own draws), if the
      person is still eligible then (aged under 26, in the initiative's area, alive and not
      emigrated, before the end of data; custody is not checked again);
    - every other contact the policy would make after the index date happens as simulated.

    This is what the comparison persons of the matched design experience: at the index date they
    are not contacted yet, and some of them are contacted days later for an incident before it.
    """
    tau = w["tau"]
    pid, day = w["contact_hits"]
    later = day > tau[pid]
    out = np.full(w["n"], INF)
    np.minimum.at(out, pid[later], day[later])
    postponed = _postponed_index_contact(w)
    return np.minimum(out, postponed)


def _postponed_index_contact(w: dict) -> np.ndarray:
    """Per person, the day of the index trigger's contact when it is not made at the index date
    (INF: not made), following the policy's law given no contact by then (see
    :func:`later_contact_day`)."""
    from ..contract import AALBORG_MUNICIPALITY
    from .world import AGE_MAX_CONTACT, CONTACT_DELAY_MEAN_DAYS, END_DAY, _municipality_at

    tau, trg = w["tau"], w["triggers"]
    out = np.full(w["n"], INF)
    idx = np.flatnonzero(trg["hit"] & (trg["contact_day"] == tau[trg["pid"]]))
    if not len(idx) or "not_now_draws" not in w:
        return out
    idx = idx[np.unique(trg["pid"][idx], return_index=True)[1]]  # one index trigger per person
    p = trg["pid"][idx]
    passed = tau[p] - trg["charge_day"][idx] - 2  # the delay drawn, floor(Exp(12))
    surv = np.exp(-(passed + 1) / CONTACT_DELAY_MEAN_DAYS)  # P(delay >= passed + 1)
    q = trg["p_hit"][idx] * surv / (1 - trg["p_hit"][idx] + trg["p_hit"][idx] * surv)
    u, delay = w["not_now_draws"]
    new_day = tau[p] + 1 + delay[p]
    age = (new_day - w["birth"][p]) / 365.25
    in_area = (_municipality_at(w, p, new_day) != "") if w.get("national") else (
        _municipality_at(w, p, new_day) == AALBORG_MUNICIPALITY)
    made = ((u[p] < q) & (new_day <= END_DAY) & (new_day < w["exit"][p]) & (age < AGE_MAX_CONTACT)
            & in_area)
    out[p[made]] = new_day[made]
    return out


def not_now_event_times(w: dict) -> dict[str, np.ndarray]:
    """Per outcome family: days to the event in the "not now" world, aligned with the
    population of :func:`potential_event_times` (the contacted at risk at their index date).

    In the "not now" world a contacted person is not contacted at the index date but may be
    contacted later, as the policy would (:func:`later_contact_day`); from that later contact
    on the configured hazard ratio applies. This is the comparison of the intention-to-treat
    estimand "contact now versus not now".
    """
    tau, cont, eff = w["tau"], w["contacted"], w["effects"]
    later = later_contact_day(w)
    only_contacted = np.full(w["n"], INF)
    only_contacted[cont] = later[cont]
    a = w["arr"]
    t_nn, post_nn = contacted_arrival_times(w, only_contacted, eff.reoffending)
    # days as in the untreated world of potential_event_times until the later contact
    d0 = np.where(a["post"], np.floor(np.minimum(a["t0"], INF)), a["day_shared0"])
    d_nn = np.where(post_nn, np.floor(np.minimum(t_nn, INF)), d0)
    k_nn = _thin(w, a["pid"], t_nn)
    out = {"reoffending": _first_after(a["pid"], d_nn, k_nn, tau, cont)}
    # education or job: the chain with the treated rate from the later contact
    e_nn = _education_chain(w, cont, later[cont], eff.education_job)
    t = tau[cont]
    g0, s0 = w["edu0"]["g"][cont], w["edu0"]["start"][cont]
    in_gap = (g0 <= t[:, None]) & (t[:, None] < s0)
    rows = np.flatnonzero(in_gap.any(axis=1))
    ep = np.argmax(in_gap, axis=1)
    st = e_nn["start"][rows, ep[rows]]
    out["education_job"] = np.where(st < w["exit"][cont[rows]], st - t[rows], INF)
    # group recruitment: registration with the hazard ratio from the later contact
    at_risk = w["g_risk"][0]
    if len(at_risk):
        b = _group_boost(w, at_risk, w["g_flag_pass"])
        r = _registration_times(w, at_risk, w["g_E"][at_risk], b, tau=later[at_risk],
                                hr=eff.group_recruitment)
        f = np.where(r <= SIM_DAY, np.floor(r), INF)
        f = np.where(f < w["exit"][at_risk], f, INF)
    else:
        f = np.zeros(0)
    reg_nn = np.full(w["n"], INF)
    reg_nn[at_risk] = f
    reg0 = w["g_reg0"]
    member = (reg0[cont] <= t) & (t < reg0[cont] + w["g_dereg_len"][cont])
    pop = cont[~member]
    out["group_recruitment"] = np.where(reg_nn[pop] < INF, np.maximum(reg_nn[pop] - tau[pop], 0), INF)
    return out


def marginal_hazard_ratio(ev0: np.ndarray, ev1: np.ndarray, max_days: int = 730) -> float | None:
    """Cox hazard ratio (lifelines) of the treated vs the untreated potential outcomes, stacked.

    Follow-up ends at ``max_days``; death and emigration before the event count as censoring
    (so this is a cause-specific hazard ratio). None when either world has fewer than 5 events.
    """
    from lifelines import CoxPHFitter

    n = len(ev0)
    t = np.r_[ev1, ev0]
    event = t <= max_days
    if n == 0 or min(event[:n].sum(), event[n:].sum()) < 5 or event.all():
        return None  # too few events for a hazard ratio
    frame = pd.DataFrame({
        "time": np.where(event, np.maximum(t, 0.5), max_days),
        "event": event.astype(int),
        "treated": np.r_[np.ones(n), np.zeros(n)],
    })
    cph = CoxPHFitter()
    cph.fit(frame, duration_col="time", event_col="event")
    return float(np.exp(cph.params_["treated"]))


def compute_truth(w: dict, horizons=HORIZONS_DAYS) -> dict:
    """The content of ``truth.json`` (see :mod:`evaluation.simulate` for every field).

    Parameters
    ----------
    w : the simulated world's internal state (``World.truth_inputs``).
    horizons : horizons in days after the index date (the first contact).

    Returns
    -------
    dict
        Per outcome family the risks under contact and without it among the contacted at risk,
        their difference and ratio per horizon, and the marginal hazard ratio.
    """
    fams = potential_event_times(w)
    not_now = not_now_event_times(w)
    result: dict = {
        "horizons_days": list(horizons),
        "hours_threshold": JOB_HOURS_THRESHOLD,
        "n_contacted": len(w["contacted"]),
        "outcomes": {},
    }
    for name, (pop, ev0, ev1) in fams.items():
        per_h = {}
        for h in horizons:
            r1 = float(np.mean(ev1 <= h)) if len(pop) else None
            r0 = float(np.mean(ev0 <= h)) if len(pop) else None
            per_h[str(h)] = {
                "risk_treated": r1,
                "risk_untreated": r0,
                "risk_difference": None if r1 is None else r1 - r0,
                "risk_ratio": None if (r0 is None or r0 == 0) else r1 / r0,
            }
        itt = {}
        for h in horizons:
            r1 = float(np.mean(ev1 <= h)) if len(pop) else None
            rn = float(np.mean(not_now[name] <= h)) if len(pop) else None
            itt[str(h)] = {
                "risk_treated": r1,
                "risk_untreated": rn,
                "risk_difference": None if r1 is None else r1 - rn,
                "risk_ratio": None if (rn is None or rn == 0) else r1 / rn,
            }
        result["outcomes"][name] = {
            "estimand": "contact now versus no contact (per protocol)",
            "intention_to_treat": {"estimand": "contact now versus not now (intention to treat)",
                                   "by_horizon": itt},
            "n_at_risk": len(pop),
            "events_treated_730": int(np.sum(ev1 <= 730)),
            "events_untreated_730": int(np.sum(ev0 <= 730)),
            "by_horizon": per_h,
            "marginal_hazard_ratio": marginal_hazard_ratio(ev0, ev1),
        }
    return result
