"""Linking a Telegram user to a store customer: signed single-use deep links, or the user's own contact.

A link token is `nonce + signature`: 16 random url-safe chars, then 22 chars of HMAC-SHA256 over the
nonce with `identity.secret`. The signature lets us refuse a forged token before touching the
database; the row keyed by the nonce makes it expiring and single use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import LinkRefused, UnknownCustomer
from bot.domain.phones import normalise_phone, phone_hash
from bot.domain.runtime import Runtime
from storage.models import AccountLink, Customer, LinkToken
from storage.statuses import LinkMethod

_NONCE_LEN = 16
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{38}$")


def _signature(secret: str, nonce: str) -> str:
    mac = hmac.new(secret.encode(), b"link:" + nonce.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def signed_payload(secret: str, nonce: str) -> str:
    """The deep-link payload of a token row's nonce."""
    return nonce + _signature(secret, nonce)


async def issue_link_token(rt: Runtime, customer_id: str) -> str:
    """A fresh deep-link payload for the customer (at most 64 chars of [A-Za-z0-9_-])."""
    secret = rt.config.require_secret()
    now = rt.clock.now()
    async with rt.db.session() as s:
        customer = await s.get(Customer, customer_id)
        if customer is None:
            raise UnknownCustomer(customer_id=customer_id)
        if customer.forgotten_at is not None:
            raise LinkRefused(reason="forgotten")
        nonce = secrets.token_urlsafe(12)
        s.add(LinkToken(nonce=nonce, customer_id=customer_id, created_at=now,
                        expires_at=now + rt.config.identity.link_token_ttl))
    return signed_payload(secret, nonce)


def is_link_token(secret: str, payload: str) -> bool:
    """Whether the payload is a link token we signed (spent or not): other deep links may share its alphabet."""
    if not _PAYLOAD.match(payload or ""):
        return False
    return hmac.compare_digest(payload[_NONCE_LEN:], _signature(secret, payload[:_NONCE_LEN]))


async def link_by_token(rt: Runtime, payload: str, telegram_user_id: int) -> str:
    """Links the user to the token's customer and spends the token; returns the customer id."""
    secret = rt.config.require_secret()
    if not _PAYLOAD.match(payload or ""):
        raise LinkRefused(reason="forged")
    nonce, signature = payload[:_NONCE_LEN], payload[_NONCE_LEN:]
    if not hmac.compare_digest(signature, _signature(secret, nonce)):
        raise LinkRefused(reason="forged")
    now = rt.clock.now()
    async with rt.db.session() as s:
        token = await s.get(LinkToken, nonce, with_for_update=True)
        if token is None:
            raise LinkRefused(reason="forged")
        if token.used_at is not None:
            raise LinkRefused(reason="used")
        if token.expires_at <= now:
            raise LinkRefused(reason="expired")
        await _link(s, token.customer_id, telegram_user_id, LinkMethod.TOKEN, rt)
        token.used_at, token.used_by = now, telegram_user_id
    return token.customer_id


async def link_by_contact(rt: Runtime, phone: str, contact_user_id: int | None, sender_id: int) -> str:
    """Links the sender through their own shared contact; a forwarded contact is refused."""
    if contact_user_id != sender_id:
        raise LinkRefused(reason="forwarded")
    e164 = normalise_phone(phone)
    if e164 is None:
        raise LinkRefused(reason="unknown_phone")
    digest = phone_hash(rt.config.require_secret(), e164)
    async with rt.db.session() as s:
        customer_id = await s.scalar(
            select(Customer.customer_id).where(Customer.phone_hash == digest).limit(1)
        )
        if customer_id is None:
            raise LinkRefused(reason="unknown_phone")
        await _link(s, customer_id, sender_id, LinkMethod.CONTACT, rt)
    return customer_id


async def _link(s: AsyncSession, customer_id: str, user_id: int, method: LinkMethod, rt: Runtime) -> None:
    customer = await s.get(Customer, customer_id)
    if customer is None or customer.forgotten_at is not None:
        raise LinkRefused(reason="forgotten")
    mine = await s.scalar(select(AccountLink).where(AccountLink.telegram_user_id == user_id))
    if mine is not None:
        if mine.customer_id == customer_id:
            return
        raise LinkRefused(reason="other_customer")
    theirs = await s.scalar(select(AccountLink).where(AccountLink.customer_id == customer_id))
    if theirs is not None:
        raise LinkRefused(reason="taken")
    try:
        async with s.begin_nested():
            s.add(AccountLink(telegram_user_id=user_id, customer_id=customer_id, method=method,
                              linked_at=rt.clock.now()))
    except IntegrityError:
        # Another request linked one side between our checks and the insert; the database decides.
        raise LinkRefused(reason="taken") from None


async def linked_customer(rt: Runtime, telegram_user_id: int) -> str | None:
    async with rt.db.session() as s:
        return await s.scalar(
            select(AccountLink.customer_id).where(AccountLink.telegram_user_id == telegram_user_id)
        )
