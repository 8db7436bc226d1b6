"""Survival engine: Kaplan-Meier, Aalen-Johansen, Cox, Fine-Gray, RMST and their diagnostics.

>>> from evaluation.survival import SurvivalSpec, fit_all
>>> result = fit_all(frame, SurvivalSpec(time="time", event="status", treatment="treated"))
>>> result.tidy()        # one row per estimate
>>> result.diagnostics   # PH test, minimum detectable HR, E-value, events per group

Modules: :mod:`.nonparametric` (KM, cumulative incidence, RMST), :mod:`.cox` (Cox and
Fine-Gray), :mod:`.diagnostics`, :mod:`.results`, :mod:`.api`.
"""

from __future__ import annotations

from .api import SurvivalSpec, cif_curve, fit_all, km_curve, prepare
from .results import TIDY_COLUMNS, SurvivalResults

__all__ = [
    "TIDY_COLUMNS",
    "SurvivalResults",
    "SurvivalSpec",
    "cif_curve",
    "fit_all",
    "km_curve",
    "prepare",
]
