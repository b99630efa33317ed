"""A research round against a real database: its result, its export, and adopting it as the
category's next factor set version."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.domain import research, rounds
from bot.domain.clock import ManualClock
from bot.domain.errors import AdoptRefused, NotInvited, NotLinked, RoundClosed
from bot.domain.research_export import export_research, score_export
from bot.domain.runtime import Runtime
from storage.models import AuditEntry, Invitation, RoundFactor
from tests.research.helpers import answer, link, published_research


async def test_eligible_buyers_of_the_category_are_invited_through_the_shared_outbox(
    rt: Runtime, clock: ManualClock
) -> None:
    await link(rt, range(1, 6))
    await link(rt, range(58, 59))  # C0058 bought face cream only
    research_id = await research.schedule(rt, "shampoo", actor="test", duration=timedelta(hours=2), quota=100)
    await research.open_research(rt, research_id)
    async with rt.db.session() as s:
        invited = sorted(await s.scalars(select(Invitation.customer_id)
                                         .where(Invitation.research_round_id == research_id)))
    assert invited == [f"C{n:04d}" for n in range(1, 6)]
    info = await research.info(rt, research_id)
    assert (info.status, info.candidates, info.factor_set, info.invited) == ("open", 10, 1, 5)
    with pytest.raises(NotInvited):
        from bot.domain import research_responses

        await research_responses.begin(rt, research_id, 70058)


async def test_the_published_result_ranks_what_buyers_care_about_and_names_the_factor_set(
    rt: Runtime, clock: ManualClock
) -> None:
    research_id = await published_research(rt, clock)
    report = await research.report(rt, research_id)
    assert report["status"] == "published" and report["factor_set"] == 1
    assert report["respondents"] == {"submitted": 30, "accepted": 30, "excluded": {}}
    rank = {c["key"]: c["rank"] for c in report["candidates"]}
    # The design's seed is drawn at opening, so only what 30 buyers settle every time is asserted:
    # the most and the least important, 2.7 logits apart, land at their ends.
    assert rank["cleanliness"] <= 3 and rank["packaging"] >= 8
    assert all(c["ci"][0] <= c["share"] <= c["ci"][1] for c in report["candidates"])
    assert next(c for c in report["candidates"] if c["key"] == "cleanliness")["label_zh"] == "洁净力"


async def test_the_export_recomputes_the_published_result_exactly(rt: Runtime, clock: ManualClock) -> None:
    research_id = await published_research(rt, clock)
    text, document = await export_research(rt, research_id)
    stored = await research.report(rt, research_id)
    stored.pop("adopted_version")
    recomputed = score_export("r.csv", text, json.loads(json.dumps(document)))
    assert recomputed == stored
    header, first, *rest = text.splitlines()
    cells = first.split(",")
    cells[5], cells[6] = cells[6], cells[5]  # one answer changed: most and least swapped
    swapped = "\n".join([header, ",".join(cells), *rest]) + "\n"
    assert score_export("r.csv", swapped, document)["candidates"] != stored["candidates"]
    cells[6] = "nope"
    with pytest.raises(ValueError, match=r"r\.csv:2: most and least must be two different candidates"):
        score_export("r.csv", "\n".join([header, ",".join(cells)]), document)


async def test_adoption_creates_version_2_and_only_rounds_opened_afterwards_rate_it(
    rt: Runtime, clock: ManualClock
) -> None:
    before = await rounds.schedule_round(rt, "SHAMPOO-001", actor="test")
    await rounds.open_round(rt, before)
    research_id = await published_research(rt, clock)
    ranked = [c["key"] for c in (await research.report(rt, research_id))["candidates"]]

    version, keys = await research.adopt(rt, research_id, actor="test", top=6)
    assert (version, keys) == (2, ranked[:6])
    with pytest.raises(AdoptRefused):
        await research.adopt(rt, research_id, actor="test")

    after = await rounds.schedule_round(rt, "SHAMPOO-002", actor="test")  # one open round per product
    await rounds.open_round(rt, after)
    async with rt.db.session() as s:
        rated = {rid: list(await s.scalars(select(RoundFactor.key).where(RoundFactor.round_id == rid)
                                           .order_by(RoundFactor.position))) for rid in (before, after)}
    assert rated[after] == ranked[:6]
    assert rated[before] == ["cleanliness", "aroma", "dandruff_control", "conditioning", "moisturizing",
                             "anti_hair_loss"]
    assert (await rounds.get_round(rt, before)).factor_set == 1
    assert (await rounds.get_round(rt, after)).factor_set == 2
    await rounds.close_round(rt, after)
    assert (await rounds.report(rt, after))["factor_set"] == 2
    assert (await research.report(rt, research_id))["adopted_version"] == 2


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"top": 4}, "error.adopt.count"), ({"top": 11}, "error.adopt.count"),
    ({"keys": ["aroma", "lather", "nope", "packaging", "lather"]}, "error.adopt.unknown_keys"),
    ({"keys": ["aroma", "lather", "aroma", "packaging", "moisturizing"]}, "error.adopt.duplicate_keys"),
])
async def test_adopting_a_wrong_number_or_unknown_keys_is_refused(rt: Runtime, clock: ManualClock,
                                                                  kwargs: dict[str, object], reason: str) -> None:
    research_id = await published_research(rt, clock, buyers=5)
    with pytest.raises(AdoptRefused) as refused:
        await research.adopt(rt, research_id, actor="test", **kwargs)  # type: ignore[arg-type]
    assert refused.value.key == reason


async def test_adopting_chosen_keys_keeps_the_ranked_order(rt: Runtime, clock: ManualClock) -> None:
    research_id = await published_research(rt, clock, buyers=5)
    ranked = [c["key"] for c in (await research.report(rt, research_id))["candidates"]]
    chosen = list(reversed(ranked[2:7]))
    _version, keys = await research.adopt(rt, research_id, actor="test", keys=chosen)
    assert keys == ranked[2:7]


async def test_an_open_research_round_cannot_be_adopted_and_answers_after_the_close_are_refused(
    rt: Runtime, clock: ManualClock
) -> None:
    await link(rt, range(1, 3))
    research_id = await research.schedule(rt, "shampoo", actor="test", duration=timedelta(hours=1))
    await research.open_research(rt, research_id)
    with pytest.raises(AdoptRefused):
        await research.adopt(rt, research_id, actor="test")
    clock.advance(timedelta(hours=2))
    import random

    with pytest.raises(RoundClosed):
        await answer(rt, clock, research_id, 70001, random.Random(1))


async def test_too_few_accepted_responses_publish_as_insufficient(rt: Runtime, clock: ManualClock) -> None:
    research_id = await published_research(rt, clock, buyers=2)  # min_ballots is 3 in tests
    report = await research.report(rt, research_id)
    assert report["status"] == "insufficient"
    with pytest.raises(AdoptRefused):
        await research.adopt(rt, research_id, actor="test")
    async with rt.db.session() as s:
        assert list(await s.scalars(select(AuditEntry))) == []  # the domain audits nothing itself


async def test_a_forgotten_buyer_s_open_response_is_withdrawn_and_a_closed_one_still_recomputes(
    rt: Runtime, clock: ManualClock
) -> None:
    from bot.domain import privacy, research_responses

    research_id = await published_research(rt, clock, buyers=6)
    before = await research.report(rt, research_id)
    await privacy.forget(rt, 70001)  # a respondent of the closed round
    text, document = await export_research(rt, research_id)
    before.pop("adopted_version")
    assert score_export("r.csv", text, document) == before

    await link(rt, range(20, 21))
    open_id = await research.schedule(rt, "shampoo", actor="test", duration=timedelta(hours=1))
    await research.open_research(rt, open_id)
    import random

    await answer(rt, clock, open_id, 70020, random.Random(3))
    await privacy.forget(rt, 70020)
    assert (await research.info(rt, open_id)).submitted == 0
    with pytest.raises(NotLinked):
        await research_responses.begin(rt, open_id, 70020)
