"""Area-level designs on aggregate counts: is there less recorded crime where the initiative runs?

>>> from evaluation.area import prepare, fit_its, fit_did, fit_synth
>>> panel = prepare(frame, unit="municipality_code", time="period", outcome="count",
...                 treated_unit="851", start="2024-01")
>>> fit_did(panel).tidy()      # one row: estimate, conf_low, conf_high, p_value, gates
>>> fit_synth(panel).placebo() # placebo-in-space runs over every donor

Modules, in the order of the method: :mod:`.periods` (period labels), :mod:`.panel` (the
validated panel and its minimum sizes), :mod:`.its` (interrupted time series), :mod:`.did`
(difference-in-differences and event study), :mod:`.synth` (synthetic control, placebo and
leave-one-out), :mod:`.compare` (the three side by side and the rule for what may be said),
:mod:`.results`.
"""

from __future__ import annotations

from .compare import METHODS, AreaComparison, fit_all
from .did import fit_did
from .its import fit_its
from .panel import MIN_DONORS, MIN_PRE_PERIODS, AreaPanel, Covariate, PanelError, prepare
from .results import ASSUMPTIONS, TIDY_COLUMNS, AreaResult
from .synth import SynthResult, fit_synth

__all__ = [
    "ASSUMPTIONS", "METHODS", "MIN_DONORS", "MIN_PRE_PERIODS", "TIDY_COLUMNS", "AreaComparison",
    "AreaPanel", "AreaResult", "Covariate", "PanelError", "SynthResult", "fit_all", "fit_did",
    "fit_its", "fit_synth", "prepare",
]
