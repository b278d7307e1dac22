"""Bar charts of word tables (Altair), for the app and, as inline SVG, the report."""
from __future__ import annotations

import altair as alt
import pandas as pd

from qualcode.analysis.charts import CONFIRMED_COLOR, FONT


def word_bars(frame: pd.DataFrame, title: str = "", measure: str = "count") -> alt.Chart:
    """Horizontal bars of one group's words: ``count`` (frequent words) or ``z`` (distinguishing words)."""
    label = {"count": "forekomster", "z": "z (log-odds mot resten)"}[measure]
    data = frame[["word", measure]].rename(columns={"word": "ord", measure: label})
    chart = alt.Chart(data).mark_bar(color=CONFIRMED_COLOR).encode(
        y=alt.Y("ord:N", sort=list(data["ord"]), title=None),
        x=alt.X(f"{label}:Q", title=label,
                axis=alt.Axis(tickMinStep=1, format="d") if measure == "count" else alt.Axis()),
        tooltip=["ord", label],
    ).properties(width=380, height=alt.Step(18))
    chart = chart.properties(title=title) if title else chart
    return chart.configure(font=FONT).configure_view(stroke=None).configure_axis(labelFontSize=11, titleFontSize=11) \
        .configure_title(fontSize=13, anchor="start")
