"""Weighted maximum likelihood on log parameters, shared by the value models."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

EDGE = np.log(1.05)
GRADIENT_TOLERANCE = 1e-5  # mean log-likelihood slope per log parameter that counts as the top:
# moving a parameter 1% from there changes the mean log-likelihood by 1e-7


@dataclass(frozen=True)
class Distinct:
    """A column as its distinct values and each row's position among them: a function of the
    column is computed once per distinct value (a few hundred purchase counts, a thousand ages in
    days) instead of once per row."""

    values: np.ndarray
    index: np.ndarray

    @classmethod
    def of(cls, column: np.ndarray) -> Distinct:
        values, index = np.unique(column, return_inverse=True)
        return cls(values, index.ravel())

    def map(self, function: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        return function(self.values)[self.index]


@dataclass(frozen=True)
class Fit:
    params: dict[str, float]
    log_likelihood: float   # summed over customers (weighted)
    converged: bool
    iterations: int
    message: str
    customers: int
    seconds: float


def maximise(terms: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], weight: np.ndarray,
             names: tuple[str, ...], start: np.ndarray, bounds: tuple[float, float]) -> Fit:
    """Maximise sum(weight * loglik) over log parameters with L-BFGS-B and the analytic gradient.

    `terms(theta)` returns each history's log-likelihood and its gradient (parameters x
    histories). Converged means the optimiser stopped with a flat gradient inside the bounds and
    a finite likelihood; the line search's own verdict is not enough near the optimum, where it
    may report a failure after reaching it.
    """
    started = time.perf_counter()
    total = float(weight.sum())
    if total <= 0:
        return Fit(dict.fromkeys(names, float("nan")), float("nan"), False, 0, "nothing to fit: no customers",
                   0, time.perf_counter() - started)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        ll, gradient = terms(theta)
        return -float(weight @ ll) / total, -(gradient @ weight) / total

    result = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=[bounds] * len(names),
                      options={"maxiter": 1000, "gtol": 1e-8, "ftol": 1e-12})
    value, gradient = objective(result.x)
    flat = bool(np.max(np.abs(gradient)) < GRADIENT_TOLERANCE)
    # A parameter that ran to (within 5% of) the edge of its range means the data could not pin
    # it down: the likelihood keeps rising towards a degenerate model.
    at_bound = bool(np.any((result.x <= bounds[0] + EDGE) | (result.x >= bounds[1] - EDGE)))
    converged = flat and not at_bound and bool(np.isfinite(value))
    message = f"{result.message}; largest gradient {np.max(np.abs(gradient)):.1e}"
    if at_bound:
        message += "; a parameter ran to the edge of its range (the data cannot pin it down)"
    params = dict(zip(names, np.exp(result.x).tolist(), strict=True))
    return Fit(params, -value * total, converged, int(result.nit), message, round(total),
               time.perf_counter() - started)
