"""Render an Altair chart to an SVG string that can sit inline in an offline HTML page.

vl-convert bundles Vega, so nothing is fetched; the namespace declarations are
dropped because inline SVG in HTML does not need them and a report should not
contain a single URL.
"""
from __future__ import annotations

import re

import altair as alt

# d3-format has no Norwegian locale by name
NORWEGIAN_NUMBERS = {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", "\u00a0kr"],
                     "minus": "\u2212"}
_NAMESPACES = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')


def chart_svg(chart: alt.TopLevelMixin) -> str:
    import vl_convert as vlc

    # Norwegian numbers in axes and labels (decimal comma, space between thousands)
    svg = vlc.vegalite_to_svg(chart.to_json(), allowed_base_urls=[], format_locale=NORWEGIAN_NUMBERS)
    svg = _NAMESPACES.sub("", svg, count=0)
    return svg.replace("xlink:href", "href")
