"""The scheduler's research work, called from `bot.jobs.run_once`: open and close due research
rounds, and post each closed one's result to the publish chat — the chart in every language, the
default language's first with the caption."""

from __future__ import annotations

import logging

from sqlalchemy import update
from telegram import Bot
from telegram.error import RetryAfter

from bot.config import Config
from bot.domain import research, research_outbox
from bot.domain.offloop import off_loop
from bot.domain.runtime import Runtime
from bot.domain.settings import LANGUAGES
from bot.research_screens import caption, chart_png
from storage.models import ResearchRound
from storage.statuses import RoundStatus

log = logging.getLogger(__name__)


async def reconcile(bot: Bot, rt: Runtime[Config]) -> None:
    for research_id in await research.due(rt, RoundStatus.SCHEDULED):
        if await research.open_research(rt, research_id):
            log.info("research %s opened", research_id)
    for research_id in await research.due(rt, RoundStatus.OPEN):
        if await research.close_research(rt, research_id):
            log.info("research %s closed", research_id)
    await research.store_missing_results(rt)
    for publication in await research_outbox.claim_publications(rt):
        try:
            message_id = await _post(bot, rt, publication)
        except RetryAfter:
            # As for scorecards: the claim expires and the rest is posted then (what went out is recorded).
            log.warning("research %s: the publish chat is rate-limited; posting it later", publication.research_id)
            return
        await research_outbox.mark_published(rt, publication.research_id, message_id)
        log.info("research %s published", publication.research_id)


async def _post(bot: Bot, rt: Runtime[Config], publication: research_outbox.ResearchPublication) -> int | None:
    chat = rt.config.bot.publish_chat_id
    if not chat:
        return None
    target: int | str = int(chat) if chat.lstrip("-").isdigit() else chat
    first = rt.config.bot.default_language
    report = publication.report
    first_id = (await research.get(rt, publication.research_id)).publish_message_id
    for lang in (first, *(x for x in LANGUAGES if x != first)):
        if lang == first and first_id is not None:
            continue  # posted before a rate limit stopped the rest
        category = publication.category(lang)
        png = await off_loop(chart_png, report, lang, category)
        message = await bot.send_photo(target, png, caption=caption(report, lang, category), parse_mode="HTML")
        if lang == first:
            first_id = message.message_id
            async with rt.db.session() as s:
                await s.execute(update(ResearchRound).where(ResearchRound.id == publication.research_id)
                                .values(publish_message_id=first_id))
    return first_id
