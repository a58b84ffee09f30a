"""Gamma-Gamma: how much a customer spends per purchase.

Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis",
and Fader & Hardie's note "The Gamma-Gamma Model of Monetary Value" (2013). A customer's spend is
(x, m): x repeat purchases and m their average value; customers without a repeat purchase carry
no information about their own spend and are not fitted (they get the population mean).
Log space throughout; the fit runs on distinct (x, m) pairs with weights and the analytic
gradient, like the BG/NBD fit.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.special import digamma, gammaln

from crm360.models.mle import Distinct, Fit, maximise

PARAMETERS = ("p", "q", "v")


@dataclass(frozen=True)
class Spends:
    x: np.ndarray        # repeat purchases, at least 1
    m: np.ndarray        # average value of those purchases, above 0
    weight: np.ndarray
    distinct_x: Distinct
    log_m: np.ndarray

    @classmethod
    def of(cls, x, m, weight=None) -> Spends:
        x, m = np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64)
        weight = np.ones_like(x) if weight is None else np.asarray(weight, dtype=np.float64)
        usable = (x > 0) & (m > 0)
        x, m = x[usable], m[usable]
        return cls(x, m, weight[usable], Distinct.of(x), np.log(m))


def log_likelihood(params: dict[str, float], s: Spends) -> np.ndarray:
    """Each customer's log-likelihood of their average spend (not weighted)."""
    return _terms(np.log([params[k] for k in PARAMETERS]), s)[0]


def _terms(log_params: np.ndarray, s: Spends) -> tuple[np.ndarray, np.ndarray]:
    """LL = lnΓ(px+q) - lnΓ(px) - lnΓ(q) + q ln v + (px-1) ln m + px ln x - (px+q) ln(xm+v),
    and its gradient; terms of x alone are computed per distinct x."""
    p, q, v = np.exp(log_params)
    x, X = s.x, s.distinct_x
    px = p * x
    log_total = np.log(x * s.m + v)
    log_x = X.map(np.log)
    ll = (X.map(lambda k: gammaln(p * k + q) - gammaln(p * k)) - gammaln(q) + q * np.log(v)
          + (px - 1) * s.log_m + px * log_x - (px + q) * log_total)
    psi_pxq = X.map(lambda k: digamma(p * k + q))
    d_p = x * (psi_pxq - X.map(lambda k: digamma(p * k)) + s.log_m + log_x - log_total)
    d_q = psi_pxq - digamma(q) + np.log(v) - log_total
    d_v = q / v - (px + q) / (x * s.m + v)
    return ll, np.stack([d_p * p, d_q * q, d_v * v])


def fit(s: Spends) -> Fit:
    """Maximum-likelihood parameters; q <= 1 (an undefined mean spend) does not count as converged."""
    # Start at the spends' own scale, so the optimiser begins in range.
    scale = float(np.average(s.m, weights=s.weight)) if s.weight.sum() > 0 else 1.0
    x0 = np.log([1.0, 2.0, scale])
    result = maximise(lambda theta: _terms(theta, s), s.weight, PARAMETERS, x0, (-12.0, 15.0))
    if result.params["q"] > 1:
        return result
    return replace(result, converged=False, message=result.message + "; q <= 1: the mean spend is undefined")


def expected_spend(params: dict[str, float], x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Expected value of a customer's next purchases: their own average, shrunk towards the
    population mean by how little they have bought (the population mean with no repeat purchase)."""
    p, q, v = (params[k] for k in PARAMETERS)
    x = np.asarray(x, dtype=np.float64)
    m = np.nan_to_num(np.asarray(m, dtype=np.float64))
    population_mean = v * p / (q - 1)
    own_weight = p * x / (p * x + q - 1)
    return (1 - own_weight) * population_mean + own_weight * m
