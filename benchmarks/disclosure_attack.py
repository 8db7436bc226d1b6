"""Disclosure attack on small demos: how many counts from 1 to threshold-1 a reader can work out.

For each (persons, seed): ``evaluation demo`` in a temporary folder (or ``--work DIR``, where a
finished demo is reused and, with ``--render``, only its reports are rendered again), then the
attacks of ``tests/attacks.py`` on the published HTML of both languages (council report and
technical appendix read together, as a reader has both): differencing by linear programming
over every linked count (contacts totals and parts, quarter and cumulative, attrition, matched
and unmatched, cohort and outcome populations, events, numbers at risk), shares, balance means
and SMDs, arm sizes read from means, curve values times populations, step heights times
numbers at risk, horizon values against the drawn curve. The PDF text (``pdftotext``) is read
too: a number in the PDF that the HTML does not show is reported.

Every claim is checked against the results bundle (the truth the reader does not have): a
claim is *derived* when its value is right. Printed per run: the claims, how many were right
(counts 1..threshold-1 derived), how many wrong; with ``--json`` one JSON document.

Usage::

    python benchmarks/disclosure_attack.py --persons 1500 2500 5000 10000 --seeds 1 2 3 [--json]
    python benchmarks/disclosure_attack.py --work /tmp/demos --render ...   # reuse the demos
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

DAYS_PER_MONTH = 30.4375


def run_demo(where: Path, persons: int, seed: int, render: bool,
             html_only: bool = False) -> tuple[str, float]:
    """A demo in ``where`` (reused when finished; ``render``: its reports rendered again, in
    HTML only with ``html_only``); returns (status, seconds)."""
    exe = str(Path(sys.executable).with_name("evaluation"))
    start = time.perf_counter()
    if (where / "output").is_dir() and any((where / "output").glob("*/report/en/technical.html")):
        if not render:
            return "reused", 0.0
        cmd = [exe, "--quiet", "report", str(where / "study.toml")]
        cmd += ["--format", "html"] if html_only else []
    else:
        shutil.rmtree(where, ignore_errors=True)
        cmd = [exe, "--quiet", "demo", "--out", str(where), "--persons", str(persons),
               "--seed", str(seed)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
        return f"failed: {last[0]}", time.perf_counter() - start
    return "built" if cmd[2] == "demo" else "rendered", time.perf_counter() - start


def pdf_text(path: Path) -> str:
    if not path.is_file() or shutil.which("pdftotext") is None:
        return ""
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=False).stdout


def html_text(page: str) -> str:
    import html

    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.DOTALL)
    page = re.sub(r'src="data:[^"]*"', " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w.,])\d[\d.,]*\d(?![\w])|(?<![\w.,])\d(?![\w.,])", text))


# -- the truth ------------------------------------------------------------------------------
class Truth:
    """The bundle's own numbers, to check a reader's claims (never shown to the attacks)."""

    def __init__(self, report_dir: Path, lang: str) -> None:
        from evaluation.report.bundle import Bundle
        from evaluation.report.cells import build_checker

        quarter = report_dir.parent.parent.name
        self.bundle = Bundle.open(report_dir.parent.parent / "results")
        study = self.bundle.study
        self.quarter = quarter
        self.lang = lang
        self.check = build_checker(self.bundle, quarter, 5)
        self.values = {k: e.value for k, e in self.check.entries.items()}
        self.cohort = self.bundle.cohort
        self.study = study

    def curve(self, index: int):
        outcome = self.bundle.outcomes[index]
        return self.bundle.table((outcome.get("tables") or {}).get("curve"))

    def events_between(self, index: int, arm: str, start_month: float, end_day: float) -> float | None:
        curve = self.curve(index)
        if curve is None:
            return None
        part = curve[curve["arm"].astype(str) == arm]
        start = self.step_day(index, arm, start_month) if start_month else 0.0
        return float(part.loc[(part["time"] > start) & (part["time"] <= end_day), "events"].sum())

    def step_day(self, index: int, arm: str, month: float) -> float:
        """The day of the step printed at ``month`` (1 decimal): a drawn step's time that rounds
        to it (several event times may round to one month; only one of them is drawn), else
        an event time that rounds to it, else the month in days."""
        from evaluation.report.cells import drawn

        curve = self.curve(index)
        steps, _ = drawn(self.check, self.bundle.outcomes[index], curve)
        for frame in (steps, curve):
            part = frame[frame["arm"].astype(str) == arm]
            near = part[(part["time"] / DAYS_PER_MONTH).round(1) == round(month, 1)]
            if len(near):
                return float(near["time"].max())
        return month * DAYS_PER_MONTH


def check_claim(what: str, value: float, truth: Truth) -> bool | None:
    """True / False when the claim can be checked against the bundle, None when not."""
    v = truth.values
    lang_labels = _labels(truth.lang)
    m = re.match(r"contacts/(q|c|before)/(.+)", what)
    if what.startswith(("text/", "cohort/")):
        key = {"text/n_quarter": f"contacts/{truth.quarter}/total/all",
               "text/n_total": "contacts/cumulative/total/all", "cohort/n_c": "cohort/n_contacted",
               "cohort/n_k": "cohort/n_comparison", "cohort/n_sets": "cohort/n_sets",
               "cohort/n_matched": "cohort/contacted",
               "cohort/n_eligible": "cohort/contacted_eligible"}.get(what)
        return None if key not in v else round(v[key]) == value
    if m:
        kind, rest = m.group(1), m.group(2).removesuffix(" share")
        if rest == "total":
            period = truth.quarter if kind == "q" else "cumulative"
            return round(v[f"contacts/{period}/total/all"]) == value
        dim_label, cat_label = rest.split("/", 1)
        dim = lang_labels["dim"].get(dim_label)
        keys = [k for k in v if k.count("/") == 3 and k.startswith("contacts/cumulative/")
                and k.split("/")[2] == dim and lang_labels["category"](k.split("/")[3]) == cat_label]
        if not keys:
            return None
        cum = v[keys[0]] or 0.0
        q = v.get(keys[0].replace("/cumulative/", f"/{truth.quarter}/")) or 0.0
        return round({"q": q, "c": cum, "before": cum - q}[kind]) == value
    m = re.match(r"denominator cohort/(n_c|n_eligible)", what)
    if m:
        key = "cohort/n_contacted" if m.group(1) == "n_c" else "cohort/contacted_eligible"
        return round(v[key]) == value
    m = re.match(r"outcome(\d+)/(population|events|no_event|not_at_risk)/(\w+)", what)
    if m:
        oid = str(truth.bundle.outcomes[_outcome_index(truth, int(m.group(1)))].get("id"))
        arm, kind = m.group(3), m.group(2)
        pop, ev = v.get(f"outcome/{oid}/population/{arm}"), v.get(f"outcome/{oid}/events/{arm}")
        size = v.get("cohort/n_contacted" if arm == "contacted" else "cohort/n_comparison")
        got = {"population": pop, "events": ev,
               "no_event": None if pop is None or ev is None else pop - ev,
               "not_at_risk": None if pop is None or size is None else size - pop}[kind]
        return None if got is None else round(got) == value
    m = re.match(r"outcome(\d+) horizon (\w+) day (\d+) since month ([\d.]+)", what)
    if m:
        got = truth.events_between(_outcome_index(truth, int(m.group(1))), m.group(2),
                                   float(m.group(4)), float(m.group(3)))
        return None if got is None else round(got) == value
    m = re.match(r"outcome(\d+) cumulative_incidence (\w+) at (\d+)", what)
    if m:
        got = truth.events_between(_outcome_index(truth, int(m.group(1))), m.group(2), 0.0,
                                   float(m.group(3)))
        return None if got is None else round(got) == value
    m = re.match(r"outcome(\d+) step (\w+) month ([\d.]+) since month ([\d.]+)", what)
    if m:
        got = truth.events_between(_outcome_index(truth, int(m.group(1))), m.group(2),
                                   float(m.group(4)), truth.step_day(
                                       _outcome_index(truth, int(m.group(1))), m.group(2),
                                       float(m.group(3))))
        return None if got is None else round(got) == value
    m = re.match(r"outcome(\d+)/(at_risk|left)/(\w+)/([\d.]+)", what)
    if m:
        return truth.at_risk(_outcome_index(truth, int(m.group(1))), m.group(2), m.group(3),
                             float(m.group(4))) == value
    m = re.match(r"attrition/(.+)/(start|end|step(\d+))$", what)
    if m:
        got = truth.attrition(m.group(1), m.group(2), m.group(3))
        return None if got is None else round(got) == value
    if " at risk " in what:
        return True  # a number at risk below the floor is published as it is
    return None


def _truth_methods() -> None:
    """Look-ups of the bundle for the claims of the curve, at-risk and attrition attacks."""

    def at_risk(self: Truth, index: int, kind: str, arm: str, month: float) -> float | None:
        outcome = self.bundle.outcomes[index]
        risk = self.bundle.table((outcome.get("tables") or {}).get("at_risk"))
        if risk is None:
            return None
        part = risk[risk["arm"].astype(str) == arm].sort_values("time")
        day = round(month * DAYS_PER_MONTH)
        at = part[(part["time"] - day).abs() < 1]
        if not len(at):
            return None
        n = float(at["at_risk"].iloc[0])
        if kind == "at_risk":
            return n
        earlier = part[part["time"] < day - 1]
        return None if not len(earlier) else float(earlier["at_risk"].iloc[-1]) - n

    def attrition(self: Truth, arm_label: str, kind: str, row: str | None) -> float | None:
        from evaluation.report.texts import arm_label as label_of

        frame = self.bundle.named_table("attrition")
        offset = 0
        for arm, part in frame.groupby("arm", sort=False):
            part = part.reset_index(drop=True)
            if label_of(arm, self.lang) == arm_label:
                if kind == "start":
                    return float(part["n_remaining"].iloc[0] + part["n_excluded"].iloc[0])
                if kind == "end":
                    return float(part["n_remaining"].iloc[-1])
                j = int(row) - offset - 1
                return float(part["n_excluded"].iloc[j]) if 0 <= j < len(part) else None
            offset += len(part) + 2
        return None

    Truth.at_risk, Truth.attrition = at_risk, attrition


_truth_methods()


def _outcome_index(truth: Truth, section: int) -> int:
    """The attacks number outcome sections by heading; the bundle lists outcomes in order."""
    return truth.section_order[section]


def _labels(lang: str) -> dict:
    from evaluation.report.texts import TEXTS, category_label

    dims = {TEXTS[lang][k]: k.removeprefix("dim_") for k in TEXTS[lang] if k.startswith("dim_")}
    return {"dim": dims, "category": lambda code: category_label(code, lang)}


# -- one run --------------------------------------------------------------------------------
def attack_run(where: Path, threshold: int = 5, pdf: bool = True) -> dict:
    from attacks import attack, tables

    out = {"languages": {}}
    for report_dir in sorted(where.glob("output/*/report/*")):
        lang = report_dir.name
        pages = {d: (report_dir / f"{d}.html").read_text(encoding="utf-8")
                 for d in ("quarterly", "technical")}
        claims = sorted(set(attack(pages, lang=lang)))
        truth = Truth(report_dir, lang)
        labels = [str((o.get("label") or {}).get(lang, o.get("id"))) for o in truth.bundle.outcomes]
        truth.section_order = {}
        for i, section in enumerate(re.split(r"<h2[^>]*>", pages["technical"])[1:]):
            head = html_text(section.split("</h2>")[0]).strip()
            hits = [j for j, lab in enumerate(labels) if lab and lab == head]
            if hits:
                truth.section_order[i] = hits[0]
        checked = []
        for what, value in claims:
            try:
                ok = check_claim(what, value, truth)
            except (KeyError, ValueError):
                ok = None
            checked.append({"claim": what, "value": value, "right": ok})
        html_numbers = numbers_in(" ".join(html_text(p) for p in pages.values()))
        pdf_only = {}
        for doc in ("quarterly", "technical") if pdf else ():
            text = pdf_text(report_dir / f"{doc}.pdf")
            extra = sorted(n for n in numbers_in(text) - html_numbers if len(n) > 1)
            pdf_only[doc] = extra
        hidden = sum(p.count('class="count">\u2022<') for p in pages.values())
        counts = sum(len(re.findall(r'class="count">[^<]*<', p)) for p in pages.values())
        out["languages"][lang] = {
            "claims": checked,
            "derived": sum(1 for c in checked if c["right"] is True and 1 <= c["value"] < threshold),
            "wrong": sum(1 for c in checked if c["right"] is False),
            "unchecked": sum(1 for c in checked if c["right"] is None),
            "count_cells": counts, "hidden_count_cells": hidden,
            "tables": sum(len(tables(p)) for p in pages.values()),
            "pdf_numbers_not_in_html": pdf_only,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[1500, 2500, 5000, 10000],
                        help="demo sizes (default: 1500 2500 5000 10000)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3],
                        help="demo seeds (default: 1 2 3)")
    parser.add_argument("--runs", nargs="+", metavar="PERSONS:SEED",
                        help="these runs instead of every --persons x --seeds")
    parser.add_argument("--work", type=Path, help="keep (and reuse) the demos in this folder")
    parser.add_argument("--render", action="store_true",
                        help="render the reports of a reused demo again (after a code change)")
    parser.add_argument("--html-only", action="store_true",
                        help="with --render: HTML only (faster; the PDF text is not read)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="disclosure-attack-"))
    runs = []
    try:
        pairs = ([tuple(int(x) for x in r.split(":")) for r in args.runs] if args.runs else
                 [(p, s) for p in args.persons for s in args.seeds])
        for persons, seed in pairs:
            where = work / f"p{persons}s{seed}"
            status, seconds = run_demo(where, persons, seed, args.render, args.html_only)
            run = {"persons": persons, "seed": seed, "demo": status,
                   "seconds": round(seconds, 1),
                   "command": f"evaluation demo --persons {persons} --seed {seed}"}
            if not status.startswith("failed"):
                run.update(attack_run(where, pdf=not (args.render and args.html_only)))
                # the same counts in both languages: a run's figure is its larger one
                run["derived"] = max((v["derived"] for v in run["languages"].values()),
                                     default=0)
            runs.append(run)
            if not args.json:
                _print(run)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    attacked = [r for r in runs if "derived" in r]
    summary = {"runs": len(runs), "attacked": len(attacked),
               "runs_with_a_derived_count": sum(1 for r in attacked if r["derived"]),
               "derived_counts": sum(r["derived"] for r in attacked)}
    if args.json:
        print(json.dumps({"summary": summary, "runs": runs}, indent=1))
    else:
        print(json.dumps(summary))
    return 0


def _print(run: dict) -> None:
    head = f"persons {run['persons']} seed {run['seed']}: {run['demo']} ({run['seconds']} s)"
    if "languages" not in run:
        print(head, flush=True)
        return
    print(f"{head}; counts 1-4 derived: {run['derived']}", flush=True)
    for lang, r in run["languages"].items():
        print(f"  {lang}: {r['hidden_count_cells']} of {r['count_cells']} count cells hidden; "
              f"derived {r['derived']}, wrong {r['wrong']}, unchecked {r['unchecked']}")
        for c in r["claims"]:
            print(f"    {c['claim']} = {c['value']} ({'right' if c['right'] else 'wrong' if c['right'] is False else 'unchecked'})")
        for doc, extra in r["pdf_numbers_not_in_html"].items():
            if extra:
                print(f"    {doc}.pdf numbers not in the HTML: {' '.join(extra[:30])}")


if __name__ == "__main__":
    sys.exit(main())
