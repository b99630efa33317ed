"""The scorecard as readers of the publish channel see it (a chart with an HTML caption), and the
thank-you raters get."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from telegram import Bot

from bot.config import Config
from bot.domain import rounds
from bot.domain.outbox import Publication, ThankYou
from bot.domain.runtime import Runtime
from bot.scorecard_text import chart_text, overall_text, render_caption
from bot.texts import t


async def chart(report: dict[str, Any], product: str, lang: str, when: datetime | None = None) -> bytes:
    """The PNG scorecard, dated `when`; drawn in a worker thread so the event loop keeps serving taps."""
    from scoring.chart import render_png  # matplotlib loads only when a chart is drawn

    return await asyncio.to_thread(render_png, report, chart_text(report, lang, when), product)


async def post_scorecard(bot: Bot, rt: Runtime[Config], publication: Publication) -> int | None:
    """Posts the chart with its caption to `bot.publish_chat_id`; nothing to post without one."""
    chat = rt.config.bot.publish_chat_id
    if not chat:
        return None
    lang = rt.config.bot.default_language
    target: int | str = int(chat) if chat.lstrip("-").isdigit() else chat
    closed = (await rounds.get_round(rt, publication.round_id)).closed_at
    png = await chart(publication.report, publication.product, lang, closed)
    caption = render_caption(publication.report, lang, title=publication.product)
    message = await bot.send_photo(target, png, caption=caption, parse_mode="HTML")
    return message.message_id


def thanks_text(thanks: ThankYou) -> str:
    report, lang = thanks.report, thanks.language
    if report.get("status") == "insufficient" or (report.get("overall") or {}).get("score") is None:
        return t(lang, "thanks.insufficient", product=thanks.product,
                 n=(report.get("ballots") or {}).get("accepted", 0))
    return t(lang, "thanks.published", product=thanks.product, overall=overall_text(report, lang))
