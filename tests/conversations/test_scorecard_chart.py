"""The scorecard picture the publish channel gets, in the store's language, at phone width."""

from __future__ import annotations

import struct

import pytest

from bot.domain import rounds
from bot.scorecard_text import chart_text
from scoring.chart import WIDTH_PX, render_png
from tests.conversations.conftest import Harness, rate_at_human_pace, scorecard_post


@pytest.mark.parametrize(("lang", "overall"), [
    pytest.param("en", "Overall", marks=pytest.mark.bot_config(default_language="en")),
    pytest.param("zh", "总分", marks=pytest.mark.bot_config(default_language="zh")),
])
async def test_the_channel_gets_the_phone_width_chart_in_the_stores_language(h: Harness, lang: str,
                                                                            overall: str) -> None:
    buyers = [await h.linked(f"C{n:04d}", f"Buyer{n}") for n in range(1, 4)]
    round_id = await h.open_round(duration="2h")
    await rate_at_human_pace(h, buyers, vary=True)
    post = await scorecard_post(h, buyers)
    assert post.photo is not None and struct.unpack(">II", post.photo[16:24])[0] == WIDTH_PX
    assert post.caption is not None and overall in post.caption
    rnd = await rounds.get_round(h.rt, round_id)
    report = await rounds.report(h.rt, round_id)
    info = await rounds.round_info(h.rt, round_id)
    # Byte for byte the chart of the round's report in the store's language, dated by its close.
    assert post.photo == render_png(report, chart_text(report, lang, rnd.closed_at), info.product)
