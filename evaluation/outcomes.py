"""Outcome derivation: from the warehouse, for every cohort row, measured from its index date.

Every cohort row (one person in one arm of one matched set) gets, per outcome:

- ``time``: days from the index date to the first event or to the end of follow-up, whichever
  comes first;
- ``status``: 1 the event, 2 a competing event (death or emigration ended follow-up before any
  event), 0 censored (end of data, or - comparison arm - being contacted).

An event must happen strictly *after* the index date: an event on the index date is not counted
(it may have triggered the contact). An event on the end date counts as the event.

Follow-up ends at the cohort's ``end_date`` (its ``end_reason`` says why). For the hazard models
of reoffending, time in custody is not time at risk of offending in the community: the
counting-process (start-stop) version removes custody spells from follow-up. An event that falls
inside a custody spell keeps the last day before it at risk (the spell is cut one day short), so
that the event is not lost.

Definitions (``definition`` in the analysis plan):

``first_charge``
    First charge with an offence date after index (optionally only some offence categories).
``first_guilty_decision``
    First guilty decision (:data:`evaluation.contract.GUILTY_SANCTIONS`) for an offence committed
    within ``offence_window_days`` after index; decisions are collected until the data end. The
    event time is the offence date; follow-up is also censored at the end of the window.
``first_education_or_job``
    First start of an education spell, or first month with paid hours at or above the threshold,
    after index (an employment month counts from its first day, so only months starting after
    the index date count). Population: those in neither at index (an education spell covering
    the index date, or the index month's hours at or above the threshold).
``first_registration``
    First registration in the register of criminal groups after index. Population: those not
    registered at index.
``first_cooffence_with_member``
    First charge after index whose case is shared with another person who is registered in a
    criminal group on the offence date. Population: those not registered at index.

All steps are vectorised merges on the warehouse tables; nothing loops over people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .contract import GUILTY_SANCTIONS
from .io import read_warehouse

COMPETING_REASONS = ("death", "emigration")
ROW = "_row"


@dataclass
class WarehouseTables:
    """The warehouse tables outcome derivation reads (read once, then shared)."""

    charges: pd.DataFrame
    convictions: pd.DataFrame
    custody: pd.DataFrame
    education: pd.DataFrame
    employment: pd.DataFrame
    group_registrations: pd.DataFrame
    data_end: pd.Timestamp
    _cooffences: pd.DataFrame | None = field(default=None, repr=False)
    folder: Path | None = None
    _negative_controls: pd.DataFrame | None = field(default=None, repr=False)

    @classmethod
    def read(cls, folder: str | Path, data_end: dt.date | pd.Timestamp) -> WarehouseTables:
        """Read the tables needed from ``folder`` as of ``data_end`` (nothing dated after it)."""
        as_of = pd.Timestamp(data_end).date()
        def dates(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
            for c in cols:
                frame[c] = pd.to_datetime(frame[c]).astype("datetime64[ns]")
            frame["person_id"] = frame["person_id"].astype(str)
            return frame.reset_index(drop=True)

        charges = dates(read_warehouse(folder, "charges", ["person_id", "case_id", "offence_date",
                                                           "offence_category"], as_of=as_of), ["offence_date"])
        charges["case_id"] = charges["case_id"].astype(str)
        charges["offence_category"] = charges["offence_category"].astype(str)
        conv = dates(read_warehouse(folder, "convictions", ["person_id", "case_id", "decision_date",
                                                            "offence_date", "sanction"], as_of=as_of),
                     ["decision_date", "offence_date"])
        conv["sanction"] = conv["sanction"].astype(str)
        custody = dates(read_warehouse(folder, "custody", ["person_id", "start_date", "end_date"], as_of=as_of),
                        ["start_date", "end_date"])
        edu = dates(read_warehouse(folder, "education", ["person_id", "start_date", "end_date"], as_of=as_of),
                    ["start_date", "end_date"])
        emp = read_warehouse(folder, "employment", ["person_id", "month", "hours"], as_of=as_of).reset_index(drop=True)
        emp["person_id"] = emp["person_id"].astype(str)
        month = emp["month"]
        if not pd.api.types.is_datetime64_any_dtype(month):
            month = pd.to_datetime(month.astype(str).str.slice(0, 7) + "-01", format="%Y-%m-%d")
        emp["month_start"] = pd.to_datetime(month).dt.to_period("M").dt.start_time.astype("datetime64[ns]")
        emp["hours"] = emp["hours"].astype(float)
        groups = dates(read_warehouse(folder, "group_registrations",
                                      ["person_id", "group_id", "registered_date", "deregistered_date"],
                                      as_of=as_of),
                       ["registered_date", "deregistered_date"])
        return cls(charges, conv, custody, edu, emp[["person_id", "month_start", "hours"]], groups,
                   pd.Timestamp(data_end), folder=Path(folder))

    def negative_control_events(self) -> pd.DataFrame:
        """``negative_control_events`` (person_id, event_date, outcome) up to the data end; empty
        when the warehouse has no such table (then no negative control can be estimated)."""
        if self._negative_controls is None:
            cols = ["person_id", "event_date", "outcome"]
            if self.folder is None or not (Path(self.folder) / "negative_control_events.parquet").exists():
                self._negative_controls = pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
                self._negative_controls["event_date"] = pd.Series(dtype="datetime64[ns]")
            else:
                ev = read_warehouse(self.folder, "negative_control_events", cols).reset_index(drop=True)
                ev["person_id"] = ev["person_id"].astype(str)
                ev["outcome"] = ev["outcome"].astype(str)
                ev["event_date"] = pd.to_datetime(ev["event_date"]).astype("datetime64[ns]")
                self._negative_controls = ev[ev["event_date"] <= self.data_end]
        return self._negative_controls

    def cooffences(self) -> pd.DataFrame:
        """Offences (person_id, offence_date) committed together with a registered group member.

        A co-offence is a charge sharing its ``case_id`` with a charge of another person who is
        registered in a criminal group on the offence date (registered on or before it and not
        deregistered on or before it).
        """
        if self._cooffences is None:
            import duckdb

            con = duckdb.connect()
            con.register("charges", self.charges[["person_id", "case_id", "offence_date"]])
            con.register("groups", self.group_registrations)
            self._cooffences = con.execute(
                """
                SELECT DISTINCT a.person_id, a.offence_date
                FROM charges a
                JOIN charges b ON a.case_id = b.case_id AND a.person_id <> b.person_id
                JOIN groups g ON g.person_id = b.person_id
                     AND g.registered_date <= a.offence_date
                     AND (g.deregistered_date IS NULL OR g.deregistered_date > a.offence_date)
                ORDER BY a.person_id, a.offence_date
                """
            ).df()
            con.close()
            self._cooffences["offence_date"] = pd.to_datetime(self._cooffences["offence_date"]).astype("datetime64[ns]")
        return self._cooffences


@dataclass
class OutcomeData:
    """One outcome derived for a cohort.

    Attributes
    ----------
    frame : DataFrame
        One row per cohort row in the outcome's population: person_id, set_id, arm, treated,
        weight, time (days), status (0 censored, 1 event, 2 competing).
    start_stop : DataFrame or None
        Counting-process rows with custody spells removed: person_id, set_id, arm, treated,
        weight, start, stop, status (the status on the row where follow-up ends, else 0).
    counts : DataFrame or None
        For count outcomes: person_id, set_id, arm, treated, weight, n_events (new charges in
        follow-up), person_time (days at risk outside custody).
    population : dict
        Rows at risk at index per arm ({"contacted": n, "comparison": n}).
    """

    frame: pd.DataFrame
    start_stop: pd.DataFrame | None = None
    counts: pd.DataFrame | None = None
    population: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# building blocks

def _rows(cohort: pd.DataFrame) -> pd.DataFrame:
    out = cohort.copy()
    out[ROW] = np.arange(len(out))
    out["person_id"] = out["person_id"].astype(str)
    for c in ("index_date", "end_date"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    if "weight" not in out:
        out["weight"] = 1.0
    return out


def first_after(rows: pd.DataFrame, events: pd.DataFrame, date_col: str,
                window_days: int | None = None) -> pd.Series:
    """First event date strictly after each row's index date (NaT when none).

    Parameters
    ----------
    rows : DataFrame
        With ``_row``, ``person_id``, ``index_date``.
    events : DataFrame
        With ``person_id`` and ``date_col``.
    window_days : int, optional
        Only events at most this many days after the index date.

    Returns
    -------
    Series indexed like ``rows`` (by position), datetime64.
    """
    m = rows[[ROW, "person_id", "index_date"]].merge(events[["person_id", date_col]], on="person_id")
    m = m[m[date_col] > m["index_date"]]
    if window_days is not None:
        m = m[(m[date_col] - m["index_date"]).dt.days <= window_days]
    first = m.groupby(ROW)[date_col].min()
    return rows[ROW].map(first).astype("datetime64[ns]").set_axis(rows.index)


def time_status(rows: pd.DataFrame, event_date: pd.Series, admin_days: int | None = None) -> pd.DataFrame:
    """Time (days) and status from the first event date and the cohort's end of follow-up.

    ``status`` is 1 when the event comes on or before ``end_date`` (and within ``admin_days``
    when given), otherwise 2 when follow-up ended by death or emigration, else 0. With
    ``admin_days``, follow-up is also censored (status 0) at that many days after index.
    """
    t_end = (rows["end_date"] - rows["index_date"]).dt.days.astype(float)
    competing = rows["end_reason"].astype(str).isin(COMPETING_REASONS)
    status_end = np.where(competing, 2, 0)
    if admin_days is not None:
        beyond = t_end > admin_days
        status_end = np.where(beyond, 0, status_end)
        t_end = t_end.clip(upper=admin_days)
    t_event = (event_date - rows["index_date"]).dt.days.astype(float)
    is_event = t_event.notna() & (t_event <= t_end)
    time = np.where(is_event, t_event, t_end)
    status = np.where(is_event, 1, status_end)
    return pd.DataFrame({"time": time.astype(float), "status": status.astype(int)}, index=rows.index)


def remove_custody(frame: pd.DataFrame, custody: pd.DataFrame, data_end: pd.Timestamp) -> pd.DataFrame:
    """Counting-process (start-stop) rows with custody spells removed from the time at risk.

    Parameters
    ----------
    frame : DataFrame
        One row per cohort row: ``_row``, ``person_id``, ``index_date``, ``time``, ``status``
        and any other columns to carry along.
    custody : DataFrame
        ``person_id``, ``start_date``, ``end_date`` (null = still in custody at the data end).
    data_end : Timestamp
        End of data (closes open custody spells).

    Returns
    -------
    DataFrame
        The carried columns plus ``start`` and ``stop`` (days since index) per at-risk segment,
        ``status`` on the last segment, 0 on earlier ones. A custody spell from day ``s`` to
        day ``e`` removes the interval (s, e]. When the event or competing event falls inside
        a spell, the spell is cut to end the day before it so that the event keeps one day at
        risk. Follow-up that is entirely in custody yields no row.
    """
    base = frame.drop(columns=[c for c in ("start", "stop") if c in frame])
    c = frame[[ROW, "person_id", "index_date", "time", "status"]].merge(custody, on="person_id")
    end = c["end_date"].fillna(data_end)
    cs = (c["start_date"] - c["index_date"]).dt.days.astype(float).clip(lower=0)
    limit = np.where(c["status"] != 0, c["time"] - 1, c["time"])
    ce = np.minimum((end - c["index_date"]).dt.days.astype(float), limit)
    spells = pd.DataFrame({ROW: c[ROW].to_numpy(), "cs": cs.to_numpy(), "ce": ce})
    spells = spells[spells["ce"] > spells["cs"]].sort_values([ROW, "cs", "ce"], kind="mergesort")
    if len(spells):
        prev_max = spells.groupby(ROW)["ce"].cummax().groupby(spells[ROW]).shift()
        new_block = prev_max.isna() | (spells["cs"] > prev_max)
        spells["block"] = new_block.cumsum()
        blocks = spells.groupby([ROW, "block"], sort=True).agg(bs=("cs", "min"), be=("ce", "max")).reset_index()
    else:
        blocks = pd.DataFrame({ROW: pd.Series(dtype=int), "block": pd.Series(dtype=int),
                               "bs": pd.Series(dtype=float), "be": pd.Series(dtype=float)})
    blocks = blocks.sort_values([ROW, "bs"], kind="mergesort")
    prev_be = blocks.groupby(ROW)["be"].shift().fillna(0.0)
    before = pd.DataFrame({ROW: blocks[ROW].to_numpy(), "start": prev_be.to_numpy(),
                           "stop": blocks["bs"].to_numpy(), "last": False})
    last_be = blocks.groupby(ROW)["be"].max()
    tail_start = frame[ROW].map(last_be).fillna(0.0)
    tail = pd.DataFrame({ROW: frame[ROW].to_numpy(), "start": tail_start.to_numpy(),
                         "stop": frame["time"].to_numpy(dtype=float), "last": True})
    seg = pd.concat([before, tail], ignore_index=True)
    seg = seg[seg["stop"] > seg["start"]]
    out = seg.merge(base, on=ROW, how="left")
    out["status"] = np.where(out["last"], out["status"], 0).astype(int)
    out = out.drop(columns=["last", "time"]).sort_values([ROW, "start"], kind="mergesort")
    return out.reset_index(drop=True)


def in_education_or_job(rows: pd.DataFrame, tables: WarehouseTables, hours_threshold: float) -> pd.Series:
    """1 when in an education spell covering the index date or working at least
    ``hours_threshold`` hours in the index month, else 0."""
    e = rows[[ROW, "person_id", "index_date"]].merge(tables.education, on="person_id")
    in_edu = e[(e["start_date"] <= e["index_date"]) &
               (e["end_date"].isna() | (e["end_date"] >= e["index_date"]))][ROW]
    j = rows[[ROW, "person_id", "index_date"]].merge(tables.employment, on="person_id")
    idx_month = j["index_date"].dt.to_period("M").dt.start_time
    in_job = j[(j["month_start"] == idx_month) & (j["hours"] >= hours_threshold)][ROW]
    flag = rows[ROW].isin(set(in_edu) | set(in_job))
    return flag.astype(int)


def registered_at_index(rows: pd.DataFrame, tables: WarehouseTables) -> pd.Series:
    """1 when registered in a criminal group on the index date, else 0."""
    g = rows[[ROW, "person_id", "index_date"]].merge(tables.group_registrations, on="person_id")
    reg = g[(g["registered_date"] <= g["index_date"]) &
            (g["deregistered_date"].isna() | (g["deregistered_date"] > g["index_date"]))][ROW]
    return rows[ROW].isin(set(reg)).astype(int)


# ---------------------------------------------------------------------------------------------
# the outcomes

KEEP = ["person_id", "set_id", "arm", "treated", "weight"]


def derive_outcome(cohort: pd.DataFrame, spec, tables: WarehouseTables,
                   extra: tuple[str, ...] = ()) -> OutcomeData:
    """Derive one outcome (an :class:`~evaluation.analysis.plan.OutcomeSpec`) for a cohort.

    Parameters
    ----------
    cohort : DataFrame
        ``cohort.parquet`` rows: person_id, set_id, arm, treated, index_date, weight, end_date,
        end_reason.
    spec : OutcomeSpec
        The outcome's definition from the analysis plan.
    tables : WarehouseTables
        The warehouse tables.
    extra : further cohort columns to carry into ``frame``.

    Returns
    -------
    OutcomeData
    """
    rows = _rows(cohort)
    d = spec.definition
    admin = None
    if d == "first_charge":
        ev = tables.charges
        if spec.offence_categories:
            ev = ev[ev["offence_category"].isin(spec.offence_categories)]
        date = first_after(rows, ev, "offence_date")
    elif d == "first_guilty_decision":
        ev = tables.convictions[tables.convictions["sanction"].isin(GUILTY_SANCTIONS)]
        ev = ev[ev["decision_date"] <= tables.data_end]
        date = first_after(rows, ev, "offence_date", window_days=spec.offence_window_days)
        admin = spec.offence_window_days
    elif d == "first_education_or_job":
        rows = rows[in_education_or_job(rows, tables, spec.hours_threshold) == 0]
        edu = tables.education.rename(columns={"start_date": "date"})[["person_id", "date"]]
        job = tables.employment[tables.employment["hours"] >= spec.hours_threshold]
        job = job.rename(columns={"month_start": "date"})[["person_id", "date"]]
        date = first_after(rows, pd.concat([edu, job], ignore_index=True), "date")
    elif d == "first_registration":
        rows = rows[registered_at_index(rows, tables) == 0]
        date = first_after(rows, tables.group_registrations, "registered_date")
    elif d == "first_negative_control_event":
        ev = tables.negative_control_events()
        date = first_after(rows, ev[ev["outcome"] == spec.negative_control], "event_date")
    elif d == "first_cooffence_with_member":
        rows = rows[registered_at_index(rows, tables) == 0]
        date = first_after(rows, tables.cooffences(), "offence_date")
    else:  # the plan loader only lets known definitions through
        raise ValueError(f"unknown outcome definition {d!r}")
    ts = time_status(rows, date, admin_days=admin)
    keep = [c for c in (*KEEP, *extra) if c in rows]
    frame = pd.concat([rows[[ROW, *keep, *(["index_date"] if "index_date" not in keep else [])]], ts], axis=1)
    start_stop = None
    if spec.remove_custody:
        start_stop = remove_custody(frame, tables.custody, tables.data_end)
        start_stop = start_stop[[*keep, "start", "stop", "status"]]
    counts = None
    if spec.count and d == "first_charge":
        counts = charge_counts(rows, tables, spec.offence_categories)
    population = frame.groupby("arm").size().to_dict() if "arm" in frame else {}
    population = {a: int(population.get(a, 0)) for a in ("contacted", "comparison")}
    out = frame[[*keep, "time", "status"]].reset_index(drop=True)
    return OutcomeData(frame=out, start_stop=start_stop, counts=counts, population=population)


def charge_counts(rows: pd.DataFrame, tables: WarehouseTables, categories: tuple[str, ...] = ()) -> pd.DataFrame:
    """Number of new charges in follow-up and the person-time at risk outside custody.

    A new charge has an offence date after the index date and on or before the end of
    follow-up. Person-time is the follow-up in days minus the days in custody (as in
    :func:`remove_custody`, without any event).
    """
    rows = rows if ROW in rows else _rows(rows)
    ev = tables.charges
    if categories:
        ev = ev[ev["offence_category"].isin(categories)]
    m = rows[[ROW, "person_id", "index_date", "end_date"]].merge(ev[["person_id", "offence_date"]], on="person_id")
    m = m[(m["offence_date"] > m["index_date"]) & (m["offence_date"] <= m["end_date"])]
    n = rows[ROW].map(m.groupby(ROW).size()).fillna(0).astype(int)
    base = rows[[ROW, "person_id", "index_date"]].copy()
    base["time"] = (rows["end_date"] - rows["index_date"]).dt.days.astype(float)
    base["status"] = 0
    seg = remove_custody(base, tables.custody, tables.data_end)
    pt = rows[ROW].map((seg["stop"] - seg["start"]).groupby(seg[ROW]).sum()).fillna(0.0)
    keep = [c for c in KEEP if c in rows]
    out = rows[keep].copy()
    out["n_events"] = n.to_numpy()
    out["person_time"] = pt.to_numpy()
    return out.reset_index(drop=True)
