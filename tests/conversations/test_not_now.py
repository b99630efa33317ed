""""Not now" on an invitation declines it for now: no ballot begun, so "started" counts only buyers who
opened their ballot; a not-invited buyer or a closed round is refused as Rate now would be."""

from __future__ import annotations

from sqlalchemy import select

from bot.callbacks import InviteButton, InviteChoice
from bot.domain import rounds
from bot.sandbox import SimUser
from storage.models import Ballot, Invitation
from tests.conversations.conftest import Harness


def invited(user: SimUser) -> bool:
    return any("❤️ Rate now" in m.button_texts for m in user.messages)


async def ballots_and_declines(h: Harness, round_id: int) -> tuple[int, list[int]]:
    async with h.rt.db.session() as s:
        ballots = len(list(await s.scalars(select(Ballot.id).where(Ballot.round_id == round_id))))
        declined = list(await s.scalars(select(Invitation.telegram_user_id).where(
            Invitation.round_id == round_id, Invitation.declined_at.is_not(None))))
    return ballots, declined


async def test_not_now_begins_no_ballot_and_started_stays_at_zero(h: Harness) -> None:
    alice = await h.linked("C0001", "Alice")
    round_id = await h.open_round()
    await alice.wait_for(invited)
    await alice.tap("Not now")
    assert "/rate brings it back" in alice.last_message.text
    assert await ballots_and_declines(h, round_id) == (0, [alice.id])
    assert (await rounds.round_info(h.rt, round_id)).stats.started == 0
    await alice.send("/rate")  # and the invitation still stands
    assert "1/6" in alice.last_message.text
    assert (await rounds.round_info(h.rt, round_id)).stats.started == 1


async def test_not_now_from_someone_not_invited_or_after_the_close_is_refused(h: Harness) -> None:
    alice = await h.linked("C0001", "Alice")
    olga = await h.linked("C0058", "Olga")  # bought face cream only: never invited to the shampoo
    round_id = await h.open_round()
    await alice.wait_for(invited)
    await olga.tap_data(InviteButton(round_id, InviteChoice.NOT_NOW).encode(), olga.last_message)
    assert "not invited" in olga.last_alert.text and olga.last_alert.show_alert
    await h.admin.send(f"/closeround {round_id}")
    await alice.tap("Not now")
    assert "closed" in alice.last_alert.text and alice.last_alert.show_alert
    assert await ballots_and_declines(h, round_id) == (0, [])
