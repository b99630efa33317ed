"""Phones, link tokens, file ids and the bot's token never reach a log line or an error report."""

from __future__ import annotations

import io
import logging

from telegram import Update

from bot.redaction import REDACTED, redact, redact_logs

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawX"
PHONE = "+86 138 0013 8000"


def update(**message: object) -> dict[str, object]:
    base = {"message_id": 5, "date": 0, "chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "is_bot": False, "first_name": "Wang"}}
    return Update.de_json({"update_id": 1, "message": {**base, **message}}, None).to_dict()  # type: ignore[arg-type]


def test_a_shared_contact_keeps_who_sent_it_but_not_the_number() -> None:
    cleaned = redact(update(contact={"phone_number": PHONE, "first_name": "Wang", "user_id": 42}))
    assert PHONE not in str(cleaned) and cleaned["message"]["contact"]["phone_number"] == REDACTED
    assert cleaned["message"]["contact"]["user_id"] == 42 and cleaned["message"]["from"]["id"] == 42


def test_a_start_payload_is_cut_but_the_command_stays_readable() -> None:
    assert redact(update(text="/start abcDEF_123-xyz"))["message"]["text"] == f"/start {REDACTED}"
    assert redact(update(text="/myratings"))["message"]["text"] == "/myratings"
    assert redact(update(text=f"my number is {PHONE}"))["message"]["text"] == f"my number is {REDACTED}"


def test_a_document_keeps_its_name_but_not_its_file_id() -> None:
    doc = {"file_id": "BQACAgIAAxkBAAIBZ2Vq", "file_unique_id": "AgADZ2", "file_name": "customers.csv"}
    cleaned = redact(update(document=doc))["message"]["document"]
    assert cleaned == {"file_id": REDACTED, "file_unique_id": REDACTED, "file_name": "customers.csv"}


def test_anything_under_identity_or_named_secret_and_any_bot_token_is_cut() -> None:
    cleaned = redact({"identity": {"secret": "x" * 40}, "telegram": {"token": TOKEN},
                      "url": f"https://api.telegram.org/bot{TOKEN}/getMe"})
    assert cleaned == {"identity": REDACTED, "telegram": {"token": REDACTED},
                       "url": f"https://api.telegram.org/bot{REDACTED}/getMe"}


def test_library_log_lines_lose_the_bot_token_and_configured_secrets_even_in_tracebacks() -> None:
    """httpx logs every Bot API URL, which holds the token; PTB's errors may repeat it."""
    root = logging.getLogger("redaction-test")
    root.propagate = False
    stream = io.StringIO()
    root.addHandler(logging.StreamHandler(stream))
    root.setLevel(logging.INFO)
    redact_logs(["my-identity-secret-value"], logger=root)
    child = root.getChild("httpx")
    child.info('HTTP Request: POST %s "HTTP/1.1 200 OK"', f"https://api.telegram.org/bot{TOKEN}/getUpdates")
    try:
        raise ConnectionError(f"failed for https://api.telegram.org/bot{TOKEN}/getMe with my-identity-secret-value")
    except ConnectionError:
        child.exception("network trouble")
    written = stream.getvalue()
    assert "HTTP Request: POST https://api.telegram.org/bot[redacted]/getUpdates" in written
    assert "ConnectionError" in written and "network trouble" in written
    assert TOKEN not in written and TOKEN.split(":")[1] not in written and "my-identity-secret-value" not in written
