"""Quarterly reports: formatting, finding rules, template parsing, rendering and disclosure."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

from bundle_factory import CONTACTS, PLANTED_SMALL, make_bundle, make_study
from click.testing import CliRunner

from evaluation import disclosure
from evaluation.cli import cli
from evaluation.report import fmt
from evaluation.report.bundle import Bundle
from evaluation.report.findings import BENEFICIAL, HARMFUL, NO_DIFFERENCE, NOT_YET, finding
from evaluation.report.render import parse_qmd, qmd_to_notebook
from evaluation.report.texts import TEXTS

ROOT = Path(__file__).resolve().parents[1]


# -- formatting and texts ------------------------------------------------------------------
def test_danish_and_english_number_style():
    assert fmt.percent(0.123, "da") == "12,3 %"
    assert fmt.percent(0.123, "en") == "12.3%"
    assert fmt.number(1234.5, "da", 1) == "1.234,5"
    assert fmt.number(1234.5, "en", 1) == "1,234.5"
    assert fmt.points(-0.041, "da") == "\u22124,1"
    assert fmt.points(-0.0004, "en") == "0.0"  # no minus sign on a rounded zero
    assert fmt.p_value(0.0002, "da") == "<0,001"
    assert fmt.date("2026-09-30", "da") == "30. september 2026"
    assert fmt.date("2026-09-30", "en") == "30 September 2026"
    assert [fmt.months(d) for d in (183, 365, 730)] == [6, 12, 24]


def test_both_languages_have_the_same_texts():
    assert set(TEXTS["da"]) == set(TEXTS["en"])
    for key in TEXTS["da"]:
        fields_da = set(re.findall(r"\{(\w+)\}", TEXTS["da"][key]))
        fields_en = set(re.findall(r"\{(\w+)\}", TEXTS["en"][key]))
        assert fields_da == fields_en, key


# -- finding rules ---------------------------------------------------------------------------
def _outcome(rd, lo, hi, *, direction="lower_is_better", passed=True, events=(80, 260), **gates):
    rows = [
        {
            "model": "risk_difference",
            "group": None,
            "time": 365,
            "estimate": rd,
            "conf_low": lo,
            "conf_high": hi,
            "analysis": "matched",
        },
        {
            "model": "cumulative_incidence",
            "group": 1,
            "time": 365,
            "estimate": 0.2 + rd,
            "conf_low": 0,
            "conf_high": 1,
            "analysis": "matched",
        },
        {
            "model": "cumulative_incidence",
            "group": 0,
            "time": 365,
            "estimate": 0.2,
            "conf_low": 0,
            "conf_high": 1,
            "analysis": "matched",
        },
        # a naive row with the opposite sign must not be picked
        {
            "model": "risk_difference",
            "group": None,
            "time": 365,
            "estimate": -rd,
            "conf_low": -hi,
            "conf_high": -lo,
            "analysis": "naive",
        },
    ]
    g = {"balance": True, "overlap": True, "proportional_hazards": True, "enough_events": True}
    g.update(gates)
    g["passed"] = passed and all(g.values())
    return {
        "id": "x",
        "family": "reoffending",
        "label": {"da": "Ny sigtelse", "en": "New charge"},
        "direction": direction,
        "population": {"contacted": 500, "comparison": 1500},
        "primary_horizon_days": 365,
        "estimates": rows,
        "diagnostics": {"events": {"contacted": events[0], "comparison": events[1]}},
        "gates": g,
    }


def test_beneficial_finding_gives_points_fewer_with_interval():
    f = finding(_outcome(-0.05, -0.085, -0.015), "en")
    assert f.kind == BENEFICIAL
    assert "fewer" in f.sentence
    assert "5.0 percentage points fewer, 95% confidence interval 1.5 to 8.5" in f.sentence
    assert "15.0%" in f.sentence and "20.0%" in f.sentence
    da = finding(_outcome(-0.05, -0.085, -0.015), "da")
    assert "5,0 procentpoint færre" in da.sentence and "1,5 til 8,5" in da.sentence


def test_interval_including_zero_cannot_be_told_from_chance():
    f = finding(_outcome(-0.01, -0.04, 0.02), "en")
    assert f.kind == NO_DIFFERENCE
    assert "cannot yet be told from chance" in f.sentence
    assert "\u22121.0 percentage points" in f.sentence and "\u22124.0 to 2.0" in f.sentence
    assert "tilfældigheder" in finding(_outcome(-0.01, -0.04, 0.02), "da").sentence


def test_harm_is_stated_clearly_in_both_directions():
    more = finding(_outcome(0.05, 0.02, 0.08), "en")
    assert more.kind == HARMFUL and "harmful" in more.sentence and "more" in more.sentence
    fewer = finding(_outcome(-0.05, -0.08, -0.02, direction="higher_is_better"), "da")
    assert fewer.kind == HARMFUL and "skadeligt" in fewer.sentence
    good = finding(_outcome(0.05, 0.02, 0.08, direction="higher_is_better"), "en")
    assert good.kind == BENEFICIAL and "harmful" not in good.sentence


def test_failed_gate_means_we_cannot_yet_say_with_reason():
    f = finding(_outcome(-0.05, -0.085, -0.015, balance=False), "en")
    assert f.kind == NOT_YET
    assert "cannot yet say" in f.sentence and "not yet similar enough" in f.sentence
    assert "%" not in f.sentence  # no confident number where a gate fails
    f2 = finding(_outcome(-0.05, -0.085, -0.015, proportional_hazards=False, enough_events=False), "da")
    assert "endnu ikke sige" in f2.sentence and "for få hændelser" in f2.sentence


def test_small_event_counts_or_missing_estimate_mean_not_yet():
    assert finding(_outcome(-0.05, -0.085, -0.015, events=(3, 200)), "en").kind == NOT_YET
    outcome = _outcome(-0.05, -0.085, -0.015)
    outcome["estimates"] = outcome["estimates"][1:3]
    f = finding(outcome, "en")
    assert f.kind == NOT_YET and "missing" in f.sentence


def test_factory_bundle_findings_per_family(tmp_path):
    bundle = Bundle.open(make_bundle(tmp_path / "results"))
    kinds = {fam: finding(o, "da").kind for fam, o in bundle.families()}
    assert kinds == {"reoffending": BENEFICIAL, "education_job": NO_DIFFERENCE,
                     "group_recruitment": NOT_YET}
    harmful = Bundle.open(make_bundle(tmp_path / "harm", scenario="harmful"))
    assert finding(harmful.families()[0][1], "en").kind == HARMFUL


# -- templates -----------------------------------------------------------------------------
def test_qmd_parsing_options_and_parameter_injection():
    front, cells = parse_qmd((ROOT / "reports" / "quarterly.qmd").read_text(encoding="utf-8"))
    assert "jupyter: python3" in front and "embed-resources: true" in front
    code = [c for c in cells if c[0] == "code"]
    assert code[0][2]["tags"] == ["parameters"] and code[0][2]["echo"] is False
    assert all(not src.startswith("#|") for _, src, _ in code)
    nb = qmd_to_notebook(ROOT / "reports" / "quarterly.qmd", {"lang": "en", "quarter": "2026Q2"})
    assert nb.cells[1].metadata["tags"] == ["injected-parameters"]
    assert "lang = 'en'" in nb.cells[1].source
    for name in ("quarterly.qmd", "technical.qmd", "_quarto.yml"):
        assert (ROOT / "reports" / name).is_file()
    for name in ("quarterly.qmd", "technical.qmd"):
        text = (ROOT / "reports" / name).read_text(encoding="utf-8")
        assert "format:" in text and "typst" in text and "jupyter: python3" in text


def test_templates_hold_no_estimation():
    for name in ("quarterly.qmd", "technical.qmd"):
        text = (ROOT / "reports" / name).read_text(encoding="utf-8")
        for word in ("lifelines", "statsmodels", "fit(", "survival", "read_parquet"):
            assert word not in text, (name, word)


# -- rendered reports ----------------------------------------------------------------------
def _visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL)
    page = re.sub(r"<img\b[^>]*>", " ", page)
    page = re.sub(r'<span class="ratio">[^<]*</span>', " ", page)  # 1:k matching, not a count
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page))


def test_all_four_reports_are_written_and_renderer_named(rendered_reports):
    for path in rendered_reports["paths"].values():
        assert path.is_file() and path.stat().st_size > 10_000
    assert "renderer:" in rendered_reports["stdout"]
    assert not list(rendered_reports["dir"].rglob(".*.tmp"))


def test_reports_are_self_contained(rendered_reports):
    for path in rendered_reports["paths"].values():
        page = path.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=", page)
        assert not re.search(r"""<link[^>]+href=["']?https?:""", page)
        imgs = re.findall(r"<img\b[^>]*src=\"([^\"]{0,30})", page)
        assert imgs and all(src.startswith("data:image/png;base64,") for src in imgs)


def test_no_count_below_threshold_in_any_table_or_text(rendered_reports):
    for (lang, doc), path in rendered_reports["paths"].items():
        page = path.read_text(encoding="utf-8")
        found, bad = disclosure.scan_html_counts(page, 5)
        assert found >= 20, (lang, doc, found)
        assert bad == [], (lang, doc, bad)
        assert disclosure.SUPPRESSED_MARK in page  # planted small counts are there, hidden
        assert "&lt;5" not in page  # one neutral marker: a hidden cell claims no value
        note = TEXTS[lang]["suppressed_note"].split("{mark}")[1][:20]
        assert note in htmllib.unescape(page), (lang, doc)  # the marker's footnote
        text = _visible_text(page)
        person = r"(unge|personer|young people|persons|people|events|hændelser)"
        assert not re.search(r"(?<![\d.,<\-\u2212])[1-4]\s+" + person, text), (lang, doc)


def test_planted_small_counts_are_suppressed_with_secondary_cells(rendered_reports, tmp_path):
    from evaluation.report.cells import build_checker

    assert {p[0] for p in PLANTED_SMALL} >= {"contacts", "attrition"}
    mark = disclosure.SUPPRESSED_MARK
    page = rendered_reports["paths"][("en", "quarterly")].read_text(encoding="utf-8")
    rows = {re.sub(r"<[^>]+>", "|", r).strip("|").split("|")[0].strip("\u2003 "): r
            for r in re.findall(r"<tr>(.*?)</tr>", page)}
    cells = {k: re.findall(r'class="count">([^<]*)<', v) for k, v in rows.items()}
    assert cells["22-25"][0] == mark  # 4 (primary)
    age = [cells[c][0] for c in ("14-17", "18-21", "22-25")]
    assert age.count(mark) >= 2  # 4 cannot be worked out as 37 - 20 - 13
    assert cells["SSP"][0] == mark and cells["Treatment"][0] == mark and cells["No referral"][0] == mark
    tech = rendered_reports["paths"][("en", "technical")].read_text(encoding="utf-8")
    assert 'class="count">3<' not in tech and 'class="count">2<' not in tech
    # the pattern the reports share is proven safe by the attacker's linear programme
    check = build_checker(Bundle.open(make_bundle(tmp_path / "b")), "2026Q3", 5)
    assert check.disclosed() == []
    assert check.rules_applied().get("secondary", 0) >= 1


def test_council_report_has_summary_results_box_and_as_of(rendered_reports):
    for lang in ("da", "en"):
        page = rendered_reports["paths"][(lang, "quarterly")].read_text(encoding="utf-8")
        text = _visible_text(page)
        assert page.count('class="finding"') == 3
        assert 'data-kind="beneficial"' in page and 'data-kind="not_yet"' in page
        assert 'data-kind="no_difference"' in page
        assert TEXTS[lang]["h_box"] in text
        assert TEXTS[lang]["h_comparison"] in text
        assert ("30. september 2026" if lang == "da" else "30 September 2026") in text
        # the detectable effect in words, as a share of the comparison group's risk
        assert ("sænker risikoen til 72 % af sammenligningsgruppens" if lang == "da"
                else "lowers the risk to 72% of the comparison group's") in text
    da = _visible_text(rendered_reports["paths"][("da", "quarterly")].read_text(encoding="utf-8"))
    assert "var der omkring 20, der fik en ny sigtelse inden for et år, mod omkring 25" in da
    assert "mellem 8 færre og 2 færre pr. 100" in da and "Vi kan endnu ikke sige" in da
    en = _visible_text(rendered_reports["paths"][("en", "quarterly")].read_text(encoding="utf-8"))
    assert "about 20 had a new charge within a year, against about 25" in en
    assert "may be chance" in en


def test_technical_appendix_has_every_part(rendered_reports):
    page = rendered_reports["paths"][("en", "technical")].read_text(encoding="utf-8")
    text = _visible_text(page)
    for key in ("h_attrition", "h_balance", "h_overlap", "h_models", "h_diagnostics",
                "h_naive", "h_forest", "h_manifest"):
        assert TEXTS["en"][key] in text, key
    assert "Naive (everyone not contacted)" in text and "Matched" in text
    assert "Cox model stratified by matched set: hazard ratio" in text
    assert "cox_stratified" not in text and "kaplan_meier" not in text
    assert "E-value" in text and "sha256:" in text
    assert page.count("<img") >= 4 + 3


def test_missing_bundle_says_run_analyse_first(tmp_path):
    study = make_study(tmp_path)
    import shutil

    shutil.rmtree(tmp_path / "output" / "2026Q3" / "results")
    result = CliRunner().invoke(cli, ["report", str(study)])
    assert result.exit_code != 0
    assert "no results bundle for 2026Q3" in result.output
    assert "run `evaluation analyse --quarter 2026Q3`" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "output" / "2026Q3" / "report").exists()


def test_bad_quarter_is_refused(tmp_path):
    study = make_study(tmp_path)
    result = CliRunner().invoke(cli, ["report", str(study), "--quarter", "2026-3"])
    assert result.exit_code != 0 and "2026Q3" in result.output
    assert not (tmp_path / "output" / "2026Q3" / "report").exists()


def test_failed_render_leaves_no_output(tmp_path):
    study = make_study(tmp_path, languages=("en",))
    (tmp_path / "output" / "2026Q3" / "results" / "tables" / "contacts.parquet").write_text("broken")
    result = CliRunner().invoke(cli, ["report", str(study)])
    assert result.exit_code != 0
    assert "contacts.parquet" in result.output and "Traceback" not in result.output
    assert not list((tmp_path / "output").rglob("*.html"))


def test_balance_means_of_binary_covariates_respect_disclosure():
    import pandas as pd

    from evaluation.report import cells
    from evaluation.report.tables import balance_table

    frame = pd.DataFrame(
        {
            "covariate": ["group_registered", "charges_6m", "custody_ever", "in_education_or_job"],
            "smd_before": [0.3, 0.9, 0.1, 0.2],
            "smd_after": [0.3, 0.05, 0.02, 0.0],
            "mean_contacted_after": [0.03, 0.03, 0.5, 0.04],
            "mean_comparison_after": [0.0, 0.1, 0.97, 0.04],
        }
    )

    class Stub:
        def __init__(self):
            self.cohort = {}

        def named_table(self, name):
            return frame

    check = disclosure.Checker(5)
    check.count("cohort/n_contacted", 100)
    check.count("cohort/n_comparison", 100)
    cells.balance(check, Stub(), "2026Q3")
    check.solve()
    table = balance_table(frame, "en", check, output="md")
    lines = {
        ln.split("|")[1].strip(): [c.strip() for c in ln.split("|")[2:-1]]
        for ln in table.splitlines()[2:]
    }
    mark = disclosure.SUPPRESSED_MARK
    # 3 persons hidden, a true 0 shown; the SMD would invert to the hidden count
    assert lines["group_registered"] == ["0.300", mark, mark, "0.00"]
    assert lines["charges_6m"][2:] == ["0.03", "0.10"]  # counts of charges, not persons
    assert lines["custody_ever"][2:] == ["0.50", mark]  # 3 persons without the trait
    # exactly matched (equal by construction): neither arm's 4 persons are shown
    assert lines["in_education_or_job"][2:] == [mark, mark]
    assert check.disclosed() == []


def test_quarto_is_used_when_on_path(tmp_path, monkeypatch):
    """With `quarto` on PATH the command calls it with -P parameters and moves the output."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "quarto"
    fake.write_text(
        "#!/usr/bin/env python3\n"
        "import sys, pathlib\n"
        "args = sys.argv[1:]\n"
        "out = args[args.index('--output') + 1]\n"
        "pathlib.Path(out).write_text(' '.join(args))\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    study = make_study(tmp_path / "s", languages=("en",))
    result = CliRunner().invoke(cli, ["report", str(study), "--format", "html", "--format", "pdf"])
    assert result.exit_code == 0, result.output
    assert "renderer: Quarto" in result.output
    out = tmp_path / "s" / "output" / "2026Q3" / "report" / "en"
    args = (out / "technical.pdf").read_text()
    assert args.startswith("render technical.qmd --to typst")
    assert "-P lang:en" in args and "-P quarter:2026Q3" in args and "-M lang:en" in args
    assert "-P output:pdf" in args and "-P threshold:5" in args
    assert "--to html" in (out / "quarterly.html").read_text()


def test_contacts_table_uses_the_study_threshold(tmp_path):
    import pandas as pd

    from evaluation.report.cells import build_checker
    from evaluation.report.tables import contacts_table

    bundle = Bundle.open(make_bundle(tmp_path / "b"))
    frame = pd.DataFrame(CONTACTS, columns=["period", "dimension", "category", "n"])
    three = contacts_table(frame, "2026Q3", "en", build_checker(bundle, "2026Q3", 3), output="html")
    found, bad = disclosure.scan_html_counts(three, 3)
    assert found > 20 and bad == []
    assert 'class="count">4<' in three and disclosure.SUPPRESSED_MARK in three  # 4 shown under 3
    five = contacts_table(frame, "2026Q3", "en", build_checker(bundle, "2026Q3", 5), output="html")
    assert 'class="count">4<' not in five and disclosure.scan_html_counts(five, 5)[1] == []
    assert fmt.number(pd.NA, "en") == "–"


def test_curve_figure_hides_small_numbers_at_risk_and_cuts_the_curve():
    import pandas as pd

    from evaluation.report.figures import curve_figure, visible_curve

    curve = pd.DataFrame({
        "arm": ["contacted"] * 4 + ["comparison"] * 4,
        "time": [30.0, 200.0, 400.0, 600.0] * 2,
        "estimate": [0.1, 0.2, 0.3, 0.5, 0.05, 0.1, 0.15, 0.2],
        "conf_low": [0.05, 0.1, 0.2, 0.3, 0.01, 0.05, 0.1, 0.1],
        "conf_high": [0.15, 0.3, 0.4, 0.7, 0.1, 0.15, 0.2, 0.3],
        "at_risk": [40, 12, 4, 2, 90, 60, 30, 9],
        "events": [4, 3, 2, 1, 5, 4, 3, 2],
    })
    shown = visible_curve(curve, 5, floor=10)
    # contacted: 12 at risk at day 200 is the last drawable time, and its 4 + 3 events make one
    # step; comparison: cut before 9 at risk, steps of 5 and 4 + 3 events
    assert shown[shown["arm"] == "contacted"]["time"].tolist() == [200.0]
    assert shown[shown["arm"] == "comparison"]["time"].tolist() == [30.0, 400.0]
    risk = pd.DataFrame({"arm": ["contacted", "comparison"] * 4,
                         "time": [0.0, 0.0, 91.0, 91.0, 183.0, 183.0, 274.0, 274.0],
                         "at_risk": [40, 90, 12, 70, 4, 60, 2, 30]})
    check = disclosure.Checker(5)
    for r in risk.itertuples():
        check.count(f"outcome/x/at_risk/{r.arm}/{int(r.time)}", r.at_risk, floor=10)
    check.solve()
    fig = curve_figure(curve, risk, "New charge", "en", check, "x")
    numbers = [t.get_text() for t in fig.axes[0].texts if t.get_text().isdigit()]
    # exactly the at-risk table's numbers at the ticks, those below 10 hidden
    assert sorted(numbers) == sorted(["40", "90", "12", "70", "60", "30"])
    assert "4" not in numbers and "2" not in numbers


def test_pdf_mode_gives_markdown_without_html(tmp_path, monkeypatch):
    """For Quarto's Typst (PDF) output every part is Markdown: no raw HTML would survive."""
    import IPython.display

    from evaluation.report.present import Report

    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    report = Report(make_bundle(tmp_path / "results"), "2026Q3", "da", 5, output="pdf")
    for part in ("summary", "covers", "words", "contacts", "box", "comparison", "as_of", "toc",
                 "attrition", "naive_vs_matched", "manifest"):
        getattr(report, part)()
    kinds = {type(obj).__name__ for obj in shown}
    assert kinds == {"Markdown"}
    text = "\n".join(obj.data for obj in shown)
    assert "<span" not in text and "<table" not in text and "<div" not in text
    assert f"| [{disclosure.SUPPRESSED_MARK}]{{.count}} |" in text and "- Ny kriminalitet: Færre af de unge med kontakt" in text
    assert "#outline(" in text  # the appendix contents as a Typst outline (links in the PDF)


def test_mde_sentence_reads_as_an_increase_for_outcomes_we_want_more_of():
    from evaluation.report.findings import mde_sentence

    base = {"id": "x", "label": {"da": "Job", "en": "Job"}, "diagnostics": {"min_detectable_hr": 0.8}}
    down = mde_sentence({**base, "direction": "lower_is_better"}, "en")
    up = mde_sentence({**base, "direction": "higher_is_better"}, "en")
    assert "80%" in down and "lowers the risk" in down and "hazard" not in down
    assert "1.25" in up and "raises" in up
    assert "1,25" in mde_sentence({**base, "direction": "higher_is_better"}, "da")
