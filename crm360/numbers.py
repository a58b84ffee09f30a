"""Numbers as people read them on a page or in a printed summary."""
from __future__ import annotations


def money(value: float | None) -> str:
    """Whole lira below a million, then ₺1.25M / ₺3.4B, so a tile never truncates."""
    if value is None:
        return "—"
    for size, suffix in ((1e9, "B"), (1e6, "M")):
        if abs(value) >= size:
            return f"₺{value / size:,.2f}{suffix}"
    return f"₺{value:,.0f}"
