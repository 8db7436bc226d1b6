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
from .keyed import NEVER, Events, PersonKeys, Spells, days, month_start, read_keyed

COMPETING_REASONS = ("death", "emigration")
ROW = "_row"


def _codes(arrays: dict, column: str, values) -> np.ndarray:
    """The codes of ``values`` in a text column of :func:`~evaluation.keyed.read_keyed` arrays."""
    return np.flatnonzero(pd.Index(arrays[column + "_values"].astype(str)).isin([str(v) for v in values]))


class WarehouseTables:
    """The warehouse tables outcome derivation reads, read once and shared by every outcome
    and cohort: persons by an integer key (:class:`~evaluation.keyed.PersonKeys`), dates as day
    numbers, and the sorted event arrays each definition searches built once per table (and
    filter) on first use."""

    def __init__(self, folder: str | Path | None, data_end, keys: PersonKeys, arrays: dict[str, dict]) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.data_end = pd.Timestamp(data_end)
        self.end_day = int(days([self.data_end])[0])
        self.keys = keys
        self._arrays = arrays
        self._cache: dict = {}

    @classmethod
    def read(cls, folder: str | Path, data_end: dt.date | pd.Timestamp) -> WarehouseTables:
        """Read the tables needed from ``folder`` as of ``data_end`` (nothing dated after it)."""
        as_of = pd.Timestamp(data_end).date()
        keys = PersonKeys.of_persons(folder)
        spec = {
            "charges": {"dates": ("offence_date",), "texts": ("case_id", "offence_category")},
            "convictions": {"dates": ("decision_date", "offence_date"), "texts": ("sanction",)},
            "custody": {"dates": ("start_date", "end_date")},
            "education": {"dates": ("start_date", "end_date")},
            "employment": {"numbers": ("hours",), "month": "month"},
            "group_registrations": {"dates": ("registered_date", "deregistered_date")},
        }
        arrays = {name: read_keyed(folder, name, keys, as_of=as_of, **kw) for name, kw in spec.items()}
        return cls(folder, data_end, keys, arrays)

    def _once(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def charges(self, categories: tuple[str, ...] = ()) -> Events:
        """Charges by offence date (only ``categories`` when given)."""
        def make():
            a = self._arrays["charges"]
            keep = np.isin(a["offence_category"], _codes(a, "offence_category", categories)) \
                if categories else np.ones(len(a["pk"]), bool)
            return Events(a["pk"][keep], a["offence_date"][keep])
        return self._once(("charges", tuple(categories)), make)

    def guilty_decisions(self) -> Events:
        """Guilty decisions (decided by the data end) by offence date."""
        def make():
            a = self._arrays["convictions"]
            keep = np.isin(a["sanction"], _codes(a, "sanction", GUILTY_SANCTIONS)) \
                & (a["decision_date"] <= self.end_day)
            return Events(a["pk"][keep], a["offence_date"][keep])
        return self._once("guilty", make)

    def education_starts(self) -> Events:
        """Education spells by start date."""
        a = self._arrays["education"]
        return self._once("education_starts", lambda: Events(a["pk"], a["start_date"]))

    def _jobs(self, hours_threshold: float) -> tuple[np.ndarray, np.ndarray]:
        a = self._arrays["employment"]
        keep = a["hours"] >= hours_threshold
        return a["pk"][keep], a["month"][keep]

    def job_months(self, hours_threshold: float) -> Events:
        """Months (their first day) with at least ``hours_threshold`` paid hours."""
        return self._once(("job", float(hours_threshold)), lambda: Events(*self._jobs(hours_threshold)))

    def spells(self, table: str) -> Spells:
        """``custody``, ``education`` or ``group_registrations`` rows sorted by person."""
        def make():
            a = self._arrays[table]
            return Spells(a["pk"], **{c: v for c, v in a.items() if c != "pk"})
        return self._once(("spells", table), make)

    def registrations(self) -> Events:
        """Registrations in the register of criminal groups by registration date."""
        a = self._arrays["group_registrations"]
        return self._once("registrations", lambda: Events(a["pk"], a["registered_date"]))

    def negative_control_events(self, outcome: str) -> Events:
        """``negative_control_events`` of one outcome up to the data end; none when the warehouse
        has no such table (then no negative control can be estimated)."""
        def load():
            path = None if self.folder is None else Path(self.folder) / "negative_control_events.parquet"
            if path is None or not path.exists():
                return None
            return read_keyed(self.folder, "negative_control_events", self.keys,
                              dates=("event_date",), texts=("outcome",))

        def make():
            a = self._once("negative_controls", load)
            if a is None:
                return Events(np.zeros(0, "int64"), np.zeros(0, "int64"))
            keep = np.isin(a["outcome"], _codes(a, "outcome", (outcome,))) & (a["event_date"] <= self.end_day)
            return Events(a["pk"][keep], a["event_date"][keep])
        return self._once(("negative_control", outcome), make)

    def cooffences(self) -> Events:
        """Offences (by offence date) committed together with a registered group member.

        A co-offence is a charge sharing its ``case_id`` with a charge of another person who is
        registered in a criminal group on the offence date (registered on or before it and not
        deregistered on or before it).
        """
        def make():
            import duckdb

            c, g = self._arrays["charges"], self._arrays["group_registrations"]
            con = duckdb.connect()
            con.register("charges", pd.DataFrame({"pk": c["pk"], "case_id": c["case_id"], "od": c["offence_date"]}))
            con.register("groups", pd.DataFrame({"pk": g["pk"], "reg": g["registered_date"],
                                                 "dereg": g["deregistered_date"]}))
            got = con.execute(f"""
                SELECT DISTINCT a.pk, a.od
                FROM charges a
                JOIN charges b ON a.case_id = b.case_id AND a.pk <> b.pk
                JOIN groups g ON g.pk = b.pk AND g.reg <= a.od AND g.dereg > a.od
                WHERE a.case_id >= 0 AND a.pk >= 0 AND b.pk >= 0 AND a.od < {NEVER} AND g.reg < {NEVER}
                """).fetchnumpy()
            con.close()
            return Events(np.asarray(got["pk"], "int64"), np.asarray(got["od"], "int64"))
        return self._once("cooffences", make)


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

#: Columns :func:`_rows` adds: the person key and the index and end dates as day numbers.
PK, T0, T1 = "_pk", "_t0", "_t1"


def _rows(cohort: pd.DataFrame, keys: PersonKeys | None = None) -> pd.DataFrame:
    out = cohort.copy()
    out[ROW] = np.arange(len(out))
    out["person_id"] = out["person_id"].astype(str)
    for c in ("index_date", "end_date"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    if "weight" not in out:
        out["weight"] = 1.0
    if keys is not None:
        out[PK] = keys.lookup(out["person_id"].to_numpy())
    out[T0] = days(out["index_date"])
    out[T1] = days(out["end_date"])
    return out


def first_after(rows: pd.DataFrame, events: Events, window_days: int | None = None) -> np.ndarray:
    """Day of the first event strictly after each row's index date (NaN when none); with
    ``window_days``, only an event at most this many days after the index date."""
    t0 = rows[T0].to_numpy()
    first = events.first_after(rows[PK].to_numpy(), t0)
    if window_days is not None:
        first = np.where(first - t0 <= window_days, first, np.nan)
    return first


def time_status(rows: pd.DataFrame, event_day: np.ndarray, admin_days: int | None = None) -> pd.DataFrame:
    """Time (days) and status from the first event day and the cohort's end of follow-up.

    ``status`` is 1 when the event comes on or before ``end_date`` (and within ``admin_days``
    when given), otherwise 2 when follow-up ended by death or emigration, else 0. With
    ``admin_days``, follow-up is also censored (status 0) at that many days after index.
    """
    t_end = (rows[T1] - rows[T0]).to_numpy(float)
    competing = rows["end_reason"].astype(str).isin(COMPETING_REASONS).to_numpy()
    status_end = np.where(competing, 2, 0)
    if admin_days is not None:
        beyond = t_end > admin_days
        status_end = np.where(beyond, 0, status_end)
        t_end = np.minimum(t_end, admin_days)
    t_event = event_day - rows[T0].to_numpy(float)
    is_event = ~np.isnan(t_event) & (t_event <= t_end)
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
    keys = PersonKeys()
    spells = Spells(keys.encode(custody["person_id"].astype(str)), start_date=days(custody["start_date"]),
                    end_date=days(custody["end_date"]))
    return _remove_custody(frame, keys.lookup(frame["person_id"].astype(str).to_numpy()),
                           days(frame["index_date"]), spells, int(days([data_end])[0]))


def _remove_custody(frame: pd.DataFrame, pk: np.ndarray, t0: np.ndarray, custody: Spells,
                    end_day: int) -> pd.DataFrame:
    """:func:`remove_custody` with the rows' person keys ``pk`` and index days ``t0`` and the
    custody spells keyed alike."""
    base = frame.drop(columns=[c for c in ("start", "stop", PK, T0, T1) if c in frame])
    q, s = custody.pairs(pk)
    time = frame["time"].to_numpy(float)[q]
    status = frame["status"].to_numpy()[q]
    end = custody["end_date"][s]
    end = np.where(end == NEVER, end_day, end)
    cs = np.maximum((custody["start_date"][s] - t0[q]).astype(float), 0)
    limit = np.where(status != 0, time - 1, time)
    ce = np.minimum((end - t0[q]).astype(float), limit)
    spells = pd.DataFrame({ROW: frame[ROW].to_numpy()[q], "cs": cs, "ce": ce})
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
    pk, t0 = rows[PK].to_numpy(), rows[T0].to_numpy()
    edu = tables.spells("education")
    in_edu = edu.any_covering(pk, lambda q, s: (edu["start_date"][s] <= t0[q]) & (edu["end_date"][s] >= t0[q]))
    in_job = tables.job_months(hours_threshold).on(pk, month_start(t0))
    return pd.Series((in_edu | in_job).astype(int), index=rows.index)


def registered_at_index(rows: pd.DataFrame, tables: WarehouseTables) -> pd.Series:
    """1 when registered in a criminal group on the index date, else 0."""
    pk, t0 = rows[PK].to_numpy(), rows[T0].to_numpy()
    g = tables.spells("group_registrations")
    reg = g.any_covering(pk, lambda q, s: (g["registered_date"][s] <= t0[q]) & (g["deregistered_date"][s] > t0[q]))
    return pd.Series(reg.astype(int), index=rows.index)


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
    rows = _rows(cohort, tables.keys)
    d = spec.definition
    admin = None
    if d == "first_charge":
        date = first_after(rows, tables.charges(tuple(spec.offence_categories or ())))
    elif d == "first_guilty_decision":
        date = first_after(rows, tables.guilty_decisions(), window_days=spec.offence_window_days)
        admin = spec.offence_window_days
    elif d == "first_education_or_job":
        rows = rows[in_education_or_job(rows, tables, spec.hours_threshold) == 0]
        date = np.fmin(first_after(rows, tables.education_starts()),
                       first_after(rows, tables.job_months(spec.hours_threshold)))
    elif d == "first_registration":
        rows = rows[registered_at_index(rows, tables) == 0]
        date = first_after(rows, tables.registrations())
    elif d == "first_negative_control_event":
        date = first_after(rows, tables.negative_control_events(spec.negative_control))
    elif d == "first_cooffence_with_member":
        rows = rows[registered_at_index(rows, tables) == 0]
        date = first_after(rows, tables.cooffences())
    else:  # the plan loader only lets known definitions through
        raise ValueError(f"unknown outcome definition {d!r}")
    ts = time_status(rows, date, admin_days=admin)
    keep = [c for c in (*KEEP, *extra) if c in rows]
    frame = pd.concat([rows[[ROW, *keep, *(["index_date"] if "index_date" not in keep else [])]], ts], axis=1)
    start_stop = None
    if spec.remove_custody:
        start_stop = _remove_custody(frame, rows[PK].to_numpy(), rows[T0].to_numpy(), tables.spells("custody"),
                                     tables.end_day)
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
    rows = rows if ROW in rows and PK in rows else _rows(rows, tables.keys)
    pk, t0, t1 = rows[PK].to_numpy(), rows[T0].to_numpy(), rows[T1].to_numpy()
    n = tables.charges(tuple(categories or ())).count_between(pk, t0, t1)
    base = rows[[ROW, "person_id", "index_date"]].copy()
    base["time"] = (t1 - t0).astype(float)
    base["status"] = 0
    seg = _remove_custody(base, pk, t0, tables.spells("custody"), tables.end_day)
    pt = rows[ROW].map((seg["stop"] - seg["start"]).groupby(seg[ROW]).sum()).fillna(0.0)
    keep = [c for c in KEEP if c in rows]
    out = rows[keep].copy()
    out["n_events"] = n.astype(int)
    out["person_time"] = pt.to_numpy()
    return out.reset_index(drop=True)
