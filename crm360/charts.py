"""Figures more than one page draws, built in one place so they read the same everywhere."""
from __future__ import annotations

from datetime import date

import plotly.colors
import plotly.graph_objects as go
import polars as pl

from crm360.queries.value import SEGMENT_ORDER

_SEGMENT_COLOURS = dict(zip(SEGMENT_ORDER, plotly.colors.qualitative.Safe + plotly.colors.qualitative.Pastel,
                            strict=False))


def _faded(colour: str) -> str:
    """A link in its source segment's colour, see-through so crossings stay readable."""
    red, green, blue = (plotly.colors.hex_to_rgb(colour) if colour.startswith("#")
                        else plotly.colors.unlabel_rgb(colour))
    return f"rgba({red}, {green}, {blue}, 0.35)"


def segment_sankey(flow: pl.DataFrame, start: date, end: date, height: int = 620) -> go.Figure:
    """Customers by segment on two days and how they moved (`flow`: from_segment, to_segment,
    customers)."""
    index = {name: i for i, name in enumerate(SEGMENT_ORDER)}
    return go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": [f"{n} ({start:%d.%m.%y})" for n in SEGMENT_ORDER]
                       + [f"{n} ({end:%d.%m.%y})" for n in SEGMENT_ORDER],
              "color": [_SEGMENT_COLOURS[n] for n in SEGMENT_ORDER] * 2, "pad": 14,
              "x": [0.01] * len(SEGMENT_ORDER) + [0.99] * len(SEGMENT_ORDER)},
        link={"source": [index[s] for s in flow["from_segment"]],
              "target": [len(SEGMENT_ORDER) + index[t] for t in flow["to_segment"]],
              "value": flow["customers"].to_list(),
              "color": [_faded(_SEGMENT_COLOURS[s]) for s in flow["from_segment"]]},
    )).update_layout(height=height, title="Customers by segment on each date")
