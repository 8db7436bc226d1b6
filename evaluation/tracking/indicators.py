"""The initiative's own process indicators: reach, speed, activation and repeat contacts.

Measured from the warehouse as it stood on the analysis date ``as_of`` (the cut of
:mod:`evaluation.asof`: nothing dated later is read), per calendar
quarter and cumulatively since the initiative start. The target group and the triggering
events are those of the cohort definition (``[eligibility]`` ages and area, ``[triggers]``).

Reach
    Young people aged ``age_min``-``age_max`` (completed years) resident in the study area on
    the date of a triggering event (:class:`evaluation.cohort.definition.Triggers`, dated by the
    charge date) who had not been contacted before it. Per quarter, each such person's first
    triggering event in the quarter; cumulatively, their first since the start. The statistic
    is the share whose first contact (any contact type) came within 14, 30 and 90 days of it (on
    or after the event's date). Shown only for populations whose every member's 90 days have
    passed by ``as_of`` (the latest quarter becomes known a quarter later), so the three shares
    describe the same persons.
Speed
    Persons whose first contact lies in the initiative period and who were in the target group
    then (age and residence at the contact): days from the latest triggering event on or before
    the contact to the contact; median and quartiles (linear interpolation), by the quarter of
    the first contact. Contacts with no triggering event before them are counted apart
    (``no_trigger``).
Activation
    Contacted persons of the matched cohort referred at their first contact to education,
    employment or leisure, whose 90 days have passed: the share who started an education spell
    or a month of paid work of at least ``hours_threshold`` hours within 90 days after the index
    date; next to it the same share among the comparison persons of their matched sets over the
    same days (weighted by the matching weights; a comparison person's days end at their own end
    of follow-up, e.g. being contacted), by the quarter of the index date.
Repeat contacts
    Persons whose first contact lies in the initiative period, with six months (183 days)
    passed: contacts per person within the 183 days from the first (the first included) and the
    share with at least one further contact.

:func:`process_indicators` returns one long table (see :data:`COLUMNS`); counts in it are not
suppressed (the report shows them through the disclosure checker).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from ..cohort.definition import CohortDefinition
from ..cohort.warehouse import open_warehouse
from .calendar import quarter_end, quarter_of, quarters_between

REACH_DAYS = (14, 30, 90)
ACTIVATION_DAYS = 90
REPEAT_DAYS = 183
REFERRALS = ("education", "employment", "leisure")
#: Columns of the indicator table: ``scope`` is "quarter" or "cumulative"; ``value`` is a share,
#: a number of days or contacts per person; ``numerator`` and ``denominator`` are counts of
#: persons behind it (``numerator`` empty where the value is not a share).
COLUMNS = ["quarter", "scope", "indicator", "statistic", "value", "numerator", "denominator"]


def _in(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "NULL"


def _target(alias: str, day: str, d: CohortDefinition) -> str:
    """SQL condition: the person ``alias`` is in the target group on ``day``."""
    return f"""(CAST({alias}.birth_date AS DATE) + INTERVAL ({d.age_min}) YEAR <= {day}
        AND {day} < CAST({alias}.birth_date AS DATE) + INTERVAL ({d.age_max + 1}) YEAR
        AND EXISTS (SELECT 1 FROM residence r WHERE r.person_id = {alias}.person_id
                    AND r.municipality_code IN ({_in(d.area)})
                    AND CAST(r.from_date AS DATE) <= {day}
                    AND (r.to_date IS NULL OR CAST(r.to_date AS DATE) >= {day})))"""


def _trigger_sql(d: CohortDefinition) -> str:
    """SQL of the triggering events (person_id, day) in the warehouse views (as of the date
    they were opened with)."""
    t = d.triggers
    cooff = "FALSE"
    if t.cooffence_with_group_member:
        cooff = """EXISTS (SELECT 1 FROM charges b JOIN group_registrations g
                  ON g.person_id = b.person_id
                 WHERE b.case_id = c.case_id AND b.person_id <> c.person_id
                   AND CAST(g.registered_date AS DATE) <= CAST(c.offence_date AS DATE)
                   AND (g.deregistered_date IS NULL
                        OR CAST(g.deregistered_date AS DATE) > CAST(c.offence_date AS DATE)))"""
    return f"""SELECT DISTINCT CAST(c.person_id AS VARCHAR) AS person_id,
                      CAST(c.charge_date AS DATE) AS day
               FROM charges c
               WHERE (c.offence_category IN ({_in(t.offence_categories)}) OR {cooff})"""


def _first_contacts(con, d: CohortDefinition) -> pd.DataFrame:
    """First contact per person, with target-group membership on its date."""
    return con.execute(f"""
        WITH f AS (SELECT CAST(person_id AS VARCHAR) AS person_id,
                          min(CAST(contact_date AS DATE)) AS first_contact
                   FROM contacts GROUP BY 1)
        SELECT f.person_id, f.first_contact,
               {_target('p', 'f.first_contact', d)} AS in_target
        FROM f JOIN persons p ON CAST(p.person_id AS VARCHAR) = f.person_id
    """).df()


def _reach_frame(con, d: CohortDefinition, start: dt.date) -> pd.DataFrame:
    """Qualifying triggers (person, day, quarter) and days to the first contact (NaN: none)."""
    df = con.execute(f"""
        WITH t AS ({_trigger_sql(d)}),
        f AS (SELECT CAST(person_id AS VARCHAR) AS person_id,
                     min(CAST(contact_date AS DATE)) AS first_contact
              FROM contacts GROUP BY 1)
        SELECT t.person_id, t.day, f.first_contact
        FROM t JOIN persons p ON CAST(p.person_id AS VARCHAR) = t.person_id
        LEFT JOIN f ON f.person_id = t.person_id
        WHERE t.day >= DATE '{start}' AND (f.first_contact IS NULL OR f.first_contact >= t.day)
          AND {_target('p', 't.day', d)}
    """).df()
    df["day"] = pd.to_datetime(df["day"])
    df["wait"] = (pd.to_datetime(df["first_contact"]) - df["day"]).dt.days
    df["quarter"] = df["day"].dt.to_period("Q").astype(str)
    return df


def _reach_rows(people: pd.DataFrame, quarter: str, scope: str) -> list[tuple]:
    rows = []
    n = len(people)
    for days in REACH_DAYS:
        k = int((people["wait"] <= days).sum())
        rows.append((quarter, scope, "reach", f"within_{days}", k / n if n else np.nan, k, n))
    return rows


def _reach(df: pd.DataFrame, quarters: list[str], as_of: dt.date) -> list[tuple]:
    """Per quarter whose 90 days have passed, and cumulative up to it; the latest quarter's
    cumulative row holds every person whose first trigger is 90 days before ``as_of``."""
    horizon = pd.Timestamp(as_of - dt.timedelta(days=max(REACH_DAYS)))
    first_ever = df.sort_values("day").drop_duplicates("person_id")
    rows: list[tuple] = []
    for q in quarters:
        if pd.Timestamp(quarter_end(q)) <= horizon:
            in_q = df[df["quarter"] == q].sort_values("day").drop_duplicates("person_id")
            rows += _reach_rows(in_q, q, "quarter")
            rows += _reach_rows(first_ever[first_ever["day"] <= pd.Timestamp(quarter_end(q))],
                                q, "cumulative")
    if quarters and pd.Timestamp(quarter_end(quarters[-1])) > horizon:
        rows += _reach_rows(first_ever[first_ever["day"] <= horizon], quarters[-1], "cumulative")
    return rows


def _speed(con, d: CohortDefinition, first: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    """Per target-group first contact in the period: days since the latest trigger (NaN none)."""
    con.register("first_contacts", first[first["in_target"]][["person_id", "first_contact"]])
    df = con.execute(f"""
        WITH t AS ({_trigger_sql(d)})
        SELECT f.person_id, f.first_contact,
               date_diff('day', max(t.day), f.first_contact) AS delay
        FROM first_contacts f LEFT JOIN t
          ON t.person_id = f.person_id AND t.day <= f.first_contact
        WHERE f.first_contact >= DATE '{start}'
        GROUP BY f.person_id, f.first_contact
    """).df()
    con.unregister("first_contacts")
    df["quarter"] = pd.to_datetime(df["first_contact"]).dt.to_period("Q").astype(str)
    return df


def _speed_rows(part: pd.DataFrame, quarter: str, scope: str) -> list[tuple]:
    delays = part["delay"].dropna().to_numpy(dtype=float)
    n = len(delays)
    q = np.quantile(delays, [0.25, 0.5, 0.75]) if n else [np.nan] * 3
    rows = [(quarter, scope, "speed", name, float(v), np.nan, n)
            for name, v in zip(("q1", "median", "q3"), q)]
    rows.append((quarter, scope, "speed", "no_trigger", np.nan,
                 int(part["delay"].isna().sum()), len(part)))
    return rows


def _repeat(con, first: pd.DataFrame, as_of: dt.date, start: dt.date) -> pd.DataFrame:
    """Contacts within 183 days of the first, per target-group person with 183 days passed."""
    done = first[first["in_target"]
                 & (pd.to_datetime(first["first_contact"]) >= pd.Timestamp(start))
                 & (pd.to_datetime(first["first_contact"])
                    <= pd.Timestamp(as_of - dt.timedelta(days=REPEAT_DAYS)))]
    con.register("first_contacts", done[["person_id", "first_contact"]])
    df = con.execute(f"""
        SELECT f.person_id, f.first_contact, count(*) AS contacts
        FROM first_contacts f JOIN contacts c ON CAST(c.person_id AS VARCHAR) = f.person_id
         AND CAST(c.contact_date AS DATE) BETWEEN f.first_contact
             AND f.first_contact + INTERVAL ({REPEAT_DAYS}) DAY
        GROUP BY 1, 2
    """).df()
    con.unregister("first_contacts")
    df["quarter"] = pd.to_datetime(df["first_contact"]).dt.to_period("Q").astype(str)
    return df


def _repeat_rows(part: pd.DataFrame, quarter: str, scope: str) -> list[tuple]:
    n = len(part)
    again = int((part["contacts"] >= 2).sum())
    return [(quarter, scope, "repeat", "contacts_per_person",
             float(part["contacts"].mean()) if n else np.nan, np.nan, n),
            (quarter, scope, "repeat", "seen_again", again / n if n else np.nan, again, n)]


def _by_quarter(df: pd.DataFrame, quarters: list[str], make) -> list[tuple]:
    rows: list[tuple] = []
    for q in quarters:
        rows += make(df[df["quarter"] == q], q, "quarter")
        rows += make(df[df["quarter"] <= q], q, "cumulative")
    return rows


def process_indicators(warehouse: str | Path, definition: CohortDefinition, as_of: dt.date,
                       cohort: pd.DataFrame | None = None, *,
                       hours_threshold: float = 40.0) -> pd.DataFrame:
    """Reach, speed, activation and repeat contacts (module docstring) on ``as_of``.

    Parameters
    ----------
    warehouse : the warehouse folder.
    definition : the cohort definition (target group, area, triggers, initiative start).
    as_of : the analysis date (last day of the latest quarter); nothing later is used.
    cohort : the matched cohort built on ``as_of`` (``cohort.parquet``) for activation; without
        it activation is left out.
    hours_threshold : paid hours in a month that count as a job (as the outcome counts one).

    Returns
    -------
    DataFrame with :data:`COLUMNS`, one row per quarter, scope, indicator and statistic.
    """
    start = definition.start
    quarters = quarters_between(quarter_of(start), quarter_of(as_of))
    con = open_warehouse(warehouse, {"persons", "contacts", "residence", "charges",
                                     "group_registrations"}, as_of=as_of)
    try:
        reach = _reach_frame(con, definition, start)
        first = _first_contacts(con, definition)
        speed = _speed(con, definition, first, start)
        repeat = _repeat(con, first, as_of, start)
    finally:
        con.close()
    rows = _reach(reach, quarters, as_of)
    rows += _by_quarter(speed, quarters, _speed_rows)
    rows += _by_quarter(repeat, quarters, _repeat_rows)
    if cohort is not None:
        act = activation_frame(warehouse, cohort, as_of, hours_threshold)
        rows += _by_quarter(act, quarters, _activation_rows)
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.astype({"value": float, "numerator": float, "denominator": int})


# --------------------------------------------------------------------------------- activation

def activation_frame(warehouse: str | Path, cohort: pd.DataFrame, as_of: dt.date,
                     hours_threshold: float = 40.0) -> pd.DataFrame:
    """Per cohort row of the referred persons' matched sets: started education or a job.

    Columns: ``set_id``, ``arm``, ``weight``, ``quarter`` (of the index date), ``started``
    (1/0 within :data:`ACTIVATION_DAYS` days after the index date, before the row's end date).
    """
    c = cohort.copy()
    c["index_date"] = pd.to_datetime(c["index_date"])
    c["end_date"] = pd.to_datetime(c["end_date"])
    horizon = pd.Timestamp(as_of - dt.timedelta(days=ACTIVATION_DAYS))
    referred = c[(c["arm"] == "contacted") & c["referred_to"].isin(REFERRALS)
                 & (c["index_date"] <= horizon)]["set_id"]
    rows = c[c["set_id"].isin(set(referred))].reset_index(drop=True)
    rows["person_id"] = rows["person_id"].astype(str)
    until = np.minimum(rows["index_date"] + pd.Timedelta(days=ACTIVATION_DAYS),
                       rows["end_date"].fillna(pd.Timestamp(as_of)))
    con = open_warehouse(warehouse, {"education", "employment"}, as_of=as_of)
    try:
        con.register("rows", pd.DataFrame({"row": np.arange(len(rows)),
                                           "person_id": rows["person_id"],
                                           "index_date": rows["index_date"], "until": until}))
        started = con.execute(f"""
            SELECT DISTINCT r.row FROM rows r JOIN education e
              ON CAST(e.person_id AS VARCHAR) = r.person_id
             AND CAST(e.start_date AS DATE) > CAST(r.index_date AS DATE)
             AND CAST(e.start_date AS DATE) <= CAST(r.until AS DATE)
            UNION
            SELECT DISTINCT r.row FROM rows r JOIN employment m
              ON CAST(m.person_id AS VARCHAR) = r.person_id AND m.hours >= {float(hours_threshold)}
             AND CAST(strptime(substr(CAST(m.month AS VARCHAR), 1, 7) || '-01', '%Y-%m-%d') AS DATE)
                 > CAST(r.index_date AS DATE)
             AND CAST(strptime(substr(CAST(m.month AS VARCHAR), 1, 7) || '-01', '%Y-%m-%d') AS DATE)
                 <= CAST(r.until AS DATE)
        """).df()["row"]
    finally:
        con.close()
    rows["started"] = rows.index.isin(set(started)).astype(int)
    rows["quarter"] = rows["index_date"].dt.to_period("Q").astype(str)
    return rows[["set_id", "arm", "weight", "quarter", "started"]]


def _activation_rows(part: pd.DataFrame, quarter: str, scope: str) -> list[tuple]:
    t = part[part["arm"] == "contacted"]
    k = part[part["arm"] == "comparison"]
    n_t, s_t = len(t), int(t["started"].sum())
    w = k["weight"].to_numpy(float)
    share_c = float((w * k["started"]).sum() / w.sum()) if w.sum() > 0 else np.nan
    return [(quarter, scope, "activation", "contacted", s_t / n_t if n_t else np.nan, s_t, n_t),
            (quarter, scope, "activation", "comparison", share_c,
             int(k["started"].sum()), len(k))]
