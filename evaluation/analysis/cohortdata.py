"""Reading the cohort folder and building the naive (unmatched) comparison population."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..contract import AALBORG_MUNICIPALITY
from ..errors import InputError
from ..keyed import NEVER, PersonKeys, days, read_keyed

COHORT_FILES = ("cohort.parquet", "cohort.json", "attrition.parquet", "balance.parquet", "propensity.parquet")


@dataclass
class CohortData:
    """The cohort stage's output (``<output>/cohort/``)."""

    folder: Path
    cohort: pd.DataFrame
    meta: dict[str, Any]
    attrition: pd.DataFrame
    balance: pd.DataFrame
    propensity: pd.DataFrame
    #: Every eligible contacted person, matched or not (``eligible_contacted.parquet``; None for
    #: a cohort folder written before it existed).
    eligible: pd.DataFrame | None = None
    _overlap: float | None = field(default=None, init=False, repr=False)

    def contacted_for_naive(self) -> pd.DataFrame:
        """The contacted rows of the naive contrast: ALL eligible contacted persons from their
        index date (the matched contacted only when the cohort folder has no eligible list)."""
        if self.eligible is None:
            return self.cohort
        e = self.eligible
        return pd.DataFrame({"person_id": e["person_id"].astype(str), "set_id": range(1, len(e) + 1),
                             "arm": "contacted", "treated": 1, "weight": 1.0,
                             "index_date": e["index_date"], "end_date": e["end_date"],
                             "end_reason": e["end_reason"]})

    @property
    def smd_max_after(self) -> float:
        return _max_abs(self.balance, "smd_after")

    @property
    def smd_max_before(self) -> float:
        return _max_abs(self.balance, "smd_before")

    def matched_share(self) -> float:
        """Share of the eligible contacted youths that are in the cohort (found a comparison)."""
        counts = self.meta.get("counts") or {}
        eligible, matched = counts.get("contacted_eligible"), counts.get("contacted")
        if not eligible or matched is None:
            return float("nan")
        return float(matched) / float(eligible)

    def overlap_share(self) -> float:
        """Share of contacted youths whose propensity score lies within the range of the
        comparison candidates' scores (all candidates, before matching). Computed once: the
        table holds every sampled candidate (millions of rows at national scale)."""
        if self._overlap is None:
            self._overlap = _overlap_share(self.propensity)
        return self._overlap


def _overlap_share(p: pd.DataFrame) -> float:
    if p.empty or "propensity_score" not in p:
        return float("nan")
    score = pd.to_numeric(p["propensity_score"], errors="coerce").to_numpy(float)
    contacted = (p["arm"].astype(str) == "contacted").to_numpy()
    treated = score[contacted & ~np.isnan(score)]
    control = score[~contacted & ~np.isnan(score)]
    if treated.size == 0 or control.size == 0:
        return float("nan")
    return float(((treated >= control.min()) & (treated <= control.max())).mean())


def coverage_table(cohort: CohortData) -> pd.DataFrame:
    """The matched contacted against ALL eligible contacted: whom the matched result covers.

    Per covariate at the index date (the cohort definition's, age and male): the mean among all
    eligible contacted, among the matched contacted and the unmatched, and the standardised
    difference matched minus all eligible (pooled SD sqrt((sd_m^2 + sd_all^2) / 2)); ``n_all``,
    ``n_matched`` are the persons. Empty when the cohort folder has no eligible list.
    Unsuppressed: the report suppresses.
    """
    columns = ["covariate", "n_all", "n_matched", "mean_all", "mean_matched", "mean_unmatched",
               "smd_matched_vs_all"]
    e = cohort.eligible
    if e is None or e.empty:
        return pd.DataFrame(columns=columns)
    e = e.assign(male=(e["sex"].astype(str) == "M").astype(float))
    names = [c for c in (cohort.meta.get("covariates") or {}) if c in e.columns] + ["age_at_index", "male"]
    m = e[e["matched"].astype(bool)]
    u = e[~e["matched"].astype(bool)]
    rows = []
    for c in names:
        x_all, x_m = e[c].astype(float), m[c].astype(float)
        sd = float(np.sqrt((x_all.var(ddof=1) + (x_m.var(ddof=1) if len(x_m) > 1 else 0.0)) / 2))
        rows.append({"covariate": c, "n_all": len(e), "n_matched": len(m), "mean_all": x_all.mean(),
                     "mean_matched": x_m.mean() if len(m) else np.nan,
                     "mean_unmatched": u[c].astype(float).mean() if len(u) else np.nan,
                     "smd_matched_vs_all": (x_m.mean() - x_all.mean()) / sd if sd > 0 and len(m) else np.nan})
    return pd.DataFrame(rows, columns=columns)


def _max_abs(frame: pd.DataFrame, col: str) -> float:
    if frame.empty or col not in frame:
        return float("nan")
    values = pd.to_numeric(frame[col], errors="coerce").abs().dropna()
    return float(values.max()) if len(values) else float("nan")


def read_cohort(folder: str | Path) -> CohortData:
    """Read ``cohort.parquet``, ``cohort.json`` and the attrition, balance and propensity tables.

    Raises
    ------
    InputError
        When the cohort has not been built (a file is missing) or lacks a needed column.
    """
    folder = Path(folder)
    for name in COHORT_FILES:
        if not (folder / name).exists():
            raise InputError("the cohort has not been built: run `evaluation cohort build` first",
                             file=str(folder / name))
    cohort = pd.read_parquet(folder / "cohort.parquet").reset_index(drop=True)
    for col in ("person_id", "set_id", "arm", "treated", "index_date", "end_date", "end_reason"):
        if col not in cohort:
            raise InputError("missing column", file=str(folder / "cohort.parquet"), column=col)
    if "weight" not in cohort:
        cohort["weight"] = 1.0
    meta = json.loads((folder / "cohort.json").read_text(encoding="utf-8"))
    eligible = (pd.read_parquet(folder / "eligible_contacted.parquet")
                if (folder / "eligible_contacted.parquet").exists() else None)
    return CohortData(
        folder=folder, cohort=cohort, meta=meta, eligible=eligible,
        attrition=pd.read_parquet(folder / "attrition.parquet"),
        balance=pd.read_parquet(folder / "balance.parquet"),
        propensity=pd.read_parquet(folder / "propensity.parquet"),
    )


def find_initiative_start(meta: dict[str, Any], cohort_definition: Path | None,
                          contacts: pd.DataFrame) -> dt.date:
    """The initiative's start date.

    In order: ``initiative_start`` anywhere in ``cohort.json``; the start of the index period in
    ``cohort.json`` (``period.start``); the cohort definition's ``initiative_start`` or
    ``index.start``; else the first contact date in the warehouse.
    """
    def search(obj: Any) -> Any:
        if isinstance(obj, dict):
            if "initiative_start" in obj:
                return obj["initiative_start"]
            for v in obj.values():
                found = search(v)
                if found is not None:
                    return found
        return None

    value = search(meta)
    if value is None and isinstance(meta.get("period"), dict):
        value = meta["period"].get("start")
    if value is None and cohort_definition is not None and cohort_definition.exists():
        import tomllib

        with open(cohort_definition, "rb") as fh:
            doc = tomllib.load(fh)
        value = search(doc)
        if value is None and isinstance(doc.get("index"), dict):
            value = doc["index"].get("start")
    if value is not None:
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return pd.to_datetime(contacts["contact_date"]).min().date()


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
    t0 = int(days([d0])[0])
    as_of = pd.Timestamp(data_end).date()
    keys = PersonKeys.of_persons(warehouse)
    persons = read_keyed(warehouse, "persons", keys, dates=("birth_date",), as_of=as_of)
    res = read_keyed(warehouse, "residence", keys, dates=("from_date", "to_date"), texts=("municipality_code",),
                     as_of=as_of)
    vital = read_keyed(warehouse, "vital", keys, dates=("death_date", "emigration_date"), as_of=as_of)
    cust = read_keyed(warehouse, "custody", keys, dates=("start_date", "end_date"), as_of=as_of)
    contacts = read_keyed(warehouse, "contacts", keys, dates=("contact_date",), as_of=as_of)
    n = len(keys)

    def anyone(pk: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = np.zeros(n + 1, bool)
        out[pk[rows]] = True  # a missing id (-1) lands in the extra last place
        return out[:n]

    def first(pk: np.ndarray, day: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Each person's earliest day (of ``rows``), NEVER when none."""
        out = np.full(n + 1, NEVER, "int64")
        rows = np.ones(len(pk), bool) if rows is None else rows
        np.minimum.at(out, pk[rows], day[rows])
        return out[:n]

    pk, born = persons["pk"], persons["birth_date"]
    bd = born.astype("datetime64[D]")
    month = bd.astype("datetime64[M]")
    b_year = bd.astype("datetime64[Y]").astype("int64") + 1970
    b_month = month.astype("int64") % 12 + 1
    b_day = (bd - month.astype("datetime64[D]")).astype("int64") + 1
    before_birthday = (b_month > d0.month) | ((b_month == d0.month) & (b_day > d0.day))
    age = d0.year - b_year - before_birthday.astype(int)
    code = np.flatnonzero(res["municipality_code_values"].astype(str) == municipality)
    here = anyone(res["pk"], np.isin(res["municipality_code"], code) & (res["from_date"] <= t0)
                  & (res["to_date"] >= t0))
    death, emig = first(vital["pk"], vital["death_date"]), first(vital["pk"], vital["emigration_date"])
    inside = anyone(cust["pk"], (cust["start_date"] <= t0) & (cust["end_date"] >= t0))
    contacted_before = anyone(contacts["pk"], contacts["contact_date"] <= t0)
    first_contact = first(contacts["pk"], contacts["contact_date"], contacts["contact_date"] > t0)
    known = pk >= 0
    who = np.where(known, pk, 0)
    ok = known & (born != NEVER) & (age >= 14) & (age <= 25) & here[who] & (death[who] > t0) & (emig[who] > t0) \
        & ~inside[who] & ~contacted_before[who]
    p = pk[ok]
    order = ["death", "emigration", "contacted", "end_of_data"]
    # the first end (end of data is always there) and its reason: the first column at the
    # minimum, in the order above (ties go to the earlier column); NEVER: no such date
    ends = np.column_stack([death[p], emig[p], first_contact[p], np.full(len(p), int(days([data_end])[0]))])
    at = ends.argmin(axis=1)
    end_date = ends[np.arange(len(p)), at].astype("datetime64[D]").astype("datetime64[ns]")
    reason = np.array(order, dtype=object)[at]
    comp = pd.DataFrame({
        "person_id": keys.ids(p),
        "set_id": -np.arange(1, len(p) + 1),
        "arm": "comparison", "treated": 0, "weight": 1.0,
        "index_date": d0, "end_date": end_date, "end_reason": reason,
    })
    treated = contacted[contacted["treated"] == 1][
        ["person_id", "set_id", "arm", "treated", "weight", "index_date", "end_date", "end_reason"]].copy()
    treated["set_id"] = np.arange(1, len(treated) + 1)
    out = pd.concat([treated, comp], ignore_index=True)
    out["index_date"] = pd.to_datetime(out["index_date"]).astype("datetime64[ns]")
    out["end_date"] = pd.to_datetime(out["end_date"]).astype("datetime64[ns]")
    return out
