"""Covariates as of the index date, from data strictly before it (no look-ahead).

Each row of the input (``row_id``, ``person_id``, index date ``t``) gets one value per covariate
of the definition; all work is done by DuckDB joins against the warehouse views, so the cost is
driven by the number of rows asked for (the contacted and the sampled candidates), not by the
size of the register.

Kinds (``t`` is the index date, ``w`` the window in days, ``round(months * 30.4375)``):

``charges``
    Number of charges (rows of ``charges``) with ``t - w <= charge_date < t``, optionally only
    offence categories listed in ``categories``. The charge date is used because a charge is
    known to the authorities from that date; ``offence_date <= charge_date`` by the contract.
``custody``
    1 if a custody spell started before ``t`` (and on or after ``t - w`` when a window is given).
``education_or_job``
    1 if an education spell started before ``t`` and had not ended before ``t`` (open at
    ``t``), or the calendar month before the month of ``t`` has at least ``hours_threshold``
    paid hours in ``employment``.
``group_cooffender``
    1 if the person has a charge with ``t - w <= charge_date < t`` in a case in which another
    person, charged before ``t``, was registered in the register of criminal groups on the
    offence date (registered on or before it, not deregistered on or before it) with a
    registration date before ``t``.
``group_registered``
    1 if registered in the register of criminal groups at ``t``: registered before ``t`` and not
    deregistered before ``t``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..timeunits import months_to_days
from .definition import Covariate

#: Warehouse tables each covariate kind reads.
TABLES_BY_KIND: dict[str, tuple[str, ...]] = {
    "charges": ("charges",),
    "custody": ("custody",),
    "education_or_job": ("education", "employment"),
    "group_cooffender": ("charges", "group_registrations"),
    "group_registered": ("group_registrations",),
}


def _d(col: str) -> str:
    return f"CAST({col} AS DATE)"


def _quote(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def compute_covariates(con, rows: pd.DataFrame, covariates: tuple[Covariate, ...]) -> pd.DataFrame:
    """Covariate values for ``rows`` (columns ``row_id``, ``person_id``, ``t`` as dates).

    Parameters
    ----------
    con
        DuckDB connection with the warehouse views (see :func:`.warehouse.open_warehouse`).
    rows
        One row per (person, index date) to measure; ``row_id`` unique.
    covariates
        The definition's covariates.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``rows`` by ``row_id`` (same order), one integer column per covariate.
    """
    r = pd.DataFrame({"row_id": rows["row_id"].to_numpy(),
                      "person_id": rows["person_id"].astype(str).to_numpy(),
                      "t": pd.to_datetime(rows["t"]).to_numpy()})
    con.register("_rows_df", r)
    con.execute("CREATE OR REPLACE TEMP TABLE r AS SELECT row_id, CAST(person_id AS VARCHAR) AS person_id, "
                "CAST(t AS DATE) AS t FROM _rows_df")
    con.unregister("_rows_df")
    values = covariates_of_table_r(con, covariates)
    out = pd.DataFrame(values, index=pd.Index(values.pop("row_id"), name="row_id"))
    return out.reindex(r["row_id"].to_numpy())[[c.name for c in covariates]]


def covariates_of_table_r(con, covariates: tuple[Covariate, ...]) -> dict[str, np.ndarray]:
    """Covariates of the rows of the temporary table ``r`` (``row_id``, ``person_id``, ``t``
    as DATE), which is dropped afterwards.

    Returns ``{"row_id": ..., name: int64 values, ...}`` ordered by ``row_id``: one DuckDB
    query that left-joins one aggregate per covariate kind onto ``r`` (no per-row Python).
    """
    parts = _covariate_parts(covariates)
    select = ["r.row_id"]
    joins = []
    for i, (sql, names) in enumerate(parts):
        joins.append(f"LEFT JOIN ({sql}) p{i} ON p{i}.row_id = r.row_id")
        select += [f"coalesce(p{i}.{n}, 0)::BIGINT AS {n}" for n in names]
    done = {n for _, names in parts for n in names}
    select += [f"0::BIGINT AS {c.name}" for c in covariates if c.name not in done]
    result = con.execute(f"SELECT {', '.join(select)} FROM r {' '.join(joins)} ORDER BY r.row_id"
                         ).fetchnumpy()
    con.execute("DROP TABLE r")
    return {k: np.asarray(v) for k, v in result.items()}


def _covariate_parts(covariates: tuple[Covariate, ...]) -> list[tuple[str, list[str]]]:
    """One aggregate query per covariate (charges: one for all), each giving ``row_id`` and
    its columns for the rows of ``r`` that have a non-zero value."""
    parts: list[tuple[str, list[str]]] = []
    charges = [c for c in covariates if c.kind == "charges"]
    if charges:
        wmax = max(months_to_days(c.window_months) for c in charges)
        sums = []
        for c in charges:
            cond = f"cd >= t - {months_to_days(c.window_months)}"
            if c.categories:
                cond += f" AND cat IN ({_quote(c.categories)})"
            sums.append(f"sum(CASE WHEN {cond} THEN 1 ELSE 0 END) AS {c.name}")
        parts.append((f"""
            WITH x AS (
              SELECT r.row_id, r.t, {_d('c.charge_date')} AS cd,
                     CAST(c.offence_category AS VARCHAR) AS cat
              FROM r JOIN charges c ON CAST(c.person_id AS VARCHAR) = r.person_id
              WHERE {_d('c.charge_date')} < r.t AND {_d('c.charge_date')} >= r.t - {wmax})
            SELECT row_id, {', '.join(sums)} FROM x GROUP BY row_id""", [c.name for c in charges]))

    for c in covariates:
        if c.kind == "custody":
            window = "" if c.window_months is None else f" AND s >= t - {months_to_days(c.window_months)}"
            parts.append((f"""
                WITH x AS (SELECT r.row_id, r.t, {_d('k.start_date')} AS s
                           FROM r JOIN custody k ON CAST(k.person_id AS VARCHAR) = r.person_id)
                SELECT row_id, 1 AS {c.name} FROM x WHERE s < t{window} GROUP BY row_id""", [c.name]))
        elif c.kind == "education_or_job":
            parts.append((f"""
                WITH edu AS (
                  SELECT DISTINCT r.row_id FROM r JOIN education e
                    ON CAST(e.person_id AS VARCHAR) = r.person_id
                  WHERE {_d('e.start_date')} < r.t
                    AND (e.end_date IS NULL OR {_d('e.end_date')} >= r.t)),
                job AS (
                  SELECT DISTINCT r.row_id FROM r JOIN employment m
                    ON CAST(m.person_id AS VARCHAR) = r.person_id
                  WHERE left(CAST(m.month AS VARCHAR), 7)
                        = strftime(date_trunc('month', r.t) - INTERVAL 1 MONTH, '%Y-%m')
                    AND m.hours >= {float(c.hours_threshold)})
                SELECT row_id, 1 AS {c.name} FROM (SELECT * FROM edu UNION SELECT * FROM job)
                """, [c.name]))
        elif c.kind == "group_registered":
            parts.append((f"""
                SELECT DISTINCT r.row_id, 1 AS {c.name} FROM r JOIN group_registrations g
                  ON CAST(g.person_id AS VARCHAR) = r.person_id
                WHERE {_d('g.registered_date')} < r.t
                  AND (g.deregistered_date IS NULL OR {_d('g.deregistered_date')} >= r.t)
                """, [c.name]))
        elif c.kind == "group_cooffender":
            w = months_to_days(c.window_months)
            parts.append((f"""
                WITH mine AS (
                  SELECT r.row_id, r.person_id, r.t, CAST(c.case_id AS VARCHAR) AS case_id,
                         {_d('c.offence_date')} AS od
                  FROM r JOIN charges c ON CAST(c.person_id AS VARCHAR) = r.person_id
                  WHERE {_d('c.charge_date')} < r.t AND {_d('c.charge_date')} >= r.t - {w}),
                other AS (
                  SELECT m.row_id, m.t, m.od, CAST(c2.person_id AS VARCHAR) AS other_id
                  FROM mine m JOIN charges c2 ON CAST(c2.case_id AS VARCHAR) = m.case_id
                  WHERE CAST(c2.person_id AS VARCHAR) <> m.person_id
                    AND {_d('c2.charge_date')} < m.t)
                SELECT DISTINCT o.row_id, 1 AS {c.name}
                FROM other o JOIN group_registrations g ON CAST(g.person_id AS VARCHAR) = o.other_id
                WHERE {_d('g.registered_date')} <= o.od AND {_d('g.registered_date')} < o.t
                  AND (g.deregistered_date IS NULL OR {_d('g.deregistered_date')} > o.od)
                """, [c.name]))
    return parts
