"""Delivery under faults, as buyers, the channel and the admins see it: a scorecard is never posted
twice (a post in doubt goes to the admins), and a screen the network left behind is redrawn."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from bot.callbacks import PostButton
from bot.domain import rounds
from bot.domain.outbox import STALE_CLAIM
from bot.sandbox import SimUser
from tests.conversations.conftest import Harness
from tests.conversations.test_rating_round import alice_rating, ballots_of, three_buyers_rate_a_two_hour_round

CLOSE = timedelta(hours=2, minutes=1)


def asked(admin: SimUser) -> list[str]:
    """The admin's questions about a scorecard post in doubt or refused."""
    return [m.text for m in admin.messages if m.text and "scorecard of round" in m.text]


def thanked(buyer: SimUser) -> int:
    return sum("Results" in (m.text or "") for m in buyer.messages)


async def passes(h: Harness, n: int = 5) -> None:
    """Lets the scheduler run about `n` more passes (it ticks every 0.2 s)."""
    await asyncio.sleep(0.2 * n)


async def closed_round(h: Harness) -> tuple[list[SimUser], SimUser, int]:
    admin = h.admin  # exists before the bot needs to ask them anything
    buyers = await three_buyers_rate_a_two_hour_round(h)
    [info] = await rounds.list_rounds(h.rt)
    return buyers, admin, info.id


async def test_a_scorecard_whose_answer_was_lost_is_not_posted_again_until_an_admin_says_it_is_there(
    h: Harness,
) -> None:
    buyers, admin, round_id = await closed_round(h)
    # Posted in the channel, but the bot never hears back.
    h.sandbox.inject_fault("timeout_after_delivery", "sendPhoto", hang=0)
    h.clock.advance(CLOSE)
    await admin.wait_for(lambda u: bool(asked(u)))
    assert "may or may not have reached the channel" in asked(admin)[0]
    assert [b.text for b in admin.last_message.buttons[0]] == ["🔁 Repost", "✅ It's there"]
    h.clock.advance(STALE_CLAIM + timedelta(minutes=1))  # any claim has long expired
    await passes(h)
    assert len(h.channel_posts()) == 1 and len(asked(admin)) == 1  # not reposted, asked once
    assert all(thanked(b) == 0 for b in buyers)  # thanks say "the result is out": not yet known
    question = admin.last_message
    await admin.tap("✅ It's there", message=question)
    assert f"Round {round_id}: counted as published" in admin.last_message.text
    for buyer in buyers:
        await buyer.wait_for(lambda u: thanked(u) == 1)
    assert (await rounds.report(h.rt, round_id))["status"] == "published"
    await admin.tap_data(PostButton(round_id, repost=True).encode(), question)  # a second answer
    assert admin.last_alert.text == f"Round {round_id} is not waiting for an answer any more."
    await passes(h)
    assert len(h.channel_posts()) == 1 and all(thanked(b) == 1 for b in buyers)


async def test_a_post_in_doubt_is_reposted_once_when_the_admin_asks_and_a_buyer_cannot_ask_for_it(
    h: Harness,
) -> None:
    buyers, admin, round_id = await closed_round(h)
    h.sandbox.inject_fault("disconnect", "sendPhoto")  # nothing posted, but the bot cannot know that
    h.clock.advance(CLOSE)
    await admin.wait_for(lambda u: bool(asked(u)))
    assert h.channel_posts() == []
    question = admin.last_message
    await buyers[0].tap_data(PostButton(round_id, repost=True).encode(), question)  # forged by a buyer
    assert buyers[0].last_alert.text == "This button isn't yours."
    await passes(h)
    assert h.channel_posts() == []
    await admin.tap("🔁 Repost", message=question)
    assert "being posted again" in admin.last_message.text
    for buyer in buyers:
        await buyer.wait_for(lambda u: thanked(u) == 1)
    assert len(h.channel_posts()) == 1
    await admin.tap_data(PostButton(round_id, repost=True).encode(), question)
    assert "not waiting" in admin.last_alert.text
    await passes(h)
    assert len(h.channel_posts()) == 1


async def test_a_post_telegram_made_nothing_of_goes_out_on_the_next_pass_without_asking_anyone(h: Harness) -> None:
    buyers, admin, _ = await closed_round(h)
    h.sandbox.inject_fault("500", "sendPhoto")
    h.clock.advance(CLOSE)
    for buyer in buyers:
        await buyer.wait_for(lambda u: thanked(u) == 1)
    assert len(h.channel_posts()) == 1 and asked(admin) == []


async def test_a_refused_post_is_told_to_the_admins_with_only_a_repost_button(h: Harness) -> None:
    buyers, admin, round_id = await closed_round(h)
    # The config names a channel that does not exist (a typo): Telegram answers "chat not found".
    object.__setattr__(h.rt, "config", replace(h.rt.config, bot=replace(h.rt.config.bot, publish_chat_id="@nope")))
    h.clock.advance(CLOSE)
    await admin.wait_for(lambda u: bool(asked(u)))
    assert "Telegram refused the scorecard" in asked(admin)[0]
    assert [b.text for b in admin.last_message.buttons[0]] == ["🔁 Repost"]
    await admin.tap_data(PostButton(round_id, repost=False).encode())  # "it's there" cannot be claimed
    assert "not waiting" in admin.last_alert.text
    assert all(thanked(b) == 0 for b in buyers)


async def test_a_screen_the_network_left_behind_is_redrawn_by_the_next_tap_and_the_buyer_goes_on(
    h: Harness,
) -> None:
    alice, round_id = await alice_rating(h)
    first = alice.last_message
    h.sandbox.inject_fault("500", "editMessageText", count=3)  # more than the retries: the edit is lost
    await alice.tap("4")
    assert alice.last_message.text == first.text  # the answer counted, the screen did not move
    [ballot] = await ballots_of(h, round_id)
    assert ballot.step == 1
    await alice.tap("5")  # on the screen still showing question 1
    assert alice.last_alert.text == "That screen was out of date — here is where you are now."
    [ballot] = await ballots_of(h, round_id)
    assert ballot.step == 1 and len(ballot.answers) == 1  # the stale tap changed nothing
    assert "2/6" in alice.last_message.text
    for score in "53425":
        await alice.tap(score)
    await alice.tap("✅ Submit")
    assert "Thank you" in alice.last_message.text


async def test_a_tap_on_an_older_message_of_the_ballot_still_gets_the_out_of_date_alert(h: Harness) -> None:
    alice, _ = await alice_rating(h)
    old = alice.last_message
    await alice.send("/rate")  # the ballot moves to a fresh message
    await alice.tap("4", message=old)
    assert alice.last_alert.text == "This button is out of date — use the latest message."
    assert alice.last_alert.show_alert
