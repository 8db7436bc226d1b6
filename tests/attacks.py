"""A reader's attacks on rendered reports: what small counts can be worked out from the HTML alone.

Written independently of :mod:`evaluation.disclosure` (it shares no code with the checker, only
the report's own texts to find sentences and column headers, as a reader reads them). Each
attack returns claims ``(what, value)``: a count of persons from 1 to 4 that the published
numbers pin down. The attacks:

- ``differencing``: one linear programme over every count the reader sees: totals and their
  parts (contacts), the quarter and cumulative columns, attrition start = steps + end, matched +
  unmatched = eligible, the cohort sizes in the text, each outcome's population (cohort minus
  population is a count; population minus events is a count); hidden cells are at least 1 (a
  true zero is shown), derived counts at least 0; a hidden or derived count is claimed when its
  smallest and largest feasible values agree;
- ``shares``: a share with its total gives the count (contacts table);
- ``balance``: a mean of a 0/1 covariate times the arm size; an exactly matched covariate's
  hidden mean read from the other arm (SMD 0); an SMD with one arm's mean inverted;
- ``curve values``: a cumulative incidence (or 1 - Kaplan-Meier) at a horizon times the
  outcome population bounds the events from below... and from above when it is below 5;
- ``curve steps``: the height of a drawn step times the number at risk at the tick before it;
- ``at risk``: a number at risk under a curve below the curve floor or below 5;
- ``releases``: the difference of a count between this quarter's and an earlier report;
- ``denominators``: the means of whole-number covariates (charges) of an arm, to two decimals,
  leave few arm sizes possible (0.67 and 1.33 mean thirds): a hidden size within its bounds
  that fits every mean is taken as known, and the linear programme is solved again;
- ``horizon values``: a curve value printed at a horizon (model table) against the last drawn
  step before it (figure data): the difference times the number at risk is the events between.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, field

import numpy as np

from evaluation.report.texts import TEXTS, vocabulary_label

MARK = "\u2022"
SMALL = range(1, 5)
DAYS_PER_MONTH = 30.4375
#: Labels of whole-number covariates (counts of charges): their means are sums over the arm.
WHOLE_NUMBER_PREFIX = {"en": ("Charges", "Violence/weapons charges", "charges_", "violence_"),
                       "da": ("Sigtelser", "charges_", "violence_")}


# -- reading the page -----------------------------------------------------------------------
def _clean(cell: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", "", cell)).replace("\u2003", "").strip()


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    figure_data: bool = False


def tables(page: str) -> list[Table]:
    """Every table of a page, its cells as the reader sees them."""
    out = []
    for m in re.finditer(r"(<details class=\"figure-data\">.*?)?<table[^>]*>(.*?)</table>", page,
                         re.DOTALL):
        body = m.group(2)
        header = [_clean(h) for h in re.findall(r"<th>(.*?)</th>", body, re.DOTALL)]
        rows = [[_clean(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.DOTALL)]
                for r in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)]
        out.append(Table(header, [r for r in rows if r], bool(m.group(1))))
    return out


def number(text: str, lang: str) -> float | None:
    """A shown number ("1.530", "12,3 %", "−0,05") or None for a hidden or missing one."""
    t = text.replace("\u2212", "-").replace("%", "").replace("\u00a0", "").strip()
    if not t or t in (MARK, "–"):
        return None
    t = t.replace(".", "").replace(",", ".") if lang == "da" else t.replace(",", "")
    try:
        return float(t)
    except ValueError:
        return None


def sentence_counts(page: str, key: str, lang: str) -> dict[str, str] | None:
    """The count fields of a sentence of the report (TEXTS[lang][key]) as shown, by name."""
    template = htmllib.escape(TEXTS[lang][key], quote=True)
    fields = re.findall(r"\{(\w+)\}", template)
    pattern = re.escape(template)
    for f in fields:
        pattern = pattern.replace(re.escape("{" + f + "}"),
                                  rf'(?:<span class="count">(?P<{f}>[^<]*)</span>|[^<]*?)', 1)
    m = re.search(pattern, page)
    if not m:
        return None
    return {f: htmllib.unescape(m.group(f)) for f in fields if m.group(f) is not None}


# -- the linear programme -------------------------------------------------------------------
@dataclass
class System:
    """Counts the reader sees or wants, and the equations a reader knows between them."""

    shown: dict[str, float] = field(default_factory=dict)
    hidden: dict[str, float] = field(default_factory=dict)  # name -> lower bound
    equations: list[dict[str, float]] = field(default_factory=list)

    def cell(self, name: str, text: str, lang: str) -> str:
        value = number(text, lang)
        if value is not None:
            self.shown[name] = value
        elif text.strip() == MARK:
            self.hidden.setdefault(name, 1.0)
        return name

    def derived(self, name: str) -> str:
        self.hidden.setdefault(name, 0.0)
        return name

    def equal(self, total: str, parts: list[str]) -> None:
        names = [total, *parts]
        if all(n in self.shown or n in self.hidden for n in names):
            eq = {total: 1.0}
            for p in parts:
                eq[p] = eq.get(p, 0.0) - 1.0
            self.equations.append(eq)

    def _matrix(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        names = sorted(self.hidden)
        col = {n: i for i, n in enumerate(names)}
        a = np.zeros((len(self.equations), len(names)))
        b = np.zeros(len(self.equations))
        for r, eq in enumerate(self.equations):
            for k, c in eq.items():
                if k in col:
                    a[r, col[k]] += c
                else:
                    b[r] -= c * self.shown[k]
        return names, a, b

    def range(self, name: str) -> tuple[float, float | None] | None:
        """Smallest and largest value of a hidden count the equations allow (None: unknown)."""
        from scipy.optimize import linprog

        if name not in self.hidden or not self.equations:
            return None
        names, a, b = self._matrix()
        bounds = [(self.hidden[n], None) for n in names]
        c = np.zeros(len(names))
        c[names.index(name)] = 1
        lo = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        hi = linprog(-c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        if lo.status:
            return None
        return lo.fun, (-hi.fun if hi.status == 0 else None)

    def pinned(self) -> list[tuple[str, float]]:
        from scipy.optimize import linprog

        names = sorted(self.hidden)
        if not names or not self.equations:
            return []
        names, a, b = self._matrix()
        col = {n: i for i, n in enumerate(names)}
        used = np.abs(a).sum(axis=0) > 0
        claims = []
        for lows in ([self.hidden[n] for n in names], [0.0] * len(names)):
            bounds = list(zip(lows, [None] * len(names)))
            if linprog(np.zeros(len(names)), A_eq=a, b_eq=b, bounds=bounds, method="highs").status:
                continue  # the reader's assumption (hidden cells are >= 1) fails: drop it
            for n in (n for n, u in zip(names, used) if u):
                c = np.zeros(len(names))
                c[col[n]] = 1
                lo = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
                hi = linprog(-c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
                if lo.status == 0 and hi.status == 0 and -hi.fun - lo.fun < 0.5:
                    value = round(lo.fun)
                    if value in SMALL:
                        claims.append((n, value))
            return claims
        return claims


# -- the attacks ----------------------------------------------------------------------------
def _find(tabs: list[Table], first_header: str) -> list[Table]:
    return [t for t in tabs if t.header and t.header[0] == first_header and not t.figure_data]


def contacts_cells(system: System, tabs: list[Table], lang: str, claims: list) -> dict:
    """Contacts table: totals = parts per dimension; cumulative = quarter + earlier."""
    found: dict[tuple[str, str], str] = {}
    for t in _find(tabs, TEXTS[lang]["col_category"]):
        dim = "?"
        total = {}
        parts: dict[str, dict[str, list[str]]] = {"q": {}, "c": {}}
        for r in t.rows:
            if len(r) < 5:
                continue
            if r[0] == TEXTS[lang]["row_total"]:
                total = {"q": system.cell("contacts/q/total", r[1], lang),
                         "c": system.cell("contacts/c/total", r[3], lang)}
                found[("q", "total")], found[("c", "total")] = total["q"], total["c"]
                continue
            if not any(r[1:]):
                dim = r[0]
                continue
            q = system.cell(f"contacts/q/{dim}/{r[0]}", r[1], lang)
            c = system.cell(f"contacts/c/{dim}/{r[0]}", r[3], lang)
            found[("c", f"{dim}/{r[0]}")] = c
            parts["q"].setdefault(dim, []).append(q)
            parts["c"].setdefault(dim, []).append(c)
            system.equal(c, [q, system.derived(f"contacts/before/{dim}/{r[0]}")])
            for period, cell_text, share_text in (("q", r[1], r[2]), ("c", r[3], r[4])):
                _share(claims, f"contacts/{period}/{dim}/{r[0]} share", cell_text, share_text,
                       system.shown.get(total.get(period, "")), lang)
        for period in ("q", "c"):
            for cells in parts[period].values():
                if period in total:
                    system.equal(total[period], cells)
    return found


def _share(claims: list, what: str, count_text: str, share_text: str, total: float | None,
           lang: str) -> None:
    share = number(share_text, lang)
    if share is None or total is None or number(count_text, lang) is not None:
        return
    ks = [k for k in range(int(total) + 1) if abs(100 * k / total - share) <= 0.05 + 1e-9]
    if ks and all(k == ks[0] for k in ks) and ks[0] in SMALL:
        claims.append((what, ks[0]))


def cohort_cells(system: System, page: str, tabs: list[Table], lang: str) -> dict[str, str]:
    """Cohort sizes in the text, the attrition chains and the propensity table."""
    names: dict[str, str] = {}
    for key, fields in (("design_text", ("n_c", "n_k", "n_sets")),
                        ("comparison_coverage", ("n_matched", "n_eligible"))):
        found = sentence_counts(page, key, lang) or {}
        for f in fields:
            if f in found:
                names[f] = system.cell(f"cohort/{f}", found[f], lang)
    for a, b in (("n_c", "n_matched"), ("n_c", "n_sets")):
        if a in names and b in names:
            system.equal(names[a], [names[b]])
    for t in _find(tabs, TEXTS[lang]["col_arm"]):
        if len(t.header) == 4:  # attrition: arm, step, reason, excluded
            arm, start, steps = None, None, []
            for i, r in enumerate(t.rows):
                if r[0]:
                    arm, start, steps = r[0], system.cell(f"attrition/{r[0]}/start", r[3], lang), []
                elif r[2] == TEXTS[lang]["row_end"]:
                    end = system.cell(f"attrition/{arm}/end", r[3], lang)
                    system.equal(start, [*steps, end])
                    if arm == TEXTS[lang]["arm_contacted"]:
                        names["attr_end_c"] = end
                        if steps and "n_eligible" in names:
                            system.equal(names["n_eligible"], [end, steps[-1]])
                        if "n_c" in names:
                            system.equal(names["n_c"], [end])
                else:
                    steps.append(system.cell(f"attrition/{arm}/step{i}", r[3], lang))
        elif len(t.header) == 6:  # propensity: arm, matched, persons, quantiles
            by = {}
            for r in t.rows:
                by[(r[0], r[1])] = system.cell(f"propensity/{r[0]}/{r[1]}", r[2], lang)
            yes, no = TEXTS[lang]["yes"], TEXTS[lang]["no"]
            c = TEXTS[lang]["arm_contacted"]
            if (c, yes) in by and (c, no) in by and "n_eligible" in names:
                system.equal(names["n_eligible"], [by[(c, yes)], by[(c, no)]])
            if (c, yes) in by and "n_c" in names:
                system.equal(names["n_c"], [by[(c, yes)]])
            k = TEXTS[lang]["arm_comparison"]
            if (k, yes) in by and "n_k" in names:
                system.equal(names["n_k"], [by[(k, yes)]])
    return names


def outcome_cells(system: System, page: str, lang: str, names: dict[str, str]) -> list[dict]:
    """Per outcome section: population and events (diagnostics), model rows, figure data."""
    sections = re.split(r"<h2[^>]*>", page)[1:]
    out = []
    for i, section in enumerate(sections):
        tabs = tables(section)
        diag = [t for t in tabs if TEXTS[lang]["diag_persons_contacted"] in t.header and t.rows]
        if not diag:
            continue
        by = dict(zip(diag[0].header, diag[0].rows[0]))
        pop_row = ["", by[TEXTS[lang]["diag_persons_contacted"]],
                   by[TEXTS[lang]["diag_persons_comparison"]]]
        ev_row = ["", by[TEXTS[lang]["diag_events_contacted"]],
                  by[TEXTS[lang]["diag_events_comparison"]]]
        info = {"tables": tabs, "population": {}, "name": f"outcome{i}"}
        data = [t for t in tabs if t.figure_data]
        for j, arm in enumerate(("contacted", "comparison")):
            p = system.cell(f"outcome{i}/population/{arm}", pop_row[1 + j], lang)
            if data:  # numbers at risk: month 0 is the population, each later one fewer or equal
                prev = p
                for r in data[0].rows:
                    if r[3] and r[0] == TEXTS[lang]["arm_" + arm]:
                        cur = system.cell(f"outcome{i}/at_risk/{arm}/{r[1]}", r[3], lang)
                        system.equal(prev, [cur] if prev == p and number(r[1], lang) == 0 else
                                     [cur, system.derived(f"outcome{i}/left/{arm}/{r[1]}")])
                        prev = cur
            e = system.cell(f"outcome{i}/events/{arm}", ev_row[1 + j], lang)
            system.equal(p, [e, system.derived(f"outcome{i}/no_event/{arm}")])
            size = names.get("n_c" if arm == "contacted" else "n_k")
            if size:
                system.equal(size, [p, system.derived(f"outcome{i}/not_at_risk/{arm}")])
            info["population"][arm] = system.shown.get(p)
        out.append(info)
    return out


BINARY_LABELS = {
    "da": {"Nogensinde frihedsberøvet", "I uddannelse eller job", "Registreret i bandegruppe",
           "Medsigtet med bandemedlem, seneste 12 mdr.", "Mand", "custody_ever",
           "in_education_or_job", "group_registered", "group_member_cooffender_12m", "male"},
    "en": {"Ever in custody", "In education or a job", "Registered in a criminal group",
           "Co-offended with a group member, last 12 months", "Male", "custody_ever",
           "in_education_or_job", "group_registered", "group_member_cooffender_12m", "male"},
}


def _unique_small(ks: list[int], n: float) -> int | None:
    if not ks:
        return None
    for pick in (ks, [n - k for k in ks]):
        if all(k == pick[0] for k in pick) and pick[0] in SMALL:
            return int(pick[0])
    return None


def balance_claims(tabs: list[Table], lang: str, sizes: dict[str, float | None]) -> list:
    """Means of 0/1 covariates times the arm size; exact matching; SMD inversion."""
    claims = []
    for t in _find(tabs, TEXTS[lang]["col_covariate"]):
        cols = t.header[3:]
        stages = ["before" if c.endswith(", " + TEXTS[lang]["col_before"]) else "after" for c in cols]
        arms = ["contacted" if c.startswith(TEXTS[lang]["col_mean_contacted"]) else "comparison"
                for c in cols]
        for r in t.rows:
            if r[0] not in BINARY_LABELS[lang]:
                continue
            means = {(s, a): number(v, lang) for s, a, v in zip(stages, arms, r[3:])}
            smd = {"before": number(r[1], lang), "after": number(r[2], lang)}
            for (stage, arm), m in list(means.items()):
                n = sizes.get(f"{arm}/{stage}")
                if n is None:
                    continue
                other = means.get((stage, "comparison" if arm == "contacted" else "contacted"))
                if m is None and other is not None and smd[stage] is not None and abs(smd[stage]) < 5e-4:
                    m = other  # exactly matched: equal by construction
                if m is not None:
                    ks = [k for k in range(int(n) + 1) if abs(k / n - m) <= 0.005 + 1e-9]
                    v = _unique_small(ks, n)
                    if v:
                        claims.append((f"balance {r[0]} {arm} {stage}", v))
                elif other is not None and smd[stage] is not None:
                    ks = []
                    for k in range(int(n) + 1):
                        p1 = k / n
                        p = (p1, other) if arm == "contacted" else (other, p1)
                        sd = np.sqrt((p[0] * (1 - p[0]) + p[1] * (1 - p[1])) / 2)
                        if sd > 0 and abs((p[0] - p[1]) / sd - smd[stage]) <= 5e-4 + 1e-9:
                            ks.append(k)
                    v = _unique_small(ks, n)
                    if v:
                        claims.append((f"smd {r[0]} {arm} {stage}", v))
    return claims


def curve_claims(outcomes: list[dict], lang: str, floor: int) -> list:
    """Curve values times the population; step heights times the number at risk; at risk."""
    claims = []
    for info in outcomes:
        name = info["name"]
        for t in info["tables"]:
            if t.header[:2] == [TEXTS[lang]["col_analysis"], TEXTS[lang]["col_model"]]:
                for r in t.rows:
                    model, group, value = _model(r[1], lang), r[3], number(r[5], lang)
                    arm = ("contacted" if group == TEXTS[lang]["arm_contacted"] else
                           "comparison" if group == TEXTS[lang]["arm_comparison"] else None)
                    if r[0] != vocabulary_label("analysis", "matched", lang) or arm is None \
                            or value is None:
                        continue
                    share = value if model == "cumulative_incidence" else (
                        1 - value if model == "kaplan_meier" else None)
                    n = info["population"].get(arm)
                    if share is not None and n and 0 < share * n < 4.5:
                        claims.append((f"{name} {model} {arm} at {r[4]}", round(share * n)))
            if t.figure_data:
                steps, printed = _figure_data(t, lang)
                ticks = {arm: [(m, n) for m, n in pts if n is not None] for arm, pts in printed.items()}
                claims += [(f"{name} at risk {arm} month {m}", n) for arm, pts in ticks.items()
                           for m, n in pts if 0 < n < floor]
                for arm, pts in steps.items():
                    prev, prev_month = 0.0, 0.0
                    for month, value in pts:
                        before = [n for m, n in ticks.get(arm, []) if m <= month]
                        if before:
                            events = (value - prev) / max(1e-9, 1 - prev) * before[-1]
                            if 0 < events < 4.5:
                                what = f"{name} step {arm} month {month:g} since month {prev_month:g}"
                                claims.append((what, round(events)))
                        prev, prev_month = value, month
    return claims


def _model(label: str, lang: str) -> str:
    for code in ("cumulative_incidence", "kaplan_meier"):
        if label == vocabulary_label("model", code, lang):
            return code
    return label


def _figure_data(t: Table, lang: str) -> tuple[dict, dict]:
    """Drawn steps (month, share) and numbers at risk (month, n) per arm of a figure-data table."""
    steps: dict[str, list[tuple[float, float]]] = {}
    ticks: dict[str, list[tuple[float, float | None]]] = {}
    for r in t.rows:
        arm = "contacted" if r[0] == TEXTS[lang]["arm_contacted"] else "comparison"
        month = number(r[1], lang)
        if r[2]:
            steps.setdefault(arm, []).append((month, number(r[2], lang) / 100))
        elif r[3]:
            ticks.setdefault(arm, []).append((month, number(r[3], lang)))
    return steps, ticks


def horizon_claims(outcomes: list[dict], lang: str) -> list:
    """A cumulative incidence printed at a horizon against the last drawn step before it: the
    difference, over the share still without the event, times the numbers at risk between
    (bounded by the ticks around) is the number of events between them."""
    claims = []
    for info in outcomes:
        data = [t for t in info["tables"] if t.figure_data]
        if not data:
            continue
        steps, ticks = _figure_data(data[0], lang)
        for t in info["tables"]:
            if t.header[:2] != [TEXTS[lang]["col_analysis"], TEXTS[lang]["col_model"]]:
                continue
            for r in t.rows:
                arm = ("contacted" if r[3] == TEXTS[lang]["arm_contacted"] else
                       "comparison" if r[3] == TEXTS[lang]["arm_comparison"] else None)
                value, day = number(r[5], lang), number(r[4], lang)
                if (r[0] != vocabulary_label("analysis", "matched", lang) or arm is None
                        or value is None or day is None
                        or _model(r[1], lang) != "cumulative_incidence"):
                    continue
                claim = _between(steps.get(arm, []), ticks.get(arm, []), value, day)
                if claim is not None:
                    what = f"{info['name']} horizon {arm} day {day:g} since month {claim[1]:g}"
                    claims.append((what, claim[0]))
    return claims


def _between(steps: list, ticks: list, value: float, day: float) -> tuple[int, float] | None:
    month = day / DAYS_PER_MONTH
    before = [(m, v) for m, v in steps if m * DAYS_PER_MONTH < day - 2]
    m_s, f_s = before[-1] if before else (0.0, 0.0)
    upper = [n for m, n in ticks if m <= m_s + 1e-9 and n is not None]
    lower = [n for m, n in ticks if m >= month - 0.05 and n is not None]
    if not upper or not lower or f_s >= 1:
        return None
    lo = max(0.0, value - f_s - 0.001) / (1 - f_s) * lower[0]
    hi = (value - f_s + 0.001) / max(1e-9, 1 - value - 0.0005) * upper[-1]
    whole = [k for k in range(int(np.floor(lo)), int(np.ceil(hi)) + 1) if lo - 1e-9 <= k <= hi + 1e-9]
    if len(whole) == 1 and whole[0] in SMALL:
        return whole[0], m_s
    return None


def denominator_claims(system: System, tabs: list[Table], lang: str, names: dict[str, str]) -> list:
    """Hidden arm sizes read from the means of whole-number covariates (the contacted arm is
    unweighted, so each mean is a whole number over its size, to two decimals)."""
    claims = []
    for t in _find(tabs, TEXTS[lang]["col_covariate"]):
        for j, col in enumerate(t.header[3:]):
            if not col.startswith(TEXTS[lang]["col_mean_contacted"]):
                continue
            before = col.endswith(", " + TEXTS[lang]["col_before"])
            var = names.get("n_eligible" if before else "n_c")
            means = [number(r[3 + j], lang) for r in t.rows
                     if r[0].startswith(WHOLE_NUMBER_PREFIX[lang])]
            means = [m for m in means if m is not None]
            bounds = system.range(var) if var else None
            if not means or bounds is None:
                continue
            top = bounds[1] if bounds[1] is not None else 10 * max(system.shown.values(), default=1)
            fits = [n for n in range(max(1, int(np.ceil(bounds[0] - 1e-9))), int(top + 1e-9) + 1)
                    if all(abs(round(m * n) / n - m) <= 0.005 + 1e-9 for m in means)]
            if len(fits) == 1:
                system.shown[var] = float(fits[0])
                del system.hidden[var]
                if fits[0] in SMALL:
                    claims.append((f"denominator {var}", fits[0]))
    return claims


def sizes_of(system: System, names: dict[str, str]) -> dict[str, float | None]:
    return {"contacted/after": system.shown.get(names.get("n_c", "")),
            "comparison/after": system.shown.get(names.get("n_k", "")),
            "contacted/before": system.shown.get(names.get("n_eligible", ""))}


def attack(pages: dict[str, str], lang: str = "en", floor: int = 10) -> list[tuple[str, float]]:
    """Every claim the attacks make on one release (its council report and appendix together)."""
    system, claims = System(), []
    page = "\n".join(pages.values())
    tabs = tables(page)
    contacts_cells(system, tabs, lang, claims)
    found = sentence_counts(page, "contacts_intro", lang) or sentence_counts(
        page, "contacts_intro_nostart", lang) or {}
    for f, period in (("n_quarter", "q"), ("n_total", "c")):
        if f in found:
            system.equal(f"contacts/{period}/total", [system.cell(f"text/{f}", found[f], lang)])
    names = cohort_cells(system, page, tabs, lang)
    outcomes = outcome_cells(system, pages.get("technical", page), lang, names)
    claims += denominator_claims(system, tabs, lang, names)
    claims += system.pinned()
    claims += balance_claims(tabs, lang, sizes_of(system, names))
    claims += curve_claims(outcomes, lang, floor)
    claims += horizon_claims(outcomes, lang)
    return claims


def release_claims(earlier: dict[str, str], later: dict[str, str], lang: str = "en") -> list:
    """Differences of the cumulative contacts column between two releases."""
    def cumulative(pages: dict[str, str]) -> dict[tuple[str, str], float]:
        system = System()
        found = contacts_cells(system, tables("\n".join(pages.values())), lang, [])
        return {k: system.shown[v] for k, v in found.items() if v in system.shown and k[0] == "c"}

    before, after = cumulative(earlier), cumulative(later)
    return [(f"release difference {k[1]}", after[k] - before[k]) for k in after
            if k in before and after[k] - before[k] in SMALL]
