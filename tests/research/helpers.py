"""A research round run through the domain services, as the conversation would, for tests that need
its result rather than its screens."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from bot.domain import research, research_outbox, research_responses
from bot.domain.clock import ManualClock
from bot.domain.research_rule import ResearchAction, ResearchMove
from bot.domain.runtime import Runtime
from storage.models import AccountLink

# What the simulated buyers care about, most first (logit utilities); the rest get 0.
TRUE = {"cleanliness": 1.6, "anti_hair_loss": 1.3, "scalp_gentleness": 1.0, "dandruff_control": 0.7,
        "moisturizing": 0.4, "aroma": 0.1, "conditioning": -0.2, "value_for_money": -0.5, "lather": -0.8,
        "packaging": -1.1}


async def link(rt: Runtime, customers: range) -> None:
    async with rt.db.session() as s:
        s.add_all(AccountLink(telegram_user_id=70000 + n, customer_id=f"C{n:04d}", method="token",
                              linked_at=datetime(2026, 10, 1, tzinfo=UTC)) for n in customers)


async def answer(rt: Runtime, clock: ManualClock, research_id: int, user: int, rng: random.Random) -> None:
    """One buyer answers every set by the random-utility model, at a reader's pace, and submits."""
    view = await research_responses.begin(rt, research_id, user)
    for shown in view.sets:
        clock.advance(timedelta(seconds=5))
        noisy = [TRUE.get(c.key, 0.0) - math.log(-math.log(rng.random())) for c in shown]
        most = max(range(len(shown)), key=lambda p: noisy[p])
        least = min((p for p in range(len(shown)) if p != most), key=lambda p: noisy[p])
        for position in (most, least):
            view, _ = await research_responses.press(rt, view.response_id, view.rev,
                                                     ResearchMove(ResearchAction.PICK, position), user)
    await research_responses.press(rt, view.response_id, view.rev, ResearchMove(ResearchAction.SUBMIT), user)


async def published_research(rt: Runtime, clock: ManualClock, buyers: int = 30) -> int:
    """A shampoo research round answered by `buyers` linked buyers, closed and marked published."""
    await link(rt, range(1, buyers + 1))
    research_id = await research.schedule(rt, "shampoo", actor="test", duration=timedelta(hours=2))
    assert await research.open_research(rt, research_id)
    rng = random.Random(12)
    for n in range(1, buyers + 1):
        await answer(rt, clock, research_id, 70000 + n, rng)
    clock.advance(timedelta(hours=3))
    assert await research.close_research(rt, research_id)
    for publication in await research_outbox.claim_publications(rt):
        await research_outbox.mark_published(rt, publication.research_id, None)
    return research_id
