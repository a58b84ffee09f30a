"""BG/NBD: how often a customer buys while active, and the chance they have dropped out.

Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing Science 24(2).
A customer's history is (x, t_x, T): repeat purchases (purchase days after the first), the time
of the last one and the customer's age, both measured from the first purchase, in weeks.

Everything is computed in log space, so that no history gives NaN or inf: no repeat purchase,
hundreds of them, a day of history, or every purchase on one day. The fit runs on the distinct
histories with their customer counts as weights (a million customers share far fewer
histories), with the analytic gradient.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1, logsumexp

from crm360.models.mle import Fit, maximise

PARAMETERS = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class Histories:
    """Distinct (x, t_x, T) histories and how many customers have each."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    weight: np.ndarray

    @classmethod
    def of(cls, x, t_x, T, weight=None) -> Histories:
        x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
        weight = np.ones_like(x) if weight is None else np.asarray(weight, dtype=np.float64)
        return cls(x, t_x, T, weight)


def log_likelihood(params: dict[str, float], h: Histories) -> np.ndarray:
    """Each history's log-likelihood (not weighted)."""
    r, alpha, a, b = (params[p] for p in PARAMETERS)
    return _terms(np.log([r, alpha, a, b]), h)[0]


def _terms(log_params: np.ndarray, h: Histories) -> tuple[np.ndarray, np.ndarray]:
    """Per-history log-likelihood and its gradient with respect to the log parameters."""
    r, alpha, a, b = np.exp(log_params)
    x, t_x, T = h.x, h.t_x, h.T
    repeat = x > 0
    log_alpha_T, log_alpha_tx = np.log(alpha + T), np.log(alpha + t_x)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * log_alpha_T
    # The second term exists only for customers who bought again (b + x - 1 > 0 then).
    b_x1 = np.where(repeat, b + x - 1, 1.0)
    a4 = np.where(repeat, np.log(a) - np.log(b_x1) - (r + x) * log_alpha_tx, -np.inf)
    mix = logsumexp(np.stack([a3, a4]), axis=0)
    ll = a1 + a2 + mix
    w3, w4 = np.exp(a3 - mix), np.exp(np.where(repeat, a4 - mix, -np.inf))
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * log_alpha_T - w4 * log_alpha_tx
    d_alpha = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
    d_a = digamma(a + b) - digamma(a + b + x) + w4 / a
    d_b = digamma(b + x) - digamma(b) + digamma(a + b) - digamma(a + b + x) - w4 / b_x1
    gradient = np.stack([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return ll, gradient


def fit(h: Histories, start: dict[str, float] | None = None) -> Fit:
    """Maximum-likelihood parameters."""
    x0 = np.log([start[p] for p in PARAMETERS]) if start else np.zeros(4)
    return maximise(lambda theta: _terms(theta, h), h.weight, PARAMETERS, x0, (-12.0, 12.0))


def p_alive(params: dict[str, float], h: Histories) -> np.ndarray:
    """Probability each customer is still active at T."""
    r, alpha, a, b = (params[p] for p in PARAMETERS)
    repeat = h.x > 0
    log_odds_gone = np.where(
        repeat,
        np.log(a) - np.log(np.where(repeat, b + h.x - 1, 1.0))
        + (r + h.x) * (np.log(alpha + h.T) - np.log(alpha + h.t_x)),
        -np.inf)
    return expit(-log_odds_gone)


def expected_purchases(params: dict[str, float], h: Histories, horizon: float) -> np.ndarray:
    """Expected purchases in the next `horizon` weeks after T.

    The textbook form multiplies ((α+T)/(α+T+t))^(r+x) by 2F1(r+x, b+x; a+b+x-1; z), a tiny number
    by a huge one for long histories; Euler's transformation turns the product into
    (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), whose terms stay small for any x.
    """
    r, alpha, a, b = (params[p] for p in PARAMETERS)
    z = horizon / (alpha + h.T + horizon)
    transformed = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + h.x - 1, z)
    per_active = (a + b + h.x - 1) / (a - 1) * (1 - transformed)
    return per_active * p_alive(params, h)
