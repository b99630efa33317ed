"""Inline mode: a user's query reaches the bot, its answer is checked like Telegram's, and a picked
result lands in another chat "via @bot"."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultCachedPhoto,
    InputTextMessageContent,
    Update,
)
from telegram.ext import (
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.sandbox import BotApiSandbox
from tests.sandbox.conftest import RunApp, call
from tests.sandbox.test_photos import png

CHART = png(1200, 800)
PRODUCTS = ["Silk Shampoo", "Mint Shampoo", "Oat Shampoo"]


async def answer_scorecards(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Two scorecards a page: an article per product, plus the cached chart on the first page."""
    query = update.inline_query
    assert query is not None
    start = int(query.offset or 0)
    page = [p for p in PRODUCTS if query.query.lower() in p.lower()][start : start + 2]
    details = InlineKeyboardMarkup([[InlineKeyboardButton("Details", callback_data="details")]])
    results: list[Any] = [
        InlineQueryResultArticle(
            id=f"sku-{start + n}",
            title=f"{name} 4.2♥",
            description="37 verified buyers",
            input_message_content=InputTextMessageContent(f"<b>{name}</b> scores 4.2", parse_mode="HTML"),
            reply_markup=details,
        )
        for n, name in enumerate(page)
    ]
    if start == 0 and "chart" in context.bot_data:
        caption = "<i>Chart</i> of the round"
        results.append(
            InlineQueryResultCachedPhoto("chart", context.bot_data["chart"], caption=caption, parse_mode="HTML")
        )
    next_offset = str(start + 2) if start + 2 < len(PRODUCTS) else ""
    await query.answer(results, cache_time=0, is_personal=True, next_offset=next_offset)


async def show_details(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a tap on a message sent via the bot and expand it in place."""
    query = update.callback_query
    assert query is not None and query.inline_message_id is not None
    await query.answer("Opening")
    await query.edit_message_text("Silk Shampoo: aroma 4.5, cleanliness 4.0")


def record_into(key: str) -> Any:
    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Keep the update for the test to inspect."""
        context.bot_data.setdefault(key, []).append(update)

    return record


def inline_handlers() -> list[Any]:
    return [
        InlineQueryHandler(answer_scorecards),
        CallbackQueryHandler(show_details),
        ChosenInlineResultHandler(record_into("chosen")),
        MessageHandler(filters.VIA_BOT, record_into("via_bot")),
    ]


async def test_an_inline_query_returns_the_results_the_bot_answered_with(
    sandbox: BotApiSandbox, run_app: RunApp
) -> None:
    alice = sandbox.user("Alice")
    async with run_app(*inline_handlers()):
        page = await alice.inline_query("shampoo")
        rest = await alice.inline_query("shampoo", offset=page.next_offset)

    assert page.titles == ["Silk Shampoo 4.2♥", "Mint Shampoo 4.2♥"]
    silk = page.result("sku-0")
    assert (silk.type, silk.description, silk.message_text) == (
        "article",
        "37 verified buyers",
        "Silk Shampoo scores 4.2",
    )
    assert silk.input_message_content == {"message_text": "<b>Silk Shampoo</b> scores 4.2", "parse_mode": "HTML"}
    assert silk.button_texts == ["Details"]
    assert (page.next_offset, page.cache_time, page.is_personal) == ("2", 0, True)
    assert [r.id for r in rest] == ["sku-2"] and rest.offset == "2" and rest.next_offset == ""
    first_query = next(u for u in sandbox.state.updates.values() if u.kind == "inline_query")
    assert first_query.payload["inline_query"]["chat_type"] == "sender"


async def test_a_chosen_article_appears_via_the_bot_in_another_users_chat_without_the_bot_seeing_it(
    sandbox: BotApiSandbox, run_app: RunApp
) -> None:
    alice, bob = sandbox.user("Alice"), sandbox.user("Bob")
    async with run_app(*inline_handlers()) as app:
        answer = await alice.inline_query("silk")
        sent = await alice.choose_inline_result(answer[0], chat=bob)

    assert bob.chat_with(alice) == [sent]
    assert (sent.text, sent.html, sent.via_bot) == (
        "Silk Shampoo scores 4.2",
        "<b>Silk Shampoo</b> scores 4.2",
        "sandbox_bot",
    )
    assert sent.entities == ({"type": "bold", "offset": 0, "length": 12},)
    assert "chosen" not in app.bot_data and "via_bot" not in app.bot_data  # no feedback, not a member


async def test_a_cached_photo_result_is_posted_in_a_group_where_the_bot_sees_it_via_itself(
    sandbox: BotApiSandbox, run_app: RunApp
) -> None:
    group = sandbox.add_channel(-100777, "Shampoo lovers", kind="group")
    carol = sandbox.user("Carol")
    async with run_app(*inline_handlers()) as app:
        chart = await app.bot.send_photo(group, photo=CHART)
        app.bot_data["chart"] = chart.photo[-1].file_id
        answer = await carol.inline_query("")
        await carol.choose_inline_result(answer.result("chart"), chat=group)

    assert answer.result("chart").photo_file_id == chart.photo[-1].file_id
    posted = sandbox.chat_history(group)[-1]
    assert (posted.photo, posted.caption, posted.caption_html) == (
        CHART,
        "Chart of the round",
        "<i>Chart</i> of the round",
    )
    (seen,) = app.bot_data["via_bot"]
    assert seen.message.via_bot.username == "sandbox_bot" and seen.message.from_user.id == carol.id
    assert seen.message.photo[-1].file_id == chart.photo[-1].file_id


async def test_a_result_sent_into_the_chat_with_the_bot_reaches_the_bot(
    sandbox: BotApiSandbox, run_app: RunApp
) -> None:
    hana = sandbox.user("Hana")
    async with run_app(*inline_handlers()) as app:
        answer = await hana.inline_query("oat")
        sent = await hana.choose_inline_result(answer[0], chat=hana)

    (seen,) = app.bot_data["via_bot"]
    assert seen.message.chat.id == hana.id and seen.message.text == sent.text == "Oat Shampoo scores 4.2"


async def test_the_bot_hears_which_result_was_chosen_only_with_inline_feedback_on(
    sandbox: BotApiSandbox, run_app: RunApp
) -> None:
    sandbox.inline_feedback = True
    dan, erin = sandbox.user("Dan"), sandbox.user("Erin")
    async with run_app(*inline_handlers()) as app:
        answer = await dan.inline_query("mint")
        sent = await dan.choose_inline_result(answer[0], chat=erin)

    (chosen,) = app.bot_data["chosen"]
    result = chosen.chosen_inline_result
    assert (result.result_id, result.query, result.from_user.id) == ("sku-0", "mint", dan.id)
    assert result.inline_message_id == sent.inline_message_id is not None


async def test_tapping_a_button_on_a_message_sent_via_the_bot_lets_the_bot_edit_it_in_place(
    sandbox: BotApiSandbox, run_app: RunApp
) -> None:
    alice, bob = sandbox.user("Alice"), sandbox.user("Bob")
    async with run_app(*inline_handlers()):
        answer = await alice.inline_query("silk")
        sent = await alice.choose_inline_result(answer[0], chat=bob)
        await bob.tap("Details", message=sent)

    assert [m.text for m in bob.chat_with(alice)] == ["Silk Shampoo: aroma 4.5, cleanliness 4.0"]
    assert bob.last_alert.text == "Opening" and sent.buttons == []


async def test_a_bot_that_never_answers_fails_the_query_with_a_clear_message(
    sandbox: BotApiSandbox, run_app: RunApp
) -> None:
    fay = sandbox.user("Fay")
    async with run_app():
        with pytest.raises(AssertionError, match="the bot never answered the inline query"):
            await fay.inline_query("shampoo", timeout=0.3)


# --- what Telegram refuses ---------------------------------------------------------------------


def article(result_id: str = "a", **extra: Any) -> dict[str, Any]:
    return {"type": "article", "id": result_id, "title": "T", "input_message_content": {"message_text": "x"}, **extra}


URL_PHOTO = {"type": "photo", "id": "p", "photo_url": "https://x.y/a.png", "thumbnail_url": "https://x.y/t.png"}


def open_query(sandbox: BotApiSandbox, query_id: str = "q1") -> str:
    user = sandbox.user("Gus")
    sandbox.push_update({"inline_query": {"id": query_id, "from": user.profile.to_api(), "query": "", "offset": ""}})
    return query_id


@pytest.mark.parametrize(
    ("results", "problem"),
    [
        ([article(f"r{n}") for n in range(51)], "RESULTS_TOO_MUCH"),
        ([article("same"), article("same")], "RESULT_ID_DUPLICATE"),
        ([article("x" * 65)], "RESULT_ID_INVALID"),
        ([{"type": "poll", "id": "p"}], 'can\'t parse inline query result: type "poll" is unsupported'),
        ([{"type": "article", "id": "a", "title": "T"}], 'Can\'t find field "input_message_content"'),
        ([{"type": "photo", "id": "p", "photo_file_id": "AgACAgIAAxk"}], "wrong file identifier/HTTP URL specified"),
        ([{"type": "photo", "id": "p", "photo_url": "https://x.y/a.png"}], 'Can\'t find field "thumbnail_url"'),
        ([article(input_message_content={"message_text": "a <3"}, parse_mode="HTML")], None),
        ([article(input_message_content={"message_text": "a <3", "parse_mode": "HTML"})], "Can't parse entities"),
        ([article(input_message_content={"message_text": "y" * 4097})], "message is too long"),
        (
            [article(reply_markup={"inline_keyboard": [[{"text": "b", "callback_data": "d" * 65}]]})],
            "BUTTON_DATA_INVALID",
        ),
    ],
)
async def test_an_answer_telegram_would_refuse_is_refused_whole(
    sandbox: BotApiSandbox, results: list[dict[str, Any]], problem: str | None
) -> None:
    query_id = open_query(sandbox)
    status, body = await call(sandbox, "answerInlineQuery", inline_query_id=query_id, results=results)
    if problem is None:
        assert status == 200
        return
    assert status == 400 and problem in body["description"], body
    assert query_id not in sandbox.state.inline_answers


async def test_captions_fit_1024_characters_and_next_offset_64_bytes(sandbox: BotApiSandbox) -> None:
    photo = URL_PHOTO
    query_id = open_query(sandbox)
    status, body = await call(
        sandbox, "answerInlineQuery", inline_query_id=query_id, results=[{**photo, "caption": "c" * 1025}]
    )
    assert (status, body["description"]) == (400, "Bad Request: MEDIA_CAPTION_TOO_LONG")
    status, body = await call(sandbox, "answerInlineQuery", inline_query_id=query_id, results=[], next_offset="o" * 65)
    assert (status, body["description"]) == (400, "Bad Request: NEXT_OFFSET_INVALID")
    status, _ = await call(
        sandbox, "answerInlineQuery", inline_query_id=query_id, results=[{**photo, "caption": "c" * 1024}]
    )
    assert status == 200


async def test_a_query_is_answered_once_and_only_within_its_ttl(sandbox: BotApiSandbox) -> None:
    query_id = open_query(sandbox)
    assert (await call(sandbox, "answerInlineQuery", inline_query_id=query_id, results=[article()]))[0] == 200
    status, body = await call(sandbox, "answerInlineQuery", inline_query_id=query_id, results=[article()])
    assert (status, body["description"]) == (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    assert (await call(sandbox, "answerInlineQuery", inline_query_id="never-sent", results=[]))[0] == 400


async def test_an_inline_query_answered_after_its_ttl_is_too_old() -> None:
    now = [1000.0]
    async with BotApiSandbox(inline_query_ttl=10, clock=lambda: now[0]) as sandbox:
        query_id = open_query(sandbox)
        now[0] += 11
        status, body = await call(sandbox, "answerInlineQuery", inline_query_id=query_id, results=[])
        assert status == 400 and "query is too old" in body["description"]
