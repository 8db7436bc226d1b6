"""The outcome derivation as it was before the keyed rewrite of :mod:`evaluation.outcomes`:
pandas merges on the text person ids. Kept only as the oracle the keyed version is checked
against (same frames, bit for bit); not used by the package.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.contract import AALBORG_MUNICIPALITY, GUILTY_SANCTIONS
from evaluation.io import read_warehouse
from evaluation.outcomes import OutcomeData

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


def naive_population(warehouse: Path, contacted: pd.DataFrame, index_date: dt.date,
                     data_end: pd.Timestamp, municipality: str = AALBORG_MUNICIPALITY) -> pd.DataFrame:
    """Contacted cohort rows next to ALL non-contacted eligible residents (the naive contrast).

    The comparison rows are every person who on ``index_date`` (the initiative start) is
    resident in the study area, aged 14-25, alive, not emigrated, not in custody and not
    contacted on or before that date. Their follow-up starts on ``index_date`` and ends at death,
    emigration, their first contact or the data end (``end_reason`` as in the cohort). The
    contacted rows are ``contacted``'s contacted rows: every eligible contacted person
    (:meth:`CohortData.contacted_for_naive`), not only the matched ones. No matching and no
    adjustment: this shows what a naive comparison would conclude.

    Each row gets its own ``set_id`` (negative for the comparison rows): no clustering.
    """
    d0 = pd.Timestamp(index_date)
    as_of = pd.Timestamp(data_end).date()
    persons = read_warehouse(warehouse, "persons", ["person_id", "birth_date"], as_of=as_of).reset_index(drop=True)
    persons["person_id"] = persons["person_id"].astype(str)
    bd = pd.to_datetime(persons["birth_date"])
    before_birthday = (bd.dt.month > d0.month) | ((bd.dt.month == d0.month) & (bd.dt.day > d0.day))
    age = d0.year - bd.dt.year - before_birthday.astype(int)
    ok = persons[(age >= 14) & (age <= 25)][["person_id"]]

    res = read_warehouse(warehouse, "residence", ["person_id", "municipality_code", "from_date", "to_date"], as_of=as_of).reset_index(drop=True)
    res["person_id"] = res["person_id"].astype(str)
    fr, to = pd.to_datetime(res["from_date"]), pd.to_datetime(res["to_date"])
    here = res[(res["municipality_code"].astype(str) == municipality) & (fr <= d0) & (to.isna() | (to >= d0))]
    ok = ok[ok["person_id"].isin(set(here["person_id"]))]

    vital = read_warehouse(warehouse, "vital", ["person_id", "death_date", "emigration_date"], as_of=as_of).reset_index(drop=True)
    vital["person_id"] = vital["person_id"].astype(str)
    # the first death and emigration date of each person, as datetimes (a vectorised minimum)
    first_vital = vital.assign(death_date=pd.to_datetime(vital["death_date"]),
                               emigration_date=pd.to_datetime(vital["emigration_date"])
                               ).groupby("person_id")[["death_date", "emigration_date"]].min()
    death = pd.to_datetime(ok["person_id"].map(first_vital["death_date"]))
    emig = pd.to_datetime(ok["person_id"].map(first_vital["emigration_date"]))
    alive = (death.isna() | (death > d0)) & (emig.isna() | (emig > d0))
    ok = ok[alive.to_numpy()]

    cust = read_warehouse(warehouse, "custody", ["person_id", "start_date", "end_date"], as_of=as_of).reset_index(drop=True)
    cust["person_id"] = cust["person_id"].astype(str)
    cs, ce = pd.to_datetime(cust["start_date"]), pd.to_datetime(cust["end_date"])
    inside = cust[(cs <= d0) & (ce.isna() | (ce >= d0))]
    ok = ok[~ok["person_id"].isin(set(inside["person_id"]))]

    contacts = read_warehouse(warehouse, "contacts", ["person_id", "contact_date"], as_of=as_of).reset_index(drop=True)
    contacts["person_id"] = contacts["person_id"].astype(str)
    cdate = pd.to_datetime(contacts["contact_date"])
    ok = ok[~ok["person_id"].isin(set(contacts[cdate <= d0]["person_id"]))]
    contacts["d"] = cdate.to_numpy()
    first_contact = contacts[contacts["d"] > d0].groupby("person_id")["d"].min()

    ends = pd.DataFrame({
        "death": pd.to_datetime(ok["person_id"].map(first_vital["death_date"])),
        "emigration": pd.to_datetime(ok["person_id"].map(first_vital["emigration_date"])),
        "contacted": ok["person_id"].map(first_contact),
        "end_of_data": pd.Series(data_end, index=ok.index),
    }, index=ok.index).astype("datetime64[ns]")
    order = ["death", "emigration", "contacted", "end_of_data"]
    # the first end (end of data is always there) and its reason: the first column at the
    # minimum, in the order above (ties go to the earlier column), NaT skipped
    days = ends[order].to_numpy("datetime64[ns]").view("int64")
    days = np.where(days == np.iinfo("int64").min, np.iinfo("int64").max, days)
    first = days.argmin(axis=1)
    end_date = pd.Series(days[np.arange(len(days)), first].view("datetime64[ns]"), index=ends.index)
    reason = pd.Series(np.array(order, dtype=object)[first], index=ends.index)
    comp = pd.DataFrame({
        "person_id": ok["person_id"].to_numpy(),
        "set_id": -np.arange(1, len(ok) + 1),
        "arm": "comparison", "treated": 0, "weight": 1.0,
        "index_date": d0, "end_date": end_date.to_numpy(), "end_reason": reason.to_numpy(),
    })
    treated = contacted[contacted["treated"] == 1][
        ["person_id", "set_id", "arm", "treated", "weight", "index_date", "end_date", "end_reason"]].copy()
    treated["set_id"] = np.arange(1, len(treated) + 1)
    out = pd.concat([treated, comp], ignore_index=True)
    out["index_date"] = pd.to_datetime(out["index_date"]).astype("datetime64[ns]")
    out["end_date"] = pd.to_datetime(out["end_date"]).astype("datetime64[ns]")
    return out

