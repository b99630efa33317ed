"""A research round end to end, through HTTP to the sandbox: buyers pick what matters most and least,
the scheduler closes and publishes the importance chart, an admin adopts the result."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.domain import identity, research
from bot.domain import rounds as rounds_module
from bot.sandbox import SimUser
from bot.sandbox.models import StoredMessage
from storage.models import ResearchResponse, Round, RoundFactor
from tests.conftest import CHANNEL
from tests.conversations.conftest import Harness, replies

SETS = 6


def research_invited(user: SimUser) -> bool:
    return any("🔬 Start" in m.button_texts for m in user.messages)


async def open_research(h: Harness, duration: str = "2h") -> int:
    await h.admin.send(f"/newresearch shampoo {duration}")
    assert "scheduled" in h.admin.last_message.text, h.admin.last_message.text
    return int(h.admin.last_message.text.split()[1])


def candidates(user: SimUser, message: StoredMessage | None = None) -> list[str]:
    """The candidate buttons of the survey's screen (without Back / Submit)."""
    shown = message or [m for m in user.messages if m.buttons][-1]
    return [t for t in shown.button_texts if not t.startswith(("«", "✅"))]


async def answer_sets(h: Harness, user: SimUser, sets: range, shift: int = 0) -> None:
    """Most, then least among the rest, for each set; positions vary as an attentive reader's would."""
    for k in sets:
        h.clock.advance(timedelta(seconds=6))
        await user.tap(candidates(user)[(k + shift) % 4])
        await user.tap(candidates(user)[(k + shift + 1) % 3])


async def responses_of(h: Harness, research_id: int) -> list[ResearchResponse]:
    async with h.rt.db.session() as s:
        return list(await s.scalars(select(ResearchResponse).where(ResearchResponse.round_id == research_id)))


async def test_a_respondent_answers_every_set_most_then_least_among_the_other_three(h: Harness) -> None:
    alice = await h.linked("C0001", "Alice")
    research_id = await open_research(h)
    await alice.wait_for(research_invited)
    assert "matters most" in alice.last_message.text or "Which qualities" in alice.last_message.text
    await alice.tap("🔬 Start")
    survey = alice.last_message.message_id
    assert "1/6" in alice.last_message.text and "MOST" in alice.last_message.text
    assert "choosing a shampoo" in alice.last_message.text
    first = candidates(alice)
    assert len(first) == 4
    await alice.tap(first[2])
    assert "LEAST" in alice.last_message.text and f"Most: {first[2]}" in alice.last_message.text
    assert candidates(alice) == [first[0], first[1], first[3]]  # the other three, in their order
    await alice.tap(first[0])
    assert "2/6" in alice.last_message.text
    await answer_sets(h, alice, range(1, SETS))
    assert "your answers" in alice.last_message.text
    await alice.tap("✅ Submit")
    assert "Thank you" in alice.last_message.text
    assert alice.last_message.message_id == survey  # one message, edited in place
    [response] = await responses_of(h, research_id)
    assert response.status == "submitted" and len(response.submitted or {}) == SETS
    assert response.submitted["0"] == [2, 0]
    assert all(most != least for most, least in (response.submitted or {}).values())
    assert all(len(set(s)) == 4 for s in response.sets)


async def test_back_and_resuming_after_leaving_and_after_a_restart(h: Harness) -> None:
    alice = await h.linked("C0001", "Alice")
    research_id = await open_research(h)
    await alice.wait_for(research_invited)
    await alice.tap("🔬 Start")
    await answer_sets(h, alice, range(2))
    assert "3/6" in alice.last_message.text
    await alice.tap("« Back")
    assert "2/6" in alice.last_message.text and "LEAST" in alice.last_message.text
    assert any(t.endswith("✓") for t in candidates(alice))  # the earlier least pick is shown
    await alice.tap("« Back")
    assert "2/6" in alice.last_message.text and "MOST" in alice.last_message.text
    old = alice.last_message
    await alice.send("/help")  # she leaves the survey for something else
    await h.restart()
    await alice.tap(candidates(alice, old)[1], message=old)  # the survey's own buttons still work
    assert "2/6" in old.text and "LEAST" in old.text
    await alice.tap(candidates(alice, old)[0], message=old)
    assert "3/6" in old.text
    await answer_sets(h, alice, range(2, SETS))
    await alice.tap("✅ Submit")
    [response] = await responses_of(h, research_id)
    assert response.submitted is not None and response.submitted["1"][0] == 1


async def test_a_double_tap_and_a_second_account_of_the_same_customer_leave_one_response(h: Harness) -> None:
    alice = await h.linked("C0001", "Alice")
    research_id = await open_research(h)
    await alice.wait_for(research_invited)
    await alice.tap("🔬 Start")
    first = candidates(alice)[0]
    data = alice.last_message.buttons[0][0].callback_data
    await alice.tap(first)
    await alice.tap_data(data)  # the same button again, a moment later
    assert "out of date" in alice.last_alert.text and alice.last_alert.show_alert
    assert "LEAST" in alice.last_message.text
    await alice.tap(candidates(alice)[0])
    await answer_sets(h, alice, range(1, SETS))
    submit = alice.last_message.buttons[0][0].callback_data
    await alice.tap("✅ Submit")
    await alice.tap_data(submit)
    assert "out of date" in alice.last_alert.text
    second = h.person("Alice's other account")
    await replies(second, {f"/start {await identity.issue_link_token(h.rt, 'C0001')}":
                           "already linked to another Telegram account"})
    await second.tap_data(f"q:{research_id}:r", message=alice.last_message)
    assert "link your account" in second.last_alert.text
    await alice.tap("✏️ Change my answers")
    assert "1/6" in alice.last_message.text and any(t.endswith("✓") for t in candidates(alice))
    await answer_sets(h, alice, range(SETS), shift=1)
    await alice.tap("✅ Submit")
    assert "Updated" in alice.last_message.text
    [response] = await responses_of(h, research_id)
    assert response.revisions == 1 and response.status == "submitted"


async def test_a_stale_button_after_the_close_gets_an_alert_and_the_result_is_posted_and_adopted(h: Harness) -> None:
    buyers = [await h.linked(f"C{n:04d}", f"Buyer{n}") for n in range(1, 5)]
    rated_before = await h.open_round()  # a rating round open before the adoption
    research_id = await open_research(h)
    for i, buyer in enumerate(buyers):
        await buyer.wait_for(research_invited)
        await buyer.tap("🔬 Start")
        await answer_sets(h, buyer, range(SETS), shift=i)
        if i < 3:
            await buyer.tap("✅ Submit")
    late = buyers[3]
    before = late.last_message.text
    h.clock.advance(timedelta(hours=2, minutes=1))
    await h.admin.wait_for(lambda _u: len(h.sandbox.chat_messages(CHANNEL)) >= 2, timeout=15)
    await late.tap("✅ Submit")
    assert "survey has closed" in late.last_alert.text and late.last_alert.show_alert
    assert late.last_message.text == before
    posts = h.sandbox.chat_messages(CHANNEL)
    assert all(p.photo and p.photo.startswith(b"\x89PNG") for p in posts[-2:])
    captions = [p.caption or "" for p in posts[-2:]]
    assert "what matters most to buyers" in captions[0] and "factor set v1" in captions[0]
    assert "买家最看重什么" in captions[1]
    for _ in range(100):  # the channel has both posts a moment before the round is marked published
        if (await research.get(h.rt, research_id)).status == "published":
            break
        await asyncio.sleep(0.05)
    await h.admin.send(f"/adopt {research_id} 4")
    assert "Usage" in h.admin.last_message.text
    await h.admin.send(f"/adopt {research_id}")
    assert "Factor set v2 of shampoo" in h.admin.last_message.text
    await h.admin.send(f"/adopt {research_id}")
    assert "already adopted as factor set v2" in h.admin.last_message.text
    await h.admin.send("/method")
    assert "shampoo v2: " in h.admin.last_message.text and "face_cream v1: " in h.admin.last_message.text
    rated_after = await h.open_round("SHAMPOO-002")  # SHAMPOO-001's round is still open
    for _ in range(100):  # the scheduler opens it at its next tick
        if (await rounds_module.get_round(h.rt, rated_after)).status == "open":
            break
        await asyncio.sleep(0.1)
    async with h.rt.db.session() as s:
        rounds = {r.id: r for r in await s.scalars(select(Round))}
        factors = {rid: [f.key for f in await s.scalars(select(RoundFactor).where(RoundFactor.round_id == rid)
                                                         .order_by(RoundFactor.position))]
                   for rid in (rated_before, rated_after)}
    adopted = [c["key"] for c in (await research_report(h, research_id))["candidates"][:5]]
    assert (rounds[rated_before].factor_set, len(factors[rated_before])) == (1, 6)
    assert (rounds[rated_after].factor_set, factors[rated_after]) == (2, adopted)


async def research_report(h: Harness, research_id: int) -> dict[str, object]:
    return await research.report(h.rt, research_id)


async def test_only_admins_may_open_research_and_bad_input_gets_a_clear_message(h: Harness) -> None:
    alice = await h.linked("C0001", "Alice")
    await replies(alice, {"/newresearch shampoo": "don't know that command", "/adopt 1": "don't know that command"})
    await replies(h.admin, {"/newresearch": "Usage: /newresearch", "/newresearch lotion": "no category lotion",
                            "/newresearch shampoo 3x": "Usage: /newresearch", "/adopt x": "Usage: /adopt",
                            "/adopt 99": "no research round 99", "/adopt 1 11": "Usage: /adopt"})
