"""For anyone, linked or not: /scores, a product's deep link, /top, /compare and inline mode."""

from __future__ import annotations

from telegram import (
    Bot,
    InlineQueryResultArticle,
    InlineQueryResultCachedPhoto,
    InputTextMessageContent,
    Update,
)

from bot import showcase_text
from bot.callbacks import Shelf, ShowcaseButton
from bot.context import Context
from bot.domain import showcase
from bot.domain.errors import DomainError, UnknownProduct
from bot.domain.runtime import Runtime
from bot.handlers.common import language, on_button, refusing, reply, runtime
from bot.publishing import chart
from bot.scorecard_text import render_caption
from bot.texts import t, t_plain

# How long Telegram may reuse an inline answer for the same query: scorecards change once a round.
INLINE_CACHE_SECONDS = 300


async def scores(update: Update, context: Context) -> None:
    """Lists the categories with published scorecards, as buttons."""
    lang = await language(update, context)
    text, markup = showcase_text.categories_screen(await showcase.categories(runtime(context)), lang)
    await reply(update, text, reply_markup=markup)


@on_button(ShowcaseButton)
async def browse(update: Update, context: Context, button: ShowcaseButton) -> None:
    """Moves through categories, products, a scorecard, its history and its category's ranking."""
    query = update.callback_query
    assert query is not None and query.message is not None
    # Shown first, answered last: the answer ends the client's spinner, so by then the screen is there.
    await _show(context.bot, runtime(context), query.message.chat.id, button, await language(update, context))
    await query.answer()


async def _show(bot: Bot, rt: Runtime, chat_id: int, button: ShowcaseButton, lang: str) -> None:
    try:
        if button.shelf is not Shelf.CATEGORIES:
            card = await showcase.published(rt, button.round_id)
            if button.shelf is Shelf.SCORECARD:
                await send_scorecard(bot, rt, chat_id, card, lang)
            elif button.shelf is Shelf.HISTORY:
                await send_history(bot, rt, chat_id, card, lang)
            elif button.shelf is Shelf.RANKING:
                ranking = await showcase.ranking(rt, card.category)
                text = showcase_text.ranking_text(ranking, card.category_name(lang), None, lang)
                await bot.send_message(chat_id, text, parse_mode="HTML")
            else:
                cards = await showcase.latest(rt, category=card.category)
                text, markup = showcase_text.category_screen(cards, button.page, lang)
                await bot.send_message(chat_id, text, parse_mode="HTML", reply_markup=markup)
            return
    except DomainError:
        pass  # a scorecard that is no longer published: start over from the categories
    text, categories = showcase_text.categories_screen(await showcase.categories(rt), lang)
    await bot.send_message(chat_id, text, parse_mode="HTML", reply_markup=categories)


async def send_scorecard(bot: Bot, rt: Runtime, chat_id: int, card: showcase.Card, lang: str) -> None:
    """The scorecard photo with its caption and buttons; drawn once per language, then resent by file_id."""
    rounds = len(await showcase.history(rt, card.sku))
    caption = render_caption(card.report, lang, title=card.product)
    markup = showcase_text.scorecard_buttons(card, rounds, lang)
    cached = await showcase.photo_for(rt, card.round_id, lang)
    photo = cached or await chart(dict(card.report), card.product, lang)
    sent = await bot.send_photo(chat_id, photo, caption=caption, parse_mode="HTML", reply_markup=markup)
    if cached is None and sent.photo:
        await showcase.remember_photo(rt, card.round_id, lang, sent.photo[-1].file_id)


async def send_history(bot: Bot, rt: Runtime, chat_id: int, card: showcase.Card, lang: str) -> None:
    """A product's published rounds: a trend picture from two rounds on, and the list in words."""
    cards = await showcase.history(rt, card.sku)
    text = showcase_text.history_text(cards, lang)
    points = [showcase_text.trend_point(c) for c in cards]
    scored = [p for p in points if p is not None]
    if len(scored) < 2:
        await bot.send_message(chat_id, text, parse_mode="HTML")
        return
    from scoring.trend import render_trend_png  # matplotlib loads only when a picture is drawn

    png = render_trend_png(scored, card.product, t_plain(lang, "compare.overall"))
    await bot.send_photo(chat_id, png, caption=text, parse_mode="HTML")


async def show_product(update: Update, context: Context, sku: str) -> None:
    """A product's deep link (`/start p_SKU`): its latest scorecard, or why there is none."""
    rt, lang = runtime(context), await language(update, context)
    assert update.effective_chat is not None
    try:
        card = await showcase.latest_of(rt, sku)
    except UnknownProduct as unknown:
        await reply(update, t(lang, unknown.key, **unknown.params))
        return
    if card is None:
        await reply(update, t(lang, "showcase.not_published", product=sku))
        return
    await send_scorecard(context.bot, rt, update.effective_chat.id, card, lang)


@refusing(UnknownProduct)
async def top(update: Update, context: Context) -> None:
    """Ranks a category's published products on the overall, or on one factor: /top CATEGORY [FACTOR]."""
    rt, lang = runtime(context), await language(update, context)
    args = context.args or []
    if not 1 <= len(args) <= 2:
        await reply(update, t(lang, "top.usage"))
        return
    shelves = await showcase.categories(rt)
    wanted = args[0].casefold()
    shelf = next((s for s in shelves if wanted in (s.key.casefold(), s.name.en.casefold(), s.name.zh)), None)
    if shelf is None:
        await reply(update, t(lang, "top.unknown_category", category=args[0],
                              known=", ".join(s.name(lang) for s in shelves) or "—"))
        return
    factor = label = None
    if len(args) == 2:
        cards = await showcase.latest(rt, category=shelf.key)
        keys = {str(f["key"]) for c in cards for f in c.report.get("factors", [])}
        factor = next((k for k in sorted(keys) for c in cards
                       if args[1].casefold() in (k.casefold(), c.factor_label(k, "en").casefold(),
                                                 c.factor_label(k, "zh"))), None)
        if factor is None:
            await reply(update, t(lang, "top.unknown_factor", factor=args[1], category=shelf.name(lang),
                                  known=", ".join(cards[0].factor_label(k, lang) for k in sorted(keys)) or "—"))
            return
        label = next(c.factor_label(factor, lang) for c in cards)
    ranking = await showcase.ranking(rt, shelf.key, factor)
    await reply(update, showcase_text.ranking_text(ranking, shelf.name(lang), label, lang))


@refusing(UnknownProduct)
async def compare(update: Update, context: Context) -> None:
    """Two products' latest scorecards factor by factor, saying where the difference is real."""
    lang = await language(update, context)
    args = context.args or []
    if len(args) != 2:
        await reply(update, t(lang, "compare.usage"))
        return
    compared = await showcase.comparison(runtime(context), args[0], args[1])
    await reply(update, showcase_text.comparison_text(compared, lang))


async def inline_query(update: Update, context: Context) -> None:
    """`@bot query` in any chat: matching published scorecards, as photos when Telegram has them."""
    query = update.inline_query
    assert query is not None
    rt, lang = runtime(context), await language(update, context)
    results: list[InlineQueryResultArticle | InlineQueryResultCachedPhoto] = []
    for card in await showcase.search(rt, query.query, limit=20):
        caption = render_caption(card.report, lang, title=card.product)
        file_id = await showcase.photo_for(rt, card.round_id, lang)
        if file_id is not None:
            results.append(InlineQueryResultCachedPhoto(f"r{card.round_id}", file_id, caption=caption,
                                                        parse_mode="HTML"))
            continue
        score = "—" if card.overall is None else f"{card.overall.score:.2f}"
        results.append(InlineQueryResultArticle(
            f"r{card.round_id}",
            t_plain(lang, "inline.title", product=card.product, score=score),
            InputTextMessageContent(caption, parse_mode="HTML"),
            description=t_plain(lang, "inline.description", category=card.category_name(lang),
                                raters=(card.report.get("overall") or {}).get("n", 0)),
        ))
    await query.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=False)
