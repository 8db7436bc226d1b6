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
    r = pd.DataFrame({"row_id": np.arange(len(rows)),
                      "person_id": rows["person_id"].astype(str).to_numpy(),
                      "t": pd.to_datetime(rows["t"]).to_numpy()})
    con.register("_rows_df", r)
    con.execute("CREATE OR REPLACE TEMP TABLE r AS SELECT row_id, CAST(person_id AS VARCHAR) AS pk, "
                "CAST(t AS DATE) AS t FROM _rows_df")
    con.unregister("_rows_df")
    values = covariates_of_table_r(con, covariates, sources_by_person_id(covariates))
    index = pd.Index(rows["row_id"].to_numpy(), name="row_id")
    return pd.DataFrame({c.name: values[c.name].astype("int64") for c in covariates}, index=index)


def covariates_by_index(con, rows: pd.DataFrame, covariates: tuple[Covariate, ...],
                        persons: str = "pool", sources: dict[str, str] | None = None) -> dict[str, np.ndarray]:
    """Covariates of ``rows`` (``row_id`` = position, ``pidx``, ``t`` in days since 1970-01-01),
    the persons keyed by the column ``pidx`` of the table ``persons`` (see
    :func:`sources_by_index`, or ``sources`` made by :func:`keyed_sources`); no per-row Python
    objects and no joins on text ids over the rows. Returns ``{name: int32 values by row_id}``."""
    con.register("_rows_df", rows[["row_id", "pidx", "t"]])
    con.execute("""CREATE OR REPLACE TEMP TABLE r AS
                    SELECT row_id, pidx AS pk, DATE '1970-01-01' + CAST(t AS INTEGER) AS t
                    FROM _rows_df""")
    con.unregister("_rows_df")
    return covariates_of_table_r(con, covariates, sources or sources_by_index(covariates, persons))


def keyed_sources(con, covariates: tuple[Covariate, ...], persons: str) -> dict[str, str]:
    """The relations of :func:`sources_by_index` stored once as temporary tables
    (``keyed_<name>``), for many :func:`covariates_by_index` calls on the same persons: each
    call then joins integers instead of reading the warehouse and joining text ids again."""
    out = {}
    for name, sql in sources_by_index(covariates, persons).items():
        con.execute(f"CREATE OR REPLACE TEMP TABLE keyed_{name} AS {sql}")
        out[name] = f"SELECT * FROM keyed_{name}"
    return out


def sources_by_person_id(covariates: tuple[Covariate, ...]) -> dict[str, str]:
    """The relations the covariate queries read (:func:`covariates_of_table_r`), keyed by the
    person id as text (``pk``), straight from the warehouse views."""
    return {name: sql.format(key="CAST(person_id AS VARCHAR)", join="",
                             other="CAST(c2.person_id AS VARCHAR)", other_join="")
            for name, sql in _SOURCES.items() if name in _needed(covariates)}


def sources_by_index(covariates: tuple[Covariate, ...], persons: str) -> dict[str, str]:
    """As :func:`sources_by_person_id`, keyed by an integer: the column ``pidx`` of the table
    ``persons`` (``pidx``, ``person_id`` as text), with only the rows of its persons (for a
    co-offender, any person: ``other_pk`` is NULL for one not in ``persons``)."""
    def join(table: str) -> str:
        return f"JOIN {persons} ON {persons}.person_id = CAST({table}.person_id AS VARCHAR)"

    return {name: sql.format(key=f"{persons}.pidx", join=join(name), other=f"{persons}.pidx",
                             other_join=f"LEFT {join('c2')}")
            for name, sql in _SOURCES.items() if name in _needed(covariates)}


#: The relations of :func:`covariates_of_table_r`: ``{key}`` is the person key of the table's
#: rows; ``group_cases`` holds, per case, each person charged in it who has a group
#: registration (``other_pk``, charge date, registration period).
_SOURCES = {
    "charges": """SELECT {key} AS pk, CAST(case_id AS VARCHAR) AS case_id,
                         CAST(charge_date AS DATE) AS cd, CAST(offence_date AS DATE) AS od,
                         CAST(offence_category AS VARCHAR) AS cat
                  FROM charges {join}""",
    "custody": "SELECT {key} AS pk, CAST(start_date AS DATE) AS s FROM custody {join}",
    "education": """SELECT {key} AS pk, CAST(start_date AS DATE) AS s, CAST(end_date AS DATE) AS e
                    FROM education {join}""",
    # the month as a number (12 * year + month - 1); text that is not a month matches none
    "employment": """SELECT {key} AS pk,
                            12 * TRY_CAST(substr(CAST(month AS VARCHAR), 1, 4) AS INTEGER)
                              + TRY_CAST(substr(CAST(month AS VARCHAR), 6, 2) AS INTEGER) - 1 AS ym,
                            hours
                     FROM employment {join}""",
    "group_registrations": """SELECT {key} AS pk, CAST(registered_date AS DATE) AS reg,
                                     CAST(deregistered_date AS DATE) AS dereg
                              FROM group_registrations {join}""",
    "group_cases": """SELECT CAST(c2.case_id AS VARCHAR) AS case_id, {other} AS other_pk,
                             CAST(c2.charge_date AS DATE) AS cd2,
                             CAST(g.registered_date AS DATE) AS reg,
                             CAST(g.deregistered_date AS DATE) AS dereg
                      FROM charges c2 JOIN group_registrations g
                        ON CAST(g.person_id AS VARCHAR) = CAST(c2.person_id AS VARCHAR) {other_join}""",
}


def _needed(covariates: tuple[Covariate, ...]) -> set[str]:
    """The relations of :data:`_SOURCES` the covariates read."""
    out: set[str] = set()
    for c in covariates:
        out.update({"charges": ("charges",), "custody": ("custody",),
                    "education_or_job": ("education", "employment"),
                    "group_cooffender": ("charges", "group_cases"),
                    "group_registered": ("group_registrations",)}[c.kind])
    return out


def covariates_of_table_r(con, covariates: tuple[Covariate, ...],
                          sources: dict[str, str]) -> dict[str, np.ndarray]:
    """Covariates of the rows of the temporary table ``r`` (``row_id`` = 0, 1, ..., n - 1,
    person key ``pk``, ``t`` as DATE), which is dropped afterwards.

    ``sources`` gives the relations of :data:`_SOURCES` with the same person key as ``r``
    (:func:`sources_by_person_id`, or tables keyed by an integer, as the cohort builder does).
    Returns ``{name: int32 values by row_id}``: the charges of the rows' persons in the widest
    window are joined once (``r_charges``) and counted per row by window and category in
    numpy; a 0/1 covariate is 1 at the rows a DuckDB query lists (as often as they match).
    No per-row Python and no join of the results over all rows.
    """
    n = con.execute("SELECT count(*) FROM r").fetchone()[0]
    out = {c.name: np.zeros(n, "int32") for c in covariates}
    window = _charges_window(covariates)
    if window is not None:  # the charges of each row's person in the widest window, once
        con.execute(f"""CREATE OR REPLACE TEMP TABLE r_charges AS
                        SELECT r.row_id, r.pk, r.t, c.cd, c.od, c.cat, c.case_id
                        FROM r JOIN ({sources['charges']}) c ON c.pk = r.pk
                        WHERE c.cd < r.t AND c.cd >= r.t - {window}""")
        out.update(_charge_counts(con, covariates, n))
    for sql, name in _flag_queries(covariates, sources):
        out[name][np.asarray(con.execute(sql).fetchnumpy()["row_id"], "int64")] = 1
    con.execute("DROP TABLE r")
    con.execute("DROP TABLE IF EXISTS r_charges")
    return out


def _charges_window(covariates: tuple[Covariate, ...]) -> int | None:
    """The widest look-back window (days) of the covariates that read charges, if any."""
    windows = [months_to_days(c.window_months) for c in covariates
               if c.kind in ("charges", "group_cooffender")]
    return max(windows) if windows else None


def _charge_counts(con, covariates: tuple[Covariate, ...], n: int) -> dict[str, np.ndarray]:
    """The ``charges`` covariates of the ``n`` rows: the charges in ``r_charges`` with
    ``t - w <= charge_date`` (and of the listed categories), counted per row."""
    charges = [c for c in covariates if c.kind == "charges"]
    lists = sorted({c.categories for c in charges if c.categories})
    flags = "".join(f", coalesce(cat IN ({_quote(cats)}), false) AS f{i}" for i, cats in enumerate(lists))
    x = con.execute(f"SELECT row_id, t - cd AS back{flags} FROM r_charges").fetchnumpy()
    at = np.asarray(x["row_id"], "int64")
    back = np.asarray(x["back"])
    out = {}
    for c in charges:
        keep = back <= months_to_days(c.window_months)
        if c.categories:
            keep &= np.asarray(x[f"f{lists.index(c.categories)}"], bool)
        out[c.name] = np.bincount(at[keep], minlength=n).astype("int32")
    return out


def _flag_queries(covariates: tuple[Covariate, ...], src: dict[str, str]) -> list[tuple[str, str]]:
    """Per 0/1 covariate, one or two queries of ``row_id`` alone: the rows of ``r`` where it
    is 1 (the co-offender query reads ``r_charges``, the rows' charges in the widest window)."""
    parts: list[tuple[str, str]] = []
    for c in covariates:
        if c.kind == "custody":
            window = "" if c.window_months is None else f" AND k.s >= r.t - {months_to_days(c.window_months)}"
            parts.append((f"""
                SELECT r.row_id FROM r JOIN ({src['custody']}) k ON k.pk = r.pk
                WHERE k.s < r.t{window}""", c.name))
        elif c.kind == "education_or_job":  # an education open at t, or a job the month before
            parts.append((f"""
                SELECT r.row_id FROM r JOIN ({src['education']}) e ON e.pk = r.pk
                WHERE e.s < r.t AND (e.e IS NULL OR e.e >= r.t)""", c.name))
            parts.append((f"""
                SELECT r.row_id
                FROM (SELECT row_id, pk, 12 * year(t) + month(t) - 2 AS ym FROM r) r
                JOIN ({src['employment']}) m ON m.pk = r.pk AND m.ym = r.ym
                WHERE m.hours >= {float(c.hours_threshold)}""", c.name))
        elif c.kind == "group_registered":
            parts.append((f"""
                SELECT r.row_id FROM r JOIN ({src['group_registrations']}) g ON g.pk = r.pk
                WHERE g.reg < r.t AND (g.dereg IS NULL OR g.dereg >= r.t)""", c.name))
        elif c.kind == "group_cooffender":
            w = months_to_days(c.window_months)
            parts.append((f"""
                WITH mine AS (SELECT row_id, pk, t, case_id, od FROM r_charges WHERE cd >= t - {w})
                SELECT m.row_id
                FROM mine m JOIN ({src['group_cases']}) o ON o.case_id = m.case_id
                WHERE o.other_pk IS DISTINCT FROM m.pk AND o.cd2 < m.t
                  AND o.reg <= m.od AND o.reg < m.t AND (o.dereg IS NULL OR o.dereg > m.od)
                """, c.name))
    return parts
