"""/forgetme: it says what will happen, then deletes the person and keeps results honest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.callbacks import ForgetButton, decode
from bot.domain import identity, rounds
from bot.domain.errors import LinkRefused
from bot.sandbox import SimUser
from storage.models import AccountLink, Ballot, Customer
from tests.conversations.conftest import Harness, invitation

ALICE_PHONE = "+8613806105001"  # C0001 in the sample data


async def rate_and_submit(h: Harness, user: SimUser) -> None:
    await invitation(user)
    h.clock.advance(timedelta(seconds=60))
    await user.tap("❤️ Rate now")
    # The ballot's own message, edited in place: what the user taps even if another message arrives.
    screen = next(m for m in reversed(user.messages) if "1/6" in (m.text or ""))
    for score in "453425":
        h.clock.advance(timedelta(seconds=5))
        await user.tap(score, message=screen)
    await user.tap("✅ Submit", message=screen)
    assert "Thank you" in (screen.text or "")


async def ballot_of(h: Harness, ballot_id: int) -> Ballot:
    async with h.rt.db.session() as s:
        return await s.get_one(Ballot, ballot_id)


def test_the_forget_buttons_fit_the_codec_and_nothing_else_decodes_to_them() -> None:
    assert decode(ForgetButton(True).encode()) == ForgetButton(True)
    assert decode(ForgetButton(False).encode()) == ForgetButton(False)
    assert decode("f:x") is None and decode("f:yy") is None and decode("f:") is None


async def test_forgetme_first_says_exactly_what_happens_and_cancel_deletes_nothing(h: Harness) -> None:
    alice = await h.linked("C0001", "Alice")
    await alice.send("/forgetme")
    text = alice.last_message.text
    assert "account link" in text.lower() or "link between" in text
    assert "coded copy of your phone number" in text and "last activity" in text
    assert "still open are withdrawn" in text and "closed rounds stay" in text and "anonymous" in text
    assert alice.last_message.button_texts == ["🗑 Yes, delete my data", "Cancel"]
    await alice.tap("Cancel")
    assert "Nothing was deleted" in alice.last_message.text
    async with h.rt.db.session() as s:
        assert await s.scalar(select(AccountLink).where(AccountLink.telegram_user_id == alice.id)) is not None
        assert (await s.get_one(Customer, "C0001")).forgotten_at is None


async def test_forgetme_from_someone_not_linked_says_there_is_nothing_to_delete(h: Harness) -> None:
    stranger = h.person("Stranger")
    await stranger.send("/forgetme")
    assert "link your account first" in stranger.last_message.text


async def test_forgetting_mid_round_withdraws_the_open_ballot_anonymises_the_closed_one_and_blocks_a_second_vote(
    h: Harness,
) -> None:
    alice = await h.linked("C0001", "Alice")
    others = [await h.linked(c, c) for c in ("C0002", "C0003", "C0004")]
    closed_round = await h.open_round("FACECREAM-003")
    await rate_and_submit(h, alice)
    await h.admin.send(f"/closeround {closed_round}")
    await alice.wait_for(lambda u: "Thank you for" in u.last_message.text)  # the thanks after publishing
    open_round = await h.open_round("SHAMPOO-001")
    for user in (alice, *others):
        await rate_and_submit(h, user)
    rating_screen = next(m for m in reversed(alice.messages) if "✏️ Change my ratings" in m.button_texts)
    async with h.rt.db.session() as s:
        closed_ballot, open_ballot = (await s.scalars(
            select(Ballot).where(Ballot.customer_id == "C0001").order_by(Ballot.round_id))).all()
    spare_token = await identity.issue_link_token(h.rt, "C0001")  # issued before she forgot

    await alice.send("/forgetme")
    assert "will not count (1)" in alice.last_message.text and "any more (1)" in alice.last_message.text
    await alice.tap("🗑 Yes, delete my data")
    assert "personal data is deleted; 1 open rating withdrawn, 1 closed rating kept" in alice.last_message.text

    async with h.rt.db.session() as s:
        customer = await s.get_one(Customer, "C0001")
        assert customer.forgotten_at is not None and customer.phone_hash is None and customer.last_active_at is None
        assert await s.scalar(select(AccountLink).where(AccountLink.customer_id == "C0001")) is None
    withdrawn = await ballot_of(h, open_ballot.id)
    assert withdrawn.status == "withdrawn" and withdrawn.submitted is None and withdrawn.answers == {}
    assert withdrawn.telegram_user_id is None
    kept = await ballot_of(h, closed_ballot.id)
    assert kept.customer_id is None and kept.telegram_user_id is None and kept.chat_id is None
    assert kept.submitted == closed_ballot.submitted and kept.rater != closed_ballot.rater

    # Her old rating screen is dead, and no route leads back to a second vote in the open round.
    await alice.tap("✏️ Change my ratings", message=rating_screen)
    assert alice.last_alert.show_alert
    await alice.send(f"/start {spare_token}")
    assert "deleted at its owner's request" in alice.last_message.text
    newcomer = h.person("Alice's new account")
    await newcomer.send(f"/start {spare_token}")
    assert "deleted at its owner's request" in newcomer.last_message.text
    await newcomer.share_contact(ALICE_PHONE)
    assert "couldn't find a purchase" in newcomer.last_message.text
    with pytest.raises(LinkRefused):
        await identity.issue_link_token(h.rt, "C0001")
    # /rate tells her why there is nothing, instead of asking her to link (she never can again).
    await alice.send("/rate")
    assert "You deleted your data with /forgetme" in alice.last_message.text
    assert "link" not in alice.last_message.text

    await h.admin.send(f"/closeround {open_round}")
    report = await rounds.report(h.rt, open_round)
    assert report["ballots"]["submitted"] == 3  # type: ignore[index]


async def test_pressing_confirm_twice_forgets_once_and_answers_the_second_tap(h: Harness) -> None:
    alice = await h.linked("C0001", "Alice")
    await alice.send("/forgetme")
    question = alice.last_message
    await alice.tap("🗑 Yes, delete my data")
    await alice.tap_data(ForgetButton(True).encode(), question)
    assert "You deleted your data with /forgetme" in alice.last_alert.text and alice.last_alert.show_alert
