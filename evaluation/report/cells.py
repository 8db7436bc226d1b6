"""Every number the reports publish, registered with the disclosure checker with its links.

:func:`build_checker` registers the whole bundle (both documents: a reader has the council
report and the technical appendix side by side, so they share one suppression pattern), solves
once and returns the :class:`~evaluation.disclosure.Checker` that presentation code asks for
each cell's text. A new table registers its cells in a function of its own, added to
:data:`REGISTRARS` (signature ``(check, bundle, quarter)``); the keys below are the ones other
parts of the report use.

Keys
----
``contacts/<period>/<dimension>/<category>``
    ``<period>`` is the report quarter (e.g. ``2026Q3``) or ``cumulative``; the total is
    ``contacts/<period>/total/all``.
``cohort/<name>``
    ``n_contacted``, ``n_comparison``, ``n_sets``, ``contacted_eligible``.
``attrition/<arm>/start``, ``attrition/<arm>/step/<code>``, ``attrition/<arm>/end``
``propensity/<arm>/<matched|unmatched>``
``balance/<stage>/<arm>/<covariate>/mean``, ``balance/<stage>/<covariate>/smd`` (estimates)
``outcome/<id>/population/<arm>``, ``outcome/<id>/events/<arm>``,
``outcome/<id>/at_risk/<arm>/<day>``, :func:`estimate_key` for model rows.
``overlap/<arm>/bin<i>``
``quality/<source>/read|written|quarantined``, ``quality/<source>/reason/<reason>``,
``quality/total/read|quarantined`` (records, not persons, but protected alike)
``estimand/<id>/weights/<quantile>/<before|after>``
    Quantiles of the per-protocol censoring weights (the rows of the estimand that is not the
    primary one are :func:`estimate_key` rows of their ``analysis``).
``negative_control/<id>/events/<arm>``, ``negative_control/<id>/<risk_difference|log_risk_ratio>``,
``negative_control/null/<mean|sd|ease>``
``placebo/n_contacted``, ``placebo/<id>/events/<arm>``, ``placebo/<id>/risk_difference``
``subgroup/<id>/<dimension>/<group>/events/<arm>``, ``subgroup/<id>/<dimension>/<group>/risk_difference``,
``subgroup/<id>/<dimension>/interaction``; ``rosenbaum/<id>``
``tracking/<Q>/contacted``, ``tracking/<Q>/matched``, ``tracking/<Q>/<id>/events/<arm>``
    The trajectory (:func:`tracking`), one set per quarter of the series; estimates
    ``tracking/<Q>/<id>/rd|hr|mde``.
``area/observed/<period>``
    The study municipality's reported offences per period drawn in the area-level figure
    (aggregates of public statistics, protected alike: a small one is not drawn).
``process/<indicator>/<group>/<scope>/persons|with|without``
    The process indicators of the latest quarter (``<scope>`` the quarter label) and since the
    start (``cumulative``); estimates ``.../<statistic>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..disclosure import Checker
from ..disclosure.curves import drawable, undrawn_events
from ..timeunits import DAYS_PER_MONTH, months_to_days
from .bundle import Bundle, arm_of, estimate_rows

ARMS = ("contacted", "comparison")
#: Covariates that are 0/1 indicators: their means times the arm size are counts of persons.
BINARY_COVARIATES = {"custody_ever", "in_education_or_job", "group_member_cooffender_12m",
                     "group_registered", "male", "female", "sex_male"}
#: Per-arm models whose value at a time is a curve value; contrasts rest on both arms.
CURVE_MODELS = {"kaplan_meier", "cumulative_incidence", "rmst"}
CONTRASTS = {"risk_difference", "risk_ratio", "rmst_difference"}
#: Bins of the propensity overlap histogram.
OVERLAP_BINS = 40
#: Analyses of the estimand that is not the plan's primary one (the primary one is ``matched``).
OTHER_ESTIMANDS = ("intention_to_treat", "per_protocol")


def _int(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return 0.0
    return out if np.isfinite(out) else 0.0


# -- contacts -------------------------------------------------------------------------------
def contacts(check: Checker, bundle: Bundle, quarter: str) -> None:
    """The contacts table: per period a total and its distributions; cumulative = quarter +
    earlier quarters (a latent count per category)."""
    frame = bundle.named_table("contacts")
    if frame is None:
        return
    frame = frame.assign(category=frame["category"].astype(str))
    period_key = {"quarter": quarter, "cumulative": "cumulative"}
    cells: dict[tuple[str, str, str], str] = {}
    for r in frame.itertuples():
        key = f"contacts/{period_key.get(r.period, r.period)}/{r.dimension}/{r.category}"
        cells[(r.period, r.dimension, r.category)] = check.count(key, r.n)
    for period, label in period_key.items():
        total = check.count(f"contacts/{label}/total/all",
                            frame.loc[(frame["period"] == period) & (frame["dimension"] == "total"),
                                      "n"].sum())
        for dim in sorted(set(frame["dimension"]) - {"total"}):
            parts = [k for (p, d, _), k in cells.items() if p == period and d == dim]
            if parts:
                check.relation(total, parts)
            for part in parts:
                check.estimate(part + "/share", keys=[part, total])
    for (period, dim, cat), key in list(cells.items()):
        if period != "quarter":
            continue
        cum = cells.get(("cumulative", dim, cat)) or check.count(
            f"contacts/cumulative/{dim}/{cat}", 0)
        before = check.latent(f"contacts/before:{quarter}/{dim}/{cat}",
                              check.entries[cum].value - check.entries[key].value)
        check.relation(cum, [key, before])


# -- cohort, attrition, propensity ----------------------------------------------------------
def cohort(check: Checker, bundle: Bundle, quarter: str) -> None:
    """Cohort sizes, the attrition chains and the propensity table's persons, linked."""
    c = bundle.cohort
    counts = c.get("counts") or {}
    n_c = check.count("cohort/n_contacted", c.get("n_contacted"))
    n_k = check.count("cohort/n_comparison", c.get("n_comparison"))
    check.same(check.count("cohort/n_sets", c.get("n_sets")), n_c)
    eligible = check.count("cohort/contacted_eligible", counts.get("contacted_eligible"))
    if counts.get("contacted") is not None:
        check.same(n_c, check.count("cohort/contacted", counts.get("contacted")))
    ends = _attrition(check, bundle, eligible)
    if "contacted" in ends:
        check.same(ends["contacted"], n_c)
    if "comparison" in ends:
        check.same(ends["comparison"], n_k)
    prop = bundle.named_table("propensity")
    if prop is None or "arm" not in prop.columns:
        return
    matched = prop["matched"].astype(bool) if "matched" in prop.columns else pd.Series(True, index=prop.index)
    for arm in ARMS:
        in_arm = prop["arm"].astype(str) == arm
        yes = check.count(f"propensity/{arm}/matched", int((in_arm & matched).sum()))
        no = check.count(f"propensity/{arm}/unmatched", int((in_arm & ~matched).sum()))
        total = eligible if arm == "contacted" else check.latent(
            "propensity/comparison/total", int(in_arm.sum()))
        check.relation(total, [yes, no])
        check.same(yes, n_c if arm == "contacted" else n_k)
    if check.entries.get("attrition/contacted/step/no_match"):
        check.same("propensity/contacted/unmatched", "attrition/contacted/step/no_match")


def _attrition(check: Checker, bundle: Bundle, eligible: str) -> dict[str, str]:
    """Per arm: start = every exclusion + end, through latent remaining counts."""
    frame = bundle.named_table("attrition")
    ends: dict[str, str] = {}
    if frame is None:
        return ends
    for arm, part in frame.groupby("arm", sort=False):
        part = part.reset_index(drop=True)
        excluded = pd.to_numeric(part["n_excluded"], errors="coerce").fillna(0).to_numpy()
        remaining = pd.to_numeric(part["n_remaining"], errors="coerce").fillna(0).to_numpy()
        if not len(part):
            continue
        prev = check.count(f"attrition/{arm}/start", remaining[0] + excluded[0])
        for i in range(len(part)):
            code = str(part.loc[i, "code"] if "code" in part.columns else part.loc[i, "step"])
            step = check.count(f"attrition/{arm}/step/{code}", excluded[i])
            last = i == len(part) - 1
            after = (check.count(f"attrition/{arm}/end", remaining[i]) if last
                     else check.latent(f"attrition/{arm}/after/{code}", remaining[i]))
            check.relation(prev, [step, after])
            if arm == "contacted" and code == "no_match":
                check.same(prev, eligible)
            prev = after
        ends[str(arm)] = prev
    return ends


# -- balance --------------------------------------------------------------------------------
def balance(check: Checker, bundle: Bundle, quarter: str) -> None:
    """Each arm's mean (:func:`group_mean`, its size and for a 0/1 covariate its counts, shown
    or hidden together); an exactly matched covariate ties both arms; an SMD rests on both arms'
    sizes and counts. The largest SMD of a stage rests on the SMD it repeats."""
    frame = bundle.named_table("balance")
    if frame is None:
        return
    sizes = {"after": {"contacted": "cohort/n_contacted", "comparison": "cohort/n_comparison"},
             "before": {"contacted": "cohort/contacted_eligible",
                        "comparison": "propensity/comparison/total"}}
    for r in frame.to_dict("records"):
        name = str(r["covariate"])
        for stage in ("before", "after"):
            behind: list[str] = []  # the arm sizes, and the counts of a 0/1 covariate
            counted: list[str] = []
            for arm in ARMS:
                column = f"mean_{arm}_{stage}" if f"mean_{arm}_{stage}" in r else (
                    f"mean_{arm}" if stage == "after" else None)
                if column is None or column not in r:
                    continue
                got = group_mean(check, f"balance/{stage}/{arm}/{name}", r[column],
                                 sizes[stage][arm], name)
                behind += got
                if len(got) == 3:
                    check.tie(*got[1:])
                    counted += got[1:]
            if len(counted) == 4:
                c_mean = r.get(f"mean_contacted_{stage}", r.get("mean_contacted"))
                k_mean = r.get(f"mean_comparison_{stage}", r.get("mean_comparison"))
                if abs(_int(c_mean) - _int(k_mean)) < 1e-9:  # equal by construction
                    check.tie(*counted)
            check.estimate(f"balance/{stage}/{name}/smd", r.get(f"smd_{stage}"), keys=behind)
    _largest_smd(check, frame, bundle.cohort)


def group_mean(check: Checker, key: str, value: Any, size: str, name: str) -> list[str]:
    """The mean of covariate ``name`` over the group counted by ``size`` (cell ``<key>/mean``).

    It rests on the size: shown only when the size is (a mean of a whole-number covariate over
    a hidden group gives the group's size away, 0.67 = 2/3, and describes a few persons). The
    mean of a 0/1 covariate is a count of persons (``<key>/with``, ``<key>/without``, adding up
    to the size) and rests on both. Returns the cells behind it: the size, then the counts.
    """
    if size not in check.entries:
        check.estimate(key + "/mean", value)
        return []
    if name not in BINARY_COVARIATES:
        check.estimate(key + "/mean", value, keys=[size])
        return [size]
    n = check.entries[size].value or 0.0
    with_ = check.count(key + "/with", round(_int(value) * n))
    without = check.count(key + "/without", n - round(_int(value) * n))
    check.relation(size, [with_, without])
    check.estimate(key + "/mean", value, keys=[with_, without, size])
    return [size, with_, without]


def _largest_smd(check: Checker, frame: pd.DataFrame, cohort: dict[str, Any]) -> None:
    """``cohort/smd_max_<stage>`` (design text, diagnostics): shown when the SMD it repeats is
    shown (else it would give that SMD away); when no covariate's SMD matches it, only when
    every SMD of the stage is."""
    for stage in ("before", "after"):
        value = _int(cohort.get(f"smd_max_{stage}"))
        column = f"smd_{stage}"
        if column not in frame.columns:
            continue
        smd = pd.to_numeric(frame[column], errors="coerce").abs()
        every = [f"balance/{stage}/{c}/smd" for c in frame["covariate"].astype(str)]
        at = [k for k, v in zip(every, smd) if abs(v - value) < 5e-4]
        check.estimate(f"cohort/smd_max_{stage}", cohort.get(f"smd_max_{stage}"),
                       keys=at[:1] or every)


# -- outcomes -------------------------------------------------------------------------------
def estimate_key(outcome_id: str, row: dict[str, Any]) -> str:
    """The checker key of one estimate row of an outcome."""
    time = row.get("time")
    time = "" if time is None or pd.isna(time) else str(round(float(time)))
    term = row.get("term")
    term = "" if term is None or (isinstance(term, float) and pd.isna(term)) else str(term)
    group = row.get("arm") or arm_of(row.get("group")) or ""
    return f"outcome/{outcome_id}/{row.get('analysis')}/{row.get('model')}/{term}/{group}/{time}"


def outcomes(check: Checker, bundle: Bundle, quarter: str) -> None:
    """Per outcome: population and events per arm (linked to the cohort), numbers at risk
    (a chain from the population), every model row and every drawn curve step."""
    for outcome in bundle.outcomes:
        oid = str(outcome.get("id"))
        pop = outcome.get("population") or {}
        events = (outcome.get("diagnostics") or {}).get("events") or {}
        size = {"contacted": "cohort/n_contacted", "comparison": "cohort/n_comparison"}
        for arm in ARMS:
            p = check.count(f"outcome/{oid}/population/{arm}", pop.get(arm))
            e = check.count(f"outcome/{oid}/events/{arm}", events.get(arm))
            rest = check.latent(f"outcome/{oid}/no_event/{arm}",
                                _int(pop.get(arm)) - _int(events.get(arm)))
            check.relation(p, [e, rest])
            if size[arm] in check.entries:
                check.relation(size[arm], [p, check.latent(
                    f"outcome/{oid}/not_at_risk/{arm}",
                    (check.entries[size[arm]].value or 0) - _int(pop.get(arm)))])
        behind = [f"outcome/{oid}/events/{arm}" for arm in ARMS]
        diag = outcome.get("diagnostics") or {}
        for name, value in (("ph_p", diag.get("ph_global_p")), ("mde", diag.get("min_detectable_hr")),
                            ("e_value", (diag.get("e_value") or {}).get("point"))):
            # the minimum detectable HR inverts to the total number of events
            check.estimate(f"outcome/{oid}/{name}", value, counts=[events.get(a) for a in ARMS],
                           keys=behind)
        risk = bundle.table((outcome.get("tables") or {}).get("at_risk"))
        curve = bundle.table((outcome.get("tables") or {}).get("curve"))
        steps, ends = drawn(check, outcome, curve) if curve is not None and len(curve) else (
            None, {})
        if risk is not None:
            ticks = tick_months(max(ends.values(), default=0.0))
            _at_risk(check, oid, risk, {round(months_to_days(float(m))) for m in ticks})
        _estimates(check, outcome, curve, risk)
        if steps is not None:
            for r in steps.itertuples():
                check.estimate(f"outcome/{oid}/curve/{r.arm}/{float(r.time):g}", r.estimate,
                               at_risk=r.at_risk, label="drawn curve step")


def drawn(check: Checker, outcome: dict[str, Any], curve: pd.DataFrame
          ) -> tuple[pd.DataFrame, dict[str, float]]:
    """The steps of an outcome's curve that the reports draw (and each arm's drawn end): the
    threshold and floor of ``check``, the outcome's horizons as checkpoints."""
    return drawable(arm_names(curve), check.threshold, check.curve_floor,
                    outcome.get("horizons_days") or ())


def arm_names(curve: pd.DataFrame) -> pd.DataFrame:
    """A curve table with its ``arm`` column as arm names, sorted by arm and time."""
    frame = curve.copy()
    if "arm" not in frame.columns:
        frame["arm"] = [arm_of(g) for g in frame.get("group", pd.Series([None] * len(frame)))]
    else:
        frame["arm"] = [arm_of(a) or str(a) for a in frame["arm"]]
    return frame.sort_values(["arm", "time"], kind="stable")


def tick_months(last_day: float) -> np.ndarray:
    """Tick months of a curve's time axis (every 3 months up to 24, else every 6): the
    numbers at risk the reports print."""
    end_month = max(3, int(np.ceil(last_day / DAYS_PER_MONTH / 3.0) * 3))
    return np.arange(0, end_month + 1, 3 if end_month <= 24 else 6)


def _at_risk(check: Checker, oid: str, risk: pd.DataFrame, days: set[int]) -> None:
    """The numbers at risk printed under the curve (at the tick ``days``), as a chain from the
    population: between two printed ticks, those who left are a latent count."""
    for arm in ARMS:
        part = risk[risk["arm"].astype(str) == arm].sort_values("time")
        part = part[[round(float(t)) in days for t in part["time"]]]
        prev = f"outcome/{oid}/population/{arm}"
        for r in part.itertuples():
            key = check.count(f"outcome/{oid}/at_risk/{arm}/{round(float(r.time))}", r.at_risk,
                              floor=check.curve_floor)
            if float(r.time) == 0:
                check.same(key, prev)
            else:
                gone = check.latent(f"outcome/{oid}/left/{arm}/{round(float(r.time))}",
                                    (check.entries[prev].value or 0) - _int(r.at_risk))
                check.relation(prev, [key, gone])
            prev = key


def at_risk_at(risk: pd.DataFrame | None, arm: str, day: float) -> float | None:
    """Number at risk in ``arm`` at ``day`` from the bundle's at-risk table (None if absent)."""
    if risk is None:
        return None
    hit = risk[(risk["arm"].astype(str) == arm) & ((risk["time"] - day).abs() < 0.5)]
    return float(hit["at_risk"].iloc[0]) if len(hit) else None


class _EventsBy:
    """Events per arm up to a day, and numbers at risk at a day, looked up fast."""

    def __init__(self, curve: pd.DataFrame, risk: pd.DataFrame | None) -> None:
        self.curve = {}
        for arm in ARMS:
            part = curve[curve["arm"].astype(str) == arm].sort_values("time")
            self.curve[arm] = (part["time"].to_numpy(float),
                               np.cumsum(part["events"].fillna(0).to_numpy(float)))
        self.risk = {} if risk is None else {
            (str(r.arm), round(float(r.time))): float(r.at_risk) for r in risk.itertuples()}

    def events(self, arm: str, day: float | None) -> float:
        if day is None:
            return 0.0
        times, cum = self.curve[arm]
        i = int(np.searchsorted(times, day, side="right"))
        return float(cum[i - 1]) if i else 0.0

    def at_risk(self, arm: str, day: float) -> float | None:
        return self.risk.get((arm, round(day)))


def _estimates(check: Checker, outcome: dict[str, Any], curve: pd.DataFrame | None,
               risk: pd.DataFrame | None) -> None:
    """Model rows: a curve value (or a contrast of two) at a time rests on the events up to that
    time, the events since the previous horizon and the number at risk, in each arm; other rows
    (hazard and rate models) on each arm's events."""
    oid = str(outcome.get("id"))
    events = (outcome.get("diagnostics") or {}).get("events") or {}
    pops = [f"outcome/{oid}/population/{a}" for a in ARMS]
    times = sorted({round(float(t)) for t in (outcome.get("horizons_days") or [])})
    look = _EventsBy(curve, risk) if curve is not None else None
    # events between a horizon's value and the drawn curve (absent: after the drawn time)
    undrawn = ({} if curve is None else
               undrawn_events(arm_names(curve), check.threshold, check.curve_floor, times))
    naive = (outcome.get("diagnostics") or {}).get("naive")
    for row in estimate_rows(outcome).to_dict("records"):
        if row.get("analysis") in OTHER_ESTIMANDS:  # on their own events: :func:`estimands`
            continue
        key = estimate_key(oid, row)
        model = str(row.get("model"))
        time = row.get("time")
        timed = time is not None and not pd.isna(time) and (model in CURVE_MODELS | CONTRASTS)
        if row.get("analysis") == "naive":
            _naive(check, key, row, naive, times if timed else None)
            continue
        if not timed or look is None:
            check.estimate(key, row.get("estimate"), counts=[events.get(a) for a in ARMS], keys=pops)
            continue
        arms = [row["arm"]] if model in CURVE_MODELS and row.get("arm") in ARMS else list(ARMS)
        day = float(time)
        earlier = max([t for t in times if t < round(day)], default=None)
        counts, at_risk = [], []
        for arm in arms:
            by = look.events(arm, day)
            counts += [by, by - look.events(arm, earlier)]
            gap = undrawn.get((arm, float(round(day))))
            counts.append(gap or 0.0)
            at_risk.append(0.0 if gap is None else look.at_risk(arm, day))
        low = min((a for a in at_risk if a is not None), default=None)
        check.estimate(key, row.get("estimate"), counts=counts, keys=pops, at_risk=low)


def _naive(check: Checker, key: str, row: dict[str, Any], naive: dict[str, Any] | None,
           times: list[int] | None) -> None:
    """A naive row (all eligible contacted against every non-contacted resident) rests on the
    naive arms' own counts (the bundle's ``diagnostics.naive``): a hazard or rate row on each
    arm's events; a curve value or contrast at a time on the events up to it and since the
    previous horizon, and the persons followed then. Without those counts it is not shown."""
    naive = naive or {}
    model = str(row.get("model"))
    arms = [row["arm"]] if model in CURVE_MODELS and row.get("arm") in ARMS else list(ARMS)
    if times is None:
        check.estimate(key, row.get("estimate"),
                       counts=[(naive.get(a) or {}).get("events") for a in arms])
        return
    day = round(float(row["time"]))
    earlier = max([t for t in times if t < day], default=None)
    counts, at_risk = [], []
    for arm in arms:
        by = (naive.get(arm) or {}).get("events_by") or {}
        now = by.get(str(day))
        before = 0.0 if earlier is None else by.get(str(earlier))
        counts += [now, None if now is None or before is None else now - before]
        at_risk.append(((naive.get(arm) or {}).get("at_risk") or {}).get(str(day), 0))
    check.estimate(key, row.get("estimate"), counts=counts, at_risk=min(at_risk))


# -- figures --------------------------------------------------------------------------------
def overlap_bins(propensity: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The overlap histogram's bin edges and per-arm counts."""
    ps = propensity.dropna(subset=["propensity_score"])
    hi = float(ps["propensity_score"].max()) if len(ps) else 1.0
    edges = np.linspace(0, max(hi, 1e-3) * 1.0001, OVERLAP_BINS + 1)
    out = {}
    for arm in ARMS:
        s = ps.loc[ps["arm"].astype(str) == arm, "propensity_score"].to_numpy(float)
        out[arm] = np.histogram(s, bins=edges)[0]
    return edges, out


def overlap(check: Checker, bundle: Bundle, quarter: str) -> None:
    """The overlap histogram: each bin is a count (share x arm size), the bins add up to the
    arm's persons in the propensity table."""
    prop = bundle.named_table("propensity")
    if prop is None or "propensity_score" not in prop.columns:
        return
    _, counts = overlap_bins(prop)
    for arm, values in counts.items():
        total = "cohort/contacted_eligible" if arm == "contacted" else "propensity/comparison/total"
        bins = [check.count(f"overlap/{arm}/bin{i}", v) for i, v in enumerate(values)]
        if total in check.entries:
            check.relation(total, bins)
        # the bars are shares of the arm: exact heights (the PDF's vector figure) times the arm
        # size give the bins, and their ratios give a hidden arm size away
        check.estimate(overlap_shares_key(arm), keys=[total] if total in check.entries else bins)


def overlap_shares_key(arm: str) -> str:
    """The checker's key of one arm's bars in the overlap histogram (drawn only when shown)."""
    return f"overlap/{arm}/shares"


# -- coverage: matched contacted against all eligible contacted ----------------------------
def coverage(check: Checker, bundle: Bundle, quarter: str) -> None:
    """Means among all eligible and the matched contacted (:func:`group_mean`); for a 0/1
    covariate the unmatched hold their difference (latent); the SMD rests on all of them."""
    frame = bundle.named_table("coverage")
    if frame is None or frame.empty:
        return
    groups = {"all": ("cohort/contacted_eligible", "mean_all"),
              "matched": ("cohort/n_contacted", "mean_matched")}
    for r in frame.to_dict("records"):
        name = str(r["covariate"])
        behind: dict[str, list[str]] = {}
        every: list[str] = []
        for group, (size, column) in groups.items():
            got = group_mean(check, f"coverage/{group}/{name}", r[column], size, name)
            every += got
            if len(got) == 3:
                behind[group] = got[1:]
        if len(behind) == 2:
            for i, part in enumerate(("with", "without")):
                rest = check.latent(f"coverage/unmatched/{name}/{part}",
                                    check.entries[behind["all"][i]].value
                                    - check.entries[behind["matched"][i]].value)
                check.relation(behind["all"][i], [behind["matched"][i], rest])
        check.estimate(f"coverage/{name}/smd", r.get("smd_matched_vs_all"), keys=every)


# -- data quality ---------------------------------------------------------------------------
def quality(check: Checker, bundle: Bundle, quarter: str) -> None:
    """Per source: read = written + quarantined, quarantined = its reasons; totals over sources."""
    dq = bundle.data_quality
    if not dq.get("available"):
        return
    reads, bads = [], []
    for name, s in (dq.get("sources") or {}).items():
        key = f"quality/{name}"
        read = check.count(f"{key}/read", s.get("rows_read"))
        bad = check.count(f"{key}/quarantined", s.get("rows_quarantined"))
        check.relation(read, [check.count(f"{key}/written", s.get("rows_written")), bad])
        reasons = [check.count(f"{key}/reason/{r}", n)
                   for r, n in (s.get("quarantined_by_reason") or {}).items()]
        if reasons:
            check.relation(bad, reasons)
        reads.append(read)
        bads.append(bad)
    totals = dq.get("totals") or {}
    check.relation(check.count("quality/total/read", totals.get("rows_read")), reads)
    check.relation(check.count("quality/total/quarantined", totals.get("rows_quarantined")), bads)


# -- the method's own checks: the other estimand, negative controls, placebo, subgroups ------
def estimands(check: Checker, bundle: Bundle, quarter: str) -> None:
    """Rows of the estimand that is not the primary one rest on that estimand's own events by
    their time and on the difference from the primary estimand's events in each arm (persons
    whose event follows a later contact: two published risks of one arm could tell it); the
    per-protocol weights' quantiles rest on the person-periods beyond them (the minimum and the
    maximum on one) and on the persons censored at a later contact."""
    for outcome in bundle.outcomes:
        oid = str(outcome.get("id"))
        info = outcome.get("estimands") or {}
        primary = (outcome.get("diagnostics") or {}).get("events") or {}
        pops = [f"outcome/{oid}/population/{a}" for a in ARMS]
        for row in estimate_rows(outcome).to_dict("records"):
            analysis = row.get("analysis")
            if analysis not in OTHER_ESTIMANDS:
                continue
            own = (info.get("events") or {}).get(analysis) or {}
            time = row.get("time")
            day = "all" if time is None or pd.isna(time) else str(round(float(time)))
            arms = [row["arm"]] if row.get("arm") in ARMS else list(ARMS)
            counts = []
            for arm in arms:
                by = own.get(arm) or {}
                counts += [by.get(day, by.get("all", primary.get(arm))),
                           abs(_int(by.get("all", primary.get(arm))) - _int(primary.get(arm)))]
            check.estimate(estimate_key(oid, row), row.get("estimate"), counts=counts, keys=pops,
                           label=f"{analysis} estimate")
        w = info.get("per_protocol_weights") or {}
        n = _int(w.get("periods"))
        for d in w.get("distribution") or []:
            q = _int(d.get("quantile"))
            beyond = max(1.0, np.floor(min(q, 1.0 - q) * n))
            for when in ("before", "after"):
                check.estimate(f"estimand/{oid}/weights/{q:g}/{when}", d.get(f"{when}_truncation"),
                               counts=[beyond, w.get("censored_at_later_contact")],
                               label="quantile of the censoring weights")


def _events_cells(check: Checker, prefix: str, events: dict[str, Any] | None,
                  totals: dict[str, str]) -> list[str]:
    """Events per arm as counts, each a part of its arm's total (the rest latent)."""
    keys = []
    for arm in ARMS:
        value = (events or {}).get(arm)
        key = check.count(f"{prefix}/events/{arm}", value)
        total = totals.get(arm)
        if total in check.entries and value is not None:
            rest = (check.entries[total].value or 0.0) - _int(value)
            check.relation(total, [key, check.latent(f"{prefix}/no_event/{arm}", rest)])
        keys.append(key)
    return keys


def negative_controls(check: Checker, bundle: Bundle, quarter: str) -> None:
    """Negative-control outcomes: events per arm (part of the cohort's persons), their
    estimates on those events, and the fitted null on the events of those that entered it."""
    ncs = (bundle.estimates.get("falsification") or {}).get("negative_controls") or {}
    sizes = {"contacted": "cohort/n_contacted", "comparison": "cohort/n_comparison"}
    every = []
    for r in ncs.get("estimates") or []:
        prefix = f"negative_control/{r.get('id')}"
        keys = _events_cells(check, prefix, r.get("events"), sizes)
        if r.get("enough_events") and r.get("log_risk_ratio") is not None:
            every += keys
        for name in ("risk_difference", "log_risk_ratio"):
            check.estimate(f"{prefix}/{name}", r.get(name), keys=keys)
    null = ncs.get("null") or {}
    for name in ("mean", "sd", "ease"):
        check.estimate(f"negative_control/null/{name}", null.get(name), keys=every)


def placebo(check: Checker, bundle: Bundle, quarter: str) -> None:
    """The placebo index: its contacted persons, events per arm and risk differences."""
    plc = (bundle.estimates.get("falsification") or {}).get("placebo") or {}
    if not plc.get("outcomes"):
        return
    n = check.count("placebo/n_contacted", plc.get("n_contacted"))
    for r in plc["outcomes"]:
        prefix = f"placebo/{r.get('id')}"
        keys = _events_cells(check, prefix, r.get("events"), {"contacted": n})
        check.estimate(f"{prefix}/risk_difference", r.get("risk_difference"), keys=keys)


def subgroups(check: Checker, bundle: Bundle, quarter: str) -> None:
    """Per shown subgroup dimension: each group's events per arm are parts of the outcome's
    events in that arm (with any rest latent); estimates rest on their group's events, the
    interaction test on all of them; the Rosenbaum bound on the outcome's events."""
    for outcome in bundle.outcomes:
        oid = str(outcome.get("id"))
        totals = [f"outcome/{oid}/events/{arm}" for arm in ARMS]
        for dim, d in ((outcome.get("subgroups") or {}).get("dimensions") or {}).items():
            groups = d.get("groups") or []
            if not d.get("shown") or not groups:
                continue
            parts: dict[str, list[str]] = {arm: [] for arm in ARMS}
            for g in groups:
                prefix = f"subgroup/{oid}/{dim}/{g.get('group')}"
                keys = [check.count(f"{prefix}/events/{arm}", (g.get("events") or {}).get(arm))
                        for arm in ARMS]
                for arm, key in zip(ARMS, keys):
                    parts[arm].append(key)
                check.estimate(f"{prefix}/risk_difference", g.get("risk_difference"), keys=keys)
            for arm, total in zip(ARMS, totals):
                if total not in check.entries:
                    continue
                rest = (check.entries[total].value or 0.0) - sum(
                    check.entries[k].value or 0.0 for k in parts[arm])
                if rest < 0:  # not counted on the same rows: no equation to state
                    continue
                extra = [check.latent(f"subgroup/{oid}/{dim}/none/events/{arm}", rest)] if rest else []
                check.relation(total, parts[arm] + extra)
            check.estimate(f"subgroup/{oid}/{dim}/interaction", (d.get("interaction") or {}).get("p_value"),
                           keys=[k for ks in parts.values() for k in ks])
        gamma = ((outcome.get("sensitivity") or {}).get("rosenbaum") or {}).get("gamma")
        check.estimate(f"rosenbaum/{oid}", gamma, keys=totals)


# -- tracking series ------------------------------------------------------------------------
#: The process indicators the reports show: (indicator, statistic, persons group, share of).
PROCESS_CELLS = (("reach", "within_14", "reach", True), ("reach", "within_30", "reach", True),
                 ("reach", "within_90", "reach", True), ("speed", "median", "speed", False),
                 ("activation", "contacted", "activation_contacted", True),
                 ("activation", "comparison", "activation_comparison", False),
                 ("repeat", "contacts_per_person", "repeat", False),
                 ("repeat", "seen_again", "repeat", True))
TRAJECTORY_COUNTS = ("contacted", "matched", "events_contacted", "events_comparison")


def _differs(check: Checker, later: str, earlier: str, name: str, lower: float | None) -> None:
    """``later = earlier + name``: the change between two published counts is protected."""
    a, b = check.entries[later].value, check.entries[earlier].value
    if a is None or b is None:
        return
    check.relation(later, [earlier, check.latent(name, a - b, lower=lower)])


def trajectory_key(quarter: str, row: dict[str, Any], name: str) -> str:
    """The checker key of one trajectory cell (``name`` in :data:`TRAJECTORY_COUNTS`, or an
    estimate: ``rd``, ``hr``, ``mde``)."""
    if name in ("contacted", "matched"):
        return f"tracking/{quarter}/{name}"
    if name.startswith("events_"):
        return f"tracking/{quarter}/{row.get('outcome_id')}/events/{name[7:]}"
    return f"tracking/{quarter}/{row.get('outcome_id')}/{name}"


def tracking(check: Checker, bundle: Bundle, quarter: str) -> None:
    """The tracking series: the trajectory's counts per quarter, each linked to the same count a
    quarter earlier (the change is a count of persons too: the contacted are cumulative, so the
    newly contacted are at least 0; other changes may go either way), the current quarter's
    linked to the bundle's; the estimates rest on the events and outcome populations; then the
    process indicators (:func:`_process`)."""
    doc = bundle.tracking()
    if not doc:
        return
    previous: dict[str, str] = {}
    for r in sorted(doc.get("trajectory") or [], key=lambda r: (r.get("look") or 0)):
        q = str(r.get("quarter"))
        for name in TRAJECTORY_COUNTS:
            key = trajectory_key(q, r, name)
            if key in check.entries:
                continue  # contacted and matched: one cell per quarter, shared by the families
            check.count(key, r.get(name))
            series = key.replace(f"tracking/{q}/", "", 1)
            if series in previous:
                _differs(check, key, previous[series], f"{key}~change",
                         0.0 if name == "contacted" else None)
            previous[series] = key
        events = [trajectory_key(q, r, n) for n in ("events_contacted", "events_comparison")]
        counts = [r.get(k) for k in ("events_contacted", "events_comparison",
                                     "population_contacted", "population_comparison")]
        for name in ("rd", "hr", "mde"):
            value = r.get("min_detectable_hr" if name == "mde" else name)
            check.estimate(trajectory_key(q, r, name), value, counts=counts, keys=events)
        if q == quarter:
            oid = r.get("outcome_id")
            for arm, key in zip(ARMS, events):
                if f"outcome/{oid}/events/{arm}" in check.entries:
                    _differs(check, key, f"outcome/{oid}/events/{arm}", f"{key}~bundle", None)
    if f"tracking/{quarter}/matched" in check.entries and "cohort/n_contacted" in check.entries:
        _differs(check, f"tracking/{quarter}/matched", "cohort/n_contacted",
                 f"tracking/{quarter}/matched~bundle", None)
    _process(check, doc.get("indicators") or [])


def process_rows(rows: list[dict[str, Any]], indicator: str, statistic: str,
                 scope: str) -> list[dict[str, Any]]:
    """One statistic's rows (oldest first), quarters with persons only."""
    sel = [r for r in rows if r.get("indicator") == indicator and r.get("statistic") == statistic
           and r.get("scope") == scope and (r.get("denominator") or 0) > 0]
    return sorted(sel, key=lambda r: str(r["quarter"]))


def process_key(group: str, scope: str, quarter: str, part: str) -> str:
    """The checker key of a process-indicator cell: ``part`` is ``persons``, ``with``,
    ``without`` or the statistic (an estimate)."""
    return f"process/{group}/{quarter if scope == 'quarter' else 'cumulative'}/{part}"


def _process(check: Checker, rows: list[dict[str, Any]]) -> None:
    """The latest quarter's and the cumulative process indicators: persons (and, for a share,
    those with and without) are counts; the cumulative counts of earlier quarters count as
    published (each quarter's report showed them), so the change since each is protected; the
    quarter's counts are part of the cumulative ones."""
    for ind, stat, group, share in PROCESS_CELLS:
        keys: dict[str, dict[str, str]] = {}
        for scope in ("quarter", "cumulative"):
            series = process_rows(rows, ind, stat, scope)
            if not series:
                continue
            last = series[-1]
            n, k = _int(last.get("denominator")), _int(last.get("numerator"))
            q = str(last["quarter"])
            cells = {"persons": check.count(process_key(group, scope, q, "persons"), n)}
            parts = ("persons",)
            if share:
                cells["with"] = check.count(process_key(group, scope, q, f"{stat}/with"), k)
                cells["without"] = check.count(process_key(group, scope, q, f"{stat}/without"),
                                               n - k)
                check.relation(cells["persons"], [cells["with"], cells["without"]])
                parts = ("persons", "with", "without")
            counts = [n] if ind != "activation" or share else [n, last.get("numerator")]
            check.estimate(process_key(group, scope, q, stat), last.get("value"),
                           counts=counts, keys=list(cells.values()))
            if scope == "cumulative":
                for before in series[:-1]:
                    values = {"persons": before.get("denominator"),
                              "with": before.get("numerator"),
                              "without": _int(before.get("denominator"))
                              - _int(before.get("numerator"))}
                    for part in parts:
                        if f"{before['quarter']} series:{cells[part]}" not in check.entries:
                            check.earlier(cells[part], values[part], f"{before['quarter']} series")
            keys[scope] = cells | {"quarter": q}
        if len(keys) == 2 and keys["quarter"]["quarter"] == keys["cumulative"]["quarter"]:
            for part in keys["quarter"]:
                if part != "quarter" and part in keys["cumulative"]:
                    _differs(check, keys["cumulative"][part], keys["quarter"][part],
                             f"{keys['cumulative'][part]}~other_quarters", None)


# -- area level ------------------------------------------------------------------------------
def area_key(period: str) -> str:
    return f"area/observed/{period}"


def area(check: Checker, bundle: Bundle, quarter: str) -> None:
    """The study municipality's counts per period in the area-level figure."""
    series = bundle.named_table("area_series")
    if series is None or "observed" not in series.columns:
        return
    for r in series.itertuples():
        check.count(area_key(str(r.period)), r.observed, label="reported offences, study municipality")


#: Registration steps, in order (later ones may link to keys of earlier ones).
REGISTRARS: list[Callable[[Checker, Bundle, str], None]] = [
    contacts, cohort, balance, outcomes, overlap, coverage, quality,
    estimands, negative_controls, placebo, subgroups, tracking, area]


def build_checker(bundle: Bundle, quarter: str, threshold: int, *, override: str | None = None,
                  earlier: list[dict[str, Any]] | None = None,
                  curve_floor: int | None = None) -> Checker:
    """The solved checker of the reports of ``bundle`` for ``quarter``."""
    from ..disclosure import DEFAULT_CURVE_FLOOR

    check = Checker(threshold, curve_floor=curve_floor or DEFAULT_CURVE_FLOOR, override=override)
    for register in REGISTRARS:
        register(check, bundle, quarter)
    check.load_earlier(earlier or [])
    return check.solve()
