"""Deep links for a store's own mailing (`redheart link --all`): one fresh link per customer who can
still link, issued in batches so a store of 100,000 customers is neither one huge transaction nor
100,000 small ones."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select

from bot.domain.identity import signed_payload
from bot.domain.runtime import Runtime
from storage.models import AccountLink, Customer, LinkToken

#: Tokens written per transaction: 500 rows insert in ~20 ms on SQLite, and progress shows per batch.
BATCH = 500


@dataclass(frozen=True)
class Audience:
    """Who gets a link: customers with no linked account who have not asked to be forgotten."""

    customer_ids: list[str]
    already_linked: int
    forgotten: int


@dataclass(frozen=True)
class IssuedLink:
    customer_id: str
    payload: str
    expires_at: datetime


async def audience(rt: Runtime) -> Audience:
    linked = exists().where(AccountLink.customer_id == Customer.customer_id)
    async with rt.db.session() as s:
        ids = list(await s.scalars(
            select(Customer.customer_id).where(~linked, Customer.forgotten_at.is_(None)).order_by(Customer.customer_id)
        ))
        already = await s.scalar(select(func.count()).select_from(Customer).where(linked)) or 0
        forgotten = await s.scalar(
            select(func.count()).select_from(Customer).where(~linked, Customer.forgotten_at.is_not(None))
        ) or 0
    return Audience(ids, already, forgotten)


async def issue_links(rt: Runtime, customer_ids: list[str]) -> AsyncIterator[list[IssuedLink]]:
    """Issues one token per customer, yielding each batch once it is committed."""
    secret = rt.config.require_secret()
    for start in range(0, len(customer_ids), BATCH):
        now = rt.clock.now()
        expires = now + rt.config.identity.link_token_ttl
        batch = [(cid, secrets.token_urlsafe(12)) for cid in customer_ids[start:start + BATCH]]
        async with rt.db.session() as s:
            s.add_all(LinkToken(nonce=nonce, customer_id=cid, created_at=now, expires_at=expires)
                      for cid, nonce in batch)
        yield [IssuedLink(cid, signed_payload(secret, nonce), expires) for cid, nonce in batch]
