"""Synthetic control (Abadie, Diamond and Hainmueller 2010) with placebo-in-space inference.

Estimand: the average post-period gap between the treated unit and its synthetic control, a
weighted mix of donors (non-negative weights summing to one) chosen to reproduce the treated
unit before the start (outcome units per period).

Predictors: with covariates (``name`` or ``name@FIRST-LAST``, each averaged over its periods)
and outcome lags, the predictor weights V are chosen by pysyncon's nested optimisation (the
pre-period outcome fit), from equal and regression-based starting values, the better of the two
kept. Without covariates the predictors are the pre-period outcomes themselves with equal V,
i.e. the weights minimise the pre-period mean squared gap.

The inner problem (donor weights W for a given V) is solved exactly as non-negative least
squares with the sum-to-one row added (:func:`_simplex_least_squares`): pysyncon's default
SLSQP step stops short of the optimum on the Proposition 99 data.

Inference: :meth:`SynthResult.placebo` refits with every donor as the treated unit; the
placebo p-value is the rank of the treated unit's post/pre RMSPE ratio among all of them divided
by their number (the row's ``p_value`` and ``placebo_p``). The 95% interval (``conf_low``,
``conf_high``) is the conformal interval of a constant effect (:mod:`.conformal`, Chernozhukov,
Wüthrich and Zhu 2021). Leave-one-out refits without each donor that has weight.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from ..progress import info
from ._threads import single_threaded_blas
from .conformal import conformal_interval
from .panel import AreaPanel, PanelError
from .results import AreaResult

#: Pre-period fit gate: the pre-period RMSPE at most this share of the treated unit's pre-period
#: mean or, for counts, at most twice their Poisson noise (the square root of the mean), whichever
#: is larger: a synthetic control cannot track the noise of monthly counts, only their course.
PRE_FIT_RELATIVE = 0.10
PRE_FIT_NOISE_MULTIPLE = 2.0

ESTIMAND = ("average post-period gap between the treated unit and its synthetic control "
            "(outcome units per period)")


def _simplex_least_squares(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """argmin ||A w - b|| over w >= 0, sum(w) = 1 (the constraint as a heavily weighted row)."""
    scale = 1e3 * max(1.0, float(np.abs(A).max()), float(np.abs(b).max()))
    a2 = np.vstack([A, np.full(A.shape[1], scale)])
    w, _ = nnls(a2, np.append(b, scale), maxiter=100 * A.shape[1])
    total = w.sum()
    return w / total if total > 0 else np.full(A.shape[1], 1 / A.shape[1])


def _synth_class():
    from pysyncon import Synth

    class ExactSynth(Synth):
        """pysyncon's Synth with the inner weight problem solved exactly."""

        @staticmethod
        def w_optimize(V_mat, X0, X1, **_ignored):
            v = np.sqrt(np.clip(np.diag(V_mat), 0, None))
            w = _simplex_least_squares(X0 * v[:, None], X1 * v)
            r = X1 - X0 @ w
            return w, float(r @ V_mat @ r)

    return ExactSynth


def _predictors(panel: AreaPanel, treated: str, donors: list[str]):
    """X1, X0 (predictors) and Z1, Z0 (pre-period outcomes) as pysyncon expects them."""
    wide = panel.wide()
    pre = panel.pre_periods
    z = wide.loc[pre]
    rows = {}
    for cov in panel.covariates:
        values = panel.wide(cov.column)
        first = panel.scale.ordinal(cov.first) if cov.first else pre[0]
        last = panel.scale.ordinal(cov.last) if cov.last else pre[-1]
        span = values.loc[(values.index >= first) & (values.index <= last)]
        rows[f"{cov.column}@{panel.label(first)}-{panel.label(last)}"] = span.mean(skipna=True)
    for lag in panel.outcome_lags:
        rows[f"{panel.outcome}@{panel.label(lag)}"] = wide.loc[lag]
    if not rows:
        for p in pre:
            rows[f"{panel.outcome}@{panel.label(p)}"] = wide.loc[p]
    x = pd.DataFrame(rows).T
    bad = x[donors + [treated]].isna().any(axis=1)
    if bad.any():
        raise PanelError(f"predictor {x.index[bad][0]} has no value for some unit in its periods",
                         file=panel.source)
    return x[donors], x[treated], z[donors], z[treated]


def _fit_weights(panel: AreaPanel, treated: str, donors: list[str]) -> tuple[pd.Series, dict]:
    X0, X1, Z0, Z1 = _predictors(panel, treated, donors)
    model_cls = _synth_class()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not panel.covariates and not panel.outcome_lags:
            model = model_cls()
            model.fit(X0=X0, X1=X1, Z0=Z0, Z1=Z1, custom_V=np.ones(len(X0)))
            best, how = model, "equal predictor weights (pre-period outcomes)"
        else:
            best, how = None, ""
            for start in ("equal", "ols"):
                model = model_cls()
                try:
                    model.fit(X0=X0, X1=X1, Z0=Z0, Z1=Z1, optim_method="Nelder-Mead",
                              optim_initial=start)
                except ValueError:
                    continue  # ols start undefined (collinear predictors)
                if best is None or model.loss_V < best.loss_V:
                    best, how = model, f"nested optimisation, {start} start (Nelder-Mead)"
    weights = pd.Series(best.W, index=donors).clip(lower=0)
    return weights / weights.sum(), {"v_method": how, "v": [float(v) for v in np.ravel(best.V)],
                                     "predictors": list(X0.index)}


def _gaps(panel: AreaPanel, treated: str, weights: pd.Series) -> pd.DataFrame:
    wide = panel.wide()
    synthetic = wide[weights.index].to_numpy() @ weights.to_numpy()
    return pd.DataFrame({"period": wide.index, "observed": wide[treated].to_numpy(),
                         "synthetic": synthetic, "gap": wide[treated].to_numpy() - synthetic})


def _rmspe(gaps: pd.DataFrame, start: int) -> tuple[float, float]:
    pre = gaps.loc[gaps["period"] < start, "gap"]
    post = gaps.loc[gaps["period"] >= start, "gap"]
    return float(np.sqrt((pre ** 2).mean())), float(np.sqrt((post ** 2).mean()))


class SynthResult(AreaResult):
    """A synthetic control fit; :meth:`placebo` and :meth:`leave_one_out` refit it."""

    def __init__(self, panel: AreaPanel, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._panel = panel

    def placebo(self, progress: bool = False) -> pd.DataFrame:
        """Placebo in space: every donor as the treated unit (the real one left out)."""
        rows = [self._placebo_row(self._panel.treated_unit, self._row["weights"], treated=True)]
        donors = self._panel.donors
        for i, unit in enumerate(donors, 1):
            if progress and i % 10 == 0:
                info(f"  placebo {i} of {len(donors)}")
            placebo_panel = self._panel.with_treated(unit)
            w, _ = _fit_weights(placebo_panel, unit, placebo_panel.donors)
            rows.append(self._placebo_row(unit, w.to_dict(), treated=False, panel=placebo_panel))
        return pd.DataFrame(rows)

    def _placebo_row(self, unit, weights, treated, panel=None):
        panel = panel or self._panel
        gaps = _gaps(panel, unit, pd.Series(weights))
        pre, post = _rmspe(gaps, panel.start)
        return {"unit": unit, "treated": treated, "pre_rmspe": pre, "post_rmspe": post,
                "ratio": post / pre if pre > 0 else np.inf,
                "average_gap": float(gaps.loc[gaps["period"] >= panel.start, "gap"].mean())}

    def leave_one_out(self) -> pd.DataFrame:
        """The estimate without each donor that has a weight of at least 0.001."""
        rows = []
        for unit, weight in self._row["weights"].items():
            if weight < 0.001:
                continue
            panel = self._panel.without([unit])
            w, _ = _fit_weights(panel, panel.treated_unit, panel.donors)
            gaps = _gaps(panel, panel.treated_unit, w)
            rows.append({"left_out": unit, "weight": weight, "pre_rmspe": _rmspe(gaps, panel.start)[0],
                         "estimate": float(gaps.loc[gaps["period"] >= panel.start, "gap"].mean())})
        return pd.DataFrame(rows)


@single_threaded_blas
def fit_synth(panel: AreaPanel, outcome_lags: tuple = (), inference: bool = True,
              progress: bool = False) -> SynthResult:
    """Synthetic control for ``panel.treated_unit``; with ``inference`` the placebo-in-space
    distribution, its p-value and leave-one-out are computed and stored in the result."""
    panel.require("synth")
    lags = []
    for lag in outcome_lags:
        ordinal = panel.scale.ordinal(lag)
        if ordinal is None or ordinal not in set(panel.pre_periods):
            raise PanelError(f"outcome lag '{lag}' is not a pre-period of the panel",
                             file=panel.source, column=panel.time)
        lags.append(ordinal)
    panel = dataclasses.replace(panel, outcome_lags=tuple(lags))
    weights, how = _fit_weights(panel, panel.treated_unit, panel.donors)
    gaps = _gaps(panel, panel.treated_unit, weights)
    pre_rmspe, post_rmspe = _rmspe(gaps, panel.start)
    post = gaps["period"] >= panel.start
    effect = float(gaps.loc[post, "gap"].mean())
    base = float(gaps.loc[post, "synthetic"].mean())
    pre_sd = float(gaps.loc[~post, "observed"].std())
    series = gaps.assign(period=[panel.label(p) for p in gaps["period"]])
    interval = _conformal(panel, effect, pre_rmspe)
    row = {"estimate": effect, "std_error": None,
           "conf_low": interval["conf_low"] if interval else None,
           "conf_high": interval["conf_high"] if interval else None,
           "p_value": None, "relative_change": effect / base if base else None,
           "weights": {k: round(float(v), 6) for k, v in weights.items()},
           "pre_rmspe": pre_rmspe, "placebo_p": None}
    diagnostics = {**how, "pre_rmspe": pre_rmspe, "post_rmspe": post_rmspe,
                   "pre_sd_treated": pre_sd, "counterfactual_mean": base,
                   "donors": len(panel.donors), "n_pre": int((~post).sum()),
                   "n_post": int(post.sum()),
                   "smallest_possible_p": 1 / (len(panel.donors) + 1), "conformal": interval}
    pre_mean = float(gaps.loc[~post, "observed"].mean())
    diagnostics["pre_rmspe_relative"] = pre_rmspe / abs(pre_mean) if pre_mean else None
    allowance = PRE_FIT_RELATIVE * abs(pre_mean)
    if panel.count_outcome:
        allowance = max(allowance, PRE_FIT_NOISE_MULTIPLE * np.sqrt(max(pre_mean, 0.0)))
    diagnostics["pre_fit_allowance"] = float(allowance)
    gates = {"pre_fit": pre_rmspe <= allowance}
    result = SynthResult(panel, "synth", ESTIMAND, row, diagnostics, gates, series)
    if inference:
        _add_inference(result, progress)
    _finish_gates(result)
    return result


def _conformal(panel: AreaPanel, effect: float, pre_rmspe: float) -> dict | None:
    """The conformal 95% interval of the average effect (:mod:`.conformal`)."""
    wide = panel.wide()
    return conformal_interval(wide[panel.treated_unit].to_numpy(float),
                              wide[panel.donors].to_numpy(float),
                              wide.index.to_numpy() >= panel.start, effect, pre_rmspe,
                              _simplex_least_squares)


def _add_inference(result: SynthResult, progress: bool) -> None:
    placebo = result.placebo(progress=progress)
    treated_ratio = float(placebo.loc[placebo["treated"], "ratio"].iloc[0])
    rank = int((placebo["ratio"] >= treated_ratio).sum())
    p = rank / len(placebo)
    result._row.update(placebo_p=p, p_value=p)
    loo = result.leave_one_out()
    result._diagnostics.update(placebo_rank=rank, placebo_runs=len(placebo), treated_ratio=treated_ratio,
                               leave_one_out_range=[float(loo["estimate"].min()), float(loo["estimate"].max())]
                               if len(loo) else None)
    result._extra.update(placebo=placebo, leave_one_out=loo)


def _finish_gates(result: SynthResult) -> None:
    gates, reasons = result._gates, []
    if not gates["pre_fit"]:
        reasons.append("the synthetic control does not track the treated unit before the start "
                       f"(pre-period RMSPE above {result._diagnostics['pre_fit_allowance']:.3g})")
    loo = result._diagnostics.get("leave_one_out_range")
    if loo is not None:
        est = result.estimate
        gates["leave_one_out"] = bool(np.sign(loo[0]) == np.sign(loo[1]) == np.sign(est)) or est == 0
        if not gates["leave_one_out"]:
            reasons.append("leaving out one donor changes the sign of the estimate")
    gates.update(passed=not reasons, reasons=reasons)
    result._row["gates_passed"] = not reasons
