"""The text layer: tables fit the width asked for, and rows render from their numbers alone."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftproof.config import Config
from driftproof.verification import verify
from driftproof.render import row_name, row_summary, verdict_table, verification_json
from driftproof.results import Verification

terminal_widths = st.integers(60, 220)


@pytest.fixture(scope="module")
def centered() -> Verification:
    """Symbolic and mean-field rows of a control with long details (ce/gelu/centered, depth 2)."""
    return verify(Config(loss="ce", act="gelu", init="centered", depth=2), kinds=("symbolic",))


@given(terminal_widths)
def test_every_line_fits_the_width(centered, width):
    lines = verdict_table(centered, width=width).splitlines()
    assert max(len(line) for line in lines) <= width
    text = " ".join(" ".join(lines).split())
    for row in centered.evidence:  # nothing is cut: every word of every summary is printed
        assert all(word in text for word in row_summary(row).split())


def test_wide_keeps_one_line_per_row(centered):
    lines = verdict_table(centered, width=80, wide=True).splitlines()
    assert sum(line.startswith(("symbolic", "mean-field")) for line in lines) == len(centered.evidence)
    assert sum(line.startswith("verdict:") for line in lines) == 1


def test_rows_render_from_their_json_alone(centered):
    """A result read back from JSON renders to the same text: text depends on numbers, not objects."""
    again = Verification.from_dict(json.loads(json.dumps(centered.to_dict())))
    assert [row_summary(r) for r in again.evidence] == [row_summary(r) for r in centered.evidence]
    assert [row_name(r) for r in again.evidence] == [row_name(r) for r in centered.evidence]
    payload = verification_json(again)
    assert payload["headline"] and all(row["name"] and row["summary"] for row in payload["evidence"])


def test_results_show_themselves_in_a_notebook(centered):
    from html.parser import HTMLParser

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.cells, self.open = [], []

        def handle_starttag(self, tag, attrs):
            self.open.append(tag)

        def handle_endtag(self, tag):
            assert self.open.pop() == tag  # well nested

        def handle_data(self, data):
            self.cells.append(data)

    parser = Cells()
    parser.feed(centered._repr_html_())
    assert parser.open == []
    assert str(centered.verdict) in parser.cells and str(centered.verdict).upper() in parser.cells
    assert repr(centered).startswith(f"Verification({str(centered.verdict).upper()}: ce/gelu/centered")
    assert str(centered) == verdict_table(centered)


def test_interval_cut_to_the_parameter_range_keeps_its_coverage():
    """Issue 12: a loss's interval over 2 seeds is cut at 0 (losses are >= 0), never below. For any
    value in the range (here 0.05 and the data's mean E|N(0.05, 0.1)|), the cut interval covers it
    exactly when the uncut one does (2,000 simulated pairs, seed 4): the confidence level is kept."""
    import numpy as np

    from driftproof.results import Estimate

    rng = np.random.default_rng(4)
    for _ in range(2000):
        raw = Estimate.student_t(np.abs(rng.normal(0.05, 0.1, 2)))
        cut = raw.within(0.0)
        assert cut.ci_low >= 0.0 and cut.mean == raw.mean and cut.confidence == raw.confidence
        for theta in (0.05, 0.0955):
            assert raw.contains(theta) == cut.contains(theta)
    example = Estimate.student_t([0.01, 0.2]).within(0.0)
    assert example.ci_low == 0.0 and "cut to [0, inf]" in example.method
    assert Estimate.student_t([0.5, 0.51]).within(0.0) == Estimate.student_t([0.5, 0.51])
