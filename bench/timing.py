"""Summaries every bench prints the same way."""
from __future__ import annotations


def millisecond_stats(values: list[float]) -> dict:
    """p50, p95 and max of timings in milliseconds (nearest rank)."""
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
    return {"p50_ms": at(0.5), "p95_ms": at(0.95), "max_ms": ordered[-1]}
