"""A rating round end to end, through HTTP to the sandbox, as buyers and the admin see it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.domain import identity
from bot.domain.outbox import STALE_CLAIM as PUBLISH_CLAIM_TIMEOUT
from bot.sandbox import SimUser
from storage.models import AccountLink, Ballot
from tests.conftest import CHANNEL
from tests.conversations.conftest import Harness, rate_at_human_pace, replies, scorecard_post

SIX = 6  # the shampoo category's factors


def invited(user: SimUser) -> bool:
    return any("❤️ Rate now" in m.button_texts for m in user.messages)


async def rate_all(user: SimUser, scores: str = "453425") -> None:
    for score in scores:
        await user.tap(score)


async def alice_rating(h: Harness) -> tuple[SimUser, int]:
    """Alice, invited to a round just opened, has tapped Rate now: she is on its first question."""
    alice = await h.linked("C0001", "Alice")
    round_id = await h.open_round()
    await alice.wait_for(invited)
    await alice.tap("❤️ Rate now")
    return alice, round_id


async def ballots_of(h: Harness, round_id: int) -> list[Ballot]:
    async with h.rt.db.session() as s:
        return list(await s.scalars(select(Ballot).where(Ballot.round_id == round_id)))


async def test_a_buyer_links_with_their_deep_link_and_a_reused_or_forged_link_is_refused(h: Harness) -> None:
    alice = await h.linked("C0001", "Alice")
    assert "Linked" in alice.last_message.text
    token = await identity.issue_link_token(h.rt, "C0002")
    bob = h.person("Bob")
    await bob.send(f"/start {token}")
    mallory = h.person("Mallory")
    await replies(mallory, {f"/start {token}": "already been used", f"/start {token[:-4]}AAAA": "not valid",
                            "/start hello": "not valid"})
    async with h.rt.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(AccountLink)) == 2


async def test_a_buyer_links_by_sharing_their_own_contact_and_a_forwarded_contact_is_refused(h: Harness) -> None:
    carol = h.person("Carol")
    await replies(carol, {"/start": "share your phone"})
    await carol.share_contact("+8613893105005")
    assert "Linked" in carol.last_message.text
    eve = h.person("Eve")
    await eve.share_contact("+8613806105001", user_id=carol.id)
    assert "not someone else's contact" in eve.last_message.text
    twin = h.person("Carol's second phone")
    await twin.share_contact("+8613893105005")
    assert "already linked to another Telegram account" in twin.last_message.text


async def test_an_invited_buyer_rates_every_factor_and_submits_once(h: Harness) -> None:
    alice = await h.linked("C0001", "Alice")
    round_id = await h.open_round()
    await alice.wait_for(invited)
    assert "Silkroot" in alice.last_message.text or "bought" in alice.last_message.text
    await alice.tap("❤️ Rate now")
    assert "1/6" in alice.last_message.text
    invitation_id = alice.last_message.message_id
    await rate_all(alice)
    assert alice.last_message.message_id == invitation_id  # one message per ballot, edited in place
    assert "your ratings" in alice.last_message.text
    await alice.tap("✅ Submit")
    assert "Thank you" in alice.last_message.text
    [ballot] = await ballots_of(h, round_id)
    assert ballot.status == "submitted"
    assert list(ballot.submitted.values()) == [4, 5, 3, 4, 2, 5]


async def test_back_not_sure_and_changing_from_the_summary(h: Harness) -> None:
    alice, round_id = await alice_rating(h)
    await alice.tap("4")
    await alice.tap("« Back")
    assert "1/6" in alice.last_message.text and "4 ✓" in alice.last_message.button_texts
    await alice.tap("2")
    await alice.tap("🤷 Not sure")
    await rate_all(alice, "3333")
    assert "not sure" in alice.last_message.text
    await alice.tap("✏️ Scent")
    assert "2/6" in alice.last_message.text
    await alice.tap("5")
    assert "your ratings" in alice.last_message.text  # straight back to the summary
    await alice.tap("✅ Submit")
    [ballot] = await ballots_of(h, round_id)
    assert ballot.submitted == {"cleanliness": 2, "aroma": 5, "dandruff_control": 3, "conditioning": 3,
                                "moisturizing": 3, "anti_hair_loss": 3}


async def test_rating_resumes_with_rate_after_leaving_and_after_a_restart(h: Harness) -> None:
    alice, round_id = await alice_rating(h)
    await rate_all(alice, "45")
    old = alice.last_message
    stale = old.buttons[0][0].callback_data
    await alice.send("/rate")
    assert "3/6" in alice.last_message.text
    # The ballot moved to the new message: the old one keeps its question but loses its buttons, and a
    # client still showing them gets an alert.
    await alice.wait_for(lambda _: old.buttons == [])
    assert "3/6" in old.text
    await alice.tap_data(stale, old)
    assert "out of date" in alice.last_alert.text
    await h.restart()
    await alice.send("/rate")
    assert "3/6" in alice.last_message.text
    await rate_all(alice, "3425")
    await alice.tap("✅ Submit")
    [ballot] = await ballots_of(h, round_id)
    assert ballot.submitted is not None and list(ballot.submitted.values()) == [4, 5, 3, 4, 2, 5]


async def test_double_submit_and_a_second_telegram_account_still_count_one_ballot(h: Harness) -> None:
    alice, round_id = await alice_rating(h)
    await rate_all(alice)
    submit = alice.last_message.buttons[-1][0].callback_data
    await alice.tap("✅ Submit")
    await alice.tap_data(submit)
    assert "out of date" in alice.last_alert.text
    second = h.person("Alice's other account")
    await replies(second, {f"/start {await identity.issue_link_token(h.rt, 'C0001')}":
                           "already linked to another Telegram account", "/rate": "link your account"})
    await alice.tap("✏️ Change my ratings")
    await alice.tap("✏️ Cleansing")
    await alice.tap("1")
    await alice.tap("✅ Submit")
    assert "Updated" in alice.last_message.text
    [ballot] = await ballots_of(h, round_id)
    assert ballot.submitted["cleanliness"] == 1 and ballot.revisions == 1


async def test_a_button_pressed_after_the_round_closed_gets_an_alert_and_changes_nothing(h: Harness) -> None:
    alice, round_id = await alice_rating(h)
    await alice.tap("4")
    admin = h.admin
    await admin.send(f"/closeround {round_id}")
    before = alice.last_message.text
    await alice.tap("5")
    assert "closed" in alice.last_alert.text and alice.last_alert.show_alert
    assert alice.last_message.text == before
    [ballot] = await ballots_of(h, round_id)
    assert ballot.answers == {"cleanliness": 4}


async def test_a_buyer_who_did_not_buy_the_product_has_nothing_to_rate(h: Harness) -> None:
    olga = await h.linked("C0058", "Olga")  # bought face cream only
    alice = await h.linked("C0001", "Alice")
    await h.open_round()
    await alice.wait_for(invited)
    await replies(olga, {"/rate": "Nothing to rate"})
    await replies(h.person("Stranger"), {"/rate": "link your account"})


async def test_admin_commands_from_a_non_admin_get_the_unknown_command_answer(h: Harness) -> None:
    alice = await h.linked("C0001", "Alice")
    for command in ("/newround SHAMPOO-001", "/rounds", "/round 1", "/closeround 1", "/cancelround 1"):
        await alice.send(command)
        assert "don't know that command" in alice.last_message.text, command
    await alice.send("/help")
    assert "/newround" not in alice.last_message.text
    await h.admin.send("/help")
    assert "/newround" in h.admin.last_message.text


async def test_bad_admin_input_gets_a_clear_message(h: Harness) -> None:
    await replies(h.admin, {
        "/newround SHAMPOO-001 7x": "'7x' is not a duration",
        "/newround NOPE-1": "no product with SKU NOPE-1",
        "/newround SHAMPOO-003": "can't have a round yet: popularity 65 (needs ≥ 100)",
        "/round abc": "Usage: /round",
        "/closeround 99": "no round 99",
    })


async def test_random_callback_data_and_text_instead_of_a_button_change_nothing(h: Harness) -> None:
    alice, round_id = await alice_rating(h)
    screen = alice.last_message
    for data in ("zzz", "b:1:1:9", "b:999:1:1", "i:1:x", "b:1:999:1", ""):
        await alice.tap_data(data, screen)
        assert alice.last_alert is not None and alice.last_alert.show_alert, data
    await alice.send("four hearts")
    assert "use the buttons" in alice.last_message.text
    [ballot] = await ballots_of(h, round_id)
    assert ballot.answers == {} and ballot.step == 0


async def three_buyers_rate_a_two_hour_round(h: Harness) -> list[SimUser]:
    """Three buyers each rate the whole ballot at a human pace (so screening accepts them)."""
    buyers = [await h.linked(f"C{n:04d}", f"Buyer{n}") for n in range(1, 4)]
    await h.open_round(duration="2h")
    await rate_at_human_pace(h, buyers)
    return buyers


async def test_a_rate_limited_channel_gets_the_scorecard_later_and_exactly_once(h: Harness) -> None:
    buyers = await three_buyers_rate_a_two_hour_round(h)
    h.sandbox.inject_429("sendPhoto", retry_after=30)  # the channel's 20-a-minute limit, reached
    h.clock.advance(timedelta(hours=2, minutes=1))
    await h.admin.wait_for(lambda _: any(c.method == "sendPhoto" for c in h.sandbox.calls), timeout=10)
    await asyncio.sleep(0.5)  # a few more scheduler passes
    assert h.sandbox.chat_messages(CHANNEL) == []  # refused, and nothing failed (no handler error)
    h.clock.advance(PUBLISH_CLAIM_TIMEOUT + timedelta(minutes=1))
    await buyers[0].wait_for(lambda u: "Results" in u.last_message.text, timeout=10)
    await asyncio.sleep(0.5)
    assert len(h.sandbox.chat_messages(CHANNEL)) == 1


async def test_every_rater_is_thanked_even_when_telegram_says_slow_down(h: Harness) -> None:
    buyers = await three_buyers_rate_a_two_hour_round(h)
    h.sandbox.inject_429("sendMessage", retry_after=1)  # the first thank-you meets a flood limit
    h.clock.advance(timedelta(hours=2, minutes=1))
    for buyer in buyers:
        await buyer.wait_for(lambda u: "Results" in u.last_message.text, timeout=10)
    assert sum("Results" in m.text for b in buyers for m in b.messages if m.text) == 3  # once each


async def test_the_scheduler_closes_the_round_and_posts_the_scorecard_to_the_channel(h: Harness) -> None:
    buyers = [await h.linked(f"C{n:04d}", f"Buyer{n}") for n in range(1, 5)]
    round_id = await h.open_round(duration="2h")
    await rate_at_human_pace(h, buyers, vary=True)
    post = await scorecard_post(h, buyers)
    assert post.photo and post.photo.startswith(b"\x89PNG")
    assert "Silkroot" in post.caption and "Overall" in post.caption
    admin = h.admin
    await admin.send(f"/round {round_id}")
    detail = admin.last_message.text
    assert "published" in detail and "Submitted: 4 · Accepted: 4 · Response rate: 100%" in detail
    assert "Left out: refunded or cancelled 3, owned too briefly 1, no linked account 46" in detail
