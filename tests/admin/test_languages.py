"""Both languages end to end: a Chinese-speaking buyer sees Chinese, and /language switches."""

from __future__ import annotations

from datetime import timedelta

from tests.conversations.conftest import Harness, invitation


async def test_a_chinese_buyer_rates_in_chinese_with_the_categorys_chinese_labels(h: Harness) -> None:
    wang = await h.linked("C0001", "王", language="zh")
    assert "关联成功" in wang.last_message.text
    await h.open_round()
    await invitation(wang)
    assert "小红心" in wang.last_message.text
    assert "❤️ 立即评分" in wang.last_message.button_texts
    await wang.tap("❤️ 立即评分")
    screen = wang.last_message
    assert "1/6" in screen.text and "洁净力" in screen.text and "洗完后头皮和头发感觉干净清爽吗？" in screen.text
    assert "🤷 说不准" in screen.button_texts
    for score in "453425":
        h.clock.advance(timedelta(seconds=5))
        await wang.tap(score, message=screen)
    assert "您的评分" in screen.text and "洁净力：❤️❤️❤️❤️🤍 4" in screen.text and "点击某一项可修改" in screen.text
    await wang.tap("✅ 提交评分", message=screen)
    assert "感谢评分" in screen.text and "计为一票" in screen.text
    await wang.send("/myratings")
    assert "洁净力" in wang.last_message.text
    await wang.send("/help")
    assert "/forgetme — 删除我的个人数据" in wang.last_message.text


async def test_language_switches_both_ways_and_the_choice_outranks_the_telegram_language(h: Harness) -> None:
    wang = h.person("王", language="zh")
    await wang.send("/language")
    await wang.tap("English")
    assert wang.last_message.text == "Language set to English."
    await wang.send("/help")
    assert "Little Red Heart" in wang.last_message.text and "小红心" not in wang.last_message.text
    await h.restart()  # the choice is in the database, not in memory
    await wang.send("/stop")
    assert "link your account first" in wang.last_message.text
    alice = h.person("Alice", language="en")
    await alice.send("/language")
    await alice.tap("中文")
    assert alice.last_message.text == "已切换为中文。"
    await alice.send("/nonsense")
    assert "抱歉，暂不支持这个指令" in alice.last_message.text


async def test_an_unknown_telegram_language_falls_back_to_the_configured_default(h: Harness) -> None:
    pierre = h.person("Pierre", language="fr")
    await pierre.send("/help")
    assert "Little Red Heart" in pierre.last_message.text  # the test config's default is "en"
