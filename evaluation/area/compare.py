"""The three area-level answers side by side, and the plain rule for what the council report
may say.

The rule (one place; the reports read :attr:`AreaComparison.verdict`):

- Only methods whose gates passed count. With none, the report says the area-level data cannot
  yet answer the question.
- **agree_decrease / agree_increase**: every counted method's estimate has the same sign, at
  least two methods are counted, and at least one of them is statistically clear (its 95%
  interval, or for the synthetic control its placebo p-value below 0.05, excludes no change).
  The report may say recorded crime fell (rose) relative to the comparison.
- **no_clear_change**: the counted methods agree in sign or not, but none is statistically
  clear: the report says no clear change is seen.
- **disagree**: the counted methods point in different directions and at least one is clear:
  the report says the methods disagree and no conclusion is drawn.
- **one_method**: only one method counted; its result is shown with that caveat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .did import fit_did
from .its import fit_its
from .panel import AreaPanel, PanelError
from .results import TIDY_COLUMNS, AreaResult
from .synth import fit_synth

METHODS = ("its", "did", "synth")


def _clear(result: AreaResult) -> bool:
    row = result.row()
    if result.method == "synth":
        return row["placebo_p"] is not None and row["placebo_p"] < 0.05
    return row["p_value"] is not None and row["p_value"] < 0.05


@dataclass(frozen=True)
class AreaComparison:
    """The fitted methods (``results``) and, per method that could not be fitted, why not."""

    results: tuple[AreaResult, ...]
    not_fitted: dict[str, str]

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame([r.row() for r in self.results], columns=list(TIDY_COLUMNS))

    @property
    def verdict(self) -> str:
        counted = [r for r in self.results if r.gates.get("passed")]
        if not counted:
            return "cannot_say"
        signs = {int(np.sign(r.estimate)) for r in counted}
        clear = any(_clear(r) for r in counted)
        if len(counted) == 1:
            return "one_method"
        if not clear:
            return "no_clear_change"
        if len(signs) > 1:
            return "disagree"
        return "agree_decrease" if signs == {-1} else "agree_increase"

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "methods": [r.to_dict() for r in self.results],
                "not_fitted": dict(self.not_fitted)}


def fit_all(panel: AreaPanel, methods: tuple[str, ...] = METHODS, family: str | None = None,
            outcome_lags: tuple = (), progress: bool = False,
            trends: bool | None = None) -> AreaComparison:
    """Fit each method that the panel is large enough for; the others are listed with the
    reason (a panel too small for every asked method raises the first reason). ``trends``:
    unit-specific trends in the DiD (None: when the pre-period is long enough)."""
    fitters = {"its": lambda: fit_its(panel, family=family),
               "did": lambda: fit_did(panel, family=family, trends=trends),
               "synth": lambda: fit_synth(panel, outcome_lags=outcome_lags, progress=progress)}
    results, skipped = [], {}
    first_error = None
    for method in methods:
        try:
            results.append(fitters[method]())
        except PanelError as exc:
            skipped[method] = exc.message
            first_error = first_error or exc
    if not results and first_error is not None:
        raise first_error
    return AreaComparison(tuple(results), skipped)
