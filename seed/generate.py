"""Vectorised generation of one block of customers and everything they did.

The behaviour is modelled, not sprinkled: each customer has a purchase rate and a drop-out
probability (so some stop buying, which the lifetime-value models must find), a spend level
drawn from a skewed distribution (a few customers bring much of the revenue), channel
preferences, and complaints that follow from what they bought. Yearly and weekly seasonality
shape purchases. Every block draws from its own seeded generator, so the output depends only on
(seed, block), never on how many blocks ran before.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl
from faker import Faker

from crm360 import config
from seed import reference as ref

DAY = 86_400
HISTORY_DAYS = 3 * 365
EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class SeedParams:
    customers: int
    seed: int
    as_of: datetime
    block_size: int = 50_000


@dataclass
class Reference:
    """Pools shared by every block: names, products, agents, calendar weights."""

    male: pl.Series
    female: pl.Series
    last: pl.Series
    last_weights: np.ndarray
    provinces: pl.Series
    province_weights: np.ndarray
    products: pl.DataFrame
    product_issues: pl.DataFrame
    agents: pl.DataFrame
    agents_by_channel: dict[str, np.ndarray]
    category_weights: np.ndarray
    day_weight: np.ndarray  # purchase seasonality per day of history
    history_start_s: int
    as_of_s: int


def to_seconds(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds())


def build_reference(params: SeedParams) -> Reference:
    rng = np.random.default_rng([params.seed, 1_000_000])
    person = Faker("tr_TR").provider("faker.providers.person")
    last = pl.Series(list(person.last_names))
    # Surnames follow a steep rank curve in Turkey (Yılmaz, Kaya, Demir ... dominate).
    last_weights = 1.0 / (np.arange(len(last)) + 3.0) ** 0.9
    provinces = pl.Series(list(ref.PROVINCES))
    province_weights = np.array(list(ref.PROVINCES.values()), dtype=float)
    products = _products(rng)
    as_of_s = to_seconds(params.as_of)
    history_start_s = as_of_s - HISTORY_DAYS * DAY
    agents = _agents(rng, person, max(24, params.customers // 2500))
    agents_by_channel = {
        channel: agents.filter(pl.col("channels").list.contains(channel))["agent_id"].to_numpy()
        for channel in config.CHANNELS
    }
    return Reference(
        male=pl.Series(list(person.first_names_male)),
        female=pl.Series(list(person.first_names_female)),
        last=last,
        last_weights=last_weights / last_weights.sum(),
        provinces=provinces,
        province_weights=province_weights / province_weights.sum(),
        products=products,
        product_issues=_product_issues(products, params.as_of),
        agents=agents.drop("channels"),
        agents_by_channel=agents_by_channel,
        category_weights=np.array([0.2, 0.16, 0.18, 0.12, 0.08, 0.08, 0.06, 0.12]),
        day_weight=_purchase_seasonality(history_start_s),
        history_start_s=history_start_s,
        as_of_s=as_of_s,
    )


def _products(rng: np.random.Generator) -> pl.DataFrame:
    rows = []
    product_id = 10_001
    for category, ((low, high), items) in ref.CATALOGUE.items():
        for item in items:
            for brand in ref.BRANDS[:6]:
                price = float(np.exp(rng.uniform(np.log(low), np.log(high))))
                rows.append((product_id, f"{brand} {item}", category, round(price, -1) - 0.1))
                product_id += 1
    return pl.DataFrame(
        rows, schema=["product_id", "name", "category", "list_price_try"], orient="row"
    ).sort(["category", "list_price_try"])


def _product_issues(products: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    rows = []
    for issue_id, (category, item, title, reported_ago, fixed_ago, fix) in enumerate(
        ref.PRODUCT_ISSUES, start=1
    ):
        name = f"{ref.BRANDS[0]} {item}"
        product_id = products.filter(
            (pl.col("category") == category) & (pl.col("name") == name)
        )["product_id"][0]
        fixed = None if fixed_ago is None else (as_of - timedelta(days=fixed_ago)).date()
        rows.append((issue_id, product_id, f"{name}: {title}",
                     (as_of - timedelta(days=reported_ago)).date(), fixed, fix))
    return pl.DataFrame(
        rows,
        schema=["issue_id", "product_id", "title", "reported_at", "fix_shipped_at",
                "fix_description"],
        orient="row",
    )


def _agents(rng: np.random.Generator, person, count: int) -> pl.DataFrame:
    teams = list(ref.TEAMS)
    # Most agents sit in the call centre and digital support, as in the source documents.
    team_idx = rng.choice(len(teams), count, p=[0.4, 0.25, 0.1, 0.1, 0.05, 0.1])
    team_idx[: len(teams)] = np.arange(len(teams))  # every team staffed
    first = np.array(list(person.first_names))[rng.integers(0, len(person.first_names), count)]
    last = np.array(list(person.last_names))[rng.integers(0, len(person.last_names), count)]
    # Technical support also answers chat and e-mail; complaint management takes every channel.
    channels = []
    for index in team_idx:
        team = teams[index]
        served = list(ref.TEAMS[team])
        if team == "Teknik Destek":
            served += ["phone", "email", "web_chat"]
        if team == "Şikayet Yönetimi":
            served = list(config.CHANNELS)
        channels.append(served)
    return pl.DataFrame({
        "agent_id": [f"A{i:04d}" for i in range(1, count + 1)],
        "full_name": [f"{f} {last_name}" for f, last_name in zip(first, last, strict=True)],
        "team": [teams[i] for i in team_idx],
        "channels": channels,
    })


def _purchase_seasonality(history_start_s: int) -> np.ndarray:
    days = np.arange(HISTORY_DAYS + 2)
    dates = np.datetime64("1970-01-01") + (history_start_s // DAY + days).astype("timedelta64[D]")
    month = dates.astype("datetime64[M]").astype(int) % 12 + 1
    day_of_month = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    weekday = (dates.astype(int) + 3) % 7  # 0 = Monday
    month_factor = np.array([1.0, 0.85, 0.9, 0.95, 1.0, 0.9, 0.85, 0.85, 0.95, 1.0, 1.25, 1.4])
    weight = month_factor[month - 1]
    # "Efsane Cuma" (Black Friday) weeks in late November.
    weight = weight * np.where((month == 11) & (day_of_month >= 20), 1.8, 1.0)
    weight = weight * np.where(weekday >= 5, 1.3, 1.0)
    # The business grows about 15% a year.
    return weight * (1.0 + 0.15 * days / 365.0)


def _pick(rng: np.random.Generator, options: list | tuple, weights, size: int) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    return np.asarray(options)[rng.choice(len(options), size, p=weights / weights.sum())]


def _row_choice(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One category index per row from a per-row weight matrix."""
    cumulative = np.cumsum(weights, axis=1)
    draws = rng.random(len(weights)) * cumulative[:, -1]
    return (cumulative < draws[:, None]).sum(axis=1)


def _to_datetime(seconds: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(seconds, dtype=np.int64) * 1000).cast(pl.Datetime("ms"))


@dataclass
class Block:
    customers: pl.DataFrame
    purchases: pl.DataFrame
    complaints: pl.DataFrame
    interactions: pl.DataFrame
    surveys: pl.DataFrame


def generate_block(reference: Reference, params: SeedParams, block: int, start: int,
                   stop: int) -> Block:
    rng = np.random.default_rng([params.seed, block])
    n = stop - start
    customer_id = np.arange(start, stop, dtype=np.int64) + 1_000_001
    tenure_days = HISTORY_DAYS * (1.0 - rng.random(n) ** 0.8)
    signup_s = (reference.as_of_s - tenure_days * DAY).astype(np.int64)
    customers = _customers(rng, reference, customer_id, signup_s)
    purchases = _purchases(rng, reference, customer_id, signup_s, block)
    complaints = _complaints(rng, reference, purchases, customers, block)
    interactions = _interactions(rng, reference, customers, signup_s, purchases, complaints, block)
    surveys = _surveys(rng, reference, purchases, complaints, interactions, block)
    return Block(customers, purchases, complaints, interactions, surveys)


def _customers(rng: np.random.Generator, reference: Reference, customer_id: np.ndarray,
               signup_s: np.ndarray) -> pl.DataFrame:
    n = len(customer_id)
    female = rng.random(n) < 0.5
    first = pl.Series(np.where(
        female,
        reference.female.gather(rng.integers(0, len(reference.female), n)).to_numpy(),
        reference.male.gather(rng.integers(0, len(reference.male), n)).to_numpy(),
    ))
    second = reference.female.gather(rng.integers(0, len(reference.female), n))
    last = reference.last.gather(rng.choice(len(reference.last), n, p=reference.last_weights))
    two_first_names = pl.Series(rng.random(n) < 0.08)
    province = reference.provinces.gather(
        rng.choice(len(reference.provinces), n, p=reference.province_weights))
    national = pl.Series(
        _pick(rng, ref.MOBILE_PREFIXES, np.ones(len(ref.MOBILE_PREFIXES)), n)
    ) + pl.Series(rng.integers(0, 10_000_000, n)).cast(pl.String).str.zfill(7)
    age_years = np.clip(rng.normal(40, 13, n), 18, 85)
    birth_s = reference.as_of_s - (age_years * 365.25 * DAY).astype(np.int64)
    preferred = _pick(rng, list(ref.CHANNEL_MIX)[:6], [0.4, 0.25, 0.12, 0.08, 0.1, 0.05], n)
    language = _pick(rng, config.LANGUAGES, [0.94, 0.03, 0.015, 0.01, 0.005], n)
    frame = pl.DataFrame({
        "customer_id": customer_id,
        "first": first, "second": second, "last": last, "two": two_first_names,
        "national": national,
        "city": province,
        "birth_date": _to_datetime(birth_s).dt.date(),
        "signup_at": _to_datetime(signup_s),
        "preferred_channel": preferred,
        "language": language,
        "phone_style": rng.integers(0, 7, n),
        "email_style": rng.random(n),
        "email_domain": _pick(rng, ref.EMAIL_DOMAINS, [0.45, 0.2, 0.12, 0.08, 0.08, 0.07], n),
        "email_number": rng.integers(1, 999, n),
        "name_caps": rng.random(n) < 0.03,
        "phone_missing": rng.random(n) < 0.02,
        "birth_missing": rng.random(n) < 0.1,
    })
    frame = frame.with_columns(_consent_columns(rng, signup_s, reference.as_of_s))
    return frame.select(
        "customer_id",
        _full_name().alias("full_name"),
        _email().alias("email"),
        pl.when(pl.col("phone_missing")).then(None).otherwise(_typed_phone()).alias("phone"),
        "city",
        pl.when(pl.col("birth_missing")).then(None).otherwise(pl.col("birth_date"))
        .alias("birth_date"),
        pl.col("signup_at").dt.date().alias("signup_date"),
        "preferred_channel",
        "language",
        pl.col("^consent_.*$"),
        "do_not_contact",
        "do_not_contact_at",
        # Kept for later blocks of generation, dropped before writing.
        pl.col("national").alias("_national"),
    )


def _full_name() -> pl.Expr:
    given = pl.when(pl.col("two")).then(pl.col("first") + " " + pl.col("second")).otherwise(
        pl.col("first"))
    name = given + " " + pl.col("last")
    # A few records were typed in capitals, the Turkish way (i -> İ, ı -> I).
    caps = name.str.replace_many(["i", "ı"], ["İ", "I"]).str.to_uppercase()
    return pl.when(pl.col("name_caps")).then(caps).otherwise(name)


_FOLD_FROM = list("İIıŞşĞğÇçÖöÜü")
_FOLD_TO = list("iiissggccoouu")


def _email() -> pl.Expr:
    local = (
        pl.col("first").str.replace_many(_FOLD_FROM, _FOLD_TO).str.to_lowercase() + "."
        + pl.col("last").str.replace_many(_FOLD_FROM, _FOLD_TO).str.to_lowercase()
        + pl.col("email_number").cast(pl.String)
    )
    email = local + "@" + pl.col("email_domain")
    style = pl.col("email_style")
    return (
        pl.when(style < 0.03).then(None)
        .when(style < 0.08).then(email.str.to_uppercase())
        .when(style < 0.12).then("  " + email + " ")
        .otherwise(email)
    )


def _typed_phone() -> pl.Expr:
    s = pl.col("national")
    a, b, c, d = s.str.slice(0, 3), s.str.slice(3, 3), s.str.slice(6, 2), s.str.slice(8, 2)
    style = pl.col("phone_style")
    return (
        pl.when(style == 0).then("+90 " + a + " " + b + " " + c + " " + d)
        .when(style == 1).then("0" + a + " " + b + " " + c + d)
        .when(style == 2).then(s)
        .when(style == 3).then("0" + a + "-" + b + "-" + c + "-" + d)
        .when(style == 4).then("(0" + a + ") " + b + " " + c + " " + d)
        .when(style == 5).then("+90" + s)
        .otherwise(a + "." + b + "." + c + "." + d)
    )


def _consent_columns(rng: np.random.Generator, signup_s: np.ndarray, as_of_s: int) -> list:
    """Consent per channel, given at or after sign-up, some later withdrawn."""
    n = len(signup_s)
    columns = []
    for channel, given_share in (("email", 0.55), ("sms", 0.45), ("phone", 0.3)):
        given = rng.random(n) < given_share
        given_s = signup_s + (rng.random(n) * np.minimum(30, (as_of_s - signup_s) / DAY) * DAY)
        withdrawn = given & (rng.random(n) < 0.1)
        withdrawn_s = given_s + rng.random(n) * (as_of_s - given_s)
        recorded = rng.random(n) < 0.9  # some customers never answered: no date, no consent
        at_s = np.where(withdrawn, withdrawn_s, given_s).astype(np.int64)
        columns.append(pl.Series(f"consent_{channel}", given & ~withdrawn))
        columns.append(
            pl.Series(f"consent_{channel}_at", _to_datetime(at_s).dt.date())
            .set(pl.Series(~(given | recorded)), None)
        )
    dnc = rng.random(n) < 0.03
    dnc_s = (signup_s + rng.random(n) * (as_of_s - signup_s)).astype(np.int64)
    columns.append(pl.Series("do_not_contact", dnc))
    columns.append(pl.Series("do_not_contact_at", _to_datetime(dnc_s).dt.date()).set(
        pl.Series(~dnc), None))
    return columns


def _day_start(seconds: np.ndarray) -> np.ndarray:
    return seconds - seconds % DAY


def _purchases(rng: np.random.Generator, reference: Reference, customer_id: np.ndarray,
               signup_s: np.ndarray, block: int) -> pl.DataFrame:
    n = len(customer_id)
    # BG/NBD-like behaviour: Poisson purchases at a gamma-distributed rate until a
    # beta-distributed drop-out after some purchase.
    rate_per_day = rng.gamma(0.8, 14.0 / 0.8, n) / 365.0
    drop_out = rng.beta(1.0, 8.0, n)
    buyer = rng.random(n) < 0.87
    repeat_limit = rng.geometric(drop_out) - 1
    span_days = (reference.as_of_s - signup_s) / DAY
    weight_max = reference.day_weight.max()
    candidates = rng.poisson(rate_per_day * span_days * weight_max) * buyer
    owner = np.repeat(np.arange(n), candidates)
    moment = signup_s[owner] + (rng.random(len(owner)) * span_days[owner] * DAY).astype(np.int64)
    day = (moment - reference.history_start_s) // DAY
    accepted = rng.random(len(owner)) < reference.day_weight[day] / weight_max
    owner, moment = owner[accepted], moment[accepted]
    order = np.lexsort((moment, owner))
    owner, moment = owner[order], moment[order]
    first_row = np.searchsorted(owner, np.arange(n))
    rank = np.arange(len(owner)) - first_row[owner]
    keep = rank < repeat_limit[owner]
    owner = np.concatenate([np.flatnonzero(buyer), owner[keep]])
    first_s = signup_s[buyer] + rng.integers(0, 3 * DAY, buyer.sum())
    moment = np.concatenate([first_s, moment[keep]])
    # Shoppers buy in the evening more than at night.
    hour_weights = np.array([1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1.2, 2, 3, 4, 4.5, 5, 5, 4.8, 4.6,
                             4.6, 4.8, 5, 5.5, 6.5, 7, 5.5, 3])
    hours = rng.choice(24, len(owner), p=hour_weights / hour_weights.sum())
    moment = _day_start(moment) + hours * 3600 + rng.integers(0, 3600, len(owner))
    in_range = moment <= reference.as_of_s
    owner, moment = owner[in_range], moment[in_range]
    m = len(owner)

    # Gamma-gamma spend: each customer has a mean order value, orders scatter around it.
    spend_level = rng.lognormal(np.log(420.0), 0.75, n)
    favourite = rng.choice(8, n, p=reference.category_weights)
    category = np.where(rng.random(m) < 0.55, favourite[owner],
                        rng.choice(8, m, p=reference.category_weights))
    quantity = rng.choice([1, 2, 3, 4, 5], m, p=[0.74, 0.17, 0.05, 0.025, 0.015])
    target_unit = rng.gamma(5.0, spend_level[owner] / 5.0) / quantity
    product_idx = _nearest_product(reference, category, target_unit)
    product_idx = _steer_to_defects(rng, reference, product_idx, moment)
    products = reference.products
    list_price = products["list_price_try"].to_numpy()[product_idx]
    discount = rng.choice([0.0, 0.1, 0.2, 0.3], m, p=[0.7, 0.15, 0.1, 0.05])
    sales_channel = np.asarray(config.SALES_CHANNELS)[
        np.where(rng.random(m) < 0.7, rng.choice(3, n, p=[0.62, 0.3, 0.08])[owner],
                 rng.choice(3, m, p=[0.62, 0.3, 0.08]))]
    status = _pick(rng, config.PURCHASE_STATUSES, [0.91, 0.05, 0.04], m)
    return pl.DataFrame({
        "order_id": block * 100_000_000 + np.arange(m, dtype=np.int64) + 50_000_001,
        "customer_id": customer_id[owner],
        "ordered_at": _to_datetime(moment),
        "product_id": products["product_id"].to_numpy()[product_idx],
        "category": products["category"].to_numpy()[product_idx],
        "quantity": quantity.astype(np.int32),
        "net_amount_try": np.round(list_price * quantity * (1 - discount), 2),
        "sales_channel": sales_channel,
        "status": status,
    })


def _nearest_product(reference: Reference, category: np.ndarray,
                     target_unit: np.ndarray) -> np.ndarray:
    products = reference.products  # sorted by category, then price
    names = list(ref.CATALOGUE)
    code = products["category"].replace_strict(names, list(range(len(names)))).to_numpy()
    key = code * 1e7 + products["list_price_try"].to_numpy()
    position = np.searchsorted(key, category * 1e7 + target_unit)
    first = np.searchsorted(code, category)
    last = np.searchsorted(code, category, side="right") - 1
    return np.clip(position, first, last)


def _steer_to_defects(rng: np.random.Generator, reference: Reference, product_idx: np.ndarray,
                      moment: np.ndarray) -> np.ndarray:
    """Some buyers of a defective product's category bought that very model in its window."""
    products = reference.products
    categories = products["category"].to_numpy()
    ids = products["product_id"].to_numpy()
    for issue in reference.product_issues.iter_rows(named=True):
        defect_idx = int(np.flatnonzero(ids == issue["product_id"])[0])
        window_start = to_seconds(datetime.combine(issue["reported_at"], datetime.min.time())) \
            - 120 * DAY
        steer = (
            (categories[product_idx] == categories[defect_idx])
            & (moment >= window_start)
            & (rng.random(len(product_idx)) < 0.06)
        )
        product_idx = np.where(steer, defect_idx, product_idx)
    return product_idx


def _complaints(rng: np.random.Generator, reference: Reference, purchases: pl.DataFrame,
                customers: pl.DataFrame, block: int) -> pl.DataFrame:
    ordered_s = purchases["ordered_at"].dt.epoch("s").to_numpy()
    m = len(ordered_s)
    channel = purchases["sales_channel"].to_numpy()
    base = np.select([channel == "online", channel == "store"], [0.09, 0.05], 0.07)
    defect = _in_defect_window(reference, purchases, ordered_s)
    chance = base + np.where(defect, 0.4, 0.0) + np.where(purchases["status"] == "returned",
                                                          0.15, 0.0)
    picked = np.flatnonzero(rng.random(m) < chance)
    k = len(picked)
    progress = (ordered_s[picked] - reference.history_start_s) / (HISTORY_DAYS * DAY)
    online = (channel[picked] == "online").astype(float)
    returned = (purchases["status"].to_numpy()[picked] == "returned").astype(float)
    categories = list(config.COMPLAINT_CATEGORIES)
    weights = np.column_stack([
        0.12 + 0.2 * online,                      # late_delivery
        0.14 + 5.0 * defect[picked],              # defective_product
        0.05 + 0.14 * progress**2,                # out_of_stock: the rising weak point
        np.full(k, 0.1),                          # billing_error
        0.02 + 0.1 * (1 - online),                # rude_staff
        0.03 + 0.07 * online,                     # wrong_item
        0.02 + 0.5 * returned,                    # refund_delay
        np.full(k, 0.08),                         # technical_issue
    ])
    category = np.asarray(categories)[_row_choice(rng, weights)]
    opened_s = ordered_s[picked] + (rng.lognormal(np.log(2.5), 0.8, k) * DAY).astype(np.int64)
    opened_s = _day_start(opened_s) + rng.integers(8 * 3600, 22 * 3600, k)
    preferred = customers["preferred_channel"].to_numpy()
    owner = np.searchsorted(customers["customer_id"].to_numpy(),
                            purchases["customer_id"].to_numpy()[picked])
    complaint_channel = np.where(
        rng.random(k) < 0.5, preferred[owner],
        _pick(rng, ["phone", "email", "social", "web_chat", "post", "in_person"],
              [0.4, 0.25, 0.12, 0.15, 0.03, 0.05], k))
    severity = _pick(rng, config.COMPLAINT_SEVERITIES, [0.4, 0.35, 0.2, 0.05], k)
    # Weekend complaints wait longer; about one in eight misses the 24-hour promise.
    weekend = ((opened_s // DAY + 3) % 7) >= 5
    response_h = rng.lognormal(np.log(4.5), 1.1, k) + np.where(weekend, 20.0, 0.0) * (
        rng.random(k) < 0.4)
    first_response_s = opened_s + (response_h * 3600).astype(np.int64)
    at_first_contact = rng.random(k) < 0.35
    resolution_h = np.where(at_first_contact, 0.0, rng.lognormal(np.log(60.0), 0.9, k))
    resolved_s = first_response_s + (resolution_h * 3600).astype(np.int64)
    as_of = reference.as_of_s
    opened_ok = opened_s <= as_of
    answered = first_response_s <= as_of
    resolved = answered & (resolved_s <= as_of)
    status = np.where(resolved, "resolved", np.where(answered, "in_progress", "open"))
    resolution = pl.Series(category).replace_strict(
        {c: text[1] for c, text in ref.COMPLAINT_TEXT.items()})
    description = pl.Series(category).replace_strict(
        {c: text[0] for c, text in ref.COMPLAINT_TEXT.items()})
    slow = response_h > config.RESPONSE_PROMISE_HOURS
    satisfaction = np.clip(np.round(rng.normal(4.1 - 1.6 * slow - 0.6 * (resolution_h > 120), 1.0)),
                           1, 5)
    refund = np.where(np.isin(category, ["billing_error", "refund_delay", "defective_product"]),
                      np.round(purchases["net_amount_try"].to_numpy()[picked]
                               * rng.uniform(0.1, 1.0, k), 2), np.nan)
    product_related = np.isin(category, ["defective_product", "wrong_item", "out_of_stock",
                                         "late_delivery", "refund_delay"])
    frame = pl.DataFrame({
        "complaint_id": block * 10_000_000 + np.arange(k, dtype=np.int64) + 1,
        "customer_id": purchases["customer_id"].to_numpy()[picked],
        "opened_at": _to_datetime(opened_s),
        "channel": complaint_channel,
        "category": category,
        "severity": severity,
        "product_id": pl.Series(purchases["product_id"].to_numpy()[picked]).set(
            pl.Series(~product_related), None),
        "first_response_at": _to_datetime(first_response_s).set(pl.Series(~answered), None),
        "resolved_at": _to_datetime(resolved_s).set(pl.Series(~resolved), None),
        "status": status,
        "resolution": resolution.set(pl.Series(~resolved), None),
        "satisfaction_after": pl.Series(satisfaction.astype(np.int32)).set(
            pl.Series(~(resolved & (rng.random(k) < 0.45))), None),
        "refund_amount_try": pl.Series(refund).fill_nan(None).set(pl.Series(~resolved), None),
        "description": description,
        "_resolved_at_first_contact": at_first_contact,
    })
    return frame.filter(pl.Series(opened_ok))


def _in_defect_window(reference: Reference, purchases: pl.DataFrame,
                      ordered_s: np.ndarray) -> np.ndarray:
    defect = np.zeros(len(ordered_s), dtype=bool)
    product_id = purchases["product_id"].to_numpy()
    for issue in reference.product_issues.iter_rows(named=True):
        fixed = issue["fix_shipped_at"]
        end = reference.as_of_s if fixed is None else to_seconds(
            datetime.combine(fixed, datetime.min.time()))
        defect |= (product_id == issue["product_id"]) & (ordered_s <= end)
    return defect


def _interactions(rng: np.random.Generator, reference: Reference, customers: pl.DataFrame,
                  signup_s: np.ndarray, purchases: pl.DataFrame, complaints: pl.DataFrame,
                  block: int) -> pl.DataFrame:
    n = len(signup_s)
    customer_id = customers["customer_id"].to_numpy()
    preferred = customers["preferred_channel"].to_numpy()
    span = reference.as_of_s - signup_s
    # Everyday service contacts at a per-customer rate.
    rate_per_day = rng.gamma(1.3, 20.0 / 1.3, n) / 365.0
    count = rng.poisson(rate_per_day * span / DAY)
    owner = np.repeat(np.arange(n), count)
    moment = signup_s[owner] + (rng.random(len(owner)) * span[owner]).astype(np.int64)
    moment = _day_start(moment) + rng.integers(8 * 3600, 22 * 3600, len(owner))
    keep = moment <= reference.as_of_s
    owner, moment = owner[keep], moment[keep]
    b = len(owner)
    topics = list(ref.TOPIC_WEIGHTS)
    background = pl.DataFrame({
        "customer_id": customer_id[owner],
        "started_at_s": moment,
        "channel": np.where(rng.random(b) < 0.4, preferred[owner],
                            _pick(rng, list(ref.CHANNEL_MIX), list(ref.CHANNEL_MIX.values()), b)),
        "direction": np.where(rng.random(b) < 0.85, "inbound", "outbound"),
        "topic": _pick(rng, topics, list(ref.TOPIC_WEIGHTS.values()), b),
        "resolved_on_first_contact": rng.random(b) < 0.78,
        "service_quality": np.zeros(b),
    })
    frames = [background, _complaint_contacts(rng, complaints)]
    # Some orders bring a "where is my order" contact a day or two later.
    asked = purchases.filter(pl.Series(rng.random(len(purchases)) < 0.15))
    a = len(asked)
    frames.append(pl.DataFrame({
        "customer_id": asked["customer_id"],
        "started_at_s": asked["ordered_at"].dt.epoch("s") + rng.integers(DAY, 3 * DAY, a),
        "channel": _pick(rng, ["phone", "web_chat", "email", "sms"], [0.45, 0.3, 0.15, 0.1], a),
        "direction": np.full(a, "inbound"),
        "topic": np.full(a, "order_status"),
        "resolved_on_first_contact": rng.random(a) < 0.85,
        "service_quality": np.zeros(a),
    }))
    frame = pl.concat(frames).filter(pl.col("started_at_s") <= reference.as_of_s)
    return _interaction_details(rng, reference, frame, block)


def _complaint_contacts(rng: np.random.Generator, complaints: pl.DataFrame) -> pl.DataFrame:
    """The contact that opened each complaint, the company's answer, and some chasers."""
    k = len(complaints)
    opened = complaints["opened_at"].dt.epoch("s")
    slow = (complaints["first_response_at"] - complaints["opened_at"]).dt.total_hours() \
        .fill_null(999) > 24
    opening = pl.DataFrame({
        "customer_id": complaints["customer_id"],
        "started_at_s": opened,
        "channel": complaints["channel"],
        "direction": np.full(k, "inbound"),
        "topic": np.full(k, "complaint"),
        "resolved_on_first_contact": complaints["_resolved_at_first_contact"],
        "service_quality": -1.0 - slow.cast(pl.Float64),
    })
    answered = complaints.filter(pl.col("first_response_at").is_not_null())
    a = len(answered)
    answer = pl.DataFrame({
        "customer_id": answered["customer_id"],
        "started_at_s": answered["first_response_at"].dt.epoch("s"),
        "channel": np.where(answered["channel"].is_in(["email", "social", "web_chat"]).to_numpy(),
                            answered["channel"].to_numpy(), "phone"),
        "direction": np.full(a, "outbound"),
        "topic": np.full(a, "complaint_followup"),
        "resolved_on_first_contact": answered["_resolved_at_first_contact"],
        "service_quality": np.full(a, -0.5),
    })
    chasers = complaints.filter(pl.Series(rng.random(k) < 0.4))
    c = len(chasers)
    chase = pl.DataFrame({
        "customer_id": chasers["customer_id"],
        "started_at_s": chasers["opened_at"].dt.epoch("s") + rng.integers(DAY, 5 * DAY, c),
        "channel": chasers["channel"],
        "direction": np.full(c, "inbound"),
        "topic": np.full(c, "complaint_followup"),
        "resolved_on_first_contact": rng.random(c) < 0.4,
        "service_quality": np.full(c, -1.5),
    })
    return pl.concat([opening, answer, chase])


def _interaction_details(rng: np.random.Generator, reference: Reference, frame: pl.DataFrame,
                         block: int) -> pl.DataFrame:
    frame = frame.sort(["customer_id", "started_at_s"])
    m = len(frame)
    channel = frame["channel"].to_numpy()
    agent = np.empty(m, dtype=object)
    for name in config.CHANNELS:
        rows = np.flatnonzero(channel == name)
        pool = reference.agents_by_channel[name]
        agent[rows] = pool[rng.integers(0, len(pool), len(rows))]
    median_seconds = {"phone": 240, "email": 300, "web_chat": 480, "social": 180, "sms": 60,
                      "in_person": 600, "post": 900}
    median = pl.Series(channel).replace_strict(median_seconds).to_numpy().astype(float)
    duration = np.round(rng.lognormal(np.log(median), 0.6)).astype(np.int32)
    quality = frame["service_quality"].to_numpy()
    csat = np.clip(np.round(rng.normal(4.2 + 0.9 * quality, 1.0)), 1, 5).astype(np.int32)
    answered = rng.random(m) < 0.22
    notes = frame["topic"].replace_strict(ref.TOPICS)
    return pl.DataFrame({
        "interaction_id": block * 100_000_000 + np.arange(m, dtype=np.int64) + 1,
        "customer_id": frame["customer_id"],
        "started_at": _to_datetime(frame["started_at_s"].to_numpy()),
        "channel": channel,
        "direction": frame["direction"],
        "topic": frame["topic"],
        "agent_id": agent.astype(str),
        "duration_seconds": duration,
        "resolved_on_first_contact": frame["resolved_on_first_contact"],
        "csat": pl.Series(csat).set(pl.Series(~answered), None),
        "notes": notes,
        "_quality": quality,
    })


def _surveys(rng: np.random.Generator, reference: Reference, purchases: pl.DataFrame,
             complaints: pl.DataFrame, interactions: pl.DataFrame, block: int) -> pl.DataFrame:
    """NPS answers after purchases, deliveries, support calls and resolved complaints."""
    sources = []
    bought = purchases.filter((pl.col("status") == "completed")
                              & pl.Series(rng.random(len(purchases)) < 0.18))
    sources.append(pl.DataFrame({
        "customer_id": bought["customer_id"],
        "responded_s": bought["ordered_at"].dt.epoch("s") + rng.integers(DAY, 6 * DAY, len(bought)),
        "touchpoint": _pick(rng, ["purchase", "delivery", "store_visit"], [0.5, 0.35, 0.15],
                            len(bought)),
        "mood": np.zeros(len(bought)),
    }))
    helped = interactions.filter(pl.Series(rng.random(len(interactions)) < 0.04))
    sources.append(pl.DataFrame({
        "customer_id": helped["customer_id"],
        "responded_s": helped["started_at"].dt.epoch("s") + rng.integers(3600, DAY, len(helped)),
        "touchpoint": np.full(len(helped), "support_call"),
        "mood": helped["_quality"].to_numpy(),
    }))
    closed = complaints.filter(pl.col("resolved_at").is_not_null()
                               & pl.Series(rng.random(len(complaints)) < 0.3))
    slow = ((closed["first_response_at"] - closed["opened_at"]).dt.total_hours() > 24)
    sources.append(pl.DataFrame({
        "customer_id": closed["customer_id"],
        "responded_s": closed["resolved_at"].dt.epoch("s") + rng.integers(3600, 3 * DAY,
                                                                             len(closed)),
        "touchpoint": np.full(len(closed), "complaint_resolution"),
        "mood": -1.0 - 2.0 * slow.cast(pl.Float64).to_numpy(),
    }))
    frame = pl.concat(sources).filter(pl.col("responded_s") <= reference.as_of_s)
    m = len(frame)
    score = np.clip(np.round(rng.normal(8.3 + 1.6 * frame["mood"].to_numpy(), 2.0)), 0, 10)
    score = score.astype(np.int32)
    kind = np.where(score >= 9, "promoter", np.where(score >= 7, "passive", "detractor"))
    comment_idx = rng.integers(0, 3, m)
    comments = np.array([ref.SURVEY_COMMENTS[k][i] for k in ("promoter", "passive", "detractor")
                         for i in range(3)])
    kind_idx = np.select([kind == "promoter", kind == "passive"], [0, 1], 2)
    comment = pl.Series(comments[kind_idx * 3 + comment_idx]).set(
        pl.Series(rng.random(m) < 0.6), None)
    return pl.DataFrame({
        "survey_id": block * 10_000_000 + np.arange(m, dtype=np.int64) + 1,
        "customer_id": frame["customer_id"],
        "responded_at": _to_datetime(frame["responded_s"].to_numpy()),
        "touchpoint": frame["touchpoint"],
        "nps_score": score,
        "comment": comment,
    }).sort(["responded_at", "survey_id"])
