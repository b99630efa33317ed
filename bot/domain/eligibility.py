"""Who may rate a round, per the SPEC rules, with the reason each buyer is left out."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.settings import EligibilityConfig, Scope
from storage.db import Database
from storage.models import AccountLink, Customer, Product, Purchase
from storage.statuses import PurchaseStatus


class Exclusion(StrEnum):
    """Why a buyer is left out of a round; each is counted under the first rule they fail, in this order."""

    REFUNDED_OR_CANCELLED = "refunded_or_cancelled"  # no paid purchase
    PURCHASE_TOO_OLD = "purchase_too_old"  # none within purchase_window_days
    OWNED_TOO_BRIEFLY = "owned_too_briefly"  # none at least min_ownership_days old
    NO_LINKED_ACCOUNT = "no_linked_account"
    INACTIVE = "inactive"
    OPTED_OUT = "opted_out"
    EXCLUDED_BY_ADMIN = "excluded_by_admin"


@dataclass(frozen=True)
class Candidate:
    customer_id: str
    telegram_user_id: int
    purchased_at: datetime


@dataclass
class Eligibility:
    eligible: list[Candidate] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=lambda: dict.fromkeys(Exclusion, 0))

    @property
    def buyers(self) -> int:
        return len(self.eligible) + sum(self.excluded.values())


async def eligible_purchasers(
    s: AsyncSession, product: Product, opens_at: datetime, rules: EligibilityConfig
) -> Eligibility:
    """Buyers of the product (or its category) classified against every rule at `opens_at`."""
    scope = (
        Purchase.sku.in_(select(Product.sku).where(Product.category_key == product.category_key))
        if rules.scope is Scope.CATEGORY
        else Purchase.sku == product.sku
    )
    rows = await s.execute(
        select(
            Purchase.customer_id, Purchase.purchased_at, Purchase.status, Customer.last_active_at,
            Customer.opted_out, Customer.excluded_by_admin, Customer.forgotten_at,
            AccountLink.telegram_user_id,
        )
        .join(Customer, Customer.customer_id == Purchase.customer_id)
        .outerjoin(AccountLink, AccountLink.customer_id == Purchase.customer_id)
        .where(scope)
    )
    by_customer: dict[str, list[tuple[datetime, PurchaseStatus]]] = defaultdict(list)
    people: dict[str, tuple[datetime | None, bool, bool, datetime | None, int | None]] = {}
    for cid, bought, status, active, opted, excluded, forgotten, linked_tg in rows:
        by_customer[cid].append((bought, status))
        people[cid] = (active, opted, excluded, forgotten, linked_tg)

    window_start = opens_at - timedelta(days=rules.purchase_window_days)
    latest_ok = opens_at - timedelta(days=rules.min_ownership_days)
    active_since = opens_at - timedelta(days=rules.active_within_days)
    result = Eligibility()
    for cid in sorted(by_customer):
        paid = [bought for bought, status in by_customer[cid] if status == PurchaseStatus.PAID and bought <= opens_at]
        active, opted, excluded, forgotten, tg = people[cid]
        in_window = [b for b in paid if b >= window_start]
        owned = [b for b in in_window if b <= latest_ok]
        reason = (
            Exclusion.REFUNDED_OR_CANCELLED if not paid
            else Exclusion.PURCHASE_TOO_OLD if not in_window
            else Exclusion.OWNED_TOO_BRIEFLY if not owned
            else Exclusion.NO_LINKED_ACCOUNT if tg is None or forgotten is not None
            else Exclusion.INACTIVE if active is None or active < active_since
            else Exclusion.OPTED_OUT if opted
            else Exclusion.EXCLUDED_BY_ADMIN if excluded
            else None
        )
        if reason is None and tg is not None:
            result.eligible.append(Candidate(cid, tg, max(owned)))
        else:
            result.excluded[reason or Exclusion.NO_LINKED_ACCOUNT] += 1
    return result


def stratified_sample(candidates: list[Candidate], quota: int, seed: int, strata: int = 4) -> list[Candidate]:
    """A reproducible random sample of `quota`, proportional across purchase-recency strata.

    Stratifying keeps recent and long-time owners in the sample in the same shares as among all
    eligible buyers, so a lucky draw cannot tilt a round toward first impressions or toward veterans.
    """
    if len(candidates) <= quota:
        return list(candidates)
    ordered = sorted(candidates, key=lambda c: (c.purchased_at, c.customer_id))
    rng = random.Random(seed)
    size = len(ordered)
    bounds = [round(i * size / strata) for i in range(strata + 1)]
    groups = [ordered[bounds[i]:bounds[i + 1]] for i in range(strata)]
    shares = [quota * len(g) / size for g in groups]
    takes = [int(x) for x in shares]
    # Largest remainders get the seats left over by rounding down.
    for i in sorted(range(strata), key=lambda i: shares[i] - takes[i], reverse=True)[: quota - sum(takes)]:
        takes[i] += 1
    picked: list[Candidate] = []
    for group, take in zip(groups, takes, strict=True):
        picked.extend(rng.sample(group, take))
    return picked


@dataclass(frozen=True)
class ProductStanding:
    sku: str
    name: str
    popularity: int
    sales_volume: int
    problems: tuple[Shortfall, ...]

    @property
    def eligible(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Shortfall:
    """A product threshold missed: the measure ("popularity" or "sales"), the product's value, the minimum.
    Each language words it (`shortfall.*` texts); `str` is the terminal's short English form."""

    measure: str
    value: int
    minimum: int

    def __str__(self) -> str:
        return f"{self.measure} {self.value} < {self.minimum}"


def product_problems(product: Product, rules: EligibilityConfig) -> tuple[Shortfall, ...]:
    """Which SPEC product thresholds the product misses, each with its numbers; empty when eligible."""
    problems = []
    if product.popularity < rules.product_min_popularity:
        problems.append(Shortfall("popularity", product.popularity, rules.product_min_popularity))
    if product.sales_volume < rules.product_min_sales:
        problems.append(Shortfall("sales", product.sales_volume, rules.product_min_sales))
    return tuple(problems)


async def rank_products(
    db: Database, rules: EligibilityConfig, *, eligible_only: bool = False
) -> list[ProductStanding]:
    """Products ranked by popularity, then sales, each judged against the thresholds."""
    async with db.session() as s:
        products = await s.scalars(
            select(Product).order_by(Product.popularity.desc(), Product.sales_volume.desc(), Product.sku)
        )
        ranked = [ProductStanding(p.sku, p.name, p.popularity, p.sales_volume, product_problems(p, rules))
                  for p in products]
    return [p for p in ranked if p.eligible or not eligible_only]
