"""Attacks on the rendered reports (issue 10): a reader with only the HTML tries to work out a
count from 1 to 4 (:mod:`attacks`). On protected reports the attacks find nothing; on a
deliberately unprotected one (primary suppression only, estimates and curves unchecked, as the
reports were built table by table) they find something, so the tests can fail.

The small studies are results bundles in the layout ``evaluation analyse`` writes, with the
situations that gave counts away before: a contacts distribution whose hidden cells add up to 2,
a cohort a few persons larger than an outcome population, an exactly matched 0/1 covariate held
by 3 persons, an SMD that inverts to a hidden count, an attrition step of 2, curves with steps of
one event and few at risk, and two quarters whose cumulative counts differ by a few persons. The
slow test runs the whole pipeline on small simulated registers.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from attacks import attack, release_claims
from bundle_factory import make_bundle

from evaluation import disclosure
from evaluation.disclosure.checker import Checker

SEEDS = (1, 2, 3)


def _curve(rng: np.random.Generator, n: int, risk: float) -> list[tuple]:
    rows, at_risk, surv, t = [], n, 1.0, 0.0
    while at_risk > 0 and t < 900:
        t += float(rng.integers(3, 40))
        events = int(rng.random() < min(0.9, risk * 8))
        if events:
            surv *= 1 - events / at_risk
        rows.append((t, 1 - surv, max(0.0, 1 - surv - 0.05), min(1.0, 1 - surv + 0.05), at_risk,
                     events))
        at_risk -= events + int(rng.integers(0, 3))
    return rows


def small_study(path: Path, seed: int, *, quarter_total: int | None = None,
                cumulative_extra: int = 0) -> Path:
    """A results bundle of a small study (74 contacted) with planted risky situations."""
    rng = np.random.default_rng(seed)
    make_bundle(path, seed=seed)
    est = json.loads((path / "estimates.json").read_text())
    n_c, n_k, eligible, no_match = 74, 222, 114, 40
    est["cohort"].update({"n_contacted": n_c, "n_comparison": n_k, "n_sets": n_c,
                          "counts": {"contacted": n_c, "contacted_eligible": eligible}})
    est["study"]["report_quarter"] = "2026Q3"
    # contacts: a quarter with hidden cells adding up to 2, cumulative a few more
    q = quarter_total or int(rng.integers(15, 25))
    other = int(rng.integers(1, 3))
    contacts = [("quarter", "total", "all", q), ("quarter", "sex", "M", q - 3),
                ("quarter", "sex", "F", 3),
                ("quarter", "contact_type", "knock_knock", q - 1 - other),
                ("quarter", "contact_type", "ssp", 1), ("quarter", "contact_type", "other", other),
                ("quarter", "contact_type", "taskforce_followup", 0)]
    base = {"M": 90, "F": 40, "knock_knock": 100, "ssp": 12, "other": 8, "taskforce_followup": 10}
    extra = {"M": cumulative_extra, "F": 0, "knock_knock": cumulative_extra, "ssp": 0,
             "other": 0, "taskforce_followup": 0}
    cum = {k: v + extra[k] + (q - 3 if k == "M" else 3 if k == "F" else 0) for k, v in base.items()}
    cum.update({"knock_knock": base["knock_knock"] + extra["knock_knock"] + q - 1 - other,
                "ssp": base["ssp"] + 1, "other": base["other"] + other})
    total = cum["M"] + cum["F"]
    cum["taskforce_followup"] = total - cum["knock_knock"] - cum["ssp"] - cum["other"]
    contacts += [("cumulative", "total", "all", total)]
    contacts += [("cumulative", "sex", k, cum[k]) for k in ("M", "F")]
    contacts += [("cumulative", "contact_type", k, cum[k])
                 for k in ("knock_knock", "ssp", "other", "taskforce_followup")]
    pd.DataFrame(contacts, columns=["period", "dimension", "category", "n"]).to_parquet(
        path / "tables" / "contacts.parquet", index=False)
    # attrition: one small step; the last contacted step is the one without a match
    steps = [("contacted", 0, "qualifying_contact", "first qualifying contact", 0, 130),
             ("contacted", 1, "age", "age outside the range", 2, 128),
             ("contacted", 2, "resident", "not resident", 14, eligible),
             ("contacted", 3, "no_match", "no comparison candidate", no_match, n_c),
             ("comparison", 0, "eligible_pairs", "eligible pairs", 0, 5000),
             ("comparison", 1, "outside_caliper", "outside the caliper", 5000 - n_k, n_k)]
    pd.DataFrame(steps, columns=["arm", "step", "code", "reason", "n_excluded",
                                 "n_remaining"]).to_parquet(path / "tables" / "attrition.parquet",
                                                            index=False)
    prop = pd.DataFrame({
        "arm": ["contacted"] * eligible + ["comparison"] * (n_k + 900),
        "matched": [True] * n_c + [False] * no_match + [True] * n_k + [False] * 900,
        "propensity_score": np.concatenate([rng.beta(3, 5, eligible), rng.beta(2, 6, n_k + 900)])})
    prop.to_parquet(path / "tables" / "propensity.parquet", index=False)
    # balance: custody_ever exactly matched, held by 3 contacted; group_registered 2 contacted
    p_reg = 0.09
    smd_reg = (2 / n_c - p_reg) / np.sqrt((2 / n_c * (1 - 2 / n_c) + p_reg * (1 - p_reg)) / 2)
    pd.DataFrame({"covariate": ["charges_6m", "custody_ever", "group_registered", "in_education_or_job"],
                  "smd_before": [0.9, 0.4, 0.3, -0.5], "smd_after": [0.04, 0.0, smd_reg, -0.02],
                  "mean_contacted": [1.2, 3 / n_c, 2 / n_c, 0.4],
                  "mean_comparison": [1.15, 3 / n_c, p_reg, 0.41]}).to_parquet(
        path / "tables" / "balance.parquet", index=False)
    # outcomes: populations a few persons below the cohort; sparse curves
    for o in est["outcomes"]:
        gap = int(rng.integers(1, 4))
        o["population"] = {"contacted": n_c - gap, "comparison": n_k}
        curve = []
        events = {}
        for arm, n in (("contacted", n_c - gap), ("comparison", n_k)):
            rows = _curve(rng, n, 0.02 if arm == "contacted" else 0.03)
            curve += [(arm, *r) for r in rows]
            events[arm] = int(sum(r[-1] for r in rows))
        frame = pd.DataFrame(curve, columns=["arm", "time", "estimate", "conf_low", "conf_high",
                                             "at_risk", "events"])
        frame.to_parquet(path / o["tables"]["curve"], index=False)
        risk = []
        for arm, part in frame.groupby("arm"):
            for day in (0, 91, 183, 274, 365, 457, 548, 639, 730, 822, 913, 1004):
                later = part[part["time"] >= day]
                risk.append((arm, float(day), int(later["at_risk"].iloc[0]) if len(later) else 0))
        pd.DataFrame(risk, columns=["arm", "time", "at_risk"]).to_parquet(
            path / o["tables"]["at_risk"], index=False)
        o["diagnostics"]["events"] = events
        for e in o["estimates"]:  # curve values at the horizons as the curve gives them
            if e["model"] in ("cumulative_incidence", "kaplan_meier") and e["group"] is not None:
                arm = "contacted" if e["group"] == 1 else "comparison"
                part = frame[(frame["arm"] == arm) & (frame["time"] <= e["time"])]
                value = float(part["estimate"].iloc[-1]) if len(part) else 0.0
                e["estimate"] = value if e["model"] == "cumulative_incidence" else 1 - value
    (path / "estimates.json").write_text(json.dumps(est), encoding="utf-8")
    return path


QUARTERLY = ("title", "summary", "covers", "words", "results", "box", "comparison", "contacts",
             "as_of")
TECHNICAL = ("title", "design", "attrition", "balance", "overlap", "outcome_sections",
             "naive_vs_matched", "forest", "disclosure")


def render(bundle: Path, monkeypatch, *, quarter: str = "2026Q3", record: Path | None = None,
           earlier: Path | None = None) -> dict[str, str]:
    """Both documents as HTML, the parts the templates show (Markdown converted as nbconvert
    does), without a kernel."""
    import IPython.display
    import mistune

    from evaluation.report.present import Report

    pages = {}
    for doc, parts in (("quarterly", QUARTERLY), ("technical", TECHNICAL)):
        shown: list = []
        monkeypatch.setattr(IPython.display, "display", lambda obj, shown=shown: shown.append(obj))
        rec = record / f"{doc}.html.disclosure.json" if record else None
        report = Report(bundle, quarter, "en", 5, "html", record=rec, earlier=earlier)
        for part in parts:
            getattr(report, part)() if part != "title" else report.title(doc)
        report.close()
        html = []
        for obj in shown:
            kind = type(obj).__name__
            if kind == "HTML":
                html.append(obj.data)
            elif kind == "Markdown":
                html.append(mistune.html(obj.data))
        pages[doc] = "\n".join(html)
    return pages


@pytest.fixture
def unprotected(monkeypatch):
    """Primary suppression only: no secondary suppression, every estimate shown, curves drawn
    with steps of one event down to 1 at risk (the reports before the whole-document check)."""
    monkeypatch.setattr(Checker, "_secondary", lambda self: None)
    monkeypatch.setattr(Checker, "_judge", lambda self, e: None)
    original = Checker.__post_init__

    def low_floor(self):
        original(self)
        self.curve_floor = 1

    monkeypatch.setattr(Checker, "__post_init__", low_floor)
    from evaluation.disclosure import curves
    from evaluation.report import figures

    real = curves.drawable
    monkeypatch.setattr(curves, "drawable", lambda c, t, f, h=(): real(c, 1, 1))
    monkeypatch.setattr(figures, "drawable", lambda c, t, f, h=(): real(c, 1, 1))


@pytest.mark.parametrize("seed", SEEDS)
def test_attacks_find_nothing_on_protected_reports(tmp_path, monkeypatch, seed):
    bundle = small_study(tmp_path / "results", seed)
    pages = render(bundle, monkeypatch, record=tmp_path)
    claims = attack(pages)
    assert claims == [], claims
    assert disclosure.SUPPRESSED_MARK in pages["quarterly"]
    # the disclosure record beside each report lists what was published, values only if shown
    for doc in ("quarterly", "technical"):
        record = json.loads((tmp_path / f"{doc}.html.disclosure.json").read_text())
        assert record["threshold"] == 5 and record["marker"] == disclosure.SUPPRESSED_MARK
        counts = [c for c in record["cells"] if c["kind"] == "count"]
        assert counts and any(c["suppressed"] for c in counts)
        assert all(("value" in c) != c["suppressed"] for c in counts)


@pytest.mark.parametrize("seed", SEEDS)
def test_attacks_find_counts_on_an_unprotected_report(tmp_path, monkeypatch, unprotected, seed):
    bundle = small_study(tmp_path / "results", seed)
    claims = attack(render(bundle, monkeypatch))
    kinds = {what.split()[0].split("/")[0] for what, _ in claims}
    # differencing of tables and text, the balance table, and curves all give counts away
    assert "contacts" in kinds or "contacts/q" in kinds, claims
    assert kinds & {"balance", "smd"}, claims
    assert any(" step " in what or " at risk " in what or "cumulative_incidence" in what
               for what, _ in claims), claims
    assert any(what.startswith("outcome") and "not_at_risk" in what for what, _ in claims), claims


def test_repeated_publication_is_checked_against_earlier_records(tmp_path, monkeypatch):
    kept = tmp_path / "output"
    q2 = small_study(tmp_path / "q2" / "results", 5, quarter_total=20)
    render(q2, monkeypatch, quarter="2026Q2", record=kept / "2026Q2")
    earlier = render(q2, monkeypatch, quarter="2026Q2")
    # the next quarter: three more knock-knock contacts among men since the last release
    q3 = small_study(tmp_path / "q3" / "results", 5, quarter_total=20, cumulative_extra=3)
    naive = release_claims(earlier, render(q3, monkeypatch))
    assert naive, "the attack must find the difference when the earlier release is ignored"
    checked = render(q3, monkeypatch, earlier=kept)
    assert release_claims(earlier, checked) == []
    assert attack(checked) == []


def test_a_quarter_rendered_after_the_next_one_is_checked_against_it(tmp_path, monkeypatch):
    kept = tmp_path / "output"
    q3 = small_study(tmp_path / "q3" / "results", 5, quarter_total=20, cumulative_extra=3)
    later = render(q3, monkeypatch, quarter="2026Q3", record=kept / "2026Q3" / "report", earlier=kept)
    assert list((kept / "disclosure" / "2026Q3").glob("*-en-quarterly.html.disclosure.json"))
    # 2026Q2 rendered (again) after 2026Q3 was published
    q2 = small_study(tmp_path / "q2" / "results", 5, quarter_total=20)
    assert release_claims(render(q2, monkeypatch, quarter="2026Q2"), later)
    checked = render(q2, monkeypatch, quarter="2026Q2", earlier=kept)
    assert release_claims(checked, later) == []


def test_a_corrected_release_of_a_quarter_is_checked_against_the_first(tmp_path, monkeypatch):
    kept = tmp_path / "output"
    first_bundle = small_study(tmp_path / "v1" / "results", 5, quarter_total=20)
    first = render(first_bundle, monkeypatch, quarter="2026Q3", record=kept / "2026Q3" / "report",
                   earlier=kept)
    # the same quarter from a new results bundle (late extracts): three more contacts
    corrected = small_study(tmp_path / "v2" / "results", 5, quarter_total=20, cumulative_extra=3)
    manifest = json.loads((corrected / "manifest.json").read_text())
    (corrected / "manifest.json").write_text(json.dumps({**manifest, "note": "late extracts"}))
    assert release_claims(first, render(corrected, monkeypatch, quarter="2026Q3"))
    # the corrected report replaces the first one's record beside it, but the kept copy stays
    checked = render(corrected, monkeypatch, quarter="2026Q3", record=kept / "2026Q3" / "report",
                     earlier=kept)
    assert release_claims(first, checked) == []
    again = render(corrected, monkeypatch, quarter="2026Q3", earlier=kept)
    assert release_claims(first, again) == []


def test_threshold_below_three_is_refused_unless_overridden(tmp_path, caplog):
    from bundle_factory import make_study
    from click.testing import CliRunner

    from evaluation.cli import cli
    from evaluation.errors import ConfigError
    from evaluation.study import load_study

    study = make_study(tmp_path)
    text = study.read_text().replace("suppression_threshold = 5", "suppression_threshold = 2")
    assert text != study.read_text()
    study.write_text(text)
    with pytest.raises(ConfigError, match="refused"):
        load_study(study)
    result = CliRunner().invoke(cli, ["report", str(study)])
    assert result.exit_code == 2 and "refused" in result.output and "Traceback" not in result.output
    study.write_text(text.replace("[report]", '[report]\nthreshold_override = "agreed test"'))
    assert load_study(study).report.suppression_threshold == 2
    with pytest.raises(disclosure.ThresholdRefused):
        Checker(2)
    assert Checker(2, override="agreed test").threshold == 2
    assert Checker().threshold == disclosure.DEFAULT_SUPPRESSION_THRESHOLD == 5


@pytest.mark.slow
@pytest.mark.parametrize("persons,seed", [(1500, 3)])
def test_attacks_find_nothing_on_small_simulated_studies(tmp_path, persons, seed):
    """The whole pipeline on a small simulated register, the rendered HTML attacked."""
    from click.testing import CliRunner

    from evaluation.cli import cli

    result = CliRunner().invoke(cli, ["--quiet", "demo", "--out", str(tmp_path), "--persons",
                                      str(persons), "--seed", str(seed)])
    assert result.exit_code == 0, result.output
    out = next((tmp_path / "output").glob("*/report/en"))
    pages = {doc: (out / f"{doc}.html").read_text(encoding="utf-8")
             for doc in ("quarterly", "technical")}
    assert attack(pages) == []
    for doc in pages:
        assert (out / f"{doc}.html.disclosure.json").is_file()


# -- leak classes found on small demos (benchmarks/disclosure_attack.py) ----------------------
class _Stub:
    """A bundle with a balance table and cohort figures only."""

    def __init__(self, frame: pd.DataFrame, cohort: dict) -> None:
        self.frame, self.cohort = frame, cohort

    def named_table(self, name):
        return self.frame if name == "balance" else None


def _balance_page(frame: pd.DataFrame, sizes: dict, protect: bool = True) -> str:
    """The balance table as the reports render it; the contacted eligible are hidden (as
    secondary suppression hides them next to a step of 1). ``protect=False``: means shown
    whatever the size behind them (as before)."""
    from evaluation.report import cells
    from evaluation.report.tables import balance_table

    check = Checker(5)
    for key, n in sizes.items():
        check.count(key, n)
    cells.balance(check, _Stub(frame, {}), "2026Q3")
    if not protect:
        for e in check.entries.values():
            if e.kind == "estimate":
                e.keys = ()
    check._hide("cohort/contacted_eligible", "secondary")
    check.solve()
    return balance_table(frame, "en", check, output="html")


def test_means_of_whole_numbers_do_not_give_a_hidden_arm_size_away():
    """Six means of charges to two decimals fit one arm size only (62 of 63 contacted): with the
    size hidden, a reader would get the hidden attrition step of 1 (63 - 62)."""
    from attacks import System, denominator_claims, tables

    frame = pd.DataFrame({
        "covariate": ["charges_1m", "charges_6m", "charges_12m", "charges_36m",
                      "violence_weapons_6m", "violence_weapons_12m"],
        "smd_before": [2.7, 2.2, 1.6, 1.4, 2.2, 2.1], "smd_after": [0.0] * 6,
        "mean_contacted_before": [57 / 62, 87 / 62, 111 / 62, 205 / 62, 47 / 62, 50 / 62],
        "mean_comparison_before": [0.01, 0.07, 0.14, 0.43, 0.01, 0.02],
        "mean_contacted_after": [0.5] * 6, "mean_comparison_after": [0.5] * 6})
    sizes = {"cohort/contacted_eligible": 62, "cohort/n_contacted": 3, "cohort/n_comparison": 15}

    def reader(page: str) -> list:
        system = System()
        start = system.cell("attrition/start", "63", "en")
        step = system.cell("attrition/step", "\u2022", "en")
        eligible = system.cell("cohort/n_eligible", "\u2022", "en")
        system.equal(start, [step, eligible])
        names = {"n_eligible": eligible, "n_c": system.cell("cohort/n_c", "\u2022", "en")}
        return denominator_claims(system, tables(page), "en", names) + system.pinned()

    # the size hidden (secondary suppression hid it beside the step of 1): so are its means
    assert reader(_balance_page(frame, sizes)) == []
    # means over the 3 matched contacted (a size hidden by the primary rule) are hidden too
    rows = tables(_balance_page(frame, sizes))[0].rows
    assert {r[5] for r in rows} == {"\u2022"} and {r[6] for r in rows} == {"0.50"}
    # unprotected (means shown whatever their size): the size, then the step, is worked out
    claims = reader(_balance_page(frame, sizes, protect=False))
    assert ("attrition/step", 1) in claims, claims


def test_largest_smd_is_shown_only_with_the_smd_it_repeats():
    from evaluation.report import cells

    frame = pd.DataFrame({"covariate": ["charges_6m", "group_registered"],
                          "smd_before": [0.4, 0.9], "smd_after": [0.05, 0.31],
                          "mean_contacted_after": [1.2, 2 / 74], "mean_comparison_after": [1.1, 0.09]})
    for smd_max, hidden in ((0.31, True), (0.05, False)):
        check = Checker(5)
        check.count("cohort/n_contacted", 74)
        check.count("cohort/n_comparison", 222)
        cells.balance(check, _Stub(frame, {"smd_max_after": smd_max, "smd_max_before": 0.9}),
                      "2026Q3")
        check.solve()
        # 2 contacted registered in a group: that SMD would invert to the hidden count
        assert check.suppressed("balance/after/group_registered/smd")
        assert check.suppressed("cohort/smd_max_after") is hidden
        assert not check.suppressed("cohort/smd_max_before")  # repeats a shown SMD (0.9)


def _curve_rows(events: list[tuple[float, int]], n: int, censored: int = 0) -> list[tuple]:
    """Kaplan-Meier rows; ``censored`` persons leave follow-up after each event time."""
    rows, surv = [], 1.0
    for t, d in events:
        surv *= 1 - d / n
        rows.append(("contacted", t, 1 - surv, 0.0, 1.0, n, d))
        n -= d + censored
    return rows


def test_a_horizon_value_never_lies_off_the_drawn_curve():
    """A drawn step at day 140, then 2 events before the 183-day value printed in the model
    table: the difference times the numbers at risk gave those 2 events away. The horizon is a
    checkpoint: the step moves to the last event before it (holding 1 + 2 + ... events)."""
    from evaluation.disclosure.curves import drawable, undrawn_events

    events = [(20.0, 2), (60.0, 2), (140.0, 1), (146.0, 1), (163.0, 1), (213.0, 1), (257.0, 1),
              (280.0, 3), (300.0, 1), (340.0, 4), (360.0, 2)]
    curve = pd.DataFrame(_curve_rows(events, 100),
                         columns=["arm", "time", "estimate", "conf_low", "conf_high", "at_risk",
                                  "events"])
    old, _ = drawable(curve, 5, 10)
    assert old["time"].tolist() == [140.0, 280.0, 340.0]  # 2 events pending at day 183
    steps, _ = drawable(curve, 5, 10, horizons=[183, 365])
    undrawn = undrawn_events(curve, 5, 10, [183, 365])
    assert steps["time"].tolist() == [163.0, 280.0, 360.0]
    assert undrawn == {("contacted", 183.0): 0.0, ("contacted", 365.0): 0.0}
    times = [0.0, *steps["time"]]
    held = [curve.loc[(curve["time"] > a) & (curve["time"] <= b), "events"].sum()
            for a, b in itertools.pairwise(times)]
    assert all(h >= 5 for h in held), held
    # when no step since the previous horizon can take them, the value is not published
    few = curve[curve["time"] <= 60.0]
    assert undrawn_events(few, 5, 10, [100, 183]) == {("contacted", 100.0): 4.0,
                                                     ("contacted", 183.0): 4.0}


HORIZON_CASE = [(20.0, 2), (60.0, 2), (140.0, 1), (146.0, 1), (163.0, 1), (213.0, 1),
                (257.0, 1), (280.0, 3), (300.0, 1), (340.0, 4), (360.0, 2)]


def horizon_study(path: Path) -> tuple[Path, dict]:
    """A small study with one outcome, the curve of the horizon case in both arms (the
    comparison's events five times as many), the model values taken from that curve."""
    bundle = small_study(path, 1)
    est = json.loads((bundle / "estimates.json").read_text())
    est["outcomes"] = est["outcomes"][:1]  # the other outcomes' planted gaps are not needed
    outcome = est["outcomes"][0]
    pop = outcome["population"] = {"contacted": est["cohort"]["n_contacted"],
                                   "comparison": est["cohort"]["n_comparison"]}
    rows = _curve_rows(HORIZON_CASE, pop["contacted"], censored=2) + [
        ("comparison", *r[1:]) for r in _curve_rows([(t + 1, 5 * d) for t, d in HORIZON_CASE],
                                                    pop["comparison"], censored=2)]
    frame = pd.DataFrame(rows, columns=["arm", "time", "estimate", "conf_low", "conf_high",
                                        "at_risk", "events"])
    frame.to_parquet(bundle / outcome["tables"]["curve"], index=False)
    # numbers at risk every 3 months: those at the first curve row at or after the tick
    risk = []
    for arm, part in frame.groupby("arm"):
        for day in (0, 91, 183, 274, 365):
            later = part[part["time"] >= day]
            n = later["at_risk"].iloc[0] if len(later) else part["at_risk"].iloc[-1] - 10
            risk.append((arm, float(day), int(n)))
    pd.DataFrame(risk, columns=["arm", "time", "at_risk"]).to_parquet(
        bundle / outcome["tables"]["at_risk"], index=False)
    outcome["diagnostics"]["events"] = {a: int(frame.loc[frame["arm"] == a, "events"].sum())
                                        for a in ("contacted", "comparison")}
    for e in outcome["estimates"]:
        if e["model"] in ("cumulative_incidence", "kaplan_meier") and e["group"] is not None:
            arm = "contacted" if e["group"] == 1 else "comparison"
            part = frame[(frame["arm"] == arm) & (frame["time"] <= e["time"])]
            value = float(part["estimate"].iloc[-1]) if len(part) else 0.0
            e["estimate"] = value if e["model"] == "cumulative_incidence" else 1 - value
    (bundle / "estimates.json").write_text(json.dumps(est), encoding="utf-8")
    return bundle, outcome


def horizon_attack(pages: dict[str, str]) -> list:
    from attacks import System, horizon_claims, outcome_cells

    return horizon_claims(outcome_cells(System(), pages["technical"], "en", {}), "en")


def test_attack_finds_horizon_values_off_the_drawn_curve(tmp_path, monkeypatch):
    """The rendered appendix: with horizons ignored when drawing (as before), the reader reads
    the 2 events between the drawn step and the 183-day value; with checkpoints, nothing."""
    bundle, _ = horizon_study(tmp_path / "results")
    assert horizon_attack(render(bundle, monkeypatch)) == []
    from evaluation.disclosure import curves
    from evaluation.report import cells, figures

    real = curves.drawable
    for module in (cells, figures):
        monkeypatch.setattr(module, "drawable", lambda c, t, f, h=(): real(c, t, f))
    found = horizon_attack(render(bundle, monkeypatch))
    assert any(" horizon contacted day 183 " in what and value == 2 for what, value in found), found


def test_naive_rows_rest_on_the_naive_arms_own_counts(tmp_path):
    """The naive contacted arm is every eligible contacted person, not the matched ones: its
    small counts are not the matched arm's. 2 naive events by 6 months hide that value (and
    the contrasts at 6 months); a bundle without the naive counts shows no naive number."""
    from bundle_factory import make_bundle

    from evaluation.analysis.run import counts_by_horizon
    from evaluation.report.bundle import Bundle
    from evaluation.report.cells import build_checker, estimate_key

    frame = pd.DataFrame({"treated": [1, 1, 1, 0, 0], "status": [1, 1, 0, 1, 0],
                          "time": [100.0, 200.0, 400.0, 50.0, 365.0]})
    assert counts_by_horizon(frame, [183, 365])["contacted"] == {
        "n": 3, "events": 2, "events_by": {"183": 1, "365": 2}, "at_risk": {"183": 2, "365": 1}}
    path = make_bundle(tmp_path / "results")
    est = json.loads((path / "estimates.json").read_text())
    outcome = est["outcomes"][0]
    outcome["diagnostics"]["naive"]["contacted"]["events_by"]["183"] = 2
    (path / "estimates.json").write_text(json.dumps(est), encoding="utf-8")

    def hidden(check, model, time, arm):
        rows = [r for r in outcome["estimates"] if r["analysis"] == "naive"
                and r["model"] == model and r["time"] == time
                and (arm is None or r.get("group") == (1 if arm == "contacted" else 0))]
        row = {**rows[0], "arm": arm}
        return check.suppressed(estimate_key(outcome["id"], row))

    check = build_checker(Bundle.open(path), "2026Q3", 5)
    assert hidden(check, "cumulative_incidence", 183, "contacted")
    assert hidden(check, "risk_difference", 183, None)
    assert not hidden(check, "cumulative_incidence", 183, "comparison")
    assert not hidden(check, "cumulative_incidence", 730, "contacted")
    del outcome["diagnostics"]["naive"]
    (path / "estimates.json").write_text(json.dumps(est), encoding="utf-8")
    check = build_checker(Bundle.open(path), "2026Q3", 5)
    assert hidden(check, "cumulative_incidence", 730, "contacted")
    assert check.entries[estimate_key(outcome["id"], {
        **next(r for r in outcome["estimates"] if r["analysis"] == "naive"), "arm": "comparison"})
    ].rule == "estimate: a count behind it is not known"
