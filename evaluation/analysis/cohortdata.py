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
from ..io import read_warehouse

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
