"""A stranger — never linked, never invited — looks results up in the bot."""

from __future__ import annotations

import asyncio

from bot.domain import showcase
from tests.conversations.conftest import Harness
from tests.site.conftest import publish_three_products


async def test_a_stranger_browses_categories_then_products_then_a_scorecard_and_its_history(h: Harness) -> None:
    await publish_three_products(h.rt)
    stranger = h.person("Stranger")
    await stranger.send("/scores")
    assert "Choose a category" in stranger.last_message.text
    assert stranger.last_message.button_texts == ["Face cream · 1", "Shampoo · 2"]
    await stranger.tap("Shampoo · 2")
    assert "Shampoo" in stranger.last_message.text
    await stranger.tap("Silkroot")
    card = stranger.last_message
    assert card.media_kind == "photo" and "Silkroot" in (card.caption or "")
    await stranger.tap("📈 History (2 rounds)")
    history = stranger.last_message
    assert history.media_kind == "photo"  # the trend picture, for two rounds
    assert (history.caption or "").count("/ 5 from 60 buyers") == 2


async def test_a_shared_product_link_opens_its_latest_scorecard_for_anyone(h: Harness) -> None:
    await publish_three_products(h.rt)
    friend = h.person("Friend", language="zh")
    await friend.open_link(h.sandbox.deep_link("p_SHAMPOO-002"))
    assert friend.last_message.media_kind == "photo"
    assert "Lanxi" in (friend.last_message.caption or "")
    await friend.open_link(h.sandbox.deep_link("p_SHAMPOO-003"))
    assert "还没有发布过评分" in friend.last_message.text


async def test_inline_mode_offers_matching_scorecards_for_a_chinese_and_an_english_query(h: Harness) -> None:
    await publish_three_products(h.rt)
    shopper = h.person("Shopper")
    chinese = await shopper.inline_query("洗发水")
    english = await shopper.inline_query("shampoo")
    assert sorted(r.id for r in chinese.results) == sorted(r.id for r in english.results)
    assert len(chinese.results) == 2
    assert all("Little Red Heart" in (r.message_text or r.caption or "") for r in chinese.results)
    # Once the bot has sent a scorecard's picture, inline results reuse it as a photo.
    await shopper.open_link(h.sandbox.deep_link("p_FACECREAM-001"))
    [face] = (await shopper.inline_query("face cream")).results
    assert face.type == "photo" and face.photo_file_id is not None
    friend = h.person("Friend")
    await shopper.choose_inline_result(face, chat=friend)
    assert shopper.chat_with(friend)[-1].media_kind == "photo"


async def test_top_shows_products_whose_intervals_overlap_as_a_tie(h: Harness) -> None:
    await publish_three_products(h.rt)
    stranger = h.person("Stranger")
    await stranger.send("/top shampoo")
    text = stranger.last_message.text
    assert "1–2 (tied). Silkroot" in text and "1–2 (tied). Lanxi" in text
    assert "Tied means the intervals overlap" in text
    await stranger.send("/top 洗发水 aroma")
    assert "Aroma" in stranger.last_message.text
    await stranger.send("/top lipstick")
    assert "No category lipstick" in stranger.last_message.text


async def test_compare_calls_a_factor_whose_intervals_overlap_a_tie(h: Harness) -> None:
    await publish_three_products(h.rt)
    stranger = h.person("Stranger")
    await stranger.send("/compare SHAMPOO-001 SHAMPOO-002")
    lines = stranger.last_message.text.splitlines()
    assert any(line.startswith("Cleanliness:") and line.endswith("a tie") for line in lines)
    assert any(line.startswith("Aroma:") and line.endswith("the second is better") for line in lines)
    await stranger.send("/compare SHAMPOO-001 NOPE")
    assert "There is no product with SKU NOPE" in stranger.last_message.text


async def test_a_channel_post_carries_the_products_link_and_its_picture_serves_inline_results(h: Harness) -> None:
    from tests.admin.test_console import a_round_rated_by

    round_id, _ = await a_round_rated_by(h, 4)
    await h.admin.send(f"/closeround {round_id}")
    await h.admin.wait_for(lambda _: h.channel_posts() != [])
    [post] = h.channel_posts()
    assert post.endswith(h.sandbox.deep_link("p_SHAMPOO-001"))
    for _ in range(500):  # the bot keeps the picture's file_id right after the post: wait for that step
        if await showcase.photo_for(h.rt, round_id, "en") is not None:
            break
        await asyncio.sleep(0.01)
    [result] = (await h.person("Reader").inline_query("SHAMPOO-001")).results
    assert result.type == "photo"  # the channel's own picture, by file_id: nothing drawn twice
