"""Admin safety in the chat, in both languages: an overlapping round is refused, and with no publish
channel a scored round is shown as not posted, never as published."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.domain import rounds
from bot.sandbox import SimUser
from storage.statuses import RoundStatus
from tests.conftest import ADMIN_ID, CHANNEL
from tests.conversations.conftest import Harness, invitation

OVERLAP = {
    "en": "SHAMPOO-001 already has round 1 scheduled or open at that time",
    "zh": "SHAMPOO-001 在这段时间已有第 1 轮评价（已排期或进行中）",
}
UNPOSTED = {"en": "closed and scored, not posted: bot.publish_chat_id is empty",
            "zh": "已结束并算出得分，但尚未发布：配置里还没有设置发布频道"}


def admin_in(h: Harness, lang: str) -> SimUser:
    h._admin = h.sandbox.user(first_name="Admin", user_id=ADMIN_ID, language_code=lang)
    return h._admin


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_second_round_of_a_product_while_one_is_open_is_refused(h: Harness, lang: str) -> None:
    admin = admin_in(h, lang)
    await h.open_round(duration="2h") if lang == "en" else await admin.send("/newround SHAMPOO-001 2h")
    await admin.send("/newround SHAMPOO-001 1h")
    assert OVERLAP[lang] in admin.last_message.text
    await admin.send("/newround SHAMPOO-002 1h")  # another product may run alongside
    assert "SHAMPOO-002" in admin.last_message.text and OVERLAP[lang] not in admin.last_message.text
    assert [i.sku for i in await rounds.list_rounds(h.rt)] == ["SHAMPOO-002", "SHAMPOO-001"]


@pytest.mark.bot_config(publish_chat_id="")
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_without_a_publish_channel_a_scored_round_stays_closed_and_says_it_was_not_posted(
        h: Harness, lang: str) -> None:
    buyer = await h.linked("C0001", "Buyer")
    admin = admin_in(h, lang)
    await admin.send("/newround SHAMPOO-001 2h")
    round_id = (await rounds.list_rounds(h.rt, limit=1))[0].id
    await invitation(buyer)
    h.clock.advance(timedelta(hours=2, minutes=1))
    for _ in range(200):  # the scheduler's next passes close and score it
        if (await rounds.round_info(h.rt, round_id)).stats.accepted is not None:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(3 * 0.2)  # three more scheduler ticks: a publication would have happened by now
    info = await rounds.round_info(h.rt, round_id)
    assert info.status == RoundStatus.CLOSED and info.stats.accepted == 0
    assert h.sandbox.chat_messages(CHANNEL) == [] and not any(c.method == "sendPhoto" for c in h.sandbox.calls)
    await admin.send(f"/round {round_id}")
    assert UNPOSTED[lang] in admin.last_message.text
    await admin.send("/rounds")
    assert UNPOSTED[lang] in admin.last_message.text
