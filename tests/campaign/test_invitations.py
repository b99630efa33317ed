"""Invitations at Telegram scale: every sampled buyer invited exactly once, whatever happens."""

from __future__ import annotations

import asyncio

from bot.sandbox import ApiCall
from tests.campaign.conftest import CampaignHarness


async def test_every_sampled_buyer_is_invited_exactly_once_through_429s_server_errors_and_blocks(
    big: CampaignHarness,
) -> None:
    await big.stop()  # faults are set up before the campaign starts
    blocked = big.buyers[::40]
    for buyer in blocked:
        buyer.block()
    big.sandbox.inject_429("sendMessage", count=3, retry_after=1)
    big.sandbox.inject_network_error(count=3, method="sendMessage", mode="500")
    await big.open_round()
    await big.start()

    counts = await big.drained()

    assert counts == {"sent": 2000 - len(blocked), "unreachable": len(blocked)}
    received = big.invitations_received()
    assert set(received) == {b.id for b in big.buyers} - {b.id for b in blocked}
    assert set(received.values()) == {1}
    # A 403 is recorded and never retried (an injected 429 may precede it: that one is retried).
    for buyer in blocked:
        assert [c.status for c in big.sandbox.sent_to(buyer.id) if c.status != 429] == [403]
    # Only the injected 429s: the pacer itself never runs into the flood limit.
    assert big.sandbox.stats.statuses[429] == 3
    assert big.campaign is not None and big.campaign.stats.flood_waits == 3


async def test_a_restart_in_the_middle_of_a_campaign_loses_and_duplicates_nothing(big: CampaignHarness) -> None:
    assert big.campaign is not None
    halfway = asyncio.Event()
    buyers = {b.id for b in big.buyers}

    def delivered(call: ApiCall) -> None:
        if call.method == "sendMessage" and call.status == 200 and call.chat_id in buyers:
            received.append(call.chat_id)
            if len(received) >= 1000:
                halfway.set()

    received: list[int] = []
    big.sandbox.on_call.append(delivered)
    await big.open_round()
    await asyncio.wait_for(halfway.wait(), 30)
    big.sandbox.on_call.remove(delivered)
    big.campaign.halt.set()
    await big.stop()
    before = big.invitations_received()
    assert 1000 <= sum(before.values()) < 2000

    await big.start()
    counts = await big.drained()

    assert counts == {"sent": 2000}
    received = big.invitations_received()
    assert len(received) == 2000 and set(received.values()) == {1}
    assert big.sandbox.stats.statuses.get(429, 0) == 0
