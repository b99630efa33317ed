"""What shoppers may see: published scorecards, a product's history, honest rankings, comparisons, search.

Everything here reads only rounds that were published with a score (status `published`): an
insufficient round has no number to show, and nothing here ever shows who rated — only the counts
and intervals the scorecard itself publishes, whose factor minimums (`scoring.min_factor_n`) keep
small groups from being singled out.

Rankings compare like with like: a product is ranked on its latest published round, and only
against products whose latest round rated the same factor set (the report's `factor_set`, or its
factor keys for rounds from before factor sets were versioned).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.domain.errors import UnknownProduct, UnknownRound
from bot.domain.runtime import Runtime
from bot.domain.words import Bilingual
from scoring.ranking import Place, Scored, Verdict, compare, rank
from storage.models import Category, Product, Round, ScorecardPhoto
from storage.statuses import RoundStatus


@dataclass(frozen=True)
class Card:
    """One published scorecard, as shoppers see it."""

    round_id: int
    sku: str
    product: str
    category: str
    category_name: Bilingual
    published_at: datetime | None
    report: Mapping[str, Any]

    @property
    def factor_set(self) -> str:
        """What the round rated: its factor-set version when the report names one, else its factor keys."""
        named = self.report.get("factor_set")
        if named is not None:
            return str(named)
        return ",".join(str(f["key"]) for f in self.report.get("factors", []))

    @property
    def overall(self) -> Scored | None:
        return _scored(self.sku, self.report.get("overall") or {})

    def factor(self, key: str) -> Scored | None:
        for f in self.report.get("factors", []):
            if f.get("key") == key:
                return _scored(self.sku, f)
        return None

    def factor_label(self, key: str, lang: str) -> str:
        for f in self.report.get("factors", []):
            if f.get("key") == key:
                return Bilingual.of(f, "label")(lang) or key
        return key


def _scored(key: str, part: Mapping[str, Any]) -> Scored | None:
    score, ci = part.get("score"), part.get("ci")
    if score is None or not ci:
        return None
    return Scored(key, float(score), (float(ci[0]), float(ci[1])))


async def _cards(rt: Runtime, *, sku: str | None = None, category: str | None = None,
                 round_id: int | None = None) -> list[Card]:
    """Published rounds, newest first, optionally of one product or one category."""
    query = (
        select(Round, Product.name, Category.key, Category.name_en, Category.name_zh)
        .join(Product, Product.sku == Round.sku)
        .join(Category, Category.key == Round.category_key)
        .where(Round.status == RoundStatus.PUBLISHED, Round.report.is_not(None))
        .order_by(Round.closed_at.desc(), Round.id.desc())
    )
    if sku is not None:
        query = query.where(Round.sku == sku)
    if category is not None:
        query = query.where(Round.category_key == category)
    if round_id is not None:
        query = query.where(Round.id == round_id)
    async with rt.db.session() as s:
        rows = (await s.execute(query)).all()
    return [Card(rnd.id, rnd.sku, name, key, Bilingual(name_en, name_zh), rnd.published_at, rnd.report or {})
            for rnd, name, key, name_en, name_zh in rows]


def _latest_per_product(cards: Sequence[Card]) -> list[Card]:
    seen: dict[str, Card] = {}
    for card in cards:  # newest first: the first of each product is its latest
        seen.setdefault(card.sku, card)
    return list(seen.values())


async def latest(rt: Runtime, *, category: str | None = None) -> list[Card]:
    """Each product's latest published scorecard, by product name."""
    return sorted(_latest_per_product(await _cards(rt, category=category)), key=lambda c: (c.product, c.sku))


async def published(rt: Runtime, round_id: int) -> Card:
    """One published scorecard by its round; UnknownRound when that round has none to show."""
    found = await _cards(rt, round_id=round_id)
    if not found:
        raise UnknownRound(round_id=round_id)
    return found[0]


async def latest_of(rt: Runtime, sku: str) -> Card | None:
    """A product's latest published scorecard (None before its first); UnknownProduct if no such product."""
    found = await history(rt, sku)
    return found[-1] if found else None


async def history(rt: Runtime, sku: str) -> list[Card]:
    """A product's published scorecards, oldest first; UnknownProduct when there is no such product."""
    async with rt.db.session() as s:
        if await s.get(Product, sku) is None:
            raise UnknownProduct(sku=sku)
    return list(reversed(await _cards(rt, sku=sku)))


@dataclass(frozen=True)
class CategoryShelf:
    key: str
    name: Bilingual
    products: int
    any_round: int  # a published round of the category: what a button names it by


async def categories(rt: Runtime) -> list[CategoryShelf]:
    """Categories with at least one published scorecard, and how many products each has."""
    counts: dict[str, int] = {}
    first: dict[str, Card] = {}
    for card in _latest_per_product(await _cards(rt)):
        counts[card.category] = counts.get(card.category, 0) + 1
        first.setdefault(card.category, card)
    return sorted((CategoryShelf(k, first[k].category_name, n, first[k].round_id)
                   for k, n in counts.items()), key=lambda c: c.key)


@dataclass(frozen=True)
class Ranking:
    """A category's products ranked on the overall or one factor, with bands for ties."""

    category: str
    factor: str | None
    places: list[Place]
    cards: dict[str, Card]
    # Products left out because their latest round rated another factor set (or lacked the factor).
    left_out: int


async def ranking(rt: Runtime, category: str, factor: str | None = None) -> Ranking:
    """The category's products on their latest published round, on the factor set most of them share
    (the newest such set breaks a tie), ranked with bands where intervals overlap."""
    cards = _latest_per_product(await _cards(rt, category=category))
    by_set: dict[str, list[Card]] = {}
    for card in cards:  # newest first, so each set's first card is its newest
        by_set.setdefault(card.factor_set, []).append(card)
    chosen = max(by_set.values(), key=len, default=[])
    scored = [(c, c.overall if factor is None else c.factor(factor)) for c in chosen]
    kept = {c.sku: c for c, s in scored if s is not None}
    places = rank([s for _, s in scored if s is not None])
    return Ranking(category, factor, places, kept, len(cards) - len(kept))


@dataclass(frozen=True)
class Comparison:
    """Two products' latest scorecards side by side: overall and each factor both rated."""

    first: Card
    second: Card
    overall: Verdict | None
    factors: list[tuple[str, Scored, Scored, Verdict]]


async def comparison(rt: Runtime, first_sku: str, second_sku: str) -> Comparison:
    """Compares two products' latest published scorecards; UnknownProduct names one without any."""
    cards = []
    for sku in (first_sku, second_sku):
        found = await history(rt, sku)
        if not found:
            raise UnknownProduct(sku=sku)
        cards.append(found[-1])
    a, b = cards
    overall = compare(a.overall, b.overall) if a.overall and b.overall else None
    factors = []
    for f in a.report.get("factors", []):
        key = str(f["key"])
        fa, fb = a.factor(key), b.factor(key)
        if fa is not None and fb is not None:
            factors.append((key, fa, fb, compare(fa, fb)))
    return Comparison(a, b, overall, factors)


def matches(card: Card, query: str) -> bool:
    """Whether a search finds the card: by product name, SKU, category or factor, in either language."""
    needle = query.strip().casefold()
    if not needle:
        return True
    haystack = [card.product, card.sku, card.category, card.category_name.en, card.category_name.zh]
    for f in card.report.get("factors", []):
        haystack += [str(f.get("key", "")), str(f.get("label_en", "")), str(f.get("label_zh", ""))]
    return any(needle in text.casefold() for text in haystack)


async def search(rt: Runtime, query: str, limit: int = 20) -> list[Card]:
    """Latest published scorecards matching every word of the query, best overall first."""
    words = query.split()
    found = [c for c in _latest_per_product(await _cards(rt)) if all(matches(c, w) for w in words)]
    found.sort(key=lambda c: -(c.overall.score if c.overall else 0.0))
    return found[:limit]


async def photo_for(rt: Runtime, round_id: int, lang: str) -> str | None:
    """The Telegram file_id of the round's chart in `lang`, once the bot has sent it."""
    async with rt.db.session() as s:
        return await s.scalar(select(ScorecardPhoto.file_id).where(ScorecardPhoto.round_id == round_id,
                                                                   ScorecardPhoto.lang == lang))


async def remember_photo(rt: Runtime, round_id: int, lang: str, file_id: str) -> None:
    """Keeps the chart's file_id; the first one recorded stays (any copy shows the same picture)."""
    try:
        async with rt.db.session() as s:
            s.add(ScorecardPhoto(round_id=round_id, lang=lang, file_id=file_id))
    except IntegrityError:
        pass  # already known, from another chat or process


# Deep links to a product (`/start p_SKU`): the SPEC's payload is at most 64 of [A-Za-z0-9_-]. A SKU
# already of those characters is itself; any other is base64url-encoded behind `pb_`.
_PLAIN_SKU = re.compile(r"[A-Za-z0-9_-]{1,62}")
_ENCODED_SKU = re.compile(r"pb_([A-Za-z0-9_-]{1,61})")


def product_payload(sku: str) -> str | None:
    """The deep-link payload that opens the product's scorecard; None if the SKU is too long for one."""
    if _PLAIN_SKU.fullmatch(sku):
        return f"p_{sku}"
    encoded = base64.urlsafe_b64encode(sku.encode()).decode().rstrip("=")
    return f"pb_{encoded}" if len(encoded) <= 61 else None


def sku_from_payload(payload: str) -> str | None:
    """The SKU a product payload names, or None when the payload is not one."""
    if m := _ENCODED_SKU.fullmatch(payload):
        try:
            return base64.urlsafe_b64decode(m[1] + "=" * (-len(m[1]) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
    if payload.startswith("p_") and _PLAIN_SKU.fullmatch(payload[2:]):
        return payload[2:]
    return None
