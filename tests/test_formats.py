"""Numbers and segment names the way people read them, the same in the app, reports and the CLI."""
from __future__ import annotations

import math

import pandas as pd

from qualcode.formats import integer, number, percent, segment_ref, share_of, short_place

NBSP = "\u00a0"


def test_norwegian_numbers_and_nothing_shown_as_a_dash():
    assert number(0.714) == "0,71" and number(-1.5, 1) == "−1,5" and number(12345.678, 1) == f"12{NBSP}345,7"
    assert integer(12345) == f"12{NBSP}345" and percent(0.467) == f"46,7{NBSP}%"
    for missing in (None, math.nan, pd.NA, float("nan")):
        assert number(missing) == integer(missing) == percent(missing) == "–"


def test_a_share_always_carries_its_counts():
    assert share_of(7, 15) == f"46,7{NBSP}% (7 av 15)"
    assert share_of(1, 1) == f"100,0{NBSP}% (1 av 1)"
    assert share_of(0, 0) == "– (0 av 0)"


def test_segment_names_read_the_same_everywhere():
    assert segment_ref("Fjordvik kommune", 2024, "plan", 11) == "Fjordvik 2024 plan, §12"
    assert segment_ref(None, None, None, 0, "plan-a.pdf") == "plan-a.pdf, §1"
    # pandas hands over NA for an unknown year and "ukjent" for an unknown type
    assert segment_ref("Havøy kommune", pd.NA, "ukjent", 4) == "Havøy, §5"
    assert segment_ref(math.nan, pd.NA, "intervju", 2, "i.txt") == "i.txt intervju, §3"
    assert short_place("Nordheim kommune") == "Nordheim" and short_place("", "x.pdf") == "x.pdf"
