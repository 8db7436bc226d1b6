"""Disclosure control: primary and secondary suppression, percentages, numbers at risk."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation import disclosure as d


@pytest.mark.parametrize("n,small", [(0, False), (1, True), (4, True), (5, False), (4.0, True),
                                     (None, False), (float("nan"), False)])
def test_is_small(n, small):
    assert d.is_small(n, 5) is small


def test_show_count_marks_small_counts_and_formats_thousands():
    mark = d.SUPPRESSED_MARK
    assert d.show_count(3) == mark
    assert d.show_count(0) == "0"
    assert d.show_count(5) == "5"
    assert d.show_count(1530, thousands=".") == "1.530"
    assert d.show_count(1530, thousands=",") == "1,530"
    assert d.show_count(12, suppressed=True) == mark  # the same marker, whatever the reason
    assert d.show_count(2, threshold=3) == mark
    assert d.show_count(3, threshold=3) == "3"
    assert d.show_count(None) == ""
    assert "<" not in mark and not any(ch.isdigit() for ch in mark)


def test_single_suppressed_cell_gets_secondary_suppression():
    # 4 would be recoverable as 37 - 20 - 13; the next smallest nonzero cell (13) goes too
    mask = d.suppress_distribution([20, 13, 4], 5, total=37)
    assert mask.tolist() == [False, True, True]


def test_two_primary_cells_need_no_secondary():
    mask = d.suppress_distribution([12, 10, 8, 2, 1], 5, total=33)
    assert mask.tolist() == [False, False, False, True, True]


def test_zeros_are_shown_and_never_the_secondary_cell():
    mask = d.suppress_distribution([0, 3, 40, 9], 5)
    assert mask.tolist() == [False, True, False, True]
    assert d.suppress_distribution([0, 0, 50], 5).tolist() == [False, False, False]


def test_small_total_suppresses_every_nonzero_cell():
    assert d.suppress_distribution([3, 1, 0], 5).tolist() == [True, True, False]


def test_secondary_suppression_blocks_recovery_from_total():
    rng = np.random.default_rng(1)
    for _ in range(200):
        counts = rng.integers(0, 30, size=rng.integers(2, 7))
        mask = d.suppress_distribution(counts, 5)
        hidden = counts[mask]
        # never exactly one hidden nonzero cell (it could be recovered from the total)
        assert not (len(hidden) == 1 and hidden[0] > 0)
        assert not np.any((counts > 0) & (counts < 5) & ~mask)


def test_percent_of_suppressed_count_is_suppressed():
    assert d.show_percent(3, 40, 5) == d.SUPPRESSED_MARK
    assert d.show_percent(30, 4, 5) == d.SUPPRESSED_MARK
    assert d.show_percent(13, 37, 5, suppressed=True) == d.SUPPRESSED_MARK
    assert d.show_percent(13, 37, 5, lang="da") == "35,1 %"
    assert d.show_percent(13, 37, 5, lang="en") == "35.1%"


def test_at_risk_below_threshold_not_shown():
    assert d.at_risk_label(4) == ""
    assert d.at_risk_label(5) == "5"
    assert d.at_risk_label(None) == ""


def test_curve_is_cut_once_at_risk_falls_below_threshold():
    assert d.curve_visible([50, 20, 5, 4, 6, 2]).tolist() == [True, True, True, False, False, False]


def test_scan_html_counts_finds_small_counts_only_in_marked_cells():
    html = ('<table><tr><td class="count">3</td><td class="count">&lt;5</td>'
            '<td class="count">1.530</td><td>2</td><td class="count">0</td></tr></table>'
            '<p>In all <span class="count">4</span> persons</p>')
    found, bad = d.scan_html_counts(html, 5)
    assert found == 5
    assert bad == ["3", "4"]


def test_overlap_histogram_leaves_out_an_arm_whose_size_is_hidden():
    """Bar heights are shares of the arm: with the arm size hidden, their exact heights (the
    PDF's vector figure) and ratios would give the size away, so that arm is not drawn."""
    import pandas as pd

    from evaluation.disclosure.checker import Checker
    from evaluation.report.cells import overlap, overlap_shares_key
    from evaluation.report.figures import overlap_figure

    rng = np.random.default_rng(4)
    prop = pd.DataFrame({"arm": ["contacted"] * 40 + ["comparison"] * 400,
                         "propensity_score": np.r_[rng.uniform(0.2, 0.6, 40), rng.uniform(0, 0.4, 400)]})

    class Bundle:
        def named_table(self, name):
            return prop if name == "propensity" else None

    drawn = {}
    for size in (40, 3):  # the arm size shown; hidden (below the threshold)
        check = Checker(5)
        check.count("cohort/contacted_eligible", size)
        check.count("propensity/comparison/total", 400)
        overlap(check, Bundle(), "2026Q3")
        check.solve()
        assert check.suppressed(overlap_shares_key("contacted")) == (size < 5)
        assert not check.suppressed(overlap_shares_key("comparison"))
        fig = overlap_figure(prop, "en", check)
        drawn[size] = len(fig.axes[0].patches)
    assert drawn[40] == 2 and drawn[3] == 1
