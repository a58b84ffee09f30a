"""The value models against the literature, hand-computed likelihoods and extreme customers."""
import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crm360.models import bgnbd, gamma_gamma

CDNOW = Path(__file__).parent / "data" / "cdnow" / "CDNOW_sample.txt"
CALIBRATION_END = date(1997, 9, 30)


@pytest.fixture(scope="module")
def cdnow_days() -> pl.DataFrame:
    """Purchase days in the 39-week calibration period: same-day purchases are one transaction."""
    lines = [line.split() for line in CDNOW.read_text().splitlines() if line.strip()]
    purchases = pl.DataFrame({
        "customer": [int(parts[1]) for parts in lines],
        "day": [date(int(p[2][:4]), int(p[2][4:6]), int(p[2][6:])) for p in lines],
        "value": [float(parts[4]) for parts in lines]})
    return (purchases.filter(pl.col("day") <= CALIBRATION_END).group_by("customer", "day")
            .agg(pl.col("value").sum()).sort("customer", "day"))


def _weeks(delta: pl.Expr) -> pl.Expr:
    return delta.dt.total_days() / 7


def test_bgnbd_on_cdnow_matches_the_published_parameters(cdnow_days):
    per = cdnow_days.group_by("customer").agg(
        x=pl.len() - 1, t_x=_weeks(pl.col("day").max() - pl.col("day").min()),
        T=_weeks(pl.lit(CALIBRATION_END) - pl.col("day").min()))
    assert per.height == 2357
    fitted = bgnbd.fit(bgnbd.Histories.of(per["x"], per["t_x"], per["T"]))
    assert fitted.converged
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert fitted.params[name] == pytest.approx(published, rel=0.01), name
    assert fitted.log_likelihood == pytest.approx(-9582.4, abs=0.1)  # the paper's value


def test_gamma_gamma_on_cdnow_matches_the_published_parameters(cdnow_days):
    repeats = (cdnow_days.with_columns(n=pl.col("day").rank("ordinal").over("customer"))
               .filter(pl.col("n") > 1).group_by("customer").agg(x=pl.len(), m=pl.col("value").mean()))
    assert repeats.height == 946
    fitted = gamma_gamma.fit(gamma_gamma.Spends.of(repeats["x"], repeats["m"]))
    assert fitted.converged
    for name, published in {"p": 6.25, "q": 3.74, "v": 15.44}.items():  # Fader & Hardie (2013)
        assert fitted.params[name] == pytest.approx(published, rel=0.01), name


BG = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}


def _bgnbd_by_hand(x: int, t_x: float, T: float) -> float:
    r, alpha, a, b = BG.values()
    beta = math.gamma(a) * math.gamma(b) / math.gamma(a + b)
    beta_x = math.gamma(a) * math.gamma(b + x) / math.gamma(a + b + x)
    common = math.gamma(r + x) * alpha ** r / math.gamma(r)
    likelihood = beta_x / beta * common / (alpha + T) ** (r + x)
    if x > 0:
        beta_1 = math.gamma(a + 1) * math.gamma(b + x - 1) / math.gamma(a + b + x)
        likelihood += beta_1 / beta * common / (alpha + t_x) ** (r + x)
    return math.log(likelihood)


@pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0.0, 10.0), (2, 5.0, 10.0), (7, 30.5, 31.0), (1, 0.5, 52.0)])
def test_bgnbd_likelihood_matches_the_formula_computed_by_hand(x, t_x, T):
    computed = bgnbd.log_likelihood(BG, bgnbd.Histories.of([x], [t_x], [T]))[0]
    assert computed == pytest.approx(_bgnbd_by_hand(x, t_x, T), rel=1e-10)


def test_gamma_gamma_likelihood_matches_the_formula_computed_by_hand():
    p, q, v, x, m = 6.0, 4.0, 15.0, 3, 20.0
    by_hand = (math.lgamma(p * x + q) - math.lgamma(p * x) - math.lgamma(q) + q * math.log(v)
               + (p * x - 1) * math.log(m) + p * x * math.log(x) - (p * x + q) * math.log(x * m + v))
    computed = gamma_gamma.log_likelihood({"p": p, "q": q, "v": v}, gamma_gamma.Spends.of([x], [m]))[0]
    assert computed == pytest.approx(by_hand, rel=1e-12)


def test_the_gradient_is_the_likelihoods_slope():
    h = bgnbd.Histories.of([0, 2, 7, 40], [0, 5, 30, 100], [10, 10, 31, 104])
    theta = np.log(list(BG.values()))
    _, gradient = bgnbd._terms(theta, h)
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6
        numeric = (bgnbd._terms(theta + step, h)[0] - bgnbd._terms(theta - step, h)[0]) / 2e-6
        assert gradient[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


EXTREMES = {  # x, t_x, T in weeks
    "no repeat purchase": (0, 0.0, 80.0),
    "one day of history": (0, 0.0, 1 / 7),
    "first purchase today": (0, 0.0, 0.0),
    "all purchases on one day": (0, 0.0, 30.0),
    "hundreds of purchases": (800, 150.0, 156.0),
    "bought again today": (3, 20.0, 20.0),
    "repeat buyer long gone": (50, 10.0, 156.0),
}


def test_extreme_customers_give_finite_sensible_outputs():
    h = bgnbd.Histories.of(*zip(*EXTREMES.values(), strict=True))
    alive = bgnbd.p_alive(BG, h)
    expected = bgnbd.expected_purchases(BG, h, 52.0)
    ll = bgnbd.log_likelihood(BG, h)
    assert np.all(np.isfinite(alive)) and np.all((alive >= 0) & (alive <= 1))
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    assert np.all(np.isfinite(ll))
    by_name = dict(zip(EXTREMES, alive, strict=True))
    assert by_name["no repeat purchase"] == 1.0  # BG/NBD: no repeat purchase, no evidence of dropping out
    assert by_name["repeat buyer long gone"] < 0.01
    spend = gamma_gamma.expected_spend({"p": 6.0, "q": 4.0, "v": 15.0}, np.array([0, 1, 500]),
                                       np.array([np.nan, 30.0, 30.0]))
    assert spend[0] == pytest.approx(30.0) and np.all(np.isfinite(spend))  # no repeat: the population mean
    assert spend[2] == pytest.approx(30.0, rel=0.01)  # many purchases: their own average


def test_a_fit_the_data_cannot_pin_down_is_reported_as_not_converged():
    nobody_came_back = bgnbd.Histories.of([0] * 50, [0.0] * 50, np.linspace(1, 50, 50))
    assert not bgnbd.fit(nobody_came_back).converged


def _textbook_expected(params: dict, x: float, t_x: float, T: float, t: float) -> float:
    """E[X(t) | x, t_x, T] as printed in Fader, Hardie & Lee (2005), eq. 10."""
    from scipy.special import hyp2f1

    r, alpha, a, b = params.values()
    first = (a + b + x - 1) / (a - 1) * (
        1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t)))
    second = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return first / second


def test_predicted_value_is_discounted_monthly_purchases_times_expected_spend():
    from datetime import date as day

    from crm360 import config
    from crm360.models import value
    from crm360.models.mle import Fit

    spend_params = {"p": 6.0, "q": 4.0, "v": 15.0}
    models = value.ValueModels(Fit(BG, -1.0, True, 1, "", 3, 0.0), Fit(spend_params, -1.0, True, 1, "", 2, 0.0),
                               3, day(2026, 1, 1))
    histories = pl.DataFrame({"customer_id": [1, 2, 3], "repeat_days": [0, 3, 12],
                              "recency_days": [0, 70, 300], "age_days": [100, 140, 310],
                              "repeat_value": [None, 40.0, 25.0]})
    scores = value.score(histories, models).rows_by_key("customer_id", named=True, unique=True)
    month = config.WEEKS_PER_MONTH
    for customer_id, x, t_x, T, m in histories.iter_rows():
        expected = [_textbook_expected(BG, x, t_x / 7, T / 7, k * month) for k in range(13)]
        spend = (1 - 6 * x / (6 * x + 3)) * 15 * 6 / 3 + 6 * x / (6 * x + 3) * (m or 0.0)
        by_hand = sum(spend * (expected[k] - expected[k - 1]) / (1 + config.CLV_MONTHLY_DISCOUNT_RATE) ** k
                      for k in range(1, 13))
        row = scores[customer_id]
        assert row["expected_purchases_12m"] == pytest.approx(expected[12], rel=1e-9)
        assert row["expected_spend_try"] == pytest.approx(spend, rel=1e-12)
        assert row["predicted_clv_12m"] == pytest.approx(by_hand, rel=1e-9)
