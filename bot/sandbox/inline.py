"""Inline mode: answerInlineQuery with Telegram's checks, and what a result becomes once picked.

A user types "@bot query"; the bot answers the query id once, in time, with at most 50 results of
known types and unique ids. Telegram refuses the whole answer if one result is wrong, so the
sandbox does too, with the same wording; a refused answer leaves the query open for a retry.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.sandbox import errors
from bot.sandbox.content import MAX_CAPTION, format_text, inline_keyboard, message_text
from bot.sandbox.errors import bad_request
from bot.sandbox.html import ParsedText
from bot.sandbox.models import InlineAnswer, InlineResult, JsonDict, UpdateRecord, UserProfile
from bot.sandbox.params import Params
from bot.sandbox.state import SandboxState

MAX_RESULTS = 50
MAX_RESULT_ID_BYTES = 64
MAX_NEXT_OFFSET_BYTES = 64
MAX_QUERY = 256
DEFAULT_CACHE_TIME = 300
RESULT_TYPES = frozenset(
    {
        "article",
        "photo",
        "gif",
        "mpeg4_gif",
        "video",
        "audio",
        "voice",
        "document",
        "location",
        "venue",
        "contact",
        "game",
        "sticker",
    }
)
CANT_PARSE = "can't parse inline query result"
_ENTITIES_IN_RESULT = f"{CANT_PARSE}: Can't parse entities"

Handler = Callable[[Params], Awaitable[Any]]


class InlineMethods:
    """answerInlineQuery over the queries simulated users sent."""

    def __init__(self, state: SandboxState, *, clock: Callable[[], float], ttl: float | None) -> None:
        self.state = state
        self.clock = clock
        self.ttl = ttl

    def handlers(self) -> dict[str, Handler]:
        return {"answerinlinequery": self.answer_inline_query}

    async def answer_inline_query(self, p: Params) -> bool:
        query_id = p.get_str("inline_query_id") or ""
        record = self.state.inline_queries.get(query_id)
        if record is None or record.answered_at is not None or self._expired(record):
            raise bad_request(errors.QUERY_TOO_OLD)
        raw_results = p.get_json("results")
        if not isinstance(raw_results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(raw_results) > MAX_RESULTS:
            raise bad_request("RESULTS_TOO_MUCH")
        query = record.payload["inline_query"]
        results = tuple(self._result(raw, query_id, str(query["query"])) for raw in raw_results)
        if len({result.id for result in results}) != len(results):
            raise bad_request("RESULT_ID_DUPLICATE")
        next_offset = p.get_str("next_offset") or ""
        if len(next_offset.encode()) > MAX_NEXT_OFFSET_BYTES:
            raise bad_request("NEXT_OFFSET_INVALID")
        cache_time = p.get_int("cache_time")
        self.state.inline_answers[query_id] = InlineAnswer(
            query_id=query_id,
            query=str(query["query"]),
            offset=str(query.get("offset", "")),
            results=results,
            next_offset=next_offset,
            cache_time=DEFAULT_CACHE_TIME if cache_time is None else cache_time,
            is_personal=p.get_bool("is_personal"),
            button=p.get_json("button"),
        )
        record.answered_at = record.reacted_at = time.monotonic()
        return True

    def _expired(self, record: UpdateRecord) -> bool:
        return self.ttl is not None and self.clock() - record.clock_at > self.ttl

    def _result(self, raw: Any, query_id: str, query: str) -> InlineResult:
        if not isinstance(raw, dict):
            raise bad_request(CANT_PARSE)
        _require(raw, "type", "id")
        kind, result_id = str(raw["type"]), str(raw["id"])
        if kind not in RESULT_TYPES:
            raise bad_request(f'{CANT_PARSE}: type "{kind}" is unsupported for the inline query result')
        if not 1 <= len(result_id.encode()) <= MAX_RESULT_ID_BYTES:
            raise bad_request("RESULT_ID_INVALID")
        if kind == "article":
            _require(raw, "title", "input_message_content")
        photo_file_id = self._photo_file_id(raw) if kind == "photo" else None
        caption = _caption(raw)
        content = raw.get("input_message_content")
        text = _content_text(content)
        markup = inline_keyboard(raw.get("reply_markup"))
        return InlineResult(
            type=kind,
            id=result_id,
            query_id=query_id,
            query=query,
            title=_optional_str(raw, "title"),
            description=_optional_str(raw, "description"),
            caption=caption.text if caption is not None else None,
            parse_mode=_optional_str(raw, "parse_mode"),
            photo_file_id=photo_file_id,
            photo_url=_optional_str(raw, "photo_url"),
            thumbnail_url=_optional_str(raw, "thumbnail_url"),
            message_text=text.text if text is not None else None,
            input_message_content=content,
            reply_markup=markup,
            raw=raw,
            delivered_as=_delivered_as(kind, raw, text, caption, markup),
        )

    def _photo_file_id(self, raw: JsonDict) -> str | None:
        """A cached photo must be one the sandbox knows; an URL photo needs its thumbnail too."""
        if raw.get("photo_file_id") is not None:
            file_id = str(raw["photo_file_id"])
            self.state.known_file(file_id, "photo")
            return file_id
        _require(raw, "photo_url", "thumbnail_url")
        if not str(raw["photo_url"]).startswith(("http://", "https://")):
            raise bad_request(errors.WRONG_FILE_IDENTIFIER)
        return None


def message_fields(state: SandboxState, result: InlineResult) -> JsonDict:
    """StoredMessage fields for the message a user sends by picking `result`."""
    fields = dict(result.delivered_as)
    if not fields:
        raise AssertionError(
            f"the sandbox cannot send a {result.type!r} result without input_message_content (result {result.id!r})"
        )
    if result.photo_file_id is not None:
        fields["media"] = state.known_file(result.photo_file_id, "photo")
    elif "media_kind" in fields:
        # An URL photo: the sandbox has no internet, so the photo is the URL's name and no bytes.
        fields["media"] = state.store_photo(b"", file_name=result.photo_url, mime_type=None)
    return fields


def chosen_result_update(result: InlineResult, user: UserProfile, inline_message_id: str | None) -> JsonDict:
    """The chosen_inline_result update Telegram sends when inline feedback is on."""
    chosen: JsonDict = {"result_id": result.id, "from": user.to_api(), "query": result.query}
    if inline_message_id is not None:
        chosen["inline_message_id"] = inline_message_id
    return {"chosen_inline_result": chosen}


def _delivered_as(
    kind: str, raw: JsonDict, text: ParsedText | None, caption: ParsedText | None, markup: JsonDict | None
) -> JsonDict:
    """What the sent message holds: the input_message_content if given, else the result's own media."""
    content = raw.get("input_message_content") or {}
    if text is not None:
        return {"text": text.text, "html": content["message_text"], "entities": text.entities, "reply_markup": markup}
    if kind != "photo":
        return {}
    return {
        "media_kind": "photo",
        "caption": caption.text if caption is not None else None,
        "caption_html": raw.get("caption"),
        "caption_entities": caption.entities if caption is not None else (),
        "reply_markup": markup,
    }


def _caption(raw: JsonDict) -> ParsedText | None:
    if raw.get("caption") is None:
        return None
    return format_text(
        str(raw["caption"]),
        _optional_str(raw, "parse_mode"),
        raw.get("caption_entities"),
        limit=MAX_CAPTION,
        too_long="MEDIA_CAPTION_TOO_LONG",
        parse_error=_ENTITIES_IN_RESULT,
    )


def _content_text(content: Any) -> ParsedText | None:
    """The text of an InputTextMessageContent; other contents (location, contact...) carry none."""
    if content is None:
        return None
    if not isinstance(content, dict):
        raise bad_request(f"{CANT_PARSE}: can't parse input message content")
    if "message_text" not in content:
        return None
    raw_text = str(content["message_text"])
    parse_mode = _optional_str(content, "parse_mode")
    return message_text(raw_text, parse_mode, content.get("entities"), parse_error=_ENTITIES_IN_RESULT)


def _require(raw: JsonDict, *names: str) -> None:
    for name in names:
        if raw.get(name) is None:
            raise bad_request(f'{CANT_PARSE}: Can\'t find field "{name}"')


def _optional_str(raw: JsonDict, name: str) -> str | None:
    value = raw.get(name)
    return None if value is None else str(value)
