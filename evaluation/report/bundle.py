"""Reading a results bundle (``<output>/results/``) for the reports.

The bundle is written by ``evaluation analyse`` (``estimates.json``, ``tables/*.parquet``,
``manifest.json``; see docs/interfaces.md). This module only reads it: reports
never compute estimates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from ..errors import InputError

ESTIMATES = "estimates.json"
#: The order in which outcome families are presented.
FAMILY_ORDER = ("reoffending", "education_job", "group_recruitment")
MANIFEST = "manifest.json"

_CONTACTED = {"1", "1.0", "contacted", "treated", "true"}
_COMPARISON = {"0", "0.0", "comparison", "untreated", "control", "false"}


class BundleMissing(InputError):
    """There is no results bundle where one is expected."""


def arm_of(group: object) -> str | None:
    """Map a ``group`` value of an estimate row (1/0, "contacted"/"comparison") to the arm name."""
    if group is None:
        return None
    key = str(group).strip().lower()
    if key in _CONTACTED:
        return "contacted"
    if key in _COMPARISON:
        return "comparison"
    return None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"is not valid JSON: {exc}", file=str(path)) from None


@dataclass
class Bundle:
    """A results bundle on disk: its ``estimates.json`` and access to its tables."""

    path: Path
    estimates: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)
    _tables: dict[str, pd.DataFrame | None] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: str | Path) -> Bundle:
        """Open the bundle in folder ``path``.

        Raises
        ------
        BundleMissing
            When ``path`` holds no ``estimates.json`` (run ``evaluation analyse`` first).
        InputError
            When ``estimates.json`` is not valid JSON or lacks its ``outcomes`` list.
        """
        path = Path(path)
        est = path / ESTIMATES
        if not est.is_file():
            raise BundleMissing(
                "no results bundle here (estimates.json is missing); run `evaluation analyse` first",
                file=str(path),
            )
        estimates = _read_json(est)
        if not isinstance(estimates, dict) or not isinstance(estimates.get("outcomes"), list):
            raise InputError("has no 'outcomes' list", file=str(est), column="outcomes")
        man = path / MANIFEST
        manifest = _read_json(man) if man.is_file() else {}
        return cls(path=path, estimates=estimates, manifest=manifest)

    @property
    def study(self) -> dict[str, Any]:
        return self.estimates.get("study", {}) or {}

    @property
    def cohort(self) -> dict[str, Any]:
        return self.estimates.get("cohort", {}) or {}

    @property
    def data_quality(self) -> dict[str, Any]:
        """Rows read, used and quarantined per source (empty when the bundle has none)."""
        return self.estimates.get("data_quality", {}) or {}

    @property
    def outcomes(self) -> list[dict[str, Any]]:
        return list(self.estimates.get("outcomes", []))

    def families(self) -> list[tuple[str, dict[str, Any]]]:
        """One outcome per family (its primary outcome, else the first), in :data:`FAMILY_ORDER`
        (families not listed there last, in bundle order)."""
        chosen: dict[str, dict[str, Any]] = {}
        for outcome in self.outcomes:
            fam = outcome.get("family", outcome.get("id"))
            if fam not in chosen or (outcome.get("primary") and not chosen[fam].get("primary")):
                chosen[fam] = outcome
        order = {fam: i for i, fam in enumerate(FAMILY_ORDER)}
        return sorted(chosen.items(), key=lambda item: order.get(item[0], len(order)))

    def tracking(self) -> dict[str, Any] | None:
        """The quarter's tracking series (``<quarter>/tracking/tracking.json`` beside the bundle,
        written by ``evaluation track``); None when there is none."""
        if "_tracking" not in self._tables:
            path = self.path.parent / "tracking" / "tracking.json"
            self._tables["_tracking"] = _read_json(path) if path.is_file() else None  # type: ignore[assignment]
        return self._tables["_tracking"]  # type: ignore[return-value]

    def file(self, relative: str | None) -> Path | None:
        """A file of the bundle by its path relative to the bundle folder (None when absent)."""
        if not relative:
            return None
        path = self.path / relative
        return path if path.is_file() else None

    def table(self, relative: str | None) -> pd.DataFrame | None:
        """A Parquet table of the bundle (None when the bundle does not have it)."""
        if not relative:
            return None
        if relative not in self._tables:
            path = self.file(relative)
            if path is None:
                self._tables[relative] = None
            else:
                try:
                    self._tables[relative] = pd.read_parquet(path)
                except (OSError, ValueError, pa.ArrowException) as exc:
                    raise InputError(f"cannot be read as Parquet: {exc}", file=str(path)) from None
        return self._tables[relative]

    def named_table(self, name: str) -> pd.DataFrame | None:
        """A bundle-level table by name (``attrition``, ``balance``, ``propensity``, ``contacts``)."""
        return self.table((self.estimates.get("tables") or {}).get(name, f"tables/{name}.parquet"))


def estimate_rows(outcome: dict[str, Any]) -> pd.DataFrame:
    """The tidy estimate rows of one outcome as a DataFrame (with an ``arm`` column)."""
    rows = pd.DataFrame(outcome.get("estimates") or [])
    for col in ("model", "term", "group", "time", "estimate", "std_error", "conf_low",
                "conf_high", "p_value", "hazard_ratio", "not_estimated", "analysis"):
        if col not in rows.columns:
            rows[col] = None
    rows["analysis"] = rows["analysis"].fillna("matched")
    rows["arm"] = [arm_of(g) for g in rows["group"]]
    return rows


def pick(rows: pd.DataFrame, model: str, *, analysis: str = "matched", time: float | None = None,
         arm: str | None = None, term: str | None = None) -> dict[str, Any] | None:
    """The first estimate row matching the filters, as a dict (None when there is none)."""
    sel = rows[(rows["model"] == model) & (rows["analysis"] == analysis)]
    if time is not None:
        sel = sel[pd.to_numeric(sel["time"], errors="coerce").round() == round(float(time))]
    if arm is not None:
        sel = sel[sel["arm"] == arm]
    if term is not None and "term" in sel:
        by_term = sel[sel["term"].astype(str).str.contains(term, na=False)]
        sel = by_term if len(by_term) else sel
    if sel.empty:
        return None
    return sel.iloc[0].to_dict()
