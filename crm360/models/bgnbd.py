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

from dataclasses import dataclass, replace

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from crm360.models.mle import Distinct, Fit, maximise

PARAMETERS = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class Histories:
    """Distinct (x, t_x, T) histories and how many customers have each."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    weight: np.ndarray
    distinct_x: Distinct
    distinct_t_x: Distinct
    distinct_T: Distinct

    @classmethod
    def of(cls, x, t_x, T, weight=None) -> Histories:
        x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
        weight = np.ones_like(x) if weight is None else np.asarray(weight, dtype=np.float64)
        return cls(x, t_x, T, weight, Distinct.of(x), Distinct.of(t_x), Distinct.of(T))


def log_likelihood(params: dict[str, float], h: Histories) -> np.ndarray:
    """Each history's log-likelihood (not weighted)."""
    r, alpha, a, b = (params[p] for p in PARAMETERS)
    return _terms(np.log([r, alpha, a, b]), h)[0]


def _terms(log_params: np.ndarray, h: Histories) -> tuple[np.ndarray, np.ndarray]:
    """Per-history log-likelihood and its gradient with respect to the log parameters.

    LL = A1 + A2 + log(exp(A3) + exp(A4)), A4 only for customers who bought again:
      A1 = lnΓ(r+x) - lnΓ(r) + r ln α        A2 = ln B(a, b+x) - ln B(a, b)
      A3 = -(r+x) ln(α+T)                    A4 = ln a - ln(b+x-1) - (r+x) ln(α+t_x)
    Terms of x, T or t_x alone are computed per distinct value."""
    r, alpha, a, b = np.exp(log_params)
    x, X, TX, TT = h.x, h.distinct_x, h.distinct_t_x, h.distinct_T
    repeat = x > 0
    log_alpha_T, log_alpha_tx = TT.map(lambda v: np.log(alpha + v)), TX.map(lambda v: np.log(alpha + v))
    log_b_x1 = X.map(lambda v: np.log(np.where(v > 0, b + v - 1, 1.0)))
    a3 = -(r + x) * log_alpha_T
    a4 = np.where(repeat, np.log(a) - log_b_x1 - (r + x) * log_alpha_tx, -np.inf)
    top = np.maximum(a3, a4)
    mix = top + np.log1p(np.exp(-np.abs(a3 - a4)))  # log(exp(a3) + exp(a4)), stable
    ll = X.map(lambda v: gammaln(r + v) + betaln(a, b + v)) - gammaln(r) + r * np.log(alpha) - betaln(a, b) + mix
    w3 = np.exp(a3 - mix)
    w4 = 1 - w3  # the two terms' shares of the mixture
    d_r = (X.map(lambda v: digamma(r + v)) - digamma(r) + np.log(alpha)
           - w3 * log_alpha_T - w4 * log_alpha_tx)
    d_alpha = (r / alpha - w3 * (r + x) * TT.map(lambda v: 1 / (alpha + v))
               - w4 * (r + x) * TX.map(lambda v: 1 / (alpha + v)))
    psi_ab_x = X.map(lambda v: digamma(a + b + v))
    d_a = digamma(a + b) - psi_ab_x + w4 / a
    d_b = X.map(lambda v: digamma(b + v)) - digamma(b) + digamma(a + b) - psi_ab_x - w4 * np.exp(-log_b_x1)
    gradient = np.stack([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return ll, gradient


SUBSAMPLE_HISTORIES = 20_000  # above this many histories, start from a fit on a sample of them


def fit(h: Histories, start: dict[str, float] | None = None) -> Fit:
    """Maximum-likelihood parameters. With many histories, a fit on an evenly spread sample of
    them gives the starting point, so the full data needs only a few steps (each step on half a
    million histories costs ~70 ms); convergence is judged on the full data."""
    if start is None and h.x.size > 2 * SUBSAMPLE_HISTORIES:
        sample = slice(None, None, h.x.size // SUBSAMPLE_HISTORIES)
        start = fit(Histories.of(h.x[sample], h.t_x[sample], h.T[sample], h.weight[sample])).params
    x0 = np.log([start[p] for p in PARAMETERS]) if start else np.zeros(4)
    result = maximise(lambda theta: _terms(theta, h), h.weight, PARAMETERS, x0, (-12.0, 12.0))
    if not np.any(h.weight[h.x > 0] > 0):  # the likelihood is flat in a and b: any value "fits"
        return replace(result, converged=False,
                       message=result.message + "; no repeat purchases, so drop-out cannot be estimated")
    return result


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
    """Expected purchases in the next `horizon` weeks after T."""
    return expected_if_alive(params, h, horizon) * p_alive(params, h)


def expected_if_alive(params: dict[str, float], h: Histories, horizon: float) -> np.ndarray:
    """Expected purchases in the next `horizon` weeks for a customer known to be active; depends
    on x and T only (not on t_x).

    The textbook form multiplies ((α+T)/(α+T+t))^(r+x) by 2F1(r+x, b+x; a+b+x-1; z), a tiny number
    by a huge one for long histories; Euler's transformation turns the product into
    (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), whose terms stay small for any x.
    """
    r, alpha, a, b = (params[p] for p in PARAMETERS)
    z = horizon / (alpha + h.T + horizon)
    with np.errstate(invalid="ignore", over="ignore"):  # non-finite results become nulls, not warnings
        transformed = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + h.x - 1, z)
        return (a + b + h.x - 1) / (a - 1) * (1 - transformed)
