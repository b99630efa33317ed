"""The sandbox behaves like the Bot API where bots depend on it, driven by a real PTB application."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.sandbox import BotApiSandbox
from tests.conftest import FakeTime
from tests.sandbox.conftest import ErrorLog, PtbApp, build_app

Json = dict[str, Any]


async def call(sandbox: BotApiSandbox, method: str, token: str | None = None, **params: Any) -> tuple[int, Json]:
    """A raw Bot API call with a JSON body, as any HTTP client would make it."""
    url = f"{sandbox.base_url}{token or sandbox.token}/{method}"
    async with aiohttp.ClientSession() as session, session.post(url, json=params) as response:
        return response.status, await response.json()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- conversations through a real PTB application ------------------------------------------------


async def test_user_taps_a_button_and_sees_the_same_message_edited(sandbox: BotApiSandbox, polling_app: PtbApp) -> None:
    alice = sandbox.user("Alice")
    await alice.send("/start")
    assert alice.last_message.text == "Pick one"
    assert alice.last_message.html == "Pick <b>one</b>"
    assert alice.last_message.button_texts == ["4", "5"]

    tap = await alice.tap("4")

    assert [m.text for m in alice.messages] == ["You picked vote:4"]
    assert alice.last_message.buttons == [] and alice.last_message.edit_date is not None
    assert alice.last_alert.text == "Saved" and not alice.last_alert.show_alert
    assert tap.delivered_at and tap.answered_at and tap.edited_at
    assert tap.pushed_at <= tap.delivered_at <= tap.answered_at <= tap.edited_at


async def test_user_document_is_downloadable_by_the_bot_through_get_file(
    sandbox: BotApiSandbox, polling_app: PtbApp
) -> None:
    bob = sandbox.user("Bob")
    await bob.send_document("orders.csv", b"id,phone\n1,+100")
    assert bob.last_message.text == "Got orders.csv: id,phone\n1,+100"
    assert [c.method for c in sandbox.calls if c.method == "getFile"] == ["getFile"]


async def test_shared_contact_is_own_unless_it_belongs_to_someone_else_or_is_forwarded(
    sandbox: BotApiSandbox, polling_app: PtbApp
) -> None:
    carol = sandbox.user("Carol")
    await carol.share_contact("+15550001")
    await carol.share_contact("+15550002", user_id=carol.id + 1)
    await carol.share_contact("+15550003", forwarded=True)
    assert [m.text for m in carol.messages] == ["+15550001 own", "+15550002 foreign", "+15550003 foreign"]


async def test_bot_posts_a_photo_to_a_channel_named_by_username(sandbox: BotApiSandbox, polling_app: PtbApp) -> None:
    channel_id = sandbox.add_channel("@myratings", "My ratings")
    await polling_app.bot.send_photo("@myratings", photo=b"\x89PNG fake", caption="<b>Top</b> 5", parse_mode="HTML")
    (post,) = sandbox.chat_messages(channel_id)
    assert post.photo == b"\x89PNG fake" and post.caption == "Top 5" and post.caption_html == "<b>Top</b> 5"
    assert sandbox.sent_to("@myratings")[0].ok


async def test_concurrent_users_each_return_once_their_own_chat_settles(
    sandbox: BotApiSandbox, polling_app: PtbApp
) -> None:
    users = [sandbox.user(f"User{n}") for n in range(8)]
    await asyncio.gather(*(user.send("/start") for user in users))
    await asyncio.gather(*(user.tap("4") for user in users))
    assert {user.last_message.text for user in users} == {"You picked vote:4"}


async def test_waiting_for_a_bot_that_never_polls_fails_with_the_recent_calls() -> None:
    async with BotApiSandbox(timeout=0.2) as sandbox:
        with pytest.raises(AssertionError, match="never received it"):
            await sandbox.user("Dan").send("/start")


async def test_tapping_a_label_that_is_not_there_lists_the_buttons(sandbox: BotApiSandbox, polling_app: PtbApp) -> None:
    erin = sandbox.user("Erin")
    await erin.send("/start")
    with pytest.raises(AssertionError, match=r"'7' matches no button.*\['4', '5'\]"):
        await erin.tap("7")


async def test_a_callback_query_can_be_answered_only_once(sandbox: BotApiSandbox, polling_app: PtbApp) -> None:
    frank = sandbox.user("Frank")
    await frank.send("/start")
    question = frank.last_message
    tap = await frank.tap("5")
    status, body = await call(sandbox, "answerCallbackQuery", callback_query_id=tap.callback_query_id)
    assert status == 400 and "query is too old" in body["description"]
    # A fresh tap on the same message is a new query with its own id, answered normally.
    await frank.tap_data("vote:4", question)
    assert len(frank.alerts) == 2


# --- webhooks ------------------------------------------------------------------------------------


async def test_webhook_receives_updates_with_the_secret_header_and_polling_conflicts(
    sandbox: BotApiSandbox,
) -> None:
    received: list[tuple[str | None, Json]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        status, _ = await call(sandbox, "setWebhook", url=f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        assert status == 200
        record = await sandbox.user("Gina").send("hello", wait=False)
        await sandbox.wait_handled(record, expect_reply=False)
        assert received == [("s3cret", record.payload)]
        assert sandbox.webhook_deliveries[0].status == 200
        status, body = await call(sandbox, "getUpdates")
        assert status == 409 and body["description"].startswith("Conflict: can't use getUpdates")
        info = (await call(sandbox, "getWebhookInfo"))[1]["result"]
        assert info["url"].endswith("/hook") and info["pending_update_count"] == 0
    finally:
        await call(sandbox, "deleteWebhook")
        await runner.cleanup()


async def test_failing_webhook_is_retried_then_reported(sandbox: BotApiSandbox) -> None:
    await call(sandbox, "setWebhook", url=f"http://127.0.0.1:{free_port()}/nobody")
    await sandbox.user("Hal").send("hi", wait=False)
    deadline = time.monotonic() + 5
    while not sandbox.webhook_deliveries and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert sandbox.webhook_deliveries[0].status is None and sandbox.webhook_deliveries[0].attempts == 3
    info = (await call(sandbox, "getWebhookInfo"))[1]["result"]
    assert info["last_error_message"].startswith("Connection failed")


async def test_ptb_webhook_server_gets_updates_and_conversations_still_sync(
    sandbox: BotApiSandbox, error_log: ErrorLog
) -> None:
    app = build_app(sandbox, error_log)
    port = free_port()
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="tg",
        webhook_url=f"http://127.0.0.1:{port}/tg",
        secret_token="abc_123",
    )
    try:
        ivy = sandbox.user("Ivy")
        await ivy.send("/start")
        await ivy.tap("5")
        assert ivy.last_message.text == "You picked vote:5"
        assert {d.status for d in sandbox.webhook_deliveries} == {200}
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert error_log.errors == []


# --- Telegram's limits and errors ----------------------------------------------------------------


def keyboard(data: str) -> Json:
    return {"inline_keyboard": [[{"text": "x", "callback_data": data}]]}


async def test_callback_data_longer_than_64_bytes_is_rejected(sandbox: BotApiSandbox) -> None:
    jack = sandbox.user("Jack", started=True)
    ok, _ = await call(sandbox, "sendMessage", chat_id=jack.id, text="a", reply_markup=keyboard("x" * 64))
    status, body = await call(sandbox, "sendMessage", chat_id=jack.id, text="a", reply_markup=keyboard("é" * 33))
    assert ok == 200
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")


async def test_text_over_4096_characters_after_entity_parsing_is_too_long(sandbox: BotApiSandbox) -> None:
    kim = sandbox.user("Kim", started=True)
    fits, _ = await call(sandbox, "sendMessage", chat_id=kim.id, text=f"<b>{'a' * 4096}</b>", parse_mode="HTML")
    status, body = await call(sandbox, "sendMessage", chat_id=kim.id, text="a" * 4097)
    assert fits == 200
    assert (status, body["description"]) == (400, "Bad Request: message is too long")
    status, body = await call(sandbox, "sendMessage", chat_id=kim.id, text="  ")
    assert body["description"] == "Bad Request: message text is empty"


async def test_editing_to_identical_content_is_not_modified_and_missing_messages_are_not_found(
    sandbox: BotApiSandbox,
) -> None:
    lea = sandbox.user("Lea", started=True)
    sent = (await call(sandbox, "sendMessage", chat_id=lea.id, text="Hi", reply_markup=keyboard("d")))[1]
    message_id = sent["result"]["message_id"]
    status, body = await call(
        sandbox, "editMessageText", chat_id=lea.id, message_id=message_id, text="Hi", reply_markup=keyboard("d")
    )
    assert status == 400 and body["description"].startswith("Bad Request: message is not modified")
    status, body = await call(sandbox, "editMessageText", chat_id=lea.id, message_id=99, text="Hi")
    assert body["description"] == "Bad Request: message to edit not found"
    status, _ = await call(sandbox, "editMessageText", chat_id=lea.id, message_id=message_id, text="Hi")
    assert status == 200 and lea.last_message.buttons == []  # an edit without markup drops the keyboard


async def test_bot_cannot_message_users_who_never_started_it_or_blocked_it(sandbox: BotApiSandbox) -> None:
    stranger, blocker = sandbox.user("Max"), sandbox.user("Nia", started=True)
    blocker.block()
    status, body = await call(sandbox, "sendMessage", chat_id=stranger.id, text="hi")
    assert (status, body["description"]) == (403, "Forbidden: bot can't initiate conversation with a user")
    status, body = await call(sandbox, "sendMessage", chat_id=blocker.id, text="hi")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    blocker.unblock()
    assert (await call(sandbox, "sendMessage", chat_id=blocker.id, text="hi"))[0] == 200
    assert sandbox.stats.sent_403 == 2


async def test_unknown_chats_methods_and_tokens_get_telegrams_errors(sandbox: BotApiSandbox) -> None:
    assert (await call(sandbox, "sendMessage", chat_id=424242, text="hi"))[1]["description"] == (
        "Bad Request: chat not found"
    )
    assert (await call(sandbox, "sendMessage", chat_id="@nobody", text="hi"))[0] == 400
    assert (await call(sandbox, "fooBar"))[1] == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }
    assert (await call(sandbox, "getMe", token="1:WRONG"))[0] == 401


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ("line<br>break", 'Unsupported start tag "br"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("I <3 it", 'Unsupported start tag "3"'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
    ],
)
async def test_bad_html_cannot_be_parsed(sandbox: BotApiSandbox, html: str, problem: str) -> None:
    olga = sandbox.user("Olga", started=True)
    status, body = await call(sandbox, "sendMessage", chat_id=olga.id, text=html, parse_mode="HTML")
    assert status == 400
    assert body["description"].startswith("Bad Request: can't parse entities: ") and problem in body["description"]


async def test_valid_html_is_stored_raw_and_as_plain_text_with_entities(sandbox: BotApiSandbox) -> None:
    pat = sandbox.user("Pat", started=True)
    html = '<b>5</b> &lt;3 &amp; <a href="https://x.y/?a=1&amp;b=2">link</a> <tg-spoiler>s</tg-spoiler>'
    result = (await call(sandbox, "sendMessage", chat_id=pat.id, text=html, parse_mode="HTML"))[1]["result"]
    assert pat.last_message.text == "5 <3 & link s" and pat.last_message.html == html
    assert [(e["type"], e["offset"], e["length"]) for e in result["entities"]] == [
        ("bold", 0, 1),
        ("text_link", 7, 4),
        ("spoiler", 12, 1),
    ]
    assert result["entities"][1]["url"] == "https://x.y/?a=1&b=2"


# --- flood control and fault injection -----------------------------------------------------------


async def test_per_chat_flood_limit_answers_429_until_the_window_passes() -> None:
    clock = FakeTime()
    async with BotApiSandbox(per_chat_limit=1, clock=clock) as sandbox:
        quinn = sandbox.user("Quinn", started=True)
        assert (await call(sandbox, "sendMessage", chat_id=quinn.id, text="1"))[0] == 200
        status, body = await call(sandbox, "sendMessage", chat_id=quinn.id, text="2")
        assert status == 429
        assert body["parameters"] == {"retry_after": 1}
        assert body["description"] == "Too Many Requests: retry after 1"
        clock.now += 1.0
        assert (await call(sandbox, "sendMessage", chat_id=quinn.id, text="3"))[0] == 200
        assert sandbox.stats.sent_429 == 1 and len(quinn.messages) == 2


async def test_group_limit_is_per_minute_and_paid_broadcast_lifts_the_global_limit() -> None:
    clock = FakeTime()
    async with BotApiSandbox(global_limit=1, group_limit_per_minute=2, clock=clock) as sandbox:
        channel = sandbox.add_channel(-100123, "News")
        for second in range(2):
            clock.now += 1
            assert (await call(sandbox, "sendMessage", chat_id=channel, text=f"{second}"))[0] == 200
        status, body = await call(sandbox, "sendMessage", chat_id=channel, text="again")
        assert status == 429 and 55 <= body["parameters"]["retry_after"] <= 60
        rae = sandbox.user("Rae", started=True)
        await call(sandbox, "sendMessage", chat_id=rae.id, text="a")
        assert (await call(sandbox, "sendMessage", chat_id=rae.id, text="b"))[0] == 429
        paid = await call(sandbox, "sendMessage", chat_id=rae.id, text="c", allow_paid_broadcast=True)
        assert paid[0] == 200


async def test_injected_faults_hit_the_next_matching_calls(sandbox: BotApiSandbox) -> None:
    sam = sandbox.user("Sam", started=True)
    sandbox.inject_429("sendMessage", retry_after=3)
    status, body = await call(sandbox, "sendMessage", chat_id=sam.id, text="x")
    assert status == 429 and body["parameters"]["retry_after"] == 3
    sandbox.inject_network_error(mode="500")
    assert (await call(sandbox, "getMe"))[0] == 500
    sandbox.inject_network_error()
    with pytest.raises(aiohttp.ClientError):
        await call(sandbox, "getMe")
    assert (await call(sandbox, "getMe"))[0] == 200


async def test_callback_queries_expire_after_the_configured_ttl() -> None:
    clock = FakeTime()
    async with BotApiSandbox(callback_query_ttl=15, clock=clock) as sandbox:
        tom = sandbox.user("Tom", started=True)
        await call(sandbox, "sendMessage", chat_id=tom.id, text="?", reply_markup=keyboard("k"))
        tap = await tom.tap("x", wait=False)
        clock.now += 16
        status, body = await call(sandbox, "answerCallbackQuery", callback_query_id=tap.callback_query_id)
        assert status == 400 and "query is too old" in body["description"]


# --- long polling ------------------------------------------------------------------------------


async def test_a_long_poll_wakes_as_soon_as_an_update_arrives_and_offset_confirms_it(
    sandbox: BotApiSandbox,
) -> None:
    poll = asyncio.create_task(call(sandbox, "getUpdates", timeout=5))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    record = sandbox.push_update({"message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}})
    status, body = await poll
    assert status == 200 and [u["update_id"] for u in body["result"]] == [record.update_id]
    assert time.monotonic() - started < 1 and record.delivered_at is not None
    await call(sandbox, "getUpdates", offset=record.update_id + 1, timeout=0)
    assert sandbox.pending_updates == 0
