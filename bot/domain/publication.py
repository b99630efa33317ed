"""A closed round's scorecard, posted to the publish chat: each step recorded before it is taken.

Guarantee: **a reader of the channel never sees two scorecards of one round**, and a scorecard that
may be missing is never missing silently.

Telegram gives no idempotency key and no way to ask whether a post went out, so the only way to be
sure of never posting twice is never to repeat a post that may have arrived. Each round's post goes
through `Round.publish_state`, every step committed before the next begins:

- `none → claimed` (`claim`): one process takes the round and draws the chart. Nothing has been sent,
  so a process that dies here is safely replaced: after `rounds.claim_timeout` the claim is taken
  again and the chart drawn again.
- `claimed → sending` (`start_sending`), committed just before the HTTP call: from here on the post
  may be in the channel.
- `sending → posted` (`posted`) when Telegram answered with the message; the round becomes
  `published` (or `insufficient`) and its raters are thanked.
- `sending → claimed` or `none` (`hand_back`) when Telegram provably made nothing: a 429 (posted again
  once the claim expires, well past any `retry_after` a channel gets), a 5xx answer or a connection
  that was never made (posted again on the next pass).
- `sending → in_doubt` (`in_doubt`) when the answer was lost after the request left (a timeout, a
  dropped connection), and when a process died while `sending` (`recover_stale`, after
  `rounds.claim_timeout`); `sending → failed` when Telegram refused the post (a chat that does not
  exist, a bot without the right to post). Neither is ever posted again automatically: the admins
  are asked once (`unreported` → `reported`), in their language, with buttons — "Repost" (back to
  `none`, posted on the next pass) or, for a post in doubt, "It's there" (`posted`). `resolve` takes
  the first answer; a second tap finds nothing waiting. The question itself goes out at least once:
  a crash between asking and recording it asks again (a duplicate question is harmless; a missing one
  would leave the round unpublished with nobody knowing).

The raters' thank-yous wait for `posted`: they say the result is out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update

from bot.domain import audit
from bot.domain.errors import DomainError
from bot.domain.runtime import Runtime
from storage.models import Product, Round
from storage.statuses import PublishState, RoundStatus

# Telegram's error text is kept for the admins; the column holds this much.
ERROR_CHARS = 300


class NothingToResolve(DomainError):
    """An admin's answer about a post that is no longer waiting for one (already answered)."""

    key = "publish.nothing_waiting"


@dataclass(frozen=True)
class Publication:
    """A closed round's scorecard, claimed for posting; `claimed_at` identifies this claim."""

    round_id: int
    product: str
    report: dict[str, Any]
    claimed_at: datetime


def _state_is(*states: PublishState) -> Any:
    return Round.publish_state.in_(states)


async def claim(rt: Runtime) -> list[Publication]:
    """Closed rounds not posted yet — never tried, or claimed by a process that stopped before
    sending — claimed so only one process posts each."""
    now = rt.clock.now()
    stale = now - rt.config.rounds.claim_timeout
    waiting = (Round.status == RoundStatus.CLOSED,
               or_(_state_is(PublishState.NONE),
                   _state_is(PublishState.CLAIMED) & (Round.publish_claimed_at < stale)))
    async with rt.db.session() as s:
        ids = list(await s.scalars(select(Round.id).where(*waiting).order_by(Round.id)))
        out = []
        for round_id in ids:
            claimed = await s.execute(
                update(Round).where(Round.id == round_id, *waiting)
                .values(publish_state=PublishState.CLAIMED, publish_claimed_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue
            rnd = await s.get_one(Round, round_id)
            product = await s.get_one(Product, rnd.sku)
            assert rnd.report is not None
            out.append(Publication(round_id, product.name, dict(rnd.report), now))
        return out


async def _move(rt: Runtime, round_id: int, where: Any, **values: Any) -> bool:
    async with rt.db.session() as s:
        done = await s.execute(update(Round).where(Round.id == round_id, where).values(**values))
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]


async def start_sending(rt: Runtime, publication: Publication) -> bool:
    """Records that the post is about to leave; False when this claim is no longer ours (it expired
    and another process took the round): then we must not send."""
    return await _move(rt, publication.round_id,
                       _state_is(PublishState.CLAIMED) & (Round.publish_claimed_at == publication.claimed_at),
                       publish_state=PublishState.SENDING)


async def posted(rt: Runtime, round_id: int, message_id: int | None, *,
                 was: PublishState = PublishState.SENDING) -> bool:
    """The post is in the channel: the round is published (or insufficient, as its report says).
    False when the post was not in state `was` (someone else settled it)."""
    async with rt.db.session() as s:
        rnd = await s.get_one(Round, round_id)
        insufficient = (rnd.report or {}).get("status") == RoundStatus.INSUFFICIENT
        done = await s.execute(
            update(Round).where(Round.id == round_id, Round.status == RoundStatus.CLOSED, _state_is(was))
            .values(status=RoundStatus.INSUFFICIENT if insufficient else RoundStatus.PUBLISHED,
                    publish_state=PublishState.POSTED, published_at=rt.clock.now(), publish_message_id=message_id)
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]


async def hand_back(rt: Runtime, round_id: int, *, later: bool) -> None:
    """Telegram made nothing: post again on the next pass, or (`later`, a flood wait) once the claim
    expires."""
    if later:
        await _move(rt, round_id, _state_is(PublishState.SENDING),
                    publish_state=PublishState.CLAIMED, publish_claimed_at=rt.clock.now())
    else:
        await _move(rt, round_id, _state_is(PublishState.SENDING), publish_state=PublishState.NONE)


async def in_doubt(rt: Runtime, round_id: int, error: str) -> None:
    """The post may be in the channel: never repeated without an admin's word."""
    await _move(rt, round_id, _state_is(PublishState.SENDING), publish_state=PublishState.IN_DOUBT,
                publish_error=error[:ERROR_CHARS], publish_reported_at=None)


async def failed(rt: Runtime, round_id: int, error: str) -> None:
    """Telegram refused the post: nothing is in the channel, and trying again would fail the same way
    until an admin fixes the cause."""
    await _move(rt, round_id, _state_is(PublishState.SENDING), publish_state=PublishState.FAILED,
                publish_error=error[:ERROR_CHARS], publish_reported_at=None)


async def recover_stale(rt: Runtime) -> int:
    """Posts a stopped process was sending are in doubt (it may have posted them); returns how many."""
    stale = rt.clock.now() - rt.config.rounds.claim_timeout
    async with rt.db.session() as s:
        done = await s.execute(
            update(Round).where(_state_is(PublishState.SENDING), Round.publish_claimed_at < stale)
            .values(publish_state=PublishState.IN_DOUBT, publish_reported_at=None,
                    publish_error="the bot stopped while posting")
        )
        return int(done.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Doubt:
    """A post the admins must decide about: `state` is in_doubt (may be there) or failed (is not)."""

    round_id: int
    product: str
    state: PublishState
    error: str


async def unreported(rt: Runtime) -> list[Doubt]:
    """Posts in doubt or refused that the admins have not been asked about yet."""
    async with rt.db.session() as s:
        rows = await s.execute(
            select(Round.id, Product.name, Round.publish_state, Round.publish_error)
            .join(Product, Product.sku == Round.sku)
            .where(_state_is(PublishState.IN_DOUBT, PublishState.FAILED), Round.publish_reported_at.is_(None))
            .order_by(Round.id)
        )
        return [Doubt(rid, name, state, error or "") for rid, name, state, error in rows]


async def reported(rt: Runtime, doubt: Doubt) -> None:
    """The admins were asked about `doubt` (and it still stands as they were told)."""
    await _move(rt, doubt.round_id, _state_is(doubt.state) & Round.publish_reported_at.is_(None),
                publish_reported_at=rt.clock.now())


async def resolve(rt: Runtime, round_id: int, *, repost: bool, actor: str) -> None:
    """An admin's answer: `repost` (the post goes out again on the next pass) or "it's there" (the round
    counts as published, its raters are thanked). Raises NothingToResolve when no answer is awaited —
    "it's there" only ever about a post in doubt, never about one Telegram refused."""
    action = "publish.repost" if repost else "publish.confirm"
    async with audit.audited(rt, actor, action, f"round {round_id}"):
        if repost:
            moved = await _move(rt, round_id, _state_is(PublishState.IN_DOUBT, PublishState.FAILED),
                                publish_state=PublishState.NONE, publish_reported_at=None, publish_error=None)
        else:
            moved = await posted(rt, round_id, None, was=PublishState.IN_DOUBT)
        if not moved:
            raise NothingToResolve(round_id=round_id)
