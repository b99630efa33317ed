"""The scorecard as readers of the publish channel see it (a chart with an HTML caption), posted step
by step as `bot.domain.publication` records them; the admins' question about a post in doubt; and the
thank-you raters get."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.callbacks import PostButton
from bot.config import Config
from bot.domain import people, publication, rounds, showcase
from bot.domain.offloop import off_loop
from bot.domain.outbox import ThankYou
from bot.domain.publication import Doubt, Publication
from bot.domain.runtime import Runtime
from bot.retry import never_left, own_failures
from bot.scorecard_text import CAPTION_LIMIT, chart_text, overall_text, render_caption
from bot.texts import t, t_plain
from storage.statuses import PublishState

log = logging.getLogger(__name__)


async def chart(report: dict[str, Any], product: str, lang: str, when: datetime | None = None,
                zone: ZoneInfo | None = None) -> bytes:
    """The PNG scorecard, dated `when` as the store's clock (`zone`) shows it; drawn in a worker thread so
    the event loop keeps serving taps."""
    from scoring.chart import render_png  # matplotlib loads only when a chart is drawn

    local = when.astimezone(zone) if when is not None and zone is not None else when
    return await off_loop(render_png, report, chart_text(report, lang, local), product)


async def post_scorecard(bot: Bot, rt: Runtime[Config], claimed: Publication) -> bool:
    """Posts a claimed scorecard to `bot.publish_chat_id` (nothing to post without one) and records how
    it went; False when the chat is rate-limited, so the pass posts nothing more."""
    chat = rt.config.bot.publish_chat_id
    round_id = claimed.round_id
    if not chat:
        await publication.posted(rt, round_id, None, was=PublishState.CLAIMED)
        return True
    lang = rt.config.bot.default_language
    target: int | str = int(chat) if chat.lstrip("-").isdigit() else chat
    closed = (await rounds.get_round(rt, round_id)).closed_at
    png = await chart(claimed.report, claimed.product, lang, closed, rt.config.zone)
    caption = channel_caption(bot, claimed, lang)
    if not await publication.start_sending(rt, claimed):
        return True  # our claim expired and another process took the round: it posts, not us
    try:
        with own_failures():  # every outcome below is recorded; nothing may repeat the post behind our back
            message = await bot.send_photo(target, png, caption=caption, parse_mode="HTML")
    except RetryAfter:
        # The chat's own limit (Telegram allows a bot about 20 posts a minute in a group or channel):
        # posted again once the claim expires, well past any retry_after.
        log.warning("round %s: the publish chat is rate-limited; posting it later", round_id)
        await publication.hand_back(rt, round_id, later=True)
        return False
    except (BadRequest, Forbidden) as exc:  # (BadRequest is a NetworkError to PTB)
        log.warning("round %s: Telegram refused the scorecard: %s", round_id, exc)
        await publication.failed(rt, round_id, exc.message)
        return True
    except NetworkError as exc:
        if never_left(exc):
            log.warning("round %s: posting failed before reaching Telegram (%s); trying again", round_id, exc)
            await publication.hand_back(rt, round_id, later=False)
        else:
            log.warning("round %s: the scorecard post may or may not be in the channel (%s)", round_id, exc)
            await publication.in_doubt(rt, round_id, exc.message)
        return True
    await publication.posted(rt, round_id, message.message_id)
    log.info("round %s published", round_id)
    if message.photo:  # kept so /scores and inline results resend the chart without drawing it again
        await showcase.remember_photo(rt, round_id, lang, message.photo[-1].file_id)
    return True


def channel_caption(bot: Bot, claimed: Publication, lang: str) -> str:
    """The scorecard's caption, ending with the product's deep link so a reader can share or look it up."""
    payload = showcase.product_payload(str(claimed.report.get("sku") or ""))
    if not payload or not bot.username:
        return render_caption(claimed.report, lang, title=claimed.product)
    share = t(lang, "showcase.share", link=f"https://t.me/{bot.username}?start={payload}")
    body = render_caption(claimed.report, lang, title=claimed.product, limit=CAPTION_LIMIT - len(share) - 1)
    return f"{body}\n{share}"


async def ask_admins(bot: Bot, rt: Runtime[Config], doubt: Doubt) -> bool:
    """Tells every admin, in their language, about a post in doubt or refused, with the buttons to
    answer; True when at least one admin got it (else it is asked again on the next pass)."""
    told = False
    for admin in rt.config.bot.admins:
        lang = await people.language_of(rt, admin, None)
        buttons = [InlineKeyboardButton(t_plain(lang, "publish.button.repost"),
                                        callback_data=PostButton(doubt.round_id, repost=True).encode())]
        if doubt.state == PublishState.IN_DOUBT:
            buttons.append(InlineKeyboardButton(t_plain(lang, "publish.button.there"),
                                                callback_data=PostButton(doubt.round_id, repost=False).encode()))
        key = "publish.in_doubt" if doubt.state == PublishState.IN_DOUBT else "publish.failed"
        try:
            await bot.send_message(admin, t(lang, key, round_id=doubt.round_id, product=doubt.product,
                                            error=doubt.error), parse_mode="HTML",
                                   reply_markup=InlineKeyboardMarkup([buttons]))
            told = True
        except TelegramError as exc:
            log.warning("could not ask admin %s about round %s: %s", admin, doubt.round_id, exc)
    return told


def thanks_text(thanks: ThankYou) -> str:
    report, lang = thanks.report, thanks.language
    if report.get("status") == "insufficient" or (report.get("overall") or {}).get("score") is None:
        return t(lang, "thanks.insufficient", product=thanks.product,
                 n=(report.get("ballots") or {}).get("accepted", 0))
    return t(lang, "thanks.published", product=thanks.product, overall=overall_text(report, lang))
