"""The bot's long lists — /myratings, /eligible, /rounds — sent a page at a time (bot/pages.py), with
prev/next buttons that redraw the list as it is now."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.callbacks import ListKind, PageButton
from bot.domain import ballot_views, rounds
from bot.domain.eligibility import rank_products
from bot.domain.errors import NotLinked
from bot.formats import when
from bot.handlers.common import Context, edit_or_send, error_text, is_admin, language, on_button, reply, runtime
from bot.pages import page_of, paginate
from bot.roundview import status_label
from bot.screens import answer_text
from bot.texts import Html, products_why, t

# /rounds pages through this many of the latest rounds: each costs a few queries to describe.
ROUNDS_LISTED = 100

Lines = tuple[Html, list[Html]]  # the header, and the items (none: the header says there are none)
Builder = Callable[[Update, Context, str], Awaitable[Lines]]


async def _my_ratings(update: Update, context: Context, lang: str) -> Lines:
    assert update.effective_user is not None
    mine = await ballot_views.my_ratings(runtime(context), update.effective_user.id)
    if not mine:
        return t(lang, "myratings.none"), []
    lines = []
    for r in mine:
        answers = "; ".join(f"{f.label(lang)} {answer_text(r.answers.get(f.key), lang)}" for f in r.text.factors)
        lines.append(t(lang, "myratings.line", product=r.text.product, status=t(lang, f"myratings.status.{r.state}"),
                       answers=answers))
    return t(lang, "myratings.header"), lines


async def _eligible(update: Update, context: Context, lang: str) -> Lines:
    rt = runtime(context)
    rules = rt.config.eligibility
    header = t(lang, "products.header", min_popularity=rules.product_min_popularity, min_sales=rules.product_min_sales)
    ranked = await rank_products(rt.db, rules)
    if not ranked:
        return Html(f"{header}\n{t(lang, 'products.none')}"), []
    return header, [
        t(lang, "products.line", mark="✅" if p.eligible else "✗", sku=p.sku, name=p.name, popularity=p.popularity,
          sales=p.sales_volume, why=products_why(p.problems, lang))
        for p in ranked
    ]


async def _rounds(update: Update, context: Context, lang: str) -> Lines:
    rt = runtime(context)
    infos = await rounds.list_rounds(rt, limit=ROUNDS_LISTED)
    if not infos:
        return t(lang, "admin.rounds_none"), []
    return t(lang, "admin.rounds_header"), [
        t(lang, "admin.round_line", round_id=i.id, sku=i.sku, status=status_label(rt.config, i, lang),
          closes_at=when(i.closes_at, lang, rt.config.zone))
        for i in infos
    ]


_LISTS: dict[ListKind, tuple[Builder, bool]] = {  # how each list is built, and whether it is admins' only
    ListKind.MY_RATINGS: (_my_ratings, False),
    ListKind.ELIGIBLE: (_eligible, True),
    ListKind.ROUNDS: (_rounds, True),
}


async def send_list(update: Update, context: Context, kind: ListKind) -> None:
    """Sends the first page of the list (callers check who may see it)."""
    lang = await language(update, context)
    header, items = await _LISTS[kind][0](update, context, lang)
    page = page_of(kind, paginate(header, items), 0, lang)
    await reply(update, page.text, reply_markup=page.markup)


@on_button(PageButton)
async def page_button(update: Update, context: Context, button: PageButton) -> None:
    """Redraws the list on the page asked for; an admin's list pressed by anyone else is malformed to them."""
    query = update.callback_query
    assert query is not None
    lang = await language(update, context)
    build, admins_only = _LISTS[button.kind]
    if admins_only and not is_admin(update, context):
        await query.answer(t(lang, "alert.malformed"), show_alert=True)
        return
    try:
        header, items = await build(update, context, lang)
    except NotLinked as refused:  # forgotten since the list was sent
        await query.answer(error_text(refused, lang, plain=True), show_alert=True)
        return
    page = page_of(button.kind, paginate(header, items), button.page, lang)
    await edit_or_send(update, page.text, reply_markup=page.markup)
    await query.answer()
